/**
 * Server (EC2/on-premises) in-place scheduling. Every worked example of CodeDeploy's "Instance health" page and
 * the 9-instance examples of the predefined configurations and of MinimumHealthyHosts are tests named after
 * them; then the edge cases, zones, waves, and property tests over random fleets and configurations.
 */
import { describe, expect, it } from 'vitest';
import type { ServerSchedulingConfig } from '../../src/platforms/server/deployment-config.js';
import { PREDEFINED_SERVER_CONFIGS } from '../../src/platforms/server/deployment-config.js';
import {
  deploymentOrder,
  healthAfterDeployment,
  minimumHealthyHostCount,
  nextHosts,
  planDeployment,
  summarize,
  toStepPlan,
  type FleetHost,
} from '../../src/platforms/server/scheduling.js';
import { describePlan } from '../../src/domain/deployment-config.js';
import { InternalError, InvalidInputError } from '../../src/domain/errors.js';
import { failing, fleetOf, planOf, play } from '../support/server-fleet.js';

const hostCount = (value: number): ServerSchedulingConfig => ({ minimumHealthyHosts: { type: 'HOST_COUNT', value } });
const fleetPercent = (value: number): ServerSchedulingConfig => ({
  minimumHealthyHosts: { type: 'FLEET_PERCENT', value },
});
const predefined = (name: string): ServerSchedulingConfig => ({
  minimumHealthyHosts: PREDEFINED_SERVER_CONFIGS[name]!,
});
const ONE_AT_A_TIME = predefined('CodeDeployDefault.OneAtATime');
const HALF_AT_A_TIME = predefined('CodeDeployDefault.HalfAtATime');
const ALL_AT_ONCE = predefined('CodeDeployDefault.AllAtOnce');
const id = (n: number) => `i-${String(n).padStart(2, '0')}`;
const sizes = (batches: string[][]) => batches.map((b) => b.length);
/** A fleet on which nothing was deployed yet: every host Unhealthy with revision Unknown. */
const fresh = (n: number) => fleetOf(n, () => ({ instanceHealth: 'Unhealthy', revisionHealth: 'Unknown' }));

