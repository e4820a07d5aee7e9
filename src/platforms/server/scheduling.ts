/**
 * The scheduler of EC2/on-premises in-place deployments: which hosts to deploy to now, and when the deployment
 * has succeeded or failed, by CodeDeploy's instance-health rules, plus Cutover's waves. Pure and deterministic:
 * no clock, no randomness; ties are broken by host id (UTF-16 code-unit order, not locale order).
 *
 * The rules, as read from CodeDeploy's "Instance health" and "Deployment configurations" pages:
 * - The minimum healthy host count is computed once, at the start, on the whole fleet: HOST_COUNT as is,
 *   FLEET_PERCENT rounded up, OneAtATime (MOST_CONCURRENCY 1) as "all hosts but one".
 * - A deployment whose minimum is the fleet size or more cannot take any host offline: it fails at once with
 *   HEALTH_CONSTRAINTS_INVALID. The fleet size, not the number of Healthy hosts, is compared: a first
 *   deployment to new instances (all Unhealthy, nothing deployed yet) must be able to run, and the docs say a
 *   group that starts below its minimum is deployed without lowering its healthy count further.
 * - Order: Unhealthy hosts first, then revision Unknown, then Old, then Current; then by id.
 * - A host is healthy when it is Healthy and not being deployed, or once it succeeded. Failed and lost hosts
 *   (stopped instances included) are unhealthy. Deploying an Unhealthy host never lowers the healthy count;
 *   a Healthy host is taken offline only if the healthy count stays at or above the minimum.
 * - At most `fleet size − minimum` hosts are in progress at once (HalfAtATime: 4 of 9; OneAtATime: 1), even
 *   when they are all Unhealthy.
 * - The deployment fails (HEALTH_CONSTRAINTS) as soon as the hosts left cannot all be deployed without the
 *   healthy count falling below the minimum, even if every host still in progress succeeds — which is "the
 *   healthy count fell to the minimum" of the docs, and exempts the very last host, since nothing is left.
 * - It ends Succeeded when every host is done and at least `max(1, minimum)` succeeded; otherwise Failed.
 *
 * Waves (Cutover) and zones (CodeDeploy's zonalConfig) both split the deployment order into consecutive
 * waves: hosts of wave k+1 start only after every host of waves 0..k is done and the engine moved on (after
 * the wave's bake and approval). A zone is a wave with its own minimum (`minimumHealthyHostsPerZone`, on the
 * zone's own host count). Zones go in name order, except that zones holding Unhealthy hosts go first (see
 * `planDeployment`); a plan that could not finish even if every host succeeded (which only zones can cause)
 * fails the start check too.
 */
import { InternalError } from '../../domain/errors.js';
import type { Plan, Step } from '../../domain/model.js';
import {
  serverSchedulingConfig,
  type MinimumHealthyHosts,
  type MinimumHealthyHostsPerZone,
  type ServerSchedulingConfig,
  type WaveEntry,
} from './deployment-config.js';

/** CodeDeploy's instance health: the last deployment to the host succeeded, or not (or nothing deployed yet). */
export type InstanceHealth = 'Healthy' | 'Unhealthy';
/** CodeDeploy's revision health: the host runs the group's last successful revision, an older one, or unknown. */
export type RevisionHealth = 'Current' | 'Old' | 'Unknown';
/** Where one host is in this deployment. `Unknown` means lost (agent silent, instance stopped): a failure. */
export type HostStatus = 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'Skipped' | 'Unknown';

/** A host of the fleet as it was when the deployment started. */
export interface FleetHost {
  id: string;
  /** Availability Zone; unset for on-premises hosts. */
  availabilityZone?: string;
  /** A stopped instance is still deployed to (it will fail): pass it Unhealthy, since it serves nothing. */
  instanceHealth: InstanceHealth;
  revisionHealth: RevisionHealth;
}

/** A host in deployment order, with the wave it belongs to. */
export interface PlannedHost extends FleetHost {
  wave: number;
}

