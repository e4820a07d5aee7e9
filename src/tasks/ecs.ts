/**
 * ECS blue/green (CodeDeploy spec §5.3) over the EcsServices and LoadBalancers ports:
 * Prepare's checks, Install (the green task set, polled until steady), AllowTestTraffic, the
 * production shift with read-back, and the rollback and clean-up that restore blue — each decided
 * from the world as it is, so a retried or interrupted task never half-applies.
 */
import { z } from 'zod';
import { formatDuration } from '../domain/deployment-config.js';
import {
  DependencyUnavailableError,
  DeploymentStoppedError,
  InternalError,
  PreconditionFailedError,
  TaskSetNotSteadyError,
} from '../domain/errors.js';
import {
  NLB_PROTOCOLS,
  describeSplit,
  forwardWeightsFor,
  greenPercentOf,
  sameSplit,
  taskDefinitionShortName,
  targetGroupName,
} from '../domain/ecs.js';
import { withLifecycle, type Deployment, type DeploymentGroup, type EcsTarget } from '../domain/model.js';
import type { EcsServiceInfo, TaskSetInfo, TaskSetSpec } from '../ports/index.js';
import { loadDeployment, loadGroup, mutateDeployment, note } from './support.js';
import { defineTask, type Deps } from './task.js';

/** How long Install waits for the green task set to reach steady state (CodeDeploy: up to an hour). */
export const STEADY_TIMEOUT_SECONDS = 3600;
/** Seconds between two looks at a green task set that is not steady yet. */
export const STEADY_POLL_SECONDS = 15;

const Id = z.object({ deploymentId: z.string().min(1) });

function ecsOf(d: Deployment): EcsTarget {
  if (!d.ecs) throw new InternalError(`deployment ${d.deploymentId} is not an ECS deployment`);
  return d.ecs;
}

/** Blue and green target group ARNs, once Prepare has found them. */
function pairOf(e: EcsTarget): [string, string] {
  if (!e.blueTargetGroupArn || !e.greenTargetGroupArn)
    throw new InternalError('the target group pair has not been resolved (Prepare did not run)');
  return [e.blueTargetGroupArn, e.greenTargetGroupArn];
}

const svcName = (e: EcsTarget) => `${e.clusterName}:${e.serviceName}`;

/** The green task set of this deployment, found by id or by its externalId (the deployment id). */
function greenIn(svc: EcsServiceInfo, d: Deployment): TaskSetInfo | undefined {
  return svc.taskSets.find(
    (t) => (d.ecs?.greenTaskSetId && t.id === d.ecs.greenTaskSetId) || t.externalId === d.deploymentId,
  );
}

/**
 * Non-primary task sets other than this deployment's: the original task set the group's last
 * successful deployment kept (KEEP_ALIVE), or someone else's.
 */
async function otherTaskSets(
  deps: Deps,
  svc: EcsServiceInfo,
  d: Deployment,
  group: DeploymentGroup,
): Promise<{ kept: TaskSetInfo[]; foreign: TaskSetInfo[] }> {
  const others = svc.taskSets.filter((t) => t.status !== 'PRIMARY' && t.externalId !== d.deploymentId);
  const last = group.lastSuccessfulDeployment
    ? await deps.store.getDeployment(group.lastSuccessfulDeployment.deploymentId)
    : undefined;
  const keptId = last?.ecs?.blueTaskSetId;
  return { kept: others.filter((t) => t.id === keptId), foreign: others.filter((t) => t.id !== keptId) };
}

/**
 * Prepare for ECS: the service exists and uses the EXTERNAL controller, has one PRIMARY (blue) task
 * set on one target group of the pair, the listeners forward to the pair and production all to
 * blue, and the configuration suits the load balancer. Returns the problems (empty: ready) and,
 * when ready, the blue/green facts to record.
 */
