/**
 * The fleet on a hand-moved clock, with the store in memory: hosts that succeed, fail, never answer or die;
 * the minimum; waves; duplicate and late completions; a completion whose follow-up was lost; the wake-up
 * that beats the parked wait; the command operations' refusals.
 */
import { describe, expect, it } from 'vitest';
import { ApiError, InvalidInputError } from '../../src/domain/errors.js';
import type { Deployment } from '../../src/domain/model.js';
import {
  commandIdOf,
  completeCommand,
  fleetProgress,
  fleetRounds,
  fleetTargets,
  getDeploymentSpecification,
  parseCommandId,
  pollHostCommand,
  postHostCommandUpdate,
  putHostCommandAcknowledgement,
  putHostCommandComplete,
  startFleet,
  stopFleet,
  targetGroupEvents,
  wakeExecution,
  type EngineEvents,
  type FleetSetup,
} from '../../src/platforms/server/fleet/index.js';
import type { ServerSchedulingConfig } from '../../src/platforms/server/deployment-config.js';
import type { Instances } from '../../src/ports/index.js';
import { startWait } from '../../src/tasks/waits.js';
import { MemoryDeployments, MemoryHostCommands, MemoryTokens } from '../support/fleet-memory.js';
import { ManualClock } from '../support/manual-clock.js';

const ACCOUNT = '111122223333';
const ONE_AT_A_TIME: ServerSchedulingConfig = { minimumHealthyHosts: { type: 'MOST_CONCURRENCY', value: 1 } };
const HALF_AT_A_TIME: ServerSchedulingConfig = { minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 50 } };
const ALL_AT_ONCE: ServerSchedulingConfig = { minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 0 } };
const EVENTS = [
  'ApplicationStop',
  'DownloadBundle',
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'ApplicationStart',
  'ValidateService',
];

const hostIds = (n: number) => Array.from({ length: n }, (_, i) => `i-${String(i + 1).padStart(8, '0')}`);

function deployment(id = 'd-SERVER001'): Deployment {
  return {
    deploymentId: id,
    spec: {
      applicationName: 'shop',
      deploymentGroupName: 'web',
      deploymentGroupId: 'dg-1234',
      deploymentConfigName: 'CodeDeployDefault.OneAtATime',
      computePlatform: 'Server',
      creator: 'user',
      revision: {
        revisionType: 'S3',
        s3Location: { bucket: 'releases', key: 'shop/app-2.zip', bundleType: 'zip', eTag: '"e2"' },
      },
      createTime: '2026-01-01T00:00:00.000Z',
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
      target: {},
      lifecycle: [],
      plan: { steps: [], totalBakeSeconds: 0 },
    },
    state: { status: 'InProgress', targetWeight: 0, lifecycleEvents: [], version: 1 },
  };
}

const noOnPremises: Pick<Instances, 'byIamArn'> = { byIamArn: async () => undefined };

