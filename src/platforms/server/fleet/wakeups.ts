/**
 * How often an in-place deployment's execution runs, as a pure function of the fleet and its configuration,
 * for benches (bench/transitions.ts) and for the ADR's figures. Hosts' events never cost a state transition:
 * completions move hosts on without Step Functions; the execution runs only
 *
 * - when a wave is released (ShiftTraffic applies it; its `settle` wait is parked),
 * - when a completion ends a wave or the deployment (the completion wakes the wait),
 * - when the wait times out at the earliest deadline: while hosts hold commands, the liveness deadline comes
 *   around every `livenessSeconds` (default 60), which is how a dead host is found within about a minute.
 *
 * So the count grows with waves and with the deployment's duration (one round a minute while hosts run), not
 * with hosts × events. Assumes every host succeeds and takes `hostSeconds` from its first event to its last.
 */
import type { ServerSchedulingConfig } from '../deployment-config.js';
import { nextHosts, planDeployment, type FleetHost, type HostStatus } from '../scheduling.js';
import { DEFAULT_LIVENESS_SECONDS, INSTALL_EVENTS } from './lifecycle.js';

export interface FleetTiming {
  /** Seconds from a host's first event queued to its last event done. */
  hostSeconds: number;
  /** The liveness window (how often the execution looks while hosts run). Default 60. */
  livenessSeconds?: number;
  /** Events per host (7 in place without traffic control): only for `perEventTransitions`. */
  eventsPerHost?: number;
}

export interface FleetRounds {
  hosts: number;
  waves: number;
  /** The execution woken by a completion: at each wave's end (the last one is the deployment's). */
  wakeups: number;
  /** The execution's wait timed out at a liveness deadline while hosts ran. */
  timeouts: number;
  /** ShiftTraffic runs for the fleet: one per wave released, one per wake-up or time-out. */
  shiftTrafficRuns: number;
  /**
   * States entered by the traffic loop (what Standard workflows bill): ShiftTraffic and Route for each run,
   * AwaitTraffic for each wait, Bake / AwaitApproval between waves. Prepare, Finalize and the rest are the
   * same for every deployment and not counted.
   */
  transitions: number;
  /** Seconds from the first wave's release to the last host's end, without bakes and approvals. */
  seconds: number;
  /** For comparison: the same deployment if every host event were a round trip through the state machine. */
  perEventTransitions: number;
}

/**
 * Count the execution's rounds for `hostCount` healthy hosts under `config`. Returns zeros when the start
 * check fails (no hosts, or a minimum the fleet cannot keep).
 * @throws InvalidInputError when the configuration is invalid
 */
export function fleetRounds(hostCount: number, config: ServerSchedulingConfig, timing: FleetTiming): FleetRounds {
  const liveness = timing.livenessSeconds ?? DEFAULT_LIVENESS_SECONDS;
  const fleet: FleetHost[] = Array.from({ length: hostCount }, (_, i) => ({
    id: `i-${String(i).padStart(8, '0')}`,
    instanceHealth: 'Healthy',
    revisionHealth: 'Old',
  }));
  const events = timing.eventsPerHost ?? INSTALL_EVENTS.length;
  const zero: FleetRounds = {
    hosts: hostCount,
    waves: 0,
    wakeups: 0,
    timeouts: 0,
    shiftTrafficRuns: 0,
    transitions: 0,
    seconds: 0,
    perEventTransitions: hostCount * events * 3,
  };
  const start = planDeployment(fleet, config);
  if (!start.ok) return zero;
  const plan = start.plan;
  const progress: Record<string, HostStatus> = {};
  const running = new Map<string, number>();
  let now = 0;
  let wave = 0;
  let waveStart = 0;
  const r = { ...zero, waves: plan.waves.length };
  const wait = () => {
    r.shiftTrafficRuns++;
    r.transitions += 3; // AwaitTraffic, ShiftTraffic, Route
  };
  r.shiftTrafficRuns++;
  r.transitions += 2; // ShiftTraffic applies wave 0, Route
  for (let guard = 0; guard < 10 * hostCount + 10 * plan.waves.length + 10; guard++) {
    const d = nextHosts({ plan, progress, currentWave: wave });
    if (d.kind === 'start') {
      for (const id of d.hostIds) {
        progress[id] = 'InProgress';
        running.set(id, now + timing.hostSeconds);
      }
      continue;
    }
    if (d.kind === 'waiting') {
      const next = Math.min(...running.values());
      for (const [id, end] of running) {
        if (end !== next) continue;
        running.delete(id);
        progress[id] = 'Succeeded';
      }
      now = next;
      continue;
    }
    // A wave ended (or the deployment): the liveness time-outs since the wave began, then the wake-up.
    const timeouts = Math.max(0, Math.ceil((now - waveStart) / liveness) - 1);
    r.timeouts += timeouts;
    for (let i = 0; i < timeouts; i++) wait();
    r.wakeups++;
    wait();
    if (d.kind !== 'waveComplete') break;
    if (d.bakeSeconds > 0) r.transitions += 1; // Bake
    if (d.approvalTimeoutSeconds !== undefined) r.transitions += 1; // AwaitApproval
    wave = d.nextWave;
    waveStart = now;
    r.shiftTrafficRuns++;
    r.transitions += 2; // ShiftTraffic applies the next wave, Route
  }
  return { ...r, seconds: now };
}
