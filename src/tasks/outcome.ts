/**
 * The end of a deployment. Finalize is the commit point: the last alarm check, then the deployment
 * is recorded Succeeded, and nothing rolls it back afterwards. Complete does what follows (the
 * platform's clean-up, the lock, the alarm index, the outcome events), each step idempotent and
 * retried, never touching traffic. Rollback decides from the world and restores it; RecordOutcome
 * records a failure or a stop. Each task is idempotent so Step Functions may retry it.
 */
import * as z from 'zod/mini';
import { DependencyUnavailableError } from '../domain/errors.js';
import { deploymentIdForExecution, rollbackIdFor } from '../domain/ids.js';
import { endLifecycle, isTerminal, type Deployment, type TriggerEventType } from '../domain/model.js';
import { DEFAULT_ROLLBACK_DEADLINE_SECONDS } from '../domain/notifications.js';
import { causeMessage, classifyFailure, ROLLBACK_FAILED, shouldRollback, type CaughtError } from '../domain/outcome.js';
import type { Restoration } from '../platforms/platform.js';
import { platformOf } from '../platforms/index.js';
import {
  checkAlarms,
  loadDeployment,
  loadGroup,
  mutateDeployment,
  note,
  once,
  publishRollbackFailed,
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
  let d = await loadDeployment(deps, input.deploymentId);
  if (d.state.status !== 'Succeeded') {
    const group = await loadGroup(deps, d);
    await checkAlarms(deps, d, group, 'after all traffic shifted');
    const now = deps.clock.stamp().toISOString();
    d = await mutateDeployment(deps, d.deploymentId, (cur) =>
      cur.state.status === 'Succeeded'
        ? undefined
        : { status: 'Succeeded', completeTime: now, currentWait: undefined, targetWeight: 100 },
    );
  }
  // Committed. A retry after a failure from here on only finishes what is left (the entry once).
  const done = d;
  await once(deps, done, 'note:Succeeded', () =>
    note(
      deps,
      done.deploymentId,
      'Succeeded',
      `Deployment succeeded: ${platformOf(done.spec.computePlatform).summary(done)}`,
    ),
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
  await deps.locks.release(
    d.spec.applicationName,
    d.spec.deploymentGroupName,
    d.deploymentId,
    {
      status: 'Succeeded',
      createTime: d.spec.createTime,
      endTime: d.state.completeTime ?? deps.clock.stamp().toISOString(),
      revision: d.spec.revision,
    },
    d.spec.deploymentGroupId,
  );
  await once(deps, d, 'note:Completed', () => note(deps, d.deploymentId, 'Completed', finished));
  await publishState(deps, d, group, 'SUCCESS', ['DeploymentSuccess']);
  if (!d.state.outcomePublished) await mutateDeployment(deps, d.deploymentId, () => ({ outcomePublished: true }));
  return { status: 'Succeeded' as const };
}

export const completeDeployment = defineTask('completeDeployment', COMPLETE_USES, Id, complete);

export interface RollbackResult {
  trafficMoved: boolean;
  rolledBack: boolean;
  rollbackDeploymentId?: string;
  message: string;
  /** Set when the rollback gave up (its deadline passed): each target not restored, and where its traffic is. */
  notRestored?: NotRestored[];
}

type NotRestored = Restoration['notRestored'][number];

const ROLLBACK_USES = {
  deployments: ['get', 'create', 'update'],
  timeline: ['append'],
  platforms: ['halt', 'assess', 'restore'],
} as const;

/** The deployment a rollback records (creator codeDeployRollback): the same targets, the other way round. */
function rollbackRecord(d: Deployment, rollbackId: string, now: string): Deployment {
  const platform = platformOf(d.spec.computePlatform);
  return {
    deploymentId: rollbackId,
    spec: {
      ...d.spec,
      creator: 'codeDeployRollback',
      createTime: now,
      description: `Rollback of ${d.deploymentId}`,
      revision: platform.rollbackRevision?.(d.spec, d.state.facts) ?? d.spec.revision,
      target: platform.rollbackTarget(d.spec, d.state.facts),
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

/** End a rollback's own record (once: a record already ended stays as it is). */
export async function endRollbackRecord(
  deps: DepsFor<typeof ROLLBACK_USES>,
  rollbackId: string,
  outcome: { status: 'Succeeded' } | { status: 'Failed'; message: string },
): Promise<void> {
  const end = deps.clock.stamp().toISOString();
  const ended = await mutateDeployment(deps, rollbackId, (cur) =>
    isTerminal(cur.state.status)
      ? undefined
      : {
          status: outcome.status,
          completeTime: end,
          targetWeight: outcome.status === 'Succeeded' ? 100 : cur.state.targetWeight,
          lifecycleEvents: cur.state.lifecycleEvents.map((e) => ({
            ...e,
            status: outcome.status,
            endTime: end,
          })),
          ...(outcome.status === 'Failed'
            ? { errorInformation: { code: ROLLBACK_FAILED, message: outcome.message.slice(0, 1000) } }
            : {}),
        },
  );
  // The rollback's own timeline says how it ended (also when it had nothing left to restore), once.
  await once(deps, ended, 'note:RollbackEnded', () =>
    note(
      deps,
      rollbackId,
      ended.state.status,
      ended.state.status === 'Succeeded'
        ? `Rollback of ${ended.state.rollbackInfo?.rollbackTriggeringDeploymentId} succeeded`
        : `Rollback of ${ended.state.rollbackInfo?.rollbackTriggeringDeploymentId} failed: ${ended.state.errorInformation?.message}`,
    ),
  );
}

const describeNotRestored = (targets: NotRestored[]): string =>
  targets.map((t) => `${t.target} (${t.where}: ${t.reason})`).join('; ');

/**
 * A rollback that could not restore everything (or could not even read the targets): before its
 * deadline, a retryable failure, so the state machine tries again with backoff (a throttle, a
 * not-found read again, an AccessDenied that may be IAM propagation); after it, the result that
 * ends the deployment ROLLBACK_FAILED, naming each target and where its traffic is.
 */
function incomplete(deps: DepsFor<typeof ROLLBACK_USES>, d: Deployment, notRestored: NotRestored[]): RollbackResult {
  const deadline = d.state.rollbackDeadline;
  const why = describeNotRestored(notRestored);
  const hopeless = notRestored.length > 0 && notRestored.every((t) => t.final);
  // A restore under way (hosts redeploying the earlier revision) has deadlines of its own, per host.
  const underWay = !hopeless && notRestored.some((t) => t.underWay);
  if (underWay || (!hopeless && (!deadline || deps.clock.now().getTime() < Date.parse(deadline))))
    throw new DependencyUnavailableError(
      `rollback incomplete, trying again until ${deadline ?? 'its deadline'}: ${why}`,
    );
  return {
    trafficMoved: true,
    rolledBack: false,
    ...(d.state.rollbackInfo?.rollbackDeploymentId
      ? { rollbackDeploymentId: d.state.rollbackInfo.rollbackDeploymentId }
      : {}),
    notRestored,
    message: hopeless
      ? `Rollback FAILED: ${why}. Check these targets by hand.`
      : `Rollback FAILED after trying until ${deadline}: ${why}. Check these targets by hand.`,
  };
}

async function rollback(
  input: { deploymentId: string; failure: CaughtError },
  deps: DepsFor<typeof ROLLBACK_USES>,
): Promise<RollbackResult> {
  let d = await loadDeployment(deps, input.deploymentId);
  // Past the commit point nothing is rolled back: RecordOutcome completes the deployment instead.
  if (d.state.status === 'Succeeded')
    return { trafficMoved: false, rolledBack: false, message: 'The deployment had succeeded; nothing was rolled back' };
  if (!d.state.rollbackDeadline) {
    const seconds = deps.env.rollbackDeadlineSeconds ?? DEFAULT_ROLLBACK_DEADLINE_SECONDS;
    const deadline = new Date(deps.clock.now().getTime() + seconds * 1000).toISOString();
    d = await mutateDeployment(deps, d.deploymentId, (cur) =>
      cur.state.rollbackDeadline ? undefined : { rollbackDeadline: deadline },
    );
  }
  const where = platformOf(d.spec.computePlatform).targetIds(d).join(', ');
  const verdict = classifyFailure(input.failure, platformOf(d.spec.computePlatform).errorCodes);
  // First, nothing more starts on its own (a fleet's next hosts), whether or not this rolls back.
  try {
    const halted = await deps.platforms.halt(d);
    if (halted) await once(deps, d, 'note:Halted', () => note(deps, d.deploymentId, 'Halted', halted));
  } catch (e) {
    return incomplete(deps, d, [
      { target: where, where: 'unknown', reason: `could not be halted: ${(e as Error).message}` },
    ]);
  }
  let found;
  try {
    found = await deps.platforms.assess(d);
  } catch (e) {
    return incomplete(deps, d, [
      { target: where, where: 'unknown', reason: `could not be read: ${(e as Error).message}` },
    ]);
  }
  const rollbackId = d.state.rollbackInfo?.rollbackDeploymentId;
  if (!found.changed) {
    // An earlier run of this rollback restored the world and ended before it said so: finish it.
    if (rollbackId) {
      await endRollbackRecord(deps, rollbackId, { status: 'Succeeded' });
      const message = 'Rolled back: nothing of this deployment is left in place (read back and verified)';
      await once(deps, d, 'note:RolledBack', () =>
        note(deps, d.deploymentId, 'RolledBack', message, { rollbackDeploymentId: rollbackId }),
      );
      return { trafficMoved: true, rolledBack: true, rollbackDeploymentId: rollbackId, message };
    }
    const message = 'Nothing had been changed; nothing to roll back';
    await once(deps, d, 'note:RollbackSkipped', () => note(deps, d.deploymentId, 'RollbackSkipped', message));
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
    await once(deps, d, 'note:RollbackSkipped', () => note(deps, d.deploymentId, 'RollbackSkipped', message));
    return { trafficMoved: found.trafficMoved, rolledBack: false, message };
  }

  // A rollback is a deployment of its own (creator codeDeployRollback), linked both ways. Its id is
  // derived from this one, so a second run finds the record the first made.
  const id = rollbackIdFor(d.deploymentId);
  if (!rollbackId) {
    if (!(await deps.deployments.get(id)))
      await deps.deployments.create(rollbackRecord(d, id, deps.clock.stamp().toISOString()));
    d = await mutateDeployment(deps, d.deploymentId, (cur) =>
      cur.state.rollbackInfo?.rollbackDeploymentId
        ? undefined
        : { rollbackInfo: { rollbackDeploymentId: id, rollbackMessage: 'Rollback in progress' } },
    );
  }
  const record = await deps.deployments.get(id);
  if (record)
    await once(deps, record, 'note:Created', () =>
      note(deps, id, 'Created', `Rolling back ${d.deploymentId} (${verdict.errorInformation.code}): ${found.describe}`),
    );
  const current = d;
  await once(deps, current, 'note:RollbackStarted', () =>
    note(
      deps,
      current.deploymentId,
      'RollbackStarted',
      `Rolling back (${verdict.errorInformation.code}): ${found.describe}`,
      { rollbackDeploymentId: id },
    ),
  );

  let restored: Restoration;
  try {
    restored = await deps.platforms.restore(d, strategyContext(deps, d.deploymentId));
  } catch (e) {
    return incomplete(deps, d, [{ target: where, where: found.describe, reason: (e as Error).message }]);
  }
  if (restored.notRestored.length) return incomplete(deps, d, restored.notRestored);

  await endRollbackRecord(deps, id, { status: 'Succeeded' });
  await mutateDeployment(deps, d.deploymentId, () => ({ targetWeight: 0 }));
  const message = `Rolled back: ${restored.restored.join(', ')} (read back and verified)`;
  await once(deps, current, 'note:RolledBack', () =>
    note(deps, current.deploymentId, 'RolledBack', message, { rollbackDeploymentId: id }),
  );
  return { trafficMoved: found.trafficMoved, rolledBack: true, rollbackDeploymentId: id, message };
}

/**
 * A rollback that does not give up while traffic may be split: whatever stops a run of it before
 * its deadline (a store write AWS refused, a not-found, a bug in a read) is a reason to try again,
 * not an outcome, so it is thrown as DependencyUnavailableError and the state machine retries with
 * backoff. After the deadline it is thrown as it is, and the deployment ends ROLLBACK_FAILED.
 */
async function rollbackUntilDeadline(
  input: { deploymentId: string; failure: CaughtError },
  deps: DepsFor<typeof ROLLBACK_USES>,
): Promise<RollbackResult> {
  try {
    return await rollback(input, deps);
  } catch (e) {
    if (e instanceof DependencyUnavailableError) throw e;
    // The deadline on the record, if it can be read; a rollback that cannot even read its
    // deployment has no deadline yet and is bounded by the state machine's retries.
    const deadline = (await deps.deployments.get(input.deploymentId).catch(() => undefined))?.state.rollbackDeadline;
    if (deadline && deps.clock.now().getTime() >= Date.parse(deadline)) throw e;
    throw new DependencyUnavailableError(
      `rollback interrupted (${(e as Error).name}: ${(e as Error).message}); trying again until ${deadline ?? 'its deadline'}`,
      { cause: e },
    );
  }
}

export const rollbackDeployment = defineTask(
  'rollbackDeployment',
  ROLLBACK_USES,
  z.object({ deploymentId: z.string().check(z.minLength(1)), failure: Caught }),
  rollbackUntilDeadline,
);

const RollbackOutcome = z.union([
  z.object({
    trafficMoved: z.boolean(),
    rolledBack: z.boolean(),
    rollbackDeploymentId: z.optional(z.string()),
    message: z.string(),
    notRestored: z.optional(z.array(z.object({ target: z.string(), where: z.string(), reason: z.string() }))),
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
  const rb = input.rollback;
  // The rollback gave up (its deadline passed) or failed outright: traffic may still be split.
  const gaveUp = 'Error' in rb ? undefined : rb.notRestored;
  const rollbackFailed = 'Error' in rb || gaveUp !== undefined;
  const failed = classifyFailure(input.failure, platformOf(d.spec.computePlatform).errorCodes);
  let verdict = failed;
  let rollbackMessage = 'Error' in rb ? '' : rb.message;
  if (rollbackFailed) {
    // Where traffic is: what the rollback read last, or (when it failed before reading) the targets to check.
    const where = gaveUp
      ? gaveUp.map((t) => `${t.target}: ${t.where} (${t.reason})`).join('; ')
      : `not read back: ${platformOf(d.spec.computePlatform).targetIds(d).join(', ')}`;
    const why = 'Error' in rb ? `${rb.Error}: ${causeMessage(rb.Cause)}` : 'its deadline passed';
    rollbackMessage = `Rollback FAILED (${why}); ${where}. Check these targets by hand.`;
    verdict = {
      kind: 'failure',
      status: 'Failed',
      errorInformation: {
        code: ROLLBACK_FAILED,
        message:
          `${rollbackMessage} The deployment had failed with ${failed.errorInformation.code}: ${failed.errorInformation.message}`.slice(
            0,
            1000,
          ),
      },
    };
  }
  const now = deps.clock.stamp().toISOString();
  const updated = await mutateDeployment(deps, d.deploymentId, (cur) =>
    isTerminal(cur.state.status)
      ? undefined
      : {
          status: verdict.status,
          completeTime: now,
          errorInformation: verdict.errorInformation,
          currentWait: undefined,
          rollbackInfo: { ...cur.state.rollbackInfo, rollbackMessage },
          lifecycleEvents: endLifecycle(cur.state.lifecycleEvents, now),
        },
  );
  const rbId = updated.state.rollbackInfo?.rollbackDeploymentId;
  if (rollbackFailed && rbId) {
    await mutateDeployment(deps, rbId, (cur) =>
      isTerminal(cur.state.status)
        ? undefined
        : {
            status: 'Failed',
            completeTime: now,
            errorInformation: { code: ROLLBACK_FAILED, message: rollbackMessage.slice(0, 1000) },
          },
    );
  }
  await deps.alarmWatches.unwatch(d.deploymentId, d.state.watchedAlarms ?? []);
  await deps.locks.release(
    d.spec.applicationName,
    d.spec.deploymentGroupName,
    d.deploymentId,
    {
      status: updated.state.status,
      createTime: d.spec.createTime,
      endTime: updated.state.completeTime ?? now,
    },
    d.spec.deploymentGroupId,
  );
  const info = updated.state.errorInformation ?? verdict.errorInformation;
  const status = updated.state.status;
  await once(deps, updated, `note:${status}`, () =>
    note(deps, d.deploymentId, status, `Deployment ${status.toLowerCase()} (${info.code}): ${info.message}`, {
      errorCode: info.code,
      rollback: rollbackMessage,
    }),
  );
  const stopped = status === 'Stopped';
  const triggers: TriggerEventType[] = [stopped ? 'DeploymentStop' : 'DeploymentFailure'];
  if (!rollbackFailed && !('Error' in rb) && rb.rolledBack) triggers.push('DeploymentRollback');
  await publishState(deps, updated, group, stopped ? 'STOP' : 'FAILURE', triggers);
  // Loud: besides the FAILURE (and its triggers), an event of its own that alerting can match, and
  // every trigger topic of the group told.
  if (info.code === ROLLBACK_FAILED) await publishRollbackFailed(deps, updated, group, info.message);
  if (!updated.state.outcomePublished) await mutateDeployment(deps, d.deploymentId, () => ({ outcomePublished: true }));
  return { status, errorCode: info.code };
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
export const SETTLE_USES = {
  ...RECORD_USES,
  deployments: ['get', 'create', 'update'],
  platforms: ['halt', 'assess', 'restore', 'finish'],
} as const;

/**
 * Bring a deployment whose execution is gone to the end the state machine would have given it:
 * one not yet ended is rolled back from the world (as Rollback does) and its outcome recorded; one
 * that committed is completed; one whose outcome was recorded but not all that follows (lock,
 * alarm index, events) has that finished. Idempotent: what is done is skipped. `failure` is why the
 * execution ended. Throws DependencyUnavailableError while a rollback has not restored every target
 * and its deadline has not passed (the caller retries).
 */
export async function settle(
  d: Deployment,
  failure: CaughtError,
  deps: DepsFor<typeof SETTLE_USES>,
): Promise<{ status: string; action: 'none' | 'recorded' }> {
  if (d.state.outcomePublished && isTerminal(d.state.status)) return { status: d.state.status, action: 'none' };
  if (d.state.status === 'Succeeded') {
    await complete({ deploymentId: d.deploymentId }, deps);
    return { status: 'Succeeded', action: 'recorded' };
  }
  let rolledBack: z.infer<typeof RollbackOutcome>;
  if (isTerminal(d.state.status)) {
    // Recorded, not finished: what the rollback did is on the record already.
    const rbId = d.state.rollbackInfo?.rollbackDeploymentId;
    const rb = rbId ? await deps.deployments.get(rbId) : undefined;
    rolledBack =
      d.state.errorInformation?.code === ROLLBACK_FAILED
        ? {
            trafficMoved: true,
            rolledBack: false,
            message: d.state.rollbackInfo?.rollbackMessage ?? '',
            notRestored: [],
          }
        : {
            trafficMoved: rb !== undefined,
            rolledBack: rb?.state.status === 'Succeeded',
            message: d.state.rollbackInfo?.rollbackMessage ?? '',
          };
  } else {
    try {
      rolledBack = await rollbackUntilDeadline({ deploymentId: d.deploymentId, failure }, deps);
    } catch (e) {
      // Not restored yet, deadline not passed: the caller tries again; the rollback gives up only at
      // its deadline.
      if (e instanceof DependencyUnavailableError) throw e;
      rolledBack = { Error: (e as Error).name, Cause: (e as Error).message };
    }
  }
  const out = await record({ deploymentId: d.deploymentId, failure, rollback: rolledBack }, deps);
  return { status: out.status, action: 'recorded' };
}

/** Why a deployment ended when its execution ended (`status`) before recording the outcome, or is gone. */
export function executionEndFailure(status: string | undefined, error?: string, cause?: string): CaughtError {
  switch (status) {
    case 'ABORTED':
      return {
        Error: 'DeploymentStoppedError',
        Cause: 'The execution was stopped (StopExecution) before the deployment ended',
      };
    case 'TIMED_OUT':
      return { Error: 'States.Timeout', Cause: 'The execution timed out before the deployment ended' };
    case undefined:
      return { Error: 'InternalError', Cause: 'The execution running the deployment is gone (its process ended)' };
    default:
      return {
        Error: 'InternalError',
        Cause: `The execution failed before the outcome was recorded (${error ?? 'error'}: ${causeMessage(cause ?? '')})`,
      };
  }
}

/**
 * An execution ended without recording its deployment's outcome: stopped from the console or API
 * (StopExecution), timed out, or failed inside RecordOutcome itself. The deployment would stay
 * InProgress and its group locked; this settles it (see `settle`). Deployments that ended normally
 * are left alone. A failure is thrown, so that the invocation is retried (and after Lambda's
 * retries, kept in the stack's dead-letter queue; the reconciler settles it in any case).
 */
async function afterExecution(
  event: z.infer<typeof ExecutionEvent>,
  deps: DepsFor<typeof SETTLE_USES>,
): Promise<{ deploymentId: string; action: 'ignored' | 'none' | 'recorded'; status?: string }> {
  const { name, status, executionArn } = event.detail;
  if (!['ABORTED', 'TIMED_OUT', 'FAILED'].includes(status)) return { deploymentId: name, action: 'ignored' };
  // Named after its deployment (CreateDeployment), or started with a CreateDeployment request
  // (RecordDeployment derives the deployment id from the execution ARN).
  const d = (await deps.deployments.get(name)) ?? (await deps.deployments.get(deploymentIdForExecution(executionArn)));
  if (!d || (d.state.executionArn && d.state.executionArn !== executionArn))
    return { deploymentId: name, action: 'ignored' };
  if (isTerminal(d.state.status) && d.state.outcomePublished) return { deploymentId: name, action: 'none' };
  const failure = executionEndFailure(status, event.detail.error ?? undefined, event.detail.cause ?? undefined);
  await once(deps, d, `note:ExecutionEnded:${status}`, () =>
    note(
      deps,
      d.deploymentId,
      'ExecutionEnded',
      `The execution ended ${status} with the deployment ${d.state.status}: ${isTerminal(d.state.status) ? 'finishing what follows its outcome' : 'rolling back and recording the outcome'}`,
    ),
  );
  const out = await settle(d, failure, deps);
  return { deploymentId: d.deploymentId, ...out };
}

export const executionEnded = defineTask('executionEnded', SETTLE_USES, ExecutionEvent, afterExecution);
