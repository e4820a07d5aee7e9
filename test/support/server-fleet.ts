/** Test helpers for Server scheduling: fleets, and a driver that plays a deployment through the scheduler. */
import type { ServerSchedulingConfig } from '../../src/platforms/server/deployment-config.js';
import {
  nextHosts,
  planDeployment,
  type Decision,
  type FleetHost,
  type FleetPlan,
  type HostStatus,
} from '../../src/platforms/server/scheduling.js';

/** `n` Healthy, Current hosts named i-01, i-02, … (so id order is deployment order). */
export function fleetOf(n: number, patch: (i: number) => Partial<FleetHost> = () => ({})): FleetHost[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `i-${String(i + 1).padStart(2, '0')}`,
    instanceHealth: 'Healthy' as const,
    revisionHealth: 'Current' as const,
    ...patch(i),
  }));
}

/** Returns the plan of a deployment that passes the start check; fails the test otherwise. */
export function planOf(fleet: readonly FleetHost[], config: ServerSchedulingConfig): FleetPlan {
  const start = planDeployment(fleet, config);
  if (!start.ok) throw new Error(`start check failed: ${start.code}: ${start.message}`);
  return start.plan;
}

export interface Run {
  plan: FleetPlan;
  /** Hosts of each `start` decision, in order. */
  batches: string[][];
  /** Waves reported complete, with their bake and approval. */
  waves: Extract<Decision, { kind: 'waveComplete' }>[];
  final: Extract<Decision, { kind: 'succeeded' | 'failed' }>;
  progress: Record<string, HostStatus>;
  /** Calls to nextHosts until the end. */
  calls: number;
}

/**
 * Play a deployment: start what the scheduler says, then end the hosts in progress (all of them at once, or
 * one at a time, first started first) with `outcome(id)`, move on after each completed wave, until the end.
 */
export function play(
  plan: FleetPlan,
  outcome: (id: string) => 'Succeeded' | 'Failed' | 'Unknown' = () => 'Succeeded',
  { complete = 'all' as 'all' | 'one' } = {},
): Run {
  const progress: Record<string, HostStatus> = {};
  const batches: string[][] = [];
  const waves: Run['waves'] = [];
  const running: string[] = [];
  let currentWave = 0;
  for (let calls = 1; calls < 10 * plan.fleetSize + 10 * plan.waves.length + 10; calls++) {
    const d = nextHosts({ plan, progress, currentWave });
    switch (d.kind) {
      case 'start':
        batches.push(d.hostIds);
        for (const id of d.hostIds) progress[id] = 'InProgress';
        running.push(...d.hostIds);
        break;
      case 'waiting':
        for (const id of running.splice(0, complete === 'all' ? running.length : 1)) progress[id] = outcome(id);
        break;
      case 'waveComplete':
        waves.push(d);
        currentWave = d.nextWave;
        break;
      case 'succeeded':
      case 'failed':
        return { plan, batches, waves, final: d, progress, calls };
    }
  }
  throw new Error('the deployment did not end');
}

/** Hosts that fail: every id in `ids`. */
export const failing =
  (...ids: string[]) =>
  (id: string): 'Succeeded' | 'Failed' =>
    ids.includes(id) ? 'Failed' : 'Succeeded';
