/**
 * Error names are a contract: Step Functions Retry/Catch match on `name`, and the API maps them
 * to CodeDeploy exception names. Every class sets a literal `name`; never rename one.
 */

/** One problem found in user input, with the path of the offending field. */
export interface Issue {
  path: string;
  message: string;
  /**
   * The CodeDeploy exception this problem calls for, when the field alone does not say it (e.g. two fields
   * that exclude each other: InvalidEC2TagCombinationException). Unset: the field's exception.
   */
  exception?: string;
}

export function formatIssues(issues: readonly Issue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
}

/** What an error may carry besides its message: the error it wraps, and the AWS request it came from. */
export interface ErrorContext {
  /** The underlying error (kept, so its story is not lost in logs and tests). */
  cause?: unknown;
  /** AWS's request id, to quote to AWS support. */
  requestId?: string;
}

abstract class CutoverError extends Error {
  abstract override readonly name: string;
  readonly requestId?: string;
  constructor(message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    if (context.requestId) this.requestId = context.requestId;
  }
}

/** User input is invalid. Lists every problem at once; nothing was changed. */
export class InvalidInputError extends CutoverError {
  override readonly name = 'InvalidInputError' as const;
  constructor(
    readonly issues: readonly Issue[],
    /** CodeDeploy exception name the API should answer with. */
    readonly exceptionName: string = 'InvalidInputException',
    prefix?: string,
    context?: ErrorContext,
  ) {
    super(`${prefix ? `${prefix}: ` : ''}${formatIssues(issues)}`, context);
  }
}

/** The world is not in the state the deployment needs (alias elsewhere, version missing). Not retried. */
export class PreconditionFailedError extends CutoverError {
  override readonly name = 'PreconditionFailedError' as const;
  constructor(
    message: string,
    /** CodeDeploy ErrorInformation.code to record; by default the platform's (INVALID_LAMBDA_CONFIGURATION...). */
    readonly code?: string,
    context?: ErrorContext,
  ) {
    super(message, context);
  }
}

/** An AWS dependency was throttled or failed with 5xx after the SDK's own retries. Retryable. */
export class DependencyUnavailableError extends CutoverError {
  override readonly name = 'DependencyUnavailableError' as const;
}

/** AWS refused the call (AccessDenied, ResourceNotFound, validation). Not retryable; carries AWS's message. */
export class DependencyRejectedError extends CutoverError {
  override readonly name = 'DependencyRejectedError' as const;
  constructor(
    message: string,
    readonly awsErrorName?: string,
    context?: ErrorContext,
  ) {
    super(message, context);
  }
}

/** A lifecycle hook reported Failed (or could not be invoked). */
export class HookFailedError extends CutoverError {
  override readonly name = 'HookFailedError' as const;
}

/** A lifecycle hook did not report before its timeout (and its timeout action is rollback). */
export class HookTimedOutError extends CutoverError {
  override readonly name = 'HookTimedOutError' as const;
}

/** A watched CloudWatch alarm is in ALARM (or could not be read and failures are not ignored). */
export class AlarmActiveError extends CutoverError {
  override readonly name = 'AlarmActiveError' as const;
}

/** The deployment was stopped by an operator. */
export class DeploymentStoppedError extends CutoverError {
  override readonly name = 'DeploymentStoppedError' as const;
}

/** The replacement (green) ECS task set did not reach steady state before its deadline. */
export class TaskSetNotSteadyError extends CutoverError {
  override readonly name = 'TaskSetNotSteadyError' as const;
}

/** An approval step was not approved before its timeout. */
export class ApprovalTimedOutError extends CutoverError {
  override readonly name = 'ApprovalTimedOutError' as const;
}

/** A paused deployment was not resumed before the pause's limit. */
export class PauseTimedOutError extends CutoverError {
  override readonly name = 'PauseTimedOutError' as const;
}

/** Nobody continued a STOP_DEPLOYMENT ready wait (ContinueDeployment READY_WAIT) in time: the deployment stops. */
export class ReadyWaitTimedOutError extends CutoverError {
  override readonly name = 'ReadyWaitTimedOutError' as const;
}

/** A bug or an impossible state. */
export class InternalError extends CutoverError {
  override readonly name = 'InternalError' as const;
}

/** An application or deployment names a compute platform Cutover does not deploy to (yet). */
export class UnsupportedPlatformError extends CutoverError {
  override readonly name = 'UnsupportedPlatformError' as const;
  constructor(
    readonly platform: string,
    supported: readonly string[],
  ) {
    super(`computePlatform ${platform} is not supported; Cutover deploys to ${supported.join(' and ')}`);
  }
}

/** An API-level error carrying a CodeDeploy exception name (`__type`). */
export class ApiError extends CutoverError {
  override readonly name = 'ApiError' as const;
  constructor(
    readonly exceptionName: string,
    message: string,
    context?: ErrorContext,
  ) {
    super(message, context);
  }
}

/**
 * The error names the state machine and its callbacks use (Retry, Catch, SendTaskFailure): the
 * contract between the tasks and the ASL, defined once. `TaskTokens.fail` takes only these.
 */
export const ERROR_NAMES = [
  'InvalidInputError',
  'PreconditionFailedError',
  'DependencyUnavailableError',
  'DependencyRejectedError',
  'HookFailedError',
  'HookTimedOutError',
  'AlarmActiveError',
  'DeploymentStoppedError',
  'TaskSetNotSteadyError',
  'ApprovalTimedOutError',
  'PauseTimedOutError',
  'ReadyWaitTimedOutError',
  'InternalError',
] as const;
export type ErrorName = (typeof ERROR_NAMES)[number];
/** Step Functions' own error names the ASL matches. */
export const STATES_TIMEOUT = 'States.Timeout';
export const STATES_ALL = 'States.ALL';
