/**
 * The ECS and ELB part of the SimWorld: task definitions (each with an error rate and a time to
 * reach steady state), services with task sets, target groups, and load balancers whose listeners
 * split simulated requests between target groups by their forward weights. A target group's
 * requests go to the steady task sets registered with it (by running tasks) and fail at their
 * task definition's error rate; with no steady task set, every request fails (ELB's 503).
 * Requests are generated lazily by the SimWorld's catchUp(), like Lambda invocations.
 */
import { createHash } from 'node:crypto';
import {
  describeSplit,
  NLB_PROTOCOLS,
  targetGroupName,
  taskDefinitionShortName,
  type ForwardWeights,
} from '../../platforms/ecs/domain.js';
import type { Clock } from '../../ports/index.js';
import type {
  EcsServiceInfo,
  ListenerForward,
  ListenerInfo,
  TaskSetInfo,
  TaskSetSpec,
} from '../../platforms/ecs/ports.js';
import { SimAwsError } from './errors.js';

const REGION = 'local';
const ACCOUNT = '000000000000';
const ELB_ARN = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}`;
const ECS_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}`;
const hex16 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

export type SimDeploymentController = 'ECS' | 'CODE_DEPLOY' | 'EXTERNAL';

export interface SimTaskDefinition {
  /** Fraction of requests its tasks fail, 0..1. */
  errorRate: number;
  /** Seconds a new task set takes to reach STEADY_STATE (default 20), or never. */
  steadyAfterSeconds: number | 'never';
}

export interface SimTaskSet {
  /** `ecs-svc/<19 digits>`. */
  id: string;
  arn: string;
  status: 'PRIMARY' | 'ACTIVE';
  /** `family:revision`. */
  taskDefinition: string;
  externalId?: string;
  clientToken?: string;
  targetGroupArns: string[];
  scalePercent: number;
  createdAt: string;
  /** When it reaches STEADY_STATE; absent: never. */
  steadyAt?: string;
  containerName?: string;
  containerPort?: number;
  launchType?: string;
  platformVersion?: string;
  networkConfiguration?: TaskSetSpec['networkConfiguration'];
  capacityProviderStrategy?: TaskSetSpec['capacityProviderStrategy'];
}

export interface SimService {
  cluster: string;
  name: string;
  arn: string;
  deploymentController: SimDeploymentController;
  desiredCount: number;
  /** With an ECS controller these are internal (its deployment); DescribeTaskSets refuses such a service. */
  taskSets: SimTaskSet[];
}

export interface SimRule {
  ruleArn: string;
  priority: number;
  /** Share of the listener's requests that match this rule, 0..1. */
  requestShare: number;
  forward?: ForwardWeights;
  /** A fixed-response action's status code instead of a forward. */
  fixedResponse?: number;
}

export interface SimListener {
  arn: string;
  loadBalancer: string;
  name: string;
  protocol: string;
  port: number;
  requestsPerSecond: number;
  /** The default action's forward (weights by target group ARN), or a fixed response. */
  forward?: ForwardWeights;
  fixedResponse?: number;
  rules: SimRule[];
}

export interface SimLoadBalancer {
  name: string;
  arn: string;
  type: 'application' | 'network';
  listeners: string[];
}

