/**
 * Issue #3 paths on the real ASL: alarms end waits at once, the alarm baseline policy, and the
 * operator controls (stop, promote, pause/resume, approvals).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../../src/domain/model.js';
import { TASKS } from '../../src/tasks/index.js';
import { appSpec, reportingHook, testEnv, waitFor, type TestEnv } from '../support/local.js';

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});
const entered = (r: { execution: { events: { type: string; state?: string }[] } }) =>
  r.execution.events.filter((e) => e.type === 'StateEntered').map((e) => e.state);
const baking = (d: Deployment) => d.state.currentWait?.kind === 'bake';
/** How the (first) Bake state ended: 'completed' by a token, or the name of the error it failed with. */
const bakeEndedBy = (r: { execution: { events: { type: string; state?: string; error?: string }[] } }) => {
  const end = r.execution.events.find(
    (e) => e.state === 'Bake' && (e.type === 'StateExited' || e.type === 'StateFailed'),
  );
  return end?.type === 'StateExited' ? 'completed' : end?.error;
};

describe('alarms end waits at once', () => {
  it('an alarm during a bake rolls back without waiting for the bake to end', async () => {
    env = await testEnv({
      alarms: ['api-errors'],
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes',
    });
    const id = await env.start(appSpec());
    await waitFor(env, id, baking);
    env.world.forceAlarm('api-errors', 'ALARM');
    const r = await env.finish(id);
    expect(r.deployment.state.status).toBe('Stopped');
    expect(r.deployment.state.errorInformation?.code).toBe('ALARM_ACTIVE');
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '1', additionalVersionWeights: {} });
    expect(r.timeline.map((t) => t.event)).toContain('AlarmFired');
    // The bake was ended by the alarm (caught → Rollback), not by its timeout (which leads to ShiftTraffic).
    expect(bakeEndedBy(r)).toBe('AlarmActiveError');
    expect(entered(r).filter((s) => s === 'ShiftTraffic')).toHaveLength(1);
  });

  it('an alarm during a hook wait rolls back', async () => {
    env = await testEnv({ alarms: ['api-errors'] });
    env.world.registerHook('postHook', async () => {
      env!.world.forceAlarm('api-errors', 'ALARM'); // the validation it runs trips the alarm; it never reports
    });
    const r = await env.deploy(appSpec({ after: 'postHook' }));
    expect(r.deployment.state.status).toBe('Stopped');
    expect(r.deployment.state.errorInformation?.code).toBe('ALARM_ACTIVE');
    expect(r.deployment.state.lifecycleEvents.find((e) => e.lifecycleEventName === 'AfterAllowTraffic')?.status).toBe(
      'Failed',
    );
    expect(entered(r)).not.toContain('HookTimedOut');
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '1', additionalVersionWeights: {} });
  });

  it('ignoreAlarmsAlreadyFiring: a hotfix ships during an incident; only a new transition to ALARM counts', async () => {
    env = await testEnv({ alarms: ['api-errors'] });
    await TASKS.updateDeploymentGroup.run(
      {
        applicationName: 'shop',
        deploymentGroupName: 'prod',
        deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
        alarmConfiguration: {
          enabled: true,
          alarms: [{ name: 'api-errors' }],
          baselineMode: 'ignoreAlarmsAlreadyFiring',
        },
      },
      env.deps,
    );
    env.world.forceAlarm('api-errors', 'ALARM');
    const fix = await env.deploy(appSpec());
    expect(fix.deployment.state.status).toBe('Succeeded');
    expect(fix.timeline.map((t) => t.event)).toContain('AlarmBaseline');

    // The incident ends; the next release makes it fire again: that transition counts.
    env.world.forceAlarm('api-errors', 'OK');
    const next = await env.start(appSpec({ functions: [['api', '2', '1']] }));
    await waitFor(env, next, baking);
    env.world.forceAlarm('api-errors', 'ALARM');
    const r = await env.finish(next);
    expect(r.deployment.state.status).toBe('Stopped');
    expect(env.world.getAlias('api', 'live').functionVersion).toBe('2');
  });

  it('failOnAlarmAtStart (the default) refuses to start while an alarm fires', async () => {
    env = await testEnv({ alarms: ['api-errors'] });
    env.world.forceAlarm('api-errors', 'ALARM');
    const r = await env.deploy(appSpec());
    expect(r.deployment.state).toMatchObject({ status: 'Stopped', errorInformation: { code: 'ALARM_ACTIVE' } });
    expect(env.world.calls.UpdateAlias).toBeUndefined();
  });
});

