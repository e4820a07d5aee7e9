/**
 * Per-operation authorisation (docs/adr/0024), through the API Gateway handler as on AWS: each request is
 * mapped to CodeDeploy's action and resource ARNs, and the Authorizer decides. Here the Authorizer is the
 * local policy adapter holding IAM-shaped policies for a read-only, a deployer and an operator role.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHORIZED_OPERATIONS, permissionFor } from '../../src/api/authorization.js';
import { handleApiEvent } from '../../src/api/gateway.js';
import { OPERATIONS } from '../../src/api/operations.js';
import { PolicyAuthorizer } from '../../src/adapters/memory/policy-authorizer.js';
import { matchesPattern, type Policy } from '../../src/domain/policy.js';
import { TASKS } from '../../src/tasks/index.js';
import type { Deps } from '../../src/tasks/task.js';
import { appSpec, testEnv, type TestEnv } from '../support/local.js';

const ACCOUNT = '000000000000';
const ARN = `arn:aws:codedeploy:local:${ACCOUNT}`;
const session = (role: string) => `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/alice`;
const READ = ['codedeploy:Get*', 'codedeploy:List*', 'codedeploy:BatchGet*'];

const policy: Policy = {
  statements: [
    { effect: 'Allow', principals: [session('readonly')], actions: READ, resources: ['*'] },
    // The deployer: deploy to shop/prod and read it, nothing else.
    {
      effect: 'Allow',
      principals: [session('deployer')],
      actions: ['codedeploy:CreateDeployment', 'codedeploy:GetDeployment'],
      resources: [`${ARN}:deploymentgroup:shop/prod`],
    },
    {
      effect: 'Allow',
      principals: [session('deployer')],
      actions: ['codedeploy:GetDeploymentConfig'],
      resources: [`${ARN}:deploymentconfig:*`],
    },
    // The operator: everything on the shop application's groups but deleting them.
    {
      effect: 'Allow',
      principals: [session('operator')],
      actions: ['codedeploy:*'],
      resources: [`${ARN}:deploymentgroup:shop/*`, `${ARN}:application:shop`],
    },
    {
      effect: 'Deny',
      principals: [session('operator')],
      actions: ['codedeploy:DeleteDeploymentGroup', 'codedeploy:DeleteApplication'],
      resources: ['*'],
    },
  ],
};

let env: TestEnv;
let deps: Deps;
let deploymentId: string;
beforeAll(async () => {
  env = await testEnv();
  deps = { ...env.deps, authorizer: new PolicyAuthorizer(policy) };
  await TASKS.createDeploymentGroup.run(
    { applicationName: 'shop', deploymentGroupName: 'staging', hookTimeoutSeconds: 3600 },
    env.deps,
  );
  deploymentId = await env.start(appSpec());
});
afterAll(async () => env.close());

/** A signed `POST /` as API Gateway passes it to the api function (IAM authorisation). */
async function call(principal: string | undefined, operation: string, input: Record<string, unknown>) {
  const r = (await handleApiEvent(
    {
      resource: '/',
      headers: { 'X-Amz-Target': `CodeDeploy_20141006.${operation}` },
      body: JSON.stringify(input),
      requestContext: { identity: principal ? { userArn: principal, accountId: ACCOUNT } : {} },
    },
    deps,
  )) as { statusCode: number; body: string };
  return { status: r.statusCode, body: JSON.parse(r.body) as Record<string, unknown> };
}

const WRITES: [string, () => Record<string, unknown>][] = [
  ['CreateApplication', () => ({ applicationName: 'other' })],
  ['UpdateApplication', () => ({ applicationName: 'shop', newApplicationName: 'shop2' })],
  ['DeleteApplication', () => ({ applicationName: 'shop' })],
  ['CreateDeploymentGroup', () => ({ applicationName: 'shop', deploymentGroupName: 'qa', serviceRoleArn: 'x' })],
  [
    'UpdateDeploymentGroup',
    () => ({ applicationName: 'shop', currentDeploymentGroupName: 'prod', hookTimeoutSeconds: 5 }),
  ],
  ['DeleteDeploymentGroup', () => ({ applicationName: 'shop', deploymentGroupName: 'prod' })],
  ['CreateDeploymentConfig', () => ({ deploymentConfigName: 'c1', computePlatform: 'Lambda' })],
  [
    'CreateDeployment',
    () => ({
      applicationName: 'shop',
      deploymentGroupName: 'prod',
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec() } },
    }),
  ],
  ['StopDeployment', () => ({ deploymentId })],
  ['ContinueDeployment', () => ({ deploymentId })],
  ['RegisterOnPremisesInstance', () => ({ instanceName: 'host-1', iamUserArn: `arn:aws:iam::${ACCOUNT}:user/h` })],
];