/** A forward in a spec: one target group's name, or weights by target group name (or ARN). */
export interface SimForwardSpec {
  forwardTo?: string;
  forward?: Record<string, number>;
  fixedResponse?: number;
}
export interface SimListenerSpec extends SimForwardSpec {
  name: string;
  port: number;
  protocol?: string;
  requestsPerSecond?: number;
  rules?: (SimForwardSpec & { priority: number; requestShare?: number })[];
}
export interface SimLoadBalancerSpec {
  name: string;
  type?: 'application' | 'network';
  targetGroups?: string[];
  listeners?: SimListenerSpec[];
}
export interface SimServiceSpec {
  cluster: string;
  name: string;
  desiredCount?: number;
  deploymentController?: SimDeploymentController;
  /** The service's first task set: PRIMARY and steady, of this task definition on this target group. */
  taskDefinition?: string;
  targetGroup?: string;
  /** Or its task sets exactly (a snapshot). */
  taskSets?: SimTaskSet[];
}
/** The ECS part of a SimWorldSpec (and of a snapshot). */
export interface SimEcsSpec {
  taskDefinitions?: Record<string, Partial<SimTaskDefinition>>;
  /** Target groups (besides those the load balancers list). */
  targetGroups?: string[];
  loadBalancers?: SimLoadBalancerSpec[];
  services?: SimServiceSpec[];
  /** Task sets created so far (keeps new task set ids unique across runs). */
  taskSetSequence?: number;
}

/** What SimEcs needs of the world around it. */
export interface SimEcsHost {
  readonly clock: Clock;
  record(kind: 'TaskSet' | 'Listener', detail: Record<string, unknown>): void;
  /** Something `snapshot()` covers changed (called before the changing call returns). */
  changed(): void;
  /**
   * Generate traffic up to the clock's now; with `exact`, the part of the current metric tick up to
   * now as well (called before a change, so past requests keep the routing they had).
   */
  catchUp(exact?: boolean): void;
}

export interface SimTraffic {
  invocations: number;
  errors: number;
}

/** Metric series names (SimWorld metrics keys; Lambda keys never contain a slash). */
export const targetGroupMetric = (name: string): string => `targetgroup/${name}`;
export const listenerMetric = (arn: string): string => `listener/${arn}`;

const DEFAULT_STEADY_AFTER = 20;
const invalid = (message: string) => new SimAwsError('Invalid', message, 'InvalidParameterException');

export class SimEcs {
  readonly taskDefinitions = new Map<string, SimTaskDefinition>();
  /** Target group ARN by name. */
  readonly targetGroups = new Map<string, string>();
  readonly loadBalancers = new Map<string, SimLoadBalancer>();
  readonly listeners = new Map<string, SimListener>();
  /** By `cluster/service`. */
  readonly services = new Map<string, SimService>();
  private sequence = 0;
  private steadyCheckedAt: number;

  constructor(
    private readonly host: SimEcsHost,
    spec: SimEcsSpec = {},
  ) {
    this.steadyCheckedAt = host.clock.now().getTime();
    for (const [name, td] of Object.entries(spec.taskDefinitions ?? {})) this.putTaskDefinition(name, td);
    for (const tg of spec.targetGroups ?? []) this.addTargetGroup(tg);
    for (const lb of spec.loadBalancers ?? []) this.addLoadBalancer(lb);
    for (const s of spec.services ?? []) this.addService(s);
    this.sequence = Math.max(this.sequence, spec.taskSetSequence ?? 0);
  }

  // ---- setup -------------------------------------------------------------------------------

  /** Register (or change) a task definition, `family:revision` or its ARN. */
  addTaskDefinition(name: string, td: Partial<SimTaskDefinition> = {}): void {
    this.host.catchUp(true);
    this.putTaskDefinition(name, td);
    this.host.changed();
  }

  private putTaskDefinition(name: string, td: Partial<SimTaskDefinition>): void {
    const key = taskDefinitionShortName(name);
    const cur = this.taskDefinitions.get(key);
    this.taskDefinitions.set(key, {
      errorRate: td.errorRate ?? cur?.errorRate ?? 0,
      steadyAfterSeconds: td.steadyAfterSeconds ?? cur?.steadyAfterSeconds ?? DEFAULT_STEADY_AFTER,
    });
  }

  addTargetGroup(name: string): string {
    const arn = this.targetGroups.get(name) ?? `${ELB_ARN}:targetgroup/${name}/${hex16(`targetgroup/${name}`)}`;
    this.targetGroups.set(name, arn);
    this.host.changed();
    return arn;
  }

