/**
 * CodeDeploy's deployment targets: ListDeploymentTargets, GetDeploymentTarget, BatchGetDeploymentTargets, and
 * the deprecated instance operations (ListDeploymentInstances, GetDeploymentInstance,
 * BatchGetDeploymentInstances), with CodeDeploy's exception names (the 2014-10-06 model). A Server
 * deployment's targets are its hosts as the fleet records them (status, lifecycle events, diagnostics).
 */
import { ApiError } from '../domain/errors.js';
import type { Deployment } from '../domain/model.js';
import type { Environment } from '../domain/notifications.js';
import { platformOf } from '../platforms/index.js';
import {
  TARGET_READ_USES,
  type DescribedTarget,
  type TargetProgress,
  type TargetReadPorts,
} from '../platforms/platform.js';
import type { Deployments } from '../ports/index.js';
import { decodeToken, encodeToken, operation, PAGE, str, type Input, type Operation } from './operation.js';
import { epochSeconds } from './shapes.js';

/** CodeDeploy's TargetStatus / InstanceStatus values. */
const TARGET_STATUSES = ['Pending', 'InProgress', 'Succeeded', 'Failed', 'Skipped', 'Unknown', 'Ready'];
/** CodeDeploy's TargetLabel / InstanceType values (blue/green only). */
const LABELS = ['Blue', 'Green'];
/** The most ids one BatchGet call takes. */
const BATCH = 25;
/** CodeDeploy's deployment ids: `d-` and nine upper-case letters and digits. */
const DEPLOYMENT_ID = /^d-[A-Z0-9]{9}$/;

/** CodeDeploy's target status for a deployment's status (a target that moves with its deployment). */
const TARGET_STATUS: Record<string, string> = {
  Succeeded: 'Succeeded',
  Failed: 'Failed',
  Stopped: 'Skipped',
  Created: 'Pending',
  Ready: 'Ready',
};

/** The progress of a target that moves with its deployment (Lambda's function, ECS's service). */
function deploymentProgress(d: Deployment): TargetProgress {
  const s = d.state;
  const allow = s.lifecycleEvents.find((e) => e.lifecycleEventName === 'AllowTraffic');
  return {
    status: Object.hasOwn(TARGET_STATUS, s.status) ? TARGET_STATUS[s.status]! : 'InProgress',
    lastUpdatedAt: epochSeconds(
      s.completeTime ?? allow?.endTime ?? allow?.startTime ?? s.startTime ?? d.spec.createTime,
    )!,
    lifecycleEvents: s.lifecycleEvents.map((e) => ({
      lifecycleEventName: e.lifecycleEventName,
      status: e.status,
      ...(e.startTime ? { startTime: epochSeconds(e.startTime)! } : {}),
      ...(e.endTime ? { endTime: epochSeconds(e.endTime)! } : {}),
      ...(e.diagnostics ? { diagnostics: { errorCode: e.diagnostics.errorCode, message: e.diagnostics.message } } : {}),
    })),
  };
}

/** A deployment's target with its progress: its own, or its deployment's. */
export interface Target {
  described: DescribedTarget;
  progress: TargetProgress;
}

/**
 * The targets of a deployment, in target id order (none for a deployment recorded without a target).
 * @throws DependencyUnavailableError when the store is throttled or unavailable
 */
export async function targetsOf(d: Deployment, env: Environment, ports: TargetReadPorts): Promise<Target[]> {
  if (d.spec.target === undefined) return [];
  const described = await platformOf(d.spec.computePlatform).describeTargets(d, env, ports);
  return described.map((t) => ({ described: t, progress: t.progress ?? deploymentProgress(d) }));
}

/** CodeDeploy's DeploymentTarget of a target. */
function deploymentTarget(d: Deployment, t: Target): Record<string, unknown> {
  const { described: x, progress: p } = t;
  return {
    deploymentTargetType: x.deploymentTargetType,
    [x.member]: {
      deploymentId: d.deploymentId,
      targetId: x.targetId,
      targetArn: x.targetArn,
      status: p.status,
      lastUpdatedAt: p.lastUpdatedAt,
      lifecycleEvents: p.lifecycleEvents,
      ...x.detail,
    },
  };
}

/** CodeDeploy's InstanceSummary of a target: the instance's ARN (EC2's, or CodeDeploy's on-premises one). */
function instanceSummary(d: Deployment, t: Target): Record<string, unknown> {
  return {
    deploymentId: d.deploymentId,
    instanceId: t.described.targetArn,
    status: t.progress.status,
    lastUpdatedAt: t.progress.lastUpdatedAt,
    lifecycleEvents: t.progress.lifecycleEvents,
  };
}

