/**
 * CodeDeploy's AWS JSON 1.1 protocol: `POST /` with `X-Amz-Target: CodeDeploy_20141006.<Operation>`
 * and a JSON body; errors as HTTP 400/500 with `{__type, message}`. Cutover's extras use the target
 * prefix `Cutover_20261122.`. Shared by the local server and (issue #4) the API Gateway function.
 */
import type { ApiErrorShape } from './errors.js';
import { COMMAND_TARGET_PREFIX } from '../platforms/server/agent-protocol.js';
import { CUTOVER_OPERATIONS, HOST_COMMAND_OPERATIONS } from './names.js';

export const CODEDEPLOY_TARGET_PREFIX = 'CodeDeploy_20141006.';
export const CUTOVER_TARGET_PREFIX = 'Cutover_20261122.';
/** The agent's command service (CodeDeployCommand.api.json), and its secure variant's (enable_auth_policy). */
export const COMMAND_SERVICE_TARGET_PREFIXES = [COMMAND_TARGET_PREFIX, 'CodeDeployCommandService.'];
export const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** Requests larger than this are refused before parsing. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

export interface JsonResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const error = (status: number, type: string, message: string): JsonResponse => ({
  status,
  headers: { 'content-type': CONTENT_TYPE, 'x-amzn-errortype': type },
  body: JSON.stringify({ __type: type, message }),
});

/** Runs one operation by name: `{output}`, or `{error}` in CodeDeploy's shape. */
export type Dispatch = (operation: string, input: unknown) => Promise<{ output: unknown } | { error: ApiErrorShape }>;

/** Handle one request, given its X-Amz-Target header and raw body. */
export async function handleJson(target: string | undefined, body: string, dispatch: Dispatch): Promise<JsonResponse> {
  if (Buffer.byteLength(body, 'utf8') > MAX_REQUEST_BYTES)
    return error(413, 'RequestEntityTooLargeException', `Request body larger than ${MAX_REQUEST_BYTES} bytes`);
  let operation: string | undefined;
  const commandPrefix = COMMAND_SERVICE_TARGET_PREFIXES.find((p) => target?.startsWith(p));
  if (target?.startsWith(CODEDEPLOY_TARGET_PREFIX)) {
    operation = target.slice(CODEDEPLOY_TARGET_PREFIX.length);
    if (CUTOVER_OPERATIONS.has(operation) || HOST_COMMAND_OPERATIONS.has(operation)) operation = undefined;
  } else if (target?.startsWith(CUTOVER_TARGET_PREFIX)) {
    operation = target.slice(CUTOVER_TARGET_PREFIX.length);
    if (HOST_COMMAND_OPERATIONS.has(operation)) operation = undefined;
  } else if (target && commandPrefix) {
    operation = target.slice(commandPrefix.length);
    if (!HOST_COMMAND_OPERATIONS.has(operation)) operation = undefined;
  }
  if (!operation)
    return error(400, 'UnknownOperationException', `Unknown or missing X-Amz-Target: ${target ?? '(none)'}`);
  let input: unknown;
  try {
    input = body.trim() === '' ? {} : JSON.parse(body);
  } catch {
    return error(400, 'SerializationException', 'The request body is not valid JSON');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return error(400, 'SerializationException', 'The request body must be a JSON object');
  const result = await dispatch(operation, input);
  if ('error' in result)
    return error(result.error.__type === 'InternalFailure' ? 500 : 400, result.error.__type, result.error.message);
  return { status: 200, headers: { 'content-type': CONTENT_TYPE }, body: JSON.stringify(result.output ?? {}) };
}
