/**
 * Property tests of the Server scheduler over random fleets, configurations, outcomes and completion orders:
 * the minimum, the concurrency limit, waves and zones are never overstepped; every run ends; a run where every
 * host succeeds succeeds; and the deployment fails exactly when, even if every host left succeeded, it could
 * not finish (checked against a brute-force simulation written independently of the scheduler).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServerSchedulingConfig, WaveEntry } from '../../src/platforms/server/deployment-config.js';
import {
  minimumHealthyHostCount,
  nextHosts,
  planDeployment,
  type FleetHost,
  type FleetPlan,
  type HostStatus,
} from '../../src/platforms/server/scheduling.js';

interface TestHost extends FleetHost {
  /** What deploying to it ends with. */
  outcome: 'Succeeded' | 'Failed' | 'Unknown';
}

const host = fc.record({
  instanceHealth: fc.constantFrom('Healthy' as const, 'Unhealthy' as const),
  revisionHealth: fc.constantFrom('Current' as const, 'Old' as const, 'Unknown' as const),
  zone: fc.constantFrom('us-east-1a', 'us-east-1b', 'us-east-1c', undefined),
  outcome: fc.constantFrom(...(['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Failed', 'Unknown'] as const)),
});
const fleet = fc.array(host, { minLength: 1, maxLength: 24 }).map((hosts) =>
  hosts.map(({ zone, ...h }, i): TestHost => ({
    id: `h-${String(i).padStart(2, '0')}`,
    ...(zone ? { availabilityZone: zone } : {}),
    ...h,
  })),
);

const minimum = fc.oneof(
  fc.constant({ type: 'MOST_CONCURRENCY' as const, value: 1 }),
  fc.integer({ min: 0, max: 26 }).map((value) => ({ type: 'HOST_COUNT' as const, value })),
  fc.integer({ min: 0, max: 99 }).map((value) => ({ type: 'FLEET_PERCENT' as const, value })),
);
const perZone = fc.oneof(
  fc.integer({ min: 0, max: 3 }).map((value) => ({ type: 'HOST_COUNT' as const, value })),
  fc.integer({ min: 0, max: 99 }).map((value) => ({ type: 'FLEET_PERCENT' as const, value })),
);
const zonal = fc.record(
  {
    firstZoneMonitorDurationInSeconds: fc.integer({ min: 0, max: 3600 }),
    monitorDurationInSeconds: fc.integer({ min: 0, max: 3600 }),
    minimumHealthyHostsPerZone: perZone,
  },
  { requiredKeys: [] },
);
/** Valid waves: increasing host counts, then increasing percentages, approvals after some, then 100%. */
const waves: fc.Arbitrary<WaveEntry[]> = fc
  .record({
    hosts: fc.uniqueArray(fc.integer({ min: 1, max: 30 }), { maxLength: 3 }),
    hundredths: fc.uniqueArray(fc.integer({ min: 1, max: 9999 }), { maxLength: 4 }),
    bakes: fc.array(fc.integer({ min: 0, max: 600 }), { minLength: 7, maxLength: 7 }),
    approvals: fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
  })
  .map(({ hosts, hundredths, bakes, approvals }) => {
    const targets: WaveEntry[] = [
      ...[...hosts].sort((a, b) => a - b).map((h, i) => ({ hosts: h, bakeSeconds: bakes[i]! })),
      ...[...hundredths]
        .sort((a, b) => a - b)
        .map((h, i) => ({ percentage: h / 100, bakeSeconds: bakes[hosts.length + i]! })),
    ];
    return [
      ...targets.flatMap((t, i): WaveEntry[] => (approvals[i] ? [t, { approve: true, timeoutSeconds: 600 + i }] : [t])),
      { percentage: 100, bakeSeconds: 0 },
    ];
  });
const config: fc.Arbitrary<ServerSchedulingConfig> = fc.oneof(
  minimum.map((minimumHealthyHosts) => ({ minimumHealthyHosts })),
  fc.tuple(minimum, zonal).map(([minimumHealthyHosts, zonalConfig]) => ({ minimumHealthyHosts, zonalConfig })),
  fc.tuple(minimum, waves).map(([minimumHealthyHosts, w]) => ({ minimumHealthyHosts, waves: w })),
);
/** Which host in progress ends next (index into the hosts in progress), or -1: all of them at once. */
const completions = fc.array(fc.integer({ min: -1, max: 30 }), { minLength: 1, maxLength: 60 });

const healthy = (h: FleetHost, s: HostStatus) =>
  s === 'Succeeded' || ((s === 'Pending' || s === 'Skipped') && h.instanceHealth === 'Healthy');
const statusOf = (progress: Record<string, HostStatus>, id: string): HostStatus => progress[id] ?? 'Pending';

