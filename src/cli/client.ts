/**
 * The CLI's client for a running Cutover API (`cutover server`, by default on 127.0.0.1:4980):
 * CodeDeploy's JSON 1.1 protocol over HTTP. Remote endpoints with SigV4 signing are not done yet.
 */
import { CODEDEPLOY_TARGET_PREFIX, CONTENT_TYPE, CUTOVER_TARGET_PREFIX } from '../api/json-protocol.js';
import { CUTOVER_OPERATIONS } from '../api/operations.js';
import { ApiError } from '../domain/errors.js';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4980';

export async function callApi(endpoint: string, operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const target = `${CUTOVER_OPERATIONS.has(operation) ? CUTOVER_TARGET_PREFIX : CODEDEPLOY_TARGET_PREFIX}${operation}`;
  let res: Response;
  try {
    res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': CONTENT_TYPE, 'x-amz-target': target }, body: JSON.stringify(input), signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new ApiError('EndpointUnreachable', `cannot reach ${endpoint} (${(e as Error).message}); is 'cutover server' running?`);
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new ApiError(String(body.__type ?? `HTTP${res.status}`), String(body.message ?? res.statusText));
  return body;
}
