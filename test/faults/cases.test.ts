/**
 * The cases listed at the top of issue #11, each as a deterministic test: one fault (or a few) at
 * a named port call, then the outcome and the world read back. The seeded suite
 * (fault-suite.test.ts) finds cases like these; these pin them down by name.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/api/operations.js';
import type { Deployment } from '../../src/domain/model.js';
import { TASKS } from '../../src/tasks/index.js';
import { ecsAppSpec, ecsState, ecsTestEnv, type EcsGroupOptions } from '../support/ecs.js';
import { ScriptedFaults } from '../support/faults.js';
import { appSpec, eventBridgeStates, testEnv, waitFor, type GroupOptions, type TestEnv } from '../support/local.js';

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

async function lambda(faults: ScriptedFaults, group: GroupOptions = {}): Promise<TestEnv> {
  env = await testEnv(group, undefined, { instrumentation: faults });
  return env;
}
async function ecs(faults: ScriptedFaults, group: EcsGroupOptions = {}): Promise<TestEnv> {
  env = await ecsTestEnv(group, {}, undefined, { instrumentation: faults });
  return env;
}
/** The ECS world with only the weights that carry traffic. */
function ecsWorldOf(e: TestEnv) {
  const s = ecsState(e.world);
  const on = (split: Record<string, number>) => Object.fromEntries(Object.entries(split).filter(([, w]) => w > 0));
  return { taskSets: s.taskSets, prod: on(s.prod), test: on(s.test) };
}
const BLUE_ONLY = { taskSets: [['web:1', 'PRIMARY']], prod: { 'web-blue': 100 }, test: { 'web-blue': 100 } };
const GREEN_ONLY = { taskSets: [['web:2', 'PRIMARY']], prod: { 'web-green': 100 }, test: { 'web-green': 100 } };

/** CreateDeployment through the API, as a client calls it: the answer, or the error's type. */
async function create(e: TestEnv, content: string, group = 'prod', app = 'shop') {
  const r = await e.work!.during(
    dispatch(
      'CreateDeployment',
      {
        applicationName: app,
        deploymentGroupName: group,
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content } },
      },
      e.deps,
      e.viewFor,
    ),
  );
  return 'error' in r
    ? { error: r.error.__type }
    : { deploymentId: (r.output as { deploymentId: string }).deploymentId };
}

/** Every deployment of the group, read from the store. */
async function recordsOf(e: TestEnv, app: string, group: string): Promise<Deployment[]> {
  const ids = await e.deps.deployments.list(app, group);
  return (await Promise.all(ids.map((id) => e.deps.deployments.get(id)))).filter((d): d is Deployment => !!d);
}

const lockOf = async (e: TestEnv, app: string, group: string) =>
  (await e.deps.catalog.getDeploymentGroup(app, group))?.activeDeploymentId;

const V1 = { functionVersion: '1', additionalVersionWeights: {} };
const V2 = { functionVersion: '2', additionalVersionWeights: {} };

