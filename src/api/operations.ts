/**
 * The CodeDeploy-compatible operations, by CodeDeploy's operation names, shared by the `api`
 * Lambda function and the local JSON 1.1 server. Errors use CodeDeploy's `{__type, message}` shape.
 */
import { ApiError, InvalidInputError } from '../domain/errors.js';
import { DEPLOYMENT_ID_RE } from '../domain/ids.js';
import type { Deployments } from '../ports/index.js';
import { predefinedDeploymentConfig } from '../platforms/index.js';
import { TASKS } from '../tasks/index.js';
import { unionOfUses, type Deps, type Uses } from '../tasks/task.js';
import { CATALOG } from './catalog.js';
import { fieldException, modelIssues, modelOperation } from './model/index.js';
import { refusal } from './refused.js';
import { AUTHORIZE_USES, authorizeRequest } from './authorization.js';
import { isClientError, toApiError, type ApiErrorShape } from './errors.js';
import { HOST_COMMAND_API } from './host-commands.js';
import { ON_PREMISES } from './on-premises.js';
import { TAGGING } from './tagging.js';
import { nameProblem } from '../domain/names.js';
import {
  decodeToken,
  encodeToken,
  operation,
  PAGE,
  str,
  taskOperation,
  type Operation,
  type RequestContext,
} from './operation.js';
import { TARGET_READ_USES } from '../platforms/platform.js';
import { deploymentOverview, TARGETS } from './targets.js';
import { applicationInfo, deploymentConfigInfo, deploymentGroupInfo, deploymentInfo } from './shapes.js';

async function mustGetDeployment(d: { deployments: Pick<Deployments, 'get'> }, id: unknown) {
  if (!id) throw new ApiError('DeploymentIdRequiredException', 'deploymentId is required');
  if (!DEPLOYMENT_ID_RE.test(str(id)))
    throw new ApiError(
      'InvalidDeploymentIdException',
      'deploymentId: not a deployment id (d- and 9 letters or digits)',
    );
  const deployment = await d.deployments.get(str(id));
  if (!deployment) throw new ApiError('DeploymentDoesNotExistException', `Deployment ${str(id)} does not exist`);
  return deployment;
}

