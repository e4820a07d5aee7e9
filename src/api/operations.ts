/**
 * The CodeDeploy-compatible operations, by CodeDeploy's operation names, shared by the `api`
 * Lambda function and (with issue #4) the JSON 1.1 HTTP server. Errors use CodeDeploy's
 * `{__type, message}` shape.
 */
import { ApiError, InvalidInputError } from '../domain/errors.js';
import { predefinedConfig } from '../domain/deployment-config.js';
import { TASKS } from '../tasks/index.js';
import { CATALOG } from './catalog.js';
import { applicationInfo, deploymentConfigInfo, deploymentGroupInfo, deploymentInfo } from './shapes.js';
import type { Deps } from '../tasks/task.js';

type Operation = (input: Record<string, unknown>, deps: Deps) => Promise<unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

const PAGE = 100;
const decodeToken = (t: unknown): number => {
  if (t === undefined || t === null) return 0;
  const n = Number(Buffer.from(String(t), 'base64url').toString('utf8'));
  if (!Number.isInteger(n) || n < 0) throw new ApiError('InvalidNextTokenException', 'The next token is not valid');
  return n;
};
const encodeToken = (n: number): string => Buffer.from(String(n), 'utf8').toString('base64url');

async function mustGetDeployment(d: Deps, id: unknown) {
  if (!id) throw new ApiError('DeploymentIdRequiredException', 'deploymentId is required');
  const deployment = await d.store.getDeployment(str(id));
  if (!deployment) throw new ApiError('DeploymentDoesNotExistException', `Deployment ${str(id)} does not exist`);
  return deployment;
}