describe('locks and records do not leak (issue #11)', () => {
  for (const [name, method, kind] of [
    ['a throttled timeline write', 'timeline.append', 'throttling'],
    ['a 5xx revision-use write', 'catalog.recordRevisionUse', '5xx'],
  ] as const) {
    it(`${name} in CreateDeployment leaves no Created deployment and a free group`, async () => {
      const faults = new ScriptedFaults().add({ caller: 'api.CreateDeployment', method, kind });
      const e = await lambda(faults);
      expect(await create(e, appSpec())).toEqual({ error: 'InternalFailure' });
      expect(faults.unfired).toEqual([]);
      // The record says why, and that nothing of it ever ran.
      const [d, ...others] = await recordsOf(e, 'shop', 'prod');
      expect(others).toEqual([]);
      expect(d?.state).toMatchObject({ status: 'Failed', errorInformation: { code: 'INTERNAL_ERROR' } });
      expect(d?.state.lifecycleEvents.map((l) => l.status)).toEqual(['Skipped', 'Skipped', 'Skipped']);
      expect(await lockOf(e, 'shop', 'prod')).toBeUndefined();
      expect(e.world.getAlias('api', 'live')).toEqual(V1);
      // The next deployment goes through.
      expect((await e.deploy(appSpec())).deployment.state.status).toBe('Succeeded');
      expect(e.world.getAlias('api', 'live')).toEqual(V2);
    });
  }

  it('a create whose clean-up fails too is ended by the reconciler after a minute, nothing left Created or locked', async () => {
    const faults = new ScriptedFaults()
      .add({ caller: 'api.CreateDeployment', method: 'executions.start', kind: 'accessDenied' })
      .add({
        caller: 'api.CreateDeployment',
        method: 'deployments.update',
        kind: 'throttling',
        times: 3,
        after: 'executions.start',
      });
    const e = await lambda(faults);
    expect(await create(e, appSpec())).toEqual({ error: 'InternalFailure' });
    const [left] = await recordsOf(e, 'shop', 'prod');
    expect(left?.state.status).toBe('Created');
    expect(await lockOf(e, 'shop', 'prod')).toBe(left?.deploymentId);
    // The reconciler's schedule: it leaves a create alone for its first minute.
    expect((await e.run(TASKS.reconcile, {})).actions).toEqual([]);
    await e.elapse(61);
    expect((await e.run(TASKS.reconcile, {})).actions.map((a) => a.action)).toEqual(['ended']);
    const [ended] = await recordsOf(e, 'shop', 'prod');
    expect(ended?.state.status).toBe('Failed');
    expect(ended?.state.lifecycleEvents.map((l) => l.status)).toEqual(['Skipped', 'Skipped', 'Skipped']);
    expect(await lockOf(e, 'shop', 'prod')).toBeUndefined();
    expect((await e.deploy(appSpec())).deployment.state.status).toBe('Succeeded');
  });
});

describe('create is atomic as clients see it (issue #11)', () => {
  it('a StartExecution whose answer was lost, and whose clean-up fails, answers the id; the deployment runs to an end', async () => {
    const faults = new ScriptedFaults()
      .add({ caller: 'api.CreateDeployment', method: 'executions.start', kind: 'lostResponse' })
      .add({
        caller: 'api.CreateDeployment',
        method: 'deployments.update',
        kind: '5xx',
        times: 3,
        after: 'executions.start',
      });
    const e = await lambda(faults);
    const answer = await create(e, appSpec());
    expect(faults.unfired).toEqual([]);
    expect(answer).toEqual({ deploymentId: expect.stringMatching(/^d-/) });
    const r = await e.finish((answer as { deploymentId: string }).deploymentId);
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(e.world.getAlias('api', 'live')).toEqual(V2);
    expect(await lockOf(e, 'shop', 'prod')).toBeUndefined();
  });

  it('a create that answered its id but never started is ended by the reconciler, and its FAILURE published', async () => {
    const faults = new ScriptedFaults()
      .add({ caller: 'api.CreateDeployment', method: 'executions.start', kind: 'timeout' })
      .add({
        caller: 'api.CreateDeployment',
        method: 'deployments.update',
        kind: 'throttling',
        times: 3,
        after: 'executions.start',
      });
    const e = await lambda(faults);
    const answer = await create(e, appSpec());
    expect(answer).toEqual({ deploymentId: expect.stringMatching(/^d-/) });
    const id = (answer as { deploymentId: string }).deploymentId;
    await e.elapse(61);
    expect((await e.run(TASKS.reconcile, {})).actions.map((a) => a.action)).toEqual(['ended']);
    const d = await e.deps.deployments.get(id);
    expect(d?.state).toMatchObject({ status: 'Failed', errorInformation: { code: 'INTERNAL_ERROR' } });
    expect(eventBridgeStates(e.world)).toEqual(['FAILURE']);
    expect(await lockOf(e, 'shop', 'prod')).toBeUndefined();
    expect(e.world.getAlias('api', 'live')).toEqual(V1);
  });

  it('a create that gives up on its deployment while Prepare checks the world: Prepare ends quietly, indexing no alarm', async () => {
    // A Created record with no execution (its start was refused, its clean-up failed).
    const faults = new ScriptedFaults()
      .add({ caller: 'api.CreateDeployment', method: 'executions.start', kind: 'accessDenied' })
      .add({
        caller: 'api.CreateDeployment',
        method: 'deployments.update',
        kind: '5xx',
        times: 3,
        after: 'executions.start',
      });
    const e = await lambda(faults, { alarms: ['api-errors'] });
    expect(await create(e, appSpec())).toEqual({ error: 'InternalFailure' });
    const [d] = await recordsOf(e, 'shop', 'prod');
    expect(d?.state.status).toBe('Created');
    // Prepare reads the record while it is Created; the create's clean-up (here, as it would)
    // ends it before Prepare records the start.
    const view = e.viewFor('prepareDeployment', TASKS.prepareDeployment.uses);
    const racing = {
      ...view,
      alarms: {
        describe: async (names: string[]) => {
          await e.deps.deployments.update(d!.deploymentId, d!.state.version, {
            status: 'Failed',
            errorInformation: { code: 'INTERNAL_ERROR', message: 'The deployment could not be started' },
          });
          return view.alarms.describe(names);
        },
      },
    };
    expect(await e.work!.during(TASKS.prepareDeployment.run({ deploymentId: d!.deploymentId }, racing))).toEqual({
      kind: 'ended',
    });
    expect(await e.deps.alarmWatches.watching('api-errors')).toEqual([]);
    expect(eventBridgeStates(e.world)).toEqual([]);
    expect((await e.deps.deployments.get(d!.deploymentId))?.state.startTime).toBeUndefined();
  });
});

