/**
 * The fault suite (issue #11, item 7): seeded, randomized deployments in local mode with faults
 * injected at every port call of every task and API operation (see faults.ts), each run checked
 * against Cutover's first promise. Used by test/faults (a fast slice in `npm test`) and
 * bench/faults.ts (thousands of runs).
 *
 * One local environment (dynalite, the local S3, the local Step Functions runtime, one SimWorld) serves
 * many runs one after the other: each run has its own application, group, Lambda functions or
 * ECS service, load balancer and alarm, named after its seed, and removes them when it is done.
 * Everything runs on virtual time moved by the suite (`manual`), so a run's outcome never depends
 * on the machine's speed, and a run is replayed by its seed alone.
 *
 * A run: the scenario drawn from the seed (platform, targets, configuration, hooks, triggers,
 * alarms, and operator actions at set times: stop, promote, alarm, continue) is set up without
 * faults; then the faults are armed, a client calls CreateDeployment through the API once, the
 * actions happen at their times, the reconciler runs every minute as its schedule would, and time
 * passes until everything has ended (or 4 hours, far past every deadline). Then the faults are
 * disarmed and the world and the store are read directly (see `check`).
 */
import { dispatch } from '../api/operations.js';
import { SimWorld, type SimHookHandler } from '../adapters/sim/world.js';
import { isTerminal, type Deployment, type DeploymentStatus } from '../domain/model.js';
import { VirtualClock } from '../local/clock.js';
import { TASKS } from '../tasks/index.js';
import {
  FAULT_KINDS,
  FaultInjector,
  RETRYABLE_KINDS,
  SeededIds,
  faultKey,
  prng,
  type FaultKind,
  type InjectedFault,
} from './faults.js';
import { createLocalEnvironment, type LocalEnvironment } from './local.js';

// ---- scenarios ----------------------------------------------------------------------------------

/** What a hook does when invoked. */
export type HookBehaviour =
  /** Reports Succeeded through PutLifecycleEventHookExecutionStatus (the task, as a Lambda hook's SDK call). */
  | 'reports'
  /** Reports Succeeded through the CodeDeploy API (the local server's endpoint). */
  | 'reportsViaApi'
  /** Returns `{status: 'Succeeded'}`. */
  | 'returns'
  /** Answers InProgress once (retry after 30 s), then Succeeded. */
  | 'inProgressOnce'
  /** Reports Failed. */
  | 'fails'
  /** Never reports: the hook times out (the group's timeout: 300 s) and the deployment rolls back. */
  | 'silent';

export const ECS_HOOK_EVENTS = [
  'BeforeInstall',
  'AfterInstall',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
] as const;

export type Action =
  | { at: number; kind: 'stop' }
  | { at: number; kind: 'promote' }
  /** The group's alarm goes to ALARM (as `aws cloudwatch set-alarm-state`). */
  | { at: number; kind: 'alarm' }
  /** The target version starts failing 90% of requests: the alarm fires from the metric. */
  | { at: number; kind: 'errors' }
  /** ContinueDeployment TERMINATION_WAIT (ECS). */
  | { at: number; kind: 'continue' };

export type Scenario = {
  seed: number;
  /** Probability that a port call fails, and the kinds drawn. */
  rate: number;
  kinds: readonly FaultKind[];
  /** The group's alarm (watched by the group; `alarm` and `errors` actions need it). */
  alarm: boolean;
  /** SNS triggers: none, a topic Cutover may publish to, or one it may not (AccessDenied, always). */
  triggers: 'none' | 'allowed' | 'refused';
  actions: Action[];
} & (
  | {
      platform: 'Lambda';
      /** How many functions the AppSpec shifts together (1–3). */
      functions: number;
      config: 'canary' | 'linear' | 'allAtOnce';
      hooks: { BeforeAllowTraffic?: HookBehaviour; AfterAllowTraffic?: HookBehaviour };
    }
  | {
      platform: 'ECS';
      testListener: boolean;
      config: 'canary' | 'linear' | 'allAtOnce';
      hooks: Partial<Record<(typeof ECS_HOOK_EVENTS)[number], HookBehaviour>>;
      /** After success: delete the original task set after `waitMinutes`, or keep it. */
      termination: { action: 'TERMINATE' | 'KEEP_ALIVE'; waitMinutes: number };
    }
);

const HOOK_BEHAVIOURS: readonly HookBehaviour[] = [
  'reports',
  'reports',
  'reportsViaApi',
  'returns',
  'returns',
  'inProgressOnce',
  'fails',
  'silent',
];