  addLoadBalancer(spec: SimLoadBalancerSpec): SimLoadBalancer {
    const type = spec.type ?? 'application';
    const kind = type === 'network' ? 'net' : 'app';
    const lbHex = hex16(`loadbalancer/${spec.name}`);
    const lb: SimLoadBalancer = {
      name: spec.name,
      arn: `${ELB_ARN}:loadbalancer/${kind}/${spec.name}/${lbHex}`,
      type,
      listeners: [],
    };
    this.loadBalancers.set(spec.name, lb);
    for (const tg of spec.targetGroups ?? []) this.addTargetGroup(tg);
    for (const l of spec.listeners ?? []) {
      const arn = `${ELB_ARN}:listener/${kind}/${spec.name}/${lbHex}/${hex16(`listener/${spec.name}/${l.name}`)}`;
      const listener: SimListener = {
        arn,
        loadBalancer: spec.name,
        name: l.name,
        protocol: l.protocol ?? (type === 'network' ? 'TCP' : 'HTTP'),
        port: l.port,
        requestsPerSecond: l.requestsPerSecond ?? 10,
        ...this.action(l),
        rules: (l.rules ?? []).map((r) => ({
          ruleArn: `${ELB_ARN}:listener-rule/${kind}/${spec.name}/${lbHex}/${arn.slice(-16)}/${hex16(`${arn}/rule/${r.priority}`)}`,
          priority: r.priority,
          requestShare: r.requestShare ?? 0,
          ...this.action(r),
        })),
      };
      this.listeners.set(arn, listener);
      lb.listeners.push(arn);
    }
    this.host.changed();
    return lb;
  }

  addService(spec: SimServiceSpec): SimService {
    const s: SimService = {
      cluster: spec.cluster,
      name: spec.name,
      arn: `${ECS_ARN}:service/${spec.cluster}/${spec.name}`,
      deploymentController: spec.deploymentController ?? 'EXTERNAL',
      desiredCount: spec.desiredCount ?? 1,
      taskSets: structuredClone(spec.taskSets ?? []),
    };
    this.services.set(`${spec.cluster}/${spec.name}`, s);
    if (!spec.taskSets && spec.taskDefinition) {
      const td = this.taskDefinitionKey(spec.taskDefinition);
      const at = this.host.clock.now().toISOString();
      s.taskSets.push({
        ...this.newTaskSetId(s),
        status: 'PRIMARY',
        taskDefinition: td,
        targetGroupArns: spec.targetGroup ? [this.targetGroupArn(spec.targetGroup)] : [],
        scalePercent: 100,
        createdAt: at,
        // The service was already running: steady for as long as anyone looks back (traffic of the
        // current metric tick may start before this moment).
        steadyAt: new Date(0).toISOString(),
      });
    }
    this.host.changed();
    return s;
  }

  /** A listener's ARN from its ARN or `<loadBalancer>/<listener>`. */
  listenerArn(ref: string): string {
    const l = this.findListener(ref);
    if (!l) throw new Error(`sim: no listener ${ref}`);
    return l.arn;
  }

  targetGroupArn(name: string): string {
    const arn = this.targetGroups.get(name) ?? (this.isTargetGroupArn(name) ? name : undefined);
    if (!arn) throw new Error(`sim: no target group ${name}`);
    return arn;
  }

  findListener(ref: string): SimListener | undefined {
    const byArn = this.listeners.get(ref);
    if (byArn) return byArn;
    const [lb, name] = ref.split('/');
    return [...this.listeners.values()].find((l) => l.loadBalancer === lb && l.name === name);
  }

  /** Share of the listener's default forward on each target group (percent, by name). */
  split(ref: string): Record<string, number> {
    const weights = this.findListener(ref)?.forward ?? {};
    const total = Object.values(weights).reduce((t, w) => t + w, 0) || 1;
    return Object.fromEntries(
      Object.entries(weights).map(([arn, w]) => [targetGroupName(arn), Math.round((w / total) * 1000) / 10]),
    );
  }

