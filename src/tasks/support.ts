/**
 * Helpers tasks share: the deployment record and its timeline, the step-boundary alarm check, ending
 * the current wait, publishing outcomes, and the context a platform's strategy gets. Each takes only
 * the ports it uses, so a task that calls it must declare them.
 */
import { evaluateAlarms, verdictStops, watchedAlarms, type AlarmVerdict } from '../domain/alarms.js';
import {
  AlarmActiveError,
  DependencyRejectedError,
  DeploymentStoppedError,
  InternalError,
  InvalidInputError,
  type ErrorName,
} from '../domain/errors.js';
import type { Deployment, DeploymentGroup, DeploymentState, TriggerEventType } from '../domain/model.js';
import {
  eventBridgeEntry,
  rollbackFailedEntry,
  triggerMessages,
  type DeploymentEventState,
} from '../domain/notifications.js';
import { platformOf } from '../platforms/index.js';
import type { CheckContext, StrategyContext } from '../platforms/platform.js';
import type { AlarmSource, Catalog, Deployments, EventPublisher, TaskTokens, Timeline } from '../ports/index.js';
import type { Context } from './task.js';

type Reads = { deployments: Pick<Deployments, 'get'> };
type Writes = { deployments: Pick<Deployments, 'get' | 'update'> };
type Notes = Context & { timeline: Pick<Timeline, 'append'> };

export async function loadDeployment(deps: Reads, id: string): Promise<Deployment> {
  const d = await deps.deployments.get(id);
  if (!d)
    throw new InvalidInputError(
      [{ path: 'deploymentId', message: `deployment ${id} does not exist` }],
      'DeploymentDoesNotExistException',
    );
  return d;
}

export async function loadGroup(
  deps: { catalog: Pick<Catalog, 'getDeploymentGroup'> },
  d: Pick<Deployment, 'spec'>,
): Promise<DeploymentGroup> {
  // By id: the group may have been renamed (with its application) since the deployment began.
  const g = await deps.catalog.getDeploymentGroup(
    d.spec.applicationName,
    d.spec.deploymentGroupName,
    d.spec.deploymentGroupId,
  );
  if (!g)
    throw new InternalError(
      `deployment group ${d.spec.applicationName}/${d.spec.deploymentGroupName} no longer exists`,
    );
  return g;
}

/**
 * Read-modify-write of a deployment's state with compare-and-set, retried on a lost race (a hook
 * callback and the state machine may write the same record at once). `change` returns the patch,
 * or undefined to leave the record as it is.
 */
export async function mutateDeployment(
  deps: Writes,
  id: string,
  change: (d: Deployment) => Partial<DeploymentState> | undefined,
): Promise<Deployment> {
  for (let attempt = 0; ; attempt++) {
    const d = await loadDeployment(deps, id);
    const patch = change(d);
    if (!patch) return d;
    try {
      return await deps.deployments.update(id, d.state.version, patch);
    } catch (e) {
      if (!(e instanceof InternalError) || attempt >= 4) throw e;
    }
  }
}

/** Append to the deployment's timeline (and the log). */
export async function note(
  deps: Notes,
  id: string,
  event: string,
  message: string,
  data?: Record<string, unknown>,
): Promise<void> {
  deps.log.info(message, { deploymentId: id, event, ...data });
  await deps.timeline.append(id, {
    at: deps.clock.stamp().toISOString(),
    event,
    message,
    ...(data ? { data } : {}),
  });
}

/** A stop request ends the deployment at the next thing it would do. */
export function throwIfStopped(d: Deployment): void {
  if (d.state.stopRequest) throw new DeploymentStoppedError(`Stopped by request at ${d.state.stopRequest.at}`);
}

/** What a platform's strategy may do on this deployment besides its own ports. */
export function strategyContext(deps: Notes & Writes, id: string): StrategyContext {
  return {
    now: () => deps.clock.now(),
    note: (event, message, data) => note(deps, id, event, message, data),
    recordFacts: async (facts) => {
      await mutateDeployment(deps, id, (cur) => ({ facts: { ...(cur.state.facts as object), ...facts } }));
    },
  };
}

