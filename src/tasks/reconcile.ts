/**
 * The reconciler: finds deployments that nothing is driving any more and brings each to the end
 * the state machine would have given it. Runs every minute on AWS (an EventBridge schedule), and
 * once when a local session opens (grace 0: no execution of an earlier process survives it).
 *
 * What it finishes, per deployment group (the lock's holder and the group's newest deployments):
 * - a lock naming a missing record, or a record whose outcome is fully recorded: the lock is freed;
 * - a Created deployment with no running execution, older than the grace period (a create that
 *   failed half-way and could not clean up): ended Failed, nothing having moved, the group freed;
 * - a started deployment whose execution is gone (lost `executionEnded` event, a killed local
 *   process): settled from the world, as `executionEnded` does (rolled back, or completed past the
 *   commit point), its outcome recorded;
 * - a rollback's own record left InProgress: ended from the world as it is.
 * Every action is idempotent, so two reconcilers (or one racing `executionEnded`) are harmless.
 */
import * as z from 'zod/mini';
import { DependencyUnavailableError } from '../domain/errors.js';
import { endLifecycle, isTerminal, type Deployment, type DeploymentGroup } from '../domain/model.js';
import { ROLLBACK_FAILED } from '../domain/outcome.js';
import { platformOf } from '../platforms/index.js';
import { endRollbackRecord, executionEndFailure, settle, SETTLE_USES } from './outcome.js';
import { loadGroup, mutateDeployment, note, once, publishState } from './support.js';
import { defineTask, type DepsFor } from './task.js';

const USES = {
  ...SETTLE_USES,
  catalog: ['getDeploymentGroup', 'listApplications', 'listDeploymentGroups'],
  deployments: ['get', 'create', 'update', 'list'],
  executions: ['describe'],
} as const;

/** How many of a group's newest deployments each pass looks at (besides the lock's holder). */
const RECENT = 10;
/** A deployment this young may still be in the hands of its create or its execution's start. */
export const DEFAULT_GRACE_SECONDS = 60;

export type ReconcileAction = 'released' | 'ended' | 'settled' | 'rollbackEnded' | 'retryLater';

export interface Reconciled {
  deploymentId: string;
  group: string;
  action: ReconcileAction;
  message: string;
}

type Deps = DepsFor<typeof USES>;

async function reconcileGroup(deps: Deps, g: DeploymentGroup, graceMs: number): Promise<Reconciled[]> {
  const where = `${g.applicationName}/${g.deploymentGroupName}`;
  const ids = new Set(await deps.deployments.list(g.applicationName, g.deploymentGroupName, RECENT));
  if (g.activeDeploymentId) ids.add(g.activeDeploymentId);
  const out: Reconciled[] = [];
  const done = (deploymentId: string, action: ReconcileAction, message: string) =>
    out.push({ deploymentId, group: where, action, message });
  for (const id of ids) {
    try {
      const d = await deps.deployments.get(id);
      const holds = g.activeDeploymentId === id;
      if (!d) {
        if (holds) {
          await release(deps, g, id, 'Failed');
          done(id, 'released', 'the lock named a deployment that was never recorded');
        }
        continue;
      }
      const action = await reconcileOne(deps, d, holds, graceMs);
      if (action) done(id, action.action, action.message);
    } catch (e) {
      // Not restored yet (a rollback before its deadline), throttled, or raced: the next pass tries again.
      done(id, 'retryLater', (e as Error).message);
    }
  }
  return out;
}

async function release(deps: Deps, g: DeploymentGroup, id: string, status: Deployment['state']['status']) {
  const now = deps.clock.stamp().toISOString();
  await deps.locks.release(g.applicationName, g.deploymentGroupName, id, { status, createTime: now, endTime: now });
}

