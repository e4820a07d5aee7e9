/**
 * SimWorld: the simulated AWS account local mode deploys into, where no emulator exists.
 * Lambda functions with published versions and weighted aliases that split simulated traffic,
 * an error rate per version; ECS services with task sets behind ELB listeners whose weights split
 * simulated requests (see ecs-world.ts); CloudWatch-style alarms evaluated on those metrics, an
 * event log for EventBridge/SNS, and fault injection for AWS calls. Traffic is generated lazily up to the
 * clock's "now" whenever something looks, so results do not depend on timers.
 */
import type { AlarmReading, AlarmState } from '../../domain/alarms.js';
import type { AliasRouting } from '../../platforms/lambda/traffic.js';
import type { Clock, HookPayload } from '../../ports/index.js';
import { listenerMetric, SimEcs, targetGroupMetric, type SimEcsSpec, type SimTraffic } from './ecs-world.js';
import { SimAwsError, type SimFaultKind } from './errors.js';
import { SimHosts, type SimServersSpec } from './hosts-world.js';

export { SimAwsError, type SimFaultKind } from './errors.js';
export type {
  SimEcsSpec,
  SimTaskDefinition,
  SimTaskSet,
  SimService,
  SimListener,
  SimLoadBalancer,
} from './ecs-world.js';
export type { SimInstanceSpec, SimServersSpec, SimTargetGroupSpec } from './hosts-world.js';

export interface SimVersion {
  /** Fraction of invocations that fail, 0..1. */
  errorRate: number;
}
export interface SimFunction {
  name: string;
  versions: Record<string, SimVersion>;
  aliases: Record<string, AliasRouting>;
  /** Simulated invocations per second through each alias. */
  requestsPerSecond: number;
}
export interface SimAlarm {
  name: string;
  /** What the alarm watches: a Lambda alias (functionName and alias), a target group or a listener. */
  functionName?: string;
  /** Metrics of invocations through this alias (all versions behind it). */
  alias?: string;
  /**
   * Metrics of the requests a target group (by name) gets: its tasks' errors, and 503s while it has no
   * steady task set.
   */
  targetGroup?: string;
  /** Metrics of the requests through a listener (its ARN or `<loadBalancer>/<listener>`). */
  listener?: string;
  metric: 'ErrorRate' | 'Errors';
  /** ALARM when the metric is greater than this (ErrorRate in percent). */
  threshold: number;
  periodSeconds: number;
  evaluationPeriods: number;
}
/** An alarm to add: its name, threshold and one source (functionName + alias, targetGroup or listener). */
export type SimAlarmSpec = Partial<SimAlarm> & Pick<SimAlarm, 'name' | 'threshold'>;
export interface SimWorldSpec {
  functions?: {
    name: string;
    versions: Record<string, Partial<SimVersion>>;
    aliases: Record<string, string | AliasRouting>;
    requestsPerSecond?: number;
  }[];
  alarms?: SimAlarmSpec[];
  ecs?: SimEcsSpec;
  /** EC2 instances, Auto Scaling groups and instance target groups (Server deployments). */
  servers?: SimServersSpec;
}

export type SimOperation =
  | 'GetAlias'
  | 'UpdateAlias'
  | 'GetFunctionConfiguration'
  | 'DescribeAlarms'
  | 'Invoke'
  | 'PutEvents'
  | 'Publish'
  | 'PutJobResult'
  | 'DescribeServices'
  | 'DescribeTaskSets'
  | 'CreateTaskSet'
  | 'UpdateServicePrimaryTaskSet'
  | 'DeleteTaskSet'
  | 'DescribeListeners'
  | 'DescribeRules'
  | 'DescribeTargetGroups'
  | 'ModifyListener'
  | 'ModifyRule'
  | 'DescribeInstances'
  | 'DescribeAutoScalingGroups'
  | 'RegisterTargets'
  | 'DeregisterTargets'
  | 'DescribeTargetHealth';
export interface SimLogEntry {
  at: string;
  /**
   * TaskSet: {event: created|primary|steady|deleted, cluster, service, taskSetId, taskDefinition,
   * targetGroups, status}. Listener: {listenerArn, listener, ruleArn?, weights (by target group
   * name), split}.
   */
  kind: 'EventBridge' | 'SNS' | 'Hook' | 'Alarm' | 'AliasUpdated' | 'CodePipeline' | 'TaskSet' | 'Listener' | 'Target';
  detail: Record<string, unknown>;
}

