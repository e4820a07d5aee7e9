/** Builds a local environment (real ASL, dynalite, SimWorld) with a small world for path tests. */
import { INSTANCE_DETAIL_TYPE } from '../../src/domain/notifications.js';
import { SimWorld, type SimHookHandler } from '../../src/adapters/sim/world.js';
import type { Deployment, TimelineEntry } from '../../src/domain/model.js';
import { TASKS } from '../../src/tasks/index.js';
import { VirtualClock, type ClockMode } from '../../src/local/clock.js';
import { createLocalEnvironment, type LocalEnvironment, type LocalOptions } from '../../src/wiring/local.js';
import type { ExecutionRecord } from '../../src/local/runtime.js';

/**
 * Tests run on virtual time that only the test moves (`manual`): `finish` and `waitFor` let it jump
 * to the next timer whenever nothing is running, so a 30-minute bake costs no wall time and no
 * outcome depends on how fast the machine is. `skip` moves it by itself (for tests that wait on
 * clients such as the SDK's waiters).
 */
export const TEST_CLOCK: ClockMode = 'manual';

export interface GroupOptions {
  alarms?: string[];
  ignorePollAlarmFailure?: boolean;
  hookTimeoutSeconds?: number;
  deploymentConfigName?: string;
  autoRollbackConfiguration?: { enabled: boolean; events: string[] };
  triggerConfigurations?: unknown[];
  hookConfiguration?: Record<string, { timeoutSeconds?: number; timeoutAction?: 'rollback' | 'continue' }>;
  webhookSecret?: string;
  webhookAllowedHosts?: string[];
}

export interface TestEnv extends LocalEnvironment {
  clock: VirtualClock;
  /** Let `seconds` of virtual time pass (everything due in between runs). */
  elapse(seconds: number): Promise<void>;
  /** Let virtual time pass until the named execution has ended; its record. */
  execution(name: string): Promise<ExecutionRecord>;
  deploy(appSpec: string, extra?: Record<string, unknown>): Promise<Finished>;
  start(appSpec: string, extra?: Record<string, unknown>): Promise<string>;
  finish(id: string): Promise<Finished>;
}

export interface Finished {
  deploymentId: string;
  execution: ExecutionRecord;
  deployment: Deployment;
  timeline: TimelineEntry[];
}

/** A world with `api` (versions 1, 2; alias live → 1) and `worker` (5, 6; live → 5), and an alarm on api:live. */
export function standardWorld(clock: VirtualClock): SimWorld {
  const world = new SimWorld(clock);
  world.addFunction('api', { versions: { '1': {}, '2': {} }, aliases: { live: '1' }, requestsPerSecond: 100 });
  world.addFunction('worker', { versions: { '5': {}, '6': {} }, aliases: { live: '5' }, requestsPerSecond: 100 });
  world.addAlarm({
    name: 'api-errors',
    functionName: 'api',
    alias: 'live',
    metric: 'ErrorRate',
    threshold: 5,
    periodSeconds: 60,
    evaluationPeriods: 1,
  });
  world.addAlarm({
    name: 'worker-errors',
    functionName: 'worker',
    alias: 'live',
    metric: 'ErrorRate',
    threshold: 5,
    periodSeconds: 60,
    evaluationPeriods: 1,
  });
  return world;
}

/** Options of the local environment a test may set (the rest are the test's own). */
export type TestLocalOptions = Pick<LocalOptions, 'instrumentation' | 'ids' | 'log' | 'webhooks' | 'hookFunctions'>;

export async function testEnv(
  group: GroupOptions = {},
  mode: ClockMode = TEST_CLOCK,
  local: TestLocalOptions = {},
): Promise<TestEnv> {
  const clock = new VirtualClock(mode, new Date('2026-06-01T12:00:00Z'));
  const world = standardWorld(clock);
  const env = await createLocalEnvironment({ ...local, clock, world });
  await TASKS.createApplication.run({ applicationName: 'shop' }, env.deps);
  await TASKS.createDeploymentGroup.run(
    {
      applicationName: 'shop',
      deploymentGroupName: 'prod',
      deploymentConfigName: group.deploymentConfigName ?? 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      alarmConfiguration: {
        enabled: true,
        alarms: (group.alarms ?? []).map((name) => ({ name })),
        ignorePollAlarmFailure: group.ignorePollAlarmFailure ?? false,
      },
      hookTimeoutSeconds: group.hookTimeoutSeconds ?? 3600,
      ...(group.autoRollbackConfiguration ? { autoRollbackConfiguration: group.autoRollbackConfiguration } : {}),
      ...(group.triggerConfigurations ? { triggerConfigurations: group.triggerConfigurations } : {}),
      ...(group.hookConfiguration ? { hookConfiguration: group.hookConfiguration } : {}),
      ...(group.webhookSecret ? { webhookSecret: group.webhookSecret } : {}),
      ...(group.webhookAllowedHosts ? { webhookAllowedHosts: group.webhookAllowedHosts } : {}),
    },
    env.deps,
  );
  return withDeployments(env, clock, 'shop', 'prod');
}

