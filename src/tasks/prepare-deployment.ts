/**
 * Prepare: check the revision against the world before any traffic moves: every version exists,
 * every alias routes all its traffic to CurrentVersion, every watched alarm exists and none is in
 * ALARM. Then mark the deployment InProgress and publish START.
 */
import { z } from 'zod';
import { baselineOf, evaluateAlarms, watchedAlarms, type AlarmBaseline, type AlarmReading } from '../domain/alarms.js';
import { AlarmActiveError, InvalidInputError, PreconditionFailedError } from '../domain/errors.js';
import {
  ECS_HOOK_EVENTS,
  LAMBDA_HOOK_EVENTS,
  type Deployment,
  type EcsTarget,
  type FunctionTarget,
  type HookEvent,
} from '../domain/model.js';
import { taskDefinitionShortName, targetGroupName } from '../domain/ecs.js';
import { ecsProblems, terminationWaitSeconds } from './ecs.js';
import { hookSettings } from '../domain/hooks.js';
import { describeRouting, targetWeightOf } from '../domain/traffic.js';
import { describePlan } from '../domain/deployment-config.js';
import { loadDeployment, loadGroup, mutateDeployment, note, publishState } from './support.js';
import { defineTask, type Deps } from './task.js';

/** The execution state after Prepare (the state machine routes on it). */
export interface PreparedState {
  deploymentId: string;
  noop: boolean;
  /** The state machine takes the ECS path (Install, test traffic, ready and termination waits) for ECS. */
  platform: 'Lambda' | 'ECS';
  /** Each hook's timeout (the wait states' TimeoutSecondsPath). */
  hooks: Partial<Record<HookEvent, { timeoutSeconds: number }>>;
  step: { index: number; weight: number; bakeSeconds: number; next: 'shift' };
  /** ECS: how long the original task set is kept after AfterAllowTraffic (0: no wait). */
  termination: { waitSeconds: number };
}

/** Problems that stop a function from being shifted; empty when it is ready. */
async function functionProblems(deps: Deps, f: FunctionTarget): Promise<string[]> {
  const where = `${f.functionName}:${f.alias}`;
  const [current, target] = await Promise.all([
    deps.router.versionExists(f.functionName, f.currentVersion),
    deps.router.versionExists(f.functionName, f.targetVersion),
  ]);
  const problems: string[] = [];
  if (!current) problems.push(`${f.functionName} has no version ${f.currentVersion} (CurrentVersion)`);
  if (!target) problems.push(`${f.functionName} has no version ${f.targetVersion} (TargetVersion)`);
  if (problems.length) return problems;
  const routing = await deps.router.getAlias(f.functionName, f.alias);
  const onTarget = targetWeightOf(f, routing);
  const expected = f.currentVersion === f.targetVersion ? 100 : 0;
  if (onTarget !== expected) {
    problems.push(
      `alias ${where} routes ${describeRouting(routing)}, expected all traffic on version ${f.currentVersion} (CurrentVersion)`,
    );
  }
  return problems;
}

async function prepare(input: { deploymentId: string }, deps: Deps): Promise<PreparedState> {
  const d = await loadDeployment(deps, input.deploymentId);
  const group = await loadGroup(deps, d);
  const ecs = d.computePlatform === 'ECS';
  const noop = !ecs && d.functions.every((f) => f.currentVersion === f.targetVersion);
  const result: PreparedState = {
    deploymentId: d.deploymentId,
    noop,
    platform: ecs ? 'ECS' : 'Lambda',
    hooks: Object.fromEntries(
      (ecs ? ECS_HOOK_EVENTS : LAMBDA_HOOK_EVENTS).map((e) => [
        e,
        { timeoutSeconds: hookSettings(group, e).timeoutSeconds },
      ]),
    ),
    step: { index: -1, weight: 0, bakeSeconds: 0, next: 'shift' },
    termination: { waitSeconds: ecs ? terminationWaitSeconds(group) : 0 },
  };
  // A retried Prepare after it already succeeded: the world may have moved since; do not re-check.
  if (d.status === 'InProgress') return result;
  if (d.status !== 'Created')
    throw new PreconditionFailedError(`deployment ${d.deploymentId} is ${d.status}, not Created`, 'INTERNAL_ERROR');
  if (!d.plan || (ecs ? !d.ecs : d.functions.length === 0)) {
    throw new InvalidInputError(
      [{ path: 'revision', message: `the deployment has no ${ecs ? 'ECS service' : 'functions'} to shift` }],
      'InvalidRevisionException',
    );
  }

  let found: Partial<EcsTarget> | undefined;
  let problems: string[];
  if (ecs) ({ problems, found } = await ecsProblems(deps, d, group));
  else problems = (await Promise.all(d.functions.map((f) => functionProblems(deps, f)))).flat();

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
          {
            firing: verdict.alarms,
          },
        );
      } else {
        await note(deps, d.deploymentId, 'AlarmCheck', `Alarm ${verdict.alarms.join(', ')} already in ALARM at start`);
        throw new AlarmActiveError(`Alarm ${verdict.alarms.join(', ')} in ALARM before traffic moved`);
      }
    }
  }
  if (problems.length) {
    await note(
      deps,
      d.deploymentId,
      'PreconditionFailed',
      `Nothing was ${ecs ? 'changed' : 'shifted'}: ${problems.join('; ')}`,
    );
    throw new PreconditionFailedError(
      problems.join('; '),
      ecs ? 'INVALID_ECS_SERVICE' : 'INVALID_LAMBDA_CONFIGURATION',
    );
  }

  const now = deps.clock.now().toISOString();
  const started: Deployment = await mutateDeployment(deps, d.deploymentId, (cur) =>
    cur.status === 'Created'
      ? {
          status: 'InProgress',
          startTime: now,
          stepIndex: -1,
          watchedAlarms: names,
          ...(baseline ? { alarmBaseline: baseline } : {}),
          ...(found && cur.ecs ? { ecs: { ...cur.ecs, ...found } } : {}),
        }
      : undefined,
  );
  // Index the watched alarms so the alarm listener finds this deployment without a scan.
  if (names.length) await deps.store.watchAlarms(d.deploymentId, names);
  await note(
    deps,
    d.deploymentId,
    'Started',
    noop
      ? 'Every function already runs its TargetVersion: nothing to shift'
      : found && d.ecs
        ? `${d.ecs.clusterName}:${d.ecs.serviceName} ${taskDefinitionShortName(found.blueTaskDefinition ?? '?')} → ${taskDefinitionShortName(d.ecs.taskDefinition)} (blue task set ${found.blueTaskSetId} on ${targetGroupName(found.blueTargetGroupArn ?? '')}). Plan: ${describePlan(d.plan)}`
        : `Plan: ${describePlan(d.plan)}`,
    { steps: d.plan.steps },
  );
  await publishState(deps, started, group, 'START', ['DeploymentStart']);
  if (noop) {
    await mutateDeployment(deps, d.deploymentId, (cur) => ({
      lifecycleEvents: cur.lifecycleEvents.map((e) => ({ ...e, status: 'Skipped' as const })),
    }));
  }
  return result;
}

export const prepareDeployment = defineTask(
  'prepareDeployment',
  z.object({ deploymentId: z.string().min(1) }),
  prepare,
);