  // ---- ECS -----------------------------------------------------------------------------------

  /** DescribeServices: a missing service is a failure (reason MISSING), a missing cluster an error. */
  describeServices(
    cluster: string,
    service: string,
  ): { service?: Omit<EcsServiceInfo, 'taskSets'>; failure?: { arn: string; reason: string } } {
    this.cluster(cluster);
    const s = this.services.get(`${cluster}/${service}`);
    if (!s) return { failure: { arn: `${ECS_ARN}:service/${cluster}/${service}`, reason: 'MISSING' } };
    return {
      service: {
        clusterName: cluster,
        serviceName: s.name,
        serviceArn: s.arn,
        status: 'ACTIVE',
        deploymentController: s.deploymentController,
        desiredCount: s.desiredCount,
      },
    };
  }

  describeTaskSets(cluster: string, service: string): TaskSetInfo[] {
    const s = this.service(cluster, service);
    if (s.deploymentController === 'ECS')
      throw invalid(
        'Amazon ECS does not support task set management on services configured to use the ECS deployment controller.',
      );
    return s.taskSets.map((t) => this.info(s, t));
  }

  createTaskSet(cluster: string, service: string, spec: TaskSetSpec): TaskSetInfo {
    const s = this.service(cluster, service);
    if (s.deploymentController !== 'EXTERNAL') {
      throw invalid(
        `Amazon ECS does not support task set management on services configured to use the ${s.deploymentController} deployment controller.`,
      );
    }
    // The same client token returns the task set it created, as ECS does.
    const again = s.taskSets.find((t) => t.clientToken === spec.externalId);
    if (again) return this.info(s, again);
    const td = this.taskDefinitions.has(taskDefinitionShortName(spec.taskDefinition))
      ? this.taskDefinitionKey(spec.taskDefinition)
      : undefined;
    if (!td) throw new SimAwsError('Invalid', 'TaskDefinition not found.', 'ClientException');
    if (!this.isTargetGroupArn(spec.targetGroupArn))
      throw invalid(`The target group with targetGroupArn ${spec.targetGroupArn} does not exist.`);
    if (!(spec.scalePercent >= 0 && spec.scalePercent <= 100))
      throw invalid(`Scale value must be between 0 and 100, got ${spec.scalePercent}.`);
    this.host.catchUp(true);
    const now = this.host.clock.now();
    const steadyAfter = this.taskDefinitions.get(td)!.steadyAfterSeconds;
    const t: SimTaskSet = {
      ...this.newTaskSetId(s),
      status: 'ACTIVE',
      taskDefinition: td,
      externalId: spec.externalId,
      clientToken: spec.externalId,
      targetGroupArns: [spec.targetGroupArn],
      scalePercent: spec.scalePercent,
      createdAt: now.toISOString(),
      ...(steadyAfter === 'never' ? {} : { steadyAt: new Date(now.getTime() + steadyAfter * 1000).toISOString() }),
      containerName: spec.containerName,
      containerPort: spec.containerPort,
      ...(spec.launchType ? { launchType: spec.launchType } : {}),
      ...(spec.platformVersion ? { platformVersion: spec.platformVersion } : {}),
      ...(spec.networkConfiguration ? { networkConfiguration: spec.networkConfiguration } : {}),
      ...(spec.capacityProviderStrategy ? { capacityProviderStrategy: spec.capacityProviderStrategy } : {}),
    };
    s.taskSets.push(t);
    this.host.changed();
    this.recordTaskSet('created', s, t);
    return this.info(s, t);
  }

  updateServicePrimaryTaskSet(cluster: string, service: string, taskSetId: string): TaskSetInfo {
    const s = this.service(cluster, service);
    const t = this.taskSet(s, taskSetId);
    if (t.status === 'PRIMARY') return this.info(s, t);
    this.host.catchUp(true);
    for (const other of s.taskSets) if (other.status === 'PRIMARY') other.status = 'ACTIVE';
    t.status = 'PRIMARY';
    this.host.changed();
    this.recordTaskSet('primary', s, t);
    return this.info(s, t);
  }

