/**
 * The end of a deployment. Finalize is the commit point: the last alarm check, then the deployment
 * is recorded Succeeded, and nothing rolls it back afterwards. Complete does what follows (the
 * platform's clean-up, the lock, the alarm index, the outcome events), each step idempotent and
 * retried, never touching traffic. Rollback decides from the world and restores it; RecordOutcome
 * records a failure or a stop. Each task is idempotent so Step Functions may retry it.
 */
import * as z from 'zod/mini';
import { DependencyUnavailableError } from '../domain/errors.js';
import { deploymentIdForExecution } from '../domain/ids.js';
import { isTerminal, type Deployment, type TriggerEventType } from '../domain/model.js';
import { causeMessage, classifyFailure, shouldRollback, type CaughtError } from '../domain/outcome.js';
import { platformOf } from '../platforms/index.js';
import {
  checkAlarms,
  loadDeployment,
  loadGroup,
  mutateDeployment,
  note,
  publishState,
  strategyContext,
} from './support.js';
import { DeploymentIdInput, defineTask, type DepsFor } from './task.js';

const Caught = z.object({ Error: z.string(), Cause: z.optional(z.string()) });
const Id = DeploymentIdInput;

const FINALIZE_USES = {
  deployments: ['get', 'update'],
  catalog: ['getDeploymentGroup'],
  timeline: ['append'],
  alarms: ['describe'],
} as const;

/** The commit point: the last alarm check, then Succeeded is recorded. */
async function finalize(input: { deploymentId: string }, deps: DepsFor<typeof FINALIZE_USES>) {
  const d = await loadDeployment(deps, input.deploymentId);
  if (d.state.status === 'Succeeded') return { status: 'Succeeded' as const };
  const group = await loadGroup(deps, d);
  await checkAlarms(deps, d, group, 'after all traffic shifted');
  const now = deps.clock.now().toISOString();
  const done = await mutateDeployment(deps, d.deploymentId, (cur) =>
    cur.state.status === 'Succeeded'
      ? undefined
      : { status: 'Succeeded', completeTime: now, currentWait: undefined, targetWeight: 100 },
  );
  await note(
    deps,
    d.deploymentId,
    'Succeeded',
    `Deployment succeeded: ${platformOf(done.spec.computePlatform).summary(done)}`,
  );
  return { status: 'Succeeded' as const };
}

export const finalizeDeployment = defineTask('finalizeDeployment', FINALIZE_USES, Id, finalize);

const COMPLETE_USES = {
  deployments: ['get', 'update'],
  catalog: ['getDeploymentGroup'],
  timeline: ['append'],
  alarmWatches: ['unwatch'],
  locks: ['release'],
  events: ['putEvents', 'publish'],
  platforms: ['finish'],
} as const;

/**
 * After the commit point: the platform's clean-up (ECS: the original task set goes), the alarm
 * index, the group's lock, and the outcome events. Every step may run again (a retry); none moves
 * traffic, so a failure here never turns into a rollback.
 */
async function complete(input: { deploymentId: string }, deps: DepsFor<typeof COMPLETE_USES>) {
  const d = await loadDeployment(deps, input.deploymentId);
  if (d.state.status !== 'Succeeded') return { status: d.state.status };
  const group = await loadGroup(deps, d);
  const finished = await deps.platforms.finish(d, strategyContext(deps, d.deploymentId));
  await deps.alarmWatches.unwatch(d.deploymentId, d.state.watchedAlarms ?? []);
  await deps.locks.release(d.spec.applicationName, d.spec.deploymentGroupName, d.deploymentId, {
    status: 'Succeeded',
    createTime: d.spec.createTime,
    endTime: d.state.completeTime ?? deps.clock.now().toISOString(),
    revision: d.spec.revision,
  });
  if (!d.state.outcomePublished) {
    await note(deps, d.deploymentId, 'Completed', finished);
    await publishState(deps, d, group, 'SUCCESS', ['DeploymentSuccess']);
    await mutateDeployment(deps, d.deploymentId, () => ({ outcomePublished: true }));
  }
  return { status: 'Succeeded' as const };
}

