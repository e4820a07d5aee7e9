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

/** Deepest nesting of arrays and objects a request body may have (CodeDeploy's shapes need under 10). */
export const MAX_JSON_DEPTH = 100;

/**
 * What is wrong with a parsed body's structure, walked with an explicit stack (linear, no recursion): nesting
 * deeper than MAX_JSON_DEPTH, or an own `__proto__` key (JSON.parse makes it an own property; a map built from
 * it by assignment would drop it silently, or set a prototype).
 */
export function structureProblem(value: unknown): { kind: 'depth' | 'proto'; path: string } | undefined {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: '', depth: 0 }];
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_JSON_DEPTH) return { kind: 'depth', path };
    if (Array.isArray(v)) {
      for (let k = 0; k < v.length; k++) stack.push({ v: v[k], path: `${path}[${k}]`, depth: depth + 1 });
      continue;
    }
    for (const key of Object.keys(v)) {
      const at = path ? `${path}.${key}` : key;
      if (key === '__proto__') return { kind: 'proto', path: at };
      stack.push({ v: (v as Record<string, unknown>)[key], path: at, depth: depth + 1 });
    }
  }
  return undefined;
}

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
  const problem = structureProblem(input);
  if (problem?.kind === 'depth')
    return error(400, 'SerializationException', `The request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return error(400, 'SerializationException', 'The request body must be a JSON object');
  if (problem) return error(400, 'InvalidInputException', `${problem.path}: __proto__ is not accepted as a key`);
  const result = await dispatch(operation, input);
  if ('error' in result)
    return error(result.error.__type === 'InternalFailure' ? 500 : 400, result.error.__type, result.error.message);
  return { status: 200, headers: { 'content-type': CONTENT_TYPE }, body: JSON.stringify(result.output ?? {}) };
}