describe('operator controls', () => {
  const long = { deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes' };

  it('stop (default: with rollback) ends a bake at once; status Stopped, MANUAL_STOP', async () => {
    env = await testEnv(long);
    const id = await env.start(appSpec());
    await waitFor(env, id, baking);
    expect(await TASKS.stopDeployment.run({ deploymentId: id }, env.deps)).toMatchObject({ status: 'Pending' });
    const r = await env.finish(id);
    expect(r.deployment.state).toMatchObject({ status: 'Stopped', errorInformation: { code: 'MANUAL_STOP' } });
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '1', additionalVersionWeights: {} });
    await expect(TASKS.stopDeployment.run({ deploymentId: id }, env.deps)).rejects.toMatchObject({
      exceptionName: 'DeploymentAlreadyCompletedException',
    });
  });

  it('stop without rollback leaves traffic where it is and says so', async () => {
    env = await testEnv(long);
    const id = await env.start(appSpec());
    await waitFor(env, id, baking);
    await TASKS.stopDeployment.run({ deploymentId: id, autoRollbackEnabled: false }, env.deps);
    const r = await env.finish(id);
    expect(r.deployment.state.status).toBe('Stopped');
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '1', additionalVersionWeights: { '2': 0.1 } });
    expect(r.deployment.state.rollbackInfo?.rollbackMessage).toMatch(/stop asked for no rollback/);
  });

  it('promote mid-bake goes to 100% at once; AfterAllowTraffic still runs', async () => {
    env = await testEnv(long);
    const seen: unknown[] = [];
    env.world.registerHook('postHook', reportingHook('Succeeded', seen));
    const id = await env.start(appSpec({ after: 'postHook' }));
    await waitFor(env, id, baking);
    await TASKS.promoteDeployment.run({ deploymentId: id }, env.deps);
    const r = await env.finish(id);
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '2', additionalVersionWeights: {} });
    expect(seen).toHaveLength(1);
    expect(bakeEndedBy(r)).toBe('completed'); // the promote completed the wait; it did not time out
    expect(r.timeline.some((t) => t.message.includes('(promoted)'))).toBe(true);
  });

  it('pause holds the weight (the bake clock stops) until resume, then the bake continues', async () => {
    env = await testEnv({ deploymentConfigName: '10% 10m, 100%' });
    const id = await env.start(appSpec());
    await waitFor(env, id, baking);
    await TASKS.pauseDeployment.run({ deploymentId: id }, env.deps);
    const paused = await waitFor(env, id, (d) => d.state.currentWait?.kind === 'pause');
    expect(paused.state.paused!.remainingBakeSeconds).toBeGreaterThan(0);
    // Well past the 10-minute bake, it is still held at 10%.
    await env.elapse(30 * 60);
    expect((await env.deps.deployments.get(id))?.state.status).toBe('InProgress');
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '1', additionalVersionWeights: { '2': 0.1 } });
    await TASKS.resumeDeployment.run({ deploymentId: id }, env.deps);
    const r = await env.finish(id);
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(entered(r).filter((s) => s === 'Bake').length).toBe(2); // the bake, then the rest of it
    await expect(TASKS.resumeDeployment.run({ deploymentId: id }, env.deps)).rejects.toMatchObject({
      exceptionName: 'DeploymentAlreadyCompletedException',
    });
  });

  it('an approval step waits for approve, then continues', async () => {
    env = await testEnv({ deploymentConfigName: '10% 1m, approve 1h, 50% 1m, 100%' });
    const id = await env.start(appSpec());
    await waitFor(env, id, (d) => d.state.currentWait?.kind === 'approval');
    expect(env.world.getAlias('api', 'live').additionalVersionWeights).toEqual({ '2': 0.1 });
    await TASKS.approveDeployment.run({ deploymentId: id }, env.deps);
    const r = await env.finish(id);
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(r.timeline.map((t) => t.event)).toEqual(expect.arrayContaining(['AwaitingApproval', 'Approved']));
  });

  it('an approval that never comes times out and rolls back', async () => {
    env = await testEnv({ deploymentConfigName: '10% 1m, approve 10m, 100%' });
    const r = await env.deploy(appSpec());
    expect(r.deployment.state).toMatchObject({ status: 'Failed', errorInformation: { code: 'TIMEOUT' } });
    expect(r.deployment.state.errorInformation?.message).toMatch(/not approved/);
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '1', additionalVersionWeights: {} });
  });

  it('controls on a deployment that is not waiting for them say so', async () => {
    env = await testEnv(long);
    const id = await env.start(appSpec());
    await waitFor(env, id, baking);
    await expect(TASKS.approveDeployment.run({ deploymentId: id }, env.deps)).rejects.toMatchObject({
      exceptionName: 'DeploymentIsNotInReadyStateException',
    });
    await expect(TASKS.resumeDeployment.run({ deploymentId: id }, env.deps)).rejects.toMatchObject({
      exceptionName: 'DeploymentIsNotInReadyStateException',
    });
    await expect(TASKS.promoteDeployment.run({ deploymentId: 'd-NOSUCHONE' }, env.deps)).rejects.toMatchObject({
      exceptionName: 'DeploymentDoesNotExistException',
    });
    await TASKS.promoteDeployment.run({ deploymentId: id }, env.deps);
    expect((await env.finish(id)).deployment.state.status).toBe('Succeeded');
  });
});