/** The scenario of a seed: everything a run does besides the faults' own choices. */
export function scenarioFor(seed: number): Scenario {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const chance = (p: number) => r() < p;
  const rate = pick([0.01, 0.03, 0.05, 0.08]);
  const kinds = chance(0.3) ? RETRYABLE_KINDS : FAULT_KINDS;
  const alarm = chance(0.6);
  const triggers = pick(['none', 'allowed', 'allowed', 'refused'] as const);
  const hook = () => (chance(0.5) ? pick(HOOK_BEHAVIOURS) : undefined);
  const actions: Action[] = [];
  const at = () => Math.floor(r() * 480);
  if (chance(0.2)) actions.push({ at: at(), kind: 'stop' });
  if (chance(0.2)) actions.push({ at: at(), kind: 'promote' });
  if (alarm && chance(0.35)) actions.push({ at: at(), kind: chance(0.5) ? 'alarm' : 'errors' });
  const config = pick(['canary', 'linear', 'allAtOnce'] as const);
  const base = { seed, rate, kinds, alarm, triggers, actions };
  if (chance(0.6)) {
    const hooks: Extract<Scenario, { platform: 'Lambda' }>['hooks'] = {};
    const before = hook();
    const after = hook();
    if (before) hooks.BeforeAllowTraffic = before;
    if (after) hooks.AfterAllowTraffic = after;
    return { ...base, platform: 'Lambda', functions: 1 + Math.floor(r() * 3), config, hooks };
  }
  const hooks: Extract<Scenario, { platform: 'ECS' }>['hooks'] = {};
  const testListener = chance(0.6);
  for (const e of ECS_HOOK_EVENTS) {
    if (e === 'AfterAllowTestTraffic' && !testListener) continue;
    // Fewer hooks each: five hooks that may fail would leave few ECS runs that get to the end.
    const h = chance(0.5) ? hook() : undefined;
    if (h) hooks[e] = h;
  }
  const termination = chance(0.2)
    ? { action: 'KEEP_ALIVE' as const, waitMinutes: 0 }
    : { action: 'TERMINATE' as const, waitMinutes: pick([0, 0, 2, 5]) };
  if (termination.waitMinutes > 0 && chance(0.5)) actions.push({ at: at(), kind: 'continue' });
  const ecsActions = actions.map((a) => (a.kind === 'errors' ? { ...a, kind: 'alarm' as const } : a));
  return { ...base, actions: ecsActions, platform: 'ECS', testListener, config, hooks, termination };
}

/** One line for people: what the scenario deploys and does. */
export function describeScenario(s: Scenario): string {
  const hooks = Object.entries(s.hooks)
    .map(([e, h]) => `${e}=${h}`)
    .join(',');
  const what =
    s.platform === 'Lambda'
      ? `Lambda ${s.functions} function(s) ${s.config}`
      : `ECS ${s.testListener ? 'with' : 'without'} test listener ${s.config} ${s.termination.action}${s.termination.waitMinutes ? ` wait ${s.termination.waitMinutes}m` : ''}`;
  const actions = s.actions.map((a) => `${a.kind}@${a.at}s`).join(',');
  return [
    what,
    hooks ? `hooks ${hooks}` : 'no hooks',
    s.alarm ? 'alarm' : 'no alarm',
    `triggers ${s.triggers}`,
    actions ? `actions ${actions}` : 'no actions',
    `faults ${Math.round(s.rate * 100)}% of ${s.kinds.length === FAULT_KINDS.length ? 'all kinds' : 'retryable kinds'}`,
  ].join('; ');
}

// ---- results ------------------------------------------------------------------------------------

export type Outcome = DeploymentStatus | 'refused';

/** The invariants a run is checked against (see FaultSuite's `check`). */
export const INVARIANTS = ['ended', 'world', 'record', 'lock', 'alarmIndex', 'events', 'client'] as const;
export type Invariant = (typeof INVARIANTS)[number];

/** One broken invariant of a run, said as what was found. */
export interface Violation {
  invariant: Invariant;
  message: string;
}

export interface RunResult {
  seed: number;
  scenario: string;
  platform: 'Lambda' | 'ECS';
  /** The deployment's last status, or `refused` when CreateDeployment answered an error. */
  outcome: Outcome;
  faults: InjectedFault[];
  /** Port calls made while faults were armed. */
  calls: number;
  /** Virtual seconds from the create to the end (or the 4-hour limit). */
  virtualSeconds: number;
  violations: Violation[];
}

/** The failure message of a run: seed, scenario, faults, violations (what a failing test prints). */
export function explainRun(r: RunResult): string {
  const faults = r.faults.map((f) => `  ${f.kind} at ${faultKey(f)}`).join('\n') || '  (none)';
  return [
    `seed ${r.seed}: ${r.scenario}`,
    `outcome ${r.outcome} after ${r.virtualSeconds} virtual s, ${r.calls} port calls`,
    `faults:\n${faults}`,
    r.violations.length
      ? `violations:\n${r.violations.map((v) => `  [${v.invariant}] ${v.message}`).join('\n')}`
      : 'violations: none',
    `replay: npm run bench:faults -- --seed ${r.seed}`,
  ].join('\n');
}

// ---- the suite ----------------------------------------------------------------------------------

