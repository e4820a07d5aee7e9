/**
 * Seeded fault injection at the port boundary of local mode (the fault suite and bench/faults.ts).
 * A FaultInjector is an Instrumentation (see instrument.ts): every port call of every task and API
 * operation passes through it, and it decides from the seed alone whether that call fails and how,
 * so a run that broke an invariant is replayed exactly by its seed.
 *
 * The decision for a call depends on the seed, the caller, the method and how many calls of that
 * method that caller made before in the run, never on the order in which different callers'
 * calls interleave: a replay reproduces the faults even where concurrent work (a hook's callback
 * and its invocation, the alarm listener and the execution) interleaves differently.
 *
 * Each fault is what the AWS adapters would raise for it (src/adapters/aws/errors.ts):
 * - `throttling`, `5xx`: DependencyUnavailableError; the call did not take effect.
 * - `timeout`: DependencyUnavailableError (the SDK gave up waiting); the call did not take effect.
 * - `lostResponse`: the call takes effect, then the caller gets DependencyUnavailableError (a
 *   timeout or a 5xx after the request was applied).
 * - `accessDenied`: DependencyRejectedError AccessDeniedException (IAM still propagating).
 * - `notFound`: a spurious not-found (eventual consistency), shaped as the adapter reports it: a
 *   missing alias, service or listener is a PreconditionFailedError, the rest
 *   DependencyRejectedError. Calls whose adapter answers a not-found with a value (a version that
 *   does not exist is `false`, a missing alarm is left out, a completed task token is `false`)
 *   get no not-found.
 */
import { DependencyRejectedError, DependencyUnavailableError, PreconditionFailedError } from '../domain/errors.js';
import { deploymentIdOf } from '../domain/ids.js';
import type { IdSource } from '../ports/index.js';
import type { CallDirective, Instrumentation, PortCall } from './instrument.js';