async function harness(n: number, config: ServerSchedulingConfig, extra: Partial<FleetSetup> = {}) {
  const clock = new ManualClock();
  let seq = 0;
  const hostCommands = new MemoryHostCommands();
  const deployments = new MemoryDeployments();
  const tokens = new MemoryTokens();
  const d = deployment();
  await deployments.create(d);
  const deps = {
    hostCommands,
    deployments,
    tokens,
    clock,
    ids: { uuid: () => `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}` },
    instances: noOnPremises,
  };
  const setup: FleetSetup = {
    hosts: hostIds(n).map((id) => ({
      id,
      instanceHealth: 'Healthy',
      revisionHealth: 'Old',
      targetArn: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${id}`,
    })),
    config,
    region: 'us-east-1',
    ...extra,
  };
  const host = (hostId: string) => {
    const ctx = { caller: { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/web-instances/${hostId}` } };
    const HostIdentifier = `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${hostId}`;
    const a = {
      ctx,
      poll: () => pollHostCommand(deps, ctx, { HostIdentifier }),
      ack: (id: string, noop = false) =>
        putHostCommandAcknowledgement(deps, ctx, {
          HostCommandIdentifier: id,
          Diagnostics: { Format: 'JSON', Payload: JSON.stringify({ IsCommandNoop: noop }) },
        }),
      update: (id: string) => postHostCommandUpdate(deps, ctx, { HostCommandIdentifier: id }),
      complete: (id: string, status: 'Succeeded' | 'Failed', diag?: Record<string, unknown>) =>
        putHostCommandComplete(deps, ctx, {
          HostCommandIdentifier: id,
          CommandStatus: status,
          Diagnostics: {
            Format: 'JSON',
            Payload: JSON.stringify(
              diag ?? { error_code: status === 'Succeeded' ? 0 : 4, script_name: '', message: '', log: '' },
            ),
          },
        }),
      spec: (executionId: string) =>
        getDeploymentSpecification(deps, ctx, { DeploymentExecutionId: executionId, HostIdentifier }),
      /** Poll and run one command: `outcome` decides its result (default Succeeded). Returns its name. */
      step: async (outcome: (event: string) => 'Succeeded' | 'Failed' = () => 'Succeeded') => {
        const r = await a.poll();
        if (!r.HostCommand) return undefined;
        expect((await a.ack(r.HostCommand.HostCommandIdentifier)).CommandStatus).toBe('InProgress');
        clock.advance(2);
        const status = outcome(r.HostCommand.CommandName);
        await a.complete(
          r.HostCommand.HostCommandIdentifier,
          status,
          status === 'Failed'
            ? {
                error_code: 4,
                script_name: 'scripts/validate.sh',
                message: 'Script at specified location: scripts/validate.sh failed with exit code 1',
                log: '[stdout]checking\n[stderr]boom\n',
              }
            : undefined,
        );
        return r.HostCommand.CommandName;
      },
      /** Run commands until none is offered; the events run, in order. */
      runAll: async (outcome?: (event: string) => 'Succeeded' | 'Failed') => {
        const ran: string[] = [];
        for (let i = 0; i < 20; i++) {
          const e = await a.step(outcome);
          if (!e) break;
          ran.push(e);
        }
        return ran;
      },
    };
    return a;
  };
  /** Park a settle wait on the deployment, as startWait does (its token waiting). */
  const park = async (token: string) => {
    tokens.waiting.add(token);
    await startWait.run({ deploymentId: d.deploymentId, kind: 'settle', seconds: 60, taskToken: token }, {
      ...deps,
      log: { info() {}, warn() {}, error() {} },
    } as never);
  };
  return { clock, hostCommands, deployments, tokens, d, deps, setup, host, park, ids: hostIds(n) };
}
type Harness = Awaited<ReturnType<typeof harness>>;

const statuses = async (h: Harness) =>
  Object.fromEntries((await h.hostCommands.listHosts(h.d.deploymentId)).map((x) => [x.hostId, x.status]));
const eventsOf = async (h: Harness, host: string) =>
  (await h.hostCommands.getHost(h.d.deploymentId, host))!.lifecycleEvents.map((e) => [e.lifecycleEventName, e.status]);

describe('the fleet', () => {
  it('OneAtATime: each host runs its seven events in order, the next host starts when one ends; one wake-up at the end', async () => {
    const h = await harness(3, ONE_AT_A_TIME);
    const started = await startFleet(h.deps, h.d, () => h.setup, 0);
    expect(started).toEqual({ ok: true, started: ['i-00000001'], wave: 0 });
    // Every host polls often while it waits its turn; only the first has a command.
    expect((await h.host('i-00000002').poll()).NextPollInSeconds).toBe(5);
    expect((await h.host('i-00000002').poll()).HostCommand).toBeUndefined();
    const first = await fleetProgress(h.deps, h.d, 0);
    // Not the first command's start deadline (5 minutes): the host's liveness once it claims the command.
    expect(first).toMatchObject({ verdict: 'pending', retryAfterSeconds: 60 });
    await h.park('t-1');
    expect(await h.host('i-00000001').runAll()).toEqual(EVENTS);
    // The host ended; the scheduler started the next one without waking the execution.
    expect(h.tokens.succeeded).toEqual([]);
    expect(await statuses(h)).toEqual({
      'i-00000001': 'Succeeded',
      'i-00000002': 'InProgress',
      'i-00000003': 'Pending',
    });
    expect(await h.host('i-00000002').runAll()).toEqual(EVENTS);
    expect(await h.host('i-00000003').runAll()).toEqual(EVENTS);
    expect(h.tokens.succeeded.map((s) => s.token)).toEqual(['t-1']);
    const done = await fleetProgress(h.deps, h.d, 0);
    expect(done).toMatchObject({ verdict: 'verified', wave: 0, summary: '3 of 3 hosts succeeded' });
    const targets = await fleetTargets(h.deps, h.d);
    expect(targets[0]).toMatchObject({
      deploymentTargetType: 'InstanceTarget',
      instanceTarget: {
        deploymentId: 'd-SERVER001',
        targetId: 'i-00000001',
        targetArn: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-00000001`,
        status: 'Succeeded',
      },
    });
    const events = targets[0]!.instanceTarget.lifecycleEvents;
    expect(events.map((e) => [e.lifecycleEventName, e.status])).toEqual(EVENTS.map((e) => [e, 'Succeeded']));
    expect(events.every((e) => typeof e.startTime === 'number' && e.endTime! >= e.startTime!)).toBe(true);
    expect(events[0]!.diagnostics).toMatchObject({ errorCode: 'Success' });
    // Idle again: about a minute between polls.
    const idle = (await h.host('i-00000001').poll()).NextPollInSeconds;
    expect(idle).toBeGreaterThanOrEqual(45);
    expect(idle).toBeLessThanOrEqual(75);
  });

  it('the deployment specification: CodeDeploy, TEXT/JSON, the agent’s fields; only for hosts of the deployment', async () => {
    const h = await harness(2, ONE_AT_A_TIME, { fileExistsBehavior: 'OVERWRITE' });
    await startFleet(h.deps, h.d, () => h.setup, 0);
    const r = await h.host('i-00000001').poll();
    const cmd = r.HostCommand!;
    expect(cmd).toMatchObject({
      HostIdentifier: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-00000001`,
      CommandName: 'ApplicationStop',
      DeploymentExecutionId: 'cutover/us-east-1/d-SERVER001/in-place',
      Nonce: 1,
    });
    expect(parseCommandId(cmd.HostCommandIdentifier)).toEqual({
      deploymentId: 'd-SERVER001',
      hostId: 'i-00000001',
      event: 'ApplicationStop',
      sequence: 1,
      attempt: 1,
    });
    const spec = await h.host('i-00000001').spec(cmd.DeploymentExecutionId);
    expect(spec.DeploymentSystem).toBe('CodeDeploy');
    expect(spec.DeploymentSpecification!.GenericEnvelope!.Format).toBe('TEXT/JSON');
    expect(JSON.parse(spec.DeploymentSpecification!.GenericEnvelope!.Payload)).toEqual({
      DeploymentId: 'd-SERVER001',
      DeploymentGroupId: 'dg-1234',
      DeploymentGroupName: 'web',
      ApplicationName: 'shop',
      DeploymentCreator: 'user',
      DeploymentType: 'IN_PLACE',
      Revision: {
        RevisionType: 'S3',
        S3Revision: { Bucket: 'releases', Key: 'shop/app-2.zip', BundleType: 'zip', ETag: '"e2"' },
      },
      AgentActionOverrides: { AgentOverrides: { FileExistsBehavior: 'OVERWRITE' } },
      AllPossibleLifecycleEvents: [
        'BeforeBlockTraffic',
        'AfterBlockTraffic',
        ...EVENTS,
        'BeforeAllowTraffic',
        'AfterAllowTraffic',
      ],
    });
    // A host outside the deployment, and an execution id of nothing.
    const stranger = h.host('i-0000000f');
    await expect(stranger.spec(cmd.DeploymentExecutionId)).rejects.toMatchObject({
      exceptionName: 'HostNotFoundException',
    });
    await expect(stranger.spec('cutover/us-east-1/d-NOTHING00/in-place')).rejects.toMatchObject({
      exceptionName: 'DeploymentNotFoundException',
    });
    await expect(stranger.spec('not-an-execution-id')).rejects.toMatchObject({
      exceptionName: 'ValidationException',
      message: expect.stringContaining('DeploymentExecutionId'),
    });
  });

  it('HalfAtATime keeps the minimum: 2 of 4 at a time; a failure within it goes on, a second one stops the fleet', async () => {
    const h = await harness(4, HALF_AT_A_TIME);
    expect(await startFleet(h.deps, h.d, () => h.setup, 0)).toMatchObject({ started: ['i-00000001', 'i-00000002'] });
    await h.park('t-1');
    const failing = (e: string) => (e === 'ValidateService' ? 'Failed' : 'Succeeded');
    expect(await h.host('i-00000001').runAll(failing)).toEqual(EVENTS);
    const failedHost = await h.hostCommands.getHost(h.d.deploymentId, 'i-00000001');
    expect(failedHost!.status).toBe('Failed');
    expect(failedHost!.lifecycleEvents.at(-1)).toMatchObject({
      lifecycleEventName: 'ValidateService',
      status: 'Failed',
      diagnostics: {
        errorCode: 'ScriptFailed',
        scriptName: 'scripts/validate.sh',
        message: 'Script at specified location: scripts/validate.sh failed with exit code 1',
        logTail: '[stdout]checking\n[stderr]boom\n',
      },
    });
    // Not a wave boundary: the execution sleeps on. Two healthy hosts are left of a minimum of two: neither may
    // be taken offline while i-02 runs.
    expect(h.tokens.succeeded).toEqual([]);
    expect(await statuses(h)).toMatchObject({ 'i-00000002': 'InProgress', 'i-00000003': 'Pending' });
    // i-02 fails too: deploying either of the last two would take the healthy count below two.
    expect(await h.host('i-00000002').runAll(failing)).toEqual(EVENTS);
    expect(h.tokens.succeeded.map((s) => s.token)).toEqual(['t-1']);
    const p = await fleetProgress(h.deps, h.d, 0);
    expect(p).toMatchObject({
      verdict: 'failed',
      code: 'HEALTH_CONSTRAINTS',
      summary: '0 of 4 hosts succeeded, 2 failed, 2 skipped',
    });
    expect(p.verdict === 'failed' && p.message).toMatch(/2 of 4 hosts failed/);
    expect(await statuses(h)).toMatchObject({ 'i-00000003': 'Skipped', 'i-00000004': 'Skipped' });
    expect((await h.host('i-00000003').poll()).HostCommand).toBeUndefined();
    // Seen again, the verdict is the same.
    expect(await fleetProgress(h.deps, h.d, 0)).toMatchObject({ verdict: 'failed', code: 'HEALTH_CONSTRAINTS' });
  });

  it('HalfAtATime: when a host succeeds, the next one starts at once (without the execution)', async () => {
    const h = await harness(4, HALF_AT_A_TIME);
    await startFleet(h.deps, h.d, () => h.setup, 0);
    await h.host('i-00000001').runAll((e) => (e === 'ValidateService' ? 'Failed' : 'Succeeded'));
    await h.host('i-00000002').runAll();
    expect(await statuses(h)).toMatchObject({ 'i-00000003': 'InProgress', 'i-00000004': 'Pending' });
    await h.host('i-00000003').runAll();
    await h.host('i-00000004').runAll();
    expect(await fleetProgress(h.deps, h.d, 0)).toMatchObject({
      verdict: 'verified',
      summary: '3 of 4 hosts succeeded, 1 failed',
    });
  });

  it('waves: the second wave starts only when the engine releases it; the execution wakes once per wave', async () => {
    const h = await harness(4, {
      ...ALL_AT_ONCE,
      waves: [
        { hosts: 1, bakeSeconds: 600 },
        { percentage: 100, bakeSeconds: 0 },
      ],
    });
    expect(await startFleet(h.deps, h.d, () => h.setup, 0)).toMatchObject({ started: ['i-00000001'] });
    await h.park('t-1');
    await h.host('i-00000001').runAll();
    expect(h.tokens.succeeded.map((s) => s.token)).toEqual(['t-1']);
    expect((await h.host('i-00000002').poll()).HostCommand).toBeUndefined(); // not released yet
    expect(await fleetProgress(h.deps, h.d, 0)).toMatchObject({ verdict: 'verified', wave: 0 });
    // After the bake, the engine releases wave 1: the three others start at once.
    h.clock.advance(600);
    expect(await startFleet(h.deps, h.d, () => h.setup, 1)).toMatchObject({
      started: ['i-00000002', 'i-00000003', 'i-00000004'],
      wave: 1,
    });
    expect(await fleetProgress(h.deps, h.d, 1)).toMatchObject({ verdict: 'pending' });
    await h.park('t-2');
    for (const id of ['i-00000002', 'i-00000003', 'i-00000004']) await h.host(id).runAll();
    expect(h.tokens.succeeded.map((s) => s.token)).toEqual(['t-1', 't-2']);
    expect(await fleetProgress(h.deps, h.d, 1)).toMatchObject({ verdict: 'verified', wave: 1 });
    // A second start is a no-op: the plan was made once.
    expect(await startFleet(h.deps, h.d, () => ({ ...h.setup, hosts: [] }), 1)).toMatchObject({
      ok: true,
      started: [],
    });
  });

  it('the start check: no hosts, or a minimum the fleet cannot keep, fail before anything is written', async () => {
    const h = await harness(2, { minimumHealthyHosts: { type: 'HOST_COUNT', value: 2 } });
    expect(await startFleet(h.deps, h.d, () => h.setup, 0)).toMatchObject({
      ok: false,
      code: 'HEALTH_CONSTRAINTS_INVALID',
    });
    expect(await startFleet(h.deps, h.d, () => ({ ...h.setup, hosts: [] }), 0)).toMatchObject({
      ok: false,
      code: 'NO_INSTANCES',
    });
    expect(h.hostCommands.fleets.size).toBe(0);
  });

  it('a host that never answers fails its first event at the start deadline, saying so', async () => {
    const h = await harness(2, ALL_AT_ONCE);
    await startFleet(h.deps, h.d, () => h.setup, 0);
    await h.host('i-00000001').runAll(); // 14 s
    h.clock.advance(285);
    expect(await fleetProgress(h.deps, h.d, 0)).toMatchObject({ verdict: 'pending', retryAfterSeconds: 1 });
    h.clock.advance(1);
    const p = await fleetProgress(h.deps, h.d, 0);
    expect(p).toMatchObject({ verdict: 'verified' }); // AllAtOnce: one success is enough
    const silent = await h.hostCommands.getHost(h.d.deploymentId, 'i-00000002');
    expect(silent!.status).toBe('Failed');
    expect(silent!.lifecycleEvents[0]).toMatchObject({
      lifecycleEventName: 'ApplicationStop',
      status: 'Failed',
      diagnostics: {
        errorCode: 'UnknownError',
        message: expect.stringMatching(
          /did not poll for its ApplicationStop command within 5 minutes: its agent never answered/,
        ),
      },
    });
    expect(silent!.lifecycleEvents.slice(1).every((e) => e.status === 'Skipped')).toBe(true);
  });

  it('a host that dies mid-event fails it about a minute after its last sign of life; a late answer changes nothing', async () => {
    const h = await harness(2, ONE_AT_A_TIME);
    await startFleet(h.deps, h.d, () => h.setup, 0);
    const host = h.host('i-00000001');
    await host.step(); // ApplicationStop
    const r = await host.poll(); // DownloadBundle, then silence
    const id = r.HostCommand!.HostCommandIdentifier;
    await host.ack(id);
    h.clock.advance(30);
    expect(await host.update(id)).toEqual({ CommandStatus: 'InProgress' }); // a heartbeat
    expect(await fleetProgress(h.deps, h.d, 0)).toMatchObject({ verdict: 'pending', retryAfterSeconds: 60 });
    h.clock.advance(59);
    expect(await fleetProgress(h.deps, h.d, 0)).toMatchObject({ verdict: 'pending', retryAfterSeconds: 1 });
    h.clock.advance(1);
    const p = await fleetProgress(h.deps, h.d, 0);
    expect(p).toMatchObject({ verdict: 'failed', code: 'HEALTH_CONSTRAINTS' });
    const dead = await h.hostCommands.getHost(h.d.deploymentId, 'i-00000001');
    expect(dead!.lifecycleEvents[1]).toMatchObject({
      lifecycleEventName: 'DownloadBundle',
      status: 'Failed',
      diagnostics: {
        message: expect.stringMatching(
          /stopped answering during DownloadBundle: no poll, heartbeat or result for 1 minute/,
        ),
      },
    });
    const before = await h.hostCommands.getHost(h.d.deploymentId, 'i-00000001');
    // The host comes back and reports: too late; the engine already failed the event.
    await host.complete(id, 'Succeeded');
    expect(await h.hostCommands.getHost(h.d.deploymentId, 'i-00000001')).toEqual(before);
    expect(await host.ack(id)).toEqual({ CommandStatus: 'Failed' });
  });

  it('a duplicate completion changes nothing; a superseded attempt is told to skip', async () => {
    const h = await harness(1, ALL_AT_ONCE);
    await startFleet(h.deps, h.d, () => h.setup, 0);
    const host = h.host('i-00000001');
    const r = await host.poll();
    const id = r.HostCommand!.HostCommandIdentifier;
    await host.ack(id);
    await host.complete(id, 'Succeeded');
    const once = await h.hostCommands.getHost(h.d.deploymentId, 'i-00000001');
    const queued = (await h.hostCommands.getQueue('i-00000001'))!.command!;
    expect(queued.commandName).toBe('DownloadBundle');
    await host.complete(id, 'Failed');
    await host.complete(id, 'Succeeded');
    expect(await h.hostCommands.getHost(h.d.deploymentId, 'i-00000001')).toEqual(once);
    expect((await h.hostCommands.getQueue('i-00000001'))!.command).toEqual(queued);
    // Polled but never acknowledged (its answer lost): offered again after 30 s as a new attempt.
    const lost = (await host.poll()).HostCommand!;
    h.clock.advance(30);
    const again = (await host.poll()).HostCommand!;
    expect(again.CommandName).toBe('DownloadBundle');
    expect(again.HostCommandIdentifier).not.toBe(lost.HostCommandIdentifier);
    expect(parseCommandId(again.HostCommandIdentifier)).toMatchObject({ attempt: 2, sequence: 2 });
    expect(await host.ack(lost.HostCommandIdentifier)).toEqual({ CommandStatus: 'Failed' });
    expect(await host.ack(again.HostCommandIdentifier)).toEqual({ CommandStatus: 'InProgress' });
  });

  it('a completion whose follow-up was lost is repaired: by its retry, or at the next deadline look', async () => {
    const h = await harness(2, ONE_AT_A_TIME);
    await startFleet(h.deps, h.d, () => h.setup, 0);
    const host = h.host('i-00000001');
    const crashOnce = (method: string) => {
      let armed = true;
      h.hostCommands.beforeCall = (m) => {
        if (m === method && armed) {
          armed = false;
          throw new Error(`crash before ${method}`);
        }
      };
    };
    // The result is recorded on the queue entry, then the process dies before the host record.
    let r = await host.poll();
    await host.ack(r.HostCommand!.HostCommandIdentifier);
    crashOnce('updateHost');
    await expect(host.complete(r.HostCommand!.HostCommandIdentifier, 'Succeeded')).rejects.toThrow(/crash/);
    expect((await h.hostCommands.getQueue('i-00000001'))!.command!.status).toBe('Succeeded');
    expect((await eventsOf(h, 'i-00000001'))[0]).toEqual(['ApplicationStop', 'InProgress']);
    // The agent retries: recorded once, and the next event is queued.
    await host.complete(r.HostCommand!.HostCommandIdentifier, 'Succeeded');
    expect((await eventsOf(h, 'i-00000001'))[0]).toEqual(['ApplicationStop', 'Succeeded']);
    r = await host.poll();
    expect(r.HostCommand!.CommandName).toBe('DownloadBundle');
    await host.ack(r.HostCommand!.HostCommandIdentifier);
    // This time the agent never retries (its completion's answer was lost): the deadline look repairs it.
    crashOnce('updateHost');
    await expect(host.complete(r.HostCommand!.HostCommandIdentifier, 'Succeeded')).rejects.toThrow(/crash/);
    const p = await fleetProgress(h.deps, h.d, 0);
    // BeforeInstall queued, waiting for a poll: looked at again within the liveness, not at its start deadline.
    expect(p).toMatchObject({ verdict: 'pending', retryAfterSeconds: 60 });
    expect((await eventsOf(h, 'i-00000001')).slice(0, 3)).toEqual([
      ['ApplicationStop', 'Succeeded'],
      ['DownloadBundle', 'Succeeded'],
      ['BeforeInstall', 'Pending'],
    ]);
    expect((await host.poll()).HostCommand!.CommandName).toBe('BeforeInstall');
    // A crash between the host record and the queue (the next command never offered): the retry offers it.
    const b = (await h.hostCommands.getQueue('i-00000001'))!.command!;
    await host.ack(b.hostCommandId);
    crashOnce('putCommand');
    await expect(host.complete(b.hostCommandId, 'Succeeded')).rejects.toThrow(/crash/);
    expect((await host.poll()).HostCommand).toBeUndefined();
    await host.complete(b.hostCommandId, 'Succeeded');
    expect((await host.poll()).HostCommand!.CommandName).toBe('Install');
  });

  it('a lost completion of a host that then dies: the event fails at the liveness deadline', async () => {
    const h = await harness(2, ALL_AT_ONCE);
    await startFleet(h.deps, h.d, () => h.setup, 0);
    await h.host('i-00000002').runAll();
    const host = h.host('i-00000001');
    const r = await host.poll();
    await host.ack(r.HostCommand!.HostCommandIdentifier);
    // Its PutHostCommandComplete never arrives, and it polls no more.
    h.clock.advance(60);
    expect(await fleetProgress(h.deps, h.d, 0)).toMatchObject({ verdict: 'verified' });
    expect((await eventsOf(h, 'i-00000001'))[0]).toEqual(['ApplicationStop', 'Failed']);
  });

  it('ignoreApplicationStopFailures: a failed ApplicationStop is recorded and the host goes on', async () => {
    const h = await harness(1, ALL_AT_ONCE, { ignoreApplicationStopFailures: true });
    await startFleet(h.deps, h.d, () => h.setup, 0);
    await h.host('i-00000001').runAll((e) => (e === 'ApplicationStop' ? 'Failed' : 'Succeeded'));
    const host = (await h.hostCommands.getHost(h.d.deploymentId, 'i-00000001'))!;
    expect(host.status).toBe('Succeeded');
    expect(host.lifecycleEvents[0]).toMatchObject({ status: 'Failed', ignoredFailure: true });
    expect(host.lifecycleEvents[0]!.diagnostics!.message).toMatch(/ignored: ignoreApplicationStopFailures/);
    expect(host.lifecycleEvents.slice(1).every((e) => e.status === 'Succeeded')).toBe(true);
  });

  it('traffic control: BlockTraffic and AllowTraffic are the engine’s; the execution runs them when woken', async () => {
    const h = await harness(1, ALL_AT_ONCE, { trafficControl: true });
    const runs: string[] = [];
    const engineEvents: EngineEvents = {
      run: async (_d, host, event) => {
        runs.push(`${event}:${host.hostId}`);
        return runs.filter((x) => x.startsWith(event)).length === 1
          ? { status: 'InProgress', checkAfterSeconds: 5 }
          : { status: 'Succeeded' };
      },
    };
    const engine = { ...h.deps, engineEvents };
    await startFleet(h.deps, h.d, () => h.setup, 0);
    await h.park('t-1');
    const host = h.host('i-00000001');
    expect(await host.runAll()).toEqual(['BeforeBlockTraffic']);
    // BlockTraffic is due and only the execution runs it: woken for it.
    expect(h.tokens.succeeded.map((s) => s.token)).toEqual(['t-1']);
    expect(await fleetProgress(engine, h.d, 0)).toMatchObject({ verdict: 'pending', retryAfterSeconds: 5 });
    h.clock.advance(5);
    expect(await fleetProgress(engine, h.d, 0)).toMatchObject({ verdict: 'pending' });
    expect(await host.runAll()).toEqual(['AfterBlockTraffic', ...EVENTS, 'BeforeAllowTraffic']);
    await h.park('t-2');
    expect(await fleetProgress(engine, h.d, 0)).toMatchObject({ verdict: 'pending', retryAfterSeconds: 5 });
    h.clock.advance(5);
    await fleetProgress(engine, h.d, 0);
    expect(await host.runAll()).toEqual(['AfterAllowTraffic']);
    expect(await fleetProgress(engine, h.d, 0)).toMatchObject({ verdict: 'verified' });
    expect(runs).toEqual([
      'BlockTraffic:i-00000001',
      'BlockTraffic:i-00000001',
      'AllowTraffic:i-00000001',
      'AllowTraffic:i-00000001',
    ]);
    expect((await eventsOf(h, 'i-00000001')).map(([, s]) => s)).toEqual(Array(13).fill('Succeeded'));
  });

  it('traffic control on ELB target groups: deregistered and drained, registered and healthy, read back', async () => {
    const h = await harness(1, ALL_AT_ONCE, { trafficControl: true });
    const health: Record<string, string> = { 'arn:tg/web': 'healthy' };
    const calls: string[] = [];
    const targets = {
      arns: async () => ({}),
      register: async (arn: string, id: string) => {
        calls.push(`register ${id}`);
        health[arn] = health[arn] === 'unused' ? 'initial' : 'healthy';
      },
      deregister: async (arn: string, id: string) => {
        calls.push(`deregister ${id}`);
        health[arn] = health[arn] === 'healthy' ? 'draining' : 'unused';
      },
      health: async (arn: string, ids: string[]) =>
        Object.fromEntries(ids.map((id) => [id, health[arn]])) as Record<string, 'healthy'>,
    };
    const engine = { ...h.deps, engineEvents: targetGroupEvents(targets, ['arn:tg/web'], h.clock) };
    await startFleet(h.deps, h.d, () => h.setup, 0);
    await h.host('i-00000001').runAll();
    expect(await fleetProgress(engine, h.d, 0)).toMatchObject({ verdict: 'pending', retryAfterSeconds: 5 }); // draining
    h.clock.advance(5);
    await fleetProgress(engine, h.d, 0); // drained
    await h.host('i-00000001').runAll();
    await fleetProgress(engine, h.d, 0); // registered: initial
    h.clock.advance(5);
    await fleetProgress(engine, h.d, 0); // healthy
    await h.host('i-00000001').runAll();
    expect(await fleetProgress(engine, h.d, 0)).toMatchObject({ verdict: 'verified' });
    expect(calls).toEqual([
      'deregister i-00000001',
      'deregister i-00000001',
      'register i-00000001',
      'register i-00000001',
    ]);
    expect((await eventsOf(h, 'i-00000001')).every(([, s]) => s === 'Succeeded')).toBe(true);
  });

  it('traffic control without the engine’s load balancer actions: the block event fails, saying why', async () => {
    const h = await harness(1, ALL_AT_ONCE, { trafficControl: true });
    await startFleet(h.deps, h.d, () => h.setup, 0);
    expect(await h.host('i-00000001').runAll()).toEqual(['BeforeBlockTraffic']);
    expect(await fleetProgress(h.deps, h.d, 0)).toMatchObject({ verdict: 'failed', code: 'HEALTH_CONSTRAINTS' });
    const host = (await h.hostCommands.getHost(h.d.deploymentId, 'i-00000001'))!;
    expect(host.lifecycleEvents[1]).toMatchObject({
      lifecycleEventName: 'BlockTraffic',
      status: 'Failed',
      diagnostics: { message: expect.stringMatching(/needs the engine's load balancer actions/) },
    });
  });

  it('stop: queued commands are withdrawn, hosts not started skipped; a running command ends on its own', async () => {
    const h = await harness(3, HALF_AT_A_TIME);
    await startFleet(h.deps, h.d, () => h.setup, 0);
    const running = await h.host('i-00000001').poll();
    await h.host('i-00000001').ack(running.HostCommand!.HostCommandIdentifier);
    await stopFleet(h.deps, h.d, 'the deployment was stopped (StopDeployment)');
    expect((await statuses(h))['i-00000002']).toBe('Skipped');
    expect((await h.host('i-00000002').poll()).HostCommand).toBeUndefined();
    await h.host('i-00000001').complete(running.HostCommand!.HostCommandIdentifier, 'Succeeded');
    expect(await eventsOf(h, 'i-00000001')).toEqual([
      ['ApplicationStop', 'Succeeded'],
      ...EVENTS.slice(1).map((e) => [e, 'Skipped']),
    ]);
    expect(await fleetProgress(h.deps, h.d, 0)).toMatchObject({ verdict: 'failed', code: 'MANUAL_STOP' });
  });
});

describe('waking the execution', () => {
  it('a wake-up before the wait is parked is kept on the record, and the wait ends as soon as it begins', async () => {
    const h = await harness(1, ALL_AT_ONCE);
    await startFleet(h.deps, h.d, () => h.setup, 0);
    await h.host('i-00000001').runAll();
    expect((await h.deployments.get(h.d.deploymentId))!.state.settleWake).toMatchObject({ reason: expect.any(String) });
    await h.park('t-late');
    expect(h.tokens.succeeded.map((s) => s.token)).toEqual(['t-late']);
    expect((await h.deployments.get(h.d.deploymentId))!.state.settleWake).toBeUndefined();
  });

  it('a wait parked between the completion’s read and its write: the write loses, looks again, wakes the wait', async () => {
    const h = await harness(1, ALL_AT_ONCE);
    let raced = false;
    h.deployments.beforeUpdate = async () => {
      if (raced) return;
      raced = true;
      await h.park('t-raced');
    };
    expect(await wakeExecution(h.deps, h.d.deploymentId, 'wave:0 is done')).toBe('woken');
    expect(h.tokens.succeeded.map((s) => s.token)).toEqual(['t-raced']);
    expect((await h.deployments.get(h.d.deploymentId))!.state.settleWake).toBeUndefined();
  });

  it('a token that no longer waits (its wait timed out) leaves the mark for the next wait', async () => {
    const h = await harness(1, ALL_AT_ONCE);
    await h.park('t-old');
    h.tokens.waiting.delete('t-old'); // timed out
    expect(await wakeExecution(h.deps, h.d.deploymentId, 'end')).toBe('marked');
    await h.park('t-new');
    expect(h.tokens.succeeded.map((s) => s.token)).toEqual(['t-new']);
  });

  it('two hosts ending a wave together wake it once', async () => {
    const h = await harness(2, ALL_AT_ONCE);
    await startFleet(h.deps, h.d, () => h.setup, 0);
    await h.park('t-1');
    const a = h.host('i-00000001');
    const b = h.host('i-00000002');
    for (let i = 0; i < EVENTS.length - 1; i++) {
      await a.step();
      await b.step();
    }
    const ra = (await a.poll()).HostCommand!;
    const rb = (await b.poll()).HostCommand!;
    await Promise.all([a.ack(ra.HostCommandIdentifier), b.ack(rb.HostCommandIdentifier)]);
    await Promise.all([
      a.complete(ra.HostCommandIdentifier, 'Succeeded'),
      b.complete(rb.HostCommandIdentifier, 'Succeeded'),
    ]);
    expect(h.tokens.succeeded.map((s) => s.token)).toEqual(['t-1']);
    expect((await h.deployments.get(h.d.deploymentId))!.state.settleWake).toBeUndefined();
  });
});

describe('the command operations refuse', () => {
  it('unsigned calls, another host’s identifier or command, malformed input (naming the field)', async () => {
    const h = await harness(2, ALL_AT_ONCE);
    await startFleet(h.deps, h.d, () => h.setup, 0);
    const mine = (await h.host('i-00000001').poll()).HostCommand!;
    await expect(
      pollHostCommand(h.deps, { refused: 'the request was not signed' }, { HostIdentifier: 'x' }),
    ).rejects.toMatchObject({
      exceptionName: 'AccessDeniedException',
      message: expect.stringContaining('not signed'),
    });
    const other = h.host('i-00000002');
    await expect(
      pollHostCommand(h.deps, other.ctx, { HostIdentifier: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-00000001` }),
    ).rejects.toMatchObject({ exceptionName: 'AccessDeniedException' });
    await expect(other.ack(mine.HostCommandIdentifier)).rejects.toMatchObject({
      exceptionName: 'AccessDeniedException',
    });
    await expect(other.complete(mine.HostCommandIdentifier, 'Succeeded')).rejects.toMatchObject({
      exceptionName: 'AccessDeniedException',
    });
    await expect(pollHostCommand(h.deps, other.ctx, {})).rejects.toSatisfy(
      (e: unknown) =>
        e instanceof InvalidInputError && e.exceptionName === 'ValidationException' && /HostIdentifier/.test(e.message),
    );
    await expect(
      putHostCommandComplete(h.deps, h.host('i-00000001').ctx, {
        HostCommandIdentifier: mine.HostCommandIdentifier,
        CommandStatus: 'Done',
      }),
    ).rejects.toMatchObject({
      exceptionName: 'ValidationException',
      message: expect.stringContaining('CommandStatus'),
    });
    await expect(
      putHostCommandAcknowledgement(h.deps, h.host('i-00000001').ctx, {
        HostCommandIdentifier: mine.HostCommandIdentifier,
        Diagnostics: { Format: 'JSON', Payload: 'x'.repeat(9000) },
      }),
    ).rejects.toMatchObject({ message: expect.stringContaining('Diagnostics.Payload') });
    await expect(h.host('i-00000001').ack('not-a-command')).rejects.toMatchObject({ exceptionName: 'ClientException' });
    // A forged identifier for this host (right parts, wrong secret) names no command it holds.
    const forged = commandIdOf(parseCommandId(mine.HostCommandIdentifier)!, 'guessed');
    expect(await h.host('i-00000001').ack(forged)).toEqual({ CommandStatus: 'Failed' });
    await expect(
      pollHostCommand(h.deps, { caller: { arn: `arn:aws:iam::${ACCOUNT}:user/someone` } }, { HostIdentifier: 'x' }),
    ).rejects.toBeInstanceOf(ApiError);
    // Completing a command that was never polled.
    await expect(
      completeCommand(
        h.deps,
        { deploymentId: h.d.deploymentId, hostId: 'i-00000002', hostCommandId: 'x' },
        { status: 'Succeeded' },
      ),
    ).resolves.toMatchObject({ recorded: false });
  });

  it('an on-premises host is known by its registered IAM ARN', async () => {
    const h = await harness(1, ALL_AT_ONCE);
    const arn = `arn:aws:iam::${ACCOUNT}:user/onprem/web-01`;
    const deps = {
      ...h.deps,
      instances: {
        byIamArn: async (a: string) =>
          a === arn
            ? {
                instanceName: 'web-01',
                iamUserArn: arn,
                instanceArn: `arn:aws:codedeploy:us-east-1:${ACCOUNT}:instance/web-01`,
                registerTime: '2026-01-01T00:00:00.000Z',
                tags: [],
              }
            : undefined,
      },
    };
    await startFleet(
      h.deps,
      h.d,
      () => ({ ...h.setup, hosts: [{ id: 'web-01', instanceHealth: 'Healthy', revisionHealth: 'Old' }] }),
      0,
    );
    const r = await pollHostCommand(deps, { caller: { arn } }, { HostIdentifier: arn });
    expect(r.HostCommand).toMatchObject({ CommandName: 'ApplicationStop', HostIdentifier: arn });
    await expect(
      pollHostCommand(deps, { caller: { arn } }, { HostIdentifier: `arn:aws:iam::${ACCOUNT}:user/onprem/web-02` }),
    ).rejects.toMatchObject({
      exceptionName: 'AccessDeniedException',
    });
  });
});

describe('transitions grow with waves, not with hosts × events', () => {
  it('OneAtATime to 10, 100 and 1,000 hosts; waves add a round each', () => {
    const rows = [10, 100, 1000].map((n) => fleetRounds(n, ONE_AT_A_TIME, { hostSeconds: 40 }));
    expect(rows.map((r) => r.wakeups)).toEqual([1, 1, 1]);
    // One look a minute while hosts run (the liveness deadline), one wake-up at the end.
    expect(rows.map((r) => r.timeouts)).toEqual([6, 66, 666]);
    expect(rows[2]!.transitions).toBeLessThan(rows[2]!.perEventTransitions / 10);
    expect(rows[2]!.transitions).toBe(2 + 3 * 667);
    const waves = fleetRounds(
      100,
      {
        ...ALL_AT_ONCE,
        waves: [
          { hosts: 1, bakeSeconds: 600 },
          { percentage: 10, bakeSeconds: 600 },
          { percentage: 100, bakeSeconds: 0 },
        ],
      },
      { hostSeconds: 40 },
    );
    expect(waves).toMatchObject({ waves: 3, wakeups: 3, timeouts: 0, transitions: 3 * 2 + 3 * 3 + 2 });
  });
});
