/** Helpers shared by tasks: loading and updating the deployment record, the timeline, alarms, outcomes. */
import { evaluateAlarms, verdictStops, watchedAlarms, type AlarmVerdict } from '../domain/alarms.js';
import { AlarmActiveError, InternalError, InvalidInputError } from '../domain/errors.js';
import type { Deployment, DeploymentGroup, TriggerEventType } from '../domain/model.js';
import { eventBridgeEntry, triggerMessages, type DeploymentState } from '../domain/notifications.js';
import type { Deps } from './task.js';

export async function loadDeployment(deps: Deps, id: string): Promise<Deployment> {
  const d = await deps.store.getDeployment(id);
  if (!d)
    throw new InvalidInputError(
      [{ path: 'deploymentId', message: `deployment ${id} does not exist` }],
      'DeploymentDoesNotExistException',
    );
  return d;
}

export async function loadGroup(
  deps: Deps,
  d: Pick<Deployment, 'applicationName' | 'deploymentGroupName'>,
): Promise<DeploymentGroup> {
  const g = await deps.store.getDeploymentGroup(d.applicationName, d.deploymentGroupName);
  if (!g) throw new InternalError(`deployment group ${d.applicationName}/${d.deploymentGroupName} no longer exists`);
  return g;
}

/**
 * Read-modify-write of a deployment with compare-and-set, retried on a lost race (a hook callback
 * and the state machine may write the same record at once). `change` returns the patch, or
 * undefined to leave the record as it is.
 */
export async function mutateDeployment(
  deps: Deps,
  id: string,
  change: (d: Deployment) => Partial<Deployment> | undefined,
): Promise<Deployment> {
  for (let attempt = 0; ; attempt++) {
    const d = await loadDeployment(deps, id);
    const patch = change(d);
    if (!patch) return d;
    try {
      return await deps.store.updateDeployment(id, d.version, patch);
    } catch (e) {
      if (!(e instanceof InternalError) || attempt >= 4) throw e;
    }
  }
}

/** Append to the deployment's timeline (and the log). */
export async function note(
  deps: Deps,
  id: string,
  event: string,
  message: string,
  data?: Record<string, unknown>,
): Promise<void> {
  deps.log.info(message, { deploymentId: id, event, ...data });
  await deps.store.appendTimeline(id, {
    at: deps.clock.now().toISOString(),
    event,
    message,
    ...(data ? { data } : {}),
  });
}

/**
 * Step-boundary alarm check: an alarm recorded by the alarm listener since the last boundary, then
 * the group's alarms read now (the safety net), judged against the deployment's baseline. Throws
 * AlarmActiveError when the verdict stops the deployment; returns the verdict otherwise.
 */
export async function checkAlarms(
  deps: Deps,
  d: Deployment,
  group: DeploymentGroup,
  when: string,
): Promise<AlarmVerdict> {
  if (d.pendingAlarm) {
    throw new AlarmActiveError(
      `Alarm ${d.pendingAlarm.alarmName} went to ALARM at ${d.pendingAlarm.at} (noticed ${when})`,
    );
  }
  const names = watchedAlarms(group.alarmConfiguration);
  if (names.length === 0) return { phase: 'Healthy', readings: [] };
  let verdict: AlarmVerdict;
  try {
    verdict = evaluateAlarms(group.alarmConfiguration, await deps.alarms.describe(names), undefined, d.alarmBaseline);
  } catch (e) {
    verdict = evaluateAlarms(group.alarmConfiguration, undefined, (e as Error).message);
  }
  const summary = verdict.readings.map((r) => `${r.name}=${r.state}`).join(', ');
  await note(deps, d.deploymentId, 'AlarmCheck', `Alarms ${when}: ${verdict.phase}${summary ? ` (${summary})` : ''}`, {
    phase: verdict.phase,
    readings: verdict.readings,
  });
  if (verdictStops(group.alarmConfiguration, verdict)) {
    throw new AlarmActiveError(
      verdict.phase === 'Breached'
        ? `Alarm ${verdict.alarms.join(', ')} in ALARM ${when}`
        : `Alarms could not be checked ${when} (${verdict.phase === 'Unknown' ? verdict.reason : 'unknown'}) and ignorePollAlarmFailure is false`,
    );
  }
  return verdict;
}

/**
 * End the execution's current wait at once, if there is one: `fail` with an error name, or
 * `succeed` (promote, resume, approve). Returns whether a waiting task was completed.
 */
export async function endWait(
  deps: Deps,
  d: Deployment,
  how: { fail: string; cause: string } | { succeed: Record<string, unknown> },
  kinds?: string[],
): Promise<boolean> {
  const w = d.currentWait;
  if (!w || (kinds && !kinds.includes(w.kind))) return false;
  return 'fail' in how ? deps.tokens.fail(w.token, how.fail, how.cause) : deps.tokens.succeed(w.token, how.succeed);
}

/** Publish a deployment state to EventBridge and the group's SNS triggers, in CodeDeploy's shapes. */
export async function publishState(
  deps: Deps,
  d: Deployment,
  group: DeploymentGroup,
  state: DeploymentState | undefined,
  triggers: TriggerEventType[],
): Promise<void> {
  if (state) await deps.events.putEvents([eventBridgeEntry(deps.env, d, state, deps.clock.now())]);
  for (const event of triggers) {
    for (const m of triggerMessages(deps.env, group, d, event)) await deps.events.publish(m);
  }
}