/** The hook function signature in local mode: the user's own module's `handler`. */
export type SimHookHandler = (event: HookPayload, context: SimHookContext) => unknown;
export interface SimHookContext {
  functionName: string;
  /** CodeDeploy's PutLifecycleEventHookExecutionStatus, reachable from a local hook. */
  putLifecycleEventHookExecutionStatus(input: {
    deploymentId: string;
    lifecycleEventHookExecutionId: string;
    status: 'Succeeded' | 'Failed';
  }): Promise<unknown>;
}

type Bucket = SimTraffic;

const TICK_SECONDS = 10;

export class SimWorld {
  readonly functions = new Map<string, SimFunction>();
  readonly alarms = new Map<string, SimAlarm>();
  readonly log: SimLogEntry[] = [];
  readonly hookHandlers = new Map<string, SimHookHandler>();
  private readonly forced = new Map<string, AlarmState>();
  private readonly states = new Map<string, AlarmState>();
  private readonly updatedAt = new Map<string, string>();
  private readonly faults: { op: SimOperation; kind: SimFaultKind; remaining: number; target?: string }[] = [];
  /** Metric buckets keyed by `${function}:${alias}` then bucket start (epoch seconds). */
  private readonly metrics = new Map<string, Map<number, Bucket>>();
  private simulatedUntil: number;
  private readonly listeners: ((e: SimLogEntry) => void)[] = [];
  private readonly changeListeners: (() => void)[] = [];
  /** Counts of AWS-style calls made against the world, by operation. */
  readonly calls: Record<string, number> = {};
  /** ECS services and task sets, target groups, load balancers and listeners. */
  readonly ecs: SimEcs;
  /** EC2 instances, Auto Scaling groups and instance targets of target groups. */
  readonly servers: SimHosts;

  constructor(
    readonly clock: Clock,
    spec: SimWorldSpec = {},
  ) {
    this.simulatedUntil = Math.floor(clock.now().getTime() / 1000);
    for (const f of spec.functions ?? []) {
      this.addFunction(f.name, {
        versions: f.versions,
        aliases: f.aliases,
        ...(f.requestsPerSecond !== undefined ? { requestsPerSecond: f.requestsPerSecond } : {}),
      });
    }
    this.ecs = new SimEcs(this, spec.ecs);
    this.servers = new SimHosts(
      {
        clock,
        addTargetGroup: (name) => this.ecs.addTargetGroup(name),
        targetGroupArns: (names) => this.ecs.targetGroupArns(names),
        record: (kind, detail) => this.record(kind, detail),
        changed: () => this.changed(),
      },
      spec.servers,
    );
    for (const a of spec.alarms ?? []) this.addAlarm(a);
  }

  // ---- setup -------------------------------------------------------------------------------

  addFunction(
    name: string,
    opts: {
      versions: Record<string, Partial<SimVersion>>;
      aliases?: Record<string, string | AliasRouting>;
      requestsPerSecond?: number;
    },
  ): SimFunction {
    const fn: SimFunction = {
      name,
      versions: Object.fromEntries(Object.entries(opts.versions).map(([v, s]) => [v, { errorRate: s.errorRate ?? 0 }])),
      aliases: Object.fromEntries(
        Object.entries(opts.aliases ?? {}).map(([a, r]) => [
          a,
          typeof r === 'string' ? { functionVersion: r, additionalVersionWeights: {} } : r,
        ]),
      ),
      requestsPerSecond: opts.requestsPerSecond ?? 10,
    };
    this.functions.set(name, fn);
    this.changed();
    return fn;
  }

  publishVersion(functionName: string, version: string, errorRate = 0): void {
    this.fn(functionName).versions[version] = { errorRate };
    this.changed();
  }

  setErrorRate(functionName: string, version: string, errorRate: number): void {
    this.catchUp(true);
    const v = this.fn(functionName).versions[version];
    if (!v) throw new Error(`sim: ${functionName} has no version ${version}`);
    v.errorRate = errorRate;
    this.changed();
  }

