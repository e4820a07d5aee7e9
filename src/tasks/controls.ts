/**
 * Operator controls and the alarm listener. Each records the request on the deployment first (so
 * the next step boundary or wait sees it even in a race) and then ends the current wait at once.
 */
import * as z from 'zod/mini';
import { ApiError } from '../domain/errors.js';
import { isTerminal, type Deployment } from '../domain/model.js';
import { failWait, loadGroup, mutateDeployment, note, succeedWait } from './support.js';
import { defineTask, type DepsFor } from './task.js';

const Id = z.object({ deploymentId: z.optional(z.string()) });

/** What a control that ends the current wait by failing it uses: record the request, note it, fail the wait. */
const STOP_USES = {
  deployments: ['get', 'update'],
  timeline: ['append'],
  tokens: ['fail'],
} as const;
/** What a control that lets the current wait end early uses: record the request, note it, end the wait. */
const SUCCEED_USES = {
  deployments: ['get', 'update'],
  timeline: ['append'],
  tokens: ['succeed'],
} as const;
/** Pause is noted when the pause wait begins (startWait), not here. */
const PAUSE_USES = {
  deployments: ['get', 'update'],
  tokens: ['succeed'],
} as const;
type ControlDeps = DepsFor<typeof SUCCEED_USES>;

/** Load an active deployment, or fail with CodeDeploy's exception names. */
async function active(deps: Pick<ControlDeps, 'deployments'>, deploymentId: string | undefined): Promise<Deployment> {
  if (!deploymentId) throw new ApiError('DeploymentIdRequiredException', 'deploymentId is required');
  const d = await deps.deployments.get(deploymentId);
  if (!d) throw new ApiError('DeploymentDoesNotExistException', `Deployment ${deploymentId} does not exist`);
  if (isTerminal(d.state.status))
    throw new ApiError(
      'DeploymentAlreadyCompletedException',
      `Deployment ${deploymentId} has already completed (${d.state.status})`,
    );
  return d;
}

const StopInput = z.extend(Id, { autoRollbackEnabled: z.optional(z.boolean()) });

/**
 * CodeDeploy's StopDeployment. With rollback unless `autoRollbackEnabled: false`, in which case
 * traffic stays where it is. Ends any wait at once; the outcome is `Stopped` (MANUAL_STOP).
 */
