/**
 * The end of a deployment: Finalize (success), Rollback (decide and restore), RecordOutcome
 * (failure or stop). Each is idempotent so Step Functions may retry it.
 */
import { z } from 'zod';
import { DependencyUnavailableError } from '../domain/errors.js';
import { deploymentIdForExecution, newDeploymentId } from '../domain/ids.js';
import { isTerminal, type Deployment, type TriggerEventType } from '../domain/model.js';
import { causeMessage, classifyFailure, shouldRollback, type CaughtError } from '../domain/outcome.js';
import { describeRouting, routingFor, sameRouting, targetWeightOf } from '../domain/traffic.js';
import { ecsSomethingToUndo, finishEcs, rollbackEcs } from './ecs.js';
import { checkAlarms, loadDeployment, loadGroup, mutateDeployment, note, publishState } from './support.js';
import { defineTask, type Deps } from './task.js';

const Caught = z.object({ Error: z.string(), Cause: z.string().optional() });

async function finalize(input: { deploymentId: string }, deps: Deps): Promise<{ status: 'Succeeded' }> {
  const d = await loadDeployment(deps, input.deploymentId);
  const group = await loadGroup(deps, d);
  if (d.status !== 'Succeeded') {
    await checkAlarms(deps, d, group, 'after all traffic shifted');
  }
  // ECS: the original task set goes (TERMINATE) or stays without traffic (KEEP_ALIVE) before success is recorded.
  const ecsSummary = d.ecs && d.status !== 'Succeeded' ? await finishEcs(deps, d, group) : undefined;
  const now = deps.clock.now().toISOString();
  const done = await mutateDeployment(deps, d.deploymentId, (cur) =>
    cur.status === 'Succeeded' ? undefined : { status: 'Succeeded', completeTime: now, currentWait: undefined },
  );
  await deps.store.unwatchAlarms(d.deploymentId, d.watchedAlarms ?? []);
  await deps.store.releaseGroup(d.applicationName, d.deploymentGroupName, d.deploymentId, {
    status: 'Succeeded',
    createTime: d.createTime,
    endTime: done.completeTime ?? now,
    revision: d.revision,
  });
  const summary = ecsSummary ?? d.functions.map((f) => `${f.functionName}:${f.alias} → v${f.targetVersion}`).join(', ');
  await note(deps, d.deploymentId, 'Succeeded', `Deployment succeeded: ${summary}`);
  await publishState(deps, done, group, 'SUCCESS', ['DeploymentSuccess']);
  return { status: 'Succeeded' };
}

export const finalizeDeployment = defineTask(
  'finalizeDeployment',
  z.object({ deploymentId: z.string().min(1) }),
  finalize,
);

export interface RollbackResult {
  trafficMoved: boolean;
  rolledBack: boolean;
  rollbackDeploymentId?: string;
  message: string;
}

/** What a failed deployment changed, read from the world, and how to undo it (with read-back). */
interface Undo {
  /** Something of this deployment's is in place (traffic, or an ECS replacement task set). */
  changed: boolean;
  trafficMoved: boolean;
  /** The state now, for the timeline. */
  current: string;
  /** Restore and read back; resolves with the restored state, throws if it does not read back. */
  restore(): Promise<string>;
}

async function lambdaUndo(deps: Deps, d: Deployment): Promise<Undo> {
  // ShiftTraffic marks AllowTraffic started before its first UpdateAlias. If it never started, this
  // deployment moved nothing, and an alias routing elsewhere is someone else's: leave it alone.
  const allow = d.lifecycleEvents.find((e) => e.lifecycleEventName === 'AllowTraffic');
  const started = allow !== undefined && allow.status !== 'Pending' && allow.status !== 'Skipped';
  // Then look at the world, not at our record: a shift may have failed after UpdateAlias took effect.
  const shifting = started ? d.functions.filter((f) => f.currentVersion !== f.targetVersion) : [];
  const routings = await Promise.all(shifting.map((f) => deps.router.getAlias(f.functionName, f.alias)));
  const moved = shifting.filter((f, i) => (targetWeightOf(f, routings[i]!) ?? 0) > 0);
  return {
    changed: moved.length > 0,
    trafficMoved: moved.length > 0,
    current: moved
      .map((f) => `${f.functionName}:${f.alias} ${describeRouting(routings[shifting.indexOf(f)]!)}`)
      .join(', '),
    restore: async () => {
      // All functions go back together: restore every one that has traffic on its target.
      await Promise.all(moved.map((f) => deps.router.setAlias(f.functionName, f.alias, routingFor(f, 0))));
      const after = await Promise.all(d.functions.map((f) => deps.router.getAlias(f.functionName, f.alias)));
      const notBack = d.functions.filter(
        (f, i) => f.currentVersion !== f.targetVersion && !sameRouting(after[i]!, routingFor(f, 0)),
      );
      if (notBack.length) {
        throw new DependencyUnavailableError(
          `rollback read-back mismatch: ${notBack.map((f) => `${f.functionName}:${f.alias}`).join(', ')}`,
        );
      }
      return d.functions.map((f, i) => `${f.functionName}:${f.alias} ${describeRouting(after[i]!)}`).join(', ');
    },
  };
}

