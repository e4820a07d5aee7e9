/**
 * The `/hooks` route (the hookCallback function): CodeDeploy's PutLifecycleEventHookExecutionStatus
 * and nothing else, for hooks that report without AWS credentials. The unguessable hook execution
 * id is the credential. Kept apart from the other operations so this function's bundle and its role
 * hold only what the callback uses.
 */
import { putLifecycleEventHookExecutionStatus } from '../tasks/hooks.js';
import type { DepsFor } from '../tasks/task.js';
import { isClientError, toApiError } from './errors.js';
import type { ApiEvent } from './gateway.js';
import { CODEDEPLOY_TARGET_PREFIX, CONTENT_TYPE, handleJson } from './json-protocol.js';
import { HOOK_CALLBACK_OPERATION } from './names.js';

export type HookCallbackDeps = DepsFor<typeof putLifecycleEventHookExecutionStatus.uses>;

export async function handleHookCallback(event: ApiEvent, deps: HookCallbackDeps): Promise<unknown> {
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const target = headers['x-amz-target'];
  if (target !== `${CODEDEPLOY_TARGET_PREFIX}${HOOK_CALLBACK_OPERATION}`) {
    return {
      statusCode: 403,
      headers: { 'content-type': CONTENT_TYPE, 'x-amzn-errortype': 'AccessDeniedException' },
      body: JSON.stringify({
        __type: 'AccessDeniedException',
        message: `/hooks accepts only ${HOOK_CALLBACK_OPERATION}`,
      }),
    };
  }
  const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  const r = await handleJson(target, body, async (_operation, input) => {
    try {
      return { output: await putLifecycleEventHookExecutionStatus.run(input, deps) };
    } catch (e) {
      if (!isClientError(e)) deps.log.error('hook callback failed', { error: (e as Error).message });
      return { error: toApiError(e) };
    }
  });
  return { statusCode: r.status, headers: r.headers, body: r.body };
}