  deleteTaskSet(cluster: string, service: string, taskSetId: string): TaskSetInfo {
    const s = this.service(cluster, service);
    const t = this.taskSet(s, taskSetId);
    if (t.status === 'PRIMARY')
      throw invalid('The specified task set is the primary task set of the service and cannot be deleted.');
    this.host.catchUp(true);
    s.taskSets = s.taskSets.filter((x) => x !== t);
    this.host.changed();
    this.recordTaskSet('deleted', s, t);
    return this.info(s, t);
  }

  // ---- ELB -----------------------------------------------------------------------------------

  describeListener(arn: string): Omit<ListenerInfo, 'forwards'> & { forward?: ForwardWeights } {
    const l = this.listener(arn);
    return {
      listenerArn: l.arn,
      loadBalancerArn: this.loadBalancers.get(l.loadBalancer)!.arn,
      protocol: l.protocol,
      port: l.port,
      ...(l.forward ? { forward: { ...l.forward } } : {}),
    };
  }

  /** The listener's non-default rules that forward. */
  describeRules(arn: string): ListenerForward[] {
    return this.listener(arn).rules.flatMap((r) =>
      r.forward ? [{ ruleArn: r.ruleArn, weights: { ...r.forward } }] : [],
    );
  }

  /** DescribeTargetGroups by name: the ARNs of those that exist. */
  targetGroupArns(names: string[]): Record<string, string> {
    return Object.fromEntries(names.flatMap((n) => (this.targetGroups.has(n) ? [[n, this.targetGroups.get(n)!]] : [])));
  }

  /** ModifyListener: the default action becomes a forward at `weights`. */
  modifyListener(arn: string, weights: ForwardWeights): void {
    const l = this.listener(arn);
    this.checkForward(l, weights);
    this.host.catchUp(true);
    l.forward = { ...weights };
    delete l.fixedResponse;
    this.host.changed();
    this.recordListener(l, weights);
  }

  /** ModifyRule: the rule's action becomes a forward at `weights`. */
  modifyRule(ruleArn: string, weights: ForwardWeights): void {
    const l = [...this.listeners.values()].find((x) => x.rules.some((r) => r.ruleArn === ruleArn));
    const rule = l?.rules.find((r) => r.ruleArn === ruleArn);
    if (!l || !rule) throw new SimAwsError('ResourceNotFound', 'One or more rules not found', 'RuleNotFoundException');
    this.checkForward(l, weights);
    this.host.catchUp(true);
    rule.forward = { ...weights };
    delete rule.fixedResponse;
    this.host.changed();
    this.recordListener(l, weights, ruleArn);
  }

  // ---- simulation ----------------------------------------------------------------------------