describe('a read-only principal', () => {
  it('reads applications, groups, configs and deployments', async () => {
    const ro = session('readonly');
    for (const [op, input] of [
      ['GetApplication', { applicationName: 'shop' }],
      ['ListApplications', {}],
      ['GetDeploymentGroup', { applicationName: 'shop', deploymentGroupName: 'prod' }],
      ['ListDeploymentGroups', { applicationName: 'shop' }],
      ['ListDeployments', { applicationName: 'shop', deploymentGroupName: 'prod' }],
      ['GetDeployment', { deploymentId }],
      ['BatchGetDeployments', { deploymentIds: [deploymentId] }],
    ] as const) {
      const r = await call(ro, op, input);
      expect(r.status, `${op}: ${JSON.stringify(r.body)}`).toBe(200);
    }
  });

  it('cannot create, stop or change anything: AccessDeniedException, and the world is unchanged', async () => {
    const before = {
      group: await env.deps.catalog.getDeploymentGroup('shop', 'prod'),
      deployments: await env.deps.deployments.list('shop', 'prod'),
      status: (await env.deps.deployments.get(deploymentId))?.state.status,
    };
    const ro = session('readonly');
    for (const [op, input] of WRITES) {
      const r = await call(ro, op, input());
      expect(r.status, op).toBe(400);
      expect(r.body.__type, `${op}: ${JSON.stringify(r.body)}`).toBe('AccessDeniedException');
      expect(String(r.body.message)).toContain(`User: ${ro} is not authorized to perform: codedeploy:${op}`);
    }
    // Cutover's own controls are ContinueDeployment / StopDeployment in IAM's terms: also refused.
    for (const op of ['PromoteDeployment', 'PauseDeployment', 'ResumeDeployment', 'ApproveDeployment']) {
      const r = (await handleApiEvent(
        {
          resource: '/',
          headers: { 'x-amz-target': `Cutover_20261122.${op}` },
          body: JSON.stringify({ deploymentId }),
          requestContext: { identity: { userArn: ro } },
        },
        deps,
      )) as { body: string };
      expect(JSON.parse(r.body).__type, op).toBe('AccessDeniedException');
    }
    expect(await env.deps.catalog.getApplication('shop')).toBeDefined();
    expect(await env.deps.catalog.getApplication('other')).toBeUndefined();
    expect(await env.deps.catalog.getDeploymentGroup('shop', 'prod')).toEqual(before.group);
    expect(await env.deps.catalog.getDeploymentGroup('shop', 'qa')).toBeUndefined();
    expect(await env.deps.deployments.list('shop', 'prod')).toEqual(before.deployments);
    expect((await env.deps.deployments.get(deploymentId))?.state.status).toBe(before.status);
  });
});

describe('a principal allowed one operation on one group', () => {
  it('deploys to that group only, and can do nothing else', async () => {
    const dep = session('deployer');
    const create = WRITES.find(([op]) => op === 'CreateDeployment')![1]();
    const onStaging = await call(dep, 'CreateDeployment', { ...create, deploymentGroupName: 'staging' });
    expect(onStaging.body.__type).toBe('AccessDeniedException');
    expect(String(onStaging.body.message)).toContain(`${ARN}:deploymentgroup:shop/staging`);
    expect(await env.deps.deployments.list('shop', 'staging')).toEqual([]);
    for (const [op, input] of WRITES.filter(([op]) => op !== 'CreateDeployment'))
      expect((await call(dep, op, input())).body.__type, op).toBe('AccessDeniedException');
    expect((await call(dep, 'GetApplication', { applicationName: 'shop' })).body.__type).toBe('AccessDeniedException');
    // Its own group's deployment it may read; the group has one running, so a create is refused by the lock,
    // which only an allowed caller gets to learn.
    expect((await call(dep, 'GetDeployment', { deploymentId })).status).toBe(200);
    const onProd = await call(dep, 'CreateDeployment', create);
    expect(onProd.body.__type).toBe('DeploymentLimitExceededException');
  });

  it('an explicit deny wins over an allow', async () => {
    const op = session('operator');
    expect(
      (await call(op, 'GetDeploymentGroup', { applicationName: 'shop', deploymentGroupName: 'prod' })).status,
    ).toBe(200);
    const del = await call(op, 'DeleteDeploymentGroup', { applicationName: 'shop', deploymentGroupName: 'staging' });
    expect(del.body.__type).toBe('AccessDeniedException');
    expect(String(del.body.message)).toContain('explicit deny');
    expect(await env.deps.catalog.getDeploymentGroup('shop', 'staging')).toBeDefined();
  });
});

