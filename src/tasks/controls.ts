/**
 * Operator controls and the alarm listener. Each records the request on the deployment first (so
 * the next step boundary or wait sees it even in a race) and then ends the current wait at once.
 */
import { z } from 'zod';
import { ApiError } from '../domain/errors.js';
import { isTerminal, type Deployment } from '../domain/model.js';
import { endWait, loadGroup, mutateDeployment, note } from './support.js';
import { defineTask, type Deps } from './task.js';

const Id = z.object({ deploymentId: z.string().optional() });

/** Load an active deployment, or fail with CodeDeploy's exception names. */
async function active(deps: Deps, deploymentId: string | undefined): Promise<Deployment> {
  if (!deploymentId) throw new ApiError('DeploymentIdRequiredException', 'deploymentId is required');
  const d = await deps.store.getDeployment(deploymentId);
  if (!d) throw new ApiError('DeploymentDoesNotExistException', `Deployment ${deploymentId} does not exist`);
  if (isTerminal(d.status))
    throw new ApiError(
      'DeploymentAlreadyCompletedException',
      `Deployment ${deploymentId} has already completed (${d.status})`,
    );
  return d;
}

const StopInput = Id.extend({ autoRollbackEnabled: z.boolean().optional() });

/**
 * CodeDeploy's StopDeployment. With rollback unless `autoRollbackEnabled: false`, in which case
 * traffic stays where it is. Ends any wait at once; the outcome is `Stopped` (MANUAL_STOP).
 */
async function stop(
  input: z.infer<typeof StopInput>,
  deps: Deps,
): Promise<{ status: 'Pending'; statusMessage: string }> {
  const d = await active(deps, input.deploymentId);
  const at = deps.clock.now().toISOString();
  const updated = await mutateDeployment(deps, d.deploymentId, (cur) =>
    cur.stopRequest
      ? undefined
      : {
          stopRequest: {
            at,
            ...(input.autoRollbackEnabled !== undefined ? { autoRollbackEnabled: input.autoRollbackEnabled } : {}),
          },
        },
  );
  const rollback = input.autoRollbackEnabled !== false;
  await note(
    deps,
    d.deploymentId,
    'StopRequested',
    `Stop requested${rollback ? ' with rollback' : ', leaving traffic where it is'}`,
  );
  await endWait(deps, updated, { fail: 'DeploymentStoppedError', cause: `Stopped by request at ${at}` });
  return {
    status: 'Pending',
    statusMessage: `Stopping deployment ${d.deploymentId}${rollback ? ' and rolling back' : ''}`,
  };
}
export const stopDeployment = defineTask('stopDeployment', StopInput, stop);

/** Skip every remaining bake and approval and go to 100% now (AfterAllowTraffic still runs). */
async function promote(input: z.infer<typeof Id>, deps: Deps): Promise<{ status: 'Promoted' }> {
  const d = await active(deps, input.deploymentId);
  const at = deps.clock.now().toISOString();
  const updated = await mutateDeployment(deps, d.deploymentId, (cur) =>
    cur.promoted ? undefined : { promoted: { at }, paused: undefined },
  );
  await note(deps, d.deploymentId, 'Promoted', 'Promoted: skipping the remaining bakes, going to 100%');
  await endWait(deps, updated, { succeed: { ended: 'promoted' } }, ['bake', 'pause', 'approval']);
  return { status: 'Promoted' };
}
export const promoteDeployment = defineTask('promoteDeployment', Id, promote);

/** Hold at the current weight; the bake clock stops until resume. */
async function pause(input: z.infer<typeof Id>, deps: Deps): Promise<{ status: 'Paused' }> {
  const d = await active(deps, input.deploymentId);
  const now = deps.clock.now();
  const updated = await mutateDeployment(deps, d.deploymentId, (cur) => {
    if (cur.paused) return undefined;
    const left = cur.bakeUntil ? Math.max(0, Math.ceil((Date.parse(cur.bakeUntil) - now.getTime()) / 1000)) : 0;
    return { paused: { at: now.toISOString(), remainingBakeSeconds: left }, bakeUntil: undefined };
  });
  await endWait(deps, updated, { succeed: { ended: 'paused' } }, ['bake']);
  return { status: 'Paused' };
}
export const pauseDeployment = defineTask('pauseDeployment', Id, pause);

/** Continue a paused deployment with the bake time that was left. */
async function resume(input: z.infer<typeof Id>, deps: Deps): Promise<{ status: 'Resumed' }> {
  const d = await active(deps, input.deploymentId);
  if (!d.paused)
    throw new ApiError('DeploymentIsNotInReadyStateException', `Deployment ${d.deploymentId} is not paused`);
  const now = deps.clock.now();
  const updated = await mutateDeployment(deps, d.deploymentId, (cur) =>
    cur.paused
      ? {
          paused: undefined,
          bakeUntil:
            cur.paused.remainingBakeSeconds > 0
              ? new Date(now.getTime() + cur.paused.remainingBakeSeconds * 1000).toISOString()
              : undefined,
        }
      : undefined,
  );
  await note(deps, d.deploymentId, 'Resumed', `Resumed at ${d.targetWeight}%`);
  await endWait(deps, updated, { succeed: { ended: 'resumed' } }, ['pause']);
  return { status: 'Resumed' };
}
export const resumeDeployment = defineTask('resumeDeployment', Id, resume);

