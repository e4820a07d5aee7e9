/**
 * ECS blue/green path tests: the real ASL on the local interpreter, tasks over the ECS and ELB
 * ports, a simulated EXTERNAL-controller service behind an ALB. Assertions are on the outcome and on
 * the world afterwards (task sets, listener weights), not on calls.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../src/api/operations.js';
import { TASKS } from '../../src/tasks/index.js';
import { ECS_HOOKS, ecsAppSpec, ecsState, ecsTestEnv } from '../support/ecs.js';
import {
  eventBridgeStates,
  reportingHook,
  waitFor,
  waitForEnd,
  type SeenEvent,
  type TestEnv,
} from '../support/local.js';

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const states = (r: { execution: { events: { type: string; state?: string }[] } }) =>
  r.execution.events.filter((e) => e.type === 'StateEntered').map((e) => e.state);
const onlyPositive = (split: Record<string, number>) =>
  Object.fromEntries(Object.entries(split).filter(([, w]) => w > 0));
const BLUE_ONLY = { taskSets: [['web:1', 'PRIMARY']], prod: { 'web-blue': 100 }, test: { 'web-blue': 100 } };
const stateOf = (e: TestEnv) => {
  const s = ecsState(e.world);
  return { taskSets: s.taskSets, prod: onlyPositive(s.prod), test: onlyPositive(s.test) };
};
/** What changed in the world: task sets created, made primary or deleted, listener weights written. */
const changes = (e: TestEnv) =>
  e.world.log.filter((x) => x.kind === 'Listener' || (x.kind === 'TaskSet' && x.detail.event !== 'steady'));
const allHooks = (status: 'Succeeded' | 'Failed' = 'Succeeded', failAt?: string, seen?: unknown[]) => {
  for (const h of ECS_HOOKS) env!.world.registerHook(`hook${h}`, reportingHook(h === failAt ? 'Failed' : status, seen));
  return Object.fromEntries(ECS_HOOKS.map((h) => [h, `hook${h}`]));
};