async function stop(
  input: z.infer<typeof StopInput>,
  deps: DepsFor<typeof STOP_USES>,
): Promise<{ status: 'Pending'; statusMessage: string }> {
  const d = await active(deps, input.deploymentId);
  const at = deps.clock.stamp().toISOString();
  const updated = await mutateDeployment(deps, d.deploymentId, (cur) =>
    cur.state.stopRequest
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
  await failWait(deps, updated, 'DeploymentStoppedError', `Stopped by request at ${at}`);
  return {
    status: 'Pending',
    statusMessage: `Stopping deployment ${d.deploymentId}${rollback ? ' and rolling back' : ''}`,
  };
}
export const stopDeployment = defineTask('stopDeployment', STOP_USES, StopInput, stop);

/** Skip every remaining bake and approval and go to 100% now (AfterAllowTraffic still runs). */
async function promote(input: z.infer<typeof Id>, deps: ControlDeps): Promise<{ status: 'Promoted' }> {
  const d = await active(deps, input.deploymentId);
  const at = deps.clock.stamp().toISOString();
  const updated = await mutateDeployment(deps, d.deploymentId, (cur) =>
    cur.state.promoted ? undefined : { promoted: { at }, paused: undefined },
  );
  await note(deps, d.deploymentId, 'Promoted', 'Promoted: skipping the remaining bakes, going to 100%');
  await succeedWait(deps, updated, { ended: 'promoted' }, ['bake', 'pause', 'approval']);
  return { status: 'Promoted' };
}
export const promoteDeployment = defineTask('promoteDeployment', SUCCEED_USES, Id, promote);

/** Hold at the current weight; the bake clock stops until resume. */
async function pause(input: z.infer<typeof Id>, deps: DepsFor<typeof PAUSE_USES>): Promise<{ status: 'Paused' }> {
  const d = await active(deps, input.deploymentId);
  const now = deps.clock.now();
  const updated = await mutateDeployment(deps, d.deploymentId, (cur) => {
    if (cur.state.paused) return undefined;
    const left = cur.state.bakeUntil
      ? Math.max(0, Math.ceil((Date.parse(cur.state.bakeUntil) - now.getTime()) / 1000))
      : 0;
    return { paused: { at: now.toISOString(), remainingBakeSeconds: left }, bakeUntil: undefined };
  });
  await succeedWait(deps, updated, { ended: 'paused' }, ['bake']);
  return { status: 'Paused' };
}
export const pauseDeployment = defineTask('pauseDeployment', PAUSE_USES, Id, pause);

/** Continue a paused deployment with the bake time that was left. */
async function resume(input: z.infer<typeof Id>, deps: ControlDeps): Promise<{ status: 'Resumed' }> {
  const d = await active(deps, input.deploymentId);
  if (!d.state.paused)
    throw new ApiError('DeploymentIsNotInReadyStateException', `Deployment ${d.deploymentId} is not paused`);
  const now = deps.clock.now();
  const updated = await mutateDeployment(deps, d.deploymentId, (cur) =>
    cur.state.paused
      ? {
          paused: undefined,
          bakeUntil:
            cur.state.paused.remainingBakeSeconds > 0
              ? new Date(now.getTime() + cur.state.paused.remainingBakeSeconds * 1000).toISOString()
              : undefined,
        }
      : undefined,
  );
  await note(deps, d.deploymentId, 'Resumed', `Resumed at ${d.state.targetWeight}%`);
  await succeedWait(deps, updated, { ended: 'resumed' }, ['pause']);
  return { status: 'Resumed' };
}
export const resumeDeployment = defineTask('resumeDeployment', SUCCEED_USES, Id, resume);

/** Approve the approval step the deployment is waiting on. */
async function approve(input: z.infer<typeof Id>, deps: ControlDeps): Promise<{ status: 'Approved' }> {
  const d = await active(deps, input.deploymentId);
  const index = d.state.stepIndex ?? -1;
  if (d.spec.plan.steps[index]?.kind !== 'approve' || d.state.approvedSteps?.includes(index)) {
    throw new ApiError(
      'DeploymentIsNotInReadyStateException',
      `Deployment ${d.deploymentId} is not waiting for an approval`,
    );
  }
  const updated = await mutateDeployment(deps, d.deploymentId, (cur) => ({
    approvedSteps: [...(cur.state.approvedSteps ?? []), index],
  }));
  await note(deps, d.deploymentId, 'Approved', `Step ${index + 1} approved`);
  await succeedWait(deps, updated, { ended: 'approved' }, ['approval']);
  return { status: 'Approved' };
}
export const approveDeployment = defineTask('approveDeployment', SUCCEED_USES, Id, approve);

const ContinueInput = z.extend(Id, { deploymentWaitType: z.optional(z.enum(['READY_WAIT', 'TERMINATION_WAIT'])) });

/**
 * CodeDeploy's ContinueDeployment: READY_WAIT ends a ready wait (production traffic starts to move),
 * TERMINATION_WAIT ends a termination wait (the original goes now). A deployment waiting for an
 * approval step instead (deployments without such waits) is approved.
 */
async function continueDeployment_(
  input: z.infer<typeof ContinueInput>,
  deps: ControlDeps,
): Promise<{ status: 'Continued' }> {
  const d = await active(deps, input.deploymentId);
  const waiting = d.state.currentWait?.kind;
  if (input.deploymentWaitType !== 'TERMINATION_WAIT' && waiting !== 'ready' && waiting !== 'termination') {
    await approve({ deploymentId: d.deploymentId }, deps);
    return { status: 'Continued' };
  }
  const type = input.deploymentWaitType ?? 'READY_WAIT';
  const kind = type === 'READY_WAIT' ? 'ready' : 'termination';
  if (d.state.currentWait?.kind !== kind) {
    throw new ApiError(
      'DeploymentIsNotInReadyStateException',
      `Deployment ${d.deploymentId} is not in its ${type === 'READY_WAIT' ? 'ready wait' : 'termination wait'}`,
    );
  }
  const at = deps.clock.stamp().toISOString();
  const updated = await mutateDeployment(deps, d.deploymentId, (cur) => ({
    continued: { ...cur.state.continued, [type]: at },
    ...(cur.state.status === 'Ready' ? { status: 'InProgress' as const } : {}),
  }));
  await note(
    deps,
    d.deploymentId,
    'Continued',
    type === 'READY_WAIT' ? 'Continued: rerouting production traffic' : 'Continued: ending the termination wait now',
  );
  await succeedWait(deps, updated, { ended: 'continued' }, [kind]);
  return { status: 'Continued' };
}
export const continueDeployment = defineTask('continueDeployment', SUCCEED_USES, ContinueInput, continueDeployment_);

/** The EventBridge event `CloudWatch Alarm State Change` (the fields we use). */
const AlarmEvent = z.object({
  time: z.optional(z.string()),
  detail: z.object({
    alarmName: z.string().check(z.minLength(1)),
    state: z.object({ value: z.string(), timestamp: z.optional(z.string()) }),
    previousState: z.optional(z.object({ value: z.string() })),
  }),
});

/**
 * Reacts to an alarm going to ALARM: every active deployment watching it (found through the store's
 * alarm index, no scans) has the alarm recorded and its current wait (bake, hook, approval, pause)
 * failed with AlarmActiveError, so rollback starts at once. A deployment between waits acts on the
 * recorded alarm at its next step boundary.
 */
const ALARM_USES = {
  ...STOP_USES,
  alarmWatches: ['watching'],
  catalog: ['getDeploymentGroup'],
} as const;

async function onAlarm(
  event: z.infer<typeof AlarmEvent>,
  deps: DepsFor<typeof ALARM_USES>,
): Promise<{ alarmName: string; interrupted: string[]; recorded: string[] }> {
  const alarmName = event.detail.alarmName;
  const result = { alarmName, interrupted: [] as string[], recorded: [] as string[] };
  if (event.detail.state.value !== 'ALARM') return result;
  const at = event.detail.state.timestamp ?? event.time ?? deps.clock.now().toISOString();
  for (const id of await deps.alarmWatches.watching(alarmName)) {
    const d = await deps.deployments.get(id);
    if (!d || isTerminal(d.state.status)) continue;
    const group = await loadGroup(deps, d);
    const config = group.alarmConfiguration;
    if (!config.enabled || !config.alarms.some((a) => a.name === alarmName)) continue;
    const updated = await mutateDeployment(deps, id, (cur) =>
      cur.state.pendingAlarm ? undefined : { pendingAlarm: { alarmName, at } },
    );
    result.recorded.push(id);
    await note(deps, id, 'AlarmFired', `Alarm ${alarmName} went to ALARM`, {
      alarmName,
      previous: event.detail.previousState?.value,
    });
    if (await failWait(deps, updated, 'AlarmActiveError', `Alarm ${alarmName} went to ALARM at ${at}`))
      result.interrupted.push(id);
  }
  return result;
}
export const alarmListener = defineTask('alarmListener', ALARM_USES, AlarmEvent, onAlarm);
