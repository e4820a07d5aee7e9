/**
 * The fault bench (issue #11, item 7): seeded, randomized Lambda and ECS deployments with faults
 * at every port call of every task (throttling, 5xx, timeouts, AccessDenied, not-found, lost
 * responses), stops, promotes and alarms mixed in, each run checked against Cutover's promise: it
 * ends Succeeded with the world at the target, or Failed/Stopped with the world at the original,
 * the record consistent with the world, the group free, the alarm index clean, one terminal event.
 * See src/wiring/fault-suite.ts. Target: zero violations.
 *
 * Prints JSON: runs, passes, violations (runs that broke an invariant) by fault kind, by layer
 * (the task that saw the fault, the port it called) and by invariant, and the violating seeds.
 * A fault kind's count is the number of violating runs that had a fault of that kind; with
 * `--culprits`, each violating run (of at most 8 faults) is replayed with each of its faults alone,
 * and the one that breaks an invariant by itself is reported.
 *
 * The store is dynalite, the real DynamoDB adapter (about 0.3 s a run on a loaded machine);
 * `--store memory` uses the in-memory store the slice in `npm test` uses (the same contract,
 * about 20 times faster). A run that throws (a bug of the suite, or an unhandled rejection) counts
 * as a violation of `ended`, and the bench goes on in a fresh environment.
 *
 *   npx tsx bench/faults.ts [--runs 2000] [--from 1] [--store dynalite|memory] [--culprits]
 *   npx tsx bench/faults.ts --seed 4217        # one run, explained
 */
import '../src/local/polyfill.js';
import { FAULT_KINDS, portOf, type InjectedFault } from '../src/wiring/faults.js';
import { FaultSuite, INVARIANTS, explainRun, type RunResult } from '../src/wiring/fault-suite.js';
import { intArg, report, stringArg } from './support.js';

const RUNS = intArg('runs', 2000);
const FROM = intArg('from', 1);
const CULPRITS = process.argv.includes('--culprits');
const ONE = process.argv.includes('--seed') ? intArg('seed', 1) : undefined;
const storeArg = stringArg('store', 'dynalite');
if (storeArg !== 'dynalite' && storeArg !== 'memory') throw new Error(`--store: dynalite or memory, got ${storeArg}`);
const STORE: 'dynalite' | 'memory' = storeArg;

// A rejection nobody handles would end the process: it is a finding, kept for the run it happened in.
const unhandled: string[] = [];
process.on('unhandledRejection', (e) => unhandled.push((e as Error)?.stack ?? String(e)));

let suite = await FaultSuite.open({ store: STORE });

if (ONE !== undefined) {
  const r = await suite.run(ONE);
  process.stdout.write(`${r.violations.length ? explainRun(r) : `seed ${ONE}: passes\n${explainRun(r)}`}\n`);
  if (r.violations.length) {
    const c = await suite.culprit(r);
    if (c)
      process.stdout.write(
        `culprit (breaks an invariant alone): ${c.kind} at ${c.caller} ${c.method}#${c.occurrence}\n`,
      );
  }
  await suite.close();
  process.exit(0);
}

const count = <K extends string>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);

const started = performance.now();
const outcomes: Record<string, number> = {};
const faultsByKind = count(FAULT_KINDS);
const runsWithKind = count(FAULT_KINDS);
const violationsByKind = count(FAULT_KINDS);
const violationsByTask: Record<string, number> = {};
const violationsByPort: Record<string, number> = {};
const violationsByInvariant = count(INVARIANTS);
const violationsByPlatform: Record<string, number> = { Lambda: 0, ECS: 0 };
const culprits: { seed: number; fault: string }[] = [];
const violatingSeeds: number[] = [];
const examples: string[] = [];
let portCalls = 0;
let faults = 0;
let virtualSeconds = 0;

/** One run; a run that throws is a violation, and the next runs get a fresh environment. */
async function runOne(seed: number): Promise<RunResult> {
  let r: RunResult;
  try {
    r = await suite.run(seed);
  } catch (e) {
    await suite.close().catch(() => undefined);
    suite = await FaultSuite.open({ store: STORE });
    const message = `the run threw: ${(e as Error)?.stack ?? String(e)}`;
    return {
      seed,
      scenario: '?',
      platform: 'Lambda',
      outcome: 'refused',
      faults: [],
      calls: 0,
      virtualSeconds: 0,
      violations: [{ invariant: 'ended', message }],
    };
  }
  for (const u of unhandled.splice(0)) r.violations.push({ invariant: 'ended', message: `unhandled rejection: ${u}` });
  return r;
}

for (let seed = FROM; seed < FROM + RUNS; seed++) {
  const r = await runOne(seed);
  bump(outcomes, r.outcome);
  portCalls += r.calls;
  faults += r.faults.length;
  virtualSeconds += r.virtualSeconds;
  for (const f of r.faults) faultsByKind[f.kind]++;
  for (const k of new Set(r.faults.map((f) => f.kind))) runsWithKind[k]++;
  if (!r.violations.length) continue;
  violatingSeeds.push(seed);
  violationsByPlatform[r.platform]!++;
  if (examples.length < 5) examples.push(explainRun(r));
  for (const i of new Set(r.violations.map((v) => v.invariant))) violationsByInvariant[i]++;
  // Who is to blame: the culprit if it is found, else every fault of the run (suspects).
  let blamed: InjectedFault[] = r.faults;
  if (CULPRITS) {
    const c = await suite.culprit(r);
    if (c) {
      blamed = [c];
      culprits.push({ seed, fault: `${c.kind} at ${c.caller} ${c.method}#${c.occurrence}` });
    }
  }
  for (const k of new Set(blamed.map((f) => f.kind))) violationsByKind[k]++;
  for (const t of new Set(blamed.map((f) => f.caller))) bump(violationsByTask, t);
  for (const p of new Set(blamed.map((f) => portOf(f.method)))) bump(violationsByPort, p);
  process.stderr.write(`seed ${seed}: ${r.violations.map((v) => `[${v.invariant}] ${v.message}`).join('; ')}\n`);
}
await suite.close();

const sorted = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).sort((a, b) => b[1] - a[1]));
const violations = violatingSeeds.length;
report('faults', {
  description:
    'Seeded Lambda and ECS deployments with faults at every port call of every task; a violation is a run that ends in neither state of the promise (see src/wiring/fault-suite.ts)',
  runs: RUNS,
  firstSeed: FROM,
  store: STORE,
  passes: RUNS - violations,
  violations,
  violationRate: Number((violations / RUNS).toFixed(4)),
  target: 0,
  outcomes: sorted(outcomes),
  faultsInjected: faults,
  portCalls,
  faultsByKind,
  runsWithFaultKind: runsWithKind,
  violationsByKind: CULPRITS
    ? { attributedTo: 'the culprit where found, else every fault of the run', ...violationsByKind }
    : violationsByKind,
  violationsByLayer: { task: sorted(violationsByTask), port: sorted(violationsByPort) },
  violationsByInvariant,
  violationsByPlatform,
  ...(CULPRITS ? { culprits } : {}),
  violatingSeeds,
  examples,
  virtualHours: Number((virtualSeconds / 3600).toFixed(1)),
  wallSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
});
process.exit(0);
