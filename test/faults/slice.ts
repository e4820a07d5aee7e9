/**
 * The fault suite's slice in `npm test` (issue #11, item 7): seeded runs of
 * src/wiring/fault-suite.ts, one test per seed, named by its seed and scenario. A failing run
 * prints its seed, scenario, faults and violations; `npm run bench:faults -- --seed N` replays it.
 * Runs one after the other in one local environment, on virtual time only: an outcome never
 * depends on the machine's speed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../../src/wiring/faults.js';
import { FaultSuite, explainRun, scenarioFor, type RunResult } from '../../src/wiring/fault-suite.js';

/**
 * The tests of `seeds`, in one describe block sharing one environment on `store`. With `coverage`,
 * a last test checks the block exercised what the suite claims (both platforms, every fault kind,
 * every outcome): a harness change that made every run a refused create would pass all the rest.
 */
export function faultSlice(
  name: string,
  seeds: readonly number[],
  opts: { store: 'dynalite' | 'memory'; coverage?: boolean },
): void {
  describe(name, () => {
    let suite: FaultSuite;
    const results: RunResult[] = [];
    beforeAll(async () => {
      suite = await FaultSuite.open({ store: opts.store });
    });
    afterAll(async () => {
      await suite?.close();
    });

    for (const seed of seeds) {
      const s = scenarioFor(seed);
      it(`seed ${seed}: ${s.platform}, ${s.actions.map((a) => a.kind).join('+') || 'no actions'}`, async () => {
        const r = await suite.run(seed);
        results.push(r);
        expect(r.violations, explainRun(r)).toEqual([]);
      });
    }

    if (opts.coverage)
      it('covered both platforms, every fault kind and every outcome', () => {
        expect(results).toHaveLength(seeds.length);
        const kinds = new Set(results.flatMap((r) => r.faults.map((f) => f.kind)));
        expect([...kinds].sort()).toEqual([...FAULT_KINDS].sort());
        expect(new Set(results.map((r) => r.platform))).toEqual(new Set(['Lambda', 'ECS']));
        const outcomes = new Set(results.map((r) => r.outcome));
        for (const o of ['Succeeded', 'Failed', 'Stopped', 'refused']) expect(outcomes).toContain(o);
        // Most runs get a deployment going, and many get it to the end.
        expect(results.filter((r) => r.outcome === 'refused').length).toBeLessThan(seeds.length / 10);
        expect(results.filter((r) => r.outcome === 'Succeeded').length).toBeGreaterThan(seeds.length / 5);
        expect(results.filter((r) => r.faults.length > 0).length).toBeGreaterThan(seeds.length * 0.8);
      });
  });
}