  /** Requests and errors in [start, start + seconds) (epoch seconds), by metric series. */
  traffic(start: number, seconds: number): Map<string, SimTraffic> {
    const out = new Map<string, SimTraffic>();
    const add = (key: string, invocations: number, errors: number) => {
      const b = out.get(key) ?? { invocations: 0, errors: 0 };
      b.invocations += invocations;
      b.errors += errors;
      out.set(key, b);
    };
    // Task sets that become steady inside the interval split it: each part fails at its own rate.
    const from = start * 1000;
    const to = (start + seconds) * 1000;
    const cuts = [from, to];
    for (const svc of this.services.values())
      for (const t of svc.taskSets) {
        const at = t.steadyAt ? Date.parse(t.steadyAt) : NaN;
        if (at > from && at < to) cuts.push(at);
      }
    cuts.sort((a, b) => a - b);
    const parts = cuts.slice(1).map((end, i) => ({ share: (end - cuts[i]!) / (to - from), at: (end + cuts[i]!) / 2 }));
    for (const l of this.listeners.values()) {
      const total = l.requestsPerSecond * seconds;
      const ruled = Math.min(
        1,
        l.rules.reduce((t, r) => t + r.requestShare, 0),
      );
      const routes: { share: number; forward?: ForwardWeights; fixedResponse?: number }[] = [
        ...l.rules.map((r) => ({ ...r, share: r.requestShare })),
        { ...l, share: 1 - ruled },
      ];
      for (const route of routes) {
        const n = total * route.share;
        if (n <= 0) continue;
        if (!route.forward) {
          add(listenerMetric(l.arn), n, (route.fixedResponse ?? 503) >= 500 ? n : 0);
          continue;
        }
        const weightTotal = Object.values(route.forward).reduce((t, w) => t + w, 0);
        // Weights all zero: ELB has nowhere to send the request.
        if (weightTotal === 0) add(listenerMetric(l.arn), n, n);
        for (const [tg, w] of Object.entries(route.forward)) {
          if (w <= 0) continue;
          const m = (n * w) / weightTotal;
          const errors = parts.reduce((e, p) => e + m * p.share * this.errorShare(tg, p.at), 0);
          add(targetGroupMetric(targetGroupName(tg)), m, errors);
          add(listenerMetric(l.arn), m, errors);
        }
      }
    }
    return out;
  }

  /** Log task sets that reached steady state since the last look. */
  noticeSteady(): void {
    const now = this.host.clock.now().getTime();
    for (const s of this.services.values()) {
      for (const t of s.taskSets) {
        const steadyAt = t.steadyAt ? Date.parse(t.steadyAt) : undefined;
        if (steadyAt !== undefined && steadyAt > this.steadyCheckedAt && steadyAt <= now)
          this.recordTaskSet('steady', s, t);
      }
    }
    this.steadyCheckedAt = now;
  }

  /** The fraction of a target group's requests that fail at `at` (ms). */
  private errorShare(tgArn: string, at: number): number {
    let tasks = 0;
    let failing = 0;
    for (const s of this.services.values()) {
      for (const t of s.taskSets) {
        if (!t.targetGroupArns.includes(tgArn) || !this.steadyAt(t, at)) continue;
        const n = this.desiredTasks(s, t);
        tasks += n;
        failing += n * (this.taskDefinitions.get(t.taskDefinition)?.errorRate ?? 0);
      }
    }
    return tasks === 0 ? 1 : failing / tasks;
  }

  // ---- persistence ----------------------------------------------------------------------------

  snapshot(): SimEcsSpec {
    const names = (w: ForwardWeights) =>
      Object.fromEntries(Object.entries(w).map(([arn, x]) => [targetGroupName(arn), x]));
    const action = (a: { forward?: ForwardWeights; fixedResponse?: number }): SimForwardSpec =>
      a.forward
        ? { forward: names(a.forward) }
        : a.fixedResponse !== undefined
          ? { fixedResponse: a.fixedResponse }
          : {};
    return {
      taskDefinitions: Object.fromEntries([...this.taskDefinitions].map(([k, v]) => [k, { ...v }])),
      targetGroups: [...this.targetGroups.keys()],
      loadBalancers: [...this.loadBalancers.values()].map((lb) => ({
        name: lb.name,
        type: lb.type,
        listeners: lb.listeners
          .map((arn) => this.listeners.get(arn)!)
          .map((l) => ({
            name: l.name,
            port: l.port,
            protocol: l.protocol,
            requestsPerSecond: l.requestsPerSecond,
            ...action(l),
            rules: l.rules.map((r) => ({ priority: r.priority, requestShare: r.requestShare, ...action(r) })),
          })),
      })),
      services: [...this.services.values()].map((s) => ({
        cluster: s.cluster,
        name: s.name,
        desiredCount: s.desiredCount,
        deploymentController: s.deploymentController,
        taskSets: structuredClone(s.taskSets),
      })),
      taskSetSequence: this.sequence,
    };
  }

