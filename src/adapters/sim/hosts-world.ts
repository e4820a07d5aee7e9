/**
 * The EC2 side of the SimWorld for Server deployments: instances with tags and zones, the Auto
 * Scaling groups they belong to, and their registrations in ELB target groups with health checks.
 * A registered target is `initial` for its group's healthy-after time, then `healthy` or
 * `unhealthy` as the instance's health probe answers (local mode points the probe at the real host);
 * a deregistered one is `draining` for the deregistration delay, then gone (`unused`).
 */
import type { Clock } from '../../ports/index.js';
import type { GroupMember, InstanceInfo, TargetHealthState } from '../../platforms/server/ports.js';
import { LIVE_STATES, tagsMatch, type TagFilter } from '../../platforms/server/ports.js';
import { SimAwsError } from './errors.js';

export interface SimInstanceSpec {
  /** `i-…` for EC2 instances. */
  id: string;
  tags?: Record<string, string>;
  availabilityZone?: string;
  /** EC2 state name (default running). */
  state?: string;
  /** The Auto Scaling group it belongs to, if any. */
  autoScalingGroup?: string;
  /** What its health check answers when nothing else probes it (default true). */
  healthy?: boolean;
}

export interface SimTargetGroupSpec {
  name: string;
  /** Seconds a newly registered target stays `initial` (default 10). */
  healthyAfterSeconds?: number;
  /** Seconds a deregistered target stays `draining` (default 30). */
  deregistrationDelaySeconds?: number;
  /** Instances registered at the start. */
  targets?: string[];
}

export interface SimServersSpec {
  instances?: SimInstanceSpec[];
  targetGroups?: SimTargetGroupSpec[];
}

/** What SimHosts needs of the world around it. */
export interface SimHostsHost {
  readonly clock: Clock;
  /** The ARN of a target group by name, creating it in the shared ELB if it is new. */
  addTargetGroup(name: string): string;
  targetGroupArns(names: string[]): Record<string, string>;
  record(kind: 'Target', detail: Record<string, unknown>): void;
  changed(): void;
}

interface Registration {
  /** ms */
  registeredAt?: number;
  /** ms: draining since. */
  deregisteredAt?: number;
}

interface SimTargetGroup {
  name: string;
  arn: string;
  healthyAfterSeconds: number;
  deregistrationDelaySeconds: number;
  targets: Map<string, Registration>;
}

export class SimHosts {
  private readonly instances = new Map<string, SimInstanceSpec>();
  private readonly groups = new Map<string, SimTargetGroup>();
  /** Overrides an instance's `healthy` flag (local mode: a check against the real host). */
  private probe: ((instanceId: string) => boolean) | undefined;

  constructor(
    private readonly host: SimHostsHost,
    spec: SimServersSpec = {},
  ) {
    for (const i of spec.instances ?? []) this.addInstance(i);
    for (const g of spec.targetGroups ?? []) this.addTargetGroup(g);
  }

  addInstance(spec: SimInstanceSpec): void {
    this.instances.set(spec.id, structuredClone(spec));
    this.host.changed();
  }

  /** Set an instance's health (the answer of its health check). */
  setHealthy(instanceId: string, healthy: boolean): void {
    const i = this.instances.get(instanceId);
    if (!i) throw new Error(`sim: no instance ${instanceId}`);
    i.healthy = healthy;
    this.host.changed();
  }

  /** Let something else answer the health checks (the local wiring: the real host). */
  setProbe(probe: ((instanceId: string) => boolean) | undefined): void {
    this.probe = probe;
  }

  addTargetGroup(spec: SimTargetGroupSpec): void {
    const arn = this.host.addTargetGroup(spec.name);
    const now = this.host.clock.now().getTime();
    this.groups.set(arn, {
      name: spec.name,
      arn,
      healthyAfterSeconds: spec.healthyAfterSeconds ?? 10,
      deregistrationDelaySeconds: spec.deregistrationDelaySeconds ?? 30,
      // Targets of the world file were registered long ago: healthy at once.
      targets: new Map((spec.targets ?? []).map((id) => [id, { registeredAt: now - 86_400_000 }])),
    });
    this.host.changed();
  }

  // ---- AWS-like operations ------------------------------------------------------------------

  describeByTag(filter: TagFilter): InstanceInfo[] {
    return [...this.instances.values()]
      .filter((i) => LIVE_STATES.includes(i.state ?? 'running') && tagsMatch(i.tags ?? {}, filter))
      .map((i) => this.info(i));
  }

