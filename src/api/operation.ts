/**
 * An API operation: what it does and the port methods it uses (the `api` function's IAM role is
 * derived from every operation's declaration, like a task's).
 */
import { ApiError } from '../domain/errors.js';
import type { AnyTask, Deps, DepsFor, Uses } from '../tasks/task.js';

export type Input = Record<string, unknown>;

export interface Operation {
  readonly uses: Uses;
  run(input: Input, deps: Deps): Promise<unknown>;
}

/** An operation that uses the port methods `uses` declares (and only those: see DepsFor). */
export function operation<const U extends Uses>(
  uses: U,
  run: (input: Input, deps: DepsFor<U>) => Promise<unknown>,
): Operation {
  return { uses, run };
}

/** An operation that is a task, with its input passed on as it came (or as `map` makes it). */
export function taskOperation(task: AnyTask, map: (input: Input) => unknown = (i) => i): Operation {
  return { uses: task.uses, run: (input, deps) => task.run(map(input), deps) };
}

export const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Items per page of a List operation. */
export const PAGE = 100;
/** A List operation's nextToken → the index to go on from. @throws ApiError InvalidNextTokenException */
export const decodeToken = (t: unknown): number => {
  if (t === undefined || t === null) return 0;
  const n = Number(Buffer.from(String(t), 'base64url').toString('utf8'));
  if (!Number.isInteger(n) || n < 0) throw new ApiError('InvalidNextTokenException', 'The next token is not valid');
  return n;
};
export const encodeToken = (n: number): string => Buffer.from(String(n), 'utf8').toString('base64url');
