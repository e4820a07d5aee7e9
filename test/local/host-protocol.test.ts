/**
 * The agents' command service through real HTTP on the local API server: scripted hosts (an EC2-like instance
 * and an on-premises server) sign their requests with SigV4 for `codedeploy-commands` with the credentials the
 * local world issued them, and run a deployment's events; the store and the instance targets are read
 * afterwards. Then what is refused: unsigned, a wrong secret, an unknown key, another service, another host's
 * identifier or command, the operations under CodeDeploy's own prefix.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { DEFAULT_UNPACK_LIMITS } from '../../src/agent/archive.js';
import { scriptBaseEnv } from '../../src/agent/config.js';
import { CommandExecutor } from '../../src/agent/executor.js';
import { Layout } from '../../src/agent/layout.js';
import { memoryLog } from '../../src/agent/log.js';
import { CommandClient } from '../../src/agent/protocol.js';
import { CommandTracker } from '../../src/agent/tracker.js';
import { LOCAL_REVISION_BUCKET } from '../../src/local/s3.js';
import { startApiServer, type ApiServer } from '../../src/local/server.js';
import { signerOf } from '../../src/local/sigv4-verifier.js';
import { fleetProgress, fleetTargets, startFleet } from '../../src/platforms/server/fleet/index.js';
import { fleetSetup, httpTransport, ScriptedHost, serverDeployment } from '../support/host-agent.js';
import { tempDir, tgz } from '../agent/support.js';
import { testEnv, type TestEnv } from '../support/local.js';

const EVENTS = [
  'ApplicationStop',
  'DownloadBundle',
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'ApplicationStart',
  'ValidateService',
];
const ONE_AT_A_TIME = { minimumHealthyHosts: { type: 'MOST_CONCURRENCY' as const, value: 1 } };

let env: TestEnv;
let server: ApiServer;
beforeAll(async () => {
  env = await testEnv();
  server = await startApiServer(env.deps, {
    work: env.clock,
    viewFor: env.viewFor,
    authenticate: (req) => signerOf(req, env.hostCredentials),
  });
});
afterAll(async () => {
  await server.close();
  await env.close();
});

async function deploymentOfTwo(id: string) {
  const d = serverDeployment(id, env.clock.now().toISOString());
  await env.deps.deployments.create(d);
  const ec2 = env.hostCredentials.issue(
    `i-0a1b2c3d4e5f6${id
      .slice(-4)
      .toLowerCase()
      .replace(/[^0-9a-f]/g, '0')}`,
  );
  const onPremises = env.hostCredentials.issue(`web-${id.slice(-4).toLowerCase()}`);
  // An on-premises host is the instance registered with the IAM user it signs as.
  await env.deps.instances.register({
    instanceName: onPremises.hostId,
    iamUserArn: onPremises.principalArn,
    instanceArn: `arn:aws:codedeploy:us-east-1:000000000000:instance/${onPremises.hostId}`,
    registerTime: env.clock.now().toISOString(),
    tags: [],
  });
  const hosts = [
    { id: ec2.hostId, targetArn: `arn:aws:ec2:us-east-1:000000000000:instance/${ec2.hostId}` },
    { id: onPremises.hostId, targetArn: `arn:aws:codedeploy:us-east-1:000000000000:instance/${onPremises.hostId}` },
  ];
  expect(await startFleet(env.deps, d, () => fleetSetup(hosts, ONE_AT_A_TIME), 0)).toMatchObject({ ok: true });
  const a = new ScriptedHost(
    httpTransport(server.url, ec2),
    `arn:aws:ec2:us-east-1:000000000000:instance/${ec2.hostId}`,
  );
  const b = new ScriptedHost(httpTransport(server.url, onPremises), onPremises.principalArn);
  return { d, ec2, onPremises, a, b };
}

describe('the host protocol over HTTP, signed with SigV4', () => {
  it('an EC2 instance and an on-premises server run every event; the store and the targets show it', async () => {
    const { d, ec2, onPremises, a, b } = await deploymentOfTwo('d-HOSTPRT01');
    const first = await a.poll();
    expect(first.HostCommand).toMatchObject({
      CommandName: 'ApplicationStop',
      HostIdentifier: a.hostIdentifier,
      DeploymentExecutionId: `cutover/us-east-1/${d.deploymentId}/in-place`,
      Nonce: 1,
    });
    expect(await a.specification(first.HostCommand!.DeploymentExecutionId)).toMatchObject({
      DeploymentSystem: 'CodeDeploy',
      Format: 'TEXT/JSON',
      DeploymentId: d.deploymentId,
      DeploymentGroupId: d.spec.deploymentGroupId,
      DeploymentGroupName: 'web',
      ApplicationName: 'shop',
      DeploymentCreator: 'user',
      DeploymentType: 'IN_PLACE',
      Revision: {
        RevisionType: 'S3',
        S3Revision: { Bucket: 'cutover-revisions', Key: 'shop/web-2.tgz', BundleType: 'tgz', ETag: '"0f3c"' },
      },
    });
    // The on-premises server waits its turn (OneAtATime), polling often.
    expect(await b.poll()).toEqual({ NextPollInSeconds: 5 });
    await a.ack(first.HostCommand!.HostCommandIdentifier);
    await a.complete(first.HostCommand!.HostCommandIdentifier, 'Succeeded');
    expect(await a.runAll()).toEqual(EVENTS.slice(1));
    expect(await b.runAll((e) => (e === 'ApplicationStop' ? 'Failed' : 'Succeeded'))).toEqual(['ApplicationStop']);

    const hosts = await env.deps.hostCommands.listHosts(d.deploymentId);
    const byId = Object.fromEntries(hosts.map((h) => [h.hostId, h]));
    expect(byId[ec2.hostId]).toMatchObject({ status: 'Succeeded', sequence: 7 });
    expect(byId[ec2.hostId]!.command).toBeUndefined();
    expect(byId[onPremises.hostId]).toMatchObject({ status: 'Failed' });
    const queue = await env.deps.hostCommands.getQueue(ec2.hostId);
    expect(queue?.command).toMatchObject({ commandName: 'ValidateService', status: 'Succeeded', endedBy: 'host' });
    // The execution, woken, reads the fleet: done; the hosts go back to polling at the idle pace.
    expect(queue?.standbyUntil).toBeDefined();
    expect(await fleetProgress(env.deps, d, 0)).toMatchObject({
      verdict: 'verified',
      summary: '1 of 2 hosts succeeded, 1 failed',
    });
    expect((await env.deps.hostCommands.getQueue(ec2.hostId))?.standbyUntil).toBeUndefined();
    expect((await a.poll()).NextPollInSeconds).toBeGreaterThanOrEqual(45);
    const fleet = await env.deps.hostCommands.getFleet(d.deploymentId);
    expect(fleet?.state).toMatchObject({
      statuses: { [ec2.hostId]: 'Succeeded', [onPremises.hostId]: 'Failed' },
      woken: ['end'],
    });
    // No settle wait was parked (no execution here): the wake-up waits on the record for the next one.
    expect((await env.deps.deployments.get(d.deploymentId))?.state.settleWake).toMatchObject({
      reason: 'the fleet ended (succeeded)',
    });

    const targets = await fleetTargets(env.deps, d);
    expect(targets.map((t) => [t.instanceTarget.targetId, t.instanceTarget.status])).toEqual(
      [
        [ec2.hostId, 'Succeeded'],
        [onPremises.hostId, 'Failed'],
      ].sort(([x], [y]) => (x! < y! ? -1 : 1)),
    );
    const onPrem = targets.find((t) => t.instanceTarget.targetId === onPremises.hostId)!.instanceTarget;
    expect(onPrem.targetArn).toBe(`arn:aws:codedeploy:us-east-1:000000000000:instance/${onPremises.hostId}`);
    expect(onPrem.lifecycleEvents.map((e) => [e.lifecycleEventName, e.status])).toEqual([
      ['ApplicationStop', 'Failed'],
      ...EVENTS.slice(1).map((e) => [e, 'Skipped']),
    ]);
    expect(onPrem.lifecycleEvents[0]!.diagnostics).toEqual({
      errorCode: 'ScriptFailed',
      scriptName: '',
      message: 'Script failed',
      logTail: '',
    });
    const instance = targets.find((t) => t.instanceTarget.targetId === ec2.hostId)!.instanceTarget;
    expect(instance.lifecycleEvents.every((e) => e.status === 'Succeeded' && e.endTime! >= e.startTime!)).toBe(true);
    expect(typeof instance.lastUpdatedAt).toBe('number');
  });

  it('refuses what is not the calling host’s own, signed request, and changes nothing', async () => {
    const { d, ec2, onPremises, a, b } = await deploymentOfTwo('d-HOSTPRT02');
    const attempt = async (transport: ReturnType<typeof httpTransport>, op = 'PollHostCommand', input?: object) =>
      transport(op, (input ?? { HostIdentifier: a.hostIdentifier }) as Record<string, unknown>);
    const unsigned = await attempt(httpTransport(server.url, undefined));
    expect(unsigned).toMatchObject({ status: 400, error: 'AccessDeniedException' });
    expect(String(unsigned.body.message)).toMatch(/not signed/);
    const wrongSecret = await attempt(httpTransport(server.url, { ...ec2, secretAccessKey: 'not-the-secret' }));
    expect(wrongSecret).toMatchObject({ error: 'AccessDeniedException' });
    expect(String(wrongSecret.body.message)).toMatch(/signature we calculated does not match/);
    const unknownKey = await attempt(httpTransport(server.url, { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' }));
    expect(String(unknownKey.body.message)).toMatch(/not one this engine issued/);
    const otherService = await attempt(httpTransport(server.url, ec2, { service: 's3' }));
    expect(String(otherService.body.message)).toMatch(/signed for s3/);
    // Signed by the instance, asking as the on-premises server.
    const impostor = await attempt(httpTransport(server.url, ec2), 'PollHostCommand', {
      HostIdentifier: b.hostIdentifier,
    });
    expect(impostor).toMatchObject({ error: 'AccessDeniedException' });
    // The instance's command, acknowledged or completed by the on-premises server.
    const mine = (await a.poll()).HostCommand!;
    const stolenAck = await b.transport('PutHostCommandAcknowledgement', {
      HostCommandIdentifier: mine.HostCommandIdentifier,
    });
    expect(stolenAck).toMatchObject({ error: 'AccessDeniedException' });
    const stolenComplete = await b.transport('PutHostCommandComplete', {
      HostCommandIdentifier: mine.HostCommandIdentifier,
      CommandStatus: 'Succeeded',
    });
    expect(stolenComplete).toMatchObject({ error: 'AccessDeniedException' });
    // Malformed input names the field.
    const missing = await a.transport('PollHostCommand', {});
    expect(missing).toMatchObject({ error: 'ValidationException' });
    expect(String(missing.body.message)).toMatch(/HostIdentifier/);
    const badStatus = await a.transport('PutHostCommandComplete', {
      HostCommandIdentifier: mine.HostCommandIdentifier,
      CommandStatus: 'Done',
    });
    expect(String(badStatus.body.message)).toMatch(/CommandStatus/);
    // Not under CodeDeploy's own prefix.
    const wrongPrefix = await attempt(httpTransport(server.url, ec2, { target: 'CodeDeploy_20141006' }));
    expect(wrongPrefix).toMatchObject({ error: 'UnknownOperationException' });

    // Nothing changed: the instance's command is claimed and still running, the other host untouched.
    const queue = await env.deps.hostCommands.getQueue(ec2.hostId);
    expect(queue?.command).toMatchObject({ hostCommandId: mine.HostCommandIdentifier, status: 'InProgress' });
    expect(queue?.command?.acknowledgedAt).toBeUndefined();
    expect((await env.deps.hostCommands.getHost(d.deploymentId, onPremises.hostId))?.status).toBe('Pending');
    // The credentials' secrets never show up when the registry is printed or logged.
    expect(JSON.stringify(env.hostCredentials)).not.toContain(ec2.secretAccessKey);
  });
});

describe('the Cutover agent against the engine', () => {
  it('signs for execute-api with its issued credentials and deploys a bundle from the local S3', async () => {
    const t = tempDir('cutover-fleet-');
    try {
      const dest = join(t.dir, 'srv');
      const marks = join(t.dir, 'marks.txt');
      const appspec = [
        'version: 0.0',
        'os: linux',
        'files:',
        '  - source: app',
        `    destination: ${dest}`,
        'hooks:',
        '  AfterInstall:',
        '    - location: scripts/record.sh',
        '  ValidateService:',
        '    - location: scripts/record.sh',
        '',
      ].join('\n');
      const put = await env.s3.client.send(
        new PutObjectCommand({
          Bucket: LOCAL_REVISION_BUCKET,
          Key: 'fleet/web-2.tgz',
          Body: tgz([
            { name: 'appspec.yml', content: appspec },
            { name: 'app/index.html', content: '<h1>2</h1>' },
            {
              name: 'scripts/record.sh',
              mode: 0o755,
              content: `#!/bin/sh\necho "$LIFECYCLE_EVENT $DEPLOYMENT_ID $DEPLOYMENT_GROUP_NAME" >> ${marks}\n`,
            },
          ]),
        }),
      );
      const base = serverDeployment('d-AGENTRUN1', env.clock.now().toISOString());
      const d = {
        ...base,
        spec: {
          ...base.spec,
          revision: {
            revisionType: 'S3' as const,
            s3Location: { bucket: LOCAL_REVISION_BUCKET, key: 'fleet/web-2.tgz', bundleType: 'tgz', eTag: put.ETag! },
          },
        },
      };
      await env.deps.deployments.create(d);
      const credential = env.hostCredentials.issue('i-0feedfacecafe0001');
      await startFleet(env.deps, d, () => fleetSetup([{ id: credential.hostId }], ONE_AT_A_TIME), 0);

      const layout = new Layout(join(t.dir, 'root'));
      const log = memoryLog();
      const agent = new Agent({
        hostId: credential.hostId,
        client: new CommandClient({
          endpoint: server.url,
          sign: 'always',
          region: 'us-east-1',
          credentials: { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey },
        }),
        executor: new CommandExecutor({
          layout,
          log,
          maxRevisions: 5,
          s3: {
            region: 'us-east-1',
            endpoint: env.s3.endpoint,
            // The local S3 takes only signed requests; a host may read with its own keys.
            credentials: { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey },
            maxBytes: 1024 * 1024,
            timeoutMs: 10_000,
            idleTimeoutMs: 5_000,
            retryDelayMs: 0,
          },
          unpack: DEFAULT_UNPACK_LIMITS,
          baseEnv: scriptBaseEnv({ PATH: process.env.PATH }, false),
          uid: process.getuid?.() ?? 0,
          cwd: t.dir,
          killGraceMs: 500,
        }),
        tracker: new CommandTracker(layout),
        log,
        pollSeconds: 0.2,
        heartbeatSeconds: 20,
        maxConcurrent: 1,
        backoff: () => 0.2,
        completeRetryMs: 10,
      });
      const abort = new AbortController();
      const running = agent.run(abort.signal);
      try {
        for (let i = 0; i < 200; i++) {
          const h = await env.deps.hostCommands.getHost(d.deploymentId, credential.hostId);
          if (h?.status !== 'InProgress' && h?.status !== 'Pending') break;
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        abort.abort();
        await running;
      }
      const host = (await env.deps.hostCommands.getHost(d.deploymentId, credential.hostId))!;
      expect(host.lifecycleEvents.map((e) => [e.lifecycleEventName, e.status])).toEqual(
        EVENTS.map((e) => [e, 'Succeeded']),
      );
      expect(host.status).toBe('Succeeded');
      expect(readFileSync(join(dest, 'index.html'), 'utf8')).toBe('<h1>2</h1>');
      expect(readFileSync(marks, 'utf8')).toBe('AfterInstall d-AGENTRUN1 web\nValidateService d-AGENTRUN1 web\n');
      expect(existsSync(join(t.dir, 'root', d.spec.deploymentGroupId, d.deploymentId, 'deployment-archive'))).toBe(
        true,
      );
      expect(await fleetProgress(env.deps, d, 0)).toMatchObject({
        verdict: 'verified',
        summary: '1 of 1 host succeeded',
      });
    } finally {
      t.cleanup();
    }
  }, 60_000);
});
