import { InvokeCommand } from '@aws-sdk/client-lambda';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { DependencyRejectedError } from '../../domain/errors.js';
import type { HookInvoker, HookPayload } from '../../ports/index.js';
import { withAwsErrors } from './errors.js';

/**
 * Starts lifecycle hook functions. Calls `lambda:InvokeFunction` with InvocationType=Event: the
 * hook reports back through PutLifecycleEventHookExecutionStatus, so we only need Lambda to accept it.
 */
export class LambdaHookInvoker implements HookInvoker {
  constructor(private readonly client: LambdaClient) {}

  async invoke(functionName: string, payload: HookPayload): Promise<void> {
    const what = `Invoke ${functionName}`;
    const res = await withAwsErrors(what, () =>
      this.client.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'Event',
          Payload: new TextEncoder().encode(JSON.stringify(payload)),
        }),
      ),
    );
    // Lambda answers 202 for an accepted event; anything else means the hook will never run.
    const status = res.StatusCode;
    if (res.FunctionError || status === undefined || Math.floor(status / 100) !== 2) {
      throw new DependencyRejectedError(
        `${what}: hook function was not started (StatusCode ${status ?? 'none'}${res.FunctionError ? `, FunctionError ${res.FunctionError}` : ''})`,
        res.FunctionError,
      );
    }
  }
}
