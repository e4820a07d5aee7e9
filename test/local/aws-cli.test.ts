/**
 * A realistic `aws deploy` session (the AWS CLI v2, /usr/bin/aws from Debian's awscli: .ci/run installs
 * it) against Cutover's local API, as a CodeDeploy user would script it: applications, deployment groups
 * as SAM and Terraform create them, a configuration, deployments followed with the CLI's waiter, a failed
 * one rolled back, targets, revisions, tags, pagination, `--query`, and CodeDeploy's errors with the
 * CLI's exit codes. The CLI runs as a child process; the server runs in this process (so spawn, never
 * block the event loop it answers on).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/local/server.js';
import { appSpec, reportingHook, testEnv, type TestEnv } from '../support/local.js';

const AWS_CLI = '/usr/bin/aws';

let env: TestEnv;
let server: ApiServer;
let home: string;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `aws deploy …` against the local server; JSON output unless the arguments say otherwise. */
function aws(...args: string[]): Promise<Run> {
  return new Promise((done) => {
    const p = spawn(AWS_CLI, ['deploy', '--endpoint-url', server.url, '--output', 'json', ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_CONFIG_FILE: join(home, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
        AWS_PAGER: '',
        AWS_MAX_ATTEMPTS: '1',
      },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('exit', (status) => done({ status, stdout, stderr }));
  });
}

/** The parsed JSON answer of a call that must succeed. */
async function ok<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  const r = await aws(...args);
  expect(r.status, `aws deploy ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return (r.stdout.trim() ? JSON.parse(r.stdout) : {}) as T;
}

const content = (text: string) => JSON.stringify({ revisionType: 'AppSpecContent', appSpecContent: { content: text } });

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'cutover-aws-cli-'));
  // The CLI's waiter polls on real time: let virtual time run by itself.
  env = await testEnv({}, 'skip');
  server = await startApiServer(env.deps, { work: env.clock, viewFor: env.viewFor });
  env.world.registerHook('CodeDeployHook_pass', reportingHook('Succeeded'));
  env.world.registerHook('CodeDeployHook_fail', reportingHook('Failed'));
});
afterAll(async () => {
  await server?.close();
  await env?.close();
  rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!existsSync(AWS_CLI))('a CodeDeploy user’s `aws deploy` session against cutover server', () => {
  it('applications, groups as SAM and Terraform create them, a configuration, tags, pagination', async () => {
    const app = await ok<{ applicationId: string }>(
      'create-application',
      '--application-name',
      'orders',
      '--compute-platform',
      'Lambda',
      '--tags',
      'Key=team,Value=payments',
    );
    expect(app.applicationId).toMatch(/^[0-9a-f-]{36}$/);
    // SAM's group: BLUE_GREEN with traffic control, as CloudFormation sends it for Lambda.
    await ok(
      'create-deployment-group',
      '--application-name',
      'orders',
      '--deployment-group-name',
      'sam',
      '--service-role-arn',
      'arn:aws:iam::111122223333:role/CodeDeployServiceRole',
      '--deployment-config-name',
      'CodeDeployDefault.LambdaAllAtOnce',
      '--deployment-style',
      'deploymentType=BLUE_GREEN,deploymentOption=WITH_TRAFFIC_CONTROL',
    );
    // Terraform's aws_codedeploy_deployment_group: auto-rollback, alarms, tags.
    await ok(
      'create-deployment-group',
      '--application-name',
      'orders',
      '--deployment-group-name',
      'terraform',
      '--service-role-arn',
      'arn:aws:iam::111122223333:role/CodeDeployServiceRole',
      '--auto-rollback-configuration',
      'enabled=true,events=DEPLOYMENT_FAILURE',
      '--alarm-configuration',
      'enabled=false,ignorePollAlarmFailure=false',
      '--tags',
      'Key=managed-by,Value=terraform',
    );
    const config = await ok<{ deploymentConfigId: string }>(
      'create-deployment-config',
      '--deployment-config-name',
      'Canary25Percent1Minute',
      '--compute-platform',
      'Lambda',
      '--traffic-routing-config',
      'type=TimeBasedCanary,timeBasedCanary={canaryPercentage=25,canaryInterval=1}',
    );
    expect(config.deploymentConfigId).toBeTruthy();
    const groups = await ok<{ deploymentGroups: string[] }>('list-deployment-groups', '--application-name', 'orders');
    expect(groups.deploymentGroups.sort()).toEqual(['sam', 'terraform']);
    const style = await ok(
      'get-deployment-group',
      '--application-name',
      'orders',
      '--deployment-group-name',
      'sam',
      '--query',
      'deploymentGroupInfo.deploymentStyle',
    );
    expect(style).toEqual({ deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' });

    // Tags, as Terraform reads them on every refresh.
    const arn = 'arn:aws:codedeploy:local:000000000000:application:orders';
    expect(await ok('list-tags-for-resource', '--resource-arn', arn, '--query', 'Tags')).toEqual([
      { Key: 'team', Value: 'payments' },
    ]);
    await ok('tag-resource', '--resource-arn', arn, '--tags', 'Key=tier,Value=gold');
    await ok('untag-resource', '--resource-arn', arn, '--tag-keys', 'team');
    expect(await ok('list-tags-for-resource', '--resource-arn', arn, '--query', 'Tags[].Key')).toEqual(['tier']);

    // Pagination the CLI drives itself: one item a page, every application in the end.
    await ok('create-application', '--application-name', 'billing');
    const page = await ok<{ applications: string[]; NextToken?: string }>('list-applications', '--max-items', '1');
    expect(page.applications).toHaveLength(1);
    expect(page.NextToken).toBeTruthy();
    const rest = await ok<{ applications: string[] }>('list-applications', '--starting-token', page.NextToken!);
    expect([...page.applications, ...rest.applications].sort()).toEqual(['billing', 'orders', 'shop']);
  });

  it('a deployment followed with the waiter; a failed one rolled back; targets and revisions', async () => {
    const created = await ok<{ deploymentId: string }>(
      'create-deployment',
      '--application-name',
      'shop',
      '--deployment-group-name',
      'prod',
      '--deployment-config-name',
      'CodeDeployDefault.LambdaAllAtOnce',
      '--revision',
      content(appSpec({ functions: [['api', '1', '2']], before: 'CodeDeployHook_pass' })),
    );
    const id = created.deploymentId;
    expect(id).toMatch(/^d-[A-Z0-9]{9}$/);
    const waited = await aws('wait', 'deployment-successful', '--deployment-id', id);
    expect(waited.status, waited.stderr).toBe(0);
    expect(await ok('get-deployment', '--deployment-id', id, '--query', 'deploymentInfo.status')).toBe('Succeeded');
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '2', additionalVersionWeights: {} });
    const targets = await ok<{ targetIds: string[] }>('list-deployment-targets', '--deployment-id', id);
    expect(targets.targetIds.length).toBeGreaterThan(0);
    const target = await ok('get-deployment-target', '--deployment-id', id, '--target-id', targets.targetIds[0]!);
    expect(target).toMatchObject({ deploymentTarget: { deploymentTargetType: 'LambdaTarget' } });

    // A hook that reports Failed: the waiter stops on the failure (exit 255), the deployment rolled back.
    const bad = await ok<{ deploymentId: string }>(
      'create-deployment',
      '--application-name',
      'shop',
      '--deployment-group-name',
      'prod',
      '--deployment-config-name',
      'CodeDeployDefault.LambdaAllAtOnce',
      '--revision',
      content(appSpec({ functions: [['api', '2', '1']], before: 'CodeDeployHook_fail' })),
    );
    const failed = await aws('wait', 'deployment-successful', '--deployment-id', bad.deploymentId);
    expect(failed.status).toBe(255);
    const info = await ok<{ deploymentInfo: Record<string, unknown> }>(
      'get-deployment',
      '--deployment-id',
      bad.deploymentId,
    );
    expect(info.deploymentInfo).toMatchObject({
      status: 'Failed',
      errorInformation: { code: 'HOOK_EXECUTION_FAILURE' },
    });
    // The world read back: the alias is where the failed deployment found it.
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '2', additionalVersionWeights: {} });
    const listed = await ok<{ deployments: string[] }>(
      'list-deployments',
      '--application-name',
      'shop',
      '--deployment-group-name',
      'prod',
      '--include-only-statuses',
      'Failed',
    );
    expect(listed.deployments).toEqual([bad.deploymentId]);

    // Revisions: registered, listed, read back.
    const revision = content(appSpec({ functions: [['api', '1', '2']] }));
    await ok('register-application-revision', '--application-name', 'shop', '--revision', revision);
    const revisions = await ok<{ revisions: unknown[] }>('list-application-revisions', '--application-name', 'shop');
    expect(revisions.revisions.length).toBeGreaterThan(0);
    const got = await ok('get-application-revision', '--application-name', 'shop', '--revision', revision);
    expect(got).toMatchObject({ applicationName: 'shop' });
  });

  it("CodeDeploy's errors, as the CLI shows them", async () => {
    const missing = await aws('get-application', '--application-name', 'nope');
    expect(missing.status).toBe(254);
    expect(missing.stderr).toContain('ApplicationDoesNotExistException');
    const badId = await aws('get-deployment', '--deployment-id', 'not-an-id');
    expect(badId.status).toBe(254);
    expect(badId.stderr).toContain('InvalidDeploymentIdException');
    const longName = await aws('create-application', '--application-name', 'x'.repeat(101));
    expect(longName.status).not.toBe(0);
    expect(longName.stderr).not.toContain('InternalFailure');
  });
});