async function ecsUndo(deps: Deps, d: Deployment): Promise<Undo> {
  const found = await ecsSomethingToUndo(deps, d);
  return {
    changed: found.changed,
    trafficMoved: found.trafficMoved,
    current: found.describe,
    restore: () => rollbackEcs(deps, d),
  };
}

/** The deployment a rollback records (creator codeDeployRollback): the same target, the other way round. */
function rollbackRecord(d: Deployment, rollbackId: string, now: string): Deployment {
  return {
    ...d,
    deploymentId: rollbackId,
    creator: 'codeDeployRollback',
    status: 'InProgress',
    createTime: now,
    startTime: now,
    completeTime: undefined,
    description: `Rollback of ${d.deploymentId}`,
    functions: d.functions.map((f) => ({ ...f, currentVersion: f.targetVersion, targetVersion: f.currentVersion })),
    ...(d.ecs
      ? {
          ecs: {
            ...d.ecs,
            taskDefinition: d.ecs.blueTaskDefinition ?? d.ecs.taskDefinition,
            blueTaskDefinition: d.ecs.taskDefinition,
          },
        }
      : {}),
    hooks: {},
    rollbackInfo: { rollbackTriggeringDeploymentId: d.deploymentId },
    errorInformation: undefined,
    executionArn: undefined,
    currentWait: undefined,
    lifecycleEvents: [{ lifecycleEventName: 'AllowTraffic', status: 'InProgress', startTime: now }],
    targetWeight: 0,
    version: 1,
  };
}

async function rollback(input: { deploymentId: string; failure: CaughtError }, deps: Deps): Promise<RollbackResult> {
  const d = await loadDeployment(deps, input.deploymentId);
  const verdict = classifyFailure(input.failure, d.computePlatform);
  const undo = d.ecs ? await ecsUndo(deps, d) : await lambdaUndo(deps, d);
  if (!undo.changed) {
    const message = d.ecs
      ? 'Nothing had been changed (no replacement task set, no traffic moved); nothing to roll back'
      : 'No traffic had moved to the target; nothing to roll back';
    await note(deps, d.deploymentId, 'RollbackSkipped', message);
    return { trafficMoved: false, rolledBack: false, message };
  }
  // A stop request may say whether to roll back (StopDeployment's autoRollbackEnabled).
  const wanted =
    verdict.kind === 'stop' && d.stopRequest?.autoRollbackEnabled !== undefined
      ? d.stopRequest.autoRollbackEnabled
      : shouldRollback(verdict.kind, d.autoRollbackConfiguration);
  if (!wanted) {
    const why =
      verdict.kind === 'stop' && d.stopRequest?.autoRollbackEnabled === false
        ? 'The stop asked for no rollback'
        : `Automatic rollback is not configured for this ${verdict.kind}`;
    const message = `${why}; ${d.ecs ? 'left' : 'traffic left'} as it is: ${undo.current}`;
    await note(deps, d.deploymentId, 'RollbackSkipped', message);
    return { trafficMoved: undo.trafficMoved, rolledBack: false, message };
  }

  const now = deps.clock.now().toISOString();
  // A rollback is a deployment of its own (creator codeDeployRollback), linked both ways.
  let rollbackId = d.rollbackInfo?.rollbackDeploymentId;
  if (!rollbackId) {
    rollbackId = newDeploymentId();
    await deps.store.createDeployment(rollbackRecord(d, rollbackId, now));
    await mutateDeployment(deps, d.deploymentId, () => ({
      rollbackInfo: { rollbackDeploymentId: rollbackId, rollbackMessage: 'Rollback in progress' },
    }));
  }
  const what = d.ecs
    ? 'production and test traffic back to the original task set, which is PRIMARY again; the replacement task set deleted'
    : 'every alias to its CurrentVersion at 100%';
  await note(deps, d.deploymentId, 'RollbackStarted', `Rolling back (${verdict.errorInformation.code}): ${what}`, {
    rollbackDeploymentId: rollbackId,
  });

  const restored = await undo.restore();

  const end = deps.clock.now().toISOString();
  await mutateDeployment(deps, rollbackId, () => ({
    status: 'Succeeded',
    completeTime: end,
    targetWeight: 100,
    lifecycleEvents: [{ lifecycleEventName: 'AllowTraffic', status: 'Succeeded', startTime: now, endTime: end }],
  }));
  await mutateDeployment(deps, d.deploymentId, () => ({ targetWeight: 0 }));
  const message = `Rolled back: ${restored} (read back and verified)`;
  await note(deps, d.deploymentId, 'RolledBack', message, { rollbackDeploymentId: rollbackId });
  return { trafficMoved: undo.trafficMoved, rolledBack: true, rollbackDeploymentId: rollbackId, message };
}