export async function ecsProblems(
  deps: Deps,
  d: Deployment,
  group: DeploymentGroup,
): Promise<{ problems: string[]; found?: Partial<EcsTarget> }> {
  const e = ecsOf(d);
  const problems: string[] = [];
  const svc = await deps.ecs.describeService(e.clusterName, e.serviceName);
  if (svc.deploymentController !== 'EXTERNAL') {
    return {
      problems: [
        `ECS service ${svcName(e)} uses the ${svc.deploymentController} deployment controller; Cutover drives task sets, which ECS allows only for services with the EXTERNAL deployment controller (create the service with deploymentController {type: EXTERNAL})`,
      ],
    };
  }
  if (svc.status !== 'ACTIVE') problems.push(`ECS service ${svcName(e)} is ${svc.status}, not ACTIVE`);
  const primary = svc.taskSets.filter((t) => t.status === 'PRIMARY');
  const { kept, foreign } = await otherTaskSets(deps, svc, d, group);
  if (primary.length !== 1)
    problems.push(
      `ECS service ${svcName(e)} has ${primary.length} PRIMARY task sets; it needs exactly one (the running version) to deploy from`,
    );
  if (foreign.length)
    problems.push(
      `ECS service ${svcName(e)} has task sets that no Cutover deployment made (${foreign.map((t) => `${t.id} ${t.status}`).join(', ')}): delete them first`,
    );

  const pairNames = group.loadBalancerInfo?.targetGroupPairInfoList[0]?.targetGroups.map((t) => t.name) ?? [];
  const arns = await deps.elb.targetGroupArns(pairNames);
  const missing = pairNames.filter((n) => !arns[n]);
  if (missing.length) problems.push(`target group(s) do not exist: ${missing.join(', ')}`);
  const blue = primary[0];
  const pairArns = pairNames.map((n) => arns[n]).filter((a): a is string => Boolean(a));
  const blueTg = blue?.targetGroupArns.find((a) => pairArns.includes(a));
  if (blue && !missing.length && !blueTg) {
    problems.push(
      `the PRIMARY task set ${blue.id} is not registered with either target group of the pair (${pairNames.join(', ')})`,
    );
  }
  const greenTg = pairArns.find((a) => a !== blueTg);
  // An original task set an earlier deployment kept (KEEP_ALIVE) is replaced, but only if nothing routes to it.
  for (const t of kept) {
    if (t.targetGroupArns.some((a) => a === blueTg))
      problems.push(
        `task set ${t.id}, kept by the last deployment, is registered with ${targetGroupName(blueTg ?? '')}, where production traffic goes: delete it first`,
      );
  }

  const steps = d.plan?.steps.filter((s) => s.kind === 'shift') ?? [];
  for (const [route, listenerArns] of [
    ['production', e.prodListenerArns ?? []],
    ['test', e.testListenerArns ?? []],
  ] as const) {
    for (const arn of listenerArns) {
      let l;
      try {
        l = await deps.elb.describeListener(arn);
      } catch (err) {
        // A missing listener is one problem among the others, not the only one reported.
        if (!(err instanceof PreconditionFailedError)) throw err;
        problems.push(`the ${route} listener: ${err.message}`);
        continue;
      }
      if (route === 'production' && steps.length > 1 && (NLB_PROTOCOLS as readonly string[]).includes(l.protocol)) {
        problems.push(
          `the production listener is a Network Load Balancer listener (${l.protocol}), which cannot split traffic by weight: use CodeDeployDefault.ECSAllAtOnce`,
        );
      }
      if (!blueTg || !greenTg) continue;
      const ours = l.forwards.filter((f) => greenPercentOf(f.weights, blueTg, greenTg) !== undefined);
      if (ours.length === 0) problems.push(`the ${route} listener ${arn} forwards to neither target group of the pair`);
      else if (route === 'production' && ours.some((f) => greenPercentOf(f.weights, blueTg, greenTg) !== 0)) {
        problems.push(
          `the production listener sends traffic to ${targetGroupName(greenTg)} already (${ours.map((f) => describeSplit(f.weights)).join('; ')}); expected all of it on ${targetGroupName(blueTg)}, where the PRIMARY task set runs`,
        );
      }
    }
  }
  if (!problems.length && (!blue || !blueTg || !greenTg))
    problems.push(`could not tell blue from green on ${svcName(e)} (target groups: ${pairNames.join(', ')})`);
  if (problems.length || !blue || !blueTg || !greenTg) return { problems };
  return {
    problems,
    found: {
      blueTaskSetId: blue.id,
      blueTaskDefinition: blue.taskDefinition,
      blueTargetGroupArn: blueTg,
      greenTargetGroupArn: greenTg,
      ...(kept[0] ? { replacesKeptTaskSetId: kept[0].id } : {}),
    },
  };
}