/** Group fields of which a request may give only one (UpdateDeploymentGroup keeps neither when one is given). */
const EXCLUSIVE_GROUP_FIELDS = [
  ['ec2TagFilters', 'ec2TagSet'],
  ['onPremisesInstanceTagFilters', 'onPremisesTagSet'],
] as const;

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
    uses: unionOfUses(TASKS.updateDeploymentGroup.uses, {
      catalog: ['getDeploymentGroup', 'renameDeploymentGroup'],
    }),
    run: async (i, d) => {
      const current = i.currentDeploymentGroupName ?? i.deploymentGroupName;
      if (!current)
        throw new ApiError('DeploymentGroupNameRequiredException', 'currentDeploymentGroupName is required');
      const app = str(i.applicationName);
      const rename =
        i.newDeploymentGroupName === undefined ||
        i.newDeploymentGroupName === null ||
        i.newDeploymentGroupName === current
          ? undefined
          : str(i.newDeploymentGroupName);
      const problem = rename === undefined ? undefined : nameProblem(rename);
      if (problem)
        throw new ApiError(
          'InvalidDeploymentGroupNameException',
          `newDeploymentGroupName ${JSON.stringify(rename!.slice(0, 120))}: ${problem}`,
        );
      const existing = await d.catalog.getDeploymentGroup(app, str(current));
      if (!existing)
        throw new ApiError('DeploymentGroupDoesNotExistException', `Deployment group ${str(current)} does not exist`);
      // A name that is taken is refused before any setting changes (renameDeploymentGroup refuses a race too).
      if (rename !== undefined && (await d.catalog.getDeploymentGroup(app, rename)))
        throw new ApiError(
          'DeploymentGroupAlreadyExistsException',
          `Deployment group ${rename} already exists in application ${app}`,
        );
      // Like CodeDeploy, fields left out keep their current values.
      const { currentDeploymentGroupName: _c, newDeploymentGroupName: _n, ...given } = i;
      const keep: Partial<Record<string, unknown>> = {
        serviceRoleArn: existing.serviceRoleArn,
        deploymentConfigName: existing.deploymentConfigName,
        alarmConfiguration: existing.alarmConfiguration,
        autoRollbackConfiguration: existing.autoRollbackConfiguration,
        triggerConfigurations: existing.triggerConfigurations,
        hookTimeoutSeconds: existing.hookTimeoutSeconds,
        hookConfiguration: existing.hookConfiguration,
        // Not webhookSecret: the group's secret stays where it is unless one is given (the task keeps its reference).
        webhookAllowedHosts: existing.webhookAllowedHosts,
        ecsServices: existing.ecsServices,
        loadBalancerInfo: existing.loadBalancerInfo,
        blueGreenDeploymentConfiguration: existing.blueGreenDeploymentConfiguration,
        deploymentStyle: existing.deploymentStyle,
        ec2TagFilters: existing.ec2TagFilters,
        ec2TagSet: existing.ec2TagSet,
        onPremisesInstanceTagFilters: existing.onPremisesInstanceTagFilters,
        onPremisesTagSet: existing.onPremisesTagSet,
        autoScalingGroups: existing.autoScalingGroups,
        outdatedInstancesStrategy: existing.outdatedInstancesStrategy,
        terminationHookEnabled: existing.terminationHookEnabled,
      };
      // A tag list and a tag set exclude each other: giving one replaces the one kept.
      for (const [list, set] of EXCLUSIVE_GROUP_FIELDS) {
        if (given[list] !== undefined) delete keep[set];
        if (given[set] !== undefined) delete keep[list];
      }
      const settings = Object.fromEntries(
        Object.entries({ ...keep, ...given }).filter(([, v]) => v !== undefined && v !== null),
      );
      await TASKS.updateDeploymentGroup.run({ ...settings, deploymentGroupName: current }, d);
      // The group keeps its id, lock, history and tags; a deployment running on it goes on (by its id).
      if (rename !== undefined) await d.catalog.renameDeploymentGroup(app, str(current), rename);
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
  BatchGetDeploymentGroups: operation({ catalog: ['getApplication', 'getDeploymentGroup'] }, async (i, d) => {
    const app = str(i.applicationName);
    if (!app) throw new ApiError('ApplicationNameRequiredException', 'applicationName is required');
    const names = Array.isArray(i.deploymentGroupNames) ? i.deploymentGroupNames.map(str) : [];
    if (!names.length) throw new ApiError('DeploymentGroupNameRequiredException', 'deploymentGroupNames is required');
    if (names.length > 100)
      throw new ApiError('BatchLimitExceededException', 'At most 100 deployment group names per call');
    if (!(await d.catalog.getApplication(app)))
      throw new ApiError('ApplicationDoesNotExistException', `Application ${app} does not exist`);
    const groups = await Promise.all(names.map((n) => d.catalog.getDeploymentGroup(app, n)));
    const missing = names.filter((_, k) => !groups[k]);
    return {
      deploymentGroupsInfo: groups.flatMap((g) => (g ? [deploymentGroupInfo(g)] : [])),
      // CodeDeploy answers what it found and names the rest here.
      ...(missing.length ? { errorMessage: `Deployment groups not found in ${app}: ${missing.join(', ')}` } : {}),
    };
  }),
  CreateDeploymentConfig: taskOperation(TASKS.createDeploymentConfig),
  GetDeploymentConfig: operation({ catalog: ['getDeploymentConfig'] }, async (i, d) => {
    const name = str(i.deploymentConfigName);
    const config = predefinedDeploymentConfig(name) ?? (await d.catalog.getDeploymentConfig(name));
    if (!config)
      throw new ApiError('DeploymentConfigDoesNotExistException', `Deployment configuration ${name} does not exist`);
    return { deploymentConfigInfo: deploymentConfigInfo(config) };
  }),
  // `creator` is Cutover's record of who started a deployment (S3, CodePipeline, a rollback): never the
  // client's to set. The public operation always creates as `user`.
  CreateDeployment: taskOperation(TASKS.createDeployment, ({ creator: _creator, ...input }) => ({
    ...input,
    creator: 'user',
  })),
  // deploymentOverview counts a Server deployment's hosts by their own status (their records).
  GetDeployment: operation({ deployments: ['get'], ...TARGET_READ_USES }, async (i, d) => {
    const dep = await mustGetDeployment(d, i.deploymentId);
    return { deploymentInfo: deploymentInfo(dep, await deploymentOverview(dep, d.env, d)) };
  }),
  BatchGetDeployments: operation({ deployments: ['get'], ...TARGET_READ_USES }, async (i, d) => {
    const ids = Array.isArray(i.deploymentIds) ? i.deploymentIds.map(str) : [];
    if (ids.length > 25) throw new ApiError('BatchLimitExceededException', 'At most 25 deployment ids per call');
    const found = (await Promise.all(ids.map((id) => d.deployments.get(id)))).filter((x) => x !== undefined);
    return {
      deploymentsInfo: await Promise.all(
        found.map(async (x) => deploymentInfo(x, await deploymentOverview(x, d.env, d))),
      ),
    };
  }),
  ListDeployments: operation(
    { catalog: ['getDeploymentGroup', 'listApplications', 'listDeploymentGroups'], deployments: ['get', 'list'] },
    async (i, d) => {
      const filter = listDeploymentsFilter(i);
      let ids: string[];
      if (filter.app !== undefined && filter.group !== undefined) {
        if (!(await d.catalog.getDeploymentGroup(filter.app, filter.group)))
          throw new ApiError('DeploymentGroupDoesNotExistException', `Deployment group ${filter.group} does not exist`);
        ids = await d.deployments.list(filter.app, filter.group);
      } else {
        // Neither given: every group's deployments, newest first, as CodeDeploy lists the account's.
        const groups = (
          await Promise.all(
            (await d.catalog.listApplications()).map((a) => d.catalog.listDeploymentGroups(a.applicationName)),
          )
        ).flat();
        ids = (
          await Promise.all(groups.map((g) => d.deployments.list(g.applicationName, g.deploymentGroupName)))
        ).flat();
      }
      if (
        filter.statuses.length ||
        filter.start !== undefined ||
        filter.end !== undefined ||
        filter.app === undefined
      ) {
        const all = (await Promise.all(ids.map((id) => d.deployments.get(id)))).filter(
          (x): x is NonNullable<typeof x> => x !== undefined,
        );
        ids = all
          .filter((x) => !filter.statuses.length || filter.statuses.includes(x.state.status))
          .map((x) => ({ id: x.deploymentId, t: Date.parse(x.spec.createTime) / 1000 }))
          .filter(
            ({ t }) =>
              (filter.start === undefined || t >= filter.start) && (filter.end === undefined || t <= filter.end),
          )
          .sort((a, b) => b.t - a.t)
          .map((x) => x.id);
      }
      const from = decodeToken(i.nextToken);
      const page = ids.slice(from, from + PAGE);
      return { deployments: page, ...(from + PAGE < ids.length ? { nextToken: encodeToken(from + PAGE) } : {}) };
    },
  ),
  PutLifecycleEventHookExecutionStatus: taskOperation(TASKS.putLifecycleEventHookExecutionStatus),
  // CloudFormation's blue/green hook calls it to delete what CodeDeploy created for a stack's external id.
  // Cutover creates nothing by external id, so there is never anything to delete (the model lists no errors).
  DeleteResourcesByExternalId: operation({}, async () => ({})),
  StopDeployment: taskOperation(TASKS.stopDeployment),
  ...CATALOG,
  ...TARGETS,
  ...ON_PREMISES,
  ...TAGGING,
  // The agents' command service (served under its own X-Amz-Target prefix).
  ...HOST_COMMAND_API,
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

/** ListDeployments' filters, checked as CodeDeploy checks them (every problem of a kind in one message). */
function listDeploymentsFilter(i: Record<string, unknown>): {
  app?: string;
  group?: string;
  statuses: string[];
  start?: number;
  end?: number;
} {
  const app = i.applicationName === undefined ? undefined : str(i.applicationName);
  const group = i.deploymentGroupName === undefined ? undefined : str(i.deploymentGroupName);
  // The application and the group go together, or neither is given.
  if (app !== undefined && group === undefined)
    throw new ApiError('DeploymentGroupNameRequiredException', 'deploymentGroupName: required with applicationName');
  if (group !== undefined && app === undefined)
    throw new ApiError('ApplicationNameRequiredException', 'applicationName: required with deploymentGroupName');
  // Types and enum values were checked against the model before the operation ran.
  const statuses = ((i.includeOnlyStatuses as unknown[] | undefined) ?? []).map(String);
  const range = i.createTimeRange;
  if (range === undefined) return { ...(app !== undefined ? { app, group } : {}), statuses };
  const { start, end } = range as { start?: number; end?: number };
  if (start !== undefined && end !== undefined && start > end)
    throw new ApiError('InvalidTimeRangeException', 'createTimeRange: start is after end');
  return {
    ...(app !== undefined ? { app, group } : {}),
    statuses,
    ...(start !== undefined ? { start } : {}),
    ...(end !== undefined ? { end } : {}),
  };
}

/** Every port method some operation uses: the `api` function's grants. */
export const API_USES: Uses = unionOfUses(AUTHORIZE_USES, ...Object.values(OPERATIONS).map((o) => o.uses));

/** Run one operation: `{output}` on success, `{error: {__type, message}}` otherwise. */
export async function dispatch(
  operation: string,
  input: unknown,
  deps: Deps,
  /** Local mode: each operation sees only the ports it declares. */
  viewFor: (caller: string, uses: Uses) => Deps = () => deps,
  /** Who signed the request (the host command operations need it). */
  context: RequestContext = {},
): Promise<{ output: unknown } | { error: ApiErrorShape }> {
  // Own keys only: an operation name such as "constructor" is not an operation.
  const refused = refusal(operation);
  if (refused) return { error: toApiError(refused) };
  const op = Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined;
  if (!op) return { error: { __type: 'UnknownOperationException', message: `Unknown operation ${operation}` } };
  try {
    // CodeDeploy's model first: types, lengths and enums of every field, all problems at once, answered
    // with an exception the operation's model lists (before any lookup, so no bad input reaches a store).
    const issues = modelIssues(operation, input ?? {});
    if (issues.length) {
      const first = issues[0]!;
      const field = first.path.split(/[.[ ]/)[0]!;
      throw new InvalidInputError(
        issues,
        first.exception ?? fieldException(operation, field) ?? 'InvalidInputException',
      );
    }
    const given = (input ?? {}) as Record<string, unknown>;
    // Then who may: CodeDeploy's action on its resources, asked of the Authorizer (docs/adr/0024), after
    // the model check so only well-formed names reach a resource ARN.
    if (!context.trusted)
      await authorizeRequest(operation, given, context, {
        ...viewFor('api.authorize', AUTHORIZE_USES as Uses),
        ...(deps.authorizer ? { authorizer: deps.authorizer } : {}),
      });
    return {
      output: await op.run(given, viewFor(`api.${operation}`, op.uses), context),
    };
  } catch (e) {
    if (!isClientError(e)) deps.log.error('api operation failed', { operation, error: (e as Error).message });
    return { error: modelledError(operation, e, toApiError(e)) };
  }
}

/** Answered whatever the operation: the client retries or fixes its own request. */
const COMMON_ERRORS = new Set([
  'AccessDeniedException',
  'InternalFailure',
  'ThrottlingException',
  'ServiceUnavailableException',
  'RequestEntityTooLargeException',
]);

/**
 * A client error under a name the operation's model lists: CodeDeploy's clients (the SDKs' typed
 * exceptions, Terraform's retry rules) only know those. A check deep in a handler may throw a generic
 * name (InvalidInputException); it is answered as the modelled exception for the field it names.
 */
function modelledError(operation: string, e: unknown, shape: ApiErrorShape): ApiErrorShape {
  const op = modelOperation(operation);
  if (!op || COMMON_ERRORS.has(shape.__type) || op.errors.includes(shape.__type)) return shape;
  const path = e instanceof InvalidInputError ? e.issues[0]?.path : /^([A-Za-z]+)[.:[ ]/.exec(shape.message)?.[1];
  const field = path?.split(/[.[ ]/)[0];
  const name = (field ? fieldException(operation, field) : undefined) ?? op.errors.find((x) => x.startsWith('Invalid'));
  return name ? { ...shape, __type: name } : shape;
}
