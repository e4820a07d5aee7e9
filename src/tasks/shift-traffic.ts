/**
 * A step boundary: read the alarms, then move every function's alias to the next step's weight
 * and read it back. Idempotent: re-running a step sets the same routing again.
 */
import { z } from 'zod';
import { DependencyUnavailableError, DeploymentStoppedError, InternalError } from '../domain/errors.js';
import { withLifecycle } from '../domain/model.js';
import { describeRouting, routingFor, sameRouting } from '../domain/traffic.js';
import { formatDuration } from '../domain/deployment-config.js';
import { checkAlarms, loadDeployment, loadGroup, mutateDeployment, note } from './support.js';
import { defineTask, type Deps } from './task.js';

export interface StepState {
  index: number;
  weight: number;
  bakeSeconds: number;
  /** What the state machine does next: bake at this weight, shift again at once, or finish. */
  next: 'bake' | 'shift' | 'done';
}

async function shift(input: { deploymentId: string; completedStep: number }, deps: Deps): Promise<StepState> {
  const d = await loadDeployment(deps, input.deploymentId);
  if (d.status === 'Stopped') throw new DeploymentStoppedError(`deployment ${d.deploymentId} was stopped`);
  if (d.status !== 'InProgress' || !d.plan) throw new InternalError(`deployment ${d.deploymentId} is ${d.status}, cannot shift traffic`);
  const index = input.completedStep + 1;
  const step = d.plan.steps[index];
  if (!step) throw new InternalError(`deployment ${d.deploymentId} has no step ${index}`);
  const group = await loadGroup(deps, d);
  await checkAlarms(deps, d, group, index === 0 ? 'before shifting traffic' : `after step ${index} of ${d.plan.steps.length}`);

  // Record the intent before touching any alias: Rollback trusts this to know traffic may have moved.
  if (index === 0) {
    await mutateDeployment(deps, d.deploymentId, (cur) => ({
      lifecycleEvents: withLifecycle(cur.lifecycleEvents, 'AllowTraffic', { status: 'InProgress', startTime: deps.clock.now().toISOString() }),
    }));
  }
  const wanted = d.functions.map((f) => ({ f, routing: routingFor(f, step.weight) }));
  await Promise.all(wanted.map(({ f, routing }) => deps.router.setAlias(f.functionName, f.alias, routing)));
  // Read back what we set before baking on it.
  const actual = await Promise.all(wanted.map(({ f }) => deps.router.getAlias(f.functionName, f.alias)));
  const wrong = wanted.filter((w, i) => !sameRouting(w.routing, actual[i]!));
  if (wrong.length) {
    throw new DependencyUnavailableError(
      `read-back mismatch after UpdateAlias: ${wrong.map((w) => `${w.f.functionName}:${w.f.alias}`).join(', ')}`,
    );
  }

  const last = index === d.plan.steps.length - 1;
  const now = deps.clock.now();
  const next: StepState['next'] = last ? 'done' : step.bakeSeconds > 0 ? 'bake' : 'shift';
  await mutateDeployment(deps, d.deploymentId, (cur) => ({
    targetWeight: step.weight,
    currentWait: undefined,
    lifecycleEvents: withLifecycle(cur.lifecycleEvents, 'AllowTraffic', {
      status: last ? 'Succeeded' : 'InProgress',
      ...(last ? { endTime: now.toISOString() } : {}),
    }),
  }));
  await note(
    deps,
    d.deploymentId,
    'TrafficShifted',
    `Step ${index + 1}/${d.plan.steps.length}: ${step.weight}% on target${next === 'bake' ? `, baking ${formatDuration(step.bakeSeconds)}` : ''}`,
    {
      step: index + 1,
      weight: step.weight,
      routing: Object.fromEntries(wanted.map(({ f }, i) => [`${f.functionName}:${f.alias}`, describeRouting(actual[i]!)])),
    },
  );
  return { index, weight: step.weight, bakeSeconds: step.bakeSeconds, next };
}

export const shiftTraffic = defineTask(
  'shiftTraffic',
  z.object({ deploymentId: z.string().min(1), completedStep: z.number().int().min(-1) }),
  shift,
);

async function bake(input: { deploymentId: string; stepIndex: number; taskToken: string }, deps: Deps): Promise<{ until: string }> {
  const d = await loadDeployment(deps, input.deploymentId);
  const step = d.plan?.steps[input.stepIndex];
  if (!step) throw new InternalError(`deployment ${d.deploymentId} has no step ${input.stepIndex}`);
  const now = deps.clock.now();
  const until = new Date(now.getTime() + step.bakeSeconds * 1000).toISOString();
  // Park the token where an alarm listener or an operator can find it (issue #3); the state's
  // timeout (= bake time) ends the wait on its own.
  await mutateDeployment(deps, d.deploymentId, () => ({
    currentWait: { kind: 'bake', token: input.taskToken, stepIndex: input.stepIndex, since: now.toISOString(), until },
  }));
  return { until };
}

export const startBake = defineTask(
  'startBake',
  z.object({ deploymentId: z.string().min(1), stepIndex: z.number().int().min(0), taskToken: z.string().min(1) }),
  bake,
);