const START = new Date('2026-06-01T12:00:00Z');
/** A run not ended after this long is stuck: every deadline (rollback 15 min, retries about an hour) has passed. */
const RUN_LIMIT_SECONDS = 4 * 3600;
/** Reconciler passes after everything has ended: nothing may change any more. */
const QUIET_PASSES = 2;
/** A topic every run's `refused` trigger points at: Cutover may never publish to it. */
const REFUSED_TOPIC = 'arn:aws:sns:local:000000000000:cutover-forbidden';
const TERMINAL_EVENT: Record<string, string> = { Succeeded: 'SUCCESS', Failed: 'FAILURE', Stopped: 'STOP' };
const TERMINAL_VERB: Record<string, string> = { Succeeded: 'SUCCEEDED', Failed: 'FAILED', Stopped: 'STOPPED' };

interface ApiAnswer {
  output?: Record<string, unknown>;
  error?: { __type: string; message: string };
}

/** Where a run's deployment should leave each target, read straight from the SimWorld. */
interface WorldView {
  original: boolean;
  target: boolean;
  describe: string;
}

/** A local environment for fault runs; `run(seed)` one run after the other. */
export class FaultSuite {
  private readonly hookCalls = new Map<string, number>();

  private constructor(
    readonly env: LocalEnvironment,
    readonly clock: VirtualClock,
    readonly world: SimWorld,
    private readonly injector: FaultInjector,
    private readonly ids: SeededIds,
  ) {}

  /**
   * A fresh local environment with the suite's hooks and deployment configurations. The store is
   * dynalite (the real DynamoDB adapter) unless `store` says `memory`: the same contract
   * (test/contract/store.test.ts), several times faster, for the slice in `npm test`.
   */
  static async open(opts: { store?: 'dynalite' | 'memory' } = {}): Promise<FaultSuite> {
    const clock = new VirtualClock('manual', START);
    const world = new SimWorld(clock);
    const injector = new FaultInjector();
    const ids = new SeededIds();
    const env = await createLocalEnvironment({
      clock,
      world,
      instrumentation: injector,
      ids,
      store: opts.store ?? 'dynalite',
    });
    const suite = new FaultSuite(env, clock, world, injector, ids);
    await suite.setUpShared();
    return suite;
  }

  async close(): Promise<void> {
    await this.env.close();
  }

  private async setUpShared(): Promise<void> {
    const { deps } = this.env;
    for (const platform of ['Lambda', 'ECS'] as const) {
      await TASKS.createDeploymentConfig.run(
        {
          deploymentConfigName: `Fault${platform}Canary`,
          computePlatform: platform,
          trafficRoutingConfig: {
            type: 'TimeBasedCanary',
            timeBasedCanary: { canaryPercentage: 10, canaryInterval: 2 },
          },
        },
        deps,
      );
      await TASKS.createDeploymentConfig.run(
        {
          deploymentConfigName: `Fault${platform}Linear`,
          computePlatform: platform,
          trafficRoutingConfig: {
            type: 'TimeBasedLinear',
            timeBasedLinear: { linearPercentage: 25, linearInterval: 1 },
          },
        },
        deps,
      );
    }
    for (const td of ['web:1', 'web:2']) this.world.ecs.addTaskDefinition(td, { steadyAfterSeconds: 30 });
    this.world.injectFault('Publish', 'AccessDenied', Number.MAX_SAFE_INTEGER, REFUSED_TOPIC);
    const hooks: Record<HookBehaviour, SimHookHandler> = {
      reports: (e, ctx) =>
        this.reportWithRetries(() =>
          ctx.putLifecycleEventHookExecutionStatus({
            deploymentId: e.DeploymentId,
            lifecycleEventHookExecutionId: e.LifecycleEventHookExecutionId,
            status: 'Succeeded',
          }),
        ),
      reportsViaApi: (e) =>
        this.reportWithRetries(async () => {
          const r = await this.api('PutLifecycleEventHookExecutionStatus', {
            deploymentId: e.DeploymentId,
            lifecycleEventHookExecutionId: e.LifecycleEventHookExecutionId,
            status: 'Succeeded',
          });
          if (r.error) throw Object.assign(new Error(r.error.message), { name: r.error.__type });
        }),
      returns: () => ({ status: 'Succeeded' }),
      inProgressOnce: (e) => {
        const key = `${e.DeploymentId} ${String(e.LifecycleEventName)}`;
        const n = (this.hookCalls.get(key) ?? 0) + 1;
        this.hookCalls.set(key, n);
        return n === 1 ? { status: 'InProgress', retryAfterSeconds: 30 } : { status: 'Succeeded' };
      },
      fails: (e, ctx) =>
        this.reportWithRetries(() =>
          ctx.putLifecycleEventHookExecutionStatus({
            deploymentId: e.DeploymentId,
            lifecycleEventHookExecutionId: e.LifecycleEventHookExecutionId,
            status: 'Failed',
          }),
        ),
      silent: () => undefined,
    };
    for (const [name, handler] of Object.entries(hooks)) this.world.registerHook(`hook-${name}`, handler);
  }

