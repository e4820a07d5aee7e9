/**
 * Prepare: check the world before anything changes (the platform's targets, every watched alarm
 * exists and none is in ALARM), then mark the deployment InProgress, publish START, and route to
 * its first stage.
 */
import { baselineOf, evaluateAlarms, watchedAlarms, type AlarmBaseline, type AlarmReading } from '../domain/alarms.js';
import { describePlan } from '../domain/deployment-config.js';
import { AlarmActiveError, PreconditionFailedError } from '../domain/errors.js';
import { firstStage, type Next } from '../domain/lifecycle.js';
import { isTerminal } from '../domain/model.js';
import { platformOf } from '../platforms/index.js';
import { checkContext, loadDeployment, loadGroup, mutateDeployment, note, publishState } from './support.js';
import { DeploymentIdInput, defineTask, type DepsFor } from './task.js';

const USES = {
  deployments: ['get', 'update'],
  catalog: ['getDeploymentGroup'],
  timeline: ['append'],
  alarms: ['describe'],
  alarmWatches: ['watch'],
  events: ['putEvents', 'publish'],
  platforms: ['check'],
} as const;

async function prepare(input: { deploymentId: string }, deps: DepsFor<typeof USES>): Promise<Next> {
  const d = await loadDeployment(deps, input.deploymentId);
  // A retried Prepare after it already succeeded: the world may have moved since; do not re-check.
  if (d.state.status === 'InProgress') return firstStage(d.spec);
  // Ended before it started (CreateDeployment could not confirm the start and recorded it Failed, or
  // the reconciler did): nothing moved, nothing to do.
  if (isTerminal(d.state.status) && !d.state.startTime) return { kind: 'ended' };
  if (d.state.status !== 'Created')
    throw new PreconditionFailedError(
      `deployment ${d.deploymentId} is ${d.state.status}, not Created`,
      'INTERNAL_ERROR',
    );
  const group = await loadGroup(deps, d);
  const platform = platformOf(d.spec.computePlatform);

  const world = await deps.platforms.check(d, await checkContext(deps, d, group));
  const problems = [...world.problems];

  const names = watchedAlarms(group.alarmConfiguration);
  let baseline: AlarmBaseline | undefined;
  if (names.length) {
    let verdict;
    let readings: AlarmReading[] | undefined;
    try {
      readings = await deps.alarms.describe(names);
      verdict = evaluateAlarms(group.alarmConfiguration, readings);
    } catch (e) {
      verdict = evaluateAlarms(group.alarmConfiguration, undefined, (e as Error).message);
    }
    if (verdict.phase === 'Unknown' && verdict.missing.length) {
      problems.push(`watched alarm(s) do not exist: ${verdict.missing.join(', ')}`);
    } else if (verdict.phase === 'Unknown' && !group.alarmConfiguration.ignorePollAlarmFailure) {
      problems.push(verdict.reason);
    }
    baseline = baselineOf(readings ?? [], deps.clock.now().toISOString());
    if (problems.length === 0 && verdict.phase === 'Breached') {
      if (group.alarmConfiguration.baselineMode === 'ignoreAlarmsAlreadyFiring') {
        await note(
          deps,
          d.deploymentId,
          'AlarmBaseline',
          `Already in ALARM at start, ignored until they change state: ${verdict.alarms.join(', ')}`,
          { firing: verdict.alarms },
        );
      } else {
        await note(deps, d.deploymentId, 'AlarmCheck', `Alarm ${verdict.alarms.join(', ')} already in ALARM at start`);
        throw new AlarmActiveError(`Alarm ${verdict.alarms.join(', ')} in ALARM before traffic moved`);
      }
    }
  }
  if (problems.length) {
    await note(deps, d.deploymentId, 'PreconditionFailed', `Nothing was changed: ${problems.join('; ')}`);
    throw new PreconditionFailedError(problems.join('; '), platform.errorCodes.invalidTarget);
  }

  const now = deps.clock.stamp().toISOString();
  const started = await mutateDeployment(deps, d.deploymentId, (cur) =>
    cur.state.status === 'Created'
      ? {
          status: 'InProgress',
          startTime: now,
          stepIndex: -1,
          watchedAlarms: names,
          ...(baseline ? { alarmBaseline: baseline } : {}),
          ...(world.facts ? { facts: { ...(cur.state.facts as object), ...world.facts } } : {}),
        }
      : undefined,
  );
  // Ended while the world was checked (its create gave up on it, or the reconciler ended it):
  // nothing moved, and nothing may be indexed or published for it.
  if (isTerminal(started.state.status) && !started.state.startTime) return { kind: 'ended' };
  // Index the watched alarms so the alarm listener finds this deployment without a scan.
  if (names.length) await deps.alarmWatches.watch(d.deploymentId, names);
  const nothingToDo = d.spec.lifecycle.length === 0;
  await note(
    deps,
    d.deploymentId,
    'Started',
    nothingToDo
      ? `Every target already runs the revision (${world.summary}): nothing to change`
      : `${world.summary}. Plan: ${describePlan(d.spec.plan)}`,
    { steps: d.spec.plan.steps },
  );
  await publishState(deps, started, group, 'START', ['DeploymentStart']);
  return firstStage(d.spec);
}

export const prepareDeployment = defineTask('prepareDeployment', USES, DeploymentIdInput, prepare);