/**
 * The replacement task set: the AppSpec's task definition and container, on the green target group;
 * how it runs (network, platform version, capacity providers or launch type) as the AppSpec says,
 * else as the original task set runs (CodeDeploy: "omitted ⇒ the service's current settings").
 */
export function replacementSpec(d: Deployment, blue: TaskSetInfo | undefined): TaskSetSpec {
  const e = ecsOf(d);
  const [, greenTg] = pairOf(e);
  const network = e.networkConfiguration ?? blue?.networkConfiguration;
  const platformVersion = e.platformVersion ?? blue?.platformVersion;
  const capacity = e.capacityProviderStrategy ?? blue?.capacityProviderStrategy;
  return {
    taskDefinition: e.taskDefinition,
    externalId: d.deploymentId,
    targetGroupArn: greenTg,
    containerName: e.containerName,
    containerPort: e.containerPort,
    scalePercent: 100,
    ...(platformVersion ? { platformVersion } : {}),
    ...(network ? { networkConfiguration: network } : {}),
    ...(capacity?.length
      ? { capacityProviderStrategy: capacity }
      : blue?.launchType
        ? { launchType: blue.launchType }
        : {}),
  };
}

export interface InstallState {
  steady: boolean;
  /** Seconds to wait before looking again (0 when steady). */
  pollSeconds: number;
}

/**
 * Install: create the green task set on the other target group (once: a retry finds it by its
 * externalId), then report whether it is steady. Past the deadline it fails with
 * TaskSetNotSteadyError, and Rollback removes it; no traffic has moved by then.
 */