  /**
   * A hook's report, retried as an SDK client retries (a few times, at once: a hook runs inside its
   * invocation, where virtual time stands still). A report refused because the event already
   * completed means an earlier attempt got through (its response was lost): done.
   */
  private async reportWithRetries(report: () => Promise<unknown>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await report();
        return;
      } catch (e) {
        const name = (e as { exceptionName?: string; name?: string }).exceptionName ?? (e as Error).name;
        if (name === 'LifecycleEventAlreadyCompletedException') return;
        if (attempt >= 4) throw e;
      }
    }
  }

  /** An API call as the local server makes it: only the operation's declared ports, holding the clock. */
  private async api(operation: string, input: Record<string, unknown>): Promise<ApiAnswer> {
    const r = await this.env.work!.during(dispatch(operation, input, this.env.deps, this.env.viewFor));
    return 'error' in r ? { error: r.error } : { output: r.output as Record<string, unknown> };
  }

  /**
   * One run of `seed`. `only` replays it with only those of its faults (faultKey): what `culprit`
   * uses to find the fault that breaks an invariant on its own.
   */
  async run(seed: number, only?: ReadonlySet<string>): Promise<RunResult> {
    const s = scenarioFor(seed);
    await this.alignClock();
    this.ids.reseed(seed);
    this.hookCalls.clear();
    const names = namesFor(seed);
    const logFrom = this.world.log.length;
    await this.setUp(s, names);
    const start = this.clock.now().getTime();

    this.injector.arm({ seed, rate: s.rate, kinds: s.kinds, ...(only ? { only } : {}) });
    let limitReached = false;
    const stop = new AbortController();
    const sleep = (seconds: number) => this.clock.sleep(seconds, stop.signal);
    void sleep(RUN_LIMIT_SECONDS).then(
      () => (limitReached = true),
      () => undefined,
    );

    // The client: CreateDeployment through the API, tried again on a 5xx as the SDK would, and
    // after a minute when the group is busy after a failed try (the failed try's lock is freed by
    // then: at once by the create itself, or by the reconciler).
    let created: ApiAnswer = {};
    let deploymentId: string | undefined;
    let creating = true;
    const client = async (): Promise<void> => {
      for (let attempt = 1; attempt <= 3; attempt++) {
        created = await this.api('CreateDeployment', {
          applicationName: names.app,
          deploymentGroupName: 'g',
          revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpecOf(s, names) } },
        });
        const type = created.error?.__type;
        if (type === 'InternalFailure') await sleep(5);
        else if (type === 'DeploymentLimitExceededException' && attempt > 1) await sleep(60);
        else break;
      }
      deploymentId = created.output?.deploymentId as string | undefined;
      if (deploymentId) names.ids.add(deploymentId);
    };
    void client()
      .catch(() => undefined)
      .finally(() => (creating = false));

    // Operators act at their times, on the deployment they were told of (an operator's client
    // retries a 5xx a few times).
    let acting = 0;
    for (const a of s.actions) {
      void sleep(a.at).then(
        async () => {
          acting++;
          try {
            await this.act(a, s, names, deploymentId, sleep);
          } finally {
            acting--;
          }
        },
        () => undefined,
      );
    }
    // The reconciler's schedule: every minute. After each pass the suite looks whether everything
    // has ended; it has when it stays so for a few more passes (nothing may change any more).
    let quiet = 0;
    let finished = false;
    const tick = async (): Promise<void> => {
      for (;;) {
        await sleep(60);
        await this.env.run(TASKS.reconcile, {}).catch(() => undefined);
        // The look holds virtual time, as the work it looks at does.
        const ended =
          !creating &&
          acting === 0 &&
          !this.runningExecutions(names).length &&
          (await this.env.work!.during(this.settled(names)));
        quiet = ended ? quiet + 1 : 0;
        if (quiet > QUIET_PASSES) finished = true;
      }
    };
    void tick().catch(() => undefined);
    await this.clock.runUntil(() => finished || limitReached, `seed ${seed} has ended`);
    stop.abort();
    this.injector.disarm();
    await this.clock.idle();
    const virtualSeconds = Math.round((this.clock.now().getTime() - start) / 1000);

    const records = await this.records(names);
    const main = records.find((d) => d.deploymentId === deploymentId) ?? records.find((d) => !isRollback(d));
    const outcome: Outcome = deploymentId ? (main?.state.status ?? 'Created') : 'refused';
    const violations = await this.check(s, names, records, deploymentId, created.error, logFrom, limitReached);
    const faults = [...this.injector.faults];
    const calls = this.injector.calls;
    await this.tearDown(s, names);
    return {
      seed,
      scenario: describeScenario(s),
      platform: s.platform,
      outcome,
      faults,
      calls,
      virtualSeconds,
      violations,
    };
  }

  /**
   * The fault of a violating run that breaks an invariant on its own, if there is one: each of its
   * faults replayed alone (only for runs with at most `max` faults; replays cost a run each).
   */
  async culprit(r: RunResult, max = 8): Promise<InjectedFault | undefined> {
    if (!r.violations.length || r.faults.length > max) return undefined;
    for (const f of r.faults) {
      const again = await this.run(r.seed, new Set([faultKey(f)]));
      if (again.violations.length && again.faults.length === 1) return f;
    }
    return undefined;
  }

  /** Runs start on a 10-second boundary (the world's metric tick): a replay starts in the same phase. */
  private async alignClock(): Promise<void> {
    const now = this.clock.now().getTime();
    const next = Math.ceil((now - START.getTime()) / 10_000) * 10_000 + START.getTime() + 10_000;
    let passed = false;
    void this.clock.sleep((next - now) / 1000).then(() => (passed = true));
    await this.clock.runUntil(() => passed, 'the next run start');
  }

  private async setUp(s: Scenario, n: Names): Promise<void> {
    const { deps } = this.env;
    const w = this.world;
    const alarmSource =
      s.platform === 'Lambda'
        ? { functionName: `${n.prefix}-fn0`, alias: 'live' }
        : { listener: `${n.prefix}-lb/prod` };
    if (s.platform === 'Lambda') {
      for (let i = 0; i < s.functions; i++)
        w.addFunction(`${n.prefix}-fn${i}`, {
          versions: { '1': {}, '2': {} },
          aliases: { live: '1' },
          requestsPerSecond: 20,
        });
    } else {
      w.ecs.addLoadBalancer({
        name: `${n.prefix}-lb`,
        targetGroups: [`${n.prefix}-blue`, `${n.prefix}-green`],
        listeners: [
          { name: 'prod', port: 80, forwardTo: `${n.prefix}-blue`, requestsPerSecond: 20 },
          { name: 'test', port: 8080, forwardTo: `${n.prefix}-blue`, requestsPerSecond: 2 },
        ],
      });
      w.ecs.addService({
        cluster: n.prefix,
        name: 'web',
        desiredCount: 2,
        taskDefinition: 'web:1',
        targetGroup: `${n.prefix}-blue`,
      });
    }
    if (s.alarm) w.addAlarm({ name: n.alarm, threshold: 5, ...alarmSource });
    await TASKS.createApplication.run({ applicationName: n.app, computePlatform: s.platform }, deps);
    const triggers =
      s.triggers === 'none'
        ? []
        : [
            {
              triggerName: 'ops',
              triggerTargetArn: s.triggers === 'allowed' ? n.topic : REFUSED_TOPIC,
              triggerEvents: [
                'DeploymentStart',
                'DeploymentSuccess',
                'DeploymentFailure',
                'DeploymentStop',
                'DeploymentRollback',
              ],
            },
          ];
    const config =
      s.config === 'allAtOnce'
        ? `CodeDeployDefault.${s.platform === 'Lambda' ? 'Lambda' : 'ECS'}AllAtOnce`
        : `Fault${s.platform}${s.config === 'canary' ? 'Canary' : 'Linear'}`;
    await TASKS.createDeploymentGroup.run(
      {
        applicationName: n.app,
        deploymentGroupName: 'g',
        deploymentConfigName: config,
        alarmConfiguration: { enabled: s.alarm, alarms: s.alarm ? [{ name: n.alarm }] : [] },
        hookTimeoutSeconds: 300,
        triggerConfigurations: triggers,
        ...(s.platform === 'ECS'
          ? {
              ecsServices: [{ clusterName: n.prefix, serviceName: 'web' }],
              loadBalancerInfo: {
                targetGroupPairInfoList: [
                  {
                    targetGroups: [{ name: `${n.prefix}-blue` }, { name: `${n.prefix}-green` }],
                    prodTrafficRoute: { listenerArns: [w.listenerArn(`${n.prefix}-lb/prod`)] },
                    ...(s.testListener
                      ? { testTrafficRoute: { listenerArns: [w.listenerArn(`${n.prefix}-lb/test`)] } }
                      : {}),
                  },
                ],
              },
              blueGreenDeploymentConfiguration: {
                terminateBlueInstancesOnDeploymentSuccess: {
                  action: s.termination.action,
                  terminationWaitTimeInMinutes: s.termination.waitMinutes,
                },
              },
            }
          : {}),
      },
      deps,
    );
  }

  private async act(
    a: Action,
    s: Scenario,
    n: Names,
    deploymentId: string | undefined,
    sleep: (seconds: number) => Promise<void>,
  ): Promise<void> {
    if (a.kind === 'alarm') {
      this.world.forceAlarm(n.alarm, 'ALARM');
      return;
    }
    if (a.kind === 'errors') {
      for (let i = 0; i < (s.platform === 'Lambda' ? s.functions : 0); i++)
        this.world.setErrorRate(`${n.prefix}-fn${i}`, '2', 0.9);
      return;
    }
    if (!deploymentId) return;
    const [operation, input] =
      a.kind === 'stop'
        ? ['StopDeployment', { deploymentId }]
        : a.kind === 'promote'
          ? ['PromoteDeployment', { deploymentId }]
          : ['ContinueDeployment', { deploymentId, deploymentWaitType: 'TERMINATION_WAIT' }];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const r = await this.api(operation, input);
      // A 5xx is tried again; an answer that says why not (already completed, not waiting) is final.
      if (r.error?.__type !== 'InternalFailure') return;
      await sleep(5);
    }
  }

  private runningExecutions(n: Names): string[] {
    const out: string[] = [];
    for (const [name, e] of this.env.runtime.executions) if (e.status === 'RUNNING' && n.ids.has(name)) out.push(name);
    return out;
  }

  /** The run's deployment records (its group's), newest first; remembers their ids. */
  private async records(n: Names): Promise<Deployment[]> {
    const { deps } = this.env;
    const ids = await deps.deployments.list(n.app, 'g');
    const out: Deployment[] = [];
    for (const id of ids) {
      n.ids.add(id);
      const d = await deps.deployments.get(id);
      if (d) out.push(d);
    }
    return out;
  }

  /**
   * Everything ended, as anyone can see it: every record terminal, no execution running, the
   * group free. (What follows an outcome, its events, is checked, not waited for: the passes after
   * this give late work some minutes, far more than executionEnded's retries take.)
   */
  private async settled(n: Names): Promise<boolean> {
    const group = await this.env.deps.catalog.getDeploymentGroup(n.app, 'g');
    if (group?.activeDeploymentId) return false;
    const records = await this.records(n);
    if (this.runningExecutions(n).length) return false;
    return records.every((d) => isTerminal(d.state.status));
  }

  /** The invariants. Every broken one is a line of the result (empty: the run passes). */
  private async check(
    s: Scenario,
    n: Names,
    records: Deployment[],
    deploymentId: string | undefined,
    refusal: ApiAnswer['error'],
    logFrom: number,
    limitReached: boolean,
  ): Promise<Violation[]> {
    const found: Violation[] = [];
    const v = {
      push: (invariant: Invariant, message: string) => found.push({ invariant, message }),
    };
    const { deps } = this.env;
    const mains = records.filter((d) => !isRollback(d));
    const rollbacks = records.filter(isRollback);
    if (limitReached) v.push('ended', `not ended after ${RUN_LIMIT_SECONDS} virtual seconds`);

    // The client's view: an id it got exists; a refused create ran nothing.
    if (deploymentId && !mains.some((d) => d.deploymentId === deploymentId))
      v.push('client', `CreateDeployment answered ${deploymentId}, which has no record`);
    if (!deploymentId && !refusal) v.push('client', 'CreateDeployment answered neither an id nor an error');
    if (refusal && mains.some((d) => d.state.status === 'Succeeded'))
      v.push('client', `CreateDeployment answered ${refusal.__type}, yet a deployment succeeded`);
    // A failed try may leave a record (Failed, says why), but only the answered one may have run.
    for (const d of mains)
      if (d.deploymentId !== deploymentId && (d.state.startTime || d.state.status === 'Succeeded'))
        v.push(
          'client',
          `${d.deploymentId}, of a CreateDeployment that answered ${deploymentId ? `with ${deploymentId}` : 'an error'}, ran (${d.state.status})`,
        );

    // Every deployment ended, its execution too.
    for (const d of records)
      if (!isTerminal(d.state.status))
        v.push('ended', `${d.deploymentId}${isRollback(d) ? ' (rollback record)' : ''} is still ${d.state.status}`);
    for (const name of this.runningExecutions(n)) v.push('ended', `the execution ${name} still runs`);

    // The group is free; the alarm index is clean.
    const group = await deps.catalog.getDeploymentGroup(n.app, 'g');
    if (group?.activeDeploymentId) {
      const holder = records.find((d) => d.deploymentId === group.activeDeploymentId);
      v.push(
        'lock',
        `the group is locked by ${group.activeDeploymentId} (${holder ? holder.state.status : 'no such record'})`,
      );
    }
    if (s.alarm) {
      const watching = await deps.alarmWatches.watching(n.alarm);
      const ours = watching.filter((id) => records.some((d) => d.deploymentId === id));
      if (ours.length) v.push('alarmIndex', `the alarm index still lists ${ours.join(', ')} under ${n.alarm}`);
    }

    // The world: at the target if the deployment succeeded, at the original otherwise.
    const succeeded = mains.filter((d) => d.state.status === 'Succeeded');
    const world = this.worldOf(s, n);
    if (succeeded.length > 1) v.push('world', `${succeeded.length} deployments succeeded`);
    else if (succeeded.length === 1 && !world.target)
      v.push(
        'world',
        `${succeeded[0]!.deploymentId} is Succeeded but the world is not at the target: ${world.describe}`,
      );
    else if (succeeded.length === 0 && !world.original)
      v.push(
        'world',
        `${mains.map((d) => `${d.deploymentId} is ${d.state.status}${d.state.errorInformation ? ` (${d.state.errorInformation.code})` : ''}`).join(', ') || 'no deployment'} but the world is not at the original: ${world.describe}`,
      );

    // The records agree with the world and with each other.
    for (const d of mains) {
      const st = d.state;
      if (st.status === 'Succeeded') {
        if (st.targetWeight !== 100) v.push('record', `${d.deploymentId} is Succeeded at ${st.targetWeight}%`);
        if (group?.lastSuccessfulDeployment?.deploymentId !== d.deploymentId)
          v.push('record', `${d.deploymentId} is Succeeded but the group's last successful deployment is not it`);
      }
      if (isTerminal(st.status)) {
        const open = st.lifecycleEvents.filter((e) => e.status === 'InProgress' || e.status === 'Pending');
        if (open.length)
          v.push(
            'record',
            `${d.deploymentId} is ${st.status} with lifecycle events ${open.map((e) => `${e.lifecycleEventName} ${e.status}`).join(', ')}`,
          );
      }
      if ((st.status === 'Failed' || st.status === 'Stopped') && !st.errorInformation)
        v.push('record', `${d.deploymentId} is ${st.status} without errorInformation`);
      if (st.errorInformation?.code === 'ROLLBACK_FAILED')
        v.push('world', `${d.deploymentId} ended ROLLBACK_FAILED: ${st.errorInformation.message}`);
      const rbId = st.rollbackInfo?.rollbackDeploymentId;
      if (rbId) {
        const rb = rollbacks.find((x) => x.deploymentId === rbId);
        if (!rb) v.push('record', `${d.deploymentId} names a rollback ${rbId} that has no record`);
        else if (st.status === 'Succeeded')
          v.push('record', `${d.deploymentId} is Succeeded and was rolled back by ${rbId}`);
        else if (rb.state.status !== 'Succeeded' && world.original)
          v.push('record', `the rollback ${rbId} is ${rb.state.status} though the world is back at the original`);
      }
    }
    for (const rb of rollbacks) {
      const of = rb.state.rollbackInfo?.rollbackTriggeringDeploymentId;
      const d = mains.find((x) => x.deploymentId === of);
      if (!d) v.push('record', `the rollback record ${rb.deploymentId} belongs to no deployment of the group`);
      else if (d.state.rollbackInfo?.rollbackDeploymentId !== rb.deploymentId)
        v.push('record', `the rollback record ${rb.deploymentId} is not linked from ${d.deploymentId}`);
    }

    // One terminal event per outcome (EventBridge, and the group's SNS topic). A publish whose
    // response was lost may be repeated (at least once, ADR 13): that many duplicates are allowed.
    const log = this.world.log.slice(logFrom);
    const lost = (method: string) =>
      this.injector.faults.filter((f) => f.kind === 'lostResponse' && f.method === method).length;
    for (const d of mains) {
      const events = log
        .filter((e) => e.kind === 'EventBridge')
        .map((e) => e.detail.detail as { deploymentId?: string; state?: string })
        .filter((e) => e.deploymentId === d.deploymentId)
        .map((e) => e.state ?? '');
      const terminal = events.filter((e) => ['SUCCESS', 'FAILURE', 'STOP'].includes(e));
      const expected = TERMINAL_EVENT[d.state.status];
      // A deployment its CreateDeployment gave up on (the client was told) needs no event.
      const told = d.deploymentId === deploymentId || d.state.startTime !== undefined;
      if (expected && terminal.some((e) => e !== expected))
        v.push('events', `${d.deploymentId} is ${d.state.status} but published ${terminal.join(', ')}`);
      if (expected && told && !terminal.includes(expected))
        v.push('events', `${d.deploymentId} is ${d.state.status} but published no ${expected} event`);
      if (terminal.length > 1 + lost('events.putEvents'))
        v.push('events', `${d.deploymentId} published ${terminal.length} terminal events (${terminal.join(', ')})`);
      if (s.triggers === 'allowed' && expected && told) {
        const verb = TERMINAL_VERB[d.state.status]!;
        const sns = log.filter(
          (e) =>
            e.kind === 'SNS' &&
            e.detail.topicArn === n.topic &&
            (e.detail.message as { deploymentId?: string }).deploymentId === d.deploymentId &&
            String(e.detail.subject).startsWith(`${verb}:`),
        ).length;
        if (sns === 0)
          v.push('events', `${d.deploymentId} is ${d.state.status} but its ${verb} trigger was not published`);
        if (sns > 1 + lost('events.publish'))
          v.push('events', `${d.deploymentId} published its ${verb} trigger ${sns} times`);
      }
    }
    return found;
  }

  /** Where the run's targets are, read from the SimWorld itself (no port, no fault). */
  private worldOf(s: Scenario, n: Names): WorldView {
    if (s.platform === 'Lambda') {
      const aliases = Array.from({ length: s.functions }, (_, i) => this.world.getAlias(`${n.prefix}-fn${i}`, 'live'));
      const at = (v: string) =>
        aliases.every((a) => a.functionVersion === v && Object.keys(a.additionalVersionWeights).length === 0);
      return {
        original: at('1'),
        target: at('2'),
        describe: aliases.map((a, i) => `fn${i}:live ${JSON.stringify(a)}`).join(', '),
      };
    }
    const sets = this.world.ecs.describeTaskSets(n.prefix, 'web').map((t) => ({
      td: t.taskDefinition.replace(/^.*task-definition\//, ''),
      status: t.status,
    }));
    const prod = this.world.ecs.split(`${n.prefix}-lb/prod`);
    const test = this.world.ecs.split(`${n.prefix}-lb/test`);
    const blue = `${n.prefix}-blue`;
    const green = `${n.prefix}-green`;
    const only = (split: Record<string, number>, tg: string) =>
      split[tg] === 100 && Object.entries(split).every(([k, w]) => k === tg || w === 0);
    const primary = sets.filter((t) => t.status === 'PRIMARY');
    const original =
      sets.length === 1 && sets[0]!.td === 'web:1' && primary.length === 1 && only(prod, blue) && only(test, blue);
    const keptBlue = s.platform === 'ECS' && s.termination.action === 'KEEP_ALIVE';
    const target =
      primary.length === 1 &&
      primary[0]!.td === 'web:2' &&
      sets.length === (keptBlue ? 2 : 1) &&
      only(prod, green) &&
      only(test, s.platform === 'ECS' && s.testListener ? green : blue);
    return {
      original,
      target,
      describe: `task sets ${sets.map((t) => `${t.td} ${t.status}`).join(', ') || 'none'}; prod ${JSON.stringify(prod)}; test ${JSON.stringify(test)}`,
    };
  }

  /**
   * Remove what the run made, whatever state it is in, so the next run (and the reconciler's scan)
   * sees none of it: executions stopped, the lock freed, the application and the world's resources gone.
   */
  private async tearDown(s: Scenario, n: Names): Promise<void> {
    const { deps } = this.env;
    for (const name of this.runningExecutions(n)) this.env.runtime.abort(name);
    await this.clock.idle();
    const group = await deps.catalog.getDeploymentGroup(n.app, 'g');
    if (group?.activeDeploymentId) {
      const now = this.clock.now().toISOString();
      await deps.locks.release(n.app, 'g', group.activeDeploymentId, { status: 'Failed', createTime: now });
    }
    await deps.catalog.deleteApplication(n.app);
    const w = this.world;
    if (s.alarm) {
      for (const id of n.ids) await deps.alarmWatches.unwatch(id, [n.alarm]);
      w.alarms.delete(n.alarm);
    }
    if (s.platform === 'Lambda') for (let i = 0; i < s.functions; i++) w.functions.delete(`${n.prefix}-fn${i}`);
    else {
      w.ecs.services.delete(`${n.prefix}/web`);
      const lb = w.ecs.loadBalancers.get(`${n.prefix}-lb`);
      for (const arn of lb?.listeners ?? []) w.ecs.listeners.delete(arn);
      w.ecs.loadBalancers.delete(`${n.prefix}-lb`);
      w.ecs.targetGroups.delete(`${n.prefix}-blue`);
      w.ecs.targetGroups.delete(`${n.prefix}-green`);
    }
    await this.clock.idle();
  }
}