export const FAULT_KINDS = ['throttling', '5xx', 'timeout', 'accessDenied', 'notFound', 'lostResponse'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/** The kinds a retry can cure on AWS without anyone's help. */
export const RETRYABLE_KINDS: readonly FaultKind[] = ['throttling', '5xx', 'timeout', 'lostResponse'];

/** One fault the injector made: the `occurrence`-th call (from 0) of `method` by `caller` in the run. */
export interface InjectedFault {
  caller: string;
  method: string;
  occurrence: number;
  kind: FaultKind;
}

/** `caller method#occurrence`: what names a fault in a replay filter. */
export const faultKey = (f: Pick<InjectedFault, 'caller' | 'method' | 'occurrence'>): string =>
  `${f.caller} ${f.method}#${f.occurrence}`;

/** The port a method belongs to: `deployments`, `Lambda.aliases`, ... */
export const portOf = (method: string): string => method.slice(0, method.lastIndexOf('.'));

export interface FaultPlan {
  seed: number;
  /** Probability that a call fails, 0..1. */
  rate: number;
  /** The kinds to choose from (each call's kind among those that apply to it). */
  kinds: readonly FaultKind[];
  /** At most this many faults in the run (later calls run normally). Default: no limit. */
  maxFaults?: number;
  /** Replay: inject only the faults with these keys (faultKey) of what the plan would inject. */
  only?: ReadonlySet<string>;
}

// ---- a seeded PRNG ----------------------------------------------------------------------------

/** 32-bit FNV-1a of a string. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small, fast, seedable generator of floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A float in [0, 1) decided by the seed and the parts alone. */
export function unitFor(seed: number, ...parts: (string | number)[]): number {
  return prng(fnv1a(`${seed}|${parts.join('|')}`))();
}

// ---- what each kind looks like to the caller ---------------------------------------------------

/** Platform ports whose adapters turn a missing resource into a PreconditionFailedError. */
const PRECONDITION_NOT_FOUND: Record<string, string> = {
  'Lambda.aliases.getAlias': 'INVALID_LAMBDA_FUNCTION',
  'ECS.services.describeService': 'INVALID_ECS_SERVICE',
  'ECS.services.createTaskSet': 'INVALID_ECS_SERVICE',
  'ECS.services.updateServicePrimaryTaskSet': 'INVALID_ECS_SERVICE',
  'ECS.services.deleteTaskSet': 'INVALID_ECS_SERVICE',
  'ECS.loadBalancers.describeListener': 'ELASTIC_LOAD_BALANCING_INVALID',
  'ECS.loadBalancers.setForward': 'ELASTIC_LOAD_BALANCING_INVALID',
};
/** Calls whose adapter answers a not-found with a value, not an error: no spurious not-found. */
const NO_NOT_FOUND = new Set([
  'Lambda.aliases.versionExists',
  'ECS.loadBalancers.targetGroupArns',
  'alarms.describe',
  'executions.describe',
  'tokens.succeed',
  'tokens.fail',
  'revisions.get',
]);
const NOT_FOUND_NAME: Record<string, string> = {
  'events.publish': 'NotFoundException',
  'executions.start': 'StateMachineDoesNotExist',
};

/** The kinds among `kinds` that can happen to a call of `method`. */
export function kindsFor(method: string, kinds: readonly FaultKind[]): FaultKind[] {
  return kinds.filter((k) => k !== 'notFound' || !NO_NOT_FOUND.has(method));
}

/** The error a caller of `method` sees for a fault of `kind` (for lostResponse: after the effect). */
export function faultError(method: string, kind: FaultKind): Error {
  const what = `${method} (injected ${kind})`;
  switch (kind) {
    case 'throttling':
      return new DependencyUnavailableError(`${what}: ThrottlingException: Rate exceeded`);
    case '5xx':
      return new DependencyUnavailableError(`${what}: ServiceUnavailableException: Service unavailable`);
    case 'timeout':
      return new DependencyUnavailableError(`${what}: TimeoutError: the request timed out`);
    case 'lostResponse':
      return new DependencyUnavailableError(`${what}: TimeoutError: no response (the request was applied)`);
    case 'accessDenied':
      return new DependencyRejectedError(
        `${what}: AccessDeniedException: not authorized to perform this action`,
        'AccessDeniedException',
      );
    case 'notFound': {
      const code = PRECONDITION_NOT_FOUND[method];
      if (code) return new PreconditionFailedError(`${what}: the resource does not exist`, code);
      const name = NOT_FOUND_NAME[method] ?? 'ResourceNotFoundException';
      return new DependencyRejectedError(`${what}: ${name}: Requested resource not found`, name);
    }
  }
}

// ---- the injector -----------------------------------------------------------------------------

/**
 * Decides, for each port call, whether it fails (see the file's comment). Inactive until `arm`;
 * `disarm` stops injecting (set-up and checks of a run see no faults) and keeps the faults made.
 * Calls of the platform dispatcher (`platforms.*`) are Cutover's own code, not AWS calls: they
 * never fail; the platform's ports below them do.
 */
export class FaultInjector implements Instrumentation {
  private plan: FaultPlan | undefined;
  private counts = new Map<string, number>();
  /** The faults of the current (or last) run, in the order they were injected. */
  faults: InjectedFault[] = [];
  /** Every call seen while armed, by `caller method` (for the fault-free calls too). */
  calls = 0;

  /** Start injecting by `plan`, from a fresh count of calls. */
  arm(plan: FaultPlan): void {
    this.plan = plan;
    this.counts = new Map();
    this.faults = [];
    this.calls = 0;
  }

  /** Stop injecting (the faults made stay in `faults`). */
  disarm(): void {
    this.plan = undefined;
  }

  onCall(call: PortCall): CallDirective | void {
    const plan = this.plan;
    if (!plan || call.method.startsWith('platforms.')) return;
    this.calls++;
    const key = `${call.caller} ${call.method}`;
    const occurrence = this.counts.get(key) ?? 0;
    this.counts.set(key, occurrence + 1);
    if (unitFor(plan.seed, key, occurrence) >= plan.rate) return;
    if (plan.maxFaults !== undefined && this.faults.length >= plan.maxFaults) return;
    const kinds = kindsFor(call.method, plan.kinds);
    if (!kinds.length) return;
    const kind = kinds[Math.floor(unitFor(plan.seed, key, occurrence, 'kind') * kinds.length)]!;
    const fault: InjectedFault = { caller: call.caller, method: call.method, occurrence, kind };
    if (plan.only && !plan.only.has(faultKey(fault))) return;
    this.faults.push(fault);
    const error = faultError(call.method, kind);
    if (kind === 'lostResponse') return { loseResponse: error };
    throw error;
  }
}

/**
 * Ids from a seed, so a replayed run names its deployments as the first run did. Distinct seeds
 * give distinct ids (9 base-36 characters of a hash of the seed and a counter).
 */
export class SeededIds implements IdSource {
  private next: () => number = prng(0);

  /** Start the sequence of `seed` again. */
  reseed(seed: number): void {
    this.next = prng(fnv1a(`ids|${seed}`));
  }

  private bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => Math.floor(this.next() * 256));
  }

  deploymentId(): string {
    return deploymentIdOf(this.bytes(9));
  }

  hookExecutionId(): string {
    return Buffer.from(this.bytes(32)).toString('base64url');
  }

  uuid(): string {
    const h = Buffer.from(this.bytes(16)).toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}
