/**
 * Path tests: the real statemachines/deployment.asl.json on the local interpreter, every Task
 * bound to src/tasks, DynamoDB on dynalite, AWS targets in a SimWorld. Assertions are on the
 * outcome and the world afterwards.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, InvalidInputError } from '../../src/domain/errors.js';
import { deploymentIdForExecution } from '../../src/domain/ids.js';
import { TASKS } from '../../src/tasks/index.js';
import {
  appSpec,
  eventBridgeStates,
  reportingHook,
  snsStatuses,
  testEnv,
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

const states = (r: { execution: { events: { type: string; state?: string }[] } }, type = 'StateEntered') =>
  r.execution.events.filter((e) => e.type === type).map((e) => e.state);

describe('deployment state machine (local interpreter, real ASL)', () => {
  it('happy path: canary with both hooks ends at the target version, 100%', async () => {
    env = await testEnv({ alarms: ['api-errors'] });
    const seen: SeenEvent[] = [];
    env.world.registerHook('preHook', reportingHook('Succeeded', seen));
    env.world.registerHook('postHook', reportingHook('Succeeded', seen));
    const r = await env.deploy(appSpec({ before: 'preHook', after: 'postHook' }));

    expect(r.execution.status).toBe('SUCCEEDED');
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '2', additionalVersionWeights: {} });
    expect(r.deployment.state.lifecycleEvents.map((e) => [e.lifecycleEventName, e.status])).toEqual([
      ['BeforeAllowTraffic', 'Succeeded'],
      ['AllowTraffic', 'Succeeded'],
      ['AfterAllowTraffic', 'Succeeded'],
    ]);
    // The canary really ran at 10% before going to 100%.
    const weights = env.world.log
      .filter((e) => e.kind === 'AliasUpdated')
      .map((e) => e.detail.additionalVersionWeights);
    expect(weights).toEqual([{ '2': 0.1 }, {}]);
    // Hooks got CodeDeploy's two keys plus context.
    expect(seen[0]).toMatchObject({
      DeploymentId: r.deploymentId,
      LifecycleEventName: 'BeforeAllowTraffic',
      ApplicationName: 'shop',
      DeploymentGroupName: 'prod',
      Functions: [{ FunctionName: 'api', Alias: 'live', CurrentVersion: '1', TargetVersion: '2' }],
    });
    expect(seen[0]?.LifecycleEventHookExecutionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Outcome events, and the group is free again with the revision recorded.
    const eb = eventBridgeStates(env.world);
    expect(eb).toEqual(['START', 'SUCCESS']);
    const group = await env.deps.catalog.getDeploymentGroup('shop', 'prod');
    expect(group?.activeDeploymentId).toBeUndefined();
    expect(group?.lastSuccessfulDeployment?.deploymentId).toBe(r.deploymentId);
    expect(r.timeline.map((t) => t.event)).toContain('TrafficShifted');
    // Waiting is a callback: transitions do not depend on the bake time.
    expect(states(r)).toEqual([
      'HasDeployment',
      'Prepare',
      'Route',
      'RunHook',
      'Route',
      'ShiftTraffic',
      'Route',
      'Bake',
      'ShiftTraffic',
      'Route',
      'RunHook',
      'Route',
      'Finalize',
      'Complete',
      'Deployed',
    ]);
  });

  it('alarm at a step boundary stops the deployment and rolls back (ALARM_ACTIVE)', async () => {
    env = await testEnv({
      alarms: ['api-errors'],
      triggerConfigurations: [
        {
          triggerName: 'ops',
          triggerTargetArn: 'arn:aws:sns:us-east-1:111122223333:deploys',
          triggerEvents: ['DeploymentStop', 'DeploymentRollback', 'DeploymentFailure'],
        },
      ],
    });
    env.world.setErrorRate('api', '2', 0.9); // 10% canary × 90% errors = 9% > 5% threshold
    const r = await env.deploy(appSpec());

    expect(r.execution.status).toBe('FAILED');
    expect(r.deployment.state.status).toBe('Stopped');
    expect(r.deployment.state.errorInformation?.code).toBe('ALARM_ACTIVE');
    expect(r.deployment.state.errorInformation?.message).toContain('api-errors');
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '1', additionalVersionWeights: {} });
    const rbId = r.deployment.state.rollbackInfo?.rollbackDeploymentId;
    expect(rbId).toMatch(/^d-[A-Z0-9]{9}$/);
    const rb = await env.deps.deployments.get(rbId!);
    expect(rb).toMatchObject({
      spec: { creator: 'codeDeployRollback' },
      state: { status: 'Succeeded', rollbackInfo: { rollbackTriggeringDeploymentId: r.deploymentId } },
    });
    expect(r.deployment.state.rollbackInfo?.rollbackMessage).toContain('read back and verified');
    const sns = snsStatuses(env.world);
    expect(sns).toEqual(['Stopped', 'Stopped']); // DeploymentStop + DeploymentRollback
    const eb = eventBridgeStates(env.world);
    expect(eb).toEqual(['START', 'STOP']);
    expect((await env.deps.catalog.getDeploymentGroup('shop', 'prod'))?.activeDeploymentId).toBeUndefined();
  });

  it('a hook reporting Failed after traffic moved rolls back (HOOK_EXECUTION_FAILURE)', async () => {
    env = await testEnv();
    env.world.registerHook('postHook', reportingHook('Failed'));
    const r = await env.deploy(appSpec({ after: 'postHook' }));
    expect(r.deployment.state.status).toBe('Failed');
    expect(r.deployment.state.errorInformation?.code).toBe('HOOK_EXECUTION_FAILURE');
    expect(r.deployment.state.lifecycleEvents.find((e) => e.lifecycleEventName === 'AfterAllowTraffic')?.status).toBe(
      'Failed',
    );
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '1', additionalVersionWeights: {} });
  });

  it('a BeforeAllowTraffic hook reporting Failed fails the deployment before any traffic moves', async () => {
    env = await testEnv();
    env.world.registerHook('preHook', reportingHook('Failed'));
    const r = await env.deploy(appSpec({ before: 'preHook' }));
    expect(r.deployment.state.status).toBe('Failed');
    expect(r.deployment.state.errorInformation?.code).toBe('HOOK_EXECUTION_FAILURE');
    expect(env.world.calls.UpdateAlias).toBeUndefined();
    expect(r.deployment.state.rollbackInfo?.rollbackDeploymentId).toBeUndefined();
  });

  it('a hook that never reports times out and the deployment rolls back', async () => {
    env = await testEnv({ hookConfiguration: { AfterAllowTraffic: { timeoutSeconds: 60 } } });
    let hookId: string | undefined;
    env.world.registerHook('postHook', async (payload: { LifecycleEventHookExecutionId?: string }) => {
      hookId = payload.LifecycleEventHookExecutionId; // and never calls back
    });
    const r = await env.deploy(appSpec({ after: 'postHook' }));
    expect(r.deployment.state.status).toBe('Failed');
    expect(r.deployment.state.errorInformation).toMatchObject({ code: 'HOOK_EXECUTION_FAILURE' });
    expect(r.deployment.state.errorInformation?.message).toMatch(
      /AfterAllowTraffic hook did not report a status .* within 60 s/,
    );
    expect(states(r)).toContain('HookTimedOut');
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '1', additionalVersionWeights: {} });
    // A late report (with the id the hook was given) is refused: the lifecycle event is over.
    expect(hookId).toBeDefined();
    await expect(
      TASKS.putLifecycleEventHookExecutionStatus.run(
        { deploymentId: r.deploymentId, lifecycleEventHookExecutionId: hookId, status: 'Succeeded' },
        env.deps,
      ),
    ).rejects.toMatchObject({ exceptionName: 'LifecycleEventAlreadyCompletedException' });
  });

  it('a throttled UpdateAlias is retried by the state machine and the deployment succeeds', async () => {
    env = await testEnv();
    env.world.injectFault('UpdateAlias', 'Throttling', 2);
    const r = await env.deploy(appSpec());
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(env.world.getAlias('api', 'live').functionVersion).toBe('2');
    expect(states(r, 'StateRetried').filter((s) => s === 'ShiftTraffic')).toHaveLength(2);
    expect(env.world.calls.UpdateAlias).toBe(4); // 2 throttled + 10% + 100%
  });

  it('an invalid AppSpec is rejected at creation with every problem; nothing is recorded or locked', async () => {
    env = await testEnv();
    const bad =
      'version: 1.0\nResources:\n  - api:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: api\n        Alias: live\n        CurrentVersion: "1"\nHooks:\n  - BeforeTraffic: x\n';
    const err = await env.start(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    const issues = (err as InvalidInputError).issues.map((i) => i.path);
    expect(issues).toEqual(
      expect.arrayContaining(['version', 'Resources[0].api.Properties.TargetVersion', 'Hooks[0].BeforeTraffic']),
    );
    expect((err as InvalidInputError).exceptionName).toBe('InvalidRevisionException');
    expect(await env.deps.deployments.list('shop', 'prod')).toEqual([]);
    expect((await env.deps.catalog.getDeploymentGroup('shop', 'prod'))?.activeDeploymentId).toBeUndefined();
    expect(env.world.calls.UpdateAlias).toBeUndefined();
  });

  it('an AppSpec naming a version that does not exist fails in Prepare before any traffic moves', async () => {
    env = await testEnv();
    const r = await env.deploy(appSpec({ functions: [['api', '1', '9']] }));
    expect(r.deployment.state.status).toBe('Failed');
    expect(r.deployment.state.errorInformation?.code).toBe('INVALID_LAMBDA_CONFIGURATION');
    expect(r.deployment.state.errorInformation?.message).toContain('api has no version 9');
    expect(env.world.calls.UpdateAlias).toBeUndefined();
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '1', additionalVersionWeights: {} });
  });

  it('an alias that does not route to CurrentVersion fails Prepare, and Rollback leaves that alias alone', async () => {
    env = await testEnv();
    env.world.updateAlias('api', 'live', { functionVersion: '2', additionalVersionWeights: {} });
    const calls = env.world.calls.UpdateAlias;
    const r = await env.deploy(appSpec({ functions: [['api', '1', '2']] }));
    expect(r.deployment.state.status).toBe('Failed');
    expect(r.deployment.state.errorInformation?.message).toContain(
      'alias api:live routes v2 100%, expected all traffic on version 1',
    );
    expect(env.world.calls.UpdateAlias).toBe(calls);
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '2', additionalVersionWeights: {} });
    expect(r.deployment.state.rollbackInfo?.rollbackMessage).toMatch(/nothing to roll back/);
  });

  it('a second deployment on the same group is rejected with DeploymentLimitExceededException', async () => {
    env = await testEnv({ deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes' });
    const first = await env.start(appSpec());
    const err = await env.start(appSpec()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      exceptionName: 'DeploymentLimitExceededException',
      message: `The Deployment Group 'prod' already has an active Deployment '${first}'`,
    });
    expect(await env.deps.deployments.list('shop', 'prod')).toEqual([first]);
    const r = await env.finish(first);
    expect(r.deployment.state.status).toBe('Succeeded');
  });

  it('a two-function AppSpec shifts both together and rolls both back together', async () => {
    env = await testEnv({ alarms: ['api-errors', 'worker-errors'] });
    const ok = await env.deploy(
      appSpec({
        functions: [
          ['api', '1', '2'],
          ['worker', '5', '6'],
        ],
      }),
    );
    expect(ok.deployment.state.status).toBe('Succeeded');
    expect(env.world.getAlias('api', 'live').functionVersion).toBe('2');
    expect(env.world.getAlias('worker', 'live').functionVersion).toBe('6');

    // Back the other way, and only the worker misbehaves: both return to their CurrentVersion.
    const mark = env.world.log.length;
    env.world.setErrorRate('worker', '5', 0.9);
    const bad = await env.deploy(
      appSpec({
        functions: [
          ['api', '2', '1'],
          ['worker', '6', '5'],
        ],
      }),
    );
    expect(bad.deployment.state.status).toBe('Stopped');
    expect(bad.deployment.state.errorInformation?.message).toContain('worker-errors');
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '2', additionalVersionWeights: {} });
    expect(env.world.getAlias('worker', 'live')).toEqual({ functionVersion: '6', additionalVersionWeights: {} });
    const shifted = env.world.log
      .slice(mark)
      .filter((e) => e.kind === 'AliasUpdated')
      .map((e) => e.detail.functionName);
    expect(shifted.sort()).toEqual(['api', 'api', 'worker', 'worker']); // 10% each, then back each
  });

  it('CurrentVersion == TargetVersion is a successful no-op', async () => {
    env = await testEnv();
    const r = await env.deploy(appSpec({ functions: [['api', '1', '1']] }));
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(env.world.calls.UpdateAlias).toBeUndefined();
    expect(states(r)).toEqual(['HasDeployment', 'Prepare', 'Route', 'Finalize', 'Complete', 'Deployed']);
  });

  it('an alarm already in ALARM at start stops the deployment before traffic moves', async () => {
    env = await testEnv({ alarms: ['api-errors'] });
    env.world.forceAlarm('api-errors', 'ALARM');
    const r = await env.deploy(appSpec());
    expect(r.deployment.state.status).toBe('Stopped');
    expect(r.deployment.state.errorInformation?.code).toBe('ALARM_ACTIVE');
    expect(env.world.calls.UpdateAlias).toBeUndefined();
  });

  it('a watched alarm that does not exist fails the deployment before traffic moves, naming it', async () => {
    env = await testEnv({ alarms: ['api-errors', 'no-such-alarm'] });
    const r = await env.deploy(appSpec());
    expect(r.deployment.state.status).toBe('Failed');
    expect(r.deployment.state.errorInformation?.message).toContain('no-such-alarm');
    expect(env.world.calls.UpdateAlias).toBeUndefined();
  });

  it('with auto-rollback disabled, a failure leaves traffic where it was and says so', async () => {
    env = await testEnv({ alarms: ['api-errors'], autoRollbackConfiguration: { enabled: false, events: [] } });
    env.world.setErrorRate('api', '2', 0.9);
    const r = await env.deploy(appSpec());
    expect(r.deployment.state.status).toBe('Stopped');
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '1', additionalVersionWeights: { '2': 0.1 } });
    expect(r.deployment.state.rollbackInfo?.rollbackMessage).toMatch(/traffic left as it is/);
  });

  it('an explicit step list with fractional weights runs every step', async () => {
    env = await testEnv();
    const r = await env.deploy(appSpec(), { deploymentConfigName: '0.5% 1m, 12.5% 2m, 50% 1m, 100%' });
    expect(r.deployment.state.status).toBe('Succeeded');
    const weights = env.world.log
      .filter((e) => e.kind === 'AliasUpdated')
      .map((e) => e.detail.additionalVersionWeights);
    expect(weights).toEqual([{ '2': 0.005 }, { '2': 0.125 }, { '2': 0.5 }, {}]);
  });
});

describe('started with a CreateDeployment request (CodePipeline native Step Functions action)', () => {
  it('records the deployment for this execution, then deploys; an invalid request changes nothing', async () => {
    env = await testEnv();
    const request = {
      applicationName: 'shop',
      deploymentGroupName: 'prod',
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec() } },
    };
    const arn = await env.runtime.start('pipeline-exec-1', request);
    const execution = await env.execution('pipeline-exec-1');
    expect(execution.status).toBe('SUCCEEDED');
    const [id] = await env.deps.deployments.list('shop', 'prod');
    const d = (await env.deps.deployments.get(id!))!;
    expect(d.state).toMatchObject({ status: 'Succeeded', executionArn: arn });
    expect(env.world.getAlias('api', 'live').functionVersion).toBe('2');

    await env.runtime.start('pipeline-exec-2', { ...request, deploymentGroupName: 'nope' });
    const rejected = await env.execution('pipeline-exec-2');
    expect(rejected).toMatchObject({ status: 'FAILED', error: 'DeploymentRequestRejected' });
    expect(await env.deps.deployments.list('shop', 'prod')).toEqual([id]);
  });

  it('a retried RecordDeployment finds the deployment it recorded instead of making a second one', async () => {
    env = await testEnv();
    const request = {
      applicationName: 'shop',
      deploymentGroupName: 'prod',
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec() } },
    };
    const executionArn = 'arn:aws:states:us-east-1:111122223333:execution:cutover-prod-deployment:pipeline-run-7';
    const first = await TASKS.recordDeployment.run({ request, executionArn }, env.deps);
    const second = await TASKS.recordDeployment.run({ request, executionArn }, env.deps);
    expect(second).toEqual(first);
    expect(first.deploymentId).toBe(deploymentIdForExecution(executionArn));
    expect(await env.deps.deployments.list('shop', 'prod')).toEqual([first.deploymentId]);
  });

  it('an execution stopped from outside (StopExecution) is rolled back and recorded Stopped; the same event again changes nothing', async () => {
    env = await testEnv({ deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes' });
    const request = {
      applicationName: 'shop',
      deploymentGroupName: 'prod',
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec() } },
    };
    const arn = await env.runtime.start('pipeline-exec-3', request);
    // Not named after its deployment: the id comes from the execution ARN.
    const id = deploymentIdForExecution(arn);
    await waitFor(env, id, (d) => d.state.currentWait?.kind === 'bake');
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '1', additionalVersionWeights: { '2': 0.1 } });
    env.runtime.abort('pipeline-exec-3');
    const d = await waitForEnd(env, id);
    expect(d.state).toMatchObject({
      status: 'Stopped',
      executionArn: arn,
      errorInformation: { code: 'MANUAL_STOP', message: expect.stringContaining('StopExecution') },
    });
    expect(env.world.getAlias('api', 'live')).toEqual({ functionVersion: '1', additionalVersionWeights: {} });
    expect((await env.deps.catalog.getDeploymentGroup('shop', 'prod'))?.activeDeploymentId).toBeUndefined();
    const again = await TASKS.executionEnded.run(
      { detail: { executionArn: arn, name: 'pipeline-exec-3', status: 'ABORTED' } },
      env.deps,
    );
    expect(again).toMatchObject({ action: 'none' });
    expect((await env.deps.deployments.get(id))?.state.version).toBe(d.state.version);
  });
});