/** The floor and concurrency of one zone (zonal configurations). */
export interface ZoneLimits {
  /** The Availability Zone, or null for the hosts that have none (on-premises), deployed last. */
  name: string | null;
  minimumHealthyHosts: number;
  maxInProgress: number;
}

/** One wave of a plan: consecutive hosts of the deployment order, then a bake and maybe an approval. */
export interface PlannedWave {
  index: number;
  hostIds: string[];
  /** Hosts started once this wave is done, counting earlier waves. */
  targetHosts: number;
  /** Seconds to bake after this wave before the next one (0 for the last wave). */
  bakeSeconds: number;
  /** Set when an operator must approve, after the bake, before the next wave. */
  approvalTimeoutSeconds?: number;
  /** Zonal configurations: this wave is a zone, with its own minimum. */
  zone?: ZoneLimits;
}

/** Everything fixed at deployment start. Plain JSON, so the engine can store it with the deployment. */
export interface FleetPlan {
  fleetSize: number;
  /** Minimum healthy hosts, as a count of hosts. */
  minimumHealthyHosts: number;
  /** Most hosts in progress at once: fleet size − minimum. */
  maxInProgress: number;
  /** Hosts that must succeed for the deployment to succeed: max(1, minimum). */
  requiredSuccesses: number;
  /** Every host, in deployment order. */
  hosts: PlannedHost[];
  /** At least one; the last one ends with every host. */
  waves: PlannedWave[];
}

/** The outcome of the start check: a plan, or the error the deployment fails with before deploying anything. */
export type StartCheck =
  { ok: true; plan: FleetPlan } | { ok: false; code: 'HEALTH_CONSTRAINTS_INVALID' | 'NO_INSTANCES'; message: string };

/** What the scheduler reads: the plan, each host's status (missing → Pending), and the wave the engine is in. */
export interface SchedulerState {
  plan: FleetPlan;
  progress: Readonly<Record<string, HostStatus>>;
  /** Index of the wave the engine released: 0, then +1 after each `waveComplete` bake and approval. */
  currentWave: number;
}

/** What to do next. */
export type Decision =
  /** Start deploying to these hosts now (then call again with them InProgress). */
  | { kind: 'start'; wave: number; hostIds: string[] }
  /** Hosts are in progress and no other may start: call again when one of them ends. */
  | { kind: 'waiting'; wave: number; inProgress: string[] }
  /** Every host of waves 0..`wave` is done: bake, ask for the approval if any, then call with `nextWave`. */
  | { kind: 'waveComplete'; wave: number; bakeSeconds: number; approvalTimeoutSeconds?: number; nextWave: number }
  | { kind: 'succeeded'; succeeded: number; failed: number; skipped: number }
  /** Stop the deployment; `inProgress` hosts are still being deployed to. */
  | { kind: 'failed'; code: 'HEALTH_CONSTRAINTS'; message: string; inProgress: string[] };

