/**
 * Error names are a contract: Step Functions Retry/Catch match on `name`, and the API maps them
 * to CodeDeploy exception names. Every class sets a literal `name`; never rename one.
 */

/** One problem found in user input, with the path of the offending field. */
export interface Issue {
  path: string;
  message: string;
}

export function formatIssues(issues: readonly Issue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
}

abstract class CutoverError extends Error {
  abstract override readonly name: string;
}

/** User input is invalid. Lists every problem at once; nothing was changed. */
export class InvalidInputError extends CutoverError {
  override readonly name = 'InvalidInputError' as const;
  constructor(
    readonly issues: readonly Issue[],
    /** CodeDeploy exception name the API should answer with. */
    readonly exceptionName: string = 'InvalidInputException',
    prefix?: string,
  ) {
    super(`${prefix ? `${prefix}: ` : ''}${formatIssues(issues)}`);
  }
}

/** The world is not in the state the deployment needs (alias elsewhere, version missing). Not retried. */
export class PreconditionFailedError extends CutoverError {
  override readonly name = 'PreconditionFailedError' as const;
  constructor(
    message: string,
    /** CodeDeploy ErrorInformation.code to record. */
    readonly code: string = 'INVALID_LAMBDA_CONFIGURATION',
  ) {
    super(message);
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
  ) {
    super(message);
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

/** A bug or an impossible state. */
export class InternalError extends CutoverError {
  override readonly name = 'InternalError' as const;
}

/** An API-level error carrying a CodeDeploy exception name (`__type`). */
export class ApiError extends CutoverError {
  override readonly name = 'ApiError' as const;
  constructor(
    readonly exceptionName: string,
    message: string,
  ) {
    super(message);
  }
}

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
  'InternalError',
] as const;
export type ErrorName = (typeof ERROR_NAMES)[number];
