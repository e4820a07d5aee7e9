import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { InternalError } from '../../domain/errors.js';
import type { ExecutionStarter, ExecutionStatus, TaskTokens } from '../../ports/index.js';
import { mapAwsError, withAwsErrors } from './errors.js';

/** SendTaskFailure limits, in characters. */
const MAX_ERROR = 256;
const MAX_CAUSE = 32_768;

/** Errors that mean the task is no longer waiting for this token: nothing left to complete. */
const TOKEN_GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** Cut `s` to `max` UTF-16 units without leaving half a surrogate pair at the end. */
function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = s.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/**
 * Step Functions callbacks. Calls `states:SendTaskSuccess` and `states:SendTaskFailure`; a token
 * that timed out, completed or never existed resolves false, since a late alarm or hook report is
 * normal and must not fail its caller.
 */
export class StepFunctionsTaskTokens implements TaskTokens {
  constructor(private readonly client: SFNClient) {}

  succeed(token: string, output: unknown): Promise<boolean> {
    // SendTaskSuccess requires valid JSON output; `undefined` would serialise to nothing.
    return this.complete('SendTaskSuccess', () =>
      this.client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output ?? null) })),
    );
  }

  fail(token: string, error: string, cause: string): Promise<boolean> {
    return this.complete('SendTaskFailure', () =>
      this.client.send(
        new SendTaskFailureCommand({
          taskToken: token,
          error: truncate(error, MAX_ERROR),
          cause: truncate(cause, MAX_CAUSE),
        }),
      ),
    );
  }

  private async complete(what: string, call: () => Promise<unknown>): Promise<boolean> {
    try {
      await call();
      return true;
    } catch (e) {
      if (e instanceof Error && TOKEN_GONE.has(e.name)) return false;
      // The token itself is never named: it is a credential for the waiting task.
      throw mapAwsError(e, what);
    }
  }
}

/**
 * Starts deployment executions. Calls `states:StartExecution` on one state machine, named after
 * the deployment so a repeated start cannot run a deployment twice (ExecutionAlreadyExists →
 * DependencyRejectedError), and `states:DescribeExecution` on its executions.
 */
export class StepFunctionsExecutionStarter implements ExecutionStarter {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(name: string, input: Record<string, unknown>): Promise<string> {
    const what = `StartExecution ${name}`;
    const res = await withAwsErrors(what, () =>
      this.client.send(
        new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }),
      ),
    );
    if (!res.executionArn) throw new InternalError(`${what} returned no executionArn`);
    return res.executionArn;
  }

  async describe(name: string): Promise<ExecutionStatus | undefined> {
    // An execution's ARN is its machine's with `execution` for `stateMachine` and its name appended.
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    try {
      const res = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      return res.status as ExecutionStatus;
    } catch (e) {
      if (e instanceof Error && e.name === 'ExecutionDoesNotExist') return undefined;
      throw mapAwsError(e, `DescribeExecution ${name}`);
    }
  }
}
