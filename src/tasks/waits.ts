/**
 * Waits (startWait): every wait of the state machine is a callback whose timeout ends it. This task
 * parks the wait's task token where the alarm listener and operators find it. A request that arrived
 * just before the wait began (an alarm, a stop, a promote, a resume, an approval, a continue) ends it
 * at once, so no request is lost to a race; so does a wake-up of a settle wait that came first (settleWake).
 */
import * as z from 'zod/mini';
import { formatDuration } from '../domain/deployment-config.js';
import type { CurrentWait } from '../domain/model.js';
import { loadGroup, mutateDeployment, note, publishState } from './support.js';
import { defineTask, type DepsFor } from './task.js';

const WaitInput = z.object({
  deploymentId: z.string().check(z.minLength(1)),
  kind: z.enum(['bake', 'pause', 'approval', 'hookRetry', 'settle', 'steady', 'ready', 'termination']),
  seconds: z.number().check(z.int(), z.minimum(1)),
  taskToken: z.string().check(z.minLength(1)),
});

const USES = {
  deployments: ['get', 'update'],
  catalog: ['getDeploymentGroup'],
  timeline: ['append'],
  tokens: ['succeed', 'fail'],
  events: ['putEvents', 'publish'],
} as const;

async function park(input: z.infer<typeof WaitInput>, deps: DepsFor<typeof USES>): Promise<{ until: string }> {
  const now = deps.clock.now();
  const until = new Date(now.getTime() + input.seconds * 1000).toISOString();
  const wait: CurrentWait = { kind: input.kind, token: input.taskToken, since: now.toISOString(), until };
  // What a settle wait waits for may have arrived before it was parked (settleWake): consume it here, in the
  // same compare-and-set, and end the wait at once.
  let woken: string | undefined;
  const d = await mutateDeployment(deps, input.deploymentId, (cur) => {
    woken = input.kind === 'settle' ? cur.state.settleWake?.reason : undefined;
    return {
      currentWait: { ...wait, ...(cur.state.stepIndex !== undefined ? { stepIndex: cur.state.stepIndex } : {}) },
      ...(woken !== undefined ? { settleWake: undefined } : {}),
    };
  });
  const s = d.state;
  if (s.stopRequest)
    await deps.tokens.fail(input.taskToken, 'DeploymentStoppedError', `Stopped by request at ${s.stopRequest.at}`);
  else if (s.pendingAlarm)
    await deps.tokens.fail(
      input.taskToken,
      'AlarmActiveError',
      `Alarm ${s.pendingAlarm.alarmName} went to ALARM at ${s.pendingAlarm.at}`,
    );
  else if (
    (input.kind === 'bake' && (s.promoted || s.paused)) ||
    (input.kind === 'pause' && !s.paused) ||
    (input.kind === 'approval' && (s.promoted || s.approvedSteps?.includes(s.stepIndex ?? -1)))
  ) {
    await deps.tokens.succeed(input.taskToken, { ended: 'request arrived before the wait began' });
  } else if (woken !== undefined) {
    await deps.tokens.succeed(input.taskToken, { ended: `woken before the wait began: ${woken}` });
  } else if (
    (input.kind === 'ready' && s.continued?.READY_WAIT) ||
    (input.kind === 'termination' && s.continued?.TERMINATION_WAIT)
  ) {
    await deps.tokens.succeed(input.taskToken, { ended: 'continued before the wait began' });
  } else if (input.kind === 'pause') {
    await note(
      deps,
      d.deploymentId,
      'Paused',
      `Paused at ${s.targetWeight}% (bake time left: ${formatDuration(s.paused?.remainingBakeSeconds ?? 0)})`,
    );
  } else if (input.kind === 'ready') {
    // CodeDeploy's Ready status: the replacement is installed and tested, waiting for ContinueDeployment.
    // Compare-and-set against ContinueDeployment: a continue that got in first leaves it InProgress.
    const ready = await mutateDeployment(deps, d.deploymentId, (cur) =>
      cur.state.status === 'InProgress' && !cur.state.continued?.READY_WAIT ? { status: 'Ready' } : undefined,
    );
    if (ready.state.status === 'Ready') {
      await note(
        deps,
        d.deploymentId,
        'Ready',
        `Replacement ready; waiting up to ${formatDuration(input.seconds)} for ContinueDeployment (READY_WAIT) before stopping`,
      );
      await publishState(deps, ready, await loadGroup(deps, ready), 'READY', ['DeploymentReady']);
    }
  }
  return { until };
}

export const startWait = defineTask('startWait', USES, WaitInput, park);