describe('ECS blue/green (local interpreter, real ASL)', () => {
  it('happy path with a test listener: green installed, tested, canary to 100%, primary, blue deleted', async () => {
    env = await ecsTestEnv({ alarms: ['web-5xx'] });
    const seen: SeenEvent[] = [];
    const r = await env.deploy(ecsAppSpec('web:2', allHooks('Succeeded', undefined, seen)));

    expect(r.execution.status).toBe('SUCCEEDED');
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(stateOf(env)).toEqual({
      taskSets: [['web:2', 'PRIMARY']],
      prod: { 'web-green': 100 },
      test: { 'web-green': 100 },
    });
    expect(r.deployment.state.lifecycleEvents.map((e) => [e.lifecycleEventName, e.status])).toEqual([
      ['BeforeInstall', 'Succeeded'],
      ['Install', 'Succeeded'],
      ['AfterInstall', 'Succeeded'],
      ['AllowTestTraffic', 'Succeeded'],
      ['AfterAllowTestTraffic', 'Succeeded'],
      ['BeforeAllowTraffic', 'Succeeded'],
      ['AllowTraffic', 'Succeeded'],
      ['AfterAllowTraffic', 'Succeeded'],
    ]);
    // The canary ran at 10% on the production listener before 100%, and the test listener moved first.
    const listenerLog = env.world.log
      .filter((e) => e.kind === 'Listener')
      .map((e) => [String(e.detail.listener), onlyPositive(e.detail.weights as Record<string, number>)]);
    expect(listenerLog).toEqual([
      ['web-alb/test', { 'web-green': 1 }],
      ['web-alb/prod', { 'web-blue': 900, 'web-green': 100 }],
      ['web-alb/prod', { 'web-green': 1 }],
    ]);
    const taskSetLog = env.world.log
      .filter((e) => e.kind === 'TaskSet')
      .map((e) => `${e.detail.event} ${String(e.detail.taskDefinition).replace(/^.*\//, '')}`);
    expect(taskSetLog).toEqual(['created web:2', 'steady web:2', 'primary web:2', 'deleted web:1']);
    // Hooks ran in CodeDeploy's order and got the service and task sets.
    expect(seen.map((e) => e.LifecycleEventName)).toEqual([...ECS_HOOKS]);
    expect(seen[1]?.EcsService).toMatchObject({
      Cluster: 'demo',
      Service: 'web',
      ReplacementTaskSet: expect.stringMatching(/^ecs-svc\//),
      TestListenerArn: expect.stringContaining(':listener/app/web-alb/'),
    });
    // Install polls every 15 s until green is steady (after 30 s): on virtual time, exactly twice.
    const hook = ['RunHook', 'Route'];
    const poll = ['AwaitAction', 'RunAction', 'Route'];
    expect(states(r)).toEqual([
      'HasDeployment',
      'Prepare',
      'Route',
      ...hook, // BeforeInstall
      'RunAction', // Install: the replacement task set is created
      'Route',
      ...poll,
      ...poll, // steady
      ...hook, // AfterInstall
      'RunAction', // AllowTestTraffic
      'Route',
      ...hook, // AfterAllowTestTraffic
      ...hook, // BeforeAllowTraffic
      'ShiftTraffic',
      'Route',
      'Bake',
      'ShiftTraffic',
      'Route',
      ...hook, // AfterAllowTraffic
      'Finalize',
      'Complete', // the original task set is deleted after the commit point
      'Deployed',
    ]);
    const eb = eventBridgeStates(env.world);
    expect(eb).toEqual(['START', 'SUCCESS']);
    // The deployment targets speak CodeDeploy's ECSTarget.
    const { deploymentTargets } = (await OPERATIONS.BatchGetDeploymentTargets!.run(
      { deploymentId: r.deploymentId, targetIds: ['demo:web'] },
      env.deps,
    )) as { deploymentTargets: unknown[] };
    expect(deploymentTargets[0]).toMatchObject({
      deploymentTargetType: 'ECSTarget',
      ecsTarget: { targetId: 'demo:web', status: 'Succeeded' },
    });
  });

  it('without a test listener AfterAllowTestTraffic is skipped; the next deployment uses the other target group', async () => {
    env = await ecsTestEnv({ testListener: false, deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce' });
    const hooks = allHooks();
    const first = await env.deploy(ecsAppSpec('web:2', hooks));
    expect(first.deployment.state.status).toBe('Succeeded');
    expect(
      first.deployment.state.lifecycleEvents.filter((e) => e.status === 'Skipped').map((e) => e.lifecycleEventName),
    ).toEqual(['AllowTestTraffic', 'AfterAllowTestTraffic']);
    const second = await env.deploy(ecsAppSpec('web:1', hooks));
    expect(second.deployment.state.status).toBe('Succeeded');
    expect(stateOf(env)).toMatchObject({ taskSets: [['web:1', 'PRIMARY']], prod: { 'web-blue': 100 } });
  });

  it('a replacement that never becomes steady fails (ECS_UPDATE_ERROR); no production traffic moved; it is removed', async () => {
    env = await ecsTestEnv();
    const r = await env.deploy(ecsAppSpec('web:9'));
    expect(r.deployment.state.status).toBe('Failed');
    expect(r.deployment.state.errorInformation).toMatchObject({
      code: 'ECS_UPDATE_ERROR',
      message: expect.stringMatching(/did not reach steady state within 1h/),
    });
    expect(env.world.log.filter((e) => e.kind === 'Listener')).toEqual([]);
    expect(stateOf(env)).toEqual(BLUE_ONLY);
    expect(r.deployment.state.lifecycleEvents.find((e) => e.lifecycleEventName === 'Install')?.status).toBe('Failed');
    expect((await env.deps.catalog.getDeploymentGroup('shop', 'web'))?.activeDeploymentId).toBeUndefined();
  });

  for (const failAt of ECS_HOOKS) {
    it(`a ${failAt} hook reporting Failed ends with everything on blue`, async () => {
      env = await ecsTestEnv();
      const r = await env.deploy(ecsAppSpec('web:2', allHooks('Succeeded', failAt)));
      expect(r.deployment.state.status).toBe('Failed');
      expect(r.deployment.state.errorInformation?.code).toBe('HOOK_EXECUTION_FAILURE');
      expect(r.deployment.state.lifecycleEvents.find((e) => e.lifecycleEventName === failAt)?.status).toBe('Failed');
      expect(stateOf(env)).toEqual(BLUE_ONLY);
      if (failAt === 'BeforeInstall') {
        // Nothing had changed: nothing to roll back, no rollback deployment.
        expect(changes(env)).toEqual([]);
        expect(r.deployment.state.rollbackInfo?.rollbackDeploymentId).toBeUndefined();
      } else {
        expect(r.deployment.state.rollbackInfo?.rollbackMessage).toContain('read back and verified');
        const rb = await env.deps.deployments.get(r.deployment.state.rollbackInfo!.rollbackDeploymentId!);
        expect(rb).toMatchObject({
          spec: { creator: 'codeDeployRollback', computePlatform: 'ECS' },
          state: { status: 'Succeeded' },
        });
      }
    });
  }

  it('an alarm during the canary rolls back: production and test listeners on blue, blue PRIMARY, green deleted', async () => {
    env = await ecsTestEnv({
      alarms: ['web-5xx'],
      deploymentConfigName: 'CodeDeployDefault.ECSLinear10PercentEvery3Minutes',
    });
    const r = await env.deploy(ecsAppSpec('web:3'));
    expect(r.deployment.state.status).toBe('Stopped');
    expect(r.deployment.state.errorInformation).toMatchObject({
      code: 'ALARM_ACTIVE',
      message: expect.stringContaining('web-5xx'),
    });
    expect(r.deployment.state.targetWeight).toBe(0);
    expect(stateOf(env)).toEqual(BLUE_ONLY);
    // Traffic did reach green before the alarm.
    expect(
      env.world.log.some(
        (e) =>
          e.kind === 'Listener' &&
          e.detail.listener === 'web-alb/prod' &&
          ((e.detail.weights as Record<string, number>)['web-green'] ?? 0) > 0,
      ),
    ).toBe(true);
  });

  it('STOP_DEPLOYMENT: the deployment waits Ready until ContinueDeployment, then shifts', async () => {
    env = await ecsTestEnv({
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 600 },
      },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
    });
    const id = await env.start(ecsAppSpec('web:2'));
    await waitFor(env, id, (d) => d.state.status === 'Ready' && d.state.currentWait?.kind === 'ready');
    expect(stateOf(env)).toEqual({
      taskSets: [
        ['web:1', 'PRIMARY'],
        ['web:2', 'ACTIVE'],
      ],
      prod: { 'web-blue': 100 },
      test: { 'web-green': 100 },
    });
    await expect(
      TASKS.continueDeployment.run({ deploymentId: id, deploymentWaitType: 'TERMINATION_WAIT' }, env.deps),
    ).rejects.toMatchObject({ exceptionName: 'DeploymentIsNotInReadyStateException' });
    await TASKS.continueDeployment.run({ deploymentId: id, deploymentWaitType: 'READY_WAIT' }, env.deps);
    const r = await env.finish(id);
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(stateOf(env).prod).toEqual({ 'web-green': 100 });
    const eb = eventBridgeStates(env.world);
    expect(eb).toEqual(['START', 'READY', 'SUCCESS']);
  });

  it('a ready wait that begins after ContinueDeployment was recorded ends at once; the deployment stays InProgress', async () => {
    env = await ecsTestEnv({
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 600 },
        // 360 ms here: long enough to look at the deployment while it waits, short enough to end by itself.
        terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 60 },
      },
    });
    const id = await env.start(ecsAppSpec('web:2'));
    await waitFor(env, id, (d) => d.state.currentWait?.kind === 'ready');
    await TASKS.continueDeployment.run({ deploymentId: id }, env.deps);
    await waitFor(env, id, (d) => d.state.currentWait?.kind === 'termination');
    // A ready wait starting after the continue was recorded (as in a race; its token is not waiting any more).
    await TASKS.startWait.run(
      { deploymentId: id, kind: 'ready', seconds: 60, taskToken: 'a-token-nobody-waits-on' },
      env.deps,
    );
    expect((await env.deps.deployments.get(id))?.state.status).toBe('InProgress');
    expect((await env.finish(id)).deployment.state.status).toBe('Succeeded');
  });

  it('STOP_DEPLOYMENT: nobody continues; the deployment is Stopped (TIMEOUT) and the replacement removed', async () => {
    env = await ecsTestEnv({
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 5 },
      },
    });
    const r = await env.deploy(ecsAppSpec('web:2'));
    expect(r.deployment.state.status).toBe('Stopped');
    expect(r.deployment.state.errorInformation).toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringContaining('ContinueDeployment'),
    });
    // The ready wait ended by its timeout; running the wait's action again found nobody had continued.
    expect(states(r).slice(-5)).toEqual(['AwaitAction', 'RunAction', 'Rollback', 'RecordOutcome', 'DeploymentFailed']);
    expect(stateOf(env)).toEqual(BLUE_ONLY);
  });

  it('the termination wait keeps blue until ContinueDeployment(TERMINATION_WAIT) ends it early', async () => {
    env = await ecsTestEnv({
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      blueGreenDeploymentConfiguration: {
        terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 2880 },
      },
    });
    const id = await env.start(ecsAppSpec('web:2'));
    await waitFor(env, id, (d) => d.state.currentWait?.kind === 'termination');
    expect(stateOf(env)).toEqual({
      taskSets: [
        ['web:1', 'ACTIVE'],
        ['web:2', 'PRIMARY'],
      ],
      prod: { 'web-green': 100 },
      test: { 'web-green': 100 },
    });
    expect((await env.deps.deployments.get(id))?.state.status).toBe('InProgress');
    await TASKS.continueDeployment.run({ deploymentId: id, deploymentWaitType: 'TERMINATION_WAIT' }, env.deps);
    const r = await env.finish(id);
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(stateOf(env).taskSets).toEqual([['web:2', 'PRIMARY']]);
  });

  it('a stop during the termination wait still rolls back to blue', async () => {
    env = await ecsTestEnv({
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      blueGreenDeploymentConfiguration: {
        terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 2880 },
      },
    });
    const id = await env.start(ecsAppSpec('web:2'));
    await waitFor(env, id, (d) => d.state.currentWait?.kind === 'termination');
    await TASKS.stopDeployment.run({ deploymentId: id }, env.deps);
    const r = await env.finish(id);
    expect(r.deployment.state.status).toBe('Stopped');
    expect(stateOf(env)).toEqual(BLUE_ONLY);
  });

  it('an execution stopped from outside (StopExecution) mid-canary is rolled back and recorded; the group is free', async () => {
    env = await ecsTestEnv({ deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes' });
    const id = await env.start(ecsAppSpec('web:2'));
    await waitFor(env, id, (d) => d.state.currentWait?.kind === 'bake');
    expect(env.runtime.abort(id)).toBe(true);
    expect((await env.execution(id)).status).toBe('ABORTED');
    const d = await waitForEnd(env, id);
    expect(d.state).toMatchObject({ status: 'Stopped', errorInformation: { code: 'MANUAL_STOP' } });
    expect(d.state.rollbackInfo?.rollbackMessage).toContain('read back and verified');
    expect(stateOf(env)).toEqual(BLUE_ONLY);
    expect((await env.deps.catalog.getDeploymentGroup('shop', 'web'))?.activeDeploymentId).toBeUndefined();
    expect((await env.deps.timeline.list(id)).map((t) => t.event)).toContain('ExecutionEnded');
  });

  it('KEEP_ALIVE keeps the original task set, without traffic, until the next deployment replaces it', async () => {
    env = await ecsTestEnv({
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      testListener: false,
      blueGreenDeploymentConfiguration: { terminateBlueInstancesOnDeploymentSuccess: { action: 'KEEP_ALIVE' } },
    });
    const r = await env.deploy(ecsAppSpec('web:2'));
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(stateOf(env)).toMatchObject({
      taskSets: [
        ['web:1', 'ACTIVE'],
        ['web:2', 'PRIMARY'],
      ],
      prod: { 'web-green': 100 },
    });
    const next = await env.deploy(ecsAppSpec('web:1'));
    expect(next.deployment.state.status).toBe('Succeeded');
    expect(next.timeline.map((t) => t.event)).toContain('TaskSetRemoved');
    expect(stateOf(env)).toMatchObject({
      taskSets: [
        ['web:1', 'PRIMARY'],
        ['web:2', 'ACTIVE'],
      ],
      prod: { 'web-blue': 100 },
    });
  });

  it('a service without the EXTERNAL deployment controller is refused before anything changes', async () => {
    env = await ecsTestEnv({}, { controller: 'ECS' });
    const r = await env.deploy(ecsAppSpec('web:2'));
    expect(r.deployment.state.status).toBe('Failed');
    expect(r.deployment.state.errorInformation).toMatchObject({
      code: 'INVALID_ECS_SERVICE',
      message: expect.stringMatching(/uses the ECS deployment controller.*EXTERNAL/),
    });
    expect(changes(env)).toEqual([]);
    expect(r.deployment.state.rollbackInfo?.rollbackDeploymentId).toBeUndefined();
  });

  it("every problem with the group's load balancer setup is reported at once, before anything changes", async () => {
    env = await ecsTestEnv();
    const group = (await env.deps.catalog.getDeploymentGroup('shop', 'web'))!;
    const pair = group.loadBalancerInfo!.targetGroupPairInfoList![0]!;
    const missingListener = pair.prodTrafficRoute.listenerArns[0]!.replace(/[0-9a-f]{16}$/, '0000000000000000');
    await TASKS.updateDeploymentGroup.run(
      {
        ...group,
        loadBalancerInfo: {
          targetGroupPairInfoList: [
            {
              ...pair,
              targetGroups: [{ name: 'web-blue' }, { name: 'web-purple' }],
              testTrafficRoute: { listenerArns: [missingListener] },
            },
          ],
        },
      },
      env.deps,
    );
    const r = await env.deploy(ecsAppSpec('web:2'));
    expect(r.deployment.state.status).toBe('Failed');
    expect(r.deployment.state.errorInformation?.code).toBe('INVALID_ECS_SERVICE');
    expect(r.deployment.state.errorInformation?.message).toContain('target group(s) do not exist: web-purple');
    expect(r.deployment.state.errorInformation?.message).toContain(
      `the test listener: ELB listener ${missingListener} does not exist`,
    );
    expect(changes(env)).toEqual([]);
  });

  it('a Network Load Balancer cannot run a canary: refused before anything changes', async () => {
    env = await ecsTestEnv({}, { loadBalancerType: 'network' });
    const r = await env.deploy(ecsAppSpec('web:2'));
    expect(r.deployment.state.status).toBe('Failed');
    expect(r.deployment.state.errorInformation?.message).toContain('CodeDeployDefault.ECSAllAtOnce');
    expect(changes(env)).toEqual([]);
  });

  it('ECS groups are validated with every problem at once; nothing is written', async () => {
    env = await ecsTestEnv();
    const bad = TASKS.createDeploymentGroup.run(
      {
        applicationName: 'shop',
        deploymentGroupName: 'bad',
        loadBalancerInfo: {
          targetGroupPairInfoList: [{ targetGroups: [{ name: 'a' }], prodTrafficRoute: { listenerArns: [] } }],
        },
        blueGreenDeploymentConfiguration: {
          terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 3000 },
        },
      },
      env.deps,
    );
    await expect(bad).rejects.toMatchObject({
      issues: [
        {
          path: 'blueGreenDeploymentConfiguration.terminateBlueInstancesOnDeploymentSuccess.terminationWaitTimeInMinutes',
        },
      ],
    });
    const bad2 = TASKS.createDeploymentGroup.run(
      {
        applicationName: 'shop',
        deploymentGroupName: 'bad',
        loadBalancerInfo: {
          targetGroupPairInfoList: [{ targetGroups: [{ name: 'a' }], prodTrafficRoute: { listenerArns: [] } }],
        },
      },
      env.deps,
    );
    await expect(bad2).rejects.toMatchObject({
      exceptionName: 'InvalidECSServiceException', // CodeDeploy's exception for the first problem
      issues: [
        { path: 'ecsServices' },
        { path: 'loadBalancerInfo.targetGroupPairInfoList.0.targetGroups' },
        { path: 'loadBalancerInfo.targetGroupPairInfoList.0.prodTrafficRoute.listenerArns' },
      ],
    });
    // The same service cannot belong to two groups; a Lambda configuration cannot drive ECS.
    const group = (await env.deps.catalog.getDeploymentGroup('shop', 'web'))!;
    await expect(
      TASKS.createDeploymentGroup.run({ ...group, deploymentGroupName: 'web2' }, env.deps),
    ).rejects.toMatchObject({ exceptionName: 'ECSServiceMappingLimitExceededException' });
    await expect(
      TASKS.createDeployment.run(
        {
          applicationName: 'shop',
          deploymentGroupName: 'web',
          deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
          revision: { revisionType: 'AppSpecContent', appSpecContent: { content: ecsAppSpec() } },
        },
        env.deps,
      ),
    ).rejects.toMatchObject({ exceptionName: 'InvalidDeploymentConfigNameException' });
    expect(await env.deps.catalog.getDeploymentGroup('shop', 'bad')).toBeUndefined();
    expect((await env.deps.catalog.getDeploymentGroup('shop', 'web'))?.activeDeploymentId).toBeUndefined();
  });
});