interface Names {
  prefix: string;
  app: string;
  alarm: string;
  topic: string;
  /** The run's deployment ids (filled as they are found). */
  ids: Set<string>;
}

function namesFor(seed: number): Names {
  const prefix = `s${seed}`;
  return {
    prefix,
    app: `${prefix}-app`,
    alarm: `${prefix}-alarm`,
    topic: `arn:aws:sns:local:000000000000:${prefix}-ops`,
    ids: new Set(),
  };
}

const isRollback = (d: Deployment): boolean => d.spec.creator === 'codeDeployRollback';

function appSpecOf(s: Scenario, n: Names): string {
  const hooks = Object.entries(s.hooks).map(([e, h]) => `  - ${e}: hook-${h}`);
  const hookBlock = hooks.length ? `Hooks:\n${hooks.join('\n')}\n` : '';
  if (s.platform === 'Lambda') {
    const fns = Array.from(
      { length: s.functions },
      (_, i) =>
        `  - fn${i}:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: ${n.prefix}-fn${i}\n        Alias: live\n        CurrentVersion: "1"\n        TargetVersion: "2"`,
    );
    return `version: 0.0\nResources:\n${fns.join('\n')}\n${hookBlock}`;
  }
  return `version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: "web:2"\n        LoadBalancerInfo:\n          ContainerName: "web"\n          ContainerPort: 8080\n${hookBlock}`;
}