  autoScalingGroups(names: string[]): { members: GroupMember[]; missing: string[] } {
    const all = [...this.instances.values()];
    const found = new Set(all.flatMap((i) => (i.autoScalingGroup ? [i.autoScalingGroup] : [])));
    const members = all
      .filter((i) => i.autoScalingGroup && names.includes(i.autoScalingGroup))
      .map((i) => ({
        instanceId: i.id,
        autoScalingGroupName: i.autoScalingGroup!,
        ...(i.availabilityZone ? { availabilityZone: i.availabilityZone } : {}),
        lifecycleState: (i.state ?? 'running') === 'running' ? 'InService' : 'Pending',
        healthStatus: this.healthy(i.id) ? 'Healthy' : 'Unhealthy',
      }));
    return { members, missing: names.filter((n) => !found.has(n)) };
  }

  targetGroupArns(names: string[]): Record<string, string> {
    const known = new Set([...this.groups.values()].map((g) => g.name));
    return this.host.targetGroupArns(names.filter((n) => known.has(n)));
  }

  register(arn: string, instanceId: string): void {
    const g = this.group(arn);
    if (!this.instances.has(instanceId))
      throw new SimAwsError(
        'Invalid',
        `The following targets are not valid instances: ${instanceId}`,
        'InvalidTargetException',
      );
    const cur = g.targets.get(instanceId);
    if (cur?.registeredAt !== undefined && cur.deregisteredAt === undefined) return;
    g.targets.set(instanceId, { registeredAt: this.host.clock.now().getTime() });
    this.host.changed();
    this.host.record('Target', { targetGroup: g.name, instanceId, event: 'registered' });
  }

  deregister(arn: string, instanceId: string): void {
    const g = this.group(arn);
    const cur = g.targets.get(instanceId);
    if (!cur || cur.deregisteredAt !== undefined) return;
    cur.deregisteredAt = this.host.clock.now().getTime();
    this.host.changed();
    this.host.record('Target', { targetGroup: g.name, instanceId, event: 'deregistered' });
  }

  health(arn: string, instanceIds: string[]): Record<string, TargetHealthState> {
    const g = this.group(arn);
    const now = this.host.clock.now().getTime();
    return Object.fromEntries(
      instanceIds.map((id): [string, TargetHealthState] => {
        const r = g.targets.get(id);
        if (!r) return [id, 'unused'];
        if (r.deregisteredAt !== undefined)
          return [id, now < r.deregisteredAt + g.deregistrationDelaySeconds * 1000 ? 'draining' : 'unused'];
        if (now < (r.registeredAt ?? 0) + g.healthyAfterSeconds * 1000) return [id, 'initial'];
        return [id, this.healthy(id) ? 'healthy' : 'unhealthy'];
      }),
    );
  }

  /** Instances registered (not draining) in a target group, by name (for the CLI and tests). */
  registered(name: string): string[] {
    const g = [...this.groups.values()].find((x) => x.name === name);
    return g ? [...g.targets].filter(([, r]) => r.deregisteredAt === undefined).map(([id]) => id) : [];
  }

  // ---- persistence ----------------------------------------------------------------------------

  /** Nothing to keep: no instances and no instance target groups. */
  isEmpty(): boolean {
    return this.instances.size === 0 && this.groups.size === 0;
  }

  snapshot(): SimServersSpec {
    return {
      instances: [...this.instances.values()].map((i) => structuredClone(i)),
      targetGroups: [...this.groups.values()].map((g) => ({
        name: g.name,
        healthyAfterSeconds: g.healthyAfterSeconds,
        deregistrationDelaySeconds: g.deregistrationDelaySeconds,
        targets: this.registered(g.name),
      })),
    };
  }

  private healthy(instanceId: string): boolean {
    return this.probe ? this.probe(instanceId) : (this.instances.get(instanceId)?.healthy ?? true);
  }

  private info(i: SimInstanceSpec): InstanceInfo {
    return {
      instanceId: i.id,
      state: i.state ?? 'running',
      ...(i.availabilityZone ? { availabilityZone: i.availabilityZone } : {}),
      tags: { ...(i.tags ?? {}) },
    };
  }

  private group(arn: string): SimTargetGroup {
    const g = this.groups.get(arn);
    if (!g)
      throw new SimAwsError('ResourceNotFound', `Target group '${arn}' not found`, 'TargetGroupNotFoundException');
    return g;
  }
}
