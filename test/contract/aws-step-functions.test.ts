/** StepFunctionsTaskTokens and StepFunctionsExecutionStarter against a mocked Step Functions API. */
import {
  ExecutionAlreadyExists,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import type {
  SendTaskFailureCommandInput,
  SendTaskSuccessCommandInput,
  StartExecutionCommandInput,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { StepFunctionsExecutionStarter, StepFunctionsTaskTokens } from '../../src/adapters/aws/step-functions.js';
import { DependencyRejectedError, DependencyUnavailableError } from '../../src/domain/errors.js';

const sfnMock = mockClient(SFNClient);
const client = new SFNClient({ region: 'us-east-1', maxAttempts: 1 });
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAS3cr3tTok3n';
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:cutover-deployment';

const sfnError = (name: string, status: number, message: string) =>
  new SFNServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message,
  });

/** Tokens Step Functions is waiting on, and what each was completed with. */
function fakeTasks(waiting: string[]) {
  const completed = new Map<string, { output?: unknown; error?: string; cause?: string }>();
  const check = (token: string | undefined) => {
    if (!token || !waiting.includes(token))
      throw new TaskDoesNotExist({ message: 'Task does not exist anymore', $metadata: { httpStatusCode: 400 } });
    if (completed.has(token))
      throw new TaskTimedOut({
        message: 'Task Timed Out: Provided task does not exist anymore',
        $metadata: { httpStatusCode: 400 },
      });
  };
  sfnMock.on(SendTaskSuccessCommand).callsFake(async (input: SendTaskSuccessCommandInput) => {
    check(input.taskToken);
    completed.set(input.taskToken!, { output: JSON.parse(input.output!) });
    return {};
  });
  sfnMock.on(SendTaskFailureCommand).callsFake(async (input: SendTaskFailureCommandInput) => {
    check(input.taskToken);
    // Step Functions refuses over-long fields rather than truncating them.
    if ((input.error ?? '').length > 256 || (input.cause ?? '').length > 32_768) {
      throw sfnError('ValidationException', 400, '1 validation error detected: length constraint');
    }
    completed.set(input.taskToken!, { error: input.error, cause: input.cause });
    return {};
  });
  return completed;
}

beforeEach(() => {
  sfnMock.reset();
});

describe('StepFunctionsTaskTokens', () => {
  const tokens = new StepFunctionsTaskTokens(client);

  it('completes a waiting task with its output', async () => {
    const completed = fakeTasks([TOKEN]);
    expect(await tokens.succeed(TOKEN, { verdict: 'Healthy', weight: 10 })).toBe(true);
    expect(completed.get(TOKEN)).toEqual({ output: { verdict: 'Healthy', weight: 10 } });
  });

  it('sends valid JSON output when there is none', async () => {
    const completed = fakeTasks([TOKEN]);
    expect(await tokens.succeed(TOKEN, undefined)).toBe(true);
    expect(completed.get(TOKEN)).toEqual({ output: null });
  });

  it('resolves false when the token has timed out or was already completed', async () => {
    fakeTasks([TOKEN]);
    expect(await tokens.succeed(TOKEN, {})).toBe(true);
    expect(await tokens.succeed(TOKEN, {})).toBe(false);
    expect(await tokens.fail(TOKEN, 'AlarmActiveError', 'late alarm')).toBe(false);
  });

  it.each([
    ['TaskTimedOut', new TaskTimedOut({ message: 'Task Timed Out', $metadata: { httpStatusCode: 400 } })],
    [
      'TaskDoesNotExist',
      new TaskDoesNotExist({ message: 'Task does not exist anymore', $metadata: { httpStatusCode: 400 } }),
    ],
    ['InvalidToken', new InvalidToken({ message: 'Invalid Token', $metadata: { httpStatusCode: 400 } })],
  ])('resolves false on %s', async (_, err) => {
    sfnMock.on(SendTaskSuccessCommand).rejects(err);
    sfnMock.on(SendTaskFailureCommand).rejects(err);
    expect(await tokens.succeed(TOKEN, {})).toBe(false);
    expect(await tokens.fail(TOKEN, 'HookFailedError', 'hook reported Failed')).toBe(false);
  });

  it('fails a waiting task, truncating error and cause to Step Functions limits', async () => {
    const completed = fakeTasks([TOKEN]);
    expect(await tokens.fail(TOKEN, 'E'.repeat(300), 'c'.repeat(40_000))).toBe(true);
    expect(completed.get(TOKEN)).toEqual({ error: 'E'.repeat(256), cause: 'c'.repeat(32_768) });
  });

  it('does not cut a surrogate pair in half when truncating', async () => {
    const completed = fakeTasks([TOKEN]);
    expect(await tokens.fail(TOKEN, 'HookFailedError', `${'c'.repeat(32_767)}😀`)).toBe(true);
    expect(completed.get(TOKEN)?.cause).toBe('c'.repeat(32_767));
  });

  it('maps throttling to DependencyUnavailableError without revealing the token', async () => {
    sfnMock.on(SendTaskSuccessCommand).rejects(sfnError('ThrottlingException', 400, 'Rate exceeded'));
    const err = await tokens.succeed(TOKEN, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect((err as Error).message).toBe('SendTaskSuccess: ThrottlingException: Rate exceeded');
  });

  it('maps AccessDenied to DependencyRejectedError with AWS message', async () => {
    sfnMock
      .on(SendTaskFailureCommand)
      .rejects(sfnError('AccessDeniedException', 403, 'not authorized to perform: states:SendTaskFailure'));
    const err = await tokens.fail(TOKEN, 'E', 'c').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyRejectedError);
    expect(err).toMatchObject({
      awsErrorName: 'AccessDeniedException',
      message: 'SendTaskFailure: AccessDeniedException: not authorized to perform: states:SendTaskFailure',
    });
  });
});