  /**
   * Take over the moving parts of a saved snapshot (task sets, listener forwards) for the services
   * and listeners this world still has; the rest (error rates, traffic) stays as configured. The
   * saved times were on another run's (compressed) clock: a task set that was to become steady is
   * steady by now.
   */
  restore(saved: SimEcsSpec): void {
    this.sequence = Math.max(this.sequence, saved.taskSetSequence ?? 0);
    const now = this.host.clock.now().toISOString();
    const earlier = (at: string) => (at < now ? at : now);
    for (const s of saved.services ?? []) {
      const cur = this.services.get(`${s.cluster}/${s.name}`);
      if (!cur || !s.taskSets) continue;
      cur.taskSets = structuredClone(s.taskSets)
        .filter((t) => t.targetGroupArns.every((arn) => this.isTargetGroupArn(arn)))
        .map((t) => ({
          ...t,
          createdAt: earlier(t.createdAt),
          ...(t.steadyAt ? { steadyAt: earlier(t.steadyAt) } : {}),
        }));
    }
    for (const lb of saved.loadBalancers ?? []) {
      for (const ls of lb.listeners ?? []) {
        const l = this.findListener(`${lb.name}/${ls.name}`);
        if (!l) continue;
        const restored = this.tryAction(ls);
        if (restored) Object.assign(l, { forward: undefined, fixedResponse: undefined }, restored);
        for (const rs of ls.rules ?? []) {
          const rule = l.rules.find((r) => r.priority === rs.priority);
          const action = this.tryAction(rs);
          if (rule && action) Object.assign(rule, { forward: undefined, fixedResponse: undefined }, action);
        }
      }
    }
    this.host.changed();
  }

  // ---- helpers --------------------------------------------------------------------------------

  /** A spec's action as stored: a forward by ARN, or a fixed response. */
  private action(a: SimForwardSpec): { forward?: ForwardWeights; fixedResponse?: number } {
    if (a.forwardTo !== undefined) return { forward: { [this.targetGroupArn(a.forwardTo)]: 1 } };
    if (a.forward)
      return { forward: Object.fromEntries(Object.entries(a.forward).map(([tg, w]) => [this.targetGroupArn(tg), w])) };
    return { fixedResponse: a.fixedResponse ?? 404 };
  }

  private tryAction(a: SimForwardSpec): { forward?: ForwardWeights; fixedResponse?: number } | undefined {
    try {
      return this.action(a);
    } catch {
      return undefined; // a target group the world file no longer has
    }
  }

  private isTargetGroupArn(arn: string): boolean {
    return [...this.targetGroups.values()].includes(arn);
  }

  private taskDefinitionKey(name: string): string {
    const key = taskDefinitionShortName(name);
    if (key.includes(':')) return key;
    // A family alone means its latest revision.
    const revisions = [...this.taskDefinitions.keys()].filter((k) => k.startsWith(`${key}:`));
    return revisions.sort((a, b) => Number(b.split(':')[1]) - Number(a.split(':')[1]))[0] ?? key;
  }

  private newTaskSetId(s: SimService): { id: string; arn: string } {
    this.sequence++;
    const digits = (BigInt(`0x${hex16(`${s.arn}/${this.sequence}`)}`) % 10n ** 19n).toString().padStart(19, '1');
    const id = `ecs-svc/${digits}`;
    return { id, arn: `${ECS_ARN}:task-set/${s.cluster}/${s.name}/${id}` };
  }

  private cluster(name: string): void {
    if (![...this.services.values()].some((s) => s.cluster === name))
      throw new SimAwsError('ResourceNotFound', 'Cluster not found.', 'ClusterNotFoundException');
  }

  private service(cluster: string, name: string): SimService {
    this.cluster(cluster);
    const s = this.services.get(`${cluster}/${name}`);
    if (!s) throw new SimAwsError('ResourceNotFound', 'Service not found.', 'ServiceNotFoundException');
    return s;
  }