export const rollbackDeployment = defineTask(
  'rollbackDeployment',
  z.object({ deploymentId: z.string().min(1), failure: Caught }),
  rollback,
);

const RollbackOutcome = z.union([
  z.object({
    trafficMoved: z.boolean(),
    rolledBack: z.boolean(),
    rollbackDeploymentId: z.string().optional(),
    message: z.string(),
  }),
  Caught,
]);

async function record(
  input: { deploymentId: string; failure: CaughtError; rollback: z.infer<typeof RollbackOutcome> },
  deps: Deps,
): Promise<{ status: string; errorCode: string }> {
  const d = await loadDeployment(deps, input.deploymentId);
  const group = await loadGroup(deps, d);
  const verdict = classifyFailure(input.failure, d.computePlatform);
  const rb = input.rollback;
  const rollbackFailed = 'Error' in rb;
  const rollbackMessage = rollbackFailed
    ? `Rollback FAILED (${rb.Error}): ${causeMessage(rb.Cause)}. Check the aliases by hand.`
    : rb.message;
  const now = deps.clock.now().toISOString();
  const updated = await mutateDeployment(deps, d.deploymentId, (cur) =>
    isTerminal(cur.status)
      ? undefined
      : {
          status: verdict.status,
          completeTime: now,
          errorInformation: verdict.errorInformation,
          currentWait: undefined,
          rollbackInfo: { ...cur.rollbackInfo, rollbackMessage },
          lifecycleEvents: cur.lifecycleEvents.map((e) =>
            e.status === 'InProgress'
              ? { ...e, status: 'Failed' as const, endTime: now }
              : e.status === 'Pending'
                ? { ...e, status: 'Skipped' as const }
                : e,
          ),
        },
  );
  if (rollbackFailed && d.rollbackInfo?.rollbackDeploymentId) {
    const rbId = d.rollbackInfo.rollbackDeploymentId;
    await mutateDeployment(deps, rbId, (cur) =>
      isTerminal(cur.status)
        ? undefined
        : {
            status: 'Failed',
            completeTime: now,
            errorInformation: { code: 'INTERNAL_ERROR', message: rollbackMessage },
          },
    );
  }
  await deps.store.unwatchAlarms(d.deploymentId, d.watchedAlarms ?? []);
  await deps.store.releaseGroup(d.applicationName, d.deploymentGroupName, d.deploymentId, {
    status: updated.status,
    createTime: d.createTime,
    endTime: updated.completeTime ?? now,
  });
  await note(
    deps,
    d.deploymentId,
    updated.status,
    `Deployment ${updated.status.toLowerCase()} (${verdict.errorInformation.code}): ${verdict.errorInformation.message}`,
    {
      errorCode: verdict.errorInformation.code,
      rollback: rollbackMessage,
    },
  );
  const stopped = updated.status === 'Stopped';
  const triggers: TriggerEventType[] = [stopped ? 'DeploymentStop' : 'DeploymentFailure'];
  if (!rollbackFailed && rb.rolledBack) triggers.push('DeploymentRollback');
  await publishState(deps, updated, group, stopped ? 'STOP' : 'FAILURE', triggers);
  return { status: updated.status, errorCode: verdict.errorInformation.code };
}

export const recordOutcome = defineTask(
  'recordOutcome',
  z.object({ deploymentId: z.string().min(1), failure: Caught, rollback: RollbackOutcome }),
  record,
);

/** EventBridge `Step Functions Execution Status Change` (the fields we use). */
const ExecutionEvent = z.object({
  detail: z.object({
    executionArn: z.string().min(1),
    name: z.string().min(1),
    status: z.string(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});

/**
 * An execution ended without recording its deployment's outcome: stopped from the console or API
 * (StopExecution), timed out, or failed inside RecordOutcome itself. The deployment would stay
 * InProgress and its group locked; this rolls it back (decided from the world, as Rollback does)
 * and records the outcome, exactly as the state machine would have. Deployments that ended
 * normally are left alone.
 */
async function afterExecution(
  event: z.infer<typeof ExecutionEvent>,
  deps: Deps,
): Promise<{ deploymentId: string; action: 'ignored' | 'none' | 'recorded'; status?: string }> {
  const { name, status, executionArn } = event.detail;
  if (!['ABORTED', 'TIMED_OUT', 'FAILED'].includes(status)) return { deploymentId: name, action: 'ignored' };
  // Named after its deployment (CreateDeployment), or started with a CreateDeployment request
  // (RecordDeployment derives the deployment id from the execution ARN).
  const d =
    (await deps.store.getDeployment(name)) ?? (await deps.store.getDeployment(deploymentIdForExecution(executionArn)));
  if (!d || (d.executionArn && d.executionArn !== executionArn)) return { deploymentId: name, action: 'ignored' };
  if (isTerminal(d.status)) return { deploymentId: name, action: 'none' };
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
    `The execution ended ${status} with the deployment ${d.status}: rolling back and recording the outcome`,
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

export const executionEnded = defineTask('executionEnded', ExecutionEvent, afterExecution);
