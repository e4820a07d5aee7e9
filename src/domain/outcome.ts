/**
 * What a failure means for a deployment: its CodeDeploy error code, its final status, and whether
 * the group's auto-rollback configuration asks for traffic to go back. Pure.
 */
import type { AutoRollbackConfiguration, DeploymentStatus, ErrorInformation } from './model.js';

/** The error as Step Functions hands it to a Catch: `{Error, Cause}`. */
export interface CaughtError {
  Error: string;
  Cause?: string;
}

export type FailureKind = 'failure' | 'alarm' | 'stop';

export interface FailureVerdict {
  kind: FailureKind;
  errorInformation: ErrorInformation;
  status: Extract<DeploymentStatus, 'Failed' | 'Stopped'>;
}

/**
 * The message inside a Step Functions `Cause`. On AWS a Lambda task's Cause is a JSON document
 * `{errorType, errorMessage, trace}`; the local interpreter passes the message itself.
 */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (parsed && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    /* not JSON: the message itself */
  }
  return cause;
}

/**
 * Cutover's error code for a deployment whose rollback could not restore every target: not in
 * CodeDeploy's enum (CodeDeploy has no such outcome), so that nothing mistakes it for an ordinary
 * failure. The message names each target and where its traffic is.
 */
export const ROLLBACK_FAILED = 'ROLLBACK_FAILED';

const CODES: Record<string, { code: string; kind: FailureKind }> = {
  AlarmActiveError: { code: 'ALARM_ACTIVE', kind: 'alarm' },
  DeploymentStoppedError: { code: 'MANUAL_STOP', kind: 'stop' },
  HookFailedError: { code: 'HOOK_EXECUTION_FAILURE', kind: 'failure' },
  HookTimedOutError: { code: 'HOOK_EXECUTION_FAILURE', kind: 'failure' },
  InvalidInputError: { code: 'INVALID_REVISION', kind: 'failure' },
  DependencyUnavailableError: { code: 'THROTTLED', kind: 'failure' },
  ApprovalTimedOutError: { code: 'TIMEOUT', kind: 'failure' },
  PauseTimedOutError: { code: 'TIMEOUT', kind: 'failure' },
  TaskSetNotSteadyError: { code: 'ECS_UPDATE_ERROR', kind: 'failure' },
  // CodeDeploy: nobody continued a STOP_DEPLOYMENT ready wait in time; the deployment is Stopped.
  ReadyWaitTimedOutError: { code: 'TIMEOUT', kind: 'stop' },
  'States.Timeout': { code: 'TIMEOUT', kind: 'failure' },
};

/** A platform's ErrorInformation codes (src/platforms/<name>: errorCodes). */
export interface PlatformErrorCodes {
  /** The world is not as the deployment needs it (INVALID_LAMBDA_CONFIGURATION, INVALID_ECS_SERVICE). */
  invalidTarget: string;
  /** AWS refused a call on the target (INVALID_LAMBDA_FUNCTION, ECS_UPDATE_ERROR). */
  refused: string;
}

/** `[CODE] message`: a PreconditionFailedError that carries its own ErrorInformation code (see codedPrecondition). */
const CODE_TAG = /^\[([A-Z][A-Z_]+)\] /;

/** The message of a precondition failure that must be recorded with `code` (it survives the state machine). */
export const codedMessage = (code: string, message: string): string => `[${code}] ${message}`;

export function classifyFailure(
  error: CaughtError,
  codes: PlatformErrorCodes = { invalidTarget: 'INVALID_LAMBDA_CONFIGURATION', refused: 'INVALID_LAMBDA_FUNCTION' },
): FailureVerdict {
  const message = causeMessage(error.Cause) || error.Error;
  let entry = Object.hasOwn(CODES, error.Error) ? CODES[error.Error] : undefined;
  if (!entry && error.Error === 'DependencyRejectedError') {
    entry = {
      code: /AccessDenied|not authorized/i.test(message) ? 'IAM_ROLE_PERMISSIONS' : codes.refused,
      kind: 'failure',
    };
  }
  // A precondition may name its own code (`[HEALTH_CONSTRAINTS] …`: only the message crosses Step Functions).
  const tagged = error.Error === 'PreconditionFailedError' ? CODE_TAG.exec(message) : null;
  if (error.Error === 'PreconditionFailedError') entry = { code: tagged?.[1] ?? codes.invalidTarget, kind: 'failure' };
  const { code, kind } = entry ?? { code: 'INTERNAL_ERROR', kind: 'failure' as const };
  const text = tagged ? message.slice(tagged[0].length) : message;
  return {
    kind,
    errorInformation: { code, message: text.slice(0, 1000) },
    status: kind === 'failure' ? 'Failed' : 'Stopped',
  };
}

/** Does the auto-rollback configuration ask to roll back after this kind of failure? */
export function shouldRollback(kind: FailureKind, config: AutoRollbackConfiguration): boolean {
  if (!config.enabled) return false;
  const event =
    kind === 'alarm'
      ? 'DEPLOYMENT_STOP_ON_ALARM'
      : kind === 'stop'
        ? 'DEPLOYMENT_STOP_ON_REQUEST'
        : 'DEPLOYMENT_FAILURE';
  return config.events.includes(event);
}

/**
 * Cutover's default when a group sets no autoRollbackConfiguration: roll back on failure, on
 * alarm and on a stop request. (CodeDeploy's API default is no rollback; see
 * docs/adr/0004-rollback-by-default.md.)
 */
export const DEFAULT_AUTO_ROLLBACK: AutoRollbackConfiguration = {
  enabled: true,
  events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'],
};