/** Hosts of a deployment by status, and how many are healthy now. */
export interface ProgressSummary {
  pending: number;
  inProgress: number;
  succeeded: number;
  /** Failed or lost. */
  failed: number;
  skipped: number;
  healthy: number;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * CodeDeploy's scheduling priority of a host: 0 Unhealthy, 1 revision Unknown, 2 Old, 3 Current.
 * Never throws.
 */
export function schedulingPriority(host: Pick<FleetHost, 'instanceHealth' | 'revisionHealth'>): number {
  if (host.instanceHealth === 'Unhealthy') return 0;
  return host.revisionHealth === 'Unknown' ? 1 : host.revisionHealth === 'Old' ? 2 : 3;
}

/** Returns the hosts in deployment order (priority, then id), as a new array. Never throws. */
export function deploymentOrder<H extends FleetHost>(hosts: readonly H[]): H[] {
  return [...hosts].sort((a, b) => schedulingPriority(a) - schedulingPriority(b) || byId(a, b));
}

/** ceil(n × hundredths / 10000) in integers, so 0.07 % or 29 % never round up by a float error. */
const ceilShare = (n: number, percent: number) => Math.ceil((n * Math.round(percent * 100)) / 10000);

/**
 * Returns the minimum healthy host count of a fleet of `fleetSize` hosts: HOST_COUNT as given, FLEET_PERCENT
 * rounded up, MOST_CONCURRENCY v (OneAtATime) as `fleetSize − v`, never below 0. May exceed the fleet size
 * (the start check then fails).
 *
 * @throws InternalError when `fleetSize` is not a whole number of 0 or more
 */
export function minimumHealthyHostCount(
  minimum: MinimumHealthyHosts | MinimumHealthyHostsPerZone,
  fleetSize: number,
): number {
  if (!Number.isInteger(fleetSize) || fleetSize < 0) throw new InternalError(`fleet size ${fleetSize} is not a count`);
  switch (minimum.type) {
    case 'HOST_COUNT':
      return minimum.value;
    case 'FLEET_PERCENT':
      return ceilShare(fleetSize, minimum.value);
    case 'MOST_CONCURRENCY':
      return Math.max(0, fleetSize - minimum.value);
  }
}

const describeMinimum = (m: MinimumHealthyHosts | MinimumHealthyHostsPerZone, n: number) =>
  m.type === 'FLEET_PERCENT'
    ? `FLEET_PERCENT ${m.value} of ${plural(n, 'host')}, rounded up`
    : m.type === 'HOST_COUNT'
      ? `HOST_COUNT ${m.value}`
      : `all hosts but ${m.value}`;

/** Waves of a wave list on a fleet of `n` hosts: cumulative targets; a wave adding no host merges into the last. */
function resolveWaves(entries: readonly WaveEntry[], n: number) {
  const waves: { target: number; bakeSeconds: number; approvalTimeoutSeconds?: number }[] = [];
  for (const e of entries) {
    const last = waves.at(-1);
    if ('approve' in e) {
      if (last) last.approvalTimeoutSeconds = Math.max(last.approvalTimeoutSeconds ?? 0, e.timeoutSeconds);
      continue;
    }
    const own = Math.min(n, 'hosts' in e ? e.hosts : ceilShare(n, e.percentage));
    if (last && own <= last.target) last.bakeSeconds = Math.max(last.bakeSeconds, e.bakeSeconds);
    else waves.push({ target: own, bakeSeconds: e.bakeSeconds });
  }
  return waves;
}

/**
 * The start check and the plan: the minimum healthy host count, the deployment order, and the waves (from the
 * configuration's waves, or one per Availability Zone, or a single wave). Call once, when the deployment starts.
 *
 * Returns `{ok: false}` with NO_INSTANCES for an empty fleet, or HEALTH_CONSTRAINTS_INVALID (naming the
 * numbers) when the deployment could not finish even if every host succeeded: the minimum is the fleet size
 * or more, a zone's minimum is its size or more, or (zones only) a zone's Healthy hosts could never be taken
 * offline because too many Unhealthy hosts wait in later zones.
 *
 * @throws InvalidInputError when the configuration is invalid (CodeDeploy's exception names)
 * @throws InternalError when host ids are empty or repeated
 */
export function planDeployment(fleet: readonly FleetHost[], input: ServerSchedulingConfig): StartCheck {
  // Stored configurations are checked (and normalized) again: a plan must never rest on a minimum CodeDeploy
  // would refuse. Predefined ones may use MOST_CONCURRENCY.
  const config = serverSchedulingConfig(input, { allowMostConcurrency: true });
  const ids = new Set<string>();
  for (const h of fleet) {
    if (!h.id || ids.has(h.id)) throw new InternalError(`host id ${JSON.stringify(h.id)} is empty or repeated`);
    ids.add(h.id);
  }
  const n = fleet.length;
  if (n === 0) return { ok: false, code: 'NO_INSTANCES', message: 'The deployment group has no hosts to deploy to.' };
  const min = minimumHealthyHostCount(config.minimumHealthyHosts, n);
  if (min >= n) {
    return {
      ok: false,
      code: 'HEALTH_CONSTRAINTS_INVALID',
      message:
        `The deployment needs at least ${plural(min, 'healthy host')} ` +
        `(minimum healthy hosts ${describeMinimum(config.minimumHealthyHosts, n)}) and the deployment group has ` +
        `${plural(n, 'host')}: no host can be taken offline to be deployed. Lower the minimum or add hosts.`,
    };
  }
  const hosts: PlannedHost[] = [];
  const waves: PlannedWave[] = [];
  const add = (group: readonly FleetHost[], wave: Omit<PlannedWave, 'index' | 'hostIds' | 'targetHosts'>) => {
    const index = waves.length;
    for (const h of group) {
      const { id, availabilityZone, instanceHealth, revisionHealth } = h;
      hosts.push({
        id,
        ...(availabilityZone ? { availabilityZone } : {}),
        instanceHealth,
        revisionHealth,
        wave: index,
      });
    }
    waves.push({ index, hostIds: group.map((h) => h.id), targetHosts: hosts.length, ...wave });
  };
  const ordered = deploymentOrder(fleet);
  if (config.zonalConfig) {
    const zonal = config.zonalConfig;
    const perZone = zonal.minimumHealthyHostsPerZone ?? { type: 'FLEET_PERCENT', value: 0 };
    const zoneOf = (h: FleetHost) => (h.availabilityZone ? h.availabilityZone : null);
    const groups = [...new Set(ordered.map(zoneOf))].map((name) => {
      const group = ordered.filter((h) => zoneOf(h) === name);
      const unhealthy = group.filter((h) => h.instanceHealth === 'Unhealthy').length;
      return { name, group, unhealthy, allUnhealthy: unhealthy === group.length ? 0 : 1 };
    });
    // CodeDeploy documents no zone order. Its host order (Unhealthy first) carries over: zones of Unhealthy
    // hosts only, then zones with more Unhealthy hosts, since deploying those raises the healthy count that
    // the Healthy hosts of later zones need. Then name order (us-east-1a first), hosts without a zone last:
    // a healthy fleet gets a predictable first zone, the one with its own monitor duration.
    groups.sort(
      (a, b) =>
        a.allUnhealthy - b.allUnhealthy ||
        b.unhealthy - a.unhealthy ||
        (a.name === b.name ? 0 : a.name === null ? 1 : b.name === null ? -1 : a.name < b.name ? -1 : 1),
    );
    for (const [i, { name, group }] of groups.entries()) {
      const zoneMin = minimumHealthyHostCount(perZone, group.length);
      if (zoneMin >= group.length) {
        return {
          ok: false,
          code: 'HEALTH_CONSTRAINTS_INVALID',
          message:
            `Zone ${name ?? '(no Availability Zone)'} needs at least ${plural(zoneMin, 'healthy host')} ` +
            `(minimum healthy hosts per zone ${describeMinimum(perZone, group.length)}) and has ` +
            `${plural(group.length, 'host')}: none of them can be taken offline to be deployed.`,
        };
      }
      const monitor = zonal.monitorDurationInSeconds ?? 0;
      const bake = i === 0 ? (zonal.firstZoneMonitorDurationInSeconds ?? monitor) : monitor;
      add(group, {
        bakeSeconds: i === groups.length - 1 ? 0 : bake,
        zone: { name, minimumHealthyHosts: zoneMin, maxInProgress: group.length - zoneMin },
      });
    }
  } else if (config.waves) {
    let from = 0;
    const resolved = resolveWaves(config.waves, n);
    for (const [i, w] of resolved.entries()) {
      const lastWave = i === resolved.length - 1;
      const wave: Omit<PlannedWave, 'index' | 'hostIds' | 'targetHosts'> = {
        bakeSeconds: lastWave ? 0 : w.bakeSeconds,
      };
      if (!lastWave && w.approvalTimeoutSeconds !== undefined) wave.approvalTimeoutSeconds = w.approvalTimeoutSeconds;
      add(ordered.slice(from, w.target), wave);
      from = w.target;
    }
  } else {
    add(ordered, { bakeSeconds: 0 });
  }
  const plan: FleetPlan = {
    fleetSize: n,
    minimumHealthyHosts: min,
    maxInProgress: n - min,
    requiredSuccesses: Math.max(1, min),
    hosts,
    waves,
  };
  // Only zones can make this happen: Healthy hosts of an early zone that cannot go offline until the
  // Unhealthy hosts of later zones are repaired. Without zones, Unhealthy hosts all go first.
  const blocked = blockedBy(
    plan,
    hosts.map(() => 'Pending'),
  );
  if (blocked) {
    return {
      ok: false,
      code: 'HEALTH_CONSTRAINTS_INVALID',
      message:
        `The deployment cannot finish even if every host succeeds, because zones are deployed one at a time: ` +
        `${blocked} Lower the minimum, or repair the Unhealthy hosts first.`,
    };
  }
  return { ok: true, plan };
}

/** True when a host counts as healthy now (Healthy and untouched or skipped, or succeeded). */
const healthyNow = (h: FleetHost, s: HostStatus) =>
  s === 'Succeeded' || ((s === 'Pending' || s === 'Skipped') && h.instanceHealth === 'Healthy');
const isDone = (s: HostStatus) => s !== 'Pending' && s !== 'InProgress';
const isFailed = (s: HostStatus) => s === 'Failed' || s === 'Unknown';

function statusesOf(state: SchedulerState): HostStatus[] {
  const { plan, progress, currentWave } = state;
  if (!Number.isInteger(currentWave) || currentWave < 0 || currentWave >= plan.waves.length) {
    throw new InternalError(`wave ${currentWave} is not a wave of this plan (0 to ${plan.waves.length - 1})`);
  }
  const known = new Set(plan.hosts.map((h) => h.id));
  for (const id of Object.keys(progress)) {
    if (!known.has(id)) throw new InternalError(`host ${id} has a status but is not in the plan`);
  }
  return plan.hosts.map((h) => progress[h.id] ?? 'Pending');
}

/**
 * Returns how many hosts are in each status and how many are healthy now. Never throws for a plan's own
 * hosts.
 *
 * @throws InternalError when the progress names a host the plan does not have
 */
export function summarize(plan: FleetPlan, progress: Readonly<Record<string, HostStatus>>): ProgressSummary {
  const statuses = statusesOf({ plan, progress, currentWave: 0 });
  const count = (p: (s: HostStatus) => boolean) => statuses.filter(p).length;
  return {
    pending: count((s) => s === 'Pending'),
    inProgress: count((s) => s === 'InProgress'),
    succeeded: count((s) => s === 'Succeeded'),
    failed: count(isFailed),
    skipped: count((s) => s === 'Skipped'),
    healthy: plan.hosts.filter((h, i) => healthyNow(h, statuses[i]!)).length,
  };
}

/**
 * Why the hosts left cannot all be deployed even if every host in progress, and every one started from now
 * on, succeeds; undefined when they can. Walks the waves in order: a wave's Unhealthy hosts go first and can
 * only add healthy hosts; its Healthy hosts then need one healthy host to spare above the minimum (the
 * wave's zone minimum too), and come back healthy. Linear in the fleet size.
 */
function blockedBy(plan: FleetPlan, statuses: readonly HostStatus[]): string | undefined {
  const perWave = plan.waves.map(() => ({ up: 0, unhealthyPending: 0, healthyPending: 0 }));
  let up = 0;
  plan.hosts.forEach((h, i) => {
    const s = statuses[i]!;
    const w = perWave[h.wave]!;
    if (s === 'Pending') {
      if (h.instanceHealth === 'Unhealthy') w.unhealthyPending++;
      else w.healthyPending++;
    }
    if (healthyNow(h, s) || s === 'InProgress') {
      up++;
      w.up++;
    }
  });
  for (const [index, w] of perWave.entries()) {
    up += w.unhealthyPending;
    if (w.healthyPending === 0) continue;
    const zone = plan.waves[index]!.zone;
    const where = zone ? ` by the end of zone ${zone.name ?? '(no Availability Zone)'}` : '';
    if (up - 1 < plan.minimumHealthyHosts) {
      return (
        `at most ${plural(up, 'host')} can be healthy${where}, and deploying to ` +
        `${plural(w.healthyPending, 'healthy host')} there would take the healthy count below the minimum of ` +
        `${plan.minimumHealthyHosts}.`
      );
    }
    if (zone && w.up + w.unhealthyPending - 1 < zone.minimumHealthyHosts) {
      return (
        `in zone ${zone.name ?? '(no Availability Zone)'} at most ${plural(w.up + w.unhealthyPending, 'host')} ` +
        `can be healthy, and deploying to its ${plural(w.healthyPending, 'healthy host')} left would take it ` +
        `below its minimum of ${zone.minimumHealthyHosts}.`
      );
    }
  }
  return undefined;
}

/**
 * Decide what to do next: start hosts (as many as the minimum, the concurrency limit, the current wave and the
 * zone allow, in deployment order), wait for hosts in progress, report the current wave complete (bake and
 * approval next), or end the deployment (succeeded, or failed with HEALTH_CONSTRAINTS and the reason).
 * Same state, same decision.
 *
 * @throws InternalError when `currentWave` is not a wave of the plan or the progress names an unknown host
 */
export function nextHosts(state: SchedulerState): Decision {
  const { plan, currentWave } = state;
  const statuses = statusesOf(state);
  const count = (p: (s: HostStatus) => boolean) => statuses.filter(p).length;
  const pending = count((s) => s === 'Pending');
  const succeeded = count((s) => s === 'Succeeded');
  const failedCount = count(isFailed);
  const inProgress = plan.hosts.filter((_, i) => statuses[i] === 'InProgress').map((h) => h.id);
  const failed = (message: string): Decision => ({ kind: 'failed', code: 'HEALTH_CONSTRAINTS', message, inProgress });

  if (pending === 0 && inProgress.length === 0) {
    if (succeeded >= plan.requiredSuccesses) {
      return { kind: 'succeeded', succeeded, failed: failedCount, skipped: count((s) => s === 'Skipped') };
    }
    return failed(
      succeeded === 0
        ? `No host succeeded (${failedCount} of ${plural(plan.fleetSize, 'host')} failed); at least one must.`
        : `${succeeded} of ${plural(plan.fleetSize, 'host')} succeeded; ` +
            `the deployment needs ${plan.requiredSuccesses}.`,
    );
  }
  if (succeeded + inProgress.length + pending < plan.requiredSuccesses) {
    return failed(
      `${failedCount} of ${plural(plan.fleetSize, 'host')} failed: ` +
        `at most ${succeeded + inProgress.length + pending} can succeed, and the deployment needs ` +
        `${plan.requiredSuccesses}.`,
    );
  }
  const blocked = blockedBy(plan, statuses);
  if (blocked) return failed(`${failedCount} of ${plural(plan.fleetSize, 'host')} failed: ${blocked}`);

  const wave = plan.waves[currentWave]!;
  if (plan.hosts.every((h, i) => h.wave > currentWave || isDone(statuses[i]!))) {
    return {
      kind: 'waveComplete',
      wave: currentWave,
      bakeSeconds: wave.bakeSeconds,
      ...(wave.approvalTimeoutSeconds === undefined ? {} : { approvalTimeoutSeconds: wave.approvalTimeoutSeconds }),
      nextWave: currentWave + 1,
    };
  }

  let healthy = 0;
  let running = inProgress.length;
  const zoneHealthy = plan.waves.map(() => 0);
  const zoneRunning = plan.waves.map(() => 0);
  plan.hosts.forEach((h, i) => {
    const s = statuses[i]!;
    if (healthyNow(h, s)) {
      healthy++;
      zoneHealthy[h.wave]!++;
    }
    if (s === 'InProgress') zoneRunning[h.wave]!++;
  });
  const start: string[] = [];
  for (const [i, h] of plan.hosts.entries()) {
    if (running >= plan.maxInProgress) break;
    if (h.wave > currentWave || statuses[i] !== 'Pending') continue;
    const zone = plan.waves[h.wave]!.zone;
    if (zone && zoneRunning[h.wave]! >= zone.maxInProgress) continue;
    if (h.instanceHealth === 'Healthy') {
      // Taking a healthy host offline must leave the minimum standing (and the zone's minimum).
      if (healthy - 1 < plan.minimumHealthyHosts) continue;
      if (zone && zoneHealthy[h.wave]! - 1 < zone.minimumHealthyHosts) continue;
      healthy--;
      zoneHealthy[h.wave]!--;
    }
    running++;
    zoneRunning[h.wave]!++;
    start.push(h.id);
  }
  if (start.length) return { kind: 'start', wave: currentWave, hostIds: start };
  if (inProgress.length) return { kind: 'waiting', wave: currentWave, inProgress };
  // Unreachable: with nothing in progress, blockedBy's walk is exactly this selection. Fail rather than hang.
  return failed(`No host can be started without the healthy count falling below ${plan.minimumHealthyHosts}.`);
}

/**
 * Returns each host's instance and revision health after the deployment ended, by CodeDeploy's rules.
 * Succeeded: hosts that succeeded become Healthy and Current; the others become Unhealthy, and Current ones
 * Unknown (Old and Unknown stay). Failed or Stopped: hosts deployed to (not Pending or Skipped) become Healthy
 * or Unhealthy by their result, the others keep theirs, and revision health does not change (the group keeps
 * its revision; the docs say nothing more). Never throws for a plan's own hosts.
 *
 * @throws InternalError when the progress names a host the plan does not have
 */
export function healthAfterDeployment(
  plan: FleetPlan,
  progress: Readonly<Record<string, HostStatus>>,
  outcome: 'Succeeded' | 'Failed' | 'Stopped',
): Record<string, { instanceHealth: InstanceHealth; revisionHealth: RevisionHealth }> {
  const statuses = statusesOf({ plan, progress, currentWave: 0 });
  const result: Record<string, { instanceHealth: InstanceHealth; revisionHealth: RevisionHealth }> = {};
  plan.hosts.forEach((h, i) => {
    const ok = statuses[i] === 'Succeeded';
    if (outcome === 'Succeeded') {
      result[h.id] = {
        instanceHealth: ok ? 'Healthy' : 'Unhealthy',
        revisionHealth: ok ? 'Current' : h.revisionHealth === 'Current' ? 'Unknown' : h.revisionHealth,
      };
    } else {
      const attempted = statuses[i] !== 'Pending' && statuses[i] !== 'Skipped';
      result[h.id] = {
        instanceHealth: attempted ? (ok ? 'Healthy' : 'Unhealthy') : h.instanceHealth,
        revisionHealth: h.revisionHealth,
      };
    }
  });
  return result;
}

/**
 * Returns the plan's waves as the engine's generic steps: a `shift` per wave whose weight is the percentage of
 * hosts started once it is done, then an `approve` step where the wave has one. Lets the engine reuse its step
 * machinery (bakes, approvals by step index, `describePlan`). Never throws.
 */
export function toStepPlan(plan: FleetPlan): Plan {
  const steps: Step[] = [];
  for (const w of plan.waves) {
    const weight = w === plan.waves.at(-1) ? 100 : (w.targetHosts * 100) / plan.fleetSize;
    steps.push({ kind: 'shift', weight, bakeSeconds: w.bakeSeconds });
    if (w.approvalTimeoutSeconds !== undefined) {
      steps.push({ kind: 'approve', weight, bakeSeconds: 0, timeoutSeconds: w.approvalTimeoutSeconds });
    }
  }
  return { steps, totalBakeSeconds: steps.reduce((t, s) => t + s.bakeSeconds, 0) };
}
