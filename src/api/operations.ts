/**
 * The CodeDeploy-compatible operations, by CodeDeploy's operation names, shared by the `api`
 * Lambda function and (with issue #4) the JSON 1.1 HTTP server. Errors use CodeDeploy's
 * `{__type, message}` shape.
 */
import { ApiError, InvalidInputError } from '../domain/errors.js';
import { predefinedConfig } from '../domain/deployment-config.js';
import type { RevisionLocation } from '../domain/model.js';
import { TASKS } from '../tasks/index.js';
import type { Deps } from '../tasks/task.js';

type Operation = (input: Record<string, unknown>, deps: Deps) => Promise<unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export const OPERATIONS: Record<string, Operation> = {
  CreateApplication: (i, d) => TASKS.createApplication.run(i, d),
  GetApplication: async (i, d) => {
    const application = await d.store.getApplication(str(i.applicationName));
    if (!application) throw new ApiError('ApplicationDoesNotExistException', `Application ${str(i.applicationName)} does not exist`);
    return { application };
  },
  CreateDeploymentGroup: (i, d) => TASKS.createDeploymentGroup.run(i, d),
  UpdateDeploymentGroup: (i, d) =>
    TASKS.updateDeploymentGroup.run({ ...i, deploymentGroupName: i.newDeploymentGroupName ?? i.currentDeploymentGroupName ?? i.deploymentGroupName }, d),
  GetDeploymentGroup: async (i, d) => {
    const g = await d.store.getDeploymentGroup(str(i.applicationName), str(i.deploymentGroupName));
    if (!g) throw new ApiError('DeploymentGroupDoesNotExistException', `Deployment group ${str(i.deploymentGroupName)} does not exist`);
    const { activeDeploymentId: _lock, webhookSecret: _secret, ...deploymentGroupInfo } = g;
    return { deploymentGroupInfo };
  },
  CreateDeploymentConfig: (i, d) => TASKS.createDeploymentConfig.run(i, d),
  GetDeploymentConfig: async (i, d) => {
    const name = str(i.deploymentConfigName);
    const deploymentConfigInfo = predefinedConfig(name) ?? (await d.store.getDeploymentConfig(name));
    if (!deploymentConfigInfo) throw new ApiError('DeploymentConfigDoesNotExistException', `Deployment configuration ${name} does not exist`);
    return { deploymentConfigInfo };
  },
  CreateDeployment: (i, d) => TASKS.createDeployment.run(i, d),
  GetDeployment: async (i, d) => {
    const deployment = await d.store.getDeployment(str(i.deploymentId));
    if (!deployment) throw new ApiError('DeploymentDoesNotExistException', `Deployment ${str(i.deploymentId)} does not exist`);
    // Like CodeDeploy, GetDeployment does not return the AppSpec content (GetApplicationRevision does).
    const { currentWait: _secret, revision, ...rest } = deployment;
    const deploymentInfo = { ...rest, revision: withoutContent(revision) };
    return { deploymentInfo };
  },
  PutLifecycleEventHookExecutionStatus: (i, d) => TASKS.putLifecycleEventHookExecutionStatus.run(i, d),
  StopDeployment: (i, d) => TASKS.stopDeployment.run(i, d),
  // Cutover's extras (issue #4 serves them under Cutover's own X-Amz-Target prefix).
  PromoteDeployment: (i, d) => TASKS.promoteDeployment.run(i, d),
  PauseDeployment: (i, d) => TASKS.pauseDeployment.run(i, d),
  ResumeDeployment: (i, d) => TASKS.resumeDeployment.run(i, d),
  ApproveDeployment: (i, d) => TASKS.approveDeployment.run(i, d),
};

function withoutContent(r: RevisionLocation): RevisionLocation {
  if (r.revisionType === 'AppSpecContent') return { ...r, appSpecContent: { ...r.appSpecContent, content: null as unknown as string } };
  if (r.revisionType === 'String') return { ...r, string: { ...r.string, content: null as unknown as string } };
  return r;
}

export interface ApiErrorShape {
  __type: string;
  message: string;
}

/** Map any error to CodeDeploy's error shape; unknown errors do not leak internals. */
export function toApiError(e: unknown): ApiErrorShape {
  if (e instanceof ApiError) return { __type: e.exceptionName, message: e.message };
  if (e instanceof InvalidInputError) return { __type: e.exceptionName, message: e.message };
  return { __type: 'InternalFailure', message: 'An internal error occurred' };
}

/** Run one operation: `{output}` on success, `{error: {__type, message}}` otherwise. */
export async function dispatch(operation: string, input: unknown, deps: Deps): Promise<{ output: unknown } | { error: ApiErrorShape }> {
  const op = OPERATIONS[operation];
  if (!op) return { error: { __type: 'UnknownOperationException', message: `Unknown operation ${operation}` } };
  try {
    return { output: await op((input ?? {}) as Record<string, unknown>, deps) };
  } catch (e) {
    if (!(e instanceof ApiError || e instanceof InvalidInputError)) deps.log.error('api operation failed', { operation, error: (e as Error).message });
    return { error: toApiError(e) };
  }
}
