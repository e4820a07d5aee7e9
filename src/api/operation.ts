/**
 * An API operation: what it does and the port methods it uses (the `api` function's IAM role is
 * derived from every operation's declaration, like a task's).
 */
import { ApiError } from '../domain/errors.js';
import type { AnyTask, Deps, DepsFor, Uses } from '../tasks/task.js';

export type Input = Record<string, unknown>;

/**
 * What the transport knows of a request besides its body: who signed it (API Gateway's IAM authorisation on
 * AWS, the local server's SigV4 check locally), never taken from a field of the request.
 */
export interface RequestContext {
  caller?: { arn: string; accountId?: string };
  /** Why no caller is known (unsigned, an unknown key, a signature that does not match). */
  refused?: string;
  /** The caller's address (API Gateway's sourceIp), for policies with an aws:SourceIp condition. */
  sourceIp?: string;
  /**
   * Set only by a transport that authorised the whole call itself, naming how: a direct Lambda invocation
   * of the api function (lambda:InvokeFunction on it is an administrator's grant). No per-operation check.
   */
  trusted?: string;
}

export interface Operation {
  readonly uses: Uses;
  run(input: Input, deps: Deps, context?: RequestContext): Promise<unknown>;
}

/** An operation that uses the port methods `uses` declares (and only those: see DepsFor). */
export function operation<const U extends Uses>(
  uses: U,
  run: (input: Input, deps: DepsFor<U>, context: RequestContext) => Promise<unknown>,
): Operation {
  return { uses, run: (input, deps, context) => run(input, deps, context ?? {}) };
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
