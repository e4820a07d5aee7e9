/**
 * Scripted faults for deterministic tests: "the 2nd call of timeline.append by createDeployment is
 * throttled". Each fault is shaped as the seeded suite shapes it (src/wiring/faults.ts), so a case
 * found by a seed can be written down as a test.
 */
import { faultError, type FaultKind } from '../../src/wiring/faults.js';
import type { CallDirective, Instrumentation, PortCall } from '../../src/wiring/instrument.js';

export interface ScriptedFault {
  caller: string;
  method: string;
  kind: FaultKind;
  /** Matching calls to let through first. Default 0. */
  skip?: number;
  /** How many matching calls fail (after `skip`). Default 1. */
  times?: number;
  /** Only calls made after the caller called this method (e.g. the record write after a publish). */
  after?: string;
}

/** An Instrumentation that fails the calls it is told to, and counts what it did. */
export class ScriptedFaults implements Instrumentation {
  private script: (ScriptedFault & { skip: number; times: number; seen: number; failed: number })[] = [];
  /** Every call seen, `caller method` (what a test may look at to find a call's occurrence). */
  readonly calls: string[] = [];

  /** Fail calls of `method` by `caller` (see ScriptedFault). Returns this, to chain. */
  add(f: ScriptedFault): this {
    this.script.push({ skip: 0, times: 1, ...f, seen: 0, failed: 0 });
    return this;
  }

  /** Faults that have not failed as many calls as they were told to (a test asserts it is empty). */
  get unfired(): ScriptedFault[] {
    return this.script.filter((f) => f.failed < f.times);
  }

  /** Forget the script (faults not fired yet are dropped). */
  clear(): void {
    this.script = [];
  }

  onCall(call: PortCall): CallDirective | void {
    this.calls.push(`${call.caller} ${call.method}`);
    const after = (m: string | undefined) => m === undefined || this.calls.includes(`${call.caller} ${m}`);
    const f = this.script.find(
      (x) => x.caller === call.caller && x.method === call.method && x.failed < x.times && after(x.after),
    );
    if (!f) return;
    if (f.seen++ < f.skip) return;
    f.failed++;
    const error = faultError(call.method, f.kind);
    if (f.kind === 'lostResponse') return { loseResponse: error };
    throw error;
  }
}
