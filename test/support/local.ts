/** Builds a local environment (real ASL, dynalite, SimWorld) with a small world for path tests. */
import { ScaledClock } from '../../src/adapters/sim/clock.js';
import { SimWorld, type SimHookHandler } from '../../src/adapters/sim/world.js';
import type { Deployment, TimelineEntry } from '../../src/domain/model.js';
import { TASKS } from '../../src/tasks/index.js';
import { createLocalEnvironment, type LocalEnvironment } from '../../src/wiring/local.js';
import type { ExecutionRecord } from '../../src/local/runtime.js';

/** 10,000× time: a 5-minute bake takes 30 ms, the default 3600 s hook timeout 360 ms. */
export const TEST_SPEED = 10_000;

export interface GroupOptions {
  alarms?: string[];
  ignorePollAlarmFailure?: boolean;
  hookTimeoutSeconds?: number;
  deploymentConfigName?: string;
  autoRollbackConfiguration?: { enabled: boolean; events: string[] };
  triggerConfigurations?: unknown[];
  hookConfiguration?: Record<string, { timeoutSeconds?: number; timeoutAction?: 'rollback' | 'continue' }>;
  webhookSecret?: string;
}

export interface TestEnv extends LocalEnvironment {
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
export function standardWorld(clock: ScaledClock): SimWorld {
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

export async function testEnv(group: GroupOptions = {}, speed = TEST_SPEED): Promise<TestEnv> {
  const clock = new ScaledClock(speed);
  const world = standardWorld(clock);
  const env = await createLocalEnvironment({ clock, world, retryIntervalMs: 1 });
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
    },
    env.deps,
  );
  return withDeployments(env, 'shop', 'prod');
}

/** start / finish / deploy helpers for deployments of one group, from an AppSpec's text. */
export function withDeployments(env: LocalEnvironment, applicationName: string, deploymentGroupName: string): TestEnv {
  const start = async (appSpec: string, extra: Record<string, unknown> = {}): Promise<string> => {
    const { deploymentId } = await TASKS.createDeployment.run(
      {
        applicationName,
        deploymentGroupName,
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec } },
        ...extra,
      },
      env.deps,
    );
    return deploymentId as string;
  };
  const finish = async (deploymentId: string): Promise<Finished> => {
    // A deployment created by a trigger may be listed a moment before its execution starts.
    while (!env.runtime.executions.has(deploymentId)) await new Promise((r) => setTimeout(r, 2));
    const execution = await env.runtime.wait(deploymentId);
    const deployment = (await env.deps.store.getDeployment(deploymentId))!;
    const timeline = await env.deps.store.getTimeline(deploymentId);
    return { deploymentId, execution, deployment, timeline };
  };
  return { ...env, start, finish, deploy: async (a, e) => finish(await start(a, e)) };
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

/** Resolve once the deployment's record satisfies `ready` (polled; bounded by the test timeout). */
export async function waitFor(
  env: LocalEnvironment,
  id: string,
  ready: (d: Deployment) => boolean,
): Promise<Deployment> {
  for (;;) {
    const d = await env.deps.store.getDeployment(id);
    if (d && ready(d)) return d;
    if (d && ['Succeeded', 'Failed', 'Stopped'].includes(d.status))
      throw new Error(`deployment ended ${d.status} before the condition held`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Resolve with the deployment once it has ended (Succeeded, Failed or Stopped). */
export async function waitForEnd(env: LocalEnvironment, id: string): Promise<Deployment> {
  for (;;) {
    const d = await env.deps.store.getDeployment(id);
    if (d && ['Succeeded', 'Failed', 'Stopped'].includes(d.status)) return d;
    await new Promise((r) => setTimeout(r, 2));
  }
}