/** start / finish / deploy helpers for deployments of one group, from an AppSpec's text. */
export function withDeployments(
  env: LocalEnvironment,
  clock: VirtualClock,
  applicationName: string,
  deploymentGroupName: string,
): TestEnv {
  const start = async (appSpec: string, extra: Record<string, unknown> = {}): Promise<string> => {
    const { deploymentId } = await env.run(TASKS.createDeployment, {
      applicationName,
      deploymentGroupName,
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec } },
      ...extra,
    });
    return deploymentId;
  };
  const execution = async (name: string): Promise<ExecutionRecord> => {
    // A deployment created by a trigger may be listed a moment before its execution starts.
    let ended = false;
    await clock.runUntil(() => {
      const e = env.runtime.executions.get(name);
      if (e) void e.done.then(() => (ended = true));
      return ended;
    }, `the execution ${name} has ended`);
    const record = await env.runtime.wait(name);
    // What an ended execution sets off (executionEnded, a last trigger) finishes before the test looks.
    await clock.idle();
    return record;
  };
  const finish = async (deploymentId: string): Promise<Finished> => {
    const run = await execution(deploymentId);
    const deployment = (await env.deps.deployments.get(deploymentId))!;
    const timeline = await env.deps.timeline.list(deploymentId);
    return { deploymentId, execution: run, deployment, timeline };
  };
  const elapse = async (seconds: number) => {
    let passed = false;
    void clock.sleep(seconds).then(() => (passed = true));
    await clock.runUntil(() => passed, `${seconds} s have passed`);
  };
  return { ...env, clock, elapse, execution, start, finish, deploy: async (a, e) => finish(await start(a, e)) };
}

export function appSpec(
  opts: { functions?: [string, string, string][]; before?: string; after?: string } = {},
): string {
  const fns = opts.functions ?? [['api', '1', '2']];
  const resources = fns
    .map(
      ([name, cur, tgt]) =>
        `  - ${name}Fn:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: ${name}\n        Alias: live\n        CurrentVersion: "${cur}"\n        TargetVersion: "${tgt}"`,
    )
    .join('\n');
  const hooks = [
    opts.before ? `  - BeforeAllowTraffic: ${opts.before}` : '',
    opts.after ? `  - AfterAllowTraffic: ${opts.after}` : '',
  ].filter(Boolean);
  return `version: 0.0\nResources:\n${resources}\n${hooks.length ? `Hooks:\n${hooks.join('\n')}\n` : ''}`;
}

/** A hook that reports `status` through PutLifecycleEventHookExecutionStatus. */
/** A hook event as a test saw it (Lambda payload or webhook body); fields are read by name. */
export interface SeenEvent {
  LifecycleEventName?: string;
  DeploymentId?: string;
  LifecycleEventHookExecutionId?: string;
  [field: string]: unknown;
}

/**
 * The `state` of each CodeDeploy-shaped EventBridge event about a deployment the world received, in order
 * (not the hosts' instance events, which carry the same states).
 */
export const eventBridgeStates = (world: SimWorld): unknown[] =>
  world.log
    .filter((e) => e.kind === 'EventBridge' && e.detail['detail-type'] !== INSTANCE_DETAIL_TYPE)
    .map((e) => (e.detail.detail as { state?: unknown }).state);

/** The `status` of each SNS message the world received, in order. */
export const snsStatuses = (world: SimWorld): unknown[] =>
  world.log.filter((e) => e.kind === 'SNS').map((e) => (e.detail.message as { status?: unknown }).status);

export const reportingHook =
  (status: 'Succeeded' | 'Failed', seen?: unknown[]): SimHookHandler =>
  async (event, ctx) => {
    seen?.push(event);
    await ctx.putLifecycleEventHookExecutionStatus({
      deploymentId: event.DeploymentId,
      lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
      status,
    });
  };

/**
 * Let virtual time pass until the deployment's record satisfies `ready` (checked whenever nothing
 * runs). Fails when the deployment ends first.
 */
export async function waitFor(env: TestEnv, id: string, ready: (d: Deployment) => boolean): Promise<Deployment> {
  let found: Deployment | undefined;
  await env.clock.runUntil(async () => {
    const d = await env.deps.deployments.get(id);
    if (d && ready(d)) found = d;
    else if (d && ['Succeeded', 'Failed', 'Stopped'].includes(d.state.status))
      throw new Error(`deployment ended ${d.state.status} before the condition held`);
    return found !== undefined;
  }, `the condition on ${id}`);
  return found!;
}

/** Let virtual time pass until the deployment has ended (Succeeded, Failed or Stopped). */
export async function waitForEnd(env: TestEnv, id: string): Promise<Deployment> {
  return waitFor(env, id, (d) => ['Succeeded', 'Failed', 'Stopped'].includes(d.state.status));
}
