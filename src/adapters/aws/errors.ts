/**
 * Maps AWS SDK v3 errors onto the port error contract (see src/ports/index.ts):
 * throttling, 5xx and network failures → DependencyUnavailableError (Step Functions retries it);
 * AWS refusals → DependencyRejectedError carrying AWS's name and message.
 */
import { DependencyRejectedError, DependencyUnavailableError, ERROR_NAMES } from '../../domain/errors.js';

const OUR_NAMES: ReadonlySet<string> = new Set(ERROR_NAMES);

const THROTTLING = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
]);

/** Server-side failures some services report without (or before) a 5xx status. */
const SERVER = new Set([
  'ServiceException',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'InternalServerException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);

/** The request never got an answer: the SDK's own timeouts and Node socket errors. */
const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'NetworkingError']);
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

interface AwsLikeError {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $retryable?: { throttling?: boolean };
}

/** Map an error thrown by an AWS SDK call; `what` names the call and its target, e.g. "GetAlias my-fn:live". */
export function mapAwsError(err: unknown, what: string): Error {
  // Our own errors (thrown inside withAwsErrors) are already in contract form. AWS errors always
  // carry $metadata, which tells an S3/EC2 `InternalError` apart from ours.
  if (err instanceof Error && OUR_NAMES.has(err.name) && !('$metadata' in err)) return err;
  if (typeof err !== 'object' || err === null) return new Error(`${what}: ${String(err)}`);

  const e = err as AwsLikeError;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const message = typeof e.message === 'string' ? e.message : '';
  const status = e.$metadata?.httpStatusCode;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const text = `${what}: ${name}: ${message}`;
  // The AWS error stays attached (cause) with its request id: what AWS support asks for.
  const context = { cause: err, ...(e.$metadata?.requestId ? { requestId: e.$metadata.requestId } : {}) };

  const unavailable =
    THROTTLING.has(name) ||
    e.$retryable?.throttling === true ||
    status === 429 ||
    (status !== undefined && status >= 500) ||
    SERVER.has(name) ||
    e.$fault === 'server' ||
    NETWORK_NAMES.has(name) ||
    (code !== undefined && NETWORK_CODES.has(code));
  if (unavailable) return new DependencyUnavailableError(text, context);

  const isAwsError = e.$fault === 'client' || (status !== undefined && status >= 400);
  if (isAwsError) return new DependencyRejectedError(text, name, context);

  // Not from AWS at all (a bug in our code, an abort): let it surface as it is.
  return err instanceof Error ? err : new Error(text);
}

/** Run one AWS call, mapping whatever it throws with mapAwsError. */
export async function withAwsErrors<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapAwsError(err, what);
  }
}

/** Retry settings every Cutover client shares. */
export interface AwsRetryConfig {
  maxAttempts: number;
  retryMode: string;
}

/**
 * SDK client config: the SDK retries throttling, 5xx and network errors itself with backoff
 * before we map them; `adaptive` also rate-limits the client once AWS starts throttling, so a
 * burst of deployments slows down instead of exhausting its attempts. `overrides` wins (tests pass
 * `maxAttempts: 1`).
 */
export function clientConfig<T extends object = Record<never, never>>(overrides?: T): AwsRetryConfig & T {
  return { maxAttempts: 5, retryMode: 'adaptive', ...overrides } as AwsRetryConfig & T;
}