async function install(input: { deploymentId: string }, deps: Deps): Promise<InstallState> {
  const d = await loadDeployment(deps, input.deploymentId);
  if (d.stopRequest) throw new DeploymentStoppedError(`Stopped by request at ${d.stopRequest.at}`);
  const e = ecsOf(d);
  const [, greenTg] = pairOf(e);
  const now = deps.clock.now();
  let svc = await deps.ecs.describeService(e.clusterName, e.serviceName);
  let green = greenIn(svc, d);
  if (!green) {
    // The original task set the last deployment kept (KEEP_ALIVE) gives way to this one's replacement.
    const old = svc.taskSets.find((t) => t.id === e.replacesKeptTaskSetId && t.status !== 'PRIMARY');
    if (old) {
      await deps.ecs.deleteTaskSet(e.clusterName, e.serviceName, old.id);
      await note(
        deps,
        d.deploymentId,
        'TaskSetRemoved',
        `Task set ${old.id} (${taskDefinitionShortName(old.taskDefinition)}), kept by the last deployment (KEEP_ALIVE), deleted to make room for the replacement`,
      );
    }
    // Record the intent first: Rollback looks for a green task set whenever Install started.
    await mutateDeployment(deps, d.deploymentId, (cur) => ({
      lifecycleEvents: withLifecycle(cur.lifecycleEvents, 'Install', {
        status: 'InProgress',
        startTime: now.toISOString(),
      }),
      ecs: { ...ecsOf(cur), steadyDeadline: new Date(now.getTime() + STEADY_TIMEOUT_SECONDS * 1000).toISOString() },
    }));
    green = await deps.ecs.createTaskSet(
      e.clusterName,
      e.serviceName,
      replacementSpec(
        d,
        svc.taskSets.find((t) => t.id === e.blueTaskSetId),
      ),
    );
    const id = green.id;
    await mutateDeployment(deps, d.deploymentId, (cur) => ({ ecs: { ...ecsOf(cur), greenTaskSetId: id } }));
    await note(
      deps,
      d.deploymentId,
      'TaskSetCreated',
      `Replacement task set ${id} (${taskDefinitionShortName(e.taskDefinition)}) created on ${targetGroupName(greenTg)}; waiting for steady state`,
      {
        taskSetId: id,
        targetGroup: targetGroupName(greenTg),
      },
    );
    svc = await deps.ecs.describeService(e.clusterName, e.serviceName);
    green = greenIn(svc, d) ?? green;
  }
  if (green.stabilityStatus === 'STEADY_STATE') {
    const end = deps.clock.now().toISOString();
    await mutateDeployment(deps, d.deploymentId, (cur) => ({
      lifecycleEvents: withLifecycle(cur.lifecycleEvents, 'Install', { status: 'Succeeded', endTime: end }),
    }));
    await note(
      deps,
      d.deploymentId,
      'TaskSetSteady',
      `Replacement task set ${green.id} is steady (${green.runningCount} running)`,
    );
    return { steady: true, pollSeconds: 0 };
  }
  const deadline = (await loadDeployment(deps, d.deploymentId)).ecs?.steadyDeadline;
  if (deadline && now.getTime() >= Date.parse(deadline)) {
    throw new TaskSetNotSteadyError(
      `Replacement task set ${green.id} did not reach steady state within ${formatDuration(STEADY_TIMEOUT_SECONDS)} (${green.runningCount} running, ${green.pendingCount} pending of ${green.computedDesiredCount})`,
    );
  }
  return { steady: false, pollSeconds: STEADY_POLL_SECONDS };
}

export const installTaskSet = defineTask('installTaskSet', Id, install);

/** Point `listenerArns` at `percent` on green and read every one back. Returns the splits read. */
async function routeListeners(
  deps: Deps,
  e: EcsTarget,
  listenerArns: string[],
  percent: number,
): Promise<Record<string, string>> {
  const [blueTg, greenTg] = pairOf(e);
  const wanted = forwardWeightsFor(blueTg, greenTg, percent);
  await Promise.all(listenerArns.map((arn) => deps.elb.setForward(arn, [blueTg, greenTg], wanted)));
  const after = await Promise.all(listenerArns.map((arn) => deps.elb.describeListener(arn)));
  const out: Record<string, string> = {};
  for (const l of after) {
    const ours = l.forwards.filter((f) => greenPercentOf(f.weights, blueTg, greenTg) !== undefined);
    const wrong = ours.filter((f) => !sameSplit(f.weights, wanted));
    if (ours.length === 0 || wrong.length) {
      throw new DependencyUnavailableError(
        `read-back mismatch after ModifyListener/ModifyRule on ${l.listenerArn}: ${ours.map((f) => describeSplit(f.weights)).join('; ') || 'no forward to the pair'}`,
      );
    }
    out[l.listenerArn] = describeSplit(ours[0]!.weights);
  }
  return out;
}

export interface ReadyState {
  /** Seconds the STOP_DEPLOYMENT ready wait lasts (0: continue at once). */
  waitSeconds: number;
}