describe('instance health page: minimum healthy instances and deployments', () => {
  it('85% of 10 instances: one failed instance fails the deployment (9 must stay healthy, one is offline)', () => {
    const plan = planOf(fleetOf(10), fleetPercent(85));
    expect(plan.minimumHealthyHosts).toBe(9);
    const run = play(plan, failing(id(3)));
    expect(sizes(run.batches)).toEqual([1, 1, 1]);
    expect(run.final).toMatchObject({ kind: 'failed', code: 'HEALTH_CONSTRAINTS' });
    expect(summarize(plan, run.progress)).toMatchObject({ succeeded: 2, failed: 1, pending: 7, healthy: 9 });
  });

  it('at least one instance must succeed, even when the minimum healthy hosts value is 0', () => {
    const run = play(planOf(fleetOf(3), hostCount(0)), () => 'Failed');
    expect(run.final).toMatchObject({ kind: 'failed', code: 'HEALTH_CONSTRAINTS' });
    expect(run.final.kind === 'failed' && run.final.message).toMatch(/No host succeeded/);
  });

  it('10 instances with a minimum of 9 deploy one at a time; with a minimum of 0, all at the same time', () => {
    expect(sizes(play(planOf(fleetOf(10), hostCount(9))).batches)).toEqual(Array(10).fill(1));
    expect(sizes(play(planOf(fleetOf(10), hostCount(0))).batches)).toEqual([10]);
  });

  it('example "Minimum healthy instances: 95%": rounded up to 10, the deployment fails at once', () => {
    const start = planDeployment(fleetOf(10), fleetPercent(95));
    expect(start).toMatchObject({ ok: false, code: 'HEALTH_CONSTRAINTS_INVALID' });
    expect(!start.ok && start.message).toMatch(
      /at least 10 healthy hosts .*FLEET_PERCENT 95 of 10 hosts.* has 10 hosts/,
    );
  });

  it('example "Minimum healthy instances: 9": one at a time; any failure fails at once, except the last', () => {
    const plan = planOf(fleetOf(10), hostCount(9));
    const all = play(plan);
    expect(sizes(all.batches)).toEqual(Array(10).fill(1));
    expect(all.final).toEqual({ kind: 'succeeded', succeeded: 10, failed: 0, skipped: 0 });
    // "If all 10 deployments succeed, the deployment group now has 10 healthy instances."
    expect(Object.values(healthAfterDeployment(plan, all.progress, 'Succeeded'))).toEqual(
      Array(10).fill({ instanceHealth: 'Healthy', revisionHealth: 'Current' }),
    );
    for (let k = 1; k <= 9; k++) {
      const run = play(plan, failing(id(k)));
      expect(run.batches.flat()).toEqual(Array.from({ length: k }, (_, i) => id(i + 1)));
      expect(run.final).toMatchObject({ kind: 'failed', code: 'HEALTH_CONSTRAINTS', inProgress: [] });
    }
    expect(play(plan, failing(id(10))).final).toEqual({ kind: 'succeeded', succeeded: 9, failed: 1, skipped: 0 });
  });

  it('example "Minimum healthy instances: 8": two at a time; two failures fail it, unless the last is one', () => {
    const plan = planOf(fleetOf(10), hostCount(8));
    expect(sizes(play(plan).batches)).toEqual([2, 2, 2, 2, 2]);
    const bothInOneBatch = play(plan, failing(id(1), id(2)));
    expect(bothInOneBatch.batches).toEqual([[id(1), id(2)]]);
    expect(bothInOneBatch.final).toMatchObject({ kind: 'failed', code: 'HEALTH_CONSTRAINTS' });
    // After one failure 9 hosts are healthy: one host at a time until a second failure.
    const apart = play(plan, failing(id(1), id(5)));
    expect(sizes(apart.batches)).toEqual([2, 1, 1, 1]);
    expect(apart.final).toMatchObject({ kind: 'failed', code: 'HEALTH_CONSTRAINTS' });
    expect(play(plan, failing(id(1), id(10))).final).toEqual({
      kind: 'succeeded',
      succeeded: 8,
      failed: 2,
      skipped: 0,
    });
  });

  it('example "Minimum healthy instances: 0": the whole group at once; one success is enough, none fails it', () => {
    const plan = planOf(fleetOf(10), hostCount(0));
    const ok = play(plan, (h) => (h === id(7) ? 'Succeeded' : 'Failed'));
    expect(sizes(ok.batches)).toEqual([10]);
    expect(ok.final).toEqual({ kind: 'succeeded', succeeded: 1, failed: 9, skipped: 0 });
    expect(play(plan, () => 'Failed').final).toMatchObject({ kind: 'failed', code: 'HEALTH_CONSTRAINTS' });
  });

  it('scheduling order: Unhealthy instances, then revision Unknown, then Old, then Current (then by id)', () => {
    const fleet: FleetHost[] = [
      { id: 'i-c1', instanceHealth: 'Healthy', revisionHealth: 'Current' },
      { id: 'i-o2', instanceHealth: 'Healthy', revisionHealth: 'Old' },
      { id: 'i-u9', instanceHealth: 'Unhealthy', revisionHealth: 'Current' },
      { id: 'i-k1', instanceHealth: 'Healthy', revisionHealth: 'Unknown' },
      { id: 'i-o1', instanceHealth: 'Healthy', revisionHealth: 'Old' },
      { id: 'i-u1', instanceHealth: 'Unhealthy', revisionHealth: 'Old' },
    ];
    const order = ['i-u1', 'i-u9', 'i-k1', 'i-o1', 'i-o2', 'i-c1'];
    expect(deploymentOrder(fleet).map((h) => h.id)).toEqual(order);
    expect(play(planOf(fleet, ONE_AT_A_TIME)).batches.flat()).toEqual(order);
  });

  it('unhealthy instances first; then healthy ones only while the healthy count is above the minimum', () => {
    const fleet = fleetOf(10, (i) => (i >= 8 ? { instanceHealth: 'Unhealthy' } : {}));
    const plan = planOf(fleet, hostCount(8)); // 8 healthy: exactly the minimum
    const run = play(plan);
    expect(run.batches[0]).toEqual([id(9), id(10)]);
    expect(sizes(run.batches)).toEqual([2, 2, 2, 2, 2]);
    // Both unhealthy instances fail: 8 healthy ≤ 8, the deployment is cancelled before any healthy one is touched.
    const cancelled = play(plan, failing(id(9), id(10)));
    expect(cancelled.batches).toEqual([[id(9), id(10)]]);
    expect(cancelled.final).toMatchObject({ kind: 'failed', code: 'HEALTH_CONSTRAINTS' });
    // One of them succeeds: 9 healthy, one above the minimum, the original healthy ones follow one at a time.
    const onward = play(plan, failing(id(10)));
    expect(sizes(onward.batches)).toEqual([2, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(onward.final).toMatchObject({ kind: 'succeeded', succeeded: 9 });
  });

  it('a group starting below its minimum of healthy instances is deployed without lowering that count', () => {
    const fleet = fleetOf(10, (i) => (i < 5 ? { instanceHealth: 'Unhealthy' } : {}));
    const plan = planOf(fleet, hostCount(9)); // 5 healthy, minimum 9
    const progress: Record<string, 'InProgress' | 'Succeeded'> = {};
    let healthy = summarize(plan, progress).healthy;
    for (;;) {
      const d = nextHosts({ plan, progress, currentWave: 0 });
      if (d.kind !== 'start') {
        expect(d.kind === 'waiting' || d.kind === 'succeeded').toBe(true);
        if (d.kind === 'succeeded') break;
        for (const [h, s] of Object.entries(progress)) if (s === 'InProgress') progress[h] = 'Succeeded';
      } else for (const h of d.hostIds) progress[h] = 'InProgress';
      const now = summarize(plan, progress).healthy;
      expect(now).toBeGreaterThanOrEqual(Math.min(healthy, 9));
      healthy = Math.max(healthy, now);
    }
    expect(healthy).toBe(10);
  });

  it('a stopped instance counts as a failed one', () => {
    const plan = planOf(fleetOf(10), hostCount(9));
    expect(play(plan, (h) => (h === id(2) ? 'Unknown' : 'Succeeded')).final).toMatchObject({
      kind: 'failed',
      code: 'HEALTH_CONSTRAINTS',
    });
    const stoppedFromStart = fleetOf(4, (i) => (i === 0 ? { instanceHealth: 'Unhealthy' } : {}));
    const run = play(planOf(stoppedFromStart, ONE_AT_A_TIME), failing(id(1)));
    expect(run.batches).toEqual([[id(1)]]);
    expect(run.final).toMatchObject({ kind: 'failed', code: 'HEALTH_CONSTRAINTS' });
  });

  it('a percentage minimum becomes a host count at the start, rounded up', () => {
    const pct = (value: number) => ({ type: 'FLEET_PERCENT' as const, value });
    expect(minimumHealthyHostCount(pct(85), 10)).toBe(9);
    expect(minimumHealthyHostCount(pct(95), 10)).toBe(10);
    expect(minimumHealthyHostCount(pct(50), 9)).toBe(5);
    expect(minimumHealthyHostCount(pct(40), 9)).toBe(4);
    expect(minimumHealthyHostCount(pct(1), 1)).toBe(1);
    expect(minimumHealthyHostCount(pct(7), 100)).toBe(7); // 0.07 × 100 is 7.000000000000001 in floating point
    expect(minimumHealthyHostCount(pct(29), 100)).toBe(29);
    expect(minimumHealthyHostCount({ type: 'HOST_COUNT', value: 12 }, 10)).toBe(12);
    expect(minimumHealthyHostCount({ type: 'MOST_CONCURRENCY', value: 1 }, 9)).toBe(8);
    expect(minimumHealthyHostCount({ type: 'MOST_CONCURRENCY', value: 1 }, 1)).toBe(0);
    expect(() => minimumHealthyHostCount(pct(1), -1)).toThrow(InternalError);
  });

  it('health after the deployment: success updates every host; failure only the hosts deployed to', () => {
    const fleet: FleetHost[] = [
      { id: 'a', instanceHealth: 'Healthy', revisionHealth: 'Current' },
      { id: 'b', instanceHealth: 'Healthy', revisionHealth: 'Current' },
      { id: 'c', instanceHealth: 'Unhealthy', revisionHealth: 'Old' },
      { id: 'd', instanceHealth: 'Unhealthy', revisionHealth: 'Unknown' },
      { id: 'e', instanceHealth: 'Healthy', revisionHealth: 'Old' },
    ];
    const plan = planOf(fleet, ALL_AT_ONCE);
    const progress = { a: 'Succeeded', b: 'Failed', c: 'Succeeded', d: 'Failed', e: 'Pending' } as const;
    expect(healthAfterDeployment(plan, progress, 'Succeeded')).toEqual({
      a: { instanceHealth: 'Healthy', revisionHealth: 'Current' },
      b: { instanceHealth: 'Unhealthy', revisionHealth: 'Unknown' },
      c: { instanceHealth: 'Healthy', revisionHealth: 'Current' },
      d: { instanceHealth: 'Unhealthy', revisionHealth: 'Unknown' },
      e: { instanceHealth: 'Unhealthy', revisionHealth: 'Old' },
    });
    expect(healthAfterDeployment(plan, progress, 'Stopped')).toEqual({
      a: { instanceHealth: 'Healthy', revisionHealth: 'Current' },
      b: { instanceHealth: 'Unhealthy', revisionHealth: 'Current' },
      c: { instanceHealth: 'Healthy', revisionHealth: 'Old' },
      d: { instanceHealth: 'Unhealthy', revisionHealth: 'Unknown' },
      e: { instanceHealth: 'Healthy', revisionHealth: 'Old' },
    });
  });
});

describe('predefined configurations and MinimumHealthyHosts: the 9-instance examples', () => {
  it('CodeDeployDefault.AllAtOnce: all nine at once; one success is enough; fails only if all nine fail', () => {
    const plan = planOf(fleetOf(9), ALL_AT_ONCE);
    const one = play(plan, (h) => (h === id(4) ? 'Succeeded' : 'Failed'));
    expect(sizes(one.batches)).toEqual([9]);
    expect(one.final).toMatchObject({ kind: 'succeeded', succeeded: 1, failed: 8 });
    expect(play(plan, () => 'Failed').final).toMatchObject({ kind: 'failed', code: 'HEALTH_CONSTRAINTS' });
  });

  it('CodeDeployDefault.HalfAtATime: up to four of nine at a time; succeeds if five or more succeed', () => {
    const plan = planOf(fleetOf(9), HALF_AT_A_TIME);
    expect(plan).toMatchObject({ minimumHealthyHosts: 5, maxInProgress: 4, requiredSuccesses: 5 });
    expect(sizes(play(plan).batches)).toEqual([4, 4, 1]);
    // Three failures in the first batch leave six healthy: one at a time, and five successes are enough.
    const five = play(plan, failing(id(1), id(2), id(3), id(9)));
    expect(five.final).toMatchObject({ kind: 'succeeded', succeeded: 5, failed: 4 });
    // Four failures in the first batch leave five healthy: no host can go offline.
    expect(play(plan, failing(id(1), id(2), id(3), id(4))).final).toMatchObject({ kind: 'failed' });
    // New instances (nothing to keep healthy) are still deployed four at a time, and need five successes.
    const newFleet = planOf(fresh(9), HALF_AT_A_TIME);
    expect(sizes(play(newFleet).batches)).toEqual([4, 4, 1]);
    expect(play(newFleet, failing(id(1), id(2), id(3), id(4))).final).toMatchObject({ kind: 'succeeded' });
    expect(play(newFleet, failing(id(1), id(2), id(3), id(4), id(9))).final).toMatchObject({ kind: 'failed' });
  });

  it('CodeDeployDefault.OneAtATime: one at a time, all but one kept healthy; the last failing still succeeds', () => {
    expect(PREDEFINED_SERVER_CONFIGS['CodeDeployDefault.OneAtATime']).toEqual({ type: 'MOST_CONCURRENCY', value: 1 });
    const plan = planOf(fleetOf(9), ONE_AT_A_TIME);
    expect(plan).toMatchObject({ minimumHealthyHosts: 8, maxInProgress: 1 });
    expect(sizes(play(plan).batches)).toEqual(Array(9).fill(1));
    expect(play(plan, failing(id(9))).final).toMatchObject({ kind: 'succeeded', succeeded: 8 });
    expect(play(plan, failing(id(5))).final).toMatchObject({ kind: 'failed', code: 'HEALTH_CONSTRAINTS' });
  });

  it('CodeDeployDefault.OneAtATime with a single instance: succeeds only if that instance succeeds', () => {
    const plan = planOf(fleetOf(1), ONE_AT_A_TIME);
    expect(plan.minimumHealthyHosts).toBe(0);
    expect(play(plan).final).toMatchObject({ kind: 'succeeded', succeeded: 1 });
    expect(play(plan, () => 'Failed').final).toMatchObject({ kind: 'failed', code: 'HEALTH_CONSTRAINTS' });
  });

  it('HOST_COUNT of six out of nine: up to three at a time; succeeds if six or more succeed', () => {
    const plan = planOf(fleetOf(9), hostCount(6));
    expect(sizes(play(plan).batches)).toEqual([3, 3, 3]);
    expect(play(plan, failing(id(1), id(2), id(9))).final).toMatchObject({ kind: 'succeeded', succeeded: 6 });
    expect(play(plan, failing(id(1), id(2), id(3))).final).toMatchObject({ kind: 'failed' });
    for (let failures = 0; failures <= 9; failures++) {
      const ids = Array.from({ length: failures }, (_, i) => id(9 - i));
      const final = play(planOf(fresh(9), hostCount(6)), failing(...ids)).final;
      expect(final.kind).toBe(9 - failures >= 6 ? 'succeeded' : 'failed');
    }
  });

  it('FLEET_PERCENT of 40 out of nine: up to five at a time; succeeds if four or more succeed', () => {
    const plan = planOf(fleetOf(9), fleetPercent(40));
    expect(plan.minimumHealthyHosts).toBe(4);
    expect(sizes(play(plan).batches)).toEqual([5, 4]);
    expect(play(plan, failing(id(5), id(6), id(7), id(8), id(9))).final).toMatchObject({
      kind: 'succeeded',
      succeeded: 4,
    });
    for (let failures = 0; failures <= 9; failures++) {
      const ids = Array.from({ length: failures }, (_, i) => id(i + 1));
      const final = play(planOf(fresh(9), fleetPercent(40)), failing(...ids)).final;
      expect(final.kind).toBe(9 - failures >= 4 ? 'succeeded' : 'failed');
    }
  });

  it('custom ThreeQuartersHealthy (FLEET_PERCENT 75): 10 hosts keep 8 healthy, two at a time', () => {
    expect(sizes(play(planOf(fleetOf(10), fleetPercent(75))).batches)).toEqual([2, 2, 2, 2, 2]);
  });
});

describe('edge cases', () => {
  it('an empty fleet fails with NO_INSTANCES', () => {
    expect(planDeployment([], ALL_AT_ONCE)).toMatchObject({ ok: false, code: 'NO_INSTANCES' });
  });

  it('one host: AllAtOnce deploys it; HOST_COUNT 1, and HalfAtATime (50% of 1 rounds up to 1), cannot start', () => {
    expect(play(planOf(fleetOf(1), ALL_AT_ONCE)).final).toMatchObject({ kind: 'succeeded', succeeded: 1 });
    expect(planDeployment(fleetOf(1), hostCount(1))).toMatchObject({ ok: false, code: 'HEALTH_CONSTRAINTS_INVALID' });
    const half = planDeployment(fleetOf(1), HALF_AT_A_TIME);
    expect(half).toMatchObject({ ok: false, code: 'HEALTH_CONSTRAINTS_INVALID' });
    expect(!half.ok && half.message).toMatch(
      /at least 1 healthy host \(minimum healthy hosts FLEET_PERCENT 50 of 1 host/,
    );
  });

  it('a minimum above the fleet size cannot start either, and the message names both numbers', () => {
    const start = planDeployment(fleetOf(3), hostCount(5));
    expect(!start.ok && start.message).toMatch(
      /at least 5 healthy hosts \(minimum healthy hosts HOST_COUNT 5\).* 3 hosts/,
    );
  });

  it('every host unhealthy at the start (a first deployment): deployed, in batches the minimum allows', () => {
    expect(sizes(play(planOf(fresh(3), ONE_AT_A_TIME)).batches)).toEqual([1, 1, 1]);
    expect(play(planOf(fresh(3), ONE_AT_A_TIME)).final).toMatchObject({ kind: 'succeeded', succeeded: 3 });
    // Nothing healthy to protect: a failure does not stop it, but two successes out of three are still needed.
    expect(play(planOf(fresh(3), ONE_AT_A_TIME), failing(id(1))).final).toMatchObject({ kind: 'succeeded' });
    const twoFail = play(planOf(fresh(3), ONE_AT_A_TIME), failing(id(1), id(2)));
    expect(twoFail.batches).toEqual([[id(1)], [id(2)]]);
    expect(twoFail.final).toMatchObject({ kind: 'failed' });
    expect(twoFail.final.kind === 'failed' && twoFail.final.message).toMatch(/at most 1 can succeed.* needs 2/);
  });

  it('OneAtATime: the last host failing still succeeds, hosts ending one at a time or not', () => {
    const plan = planOf(fleetOf(5), ONE_AT_A_TIME);
    expect(play(plan, failing(id(5)), { complete: 'one' }).final).toMatchObject({ kind: 'succeeded', succeeded: 4 });
    expect(play(plan, failing(id(4))).final).toMatchObject({ kind: 'failed' });
  });

  it('waits while hosts are in progress and nothing else may start; fails while some are still running', () => {
    const plan = planOf(fleetOf(10), hostCount(5));
    expect(nextHosts({ plan, progress: {}, currentWave: 0 })).toEqual({
      kind: 'start',
      wave: 0,
      hostIds: [1, 2, 3, 4, 5].map(id),
    });
    const running = Object.fromEntries([1, 2, 3, 4, 5].map((n) => [id(n), 'InProgress' as const]));
    expect(nextHosts({ plan, progress: running, currentWave: 0 })).toMatchObject({ kind: 'waiting' });
    const fourFailed = {
      ...running,
      [id(1)]: 'Failed',
      [id(2)]: 'Failed',
      [id(3)]: 'Failed',
      [id(4)]: 'Failed',
    } as const;
    expect(nextHosts({ plan, progress: fourFailed, currentWave: 0 })).toMatchObject({ kind: 'waiting' });
    expect(nextHosts({ plan, progress: { ...fourFailed, [id(5)]: 'Failed' }, currentWave: 0 })).toMatchObject({
      kind: 'failed',
      code: 'HEALTH_CONSTRAINTS',
      inProgress: [],
    });
    // New hosts, two must succeed: once only one still can, it fails without waiting for the one in progress.
    const newHosts = planOf(fresh(4), hostCount(2));
    const progress = { [id(1)]: 'Failed', [id(2)]: 'Failed', [id(3)]: 'Failed', [id(4)]: 'InProgress' } as const;
    expect(nextHosts({ plan: newHosts, progress, currentWave: 0 })).toMatchObject({
      kind: 'failed',
      inProgress: [id(4)],
    });
  });

  it('skipped hosts keep their health and count as done, not as successes', () => {
    const plan = planOf(fleetOf(3), ALL_AT_ONCE);
    expect(nextHosts({ plan, progress: { [id(1)]: 'Skipped' }, currentWave: 0 })).toEqual({
      kind: 'start',
      wave: 0,
      hostIds: [id(2), id(3)],
    });
    const progress = { [id(1)]: 'Skipped', [id(2)]: 'Succeeded', [id(3)]: 'Failed' } as const;
    expect(nextHosts({ plan, progress, currentWave: 0 })).toEqual({
      kind: 'succeeded',
      succeeded: 1,
      failed: 1,
      skipped: 1,
    });
  });

  it('rejects inconsistent input: unknown hosts, a wave out of range, repeated ids, an invalid configuration', () => {
    const plan = planOf(fleetOf(2), ALL_AT_ONCE);
    expect(() => nextHosts({ plan, progress: { 'i-99': 'Failed' }, currentWave: 0 })).toThrow(InternalError);
    expect(() => nextHosts({ plan, progress: {}, currentWave: 1 })).toThrow(InternalError);
    expect(() => planDeployment([...fleetOf(2), ...fleetOf(1)], ALL_AT_ONCE)).toThrow(InternalError);
    expect(() => planDeployment(fleetOf(2), fleetPercent(100))).toThrow(InvalidInputError);
  });

  it('the plan does not depend on the order the fleet is listed in, and is plain JSON', () => {
    const fleet = fleetOf(7, (i) => ({ availabilityZone: `az-${i % 3}`, revisionHealth: i % 2 ? 'Old' : 'Current' }));
    const config: ServerSchedulingConfig = { ...hostCount(2), zonalConfig: { monitorDurationInSeconds: 60 } };
    const plan = planOf(fleet, config);
    expect(planOf([...fleet].reverse(), config)).toEqual(plan);
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });
});

describe('zonal configuration', () => {
  const zoned = (zones: (string | undefined)[]) =>
    zones.map((z, i): FleetHost => ({
      id: id(i + 1),
      ...(z ? { availabilityZone: z } : {}),
      instanceHealth: 'Healthy',
      revisionHealth: 'Current',
    }));

  it('one zone at a time, zones in name order, hosts without a zone last; monitor durations as bakes', () => {
    const fleet = zoned(['us-east-1b', 'us-east-1a', undefined, 'us-east-1c', 'us-east-1a', 'us-east-1b']);
    const config: ServerSchedulingConfig = {
      ...ALL_AT_ONCE,
      zonalConfig: { firstZoneMonitorDurationInSeconds: 3600, monitorDurationInSeconds: 600 },
    };
    const plan = planOf(fleet, config);
    expect(plan.waves.map((w) => [w.zone?.name, w.hostIds, w.bakeSeconds])).toEqual([
      ['us-east-1a', [id(2), id(5)], 3600],
      ['us-east-1b', [id(1), id(6)], 600],
      ['us-east-1c', [id(4)], 600],
      [null, [id(3)], 0],
    ]);
    const run = play(plan);
    expect(run.batches).toEqual([[id(2), id(5)], [id(1), id(6)], [id(4)], [id(3)]]);
    expect(run.waves.map((w) => [w.wave, w.bakeSeconds, w.nextWave])).toEqual([
      [0, 3600, 1],
      [1, 600, 2],
      [2, 600, 3],
    ]);
    expect(run.final).toMatchObject({ kind: 'succeeded', succeeded: 6 });
  });

  it('without firstZoneMonitorDurationInSeconds the first zone uses monitorDurationInSeconds; neither: no bake', () => {
    const fleet = zoned(['a', 'b', 'c']);
    const bakes = (zonalConfig: ServerSchedulingConfig['zonalConfig']) =>
      planOf(fleet, { ...ALL_AT_ONCE, zonalConfig }).waves.map((w) => w.bakeSeconds);
    expect(bakes({ monitorDurationInSeconds: 300 })).toEqual([300, 300, 0]);
    expect(bakes({})).toEqual([0, 0, 0]);
    expect(bakes({ firstZoneMonitorDurationInSeconds: 900 })).toEqual([900, 0, 0]);
  });

  it('the minimum per zone limits how many of its hosts go at once, on top of the overall minimum', () => {
    const fleet = zoned(['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b']);
    const perZone = (type: 'HOST_COUNT' | 'FLEET_PERCENT', value: number): ServerSchedulingConfig => ({
      ...ALL_AT_ONCE,
      zonalConfig: { minimumHealthyHostsPerZone: { type, value } },
    });
    expect(sizes(play(planOf(fleet, perZone('HOST_COUNT', 3))).batches)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(sizes(play(planOf(fleet, perZone('FLEET_PERCENT', 50))).batches)).toEqual([2, 2, 2, 2]);
    expect(sizes(play(planOf(fleet, ALL_AT_ONCE)).batches)).toEqual([8]);
    expect(sizes(play(planOf(fleet, { ...ALL_AT_ONCE, zonalConfig: {} })).batches)).toEqual([4, 4]);
    // The overall minimum still holds: 6 of 8 healthy overall → 2 at a time, though a zone alone would allow 4.
    expect(sizes(play(planOf(fleet, { ...hostCount(6), zonalConfig: {} })).batches)).toEqual([2, 2, 2, 2]);
    // A failure in zone a leaves it 3 healthy at most: with a per-zone minimum of 3 none may go; it fails.
    const run = play(planOf(fleet, perZone('HOST_COUNT', 3)), failing(id(2)));
    expect(run.final).toMatchObject({ kind: 'failed', code: 'HEALTH_CONSTRAINTS' });
    expect(run.final.kind === 'failed' && run.final.message).toMatch(/in zone a at most 3 .* minimum of 3/);
  });

  it('zones holding Unhealthy hosts go first: their repair is what lets the healthy zones go offline', () => {
    const fleet = zoned(['a', 'b', 'c', 'c']).map((h) =>
      h.id === id(2) || h.id === id(4) ? { ...h, instanceHealth: 'Unhealthy' as const } : h,
    );
    // 4 hosts, 3 to keep healthy, 2 of them Unhealthy: in name order, zone a could never go offline.
    const run = play(planOf(fleet, { ...ONE_AT_A_TIME, zonalConfig: {} }));
    expect(run.plan.waves.map((w) => w.zone?.name)).toEqual(['b', 'c', 'a']);
    expect(run.batches.flat()).toEqual([id(2), id(4), id(3), id(1)]);
    expect(run.final).toMatchObject({ kind: 'succeeded', succeeded: 4 });
  });

  it('a zonal plan that could not finish even if every host succeeded fails the start check', () => {
    // Two zones of one Unhealthy and one Healthy host, OneAtATime: 3 of 4 must stay healthy. Whichever zone
    // goes first, its Healthy host can only go offline once the other zone's Unhealthy host is repaired.
    const fleet = zoned(['a', 'a', 'b', 'b']).map((h, i) =>
      i % 2 ? h : { ...h, instanceHealth: 'Unhealthy' as const },
    );
    const start = planDeployment(fleet, { ...ONE_AT_A_TIME, zonalConfig: {} });
    expect(start).toMatchObject({ ok: false, code: 'HEALTH_CONSTRAINTS_INVALID' });
    expect(!start.ok && start.message).toMatch(
      /even if every host succeeds.*at most 3 hosts can be healthy by the end of zone a.*minimum of 3/,
    );
    expect(play(planOf(fleet, ONE_AT_A_TIME)).final).toMatchObject({ kind: 'succeeded' }); // fine without zones
  });

  it('a zone whose minimum is its size or more cannot start: HEALTH_CONSTRAINTS_INVALID naming the zone', () => {
    const start = planDeployment(zoned(['a', 'a', 'b']), {
      ...ALL_AT_ONCE,
      zonalConfig: { minimumHealthyHostsPerZone: { type: 'HOST_COUNT', value: 1 } },
    });
    expect(start).toMatchObject({ ok: false, code: 'HEALTH_CONSTRAINTS_INVALID' });
    expect(!start.ok && start.message).toMatch(/^Zone b needs at least 1 healthy host .* has 1 host/);
  });
});

describe('waves', () => {
  const waves = (text: string, minimum: ServerSchedulingConfig = ALL_AT_ONCE): ServerSchedulingConfig => ({
    ...minimum,
    waves: text as unknown as ServerSchedulingConfig['waves'],
  });
  const targets = (config: ServerSchedulingConfig, n: number) =>
    planOf(fleetOf(n), config).waves.map((w) => [w.targetHosts, w.bakeSeconds, w.approvalTimeoutSeconds]);

  it('targets are cumulative, percentages rounded up; a wave adding no host merges into the one before', () => {
    const config = waves('1 host 10m, 10% 15m, approve 2h, 50%, 100%');
    expect(targets(config, 20)).toEqual([
      [1, 600, undefined],
      [2, 900, 7200],
      [10, 0, undefined],
      [20, 0, undefined],
    ]);
    // 5 hosts: 10% is 1 host, no more than the first wave: merged, keeping the longer bake and the approval.
    expect(targets(config, 5)).toEqual([
      [1, 900, 7200],
      [3, 0, undefined],
      [5, 0, undefined],
    ]);
    // 7% of 100 is 7 hosts (not 8, which floating point would give).
    const sevenPercent: ServerSchedulingConfig = {
      ...ALL_AT_ONCE,
      waves: [
        { percentage: 7, bakeSeconds: 0 },
        { percentage: 100, bakeSeconds: 0 },
      ],
    };
    expect(targets(sevenPercent, 100)[0]).toEqual([7, 0, undefined]);
  });

  it('never starts a host beyond the current wave, reports each wave done with its bake and approval', () => {
    const run = play(planOf(fleetOf(20), waves('1 host 10m, 10% 15m, approve 2h, 50%, 100%')));
    expect(sizes(run.batches)).toEqual([1, 1, 8, 10]);
    expect(run.waves).toEqual([
      { kind: 'waveComplete', wave: 0, bakeSeconds: 600, nextWave: 1 },
      { kind: 'waveComplete', wave: 1, bakeSeconds: 900, approvalTimeoutSeconds: 7200, nextWave: 2 },
      { kind: 'waveComplete', wave: 2, bakeSeconds: 0, nextWave: 3 },
    ]);
    expect(run.final).toMatchObject({ kind: 'succeeded', succeeded: 20 });
  });

  it('the minimum still holds inside a wave: 50% of 10 hosts with 9 to keep healthy goes one host at a time', () => {
    const config: ServerSchedulingConfig = {
      ...hostCount(9),
      waves: [
        { percentage: 50, bakeSeconds: 300 },
        { percentage: 100, bakeSeconds: 0 },
      ],
    };
    const run = play(planOf(fleetOf(10), config));
    expect(sizes(run.batches)).toEqual(Array(10).fill(1));
    expect(run.waves).toEqual([{ kind: 'waveComplete', wave: 0, bakeSeconds: 300, nextWave: 1 }]);
    // A failure inside the first wave fails the deployment at once: no bake, no second wave.
    const failed = play(planOf(fleetOf(10), config), failing(id(2)));
    expect(failed.waves).toEqual([]);
    expect(failed.final).toMatchObject({ kind: 'failed', code: 'HEALTH_CONSTRAINTS' });
  });

  it('percentage waves alone: 10% 5m, 100%', () => {
    const config: ServerSchedulingConfig = {
      ...HALF_AT_A_TIME,
      waves: [
        { percentage: 10, bakeSeconds: 300 },
        { percentage: 100, bakeSeconds: 0 },
      ],
    };
    const run = play(planOf(fleetOf(30), config));
    expect(sizes(run.batches)).toEqual([3, 15, 12]);
    expect(run.waves).toEqual([{ kind: 'waveComplete', wave: 0, bakeSeconds: 300, nextWave: 1 }]);
  });

  it('a wave complete is reported until the engine moves on; host counts above the fleet size are capped', () => {
    const config: ServerSchedulingConfig = {
      ...ALL_AT_ONCE,
      waves: [
        { hosts: 2, bakeSeconds: 60 },
        { percentage: 100, bakeSeconds: 0 },
      ],
    };
    const plan = planOf(fleetOf(4), config);
    const progress = { [id(1)]: 'Succeeded', [id(2)]: 'Failed' } as const;
    const done = { kind: 'waveComplete', wave: 0, bakeSeconds: 60, nextWave: 1 };
    expect(nextHosts({ plan, progress, currentWave: 0 })).toEqual(done);
    expect(nextHosts({ plan, progress, currentWave: 0 })).toEqual(done);
    expect(nextHosts({ plan, progress, currentWave: 1 })).toEqual({ kind: 'start', wave: 1, hostIds: [id(3), id(4)] });
    expect(planOf(fleetOf(1), config).waves).toEqual([{ index: 0, hostIds: [id(1)], targetHosts: 1, bakeSeconds: 0 }]);
  });

  it('as engine steps: a shift per wave (percent of hosts), an approval step where a wave has one', () => {
    const config: ServerSchedulingConfig = {
      ...ALL_AT_ONCE,
      waves: [
        { hosts: 2, bakeSeconds: 0 },
        { approve: true, timeoutSeconds: 3600 },
        { percentage: 25, bakeSeconds: 300 },
        { percentage: 100, bakeSeconds: 0 },
      ],
    };
    const steps = toStepPlan(planOf(fleetOf(20), config));
    expect(describePlan(steps)).toBe('10%, then approval (1h max), then 25% for 5m, then 100%');
    expect(steps.totalBakeSeconds).toBe(300);
  });
});