/** Start a deployment, wait for its first bake (traffic split), and stop it (with rollback) through the API. */
async function stopMidBake(e: TestEnv, content: string): Promise<Deployment> {
  const id = await e.start(content);
  await waitFor(e, id, (d) => d.state.currentWait?.kind === 'bake');
  const r = await e.work!.during(dispatch('StopDeployment', { deploymentId: id }, e.deps, e.viewFor));
  expect(r).not.toHaveProperty('error');
  return (await e.finish(id)).deployment;
}

describe('rollback does not give up while traffic is split (issue #11)', () => {
  for (const [what, method, kind] of [
    ['an AccessDenied on its timeline', 'timeline.append', 'accessDenied'],
    ['an AccessDenied on its own record', 'deployments.update', 'accessDenied'],
    ['a spurious not-found writing the rollback record', 'deployments.create', 'notFound'],
  ] as const) {
    it(`a rollback does not stop at ${what}: traffic goes back, the deployment ends Stopped`, async () => {
      const faults = new ScriptedFaults().add({ caller: 'rollbackDeployment', method, kind });
      const e = await lambda(faults);
      const d = await stopMidBake(
        e,
        appSpec({
          functions: [
            ['api', '1', '2'],
            ['worker', '5', '6'],
          ],
        }),
      );
      expect(faults.unfired).toEqual([]);
      expect(d.state).toMatchObject({ status: 'Stopped', errorInformation: { code: 'MANUAL_STOP' } });
      expect(e.world.getAlias('api', 'live')).toEqual(V1);
      expect(e.world.getAlias('worker', 'live')).toEqual({ functionVersion: '5', additionalVersionWeights: {} });
      const rb = await e.deps.deployments.get(d.state.rollbackInfo!.rollbackDeploymentId!);
      expect(rb?.state.status).toBe('Succeeded');
      expect(d.state.rollbackInfo?.rollbackMessage).toContain('read back and verified');
      expect(await lockOf(e, 'shop', 'prod')).toBeUndefined();
      expect(eventBridgeStates(e.world)).toEqual(['START', 'STOP']);
    });
  }
});