  addAlarm(a: SimAlarmSpec): void {
    const sources = [
      a.functionName !== undefined && a.alias !== undefined,
      a.targetGroup !== undefined,
      a.listener !== undefined,
    ].filter(Boolean).length;
    if (sources !== 1)
      throw new Error(`sim: alarm ${a.name} needs one of functionName and alias, targetGroup or listener`);
    this.alarms.set(a.name, { metric: 'ErrorRate', periodSeconds: 60, evaluationPeriods: 1, ...a });
    this.states.set(a.name, 'INSUFFICIENT_DATA');
    this.changed();
  }

  /** Pin an alarm to a state (as `aws cloudwatch set-alarm-state` would), or release it with undefined. */
  forceAlarm(name: string, state: AlarmState | undefined): void {
    if (!this.alarms.has(name)) throw new Error(`sim: no alarm ${name}`);
    if (state) this.forced.set(name, state);
    else this.forced.delete(name);
    this.evaluate();
  }

  registerHook(functionName: string, handler: SimHookHandler): void {
    this.hookHandlers.set(functionName, handler);
  }

  /** Make the next `times` calls of `op` fail like AWS would (optionally only for one function). */
  injectFault(op: SimOperation, kind: SimFaultKind, times = 1, target?: string): void {
    this.faults.push({ op, kind, remaining: times, ...(target ? { target } : {}) });
  }

