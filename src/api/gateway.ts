/**
 * API Gateway (REST, Lambda proxy) → CodeDeploy's JSON 1.1 protocol. `POST /` is IAM-authorised
 * by API Gateway (SigV4, as the AWS CLI and SDKs sign) and serves every operation; `POST /hooks` has
 * no IAM and serves only PutLifecycleEventHookExecutionStatus: the unguessable hook execution id is
 * the credential. A direct invocation `{operation, input}` is dispatched as is.
 */
import type { Deps } from '../tasks/task.js';
import { CODEDEPLOY_TARGET_PREFIX, CONTENT_TYPE, handleJson } from './json-protocol.js';
import { HOOK_CALLBACK_OPERATION } from './names.js';
import { dispatch } from './operations.js';

export type ApiEvent = {
  operation?: string;
  input?: unknown;
  resource?: string;
  headers?: Record<string, string | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
};

const HOOK_TARGET = `${CODEDEPLOY_TARGET_PREFIX}${HOOK_CALLBACK_OPERATION}`;

export async function handleApiEvent(event: ApiEvent, deps: Deps): Promise<unknown> {
  if (event?.operation !== undefined || event?.body === undefined)
    return dispatch(event?.operation ?? '', event?.input, deps);
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
  const r = await handleJson(target, body, (operation, input) => dispatch(operation, input, deps));
  return { statusCode: r.status, headers: r.headers, body: r.body };
}