async function reconcileOne(
  deps: Deps,
  d: Deployment,
  holdsLock: boolean,
  graceMs: number,
): Promise<{ action: ReconcileAction; message: string } | undefined> {
  const { status } = d.state;
  // Both on the wall clock: createTime is a stamp.
  const age = deps.clock.stamp().getTime() - Date.parse(d.spec.createTime);
  if (d.spec.creator === 'codeDeployRollback') return endOrphanedRollback(deps, d);
  if (isTerminal(status) && d.state.outcomePublished) {
    if (!holdsLock) return undefined;
    await deps.locks.release(
      d.spec.applicationName,
      d.spec.deploymentGroupName,
      d.deploymentId,
      {
        status,
        createTime: d.spec.createTime,
        endTime: d.state.completeTime ?? deps.clock.stamp().toISOString(),
      },
      d.spec.deploymentGroupId,
    );
    return { action: 'released', message: `the lock outlived the deployment (${status})` };
  }
  // No grace (a local session: nothing else runs) means now, whatever the clocks say: a local
  // clock restarts at wall time and may be behind the virtual times the records carry.
  if (graceMs > 0 && age < graceMs) return undefined;
  const execution = await deps.executions.describe(d.deploymentId);
  if (execution === 'RUNNING') return undefined;
  if (status === 'Created') {
    const message = `The deployment never started: ${execution ? `its execution ended ${execution}` : 'it has no execution'} (its create did not finish)`;
    const now = deps.clock.stamp().toISOString();
    const ended = await mutateDeployment(deps, d.deploymentId, (cur) =>
      cur.state.status === 'Created'
        ? {
            status: 'Failed',
            completeTime: now,
            errorInformation: { code: 'INTERNAL_ERROR', message },
            lifecycleEvents: endLifecycle(cur.state.lifecycleEvents, now),
          }
        : undefined,
    );
    if (ended.state.status !== 'Failed' || ended.state.startTime) return undefined;
    await deps.locks.release(
      d.spec.applicationName,
      d.spec.deploymentGroupName,
      d.deploymentId,
      {
        status: 'Failed',
        createTime: d.spec.createTime,
        endTime: now,
      },
      d.spec.deploymentGroupId,
    );
    await once(deps, ended, 'note:Failed', () => note(deps, d.deploymentId, 'Failed', message));
    // Nothing moved, so nothing is published but the outcome itself: its client may have been
    // given the id (a create that could not tell whether its execution started) and waits for it.
    await publishState(deps, ended, await loadGroup(deps, ended), 'FAILURE', ['DeploymentFailure']);
    await mutateDeployment(deps, d.deploymentId, () => ({ outcomePublished: true }));
    return { action: 'ended', message };
  }
  const failure = executionEndFailure(execution);
  await once(deps, d, 'note:Reconciled', () =>
    note(
      deps,
      d.deploymentId,
      'Reconciled',
      `Nothing drives this deployment any more (${failure.Cause}): ${isTerminal(status) ? 'finishing what follows its outcome' : 'rolling back from the world as it is, then recording the outcome'}`,
    ),
  );
  const settled = await settle(d, failure, deps);
  return { action: 'settled', message: `${failure.Cause ?? failure.Error}; now ${settled.status}` };
}

/** A rollback's record left InProgress: ended once its deployment has ended, from the world as it is. */
async function endOrphanedRollback(
  deps: Deps,
  rb: Deployment,
): Promise<{ action: ReconcileAction; message: string } | undefined> {
  if (isTerminal(rb.state.status)) return undefined;
  const triggering = rb.state.rollbackInfo?.rollbackTriggeringDeploymentId;
  const d = triggering ? await deps.deployments.get(triggering) : undefined;
  // Its deployment still runs (and ends the rollback record itself), or is settled first.
  if (d && !isTerminal(d.state.status)) return undefined;
  const left = d ? await deps.platforms.assess(d) : undefined;
  if (left?.changed && d?.state.errorInformation?.code !== ROLLBACK_FAILED)
    throw new DependencyUnavailableError(`the rollback of ${triggering} has not restored ${left.describe} yet`);
  const outcome =
    d?.state.errorInformation?.code === ROLLBACK_FAILED
      ? { status: 'Failed' as const, message: d.state.errorInformation.message }
      : { status: 'Succeeded' as const };
  await endRollbackRecord(deps, rb.deploymentId, outcome);
  const what = d ? platformOf(d.spec.computePlatform).summary(d) : 'its deployment is gone';
  return { action: 'rollbackEnded', message: `the rollback record was left open; ended ${outcome.status} (${what})` };
}

async function reconcileAll(input: { graceSeconds?: number | undefined }, deps: Deps) {
  const graceMs = (input.graceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
  const actions: Reconciled[] = [];
  let groups = 0;
  for (const app of await deps.catalog.listApplications()) {
    for (const g of await deps.catalog.listDeploymentGroups(app.applicationName)) {
      groups++;
      actions.push(...(await reconcileGroup(deps, g, graceMs)));
    }
  }
  if (actions.length) deps.log.info('reconciled', { groups, actions });
  return { groups, actions };
}

export const reconcile = defineTask(
  'reconcile',
  USES,
  z.object({ graceSeconds: z.optional(z.number().check(z.gte(0))) }),
  reconcileAll,
);