export const completeDeployment = defineTask('completeDeployment', COMPLETE_USES, Id, complete);

export interface RollbackResult {
  trafficMoved: boolean;
  rolledBack: boolean;
  rollbackDeploymentId?: string;
  message: string;
}

const ROLLBACK_USES = {
  deployments: ['get', 'create', 'update'],
  timeline: ['append'],
  platforms: ['assess', 'restore'],
} as const;

/** The deployment a rollback records (creator codeDeployRollback): the same targets, the other way round. */
function rollbackRecord(d: Deployment, rollbackId: string, now: string): Deployment {
  return {
    deploymentId: rollbackId,
    spec: {
      ...d.spec,
      creator: 'codeDeployRollback',
      createTime: now,
      description: `Rollback of ${d.deploymentId}`,
      target: platformOf(d.spec.computePlatform).rollbackTarget(d.spec, d.state.facts),
      lifecycle: [],
    },
    state: {
      status: 'InProgress',
      startTime: now,
      rollbackInfo: { rollbackTriggeringDeploymentId: d.deploymentId },
      lifecycleEvents: [{ lifecycleEventName: 'AllowTraffic', status: 'InProgress', startTime: now }],
      targetWeight: 0,
      ...(d.state.facts !== undefined ? { facts: d.state.facts } : {}),
      version: 1,
    },
  };
}

async function rollback(
  input: { deploymentId: string; failure: CaughtError },
  deps: DepsFor<typeof ROLLBACK_USES>,
): Promise<RollbackResult> {
  const d = await loadDeployment(deps, input.deploymentId);
  // Past the commit point nothing is rolled back: RecordOutcome completes the deployment instead.
  if (d.state.status === 'Succeeded')
    return { trafficMoved: false, rolledBack: false, message: 'The deployment had succeeded; nothing was rolled back' };
  const verdict = classifyFailure(input.failure, platformOf(d.spec.computePlatform).errorCodes);
  const found = await deps.platforms.assess(d);
  if (!found.changed) {
    const message = 'Nothing had been changed; nothing to roll back';
    await note(deps, d.deploymentId, 'RollbackSkipped', message);
    return { trafficMoved: false, rolledBack: false, message };
  }
  // A stop request may say whether to roll back (StopDeployment's autoRollbackEnabled).
  const stop = d.state.stopRequest;
  const wanted =
    verdict.kind === 'stop' && stop?.autoRollbackEnabled !== undefined
      ? stop.autoRollbackEnabled
      : shouldRollback(verdict.kind, d.spec.autoRollbackConfiguration);
  if (!wanted) {
    const why =
      verdict.kind === 'stop' && stop?.autoRollbackEnabled === false
        ? 'The stop asked for no rollback'
        : `Automatic rollback is not configured for this ${verdict.kind}`;
    const message = `${why}; traffic left as it is: ${found.describe}`;
    await note(deps, d.deploymentId, 'RollbackSkipped', message);
    return { trafficMoved: found.trafficMoved, rolledBack: false, message };
  }

  const now = deps.clock.now().toISOString();
  // A rollback is a deployment of its own (creator codeDeployRollback), linked both ways.
  let rollbackId = d.state.rollbackInfo?.rollbackDeploymentId;
  if (!rollbackId) {
    rollbackId = deps.ids.deploymentId();
    await deps.deployments.create(rollbackRecord(d, rollbackId, now));
    const id = rollbackId;
    await mutateDeployment(deps, d.deploymentId, () => ({
      rollbackInfo: { rollbackDeploymentId: id, rollbackMessage: 'Rollback in progress' },
    }));
  }
  await note(
    deps,
    d.deploymentId,
    'RollbackStarted',
    `Rolling back (${verdict.errorInformation.code}): ${found.describe}`,
    {
      rollbackDeploymentId: rollbackId,
    },
  );

  const restored = await deps.platforms.restore(d, strategyContext(deps, d.deploymentId));
  if (restored.notRestored.length) {
    throw new DependencyUnavailableError(
      `rollback read-back mismatch: ${restored.notRestored.map((t) => `${t.target} (${t.where}: ${t.reason})`).join('; ')}`,
    );
  }

  const end = deps.clock.now().toISOString();
  await mutateDeployment(deps, rollbackId, () => ({
    status: 'Succeeded',
    completeTime: end,
    targetWeight: 100,
    lifecycleEvents: [{ lifecycleEventName: 'AllowTraffic', status: 'Succeeded', startTime: now, endTime: end }],
  }));
  await mutateDeployment(deps, d.deploymentId, () => ({ targetWeight: 0 }));
  const message = `Rolled back: ${restored.restored.join(', ')} (read back and verified)`;
  await note(deps, d.deploymentId, 'RolledBack', message, { rollbackDeploymentId: rollbackId });
  return { trafficMoved: found.trafficMoved, rolledBack: true, rollbackDeploymentId: rollbackId, message };
}

