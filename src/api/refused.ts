/**
 * CodeDeploy operations Cutover does not serve, each with the reason and the modelled exception it answers
 * with (test/unit/codedeploy-model.test.ts checks every operation of the model is served or listed here).
 */
import { ApiError } from '../domain/errors.js';

export interface Refusal {
  /** One of the operation's modelled exceptions. */
  exception: string;
  reason: string;
}

export const REFUSED_OPERATIONS: Readonly<Record<string, Refusal>> = {
  DeleteGitHubAccountToken: {
    exception: 'OperationNotSupportedException',
    reason: 'Cutover takes revisions from S3 and inline AppSpecs, not GitHub; it keeps no GitHub tokens',
  },
  ListGitHubAccountTokenNames: {
    exception: 'OperationNotSupportedException',
    reason: 'Cutover takes revisions from S3 and inline AppSpecs, not GitHub; it keeps no GitHub tokens',
  },
  SkipWaitTimeForInstanceTermination: {
    exception: 'UnsupportedActionForDeploymentTypeException',
    reason:
      'deprecated for EC2 blue/green, which Cutover does not run; for ECS use ContinueDeployment with deploymentWaitType TERMINATION_WAIT',
  },
};

/** The error a refused operation answers with, naming why. */
export function refusal(operation: string): ApiError | undefined {
  if (!Object.hasOwn(REFUSED_OPERATIONS, operation)) return undefined;
  const r = REFUSED_OPERATIONS[operation]!;
  return new ApiError(r.exception, `${operation} is not supported by Cutover: ${r.reason}`);
}