/**
 * Could the deployment still succeed if every host in progress and every host started from now on succeeded?
 * A deliberately naive simulation: whole batches, by the documented rules, one wave after another.
 */
function canStillSucceed(plan: FleetPlan, start: Record<string, HostStatus>): boolean {
  const progress = { ...start };
  for (let round = 0; round <= plan.fleetSize + 1; round++) {
    for (const h of plan.hosts) if (statusOf(progress, h.id) === 'InProgress') progress[h.id] = 'Succeeded';
    const pending = plan.hosts.filter((h) => statusOf(progress, h.id) === 'Pending');
    if (pending.length === 0) {
      return plan.hosts.filter((h) => progress[h.id] === 'Succeeded').length >= plan.requiredSuccesses;
    }
    const wave = pending[0]!.wave;
    const zone = plan.waves[wave]!.zone;
    let up = plan.hosts.filter((h) => healthy(h, statusOf(progress, h.id))).length;
    let zoneUp = plan.hosts.filter((h) => h.wave === wave && healthy(h, statusOf(progress, h.id))).length;
    let started = 0;
    for (const h of pending.filter((p) => p.wave === wave)) {
      if (started === plan.maxInProgress || (zone && started === zone.maxInProgress)) break;
      if (h.instanceHealth === 'Healthy') {
        if (up - 1 < plan.minimumHealthyHosts || (zone && zoneUp - 1 < zone.minimumHealthyHosts)) continue;
        up--;
        zoneUp--;
      }
      progress[h.id] = 'InProgress';
      started++;
    }
    if (started === 0) return false;
  }
  throw new Error('simulation did not end');
}