/** Approve the approval step the deployment is waiting on. */
async function approve(input: z.infer<typeof Id>, deps: Deps): Promise<{ status: 'Approved' }> {
  const d = await active(deps, input.deploymentId);
  const index = d.stepIndex ?? -1;
  if (d.plan?.steps[index]?.kind !== 'approve' || d.approvedSteps?.includes(index)) {
    throw new ApiError(
      'DeploymentIsNotInReadyStateException',
      `Deployment ${d.deploymentId} is not waiting for an approval`,
    );
  }
  const updated = await mutateDeployment(deps, d.deploymentId, (cur) => ({
    approvedSteps: [...(cur.approvedSteps ?? []), index],
  }));
  await note(deps, d.deploymentId, 'Approved', `Step ${index + 1} approved`);
  await endWait(deps, updated, { succeed: { ended: 'approved' } }, ['approval']);
  return { status: 'Approved' };
}
export const approveDeployment = defineTask('approveDeployment', Id, approve);

const ContinueInput = Id.extend({ deploymentWaitType: z.enum(['READY_WAIT', 'TERMINATION_WAIT']).optional() });

/**
 * CodeDeploy's ContinueDeployment. ECS: READY_WAIT starts rerouting production traffic after a
 * STOP_DEPLOYMENT ready wait; TERMINATION_WAIT deletes the original task set now instead of at
 * the end of the termination wait. Lambda (no such waits): approves the approval step it waits on.
 */
async function continueDeployment_(input: z.infer<typeof ContinueInput>, deps: Deps): Promise<{ status: 'Continued' }> {
  const d = await active(deps, input.deploymentId);
  if (d.computePlatform !== 'ECS') {
    await approve({ deploymentId: d.deploymentId }, deps);
    return { status: 'Continued' };
  }
  const type = input.deploymentWaitType ?? 'READY_WAIT';
  const kind = type === 'READY_WAIT' ? 'ready' : 'termination';
  if (d.currentWait?.kind !== kind) {
    throw new ApiError(
      'DeploymentIsNotInReadyStateException',
      `Deployment ${d.deploymentId} is not in its ${type === 'READY_WAIT' ? 'ready wait' : 'termination wait'}`,
    );
  }
  const at = deps.clock.now().toISOString();
  const updated = await mutateDeployment(deps, d.deploymentId, (cur) => ({
    continued: { ...cur.continued, [type]: at },
    ...(cur.status === 'Ready' ? { status: 'InProgress' as const } : {}),
  }));
  await note(
    deps,
    d.deploymentId,
    'Continued',
    type === 'READY_WAIT' ? 'Continued: rerouting production traffic' : 'Continued: ending the termination wait now',
  );
  await endWait(deps, updated, { succeed: { ended: 'continued' } }, [kind]);
  return { status: 'Continued' };
}
export const continueDeployment = defineTask('continueDeployment', ContinueInput, continueDeployment_);

/** The EventBridge event `CloudWatch Alarm State Change` (the fields we use). */
const AlarmEvent = z.object({
  time: z.string().optional(),
  detail: z.object({
    alarmName: z.string().min(1),
    state: z.object({ value: z.string(), timestamp: z.string().optional() }),
    previousState: z.object({ value: z.string() }).optional(),
  }),
});

/**
 * Reacts to an alarm going to ALARM: every active deployment watching it (found through the store's
 * alarm index, no scans) has the alarm recorded and its current wait (bake, hook, approval, pause)
 * failed with AlarmActiveError, so rollback starts at once. A deployment between waits acts on the
 * recorded alarm at its next step boundary.
 */
async function onAlarm(
  event: z.infer<typeof AlarmEvent>,
  deps: Deps,
): Promise<{ alarmName: string; interrupted: string[]; recorded: string[] }> {
  const alarmName = event.detail.alarmName;
  const result = { alarmName, interrupted: [] as string[], recorded: [] as string[] };
  if (event.detail.state.value !== 'ALARM') return result;
  const at = event.detail.state.timestamp ?? event.time ?? deps.clock.now().toISOString();
  for (const id of await deps.store.deploymentsWatching(alarmName)) {
    const d = await deps.store.getDeployment(id);
    if (!d || isTerminal(d.status)) continue;
    const group = await loadGroup(deps, d);
    const config = group.alarmConfiguration;
    if (!config.enabled || !config.alarms.some((a) => a.name === alarmName)) continue;
    const updated = await mutateDeployment(deps, id, (cur) =>
      cur.pendingAlarm ? undefined : { pendingAlarm: { alarmName, at } },
    );
    result.recorded.push(id);
    await note(deps, id, 'AlarmFired', `Alarm ${alarmName} went to ALARM`, {
      alarmName,
      previous: event.detail.previousState?.value,
    });
    if (await endWait(deps, updated, { fail: 'AlarmActiveError', cause: `Alarm ${alarmName} went to ALARM at ${at}` }))
      result.interrupted.push(id);
  }
  return result;
}
export const alarmListener = defineTask('alarmListener', AlarmEvent, onAlarm);