/** The check context: the strategy context and the group's last successful deployment. */
export async function checkContext(deps: Notes & Writes, d: Deployment, group: DeploymentGroup): Promise<CheckContext> {
  const last = group.lastSuccessfulDeployment?.deploymentId;
  const previous = last ? await deps.deployments.get(last) : undefined;
  return { ...strategyContext(deps, d.deploymentId), ...(previous ? { previous } : {}) };
}

/**
 * Step-boundary alarm check: an alarm recorded by the alarm listener since the last boundary, then
 * the group's alarms read now (the safety net), judged against the deployment's baseline. Throws
 * AlarmActiveError when the verdict stops the deployment; returns the verdict otherwise.
 */
export async function checkAlarms(
  deps: Notes & { alarms: Pick<AlarmSource, 'describe'> },
  d: Deployment,
  group: DeploymentGroup,
  when: string,
): Promise<AlarmVerdict> {
  const pending = d.state.pendingAlarm;
  if (pending) {
    throw new AlarmActiveError(`Alarm ${pending.alarmName} went to ALARM at ${pending.at} (noticed ${when})`);
  }
  const names = watchedAlarms(group.alarmConfiguration);
  if (names.length === 0) return { phase: 'Healthy', readings: [] };
  let verdict: AlarmVerdict;
  try {
    verdict = evaluateAlarms(
      group.alarmConfiguration,
      await deps.alarms.describe(names),
      undefined,
      d.state.alarmBaseline,
    );
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
 * Fail the execution's current wait at once (stop, alarm), if it is one of `kinds` (default: any).
 * Returns whether a waiting task was completed.
 */
export async function failWait(
  deps: { tokens: Pick<TaskTokens, 'fail'> },
  d: Deployment,
  error: ErrorName,
  cause: string,
  kinds?: string[],
): Promise<boolean> {
  const w = d.state.currentWait;
  if (!w || (kinds && !kinds.includes(w.kind))) return false;
  return deps.tokens.fail(w.token, error, cause);
}

/**
 * End the execution's current wait with success (promote, pause, resume, approve, continue), if it
 * is one of `kinds`. Returns whether a waiting task was completed.
 */
export async function succeedWait(
  deps: { tokens: Pick<TaskTokens, 'succeed'> },
  d: Deployment,
  output: Record<string, unknown>,
  kinds: string[],
): Promise<boolean> {
  const w = d.state.currentWait;
  if (!w || !kinds.includes(w.kind)) return false;
  return deps.tokens.succeed(w.token, output);
}

/** How many times in a row `once` tries to record an effect that happened. */
const RECORD_EFFECT_ATTEMPTS = 10;

/**
 * Run a side effect of the deployment once in effect: skipped when `key` is already among the
 * effects `d` records as done, recorded right after it ran. The record is tried several times at
 * once, whatever the error: once the effect happened, a retry of the task would repeat it. Only a
 * crash (or ten failures in a row) between the effect and its record runs it again on the retry: at
 * least once, as EventBridge and SNS deliver.
 */
export async function once(deps: Writes, d: Deployment, key: string, effect: () => Promise<void>): Promise<void> {
  if (d.state.effects?.includes(key)) return;
  await effect();
  for (let attempt = 1; ; attempt++) {
    try {
      await mutateDeployment(deps, d.deploymentId, (cur) =>
        cur.state.effects?.includes(key) ? undefined : { effects: [...(cur.state.effects ?? []), key] },
      );
      return;
    } catch (e) {
      if (attempt >= RECORD_EFFECT_ATTEMPTS) throw e;
    }
  }
}

type Publishes = Notes & Writes & { events: Pick<EventPublisher, 'putEvents' | 'publish'> };

/** How many refusals in a row a notification takes before they are believed. */
const REFUSALS_BELIEVED = 3;

/**
 * Deliver one notification once. A refusal (the topic does not exist or does not let Cutover
 * publish), if the next tries are refused too (a single one may be a spurious not-found or
 * AccessDenied), is recorded on the deployment and its timeline and counts as delivered: retrying
 * it changes nothing, and a notification must never decide a deployment's outcome. Anything else
 * (throttling, 5xx) is thrown, for the task's retry.
 */
async function deliver(
  deps: Publishes,
  d: Deployment,
  key: string,
  what: { event: string; target: string },
  send: () => Promise<void>,
): Promise<void> {
  await once(deps, d, key, async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        await send();
        return;
      } catch (e) {
        if (!(e instanceof DependencyRejectedError)) throw e;
        if (attempt < REFUSALS_BELIEVED) continue;
        await recordRefusal(e);
        return;
      }
    }
  });

  async function recordRefusal(e: DependencyRejectedError): Promise<void> {
    const failure = { at: deps.clock.stamp().toISOString(), ...what, message: e.message.slice(0, 500) };
    await mutateDeployment(deps, d.deploymentId, (cur) => ({
      notificationFailures: [...(cur.state.notificationFailures ?? []), failure],
    }));
    await note(
      deps,
      d.deploymentId,
      'NotificationFailed',
      `${what.event} to ${what.target} was refused: ${failure.message}`,
    );
  }
}