export const OPERATIONS: Record<string, Operation> = {
  CreateApplication: (i, d) => TASKS.createApplication.run(i, d),
  GetApplication: async (i, d) => {
    const application = await d.store.getApplication(str(i.applicationName));
    if (!application)
      throw new ApiError('ApplicationDoesNotExistException', `Application ${str(i.applicationName)} does not exist`);
    return { application: applicationInfo(application) };
  },
  CreateDeploymentGroup: (i, d) => TASKS.createDeploymentGroup.run(i, d),
  UpdateDeploymentGroup: async (i, d) => {
    const current = i.currentDeploymentGroupName ?? i.deploymentGroupName;
    if (!current) throw new ApiError('DeploymentGroupNameRequiredException', 'currentDeploymentGroupName is required');
    if (i.newDeploymentGroupName !== undefined && i.newDeploymentGroupName !== current) {
      throw new ApiError(
        'InvalidOperationException',
        'Renaming a deployment group (newDeploymentGroupName) is not supported yet',
      );
    }
    const existing = await d.store.getDeploymentGroup(str(i.applicationName), str(current));
    if (!existing)
      throw new ApiError('DeploymentGroupDoesNotExistException', `Deployment group ${str(current)} does not exist`);
    // Like CodeDeploy, fields left out keep their current values.
    const { currentDeploymentGroupName: _c, newDeploymentGroupName: _n, ...given } = i;
    const keep = {
      serviceRoleArn: existing.serviceRoleArn,
      deploymentConfigName: existing.deploymentConfigName,
      alarmConfiguration: existing.alarmConfiguration,
      autoRollbackConfiguration: existing.autoRollbackConfiguration,
      triggerConfigurations: existing.triggerConfigurations,
      hookTimeoutSeconds: existing.hookTimeoutSeconds,
      hookConfiguration: existing.hookConfiguration,
      webhookSecret: existing.webhookSecret,
      ecsServices: existing.ecsServices,
      loadBalancerInfo: existing.loadBalancerInfo,
      blueGreenDeploymentConfiguration: existing.blueGreenDeploymentConfiguration,
      deploymentStyle: existing.deploymentStyle,
    };
    const settings = Object.fromEntries(
      Object.entries({ ...keep, ...given }).filter(([, v]) => v !== undefined && v !== null),
    );
    await TASKS.updateDeploymentGroup.run({ ...settings, deploymentGroupName: current }, d);
    return { hooksNotCleanedUp: [] };
  },
  GetDeploymentGroup: async (i, d) => {
    const g = await d.store.getDeploymentGroup(str(i.applicationName), str(i.deploymentGroupName));
    if (!g)
      throw new ApiError(
        'DeploymentGroupDoesNotExistException',
        `Deployment group ${str(i.deploymentGroupName)} does not exist`,
      );
    return { deploymentGroupInfo: deploymentGroupInfo(g) };
  },
  CreateDeploymentConfig: (i, d) => TASKS.createDeploymentConfig.run(i, d),
  GetDeploymentConfig: async (i, d) => {
    const name = str(i.deploymentConfigName);
    const config = predefinedConfig(name) ?? (await d.store.getDeploymentConfig(name));
    if (!config)
      throw new ApiError('DeploymentConfigDoesNotExistException', `Deployment configuration ${name} does not exist`);
    return { deploymentConfigInfo: deploymentConfigInfo(config) };
  },
  CreateDeployment: (i, d) => TASKS.createDeployment.run(i, d),
  GetDeployment: async (i, d) => ({ deploymentInfo: deploymentInfo(await mustGetDeployment(d, i.deploymentId)) }),
  BatchGetDeployments: async (i, d) => {
    const ids = Array.isArray(i.deploymentIds) ? i.deploymentIds.map(str) : [];
    if (ids.length > 25) throw new ApiError('BatchLimitExceededException', 'At most 25 deployment ids per call');
    const found = await Promise.all(ids.map((id) => d.store.getDeployment(id)));
    return { deploymentsInfo: found.flatMap((x) => (x ? [deploymentInfo(x)] : [])) };
  },
  ListDeployments: async (i, d) => {
    if (!i.applicationName || !i.deploymentGroupName) {
      throw new ApiError(
        i.applicationName ? 'DeploymentGroupNameRequiredException' : 'ApplicationNameRequiredException',
        'applicationName and deploymentGroupName are required',
      );
    }
    if (!(await d.store.getDeploymentGroup(str(i.applicationName), str(i.deploymentGroupName)))) {
      throw new ApiError(
        'DeploymentGroupDoesNotExistException',
        `Deployment group ${str(i.deploymentGroupName)} does not exist`,
      );
    }
    const statuses = Array.isArray(i.includeOnlyStatuses) ? i.includeOnlyStatuses.map(str) : [];
    const range = (i.createTimeRange ?? {}) as { start?: number; end?: number };
    let ids = await d.store.listDeployments(str(i.applicationName), str(i.deploymentGroupName));
    if (statuses.length || range.start !== undefined || range.end !== undefined) {
      const all = await Promise.all(ids.map((id) => d.store.getDeployment(id)));
      ids = all
        .filter((x): x is NonNullable<typeof x> => x !== undefined)
        .filter((x) => !statuses.length || statuses.includes(x.status))
        .filter((x) => {
          const t = Date.parse(x.createTime) / 1000;
          return (range.start === undefined || t >= range.start) && (range.end === undefined || t <= range.end);
        })
        .map((x) => x.deploymentId);
    }
    const from = decodeToken(i.nextToken);
    const page = ids.slice(from, from + PAGE);
    return { deployments: page, ...(from + PAGE < ids.length ? { nextToken: encodeToken(from + PAGE) } : {}) };
  },
  PutLifecycleEventHookExecutionStatus: (i, d) => TASKS.putLifecycleEventHookExecutionStatus.run(i, d),
  StopDeployment: (i, d) => TASKS.stopDeployment.run(i, d),
  ...CATALOG,
  // Cutover's extras (served under Cutover's own X-Amz-Target prefix).
  PromoteDeployment: (i, d) => TASKS.promoteDeployment.run(i, d),
  PauseDeployment: (i, d) => TASKS.pauseDeployment.run(i, d),
  ResumeDeployment: (i, d) => TASKS.resumeDeployment.run(i, d),
  ApproveDeployment: (i, d) => TASKS.approveDeployment.run(i, d),
  GetDeploymentTimeline: async (i, d) => {
    const deployment = await mustGetDeployment(d, i.deploymentId);
    const timeline = await d.store.getTimeline(deployment.deploymentId);
    return { timeline: timeline.map((t) => ({ at: t.at, event: t.event, message: t.message })) };
  },
};

/** Operations that exist only in Cutover (not in CodeDeploy's API). */
export const CUTOVER_OPERATIONS = new Set([
  'PromoteDeployment',
  'PauseDeployment',
  'ResumeDeployment',
  'ApproveDeployment',
  'GetDeploymentTimeline',
]);

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
export async function dispatch(
  operation: string,
  input: unknown,
  deps: Deps,
): Promise<{ output: unknown } | { error: ApiErrorShape }> {
  const op = OPERATIONS[operation];
  if (!op) return { error: { __type: 'UnknownOperationException', message: `Unknown operation ${operation}` } };
  try {
    return { output: await op((input ?? {}) as Record<string, unknown>, deps) };
  } catch (e) {
    if (!(e instanceof ApiError || e instanceof InvalidInputError))
      deps.log.error('api operation failed', { operation, error: (e as Error).message });
    return { error: toApiError(e) };
  }
}