/** AllowTestTraffic: the test listener (if any) forwards to green, read back. Then the ready-wait decision. */
async function allowTest(input: { deploymentId: string }, deps: Deps): Promise<ReadyState> {
  const d = await loadDeployment(deps, input.deploymentId);
  if (d.stopRequest) throw new DeploymentStoppedError(`Stopped by request at ${d.stopRequest.at}`);
  const group = await loadGroup(deps, d);
  const e = ecsOf(d);
  const now = deps.clock.now().toISOString();
  const test = e.testListenerArns ?? [];
  if (test.length === 0) {
    await mutateDeployment(deps, d.deploymentId, (cur) => ({
      lifecycleEvents: withLifecycle(
        withLifecycle(cur.lifecycleEvents, 'AllowTestTraffic', { status: 'Skipped' }),
        'AfterAllowTestTraffic',
        { status: 'Skipped' },
      ),
    }));
  } else {
    await mutateDeployment(deps, d.deploymentId, (cur) => ({
      lifecycleEvents: withLifecycle(cur.lifecycleEvents, 'AllowTestTraffic', { status: 'InProgress', startTime: now }),
      ecs: { ...ecsOf(cur), testTrafficOnGreen: true },
    }));
    const split = await routeListeners(deps, e, test, 100);
    await mutateDeployment(deps, d.deploymentId, (cur) => ({
      lifecycleEvents: withLifecycle(cur.lifecycleEvents, 'AllowTestTraffic', {
        status: 'Succeeded',
        endTime: deps.clock.now().toISOString(),
      }),
    }));
    await note(deps, d.deploymentId, 'TestTrafficAllowed', `Test listener → ${Object.values(split).join(', ')}`, {
      routing: split,
    });
  }
  const ready = group.blueGreenDeploymentConfiguration?.deploymentReadyOption;
  const waitSeconds =
    ready?.actionOnTimeout === 'STOP_DEPLOYMENT' && !d.continued?.READY_WAIT ? (ready.waitTimeInMinutes ?? 0) * 60 : 0;
  return { waitSeconds };
}

export const allowTestTraffic = defineTask('allowTestTraffic', Id, allowTest);

/**
 * A production step: every production listener to `percent` on green, read back; at 100 % green
 * becomes the service's PRIMARY task set (read back too).
 */
export async function shiftEcs(deps: Deps, d: Deployment, percent: number): Promise<Record<string, string>> {
  const e = ecsOf(d);
  const routing = await routeListeners(deps, e, e.prodListenerArns ?? [], percent);
  if (percent >= 100) {
    const svc = await deps.ecs.describeService(e.clusterName, e.serviceName);
    const green = greenIn(svc, d);
    if (!green) throw new InternalError(`the replacement task set of ${svcName(e)} is gone`);
    if (green.status !== 'PRIMARY') {
      await deps.ecs.updateServicePrimaryTaskSet(e.clusterName, e.serviceName, green.id);
      const after = greenIn(await deps.ecs.describeService(e.clusterName, e.serviceName), d);
      if (after?.status !== 'PRIMARY')
        throw new DependencyUnavailableError(
          `read-back mismatch after UpdateServicePrimaryTaskSet: ${green.id} is ${after?.status ?? 'gone'}`,
        );
    }
  }
  return routing;
}

/** The state of an ECS deployment's changes, read from the world. */
async function ecsChanges(deps: Deps, d: Deployment) {
  const e = ecsOf(d);
  if (!e.blueTargetGroupArn || !e.greenTargetGroupArn)
    return { changed: false, trafficMoved: false, svc: undefined, green: undefined, prod: [], test: [] };
  const [blueTg, greenTg] = pairOf(e);
  const svc = await deps.ecs.describeService(e.clusterName, e.serviceName);
  const green = greenIn(svc, d);
  const onGreen = async (arns: string[]) => {
    const ls = await Promise.all(arns.map((a) => deps.elb.describeListener(a)));
    return ls
      .filter((l) => l.forwards.some((f) => (greenPercentOf(f.weights, blueTg, greenTg) ?? 0) > 0))
      .map((l) => l.listenerArn);
  };
  const prod = await onGreen(e.prodListenerArns ?? []);
  // Test listeners are ours to restore only if this deployment moved them.
  const test = e.testTrafficOnGreen ? await onGreen(e.testListenerArns ?? []) : [];
  const greenPrimary = green?.status === 'PRIMARY';
  return {
    changed: Boolean(green) || prod.length > 0 || test.length > 0,
    trafficMoved: prod.length > 0,
    svc,
    green,
    greenPrimary,
    prod,
    test,
  };
}

