/**
 * A fault at every port call of a Server deployment (./server-sweep.ts), sliced: `npm test` runs one fault
 * at a few named calls (the create, Prepare's instance lookup, the fleet's start, a completion's host write,
 * the fleet's progress, the outcome's lock release), each of a different kind. The whole sweep, every call
 * of the deployment (about 530), runs with `CUTOVER_SERVER_SWEEP=all npx vitest run test/faults/server-sweep.test.ts`
 * (about 10 s a run); `CUTOVER_SERVER_SWEEP=first` fails the first call of each caller and method (75).
 */
import { describe, expect, it } from 'vitest';
import type { FaultKind } from '../../src/wiring/faults.js';
import { kindOf, sweepRun } from './server-sweep.js';

const SLICE: [string, FaultKind][] = [
  ['api.CreateDeployment executions.start#0', 'lostResponse'],
  ['prepareDeployment Server.ec2.matching#0', 'throttling'],
  ['shiftTraffic Server.hostCommands.createFleet#0', 'lostResponse'],
  ['api.PutHostCommandComplete hostCommands.updateHost#3', '5xx'],
  ['shiftTraffic Server.hostCommands.listHosts#0', 'timeout'],
  ['completeDeployment locks.release#0', 'accessDenied'],
];

const mode = process.env.CUTOVER_SERVER_SWEEP;

describe('a fault at a call of a Server deployment: succeeded, or rolled back; nothing half-applied', () => {
  if (!mode)
    for (const [target, kind] of SLICE)
      it(`${kind} at ${target}`, async () => {
        const r = await sweepRun(target, kind);
        expect(r.fired, `${target} was never called`).toBe(true);
        expect(r.violations, `${r.outcome}`).toEqual([]);
      }, 120_000);
  else
    it(
      `every call (${mode})`,
      async () => {
        const reference = await sweepRun();
        expect(reference.violations).toEqual([]);
        const keys = mode === 'first' ? reference.calls.filter((k) => k.endsWith('#0')) : reference.calls;
        const broken: string[] = [];
        for (const [i, key] of keys.entries()) {
          const kind = kindOf(key, i);
          const r = await sweepRun(key, kind);
          if (r.violations.length) broken.push(`${kind} at ${key} (${r.outcome}): ${r.violations.join('; ')}`);
        }
        expect(broken).toEqual([]);
      },
      24 * 3600_000,
    );
});
