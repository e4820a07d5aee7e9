/**
 * Engine actions (RunAction): the stages of a lifecycle the engine performs itself, such as ECS's
 * Install or AllowTestTraffic, or a wait for ContinueDeployment. The platform does the work; this
 * task records the lifecycle event around it and routes on: to the next stage when the action is
 * done, or to a wait after which the action runs again.
 */
import * as z from 'zod/mini';
import { InternalError } from '../domain/errors.js';
import { afterStage, stageOf, type Next } from '../domain/lifecycle.js';
import { withLifecycle } from '../domain/model.js';
import { loadDeployment, mutateDeployment, strategyContext, throwIfStopped } from './support.js';
import { defineTask, type DepsFor } from './task.js';

const USES = {
  deployments: ['get', 'update'],
  timeline: ['append'],
  platforms: ['runAction'],
} as const;

async function run(input: { deploymentId: string; action: string }, deps: DepsFor<typeof USES>): Promise<Next> {
  const d = await loadDeployment(deps, input.deploymentId);
  throwIfStopped(d);
  const stage = stageOf(d.spec, input.action);
  if (stage?.kind !== 'action') throw new InternalError(`deployment ${d.deploymentId} has no action ${input.action}`);
  const recorded = stage.lifecycleEvent;
  const now = deps.clock.stamp().toISOString();
  // Recorded before the action touches the world: a rollback then knows to look for what it made.
  const started = await mutateDeployment(deps, d.deploymentId, (cur) =>
    recorded && cur.state.lifecycleEvents.find((e) => e.lifecycleEventName === stage.name)?.status === 'Pending'
      ? {
          lifecycleEvents: withLifecycle(cur.state.lifecycleEvents, stage.name, {
            status: 'InProgress',
            startTime: now,
          }),
        }
      : undefined,
  );
  const result = await deps.platforms.runAction(started, stage.name, strategyContext(deps, d.deploymentId));
  const facts = result.facts;
  if (!result.done) {
    if (facts)
      await mutateDeployment(deps, d.deploymentId, (cur) => ({ facts: { ...(cur.state.facts as object), ...facts } }));
    return { kind: 'await', action: stage.name, wait: result.wait, seconds: result.seconds };
  }
  const end = deps.clock.stamp().toISOString();
  await mutateDeployment(deps, d.deploymentId, (cur) => ({
    ...(facts ? { facts: { ...(cur.state.facts as object), ...facts } } : {}),
    ...(recorded
      ? { lifecycleEvents: withLifecycle(cur.state.lifecycleEvents, stage.name, { status: 'Succeeded', endTime: end }) }
      : {}),
    currentWait: undefined,
  }));
  return afterStage(d.spec, stage.name);
}

export const runAction = defineTask(
  'runAction',
  USES,
  z.object({ deploymentId: z.string().check(z.minLength(1)), action: z.string().check(z.minLength(1)) }),
  run,
);