describe('the alarm listener task', () => {
  const event = (alarmName: string, value = 'ALARM') => ({
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    time: '2026-11-22T10:00:00Z',
    detail: { alarmName, state: { value, timestamp: '2026-11-22T10:00:00Z' }, previousState: { value: 'OK' } },
  });

  it('ignores transitions to OK and alarms nobody watches; finds watchers through the index', async () => {
    env = await testEnv({
      alarms: ['api-errors'],
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes',
    });
    const id = await env.start(appSpec());
    await waitFor(env, id, baking);
    expect(await env.deps.alarmWatches.watching('api-errors')).toEqual([id]);
    expect(await TASKS.alarmListener.run(event('api-errors', 'OK'), env.deps)).toMatchObject({
      interrupted: [],
      recorded: [],
    });
    expect(await TASKS.alarmListener.run(event('worker-errors'), env.deps)).toMatchObject({
      interrupted: [],
      recorded: [],
    });
    expect((await env.deps.deployments.get(id))?.state.status).toBe('InProgress');
    expect(await TASKS.alarmListener.run(event('api-errors'), env.deps)).toEqual({
      alarmName: 'api-errors',
      interrupted: [id],
      recorded: [id],
    });
    const r = await env.finish(id);
    expect(r.deployment.state.status).toBe('Stopped');
    // The deployment left the index when it ended.
    expect(await env.deps.alarmWatches.watching('api-errors')).toEqual([]);
  });

  it('an alarm between waits is recorded and acted on at the next step boundary', async () => {
    env = await testEnv({ alarms: ['api-errors'] });
    const results: unknown[] = [];
    env.world.registerHook('preHook', async (e, ctx) => {
      await ctx.putLifecycleEventHookExecutionStatus({
        deploymentId: e.DeploymentId,
        lifecycleEventHookExecutionId: e.LifecycleEventHookExecutionId,
        status: 'Succeeded',
      });
      // The hook's wait is over; the alarm fires before the next step boundary (the world's alarm stays OK).
      results.push(await TASKS.alarmListener.run(event('api-errors'), env!.deps));
    });
    const r = await env.deploy(appSpec({ before: 'preHook' }));
    expect(results[0]).toMatchObject({ recorded: [r.deploymentId] });
    expect(r.deployment.state).toMatchObject({ status: 'Stopped', errorInformation: { code: 'ALARM_ACTIVE' } });
    expect(r.deployment.state.errorInformation?.message).toContain('api-errors went to ALARM');
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '1', additionalVersionWeights: {} });
  });
});
