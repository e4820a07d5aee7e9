/**
 * What a failure means for a deployment: its CodeDeploy error code, its final status, and whether
 * the group's auto-rollback configuration asks for traffic to go back. Pure.
 */
import type { AutoRollbackConfiguration, ComputePlatform, DeploymentStatus, ErrorInformation } from './model.js';

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

const CODES: Record<string, { code: string; kind: FailureKind }> = {
  AlarmActiveError: { code: 'ALARM_ACTIVE', kind: 'alarm' },
  DeploymentStoppedError: { code: 'MANUAL_STOP', kind: 'stop' },
  HookFailedError: { code: 'HOOK_EXECUTION_FAILURE', kind: 'failure' },
  HookTimedOutError: { code: 'HOOK_EXECUTION_FAILURE', kind: 'failure' },
  InvalidInputError: { code: 'INVALID_REVISION', kind: 'failure' },
  PreconditionFailedError: { code: 'INVALID_LAMBDA_CONFIGURATION', kind: 'failure' },
  DependencyUnavailableError: { code: 'THROTTLED', kind: 'failure' },
  ApprovalTimedOutError: { code: 'TIMEOUT', kind: 'failure' },
  PauseTimedOutError: { code: 'TIMEOUT', kind: 'failure' },
  TaskSetNotSteadyError: { code: 'ECS_UPDATE_ERROR', kind: 'failure' },
  // CodeDeploy: nobody continued a STOP_DEPLOYMENT ready wait in time; the deployment is Stopped.
  ReadyWaitTimedOutError: { code: 'TIMEOUT', kind: 'stop' },
  'States.Timeout': { code: 'TIMEOUT', kind: 'failure' },
};

export function classifyFailure(error: CaughtError, platform: ComputePlatform = 'Lambda'): FailureVerdict {
  const message = causeMessage(error.Cause) || error.Error;
  let entry = CODES[error.Error];
  if (!entry && error.Error === 'DependencyRejectedError') {
    const refused = platform === 'ECS' ? 'ECS_UPDATE_ERROR' : 'INVALID_LAMBDA_FUNCTION';
    entry = { code: /AccessDenied|not authorized/i.test(message) ? 'IAM_ROLE_PERMISSIONS' : refused, kind: 'failure' };
  }
  if (platform === 'ECS' && error.Error === 'PreconditionFailedError')
    entry = { code: 'INVALID_ECS_SERVICE', kind: 'failure' };
  const { code, kind } = entry ?? { code: 'INTERNAL_ERROR', kind: 'failure' as const };
  return {
    kind,
    errorInformation: { code, message: message.slice(0, 1000) },
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
