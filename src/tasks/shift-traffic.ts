/**
 * The step decision (ShiftTraffic) and the waits between steps (startWait). ShiftTraffic reads the
 * deployment record and decides: keep baking, pause, wait for an approval, or cross a step
 * boundary (read the alarms, then move every alias to the next weight and read it back).
 * It is idempotent: the record says which step is applied and when its bake ends.
 */
import { z } from 'zod';
import { formatDuration } from '../domain/deployment-config.js';
import { DependencyUnavailableError, DeploymentStoppedError, InternalError } from '../domain/errors.js';
import { withLifecycle, type CurrentWait, type Deployment } from '../domain/model.js';
import { describeRouting, routingFor, sameRouting } from '../domain/traffic.js';
import { shiftEcs } from './ecs.js';
import { checkAlarms, loadDeployment, loadGroup, mutateDeployment, note, publishState } from './support.js';
import { defineTask, type Deps } from './task.js';

export interface StepState {
  index: number;
  weight: number;
  /** Seconds to wait in the next state (bake time left, or the approval's timeout). */
  bakeSeconds: number;
  /** What the state machine does next. */
  next: 'bake' | 'shift' | 'pause' | 'approve' | 'done';
}

/** Bake time left at `now`, in whole seconds; under a second counts as done. */
function bakeLeft(d: Deployment, now: Date): number {
  if (!d.bakeUntil) return 0;
  const left = (Date.parse(d.bakeUntil) - now.getTime()) / 1000;
  return left >= 1 ? Math.ceil(left) : 0;
}

/** Every alias of the deployment to `weight` on its target version, read back. Returns the routings read. */
async function shiftAliases(deps: Deps, d: Deployment, weight: number): Promise<Record<string, string>> {
  const wanted = d.functions.map((f) => ({ f, routing: routingFor(f, weight) }));
  await Promise.all(wanted.map(({ f, routing }) => deps.router.setAlias(f.functionName, f.alias, routing)));
  // Read back what we set before baking on it.
  const actual = await Promise.all(wanted.map(({ f }) => deps.router.getAlias(f.functionName, f.alias)));
  const wrong = wanted.filter((w, i) => !sameRouting(w.routing, actual[i]!));
  if (wrong.length) {
    throw new DependencyUnavailableError(
      `read-back mismatch after UpdateAlias: ${wrong.map((w) => `${w.f.functionName}:${w.f.alias}`).join(', ')}`,
    );
  }
  return Object.fromEntries(wanted.map(({ f }, i) => [`${f.functionName}:${f.alias}`, describeRouting(actual[i]!)]));
}

async function decide(input: { deploymentId: string }, deps: Deps): Promise<StepState> {
  const d = await loadDeployment(deps, input.deploymentId);
  if (d.stopRequest) throw new DeploymentStoppedError(`Stopped by request at ${d.stopRequest.at}`);
  if (d.status !== 'InProgress' || !d.plan)
    throw new InternalError(`deployment ${d.deploymentId} is ${d.status}, cannot shift traffic`);
  const steps = d.plan.steps;
  const now = deps.clock.now();
  const index = d.stepIndex ?? -1;
  const current = steps[index];
  const weight = current?.weight ?? 0;

  // Still inside the current step?
  if (d.paused) return { index, weight, bakeSeconds: 0, next: 'pause' };
  if (!d.promoted && current?.kind === 'approve' && !d.approvedSteps?.includes(index)) {
    return { index, weight, bakeSeconds: current.timeoutSeconds, next: 'approve' };
  }
  const left = d.promoted ? 0 : bakeLeft(d, now);
  if (left > 0) return { index, weight, bakeSeconds: left, next: 'bake' };

  // A step boundary.
  const group = await loadGroup(deps, d);
  const nextIndex = d.promoted ? steps.length - 1 : index + 1;
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
      {
        step: nextIndex + 1,
      },
    );
    return { index: nextIndex, weight: step.weight, bakeSeconds: step.timeoutSeconds, next: 'approve' };
  }

  // Record the intent before touching any alias or listener: Rollback trusts this to know traffic may have moved.
  if (index < 0 || d.lifecycleEvents.find((e) => e.lifecycleEventName === 'AllowTraffic')?.status === 'Pending') {
    await mutateDeployment(deps, d.deploymentId, (cur) => ({
      lifecycleEvents: withLifecycle(cur.lifecycleEvents, 'AllowTraffic', {
        status: 'InProgress',
        startTime: now.toISOString(),
      }),
    }));
  }
  const routing = d.ecs ? await shiftEcs(deps, d, step.weight) : await shiftAliases(deps, d, step.weight);

  const last = nextIndex === steps.length - 1;
  const shiftedAt = deps.clock.now();
  await mutateDeployment(deps, d.deploymentId, (cur) => ({
    stepIndex: nextIndex,
    targetWeight: step.weight,
    bakeUntil: step.bakeSeconds > 0 ? new Date(shiftedAt.getTime() + step.bakeSeconds * 1000).toISOString() : undefined,
    currentWait: undefined,
    lifecycleEvents: withLifecycle(cur.lifecycleEvents, 'AllowTraffic', {
      status: last ? 'Succeeded' : 'InProgress',
      ...(last ? { endTime: shiftedAt.toISOString() } : {}),
    }),
  }));
  const next: StepState['next'] = last ? 'done' : step.bakeSeconds > 0 ? 'bake' : 'shift';
  await note(
    deps,
    d.deploymentId,
    'TrafficShifted',
    `Step ${nextIndex + 1}/${steps.length}: ${step.weight}% on target${d.promoted ? ' (promoted)' : ''}${next === 'bake' ? `, baking ${formatDuration(step.bakeSeconds)}` : ''}`,
    {
      step: nextIndex + 1,
      weight: step.weight,
      routing,
    },
  );
  return { index: nextIndex, weight: step.weight, bakeSeconds: step.bakeSeconds, next };
}