  onLog(listener: (e: SimLogEntry) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Called, synchronously, after every change to what `snapshot()` covers (an alias, a version, an
   * alarm, a task set, a listener or rule forward, a primary task set...), before the changing call
   * returns: a listener that saves the snapshot makes every change that returned durable. Returns
   * the unsubscribe function.
   */
  onChange(listener: () => void): () => void {
    this.changeListeners.push(listener);
    return () => {
      const i = this.changeListeners.indexOf(listener);
      if (i >= 0) this.changeListeners.splice(i, 1);
    };
  }

  /**
   * Start simulating traffic from `at` (a session that continues an earlier one's time): the time
   * between them, when nothing ran, is not generated.
   */
  skipTo(at: Date): void {
    this.simulatedUntil = Math.max(this.simulatedUntil, Math.floor(at.getTime() / 1000));
  }

  /** Tell the change listeners that the snapshot changed (SimEcs calls it too). */
  changed(): void {
    for (const l of this.changeListeners) l();
  }

  record(kind: SimLogEntry['kind'], detail: Record<string, unknown>): void {
    const e: SimLogEntry = { at: this.clock.now().toISOString(), kind, detail };
    this.log.push(e);
    for (const l of this.listeners) l(e);
  }

  // ---- AWS-like operations (used by the sim adapters) ---------------------------------------

  /** Called by every sim adapter first: counts the call and fails it if a fault is armed. */
  call(op: SimOperation, target?: string): void {
    this.calls[op] = (this.calls[op] ?? 0) + 1;
    const f = this.faults.find((x) => x.op === op && x.remaining > 0 && (!x.target || x.target === target));
    if (!f) return;
    f.remaining--;
    throw new SimAwsError(f.kind, `${op}${target ? ` ${target}` : ''}: simulated ${f.kind}`);
  }

  getAlias(functionName: string, alias: string): AliasRouting {
    const a = this.fn(functionName).aliases[alias];
    if (!a) throw new SimAwsError('ResourceNotFound', `Alias not found: ${functionName}:${alias}`);
    return { functionVersion: a.functionVersion, additionalVersionWeights: { ...a.additionalVersionWeights } };
  }

  updateAlias(functionName: string, alias: string, routing: AliasRouting): void {
    const fn = this.fn(functionName);
    if (!fn.aliases[alias]) throw new SimAwsError('ResourceNotFound', `Alias not found: ${functionName}:${alias}`);
    for (const v of [routing.functionVersion, ...Object.keys(routing.additionalVersionWeights)]) {
      if (!fn.versions[v]) throw new SimAwsError('ResourceNotFound', `Function not found: ${functionName}:${v}`);
    }
    const extra = Object.keys(routing.additionalVersionWeights);
    if (extra.length > 1) throw new Error('sim: Lambda aliases route to at most two versions');
    this.catchUp(true);
    fn.aliases[alias] = {
      functionVersion: routing.functionVersion,
      additionalVersionWeights: { ...routing.additionalVersionWeights },
    };
    this.changed();
    this.record('AliasUpdated', { functionName, alias, ...routing });
  }

  hasVersion(functionName: string, version: string): boolean {
    const fn = this.functions.get(functionName);
    if (!fn) throw new SimAwsError('ResourceNotFound', `Function not found: ${functionName}`);
    return version in fn.versions;
  }

  describeAlarms(names: string[]): AlarmReading[] {
    this.catchUp();
    return names
      .filter((n) => this.alarms.has(n))
      .map((n) => {
        const updatedAt = this.updatedAt.get(n);
        return { name: n, state: this.states.get(n) ?? 'INSUFFICIENT_DATA', ...(updatedAt ? { updatedAt } : {}) };
      });
  }

  alarmState(name: string): AlarmState {
    this.catchUp();
    return this.states.get(name) ?? 'INSUFFICIENT_DATA';
  }

  /** Share of an alias's traffic on each version (percent). */
  split(functionName: string, alias: string): Record<string, number> {
    const r = this.getAlias(functionName, alias);
    const extra = Object.entries(r.additionalVersionWeights);
    const extraTotal = extra.reduce((t, [, w]) => t + w, 0);
    const out: Record<string, number> = { [r.functionVersion]: Math.round((1 - extraTotal) * 10000) / 100 };
    for (const [v, w] of extra) out[v] = Math.round(w * 10000) / 100;
    return out;
  }

  /** Invocations and errors through an alias over the last `seconds` of simulated time. */
  observed(functionName: string, alias: string, seconds: number): Bucket & { errorRate: number } {
    return this.observedSeries(`${functionName}:${alias}`, seconds);
  }

  /** Requests (as `invocations`) and errors a target group answered over the last `seconds`. */
  observedTargetGroup(name: string, seconds: number): Bucket & { errorRate: number } {
    return this.observedSeries(targetGroupMetric(name), seconds);
  }

  /** Requests (as `invocations`) and errors through a listener (ARN or `<lb>/<listener>`) over the last `seconds`. */
  observedListener(ref: string, seconds: number): Bucket & { errorRate: number } {
    return this.observedSeries(listenerMetric(this.ecs.listenerArn(ref)), seconds);
  }

  /** A listener's ARN from its ARN or `<loadBalancer>/<listener>`. */
  listenerArn(ref: string): string {
    return this.ecs.listenerArn(ref);
  }

  /** A target group's ARN by name. */
  targetGroupArn(name: string): string {
    return this.ecs.targetGroupArn(name);
  }

  private observedSeries(key: string, seconds: number): Bucket & { errorRate: number } {
    this.catchUp();
    const series = this.metrics.get(key);
    const from = this.simulatedUntil - seconds;
    const total: Bucket = { invocations: 0, errors: 0 };
    for (const [t, b] of series ?? []) {
      if (t >= from) {
        total.invocations += b.invocations;
        total.errors += b.errors;
      }
    }
    return { ...total, errorRate: total.invocations ? (total.errors / total.invocations) * 100 : 0 };
  }

  // ---- simulation ---------------------------------------------------------------------------

  /**
   * Generate traffic and metrics up to the clock's now, then re-evaluate alarms. Whole ticks only,
   * unless `exact` (before a change to routing or health): then up to now, so the requests before
   * the change keep the routing and health they had.
   */
  catchUp(exact = false): void {
    const nowMs = this.clock.now().getTime();
    const now = Math.floor(nowMs / 1000);
    // Bound the work for very long gaps (e.g. a persisted world loaded days later).
    if (now - this.simulatedUntil > 86_400) this.simulatedUntil = now - 86_400;
    while (this.simulatedUntil + TICK_SECONDS <= now) {
      this.generate(this.simulatedUntil, TICK_SECONDS);
      this.simulatedUntil += TICK_SECONDS;
    }
    const rest = nowMs / 1000 - this.simulatedUntil;
    if (exact && rest > 0) {
      this.generate(this.simulatedUntil, rest);
      this.simulatedUntil += rest;
    }
    this.ecs.noticeSteady();
    this.evaluate();
  }

  private generate(start: number, seconds: number): void {
    for (const fn of this.functions.values()) {
      for (const [alias, r] of Object.entries(fn.aliases)) {
        const extra = Object.entries(r.additionalVersionWeights);
        const shares: [string, number][] = [[r.functionVersion, 1 - extra.reduce((t, [, w]) => t + w, 0)], ...extra];
        const b = { invocations: 0, errors: 0 };
        for (const [v, share] of shares) {
          const n = fn.requestsPerSecond * seconds * share;
          b.invocations += n;
          b.errors += n * (fn.versions[v]?.errorRate ?? 0);
        }
        this.addMetric(`${fn.name}:${alias}`, start, b);
      }
    }
    for (const [key, b] of this.ecs.traffic(start, seconds)) this.addMetric(key, start, b);
  }

  private addMetric(key: string, start: number, add: Bucket): void {
    const series = this.metrics.get(key) ?? new Map<number, Bucket>();
    this.metrics.set(key, series);
    const b = series.get(start) ?? { invocations: 0, errors: 0 };
    b.invocations += add.invocations;
    b.errors += add.errors;
    series.set(start, b);
    // Keep a day of buckets at most.
    for (const t of series.keys()) if (t < start - 86_400) series.delete(t);
  }

  /** The metric series an alarm watches (undefined: a listener the world does not have). */
  private alarmSeries(a: SimAlarm): string | undefined {
    if (a.targetGroup !== undefined) return targetGroupMetric(a.targetGroup);
    if (a.listener !== undefined) {
      const l = this.ecs.findListener(a.listener);
      return l ? listenerMetric(l.arn) : undefined;
    }
    return `${a.functionName}:${a.alias}`;
  }

  private evaluate(): void {
    for (const a of this.alarms.values()) {
      const next = this.forced.get(a.name) ?? this.compute(a);
      const prev = this.states.get(a.name);
      if (next !== prev) {
        this.states.set(a.name, next);
        this.updatedAt.set(a.name, this.clock.now().toISOString());
        this.record('Alarm', { alarmName: a.name, previous: prev, state: next });
      }
    }
  }

  private compute(a: SimAlarm): AlarmState {
    const key = this.alarmSeries(a);
    const series = key === undefined ? undefined : this.metrics.get(key);
    if (!series) return 'INSUFFICIENT_DATA';
    const end = this.simulatedUntil;
    let breaching = 0;
    for (let p = 0; p < a.evaluationPeriods; p++) {
      const to = end - p * a.periodSeconds;
      const from = to - a.periodSeconds;
      let inv = 0;
      let err = 0;
      for (const [t, b] of series) {
        if (t >= from && t < to) {
          inv += b.invocations;
          err += b.errors;
        }
      }
      if (inv === 0) return 'INSUFFICIENT_DATA';
      const value = a.metric === 'ErrorRate' ? (err / inv) * 100 : err;
      if (value > a.threshold) breaching++;
    }
    return breaching === a.evaluationPeriods ? 'ALARM' : 'OK';
  }

  private fn(name: string): SimFunction {
    const fn = this.functions.get(name);
    if (!fn) throw new SimAwsError('ResourceNotFound', `Function not found: ${name}`);
    return fn;
  }

  // ---- persistence ----------------------------------------------------------------------------

  /** The parts of the world that must survive between CLI runs (versions, aliases, alarms, ECS). */
  snapshot(): SimWorldSpec {
    return {
      functions: [...this.functions.values()].map((f) => ({
        name: f.name,
        versions: f.versions,
        aliases: f.aliases,
        requestsPerSecond: f.requestsPerSecond,
      })),
      alarms: [...this.alarms.values()],
      ecs: this.ecs.snapshot(),
      ...(this.servers.isEmpty() ? {} : { servers: this.servers.snapshot() }),
    };
  }
}

/**
 * The EventBridge event CloudWatch emits for an alarm state change, for a SimWorld alarm log entry,
 * so local mode drives the same alarm listener task as AWS.
 */
export function alarmStateChangeEvent(
  e: SimLogEntry,
  region = 'local',
  account = '000000000000',
): Record<string, unknown> {
  const name = String(e.detail.alarmName);
  return {
    version: '0',
    id: `sim-${name}-${e.at}`,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account,
    time: e.at,
    region,
    resources: [`arn:aws:cloudwatch:${region}:${account}:alarm:${name}`],
    detail: {
      alarmName: name,
      state: { value: String(e.detail.state), reason: 'Simulated metric crossed the threshold', timestamp: e.at },
      previousState: { value: String(e.detail.previous ?? 'INSUFFICIENT_DATA') },
    },
  };
}