async function mustDeployment(d: { deployments: Pick<Deployments, 'get'> }, i: Input): Promise<Deployment> {
  const id = str(i.deploymentId);
  if (!id) throw new ApiError('DeploymentIdRequiredException', 'deploymentId is required');
  if (!DEPLOYMENT_ID.test(id))
    throw new ApiError('InvalidDeploymentIdException', `${id} is not a deployment id (d- and nine letters or digits)`);
  const dep = await d.deployments.get(id);
  if (!dep) throw new ApiError('DeploymentDoesNotExistException', `Deployment ${id} does not exist`);
  return dep;
}

/** The deprecated instance operations answer for EC2/on-premises and Lambda deployments only (as CodeDeploy). */
function mustHaveInstances(d: Deployment): void {
  if (d.spec.computePlatform === 'ECS')
    throw new ApiError(
      'InvalidComputePlatformException',
      `Deployment ${d.deploymentId} is an ECS deployment: use ListDeploymentTargets and BatchGetDeploymentTargets`,
    );
}

/** A status filter's values, each one of CodeDeploy's. @throws ApiError InvalidInstanceStatusException */
function statusFilter(v: unknown, field: string): Set<string> | undefined {
  if (v === undefined || v === null) return undefined;
  const list = Array.isArray(v) ? v.map(str) : [str(v)];
  const bad = list.filter((s) => !TARGET_STATUSES.includes(s));
  if (bad.length)
    throw new ApiError(
      'InvalidInstanceStatusException',
      `${field}: ${bad.join(', ')} is not a status (${TARGET_STATUSES.join(', ')})`,
    );
  return list.length ? new Set(list) : undefined;
}

/**
 * A label filter (Blue, Green): only blue/green deployments have labels, and Cutover's in-place ones have none.
 * @throws ApiError InvalidInstanceTypeException, InvalidDeploymentInstanceTypeException
 */
function labelFilter(v: unknown, field: string, d: Deployment): void {
  if (v === undefined || v === null) return;
  const list = Array.isArray(v) ? v.map(str) : [str(v)];
  if (!list.length) return;
  const bad = list.filter((s) => !LABELS.includes(s));
  if (bad.length)
    throw new ApiError('InvalidInstanceTypeException', `${field}: ${bad.join(', ')} is not Blue or Green`);
  throw new ApiError(
    'InvalidDeploymentInstanceTypeException',
    `${field} is for blue/green EC2 deployments; ${d.deploymentId} is ${
      d.spec.computePlatform === 'Server' ? 'in place' : `a ${d.spec.computePlatform} deployment`
    }`,
  );
}

/** One page of ids from `nextToken`. @throws ApiError InvalidNextTokenException */
function page(ids: string[], nextToken: unknown): { ids: string[]; nextToken?: string } {
  const from = decodeToken(nextToken);
  if (from > ids.length) throw new ApiError('InvalidNextTokenException', 'The next token is not valid');
  return {
    ids: ids.slice(from, from + PAGE),
    ...(from + PAGE < ids.length ? { nextToken: encodeToken(from + PAGE) } : {}),
  };
}