describe('StepFunctionsExecutionStarter', () => {
  const starter = new StepFunctionsExecutionStarter(client, STATE_MACHINE);

  /** StartExecution as Step Functions does it: idempotent for the same name and input, else ExecutionAlreadyExists. */
  function fakeStateMachine() {
    const executions = new Map<string, StartExecutionCommandInput>();
    sfnMock.on(StartExecutionCommand).callsFake(async (input: StartExecutionCommandInput) => {
      if (input.stateMachineArn !== STATE_MACHINE)
        throw sfnError('StateMachineDoesNotExist', 400, `State Machine Does Not Exist: '${input.stateMachineArn}'`);
      const arn = `arn:aws:states:us-east-1:123456789012:execution:cutover-deployment:${input.name}`;
      const prior = executions.get(input.name!);
      if (prior && prior.input !== input.input) {
        throw new ExecutionAlreadyExists({
          message: `Execution Already Exists: '${arn}'`,
          $metadata: { httpStatusCode: 400 },
        });
      }
      executions.set(input.name!, input);
      return { executionArn: arn, startDate: new Date(0) };
    });
    return executions;
  }

  it('starts an execution named after the deployment with its input', async () => {
    const executions = fakeStateMachine();
    const arn = await starter.start('d-ABCDEF123', { deploymentId: 'd-ABCDEF123' });
    expect(arn).toBe('arn:aws:states:us-east-1:123456789012:execution:cutover-deployment:d-ABCDEF123');
    expect(JSON.parse(executions.get('d-ABCDEF123')!.input!)).toEqual({ deploymentId: 'd-ABCDEF123' });
  });

  it('maps ExecutionAlreadyExists to DependencyRejectedError', async () => {
    fakeStateMachine();
    await starter.start('d-ABCDEF123', { deploymentId: 'd-ABCDEF123' });
    const err = await starter.start('d-ABCDEF123', { deploymentId: 'd-OTHER' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyRejectedError);
    expect(err).toMatchObject({
      awsErrorName: 'ExecutionAlreadyExists',
      message:
        "StartExecution d-ABCDEF123: ExecutionAlreadyExists: Execution Already Exists: 'arn:aws:states:us-east-1:123456789012:execution:cutover-deployment:d-ABCDEF123'",
    });
  });

  it('maps throttling to DependencyUnavailableError', async () => {
    sfnMock.on(StartExecutionCommand).rejects(sfnError('ThrottlingException', 400, 'Rate exceeded'));
    await expect(starter.start('d-ABCDEF123', {})).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
