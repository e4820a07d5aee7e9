import { InvokeCommand } from '@aws-sdk/client-lambda';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { DependencyRejectedError } from '../../domain/errors.js';
import type { HookInvoker, HookPayload } from '../../ports/index.js';
import { withAwsErrors } from './errors.js';

/**
 * Runs lifecycle hook functions. Calls `lambda:InvokeFunction` with InvocationType=RequestResponse
 * so a hook may simply return its status (`{"status": "Succeeded"}`); a CodeDeploy-style hook that
 * reports through PutLifecycleEventHookExecutionStatus and returns anything else works unchanged.
 * A hook that crashes (FunctionError) is reported at once instead of waiting for its timeout.
 */
export class LambdaHookInvoker implements HookInvoker {
  constructor(private readonly client: LambdaClient) {}

  async invoke(functionName: string, payload: HookPayload): Promise<unknown> {
    const what = `Invoke ${functionName}`;
    const res = await withAwsErrors(what, () =>
      this.client.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(payload)),
        }),
      ),
    );
    const text = res.Payload ? new TextDecoder().decode(res.Payload) : '';
    const status = res.StatusCode;
    if (res.FunctionError || status === undefined || Math.floor(status / 100) !== 2) {
      let detail = '';
      try {
        const err = JSON.parse(text) as { errorType?: string; errorMessage?: string };
        if (err.errorMessage) detail = `: ${err.errorType ?? 'Error'}: ${err.errorMessage}`;
      } catch {
        /* not JSON */
      }
      throw new DependencyRejectedError(
        `${what}: the hook function failed (StatusCode ${status ?? 'none'}${res.FunctionError ? `, FunctionError ${res.FunctionError}` : ''})${detail}`,
        res.FunctionError,
      );
    }
    if (!text) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
}
