/** CodeDeploy's error shape (`{__type, message}`) for any error: unknown errors do not leak internals. */
import { ApiError, InvalidInputError } from '../domain/errors.js';

export interface ApiErrorShape {
  __type: string;
  message: string;
}

export function toApiError(e: unknown): ApiErrorShape {
  if (e instanceof ApiError) return { __type: e.exceptionName, message: e.message };
  if (e instanceof InvalidInputError) return { __type: e.exceptionName, message: e.message };
  return { __type: 'InternalFailure', message: 'An internal error occurred' };
}

/** Whether an error is the caller's (a 400 with CodeDeploy's name) rather than ours (logged, 500). */
export const isClientError = (e: unknown): boolean => e instanceof ApiError || e instanceof InvalidInputError;