  private taskSet(s: SimService, idOrArn: string): SimTaskSet {
    const t = s.taskSets.find((x) => x.id === idOrArn || x.arn === idOrArn);
    if (!t)
      throw new SimAwsError('ResourceNotFound', 'The specified task set does not exist.', 'TaskSetNotFoundException');
    return t;
  }

  private listener(arn: string): SimListener {
    const l = this.listeners.get(arn);
    if (!l) throw new SimAwsError('ResourceNotFound', 'One or more listeners not found', 'ListenerNotFoundException');
    return l;
  }

  private steadyAt(t: SimTaskSet, at: number): boolean {
    return t.steadyAt !== undefined && Date.parse(t.steadyAt) <= at;
  }

  private desiredTasks(s: SimService, t: SimTaskSet): number {
    return Math.ceil((s.desiredCount * t.scalePercent) / 100);
  }

  private info(s: SimService, t: SimTaskSet): TaskSetInfo {
    const desired = this.desiredTasks(s, t);
    const steady = this.steadyAt(t, this.host.clock.now().getTime());
    return {
      id: t.id,
      taskSetArn: t.arn,
      status: t.status,
      stabilityStatus: steady ? 'STEADY_STATE' : 'STABILIZING',
      taskDefinition: `${ECS_ARN}:task-definition/${t.taskDefinition}`,
      ...(t.externalId ? { externalId: t.externalId } : {}),
      targetGroupArns: [...t.targetGroupArns],
      scalePercent: t.scalePercent,
      runningCount: steady ? desired : 0,
      pendingCount: steady ? 0 : desired,
      computedDesiredCount: desired,
      ...(t.launchType ? { launchType: t.launchType } : {}),
      ...(t.platformVersion ? { platformVersion: t.platformVersion } : {}),
      ...(t.networkConfiguration ? { networkConfiguration: t.networkConfiguration } : {}),
      ...(t.capacityProviderStrategy ? { capacityProviderStrategy: t.capacityProviderStrategy } : {}),
    };
  }

  /** ELB's checks on a forward: known target groups, integer weights 0..999, one target group on an NLB. */
  private checkForward(l: SimListener, weights: ForwardWeights): void {
    const arns = Object.keys(weights);
    if (arns.length === 0)
      throw new SimAwsError('Invalid', 'A forward action must have at least one target group', 'ValidationError');
    if (!arns.every((arn) => this.isTargetGroupArn(arn)))
      throw new SimAwsError('ResourceNotFound', 'One or more target groups not found', 'TargetGroupNotFoundException');
    if (!Object.values(weights).every((w) => Number.isInteger(w) && w >= 0 && w <= 999))
      throw new SimAwsError('Invalid', 'Target group weights must be integers from 0 to 999', 'ValidationError');
    if ((NLB_PROTOCOLS as readonly string[]).includes(l.protocol) && arns.length > 1) {
      throw new SimAwsError(
        'Invalid',
        'You cannot specify multiple target groups in a forward action of a Network Load Balancer listener',
        'ValidationError',
      );
    }
  }

  private recordTaskSet(event: 'created' | 'primary' | 'deleted' | 'steady', s: SimService, t: SimTaskSet): void {
    this.host.record('TaskSet', {
      event,
      cluster: s.cluster,
      service: s.name,
      taskSetId: t.id,
      taskDefinition: t.taskDefinition,
      targetGroups: t.targetGroupArns.map(targetGroupName),
      status: t.status,
    });
  }

  private recordListener(l: SimListener, weights: ForwardWeights, ruleArn?: string): void {
    this.host.record('Listener', {
      listenerArn: l.arn,
      listener: `${l.loadBalancer}/${l.name}`,
      ...(ruleArn ? { ruleArn } : {}),
      weights: Object.fromEntries(Object.entries(weights).map(([arn, w]) => [targetGroupName(arn), w])),
      split: describeSplit(weights),
    });
  }
}
