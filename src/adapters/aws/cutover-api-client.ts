/**
 * A client for a Cutover API: `cutover server` (by default 127.0.0.1:4980, unsigned) or a remote
 * API Gateway endpoint (SigV4-signed for execute-api with the standard AWS credentials).
 * CodeDeploy's JSON 1.1 protocol over HTTP.
 */
import { CODEDEPLOY_TARGET_PREFIX, CONTENT_TYPE, CUTOVER_TARGET_PREFIX } from '../../api/json-protocol.js';
import { CUTOVER_OPERATIONS } from '../../api/names.js';
import { ApiError } from '../../domain/errors.js';
import { regionOf, signedHeaders } from './sigv4.js';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4980';
/** Local servers are not signed for (they have no IAM); everything else is. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export async function callApi(
  endpoint: string,
  operation: string,
  input: Record<string, unknown>,
  /** The region to sign for when the host name does not say (AWS_REGION). */
  region?: string,
): Promise<Record<string, unknown>> {
  const target = `${CUTOVER_OPERATIONS.has(operation) ? CUTOVER_TARGET_PREFIX : CODEDEPLOY_TARGET_PREFIX}${operation}`;
  const url = new URL(endpoint);
  const body = JSON.stringify(input);
  let headers: Record<string, string> = { 'content-type': CONTENT_TYPE, 'x-amz-target': target };
  if (!LOOPBACK.has(url.hostname)) headers = await signedHeaders(url, headers, body, regionOf(url.hostname, region));
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new ApiError(
      'EndpointUnreachable',
      `cannot reach ${endpoint} (${(e as Error).message}); is 'cutover server' running?`,
    );
  }
  const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  // API Gateway's own refusals (e.g. a bad signature) say `message` (or `Message`) without `__type`.
  if (!res.ok)
    throw new ApiError(
      String(answer.__type ?? `HTTP${res.status}`),
      String(answer.message ?? answer.Message ?? res.statusText),
    );
  return answer;
}