export const rollbackDeployment = defineTask(
  'rollbackDeployment',
  ROLLBACK_USES,
  z.object({ deploymentId: z.string().check(z.minLength(1)), failure: Caught }),
  rollback,
);

const RollbackOutcome = z.union([
  z.object({
    trafficMoved: z.boolean(),
    rolledBack: z.boolean(),
    rollbackDeploymentId: z.optional(z.string()),
    message: z.string(),
  }),
  Caught,
]);

/** RecordOutcome completes a deployment that had committed, so it uses what Complete uses. */
const RECORD_USES = COMPLETE_USES;

async function record(
  input: { deploymentId: string; failure: CaughtError; rollback: z.infer<typeof RollbackOutcome> },
  deps: DepsFor<typeof RECORD_USES>,
): Promise<{ status: string; errorCode?: string }> {
  const d = await loadDeployment(deps, input.deploymentId);
  // A deployment that had committed is completed, not failed (its post-commit work failed or was cut short).
  if (d.state.status === 'Succeeded') return complete({ deploymentId: d.deploymentId }, deps);
  const group = await loadGroup(deps, d);
  const verdict = classifyFailure(input.failure, platformOf(d.spec.computePlatform).errorCodes);
  const rb = input.rollback;
  const rollbackFailed = 'Error' in rb;
  const rollbackMessage = rollbackFailed
    ? `Rollback FAILED (${rb.Error}): ${causeMessage(rb.Cause)}. Check the targets by hand.`
    : rb.message;
  const now = deps.clock.now().toISOString();
  const updated = await mutateDeployment(deps, d.deploymentId, (cur) =>
    isTerminal(cur.state.status)
      ? undefined
      : {
          status: verdict.status,
          completeTime: now,
          errorInformation: verdict.errorInformation,
          currentWait: undefined,
          rollbackInfo: { ...cur.state.rollbackInfo, rollbackMessage },
          lifecycleEvents: cur.state.lifecycleEvents.map((e) =>
            e.status === 'InProgress'
              ? { ...e, status: 'Failed' as const, endTime: now }
              : e.status === 'Pending'
                ? { ...e, status: 'Skipped' as const }
                : e,
          ),
        },
  );
  const rbId = d.state.rollbackInfo?.rollbackDeploymentId;
  if (rollbackFailed && rbId) {
    await mutateDeployment(deps, rbId, (cur) =>
      isTerminal(cur.state.status)
        ? undefined
        : {
            status: 'Failed',
            completeTime: now,
            errorInformation: { code: 'INTERNAL_ERROR', message: rollbackMessage },
          },
    );
  }
  await deps.alarmWatches.unwatch(d.deploymentId, d.state.watchedAlarms ?? []);
  await deps.locks.release(d.spec.applicationName, d.spec.deploymentGroupName, d.deploymentId, {
    status: updated.state.status,
    createTime: d.spec.createTime,
    endTime: updated.state.completeTime ?? now,
  });
  if (!updated.state.outcomePublished) {
    await note(
      deps,
      d.deploymentId,
      updated.state.status,
      `Deployment ${updated.state.status.toLowerCase()} (${verdict.errorInformation.code}): ${verdict.errorInformation.message}`,
      { errorCode: verdict.errorInformation.code, rollback: rollbackMessage },
    );
    const stopped = updated.state.status === 'Stopped';
    const triggers: TriggerEventType[] = [stopped ? 'DeploymentStop' : 'DeploymentFailure'];
    if (!rollbackFailed && rb.rolledBack) triggers.push('DeploymentRollback');
    await publishState(deps, updated, group, stopped ? 'STOP' : 'FAILURE', triggers);
    await mutateDeployment(deps, d.deploymentId, () => ({ outcomePublished: true }));
  }
  return {
    status: updated.state.status,
    errorCode: updated.state.errorInformation?.code ?? verdict.errorInformation.code,
  };
}