/**
 * Publish a deployment state to EventBridge and the group's SNS triggers, in CodeDeploy's shapes:
 * each once per deployment, whatever retries (see `once`, `deliver`).
 */
/**
 * A rollback that failed, published loudly: its own EventBridge event, and a DeploymentFailure
 * message to every trigger topic of the group, also those not subscribed to failures (whoever
 * listens to a group must hear that its traffic may be split). Each once.
 */
export async function publishRollbackFailed(
  deps: Publishes,
  d: Deployment,
  group: DeploymentGroup,
  message: string,
): Promise<void> {
  const entry = rollbackFailedEntry(deps.env, d, message, deps.clock.stamp());
  await deliver(deps, d, 'event:ROLLBACK_FAILED', { event: 'ROLLBACK_FAILED', target: 'EventBridge' }, () =>
    deps.events.putEvents([entry]),
  );
  const unsubscribed = {
    ...group,
    triggerConfigurations: group.triggerConfigurations
      .filter((t) => !t.triggerEvents.includes('DeploymentFailure'))
      .map((t) => ({ ...t, triggerEvents: ['DeploymentFailure' as const] })),
  };
  const targets = platformOf(d.spec.computePlatform).targetCount(d);
  for (const m of triggerMessages(deps.env, unsubscribed, d, 'DeploymentFailure', targets))
    await deliver(
      deps,
      d,
      `trigger:ROLLBACK_FAILED:${m.topicArn}`,
      { event: 'ROLLBACK_FAILED', target: m.topicArn },
      () => deps.events.publish(m),
    );
}

export async function publishState(
  deps: Publishes,
  d: Deployment,
  group: DeploymentGroup,
  state: DeploymentEventState | undefined,
  triggers: TriggerEventType[],
): Promise<void> {
  if (state) {
    const entry = eventBridgeEntry(deps.env, d, state, deps.clock.stamp());
    await deliver(deps, d, `event:${state}`, { event: state, target: 'EventBridge' }, () =>
      deps.events.putEvents([entry]),
    );
  }
  // A deployment recorded without a target (an upload that could not start one) has none to count.
  const targets = d.spec.target === undefined ? 0 : platformOf(d.spec.computePlatform).targetCount(d);
  for (const event of triggers) {
    for (const m of triggerMessages(deps.env, group, d, event, targets))
      await deliver(deps, d, `trigger:${event}:${m.topicArn}`, { event, target: m.topicArn }, () =>
        deps.events.publish(m),
      );
  }
}
