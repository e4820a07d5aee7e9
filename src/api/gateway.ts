/**
 * API Gateway (REST, Lambda proxy) → CodeDeploy's JSON 1.1 protocol. `POST /` is IAM-authorised
 * by API Gateway (SigV4, as the AWS CLI and SDKs sign) and serves every operation; `POST /hooks` has
 * no IAM and serves only PutLifecycleEventHookExecutionStatus: the unguessable hook execution id is
 * the credential. Each `POST /` request is then authorised per operation (src/api/authorization.ts,
 * docs/adr/0024). A direct invocation `{operation, input}` is dispatched as is (lambda:InvokeFunction on
 * this function is an administrator's grant).
 */
import type { Deps } from '../tasks/task.js';
import { CODEDEPLOY_TARGET_PREFIX, CONTENT_TYPE, handleJson } from './json-protocol.js';
import { HOOK_CALLBACK_OPERATION } from './names.js';
import type { RequestContext } from './operation.js';
import { dispatch } from './operations.js';

export type ApiEvent = {
  operation?: string;
  input?: unknown;
  resource?: string;
  headers?: Record<string, string | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
  /** API Gateway's: with IAM authorisation, `identity` names who signed the request. */
  requestContext?: {
    identity?: { userArn?: string | null; accountId?: string | null; sourceIp?: string | null } | null;
  } | null;
};

/** The signer API Gateway's IAM authorisation established (never a field of the request). */
export function requestContextOf(event: ApiEvent): RequestContext {
  const identity = event.requestContext?.identity;
  const sourceIp = identity?.sourceIp ? { sourceIp: identity.sourceIp } : {};
  if (!identity?.userArn) return { refused: 'API Gateway passed no IAM identity', ...sourceIp };
  return {
    caller: { arn: identity.userArn, ...(identity.accountId ? { accountId: identity.accountId } : {}) },
    ...sourceIp,
  };
}

const HOOK_TARGET = `${CODEDEPLOY_TARGET_PREFIX}${HOOK_CALLBACK_OPERATION}`;

export async function handleApiEvent(event: ApiEvent, deps: Deps): Promise<unknown> {
  // A direct invocation: whoever may invoke this function (lambda:InvokeFunction) may run every operation.
  if (event?.operation !== undefined || event?.body === undefined)
    return dispatch(event?.operation ?? '', event?.input, deps, undefined, { trusted: 'lambda:InvokeFunction' });
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const target = headers['x-amz-target'];
  if (event.resource === '/hooks' && target !== HOOK_TARGET) {
    return {
      statusCode: 403,
      headers: { 'content-type': CONTENT_TYPE, 'x-amzn-errortype': 'AccessDeniedException' },
      body: JSON.stringify({
        __type: 'AccessDeniedException',
        message: '/hooks accepts only PutLifecycleEventHookExecutionStatus',
      }),
    };
  }
  const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  const context = requestContextOf(event);
  const r = await handleJson(target, body, (operation, input) => dispatch(operation, input, deps, undefined, context));
  return { statusCode: r.status, headers: r.headers, body: r.body };
}
