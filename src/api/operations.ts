/**
 * The CodeDeploy-compatible operations, by CodeDeploy's operation names, shared by the `api`
 * Lambda function and the local JSON 1.1 server. Errors use CodeDeploy's `{__type, message}` shape.
 */
import { ApiError } from '../domain/errors.js';
import { predefinedConfig } from '../domain/deployment-config.js';
import type { Deployments } from '../ports/index.js';
import { TASKS } from '../tasks/index.js';
import { unionOfUses, type Deps, type Uses } from '../tasks/task.js';
import { CATALOG } from './catalog.js';
import { isClientError, toApiError, type ApiErrorShape } from './errors.js';
import { operation, str, taskOperation, type Operation } from './operation.js';
import { applicationInfo, deploymentConfigInfo, deploymentGroupInfo, deploymentInfo } from './shapes.js';

const PAGE = 100;
const decodeToken = (t: unknown): number => {
  if (t === undefined || t === null) return 0;
  const n = Number(Buffer.from(String(t), 'base64url').toString('utf8'));
  if (!Number.isInteger(n) || n < 0) throw new ApiError('InvalidNextTokenException', 'The next token is not valid');
  return n;
};
const encodeToken = (n: number): string => Buffer.from(String(n), 'utf8').toString('base64url');

async function mustGetDeployment(d: { deployments: Pick<Deployments, 'get'> }, id: unknown) {
  if (!id) throw new ApiError('DeploymentIdRequiredException', 'deploymentId is required');
  const deployment = await d.deployments.get(str(id));
  if (!deployment) throw new ApiError('DeploymentDoesNotExistException', `Deployment ${str(id)} does not exist`);
  return deployment;
}

