/**
 * The traffic loop (ShiftTraffic). It reads the deployment record and decides: keep baking, stay
 * paused, wait for an approval, or cross a step boundary (read the alarms, move every target to the
 * next weight through the platform and read it back). It is idempotent: the record says which step
 * is applied, which one is being applied, and when its bake ends.
 */
import { formatDuration } from '../domain/deployment-config.js';
import { DependencyUnavailableError, InternalError } from '../domain/errors.js';
import { afterStage, type Next } from '../domain/lifecycle.js';
import { withLifecycle, type Deployment } from '../domain/model.js';
import {
  checkAlarms,
  loadDeployment,
  loadGroup,
  mutateDeployment,
  note,
  strategyContext,
  throwIfStopped,
} from './support.js';
import { DeploymentIdInput, defineTask, type DepsFor } from './task.js';

/** The longest a deployment may stay paused before it fails (7 days). */
export const MAX_PAUSE_SECONDS = 7 * 24 * 3600;

const USES = {
  deployments: ['get', 'update'],
  catalog: ['getDeploymentGroup'],
  timeline: ['append'],
  alarms: ['describe'],
  platforms: ['setWeight', 'verifyWeight'],
} as const;
type ShiftDeps = DepsFor<typeof USES>;

/** Bake time left at `now`, in whole seconds; under a second counts as done. */
function bakeLeft(d: Deployment, now: Date): number {
  if (!d.state.bakeUntil) return 0;
  const left = (Date.parse(d.state.bakeUntil) - now.getTime()) / 1000;
  return left >= 1 ? Math.ceil(left) : 0;
}

/** The stage traffic moves in (AllowTraffic). */
function trafficStage(d: Deployment): string {
  const stage = d.spec.lifecycle.find((s) => s.kind === 'traffic');
  if (!stage) throw new InternalError(`deployment ${d.deploymentId} has no traffic stage`);
  return stage.name;
}

/**
 * Apply step `index`: record the intent, move every target to its weight, read it back. Traffic that
 * does not show the weight yet is looked at again after a while; traffic held elsewhere fails.
 */
async function applyStep(deps: ShiftDeps, d: Deployment, index: number): Promise<Next> {
  const steps = d.spec.plan.steps;
  const step = steps[index];
  if (!step) throw new InternalError(`deployment ${d.deploymentId} has no step ${index}`);
  const stage = trafficStage(d);
  const now = deps.clock.now().toISOString();
  const stamp = deps.clock.stamp().toISOString();
  // The intent first: Rollback trusts it to know traffic may have moved.
  const intent = await mutateDeployment(deps, d.deploymentId, (cur) =>
    cur.state.shifting?.index === index
      ? undefined
      : {
          shifting: { index, weight: step.weight, since: now },
          ...(cur.state.lifecycleEvents.find((e) => e.lifecycleEventName === stage)?.status === 'Pending'
            ? {
                lifecycleEvents: withLifecycle(cur.state.lifecycleEvents, stage, {
                  status: 'InProgress',
                  startTime: stamp,
                }),
              }
            : {}),
        },
  );
  await deps.platforms.setWeight(intent, step.weight, strategyContext(deps, d.deploymentId));
  const read = await deps.platforms.verifyWeight(intent, step.weight);
  if (read.verdict === 'pending') return { kind: 'settle', seconds: read.retryAfterSeconds };
  // Someone else's routing, or a change that did not take: the state machine tries again, then rolls back.
  if (read.verdict === 'mismatch') throw new DependencyUnavailableError(`read-back mismatch: ${read.message}`);

  const last = index === steps.length - 1;
  const shiftedAt = deps.clock.now();
  await mutateDeployment(deps, d.deploymentId, (cur) => ({
    stepIndex: index,
    shifting: undefined,
    targetWeight: step.weight,
    bakeUntil: step.bakeSeconds > 0 ? new Date(shiftedAt.getTime() + step.bakeSeconds * 1000).toISOString() : undefined,
    currentWait: undefined,
    // Verified: a wake-up left for a settle wait of this step is spent.
    settleWake: undefined,
    lifecycleEvents: withLifecycle(cur.state.lifecycleEvents, stage, {
      status: last ? 'Succeeded' : 'InProgress',
      ...(last ? { endTime: deps.clock.stamp().toISOString() } : {}),
    }),
  }));
  const bakes = !last && step.bakeSeconds > 0;
  await note(
    deps,
    d.deploymentId,
    'TrafficShifted',
    `Step ${index + 1}/${steps.length}: ${step.weight}% on target${d.state.promoted ? ' (promoted)' : ''}${bakes ? `, baking ${formatDuration(step.bakeSeconds)}` : ''}`,
    { step: index + 1, weight: step.weight, routing: read.observed },
  );
  if (last) return afterStage(d.spec, stage);
  return bakes ? { kind: 'bake', seconds: step.bakeSeconds } : { kind: 'shift' };
}

async function decide(input: { deploymentId: string }, deps: ShiftDeps): Promise<Next> {
  const d = await loadDeployment(deps, input.deploymentId);
  throwIfStopped(d);
  if (d.state.status !== 'InProgress')
    throw new InternalError(`deployment ${d.deploymentId} is ${d.state.status}, cannot shift traffic`);
  // A step whose traffic has not read back yet: apply it again and look.
  if (d.state.shifting) return applyStep(deps, d, d.state.shifting.index);

  const steps = d.spec.plan.steps;
  const index = d.state.stepIndex ?? -1;
  const current = steps[index];
  // Still inside the current step?
  if (d.state.paused) return { kind: 'pause', seconds: MAX_PAUSE_SECONDS };
  if (!d.state.promoted && current?.kind === 'approve' && !d.state.approvedSteps?.includes(index)) {
    return { kind: 'approve', seconds: current.timeoutSeconds };
  }
  const left = d.state.promoted ? 0 : bakeLeft(d, deps.clock.now());
  if (left > 0) return { kind: 'bake', seconds: left };

  // A step boundary.
  const group = await loadGroup(deps, d);
  const nextIndex = d.state.promoted ? steps.length - 1 : index + 1;
  const step = steps[nextIndex];
  if (!step) throw new InternalError(`deployment ${d.deploymentId} has no step ${nextIndex}`);
  await checkAlarms(
    deps,
    d,
    group,
    index < 0 ? 'before shifting traffic' : `after step ${index + 1} of ${steps.length}`,
  );
  if (step.kind === 'approve') {
    await mutateDeployment(deps, d.deploymentId, () => ({
      stepIndex: nextIndex,
      bakeUntil: undefined,
      currentWait: undefined,
    }));
    await note(
      deps,
      d.deploymentId,
      'AwaitingApproval',
      `Step ${nextIndex + 1}/${steps.length}: waiting up to ${formatDuration(step.timeoutSeconds)} for approval at ${step.weight}%`,
      { step: nextIndex + 1 },
    );
    return { kind: 'approve', seconds: step.timeoutSeconds };
  }
  return applyStep(deps, d, nextIndex);
}

export const shiftTraffic = defineTask('shiftTraffic', USES, DeploymentIdInput, decide);