/** Is there anything of this deployment's to undo? (Looked up in the world, not the record.) */
export async function ecsSomethingToUndo(
  deps: Deps,
  d: Deployment,
): Promise<{ changed: boolean; trafficMoved: boolean; describe: string }> {
  const c = await ecsChanges(deps, d);
  const parts = [
    ...(c.green ? [`replacement task set ${c.green.id}${c.greenPrimary ? ' (PRIMARY)' : ''}`] : []),
    ...(c.prod.length ? ['production traffic on green'] : []),
    ...(c.test.length ? ['test traffic on green'] : []),
  ];
  return { changed: c.changed, trafficMoved: c.trafficMoved, describe: parts.join(', ') || 'nothing' };
}

/**
 * Roll back an ECS deployment: production and test listeners all to blue, blue PRIMARY again, the
 * green task set deleted — each read back. Returns a description of the restored state.
 */
export async function rollbackEcs(deps: Deps, d: Deployment): Promise<string> {
  const e = ecsOf(d);
  const [blueTg] = pairOf(e);
  const c = await ecsChanges(deps, d);
  if (c.prod.length) await routeListeners(deps, e, c.prod, 0);
  if (c.test.length) await routeListeners(deps, e, c.test, 0);
  if (c.greenPrimary && e.blueTaskSetId) {
    await deps.ecs.updateServicePrimaryTaskSet(e.clusterName, e.serviceName, e.blueTaskSetId);
  }
  if (c.green) await deps.ecs.deleteTaskSet(e.clusterName, e.serviceName, c.green.id);
  // Read everything back.
  const after = await ecsChanges(deps, d);
  const svc = after.svc;
  const blue = svc?.taskSets.find((t) => t.id === e.blueTaskSetId);
  if (after.changed || (e.blueTaskSetId && blue?.status !== 'PRIMARY')) {
    throw new DependencyUnavailableError(
      `rollback read-back mismatch on ${svcName(e)}: ${(await ecsSomethingToUndo(deps, d)).describe} left; blue task set ${e.blueTaskSetId} is ${blue?.status ?? 'gone'}`,
    );
  }
  return `${svcName(e)}: all traffic on ${targetGroupName(blueTg)} (task set ${e.blueTaskSetId}, ${taskDefinitionShortName(e.blueTaskDefinition ?? '?')}, PRIMARY)${c.green ? `, replacement ${c.green.id} deleted` : ''}`;
}

/** After success: delete blue (TERMINATE) or keep it running without traffic (KEEP_ALIVE). */
export async function finishEcs(deps: Deps, d: Deployment, group: DeploymentGroup): Promise<string> {
  const e = ecsOf(d);
  const action =
    group.blueGreenDeploymentConfiguration?.terminateBlueInstancesOnDeploymentSuccess?.action ?? 'TERMINATE';
  const done = `${svcName(e)} runs ${taskDefinitionShortName(e.taskDefinition)}`;
  if (!e.blueTaskSetId) return done;
  if (action === 'KEEP_ALIVE') return `${done}; original task set ${e.blueTaskSetId} kept (KEEP_ALIVE)`;
  await deps.ecs.deleteTaskSet(e.clusterName, e.serviceName, e.blueTaskSetId);
  const svc = await deps.ecs.describeService(e.clusterName, e.serviceName);
  const left = svc.taskSets.find((t) => t.id === e.blueTaskSetId);
  if (left && left.status !== 'DRAINING')
    throw new DependencyUnavailableError(`read-back mismatch after DeleteTaskSet: ${left.id} is ${left.status}`);
  return `${done}; original task set ${e.blueTaskSetId} deleted`;
}

/** Seconds of the termination wait after AfterAllowTraffic (0: none). */
export function terminationWaitSeconds(group: DeploymentGroup): number {
  const t = group.blueGreenDeploymentConfiguration?.terminateBlueInstancesOnDeploymentSuccess;
  return t?.action === 'TERMINATE' ? (t.terminationWaitTimeInMinutes ?? 0) * 60 : 0;
}