describe('the rules', () => {
  it('an unsigned request, or one from a principal no statement names, is denied', async () => {
    expect((await call(undefined, 'GetApplication', { applicationName: 'shop' })).body.__type).toBe(
      'AccessDeniedException',
    );
    expect((await call(`arn:aws:iam::${ACCOUNT}:user/mallory`, 'ListApplications', {})).body.__type).toBe(
      'AccessDeniedException',
    );
  });

  it('without an authorizer every request is denied (fail closed)', async () => {
    const { authorizer: _a, ...bare } = deps;
    const r = (await handleApiEvent(
      {
        resource: '/',
        headers: { 'x-amz-target': 'CodeDeploy_20141006.ListApplications' },
        body: '{}',
        requestContext: { identity: { userArn: session('readonly') } },
      },
      bare as Deps,
    )) as { body: string };
    expect(JSON.parse(r.body).__type).toBe('AccessDeniedException');
  });

  it('a direct invocation (lambda:InvokeFunction on the api function) is not checked per operation', async () => {
    expect(
      await handleApiEvent({ operation: 'GetApplication', input: { applicationName: 'shop' } }, deps),
    ).toMatchObject({ output: { application: { applicationName: 'shop' } } });
  });

  it('every served operation has a rule, and deployment ids resolve to their group', async () => {
    expect(Object.keys(OPERATIONS).filter((op) => !AUTHORIZED_OPERATIONS.has(op))).toEqual([]);
    expect(await permissionFor('StopDeployment', { deploymentId }, deps)).toEqual({
      action: 'codedeploy:StopDeployment',
      resources: [`${ARN}:deploymentgroup:shop/prod`],
    });
    // An id that does not exist counts as every group: only a principal allowed on all groups learns so.
    expect(await permissionFor('GetDeployment', { deploymentId: 'd-AAAAAAAAA' }, deps)).toEqual({
      action: 'codedeploy:GetDeployment',
      resources: [`${ARN}:deploymentgroup:*/*`],
    });
    expect((await call(session('deployer'), 'GetDeployment', { deploymentId: 'd-AAAAAAAAA' })).body.__type).toBe(
      'AccessDeniedException',
    );
    expect((await call(session('readonly'), 'GetDeployment', { deploymentId: 'd-AAAAAAAAA' })).body.__type).toBe(
      'DeploymentDoesNotExistException',
    );
    expect(await permissionFor('ListApplications', {}, deps)).toEqual({
      action: 'codedeploy:ListApplications',
      resources: ['*'],
    });
  });

  it('patterns match as IAM matches them, in linear time, and a `*` in a name is only a character', () => {
    expect(matchesPattern('codedeploy:Get*', 'codedeploy:getdeployment', true)).toBe(true);
    expect(matchesPattern(`${ARN}:application:shop`, `${ARN}:application:sho?`)).toBe(false);
    expect(matchesPattern(`${ARN}:deploymentgroup:shop/*`, `${ARN}:deploymentgroup:*/*`)).toBe(false);
    expect(matchesPattern(`${ARN}:deploymentgroup:*`, `${ARN}:deploymentgroup:*/*`)).toBe(true);
    const t0 = performance.now();
    expect(matchesPattern(`${'*a'.repeat(2000)}b`, 'a'.repeat(20_000))).toBe(false);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});

describe('CreateDeployment', () => {
  it('does not let a client set `creator`: a deployment made through the API is the user’s', async () => {
    const other = await testEnv();
    try {
      const r = await handleApiEvent(
        {
          operation: 'CreateDeployment',
          input: {
            applicationName: 'shop',
            deploymentGroupName: 'prod',
            revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec() } },
            creator: 'CodePipeline',
          },
        },
        other.deps,
      );
      const id = (r as { output: { deploymentId: string } }).output.deploymentId;
      expect((await other.deps.deployments.get(id))?.spec.creator).toBe('user');
    } finally {
      await other.close();
    }
  });
});