export const shiftTraffic = defineTask('shiftTraffic', z.object({ deploymentId: z.string().min(1) }), decide);

const WaitInput = z.object({
  deploymentId: z.string().min(1),
  kind: z.enum(['bake', 'pause', 'approval', 'hookRetry', 'steady', 'ready', 'termination']),
  seconds: z.number().int().min(1),
  taskToken: z.string().min(1),
});

/**
 * Park the task token of a bake, pause or approval wait where the alarm listener and operators find
 * it. The state's timeout ends the wait on its own. A request that arrived just before the wait
 * began (an alarm, a stop, a promote, a resume, an approval) ends it at once.
 */
async function park(input: z.infer<typeof WaitInput>, deps: Deps): Promise<{ until: string }> {
  const now = deps.clock.now();
  const until = new Date(now.getTime() + input.seconds * 1000).toISOString();
  const wait: CurrentWait = { kind: input.kind, token: input.taskToken, since: now.toISOString(), until };
  const d = await mutateDeployment(deps, input.deploymentId, (cur) => ({
    currentWait: { ...wait, ...(cur.stepIndex !== undefined ? { stepIndex: cur.stepIndex } : {}) },
  }));
  if (d.stopRequest)
    await deps.tokens.fail(input.taskToken, 'DeploymentStoppedError', `Stopped by request at ${d.stopRequest.at}`);
  else if (d.pendingAlarm)
    await deps.tokens.fail(
      input.taskToken,
      'AlarmActiveError',
      `Alarm ${d.pendingAlarm.alarmName} went to ALARM at ${d.pendingAlarm.at}`,
    );
  else if (
    (input.kind === 'bake' && (d.promoted || d.paused)) ||
    (input.kind === 'pause' && !d.paused) ||
    (input.kind === 'approval' && (d.promoted || d.approvedSteps?.includes(d.stepIndex ?? -1)))
  ) {
    await deps.tokens.succeed(input.taskToken, { ended: 'request arrived before the wait began' });
  } else if (
    (input.kind === 'ready' && d.continued?.READY_WAIT) ||
    (input.kind === 'termination' && d.continued?.TERMINATION_WAIT)
  ) {
    await deps.tokens.succeed(input.taskToken, { ended: 'continued before the wait began' });
  } else if (input.kind === 'pause') {
    await note(
      deps,
      d.deploymentId,
      'Paused',
      `Paused at ${d.targetWeight}% (bake time left: ${formatDuration(d.paused?.remainingBakeSeconds ?? 0)})`,
    );
  } else if (input.kind === 'ready') {
    // CodeDeploy's Ready status: the replacement is installed and tested, waiting for ContinueDeployment.
    // Compare-and-set against ContinueDeployment: a continue that got in first leaves it InProgress.
    const ready = await mutateDeployment(deps, d.deploymentId, (cur) =>
      cur.status === 'InProgress' && !cur.continued?.READY_WAIT ? { status: 'Ready' } : undefined,
    );
    if (ready.status === 'Ready') {
      await note(
        deps,
        d.deploymentId,
        'Ready',
        `Replacement ready; waiting up to ${formatDuration(input.seconds)} for ContinueDeployment (READY_WAIT) before stopping`,
      );
      await publishState(deps, ready, await loadGroup(deps, ready), 'READY', ['DeploymentReady']);
    }
  } else if (input.kind === 'termination') {
    await note(
      deps,
      d.deploymentId,
      'TerminationWait',
      `Keeping the original task set for ${formatDuration(input.seconds)} (ContinueDeployment TERMINATION_WAIT ends this early; a stop or an alarm still rolls back)`,
    );
  }
  return { until };
}

export const startWait = defineTask('startWait', WaitInput, park);