describe('the end of a deployment happens once (issue #11)', () => {
  it('a published outcome whose record write failed is not published again', async () => {
    const faults = new ScriptedFaults().add({
      caller: 'completeDeployment',
      method: 'deployments.update',
      after: 'events.putEvents',
      kind: '5xx',
    });
    const e = await lambda(faults);
    const r = await e.deploy(appSpec(), { deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' });
    expect(faults.unfired).toEqual([]);
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(eventBridgeStates(e.world)).toEqual(['START', 'SUCCESS']);
  });

  it('a stop whose recorded STOP event could not be marked sent is published once', async () => {
    const faults = new ScriptedFaults().add({
      caller: 'recordOutcome',
      method: 'deployments.update',
      after: 'events.putEvents',
      kind: 'throttling',
    });
    const e = await lambda(faults);
    const d = await stopMidBake(e, appSpec());
    expect(faults.unfired).toEqual([]);
    expect(d.state.status).toBe('Stopped');
    expect(eventBridgeStates(e.world)).toEqual(['START', 'STOP']);
    expect(e.world.getAlias('api', 'live')).toEqual(V1);
  });
});

describe('a commit point: nothing rolls back a deployment recorded Succeeded (issue #11)', () => {
  const topic = 'arn:aws:sns:us-east-1:111122223333:forbidden';
  const triggers = [{ triggerName: 'ops', triggerTargetArn: topic, triggerEvents: ['DeploymentSuccess'] }];

  it('an SNS DeploymentSuccess trigger Cutover may not publish to does not roll back', async () => {
    const e = await lambda(new ScriptedFaults(), { triggerConfigurations: triggers });
    e.world.injectFault('Publish', 'AccessDenied', 1000, topic);
    const r = await e.deploy(appSpec(), { deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' });
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(e.world.getAlias('api', 'live')).toEqual(V2);
    expect(r.deployment.state.notificationFailures).toEqual([
      expect.objectContaining({ event: 'DeploymentSuccess', target: topic }),
    ]);
    expect(r.timeline.map((t) => t.event)).toContain('NotificationFailed');
    expect(r.timeline.map((t) => t.event)).not.toContain('RollbackStarted');
    expect(eventBridgeStates(e.world)).toEqual(['START', 'SUCCESS']);
    expect(await lockOf(e, 'shop', 'prod')).toBeUndefined();
  });

  it('ECS: a failure after the commit completes the deployment; production never goes back to the deleted original', async () => {
    // Deleting the original task set is refused once, after Succeeded is recorded: Complete fails,
    // the execution fails, and executionEnded completes the deployment from the record.
    const faults = new ScriptedFaults().add({
      caller: 'completeDeployment',
      method: 'ECS.services.deleteTaskSet',
      kind: 'accessDenied',
    });
    const e = await ecs(faults, { deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce' });
    const r = await e.deploy(ecsAppSpec('web:2'));
    expect(faults.unfired).toEqual([]);
    expect(r.execution.status).toBe('FAILED');
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(ecsWorldOf(e)).toEqual(GREEN_ONLY);
    expect(r.timeline.map((t) => t.event)).not.toContain('RollbackStarted');
    expect(eventBridgeStates(e.world)).toEqual(['START', 'SUCCESS']);
    expect(await lockOf(e, 'shop', 'web')).toBeUndefined();
  });

  it('one refused PutEvents of the outcome is tried again, not taken as the answer', async () => {
    const faults = new ScriptedFaults().add({
      caller: 'completeDeployment',
      method: 'events.putEvents',
      kind: 'accessDenied',
    });
    const e = await lambda(faults);
    const r = await e.deploy(appSpec(), { deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' });
    expect(faults.unfired).toEqual([]);
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(r.deployment.state.notificationFailures).toBeUndefined();
    expect(eventBridgeStates(e.world)).toEqual(['START', 'SUCCESS']);
  });
});

describe('rollback does not give up: the rest of the cases (issue #11)', () => {
  it('a spurious ListenerNotFound during rollback is re-read: everything ends on blue', async () => {
    const faults = new ScriptedFaults().add({
      caller: 'rollbackDeployment',
      method: 'ECS.loadBalancers.describeListener',
      kind: 'notFound',
    });
    const e = await ecs(faults);
    const d = await stopMidBake(e, ecsAppSpec('web:2'));
    expect(faults.unfired).toEqual([]);
    expect(d.state).toMatchObject({ status: 'Stopped', errorInformation: { code: 'MANUAL_STOP' } });
    expect(ecsWorldOf(e)).toEqual(BLUE_ONLY);
    expect(await lockOf(e, 'shop', 'web')).toBeUndefined();
  });

  it('twelve retryable failures in a row do not end a rollback: both functions go back', async () => {
    const faults = new ScriptedFaults().add({
      caller: 'rollbackDeployment',
      method: 'Lambda.aliases.setAlias',
      kind: '5xx',
      times: 12,
    });
    const e = await lambda(faults);
    const d = await stopMidBake(
      e,
      appSpec({
        functions: [
          ['api', '1', '2'],
          ['worker', '5', '6'],
        ],
      }),
    );
    expect(faults.unfired).toEqual([]);
    expect(d.state.status).toBe('Stopped');
    expect(e.world.getAlias('api', 'live')).toEqual(V1);
    expect(e.world.getAlias('worker', 'live')).toEqual({ functionVersion: '5', additionalVersionWeights: {} });
  });

  it('ECS: a rollback that fails ten times with green primary keeps trying until blue serves again', async () => {
    const faults = new ScriptedFaults().add({
      caller: 'rollbackDeployment',
      method: 'ECS.services.updateServicePrimaryTaskSet',
      kind: 'throttling',
      times: 10,
    });
    const e = await ecs(faults, {
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      blueGreenDeploymentConfiguration: {
        terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 30 },
      },
    });
    const id = await e.start(ecsAppSpec('web:2'));
    await waitFor(e, id, (d) => d.state.currentWait?.kind === 'termination');
    expect(ecsWorldOf(e).taskSets).toEqual([
      ['web:1', 'ACTIVE'],
      ['web:2', 'PRIMARY'],
    ]);
    await e.work!.during(dispatch('StopDeployment', { deploymentId: id }, e.deps, e.viewFor));
    const r = await e.finish(id);
    expect(faults.unfired).toEqual([]);
    expect(r.deployment.state.status).toBe('Stopped');
    expect(ecsWorldOf(e)).toEqual(BLUE_ONLY);
  });

  it('a target that truly cannot be restored ends ROLLBACK_FAILED after the deadline, named, published loudly; the other is restored', async () => {
    const topic = 'arn:aws:sns:us-east-1:111122223333:ops';
    const e = await lambda(new ScriptedFaults(), {
      triggerConfigurations: [{ triggerName: 'ops', triggerTargetArn: topic, triggerEvents: ['DeploymentSuccess'] }],
    });
    const id = await e.start(
      appSpec({
        functions: [
          ['api', '1', '2'],
          ['worker', '5', '6'],
        ],
      }),
    );
    await waitFor(e, id, (d) => d.state.currentWait?.kind === 'bake');
    // From now on, nothing may change worker's alias.
    e.world.injectFault('UpdateAlias', 'AccessDenied', 1_000_000, 'worker');
    await e.work!.during(dispatch('StopDeployment', { deploymentId: id }, e.deps, e.viewFor));
    const r = await e.finish(id);
    const info = r.deployment.state.errorInformation;
    expect(r.deployment.state.status).toBe('Failed');
    expect(info?.code).toBe('ROLLBACK_FAILED');
    // Named, with where its traffic is; the function that was restored is not named.
    expect(info?.message).toContain('worker:live: v5 90% / v6 10%');
    expect(info?.message).not.toContain('api:live');
    expect(e.world.getAlias('api', 'live')).toEqual(V1);
    expect(e.world.getAlias('worker', 'live')).toEqual({
      functionVersion: '5',
      additionalVersionWeights: { '6': 0.1 },
    });
    // It tried until its deadline (15 minutes by default), not ten times.
    const tried = Date.parse(r.deployment.state.completeTime!) - Date.parse(r.deployment.state.rollbackDeadline!);
    expect(tried).toBeGreaterThanOrEqual(0);
    // Loud: its own EventBridge event besides FAILURE, and the group's topic told though it only
    // subscribes to successes.
    expect(e.world.log.filter((x) => x.kind === 'EventBridge').map((x) => x.detail['detail-type'])).toContain(
      'Cutover Deployment Rollback Failed',
    );
    expect(e.world.log.filter((x) => x.kind === 'SNS').map((x) => x.detail.topicArn)).toEqual([topic]);
    const rb = await e.deps.deployments.get(r.deployment.state.rollbackInfo!.rollbackDeploymentId!);
    expect(rb?.state).toMatchObject({ status: 'Failed', errorInformation: { code: 'ROLLBACK_FAILED' } });
    expect(await lockOf(e, 'shop', 'prod')).toBeUndefined();
  });

  it('a rollback that runs twice ends its rollback record once, with the right message', async () => {
    // The rollback's last write (its RolledBack note) takes effect but its answer is lost: the
    // state machine runs Rollback again, which finds the world restored.
    const faults = new ScriptedFaults().add({
      caller: 'rollbackDeployment',
      method: 'timeline.append',
      kind: 'lostResponse',
      after: 'Lambda.aliases.setAlias',
    });
    const e = await lambda(faults);
    const d = await stopMidBake(e, appSpec());
    expect(faults.unfired).toEqual([]);
    expect(d.state.status).toBe('Stopped');
    expect(d.state.rollbackInfo?.rollbackMessage).toMatch(/^Rolled back/);
    const rb = await e.deps.deployments.get(d.state.rollbackInfo!.rollbackDeploymentId!);
    expect(rb?.state.status).toBe('Succeeded');
    expect(rb?.state.lifecycleEvents.map((l) => l.status)).toEqual(['Succeeded']);
    expect(e.world.getAlias('api', 'live')).toEqual(V1);
    expect(eventBridgeStates(e.world)).toEqual(['START', 'STOP']);
  });
});

describe('locks and records do not leak: the lock and the outcome (issue #11)', () => {
  it('a lost lock response leaves no lock naming a missing record, and no lock at all', async () => {
    const faults = new ScriptedFaults().add({
      caller: 'api.CreateDeployment',
      method: 'locks.acquire',
      kind: 'lostResponse',
    });
    const e = await lambda(faults);
    expect(await create(e, appSpec())).toEqual({ error: 'InternalFailure' });
    expect(faults.unfired).toEqual([]);
    const [d] = await recordsOf(e, 'shop', 'prod');
    expect(d?.state.status).toBe('Failed');
    expect(await lockOf(e, 'shop', 'prod')).toBeUndefined();
    expect((await e.deploy(appSpec())).deployment.state.status).toBe('Succeeded');
  });

  it('a lost lock response whose release fails too is freed by the reconciler', async () => {
    const faults = new ScriptedFaults()
      .add({ caller: 'api.CreateDeployment', method: 'locks.acquire', kind: 'lostResponse' })
      .add({ caller: 'api.CreateDeployment', method: 'locks.release', kind: 'accessDenied' });
    const e = await lambda(faults);
    expect(await create(e, appSpec())).toEqual({ error: 'InternalFailure' });
    const [d] = await recordsOf(e, 'shop', 'prod');
    // The lock names a record, which says the deployment ended.
    expect(await lockOf(e, 'shop', 'prod')).toBe(d?.deploymentId);
    expect(d?.state.status).toBe('Failed');
    await e.elapse(61);
    await e.run(TASKS.reconcile, {});
    expect(await lockOf(e, 'shop', 'prod')).toBeUndefined();
    expect((await e.deploy(appSpec())).deployment.state.status).toBe('Succeeded');
  });

  for (const [what, method] of [
    ['the release', 'locks.release'],
    ['the alarm-index clean-up', 'alarmWatches.unwatch'],
  ] as const) {
    it(`a failed write in RecordOutcome (${what}) still ends with the group free, the index clean, one STOP`, async () => {
      const faults = new ScriptedFaults().add({ caller: 'recordOutcome', method, kind: 'accessDenied' });
      const e = await lambda(faults, { alarms: ['api-errors'] });
      const d = await stopMidBake(e, appSpec());
      expect(faults.unfired).toEqual([]);
      expect(d.state.status).toBe('Stopped');
      expect(await lockOf(e, 'shop', 'prod')).toBeUndefined();
      expect(await e.deps.alarmWatches.watching('api-errors')).toEqual([]);
      expect(eventBridgeStates(e.world)).toEqual(['START', 'STOP']);
      expect(e.world.getAlias('api', 'live')).toEqual(V1);
    });
  }
});