describe('Server scheduling properties', () => {
  it('never oversteps the minimum, the concurrency limit, a wave or a zone; ends; fails exactly when it must', () => {
    fc.assert(
      fc.property(fleet, config, completions, (hosts, cfg, order) => {
        const start = planDeployment(hosts, cfg);
        const n = hosts.length;
        const min = minimumHealthyHostCount(cfg.minimumHealthyHosts, n);
        if (!start.ok) {
          expect(start.code).toBe('HEALTH_CONSTRAINTS_INVALID');
          expect(min >= n || cfg.zonalConfig !== undefined).toBe(true);
          return;
        }
        expect(min).toBeLessThan(n);
        const { plan } = start;
        const outcome = new Map(hosts.map((h) => [h.id, h.outcome]));
        const progress: Record<string, HostStatus> = {};
        const running: string[] = [];
        let currentWave = 0;
        let calls = 0;
        const bound = 3 * n + 2 * plan.waves.length + 2;
        for (;;) {
          expect(++calls).toBeLessThanOrEqual(bound);
          const d = nextHosts({ plan, progress, currentWave });
          if (d.kind === 'succeeded' || d.kind === 'failed') {
            const left = plan.hosts.some((h) => ['Pending', 'InProgress'].includes(statusOf(progress, h.id)));
            const succeeded = plan.hosts.filter((h) => progress[h.id] === 'Succeeded').length;
            if (d.kind === 'succeeded') {
              expect(left).toBe(false);
              expect(succeeded).toBeGreaterThanOrEqual(Math.max(1, min));
              expect(d.succeeded).toBe(succeeded);
            } else {
              expect(d.code).toBe('HEALTH_CONSTRAINTS');
              expect(canStillSucceed(plan, progress)).toBe(false);
            }
            if (hosts.every((h) => h.outcome === 'Succeeded')) {
              expect(d.kind).toBe('succeeded');
              expect(succeeded).toBe(n);
            }
            return;
          }
          // Whatever the scheduler goes on with must still be able to succeed.
          expect(canStillSucceed(plan, progress)).toBe(true);
          if (d.kind === 'waveComplete') {
            expect(d.wave).toBe(currentWave);
            expect(d.nextWave).toBe(currentWave + 1);
            expect(d.nextWave).toBeLessThan(plan.waves.length);
            for (const h of plan.hosts) {
              if (h.wave <= currentWave) expect(['Pending', 'InProgress']).not.toContain(statusOf(progress, h.id));
            }
            currentWave = d.nextWave;
            continue;
          }
          if (d.kind === 'waiting') {
            expect(running.length).toBeGreaterThan(0);
            const pick = order[calls % order.length]!;
            const ending = pick < 0 ? running.splice(0) : running.splice(pick % running.length, 1);
            for (const id of ending) progress[id] = outcome.get(id)!;
            continue;
          }
          // start
          expect(d.hostIds.length).toBeGreaterThan(0);
          expect(new Set(d.hostIds).size).toBe(d.hostIds.length);
          const before = plan.hosts.filter((h) => healthy(h, statusOf(progress, h.id))).length;
          const byId = new Map(plan.hosts.map((h) => [h.id, h]));
          for (const id of d.hostIds) {
            const h = byId.get(id)!;
            expect(statusOf(progress, id)).toBe('Pending');
            expect(h.wave).toBeLessThanOrEqual(currentWave);
            // Waves and zones are consecutive: everything of the earlier ones is done.
            for (const e of plan.hosts) {
              if (e.wave < h.wave) expect(['Pending', 'InProgress']).not.toContain(statusOf(progress, e.id));
            }
            progress[id] = 'InProgress';
          }
          running.push(...d.hostIds);
          const after = plan.hosts.filter((h) => healthy(h, statusOf(progress, h.id))).length;
          const tookHealthy = d.hostIds.some((id) => byId.get(id)!.instanceHealth === 'Healthy');
          if (tookHealthy) expect(after).toBeGreaterThanOrEqual(min);
          expect(after).toBeGreaterThanOrEqual(Math.min(before, min));
          expect(running.length).toBeLessThanOrEqual(n - min);
          const touched = plan.hosts.filter((h) => statusOf(progress, h.id) !== 'Pending').length;
          expect(touched).toBeLessThanOrEqual(plan.waves[currentWave]!.targetHosts);
          const zone = plan.waves[currentWave]!.zone;
          if (zone) {
            const inZone = plan.hosts.filter((h) => h.wave === currentWave);
            const zoneRunning = inZone.filter((h) => progress[h.id] === 'InProgress').length;
            const zoneHealthy = inZone.filter((h) => healthy(h, statusOf(progress, h.id))).length;
            expect(zoneRunning).toBeLessThanOrEqual(zone.maxInProgress);
            const zoneTookHealthy = d.hostIds.some(
              (id) => byId.get(id)!.wave === currentWave && byId.get(id)!.instanceHealth === 'Healthy',
            );
            if (zoneTookHealthy) expect(zoneHealthy).toBeGreaterThanOrEqual(zone.minimumHealthyHosts);
          }
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('the start check fails exactly when the minimum is the fleet size or more', () => {
    fc.assert(
      fc.property(fleet, minimum, (hosts, minimumHealthyHosts) => {
        const start = planDeployment(hosts, { minimumHealthyHosts });
        expect(start.ok).toBe(minimumHealthyHostCount(minimumHealthyHosts, hosts.length) < hosts.length);
      }),
      { numRuns: 500 },
    );
  });

  it('the plan is the same however the fleet is listed, and every host is in exactly one wave, in order', () => {
    fc.assert(
      fc.property(fleet, config, fc.infiniteStream(fc.nat()), (hosts, cfg, noise) => {
        const shuffled = hosts
          .map((h) => ({ h, k: noise.next().value }))
          .sort((a, b) => a.k - b.k)
          .map(({ h }) => h);
        const a = planDeployment(hosts, cfg);
        expect(planDeployment(shuffled, cfg)).toEqual(a);
        if (!a.ok) return;
        expect(a.plan.waves.flatMap((w) => w.hostIds)).toEqual(a.plan.hosts.map((h) => h.id));
        expect(new Set(a.plan.hosts.map((h) => h.id)).size).toBe(hosts.length);
        expect(a.plan.waves.at(-1)!.targetHosts).toBe(hosts.length);
        a.plan.waves.forEach((w, i) => {
          expect(w.index).toBe(i);
          expect(w.hostIds.length).toBeGreaterThan(0);
          if (i === a.plan.waves.length - 1) expect([w.bakeSeconds, w.approvalTimeoutSeconds]).toEqual([0, undefined]);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('new hosts (all Unhealthy, no waves or zones) succeed exactly when enough of them succeed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }),
        minimum,
        fc.integer({ min: -1, max: 5 }),
        (oks, minimumHealthyHosts, pick) => {
          const hosts = oks.map((_, i): FleetHost => ({
            id: `n-${String(i).padStart(2, '0')}`,
            instanceHealth: 'Unhealthy',
            revisionHealth: 'Unknown',
          }));
          const start = planDeployment(hosts, { minimumHealthyHosts });
          if (!start.ok) return;
          const progress: Record<string, HostStatus> = {};
          const running: string[] = [];
          for (;;) {
            const d = nextHosts({ plan: start.plan, progress, currentWave: 0 });
            if (d.kind === 'start') {
              for (const id of d.hostIds) progress[id] = 'InProgress';
              running.push(...d.hostIds);
            } else if (d.kind === 'waiting') {
              for (const id of pick < 0 ? running.splice(0) : running.splice(pick % running.length, 1)) {
                progress[id] = oks[Number(id.slice(2))] ? 'Succeeded' : 'Failed';
              }
            } else {
              expect(d.kind).toBe(oks.filter(Boolean).length >= start.plan.requiredSuccesses ? 'succeeded' : 'failed');
              return;
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