/** Bare instance ids (i-…, on-premises names) and ARNs both name a host. */
const bareId = (id: string) => id.replace(/^arn:aws:(ec2|codedeploy):[^:]*:[^:]*:instance\//, '');

const USES = { deployments: ['get'], ...TARGET_READ_USES } as const;

export const TARGETS: Record<string, Operation> = {
  ListDeploymentTargets: operation(USES, async (i, d) => {
    const dep = await mustDeployment(d, i);
    const filters = (i.targetFilters ?? {}) as Record<string, unknown>;
    if (typeof filters !== 'object' || Array.isArray(filters))
      throw new ApiError(
        'InvalidTargetFilterNameException',
        'targetFilters is a map of TargetStatus, ServerInstanceLabel',
      );
    for (const k of Object.keys(filters))
      if (k !== 'TargetStatus' && k !== 'ServerInstanceLabel')
        throw new ApiError(
          'InvalidTargetFilterNameException',
          `${k} is not a target filter (TargetStatus, ServerInstanceLabel)`,
        );
    const statuses = statusFilter(filters.TargetStatus, 'TargetStatus');
    labelFilter(filters.ServerInstanceLabel, 'ServerInstanceLabel', dep);
    const all = await targetsOf(dep, d.env, d);
    const ids = all.filter((t) => !statuses || statuses.has(t.progress.status)).map((t) => t.described.targetId);
    const p = page(ids, i.nextToken);
    return { targetIds: p.ids, ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
  }),
  GetDeploymentTarget: operation(USES, async (i, d) => {
    const dep = await mustDeployment(d, i);
    const id = str(i.targetId);
    if (!id) throw new ApiError('DeploymentTargetIdRequiredException', 'targetId is required');
    const t = (await targetsOf(dep, d.env, d)).find((x) => x.described.targetId === id);
    if (!t)
      throw new ApiError('DeploymentTargetDoesNotExistException', `No target ${id} in deployment ${dep.deploymentId}`);
    return { deploymentTarget: deploymentTarget(dep, t) };
  }),
  BatchGetDeploymentTargets: operation(USES, async (i, d) => {
    const dep = await mustDeployment(d, i);
    const ids = Array.isArray(i.targetIds) ? i.targetIds.map(str) : [];
    if (!ids.length) throw new ApiError('DeploymentTargetIdRequiredException', 'targetIds is required');
    if (ids.length > BATCH)
      throw new ApiError('DeploymentTargetListSizeExceededException', `At most ${BATCH} target ids per call`);
    if (ids.some((x) => !x)) throw new ApiError('InvalidDeploymentTargetIdException', 'A target id is empty');
    const all = new Map((await targetsOf(dep, d.env, d)).map((t) => [t.described.targetId, t]));
    const missing = ids.filter((x) => !all.has(x));
    if (missing.length)
      throw new ApiError(
        'DeploymentTargetDoesNotExistException',
        `No target ${missing.join(', ')} in deployment ${dep.deploymentId}`,
      );
    return { deploymentTargets: ids.map((x) => deploymentTarget(dep, all.get(x)!)) };
  }),
  ListDeploymentInstances: operation(USES, async (i, d) => {
    const dep = await mustDeployment(d, i);
    mustHaveInstances(dep);
    const statuses = statusFilter(i.instanceStatusFilter, 'instanceStatusFilter');
    labelFilter(i.instanceTypeFilter, 'instanceTypeFilter', dep);
    const all = await targetsOf(dep, d.env, d);
    const ids = all.filter((t) => !statuses || statuses.has(t.progress.status)).map((t) => t.described.targetId);
    const p = page(ids, i.nextToken);
    return { instancesList: p.ids, ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
  }),
  GetDeploymentInstance: operation(USES, async (i, d) => {
    const dep = await mustDeployment(d, i);
    mustHaveInstances(dep);
    const id = bareId(str(i.instanceId));
    if (!id) throw new ApiError('InstanceIdRequiredException', 'instanceId is required');
    const t = (await targetsOf(dep, d.env, d)).find((x) => x.described.targetId === id);
    if (!t)
      throw new ApiError(
        'InstanceDoesNotExistException',
        `Instance ${id} is not part of deployment ${dep.deploymentId}`,
      );
    return { instanceSummary: instanceSummary(dep, t) };
  }),
  BatchGetDeploymentInstances: operation(USES, async (i, d) => {
    const dep = await mustDeployment(d, i);
    mustHaveInstances(dep);
    const ids = Array.isArray(i.instanceIds) ? i.instanceIds.map((x) => bareId(str(x))) : [];
    if (!ids.length || ids.some((x) => !x))
      throw new ApiError('InstanceIdRequiredException', 'instanceIds is required (and no id may be empty)');
    if (ids.length > BATCH) throw new ApiError('BatchLimitExceededException', `At most ${BATCH} instance ids per call`);
    const all = new Map((await targetsOf(dep, d.env, d)).map((t) => [t.described.targetId, t]));
    const missing = ids.filter((x) => !all.has(x));
    return {
      instancesSummary: ids.flatMap((x) => (all.has(x) ? [instanceSummary(dep, all.get(x)!)] : [])),
      ...(missing.length
        ? { errorMessage: `Instances ${missing.join(', ')} are not part of deployment ${dep.deploymentId}` }
        : {}),
    };
  }),
};

/**
 * GetDeployment's deploymentOverview: the targets counted by status. Server deployments count their hosts'
 * own statuses; the others' targets move with the deployment.
 */
export async function deploymentOverview(
  d: Deployment,
  env: Environment,
  ports: TargetReadPorts,
): Promise<Record<string, number> | undefined> {
  if (d.spec.target === undefined || !platformOf(d.spec.computePlatform).inPlace) return undefined;
  const counts: Record<string, number> = { Pending: 0, InProgress: 0, Succeeded: 0, Failed: 0, Skipped: 0, Ready: 0 };
  for (const t of await targetsOf(d, env, ports))
    if (Object.hasOwn(counts, t.progress.status)) counts[t.progress.status]!++;
  return counts;
}