export const recordOutcome = defineTask(
  'recordOutcome',
  RECORD_USES,
  z.object({ deploymentId: z.string().check(z.minLength(1)), failure: Caught, rollback: RollbackOutcome }),
  record,
);

/** EventBridge `Step Functions Execution Status Change` (the fields we use). */
const ExecutionEvent = z.object({
  detail: z.object({
    executionArn: z.string().check(z.minLength(1)),
    name: z.string().check(z.minLength(1)),
    status: z.string(),
    error: z.nullish(z.string()),
    cause: z.nullish(z.string()),
  }),
});

/** What Rollback and RecordOutcome use together. */
const ENDED_USES = {
  ...RECORD_USES,
  deployments: ['get', 'create', 'update'],
  platforms: ['assess', 'restore', 'finish'],
} as const;

/**
 * An execution ended without recording its deployment's outcome: stopped from the console or API
 * (StopExecution), timed out, or failed inside RecordOutcome itself. The deployment would stay
 * InProgress and its group locked; this rolls it back (decided from the world, as Rollback does)
 * and records the outcome, exactly as the state machine would have. A deployment that had
 * committed is completed. Deployments that ended normally are left alone.
 */
async function afterExecution(
  event: z.infer<typeof ExecutionEvent>,
  deps: DepsFor<typeof ENDED_USES>,
): Promise<{ deploymentId: string; action: 'ignored' | 'none' | 'recorded'; status?: string }> {
  const { name, status, executionArn } = event.detail;
  if (!['ABORTED', 'TIMED_OUT', 'FAILED'].includes(status)) return { deploymentId: name, action: 'ignored' };
  // Named after its deployment (CreateDeployment), or started with a CreateDeployment request
  // (RecordDeployment derives the deployment id from the execution ARN).
  const d = (await deps.deployments.get(name)) ?? (await deps.deployments.get(deploymentIdForExecution(executionArn)));
  if (!d || (d.state.executionArn && d.state.executionArn !== executionArn))
    return { deploymentId: name, action: 'ignored' };
  if (isTerminal(d.state.status) && (d.state.status !== 'Succeeded' || d.state.outcomePublished))
    return { deploymentId: name, action: 'none' };
  const failure: CaughtError =
    status === 'ABORTED'
      ? {
          Error: 'DeploymentStoppedError',
          Cause: 'The execution was stopped (StopExecution) before the deployment ended',
        }
      : status === 'TIMED_OUT'
        ? { Error: 'States.Timeout', Cause: 'The execution timed out before the deployment ended' }
        : {
            Error: 'InternalError',
            Cause: `The execution failed before the outcome was recorded (${event.detail.error ?? 'error'}: ${causeMessage(event.detail.cause ?? '')})`,
          };
  await note(
    deps,
    d.deploymentId,
    'ExecutionEnded',
    `The execution ended ${status} with the deployment ${d.state.status}: ${d.state.status === 'Succeeded' ? 'completing it' : 'rolling back and recording the outcome'}`,
  );
  let rolledBack: z.infer<typeof RollbackOutcome>;
  try {
    rolledBack = await rollback({ deploymentId: d.deploymentId, failure }, deps);
  } catch (e) {
    rolledBack = { Error: (e as Error).name, Cause: (e as Error).message };
  }
  const out = await record({ deploymentId: d.deploymentId, failure, rollback: rolledBack }, deps);
  return { deploymentId: d.deploymentId, action: 'recorded', status: out.status };
}

export const executionEnded = defineTask('executionEnded', ENDED_USES, ExecutionEvent, afterExecution);