export const OPERATIONS: Record<string, Operation> = {
  CreateApplication: taskOperation(TASKS.createApplication),
  GetApplication: operation({ catalog: ['getApplication'] }, async (i, d) => {
    const application = await d.catalog.getApplication(str(i.applicationName));
    if (!application)
      throw new ApiError('ApplicationDoesNotExistException', `Application ${str(i.applicationName)} does not exist`);
    return { application: applicationInfo(application) };
  }),
  CreateDeploymentGroup: taskOperation(TASKS.createDeploymentGroup),
  UpdateDeploymentGroup: {
    uses: unionOfUses(TASKS.updateDeploymentGroup.uses, { catalog: ['getDeploymentGroup'] }),
    run: async (i, d) => {
      const current = i.currentDeploymentGroupName ?? i.deploymentGroupName;
      if (!current)
        throw new ApiError('DeploymentGroupNameRequiredException', 'currentDeploymentGroupName is required');
      if (i.newDeploymentGroupName !== undefined && i.newDeploymentGroupName !== current) {
        throw new ApiError(
          'InvalidOperationException',
          'Renaming a deployment group (newDeploymentGroupName) is not supported yet',
        );
      }
      const existing = await d.catalog.getDeploymentGroup(str(i.applicationName), str(current));
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
  },
  GetDeploymentGroup: operation({ catalog: ['getDeploymentGroup'] }, async (i, d) => {
    const g = await d.catalog.getDeploymentGroup(str(i.applicationName), str(i.deploymentGroupName));
    if (!g)
      throw new ApiError(
        'DeploymentGroupDoesNotExistException',
        `Deployment group ${str(i.deploymentGroupName)} does not exist`,
      );
    return { deploymentGroupInfo: deploymentGroupInfo(g) };
  }),
  CreateDeploymentConfig: taskOperation(TASKS.createDeploymentConfig),
  GetDeploymentConfig: operation({ catalog: ['getDeploymentConfig'] }, async (i, d) => {
    const name = str(i.deploymentConfigName);
    const config = predefinedConfig(name) ?? (await d.catalog.getDeploymentConfig(name));
    if (!config)
      throw new ApiError('DeploymentConfigDoesNotExistException', `Deployment configuration ${name} does not exist`);
    return { deploymentConfigInfo: deploymentConfigInfo(config) };
  }),
  CreateDeployment: taskOperation(TASKS.createDeployment),
  GetDeployment: operation({ deployments: ['get'] }, async (i, d) => ({
    deploymentInfo: deploymentInfo(await mustGetDeployment(d, i.deploymentId)),
  })),
  BatchGetDeployments: operation({ deployments: ['get'] }, async (i, d) => {
    const ids = Array.isArray(i.deploymentIds) ? i.deploymentIds.map(str) : [];
    if (ids.length > 25) throw new ApiError('BatchLimitExceededException', 'At most 25 deployment ids per call');
    const found = await Promise.all(ids.map((id) => d.deployments.get(id)));
    return { deploymentsInfo: found.flatMap((x) => (x ? [deploymentInfo(x)] : [])) };
  }),
  ListDeployments: operation({ catalog: ['getDeploymentGroup'], deployments: ['get', 'list'] }, async (i, d) => {
    if (!i.applicationName || !i.deploymentGroupName) {
      throw new ApiError(
        i.applicationName ? 'DeploymentGroupNameRequiredException' : 'ApplicationNameRequiredException',
        'applicationName and deploymentGroupName are required',
      );
    }
    if (!(await d.catalog.getDeploymentGroup(str(i.applicationName), str(i.deploymentGroupName)))) {
      throw new ApiError(
        'DeploymentGroupDoesNotExistException',
        `Deployment group ${str(i.deploymentGroupName)} does not exist`,
      );
    }
    const statuses = Array.isArray(i.includeOnlyStatuses) ? i.includeOnlyStatuses.map(str) : [];
    const range = (i.createTimeRange ?? {}) as { start?: number; end?: number };
    let ids = await d.deployments.list(str(i.applicationName), str(i.deploymentGroupName));
    if (statuses.length || range.start !== undefined || range.end !== undefined) {
      const all = await Promise.all(ids.map((id) => d.deployments.get(id)));
      ids = all
        .filter((x): x is NonNullable<typeof x> => x !== undefined)
        .filter((x) => !statuses.length || statuses.includes(x.state.status))
        .filter((x) => {
          const t = Date.parse(x.spec.createTime) / 1000;
          return (range.start === undefined || t >= range.start) && (range.end === undefined || t <= range.end);
        })
        .map((x) => x.deploymentId);
    }
    const from = decodeToken(i.nextToken);
    const page = ids.slice(from, from + PAGE);
    return { deployments: page, ...(from + PAGE < ids.length ? { nextToken: encodeToken(from + PAGE) } : {}) };
  }),
  PutLifecycleEventHookExecutionStatus: taskOperation(TASKS.putLifecycleEventHookExecutionStatus),
  StopDeployment: taskOperation(TASKS.stopDeployment),
  ...CATALOG,
  // Cutover's extras (served under Cutover's own X-Amz-Target prefix).
  PromoteDeployment: taskOperation(TASKS.promoteDeployment),
  PauseDeployment: taskOperation(TASKS.pauseDeployment),
  ResumeDeployment: taskOperation(TASKS.resumeDeployment),
  ApproveDeployment: taskOperation(TASKS.approveDeployment),
  GetDeploymentTimeline: operation({ deployments: ['get'], timeline: ['list'] }, async (i, d) => {
    const deployment = await mustGetDeployment(d, i.deploymentId);
    const timeline = await d.timeline.list(deployment.deploymentId);
    return { timeline: timeline.map((t) => ({ at: t.at, event: t.event, message: t.message })) };
  }),
};

export { CUTOVER_OPERATIONS } from './names.js';

/** Every port method some operation uses: the `api` function's grants. */
export const API_USES: Uses = unionOfUses(...Object.values(OPERATIONS).map((o) => o.uses));

/** Run one operation: `{output}` on success, `{error: {__type, message}}` otherwise. */
export async function dispatch(
  operation: string,
  input: unknown,
  deps: Deps,
  /** Local mode: each operation sees only the ports it declares. */
  viewFor: (caller: string, uses: Uses) => Deps = () => deps,
): Promise<{ output: unknown } | { error: ApiErrorShape }> {
  // Own keys only: an operation name such as "constructor" is not an operation.
  const op = Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined;
  if (!op) return { error: { __type: 'UnknownOperationException', message: `Unknown operation ${operation}` } };
  try {
    return { output: await op.run((input ?? {}) as Record<string, unknown>, viewFor(`api.${operation}`, op.uses)) };
  } catch (e) {
    if (!isClientError(e)) deps.log.error('api operation failed', { operation, error: (e as Error).message });
    return { error: toApiError(e) };
  }
}
