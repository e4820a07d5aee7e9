/**
 * Least privilege, checked from both sides. In local mode each task and API operation sees only
 * the port methods it declares (a call to any other throws, as AccessDenied would on AWS), so every
 * test in the suite already fails on a call a role would refuse. This file checks the other side:
 * every port method a function's role is granted (deploy/functions.json, derived from the same
 * declarations) is called by that function in at least one of the scenarios below, and every API
 * operation calls everything it declares. A declaration nobody calls is a grant nobody needs:
 * remove it from the task's `uses` (or add the scenario that needs it here).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { dispatch, OPERATIONS } from '../../src/api/operations.js';
import { DependencyUnavailableError } from '../../src/domain/errors.js';
import { TRIGGER_EVENT_TYPES } from '../../src/domain/model.js';
import { LOCAL_REVISION_BUCKET } from '../../src/local/s3.js';
import { TASKS } from '../../src/tasks/index.js';
import { startFleet } from '../../src/platforms/server/fleet/index.js';
import { functionPorts, portMethods } from '../../src/wiring/functions.js';
import type { Instrumentation, PortCall } from '../../src/wiring/instrument.js';
import { zip } from '../support/archives.js';
import { webhookReceiver } from '../support/webhooks.js';
import { ECS_HOOKS, ecsAppSpec, ecsTestEnv, type EcsGroupOptions } from '../support/ecs.js';
import { dispatchTransport, fleetSetup, ScriptedHost, serverDeployment } from '../support/host-agent.js';
import { deployBundle, runHosts, serverEnv } from '../support/server.js';
import {
  appSpec,
  reportingHook,
  testEnv,
  waitFor,
  waitForEnd,
  type GroupOptions,
  type TestEnv,
} from '../support/local.js';

/** caller (task name, or `api.<Operation>`) → the port methods it called. */
const called = new Map<string, Set<string>>();
/**
 * Faults to inject: a matching call throws once `skip` matching calls have passed, until `times`
 * calls have failed; `transient` is what the AWS adapters raise for throttling and 5xx (a retry
 * may cure it), otherwise a plain Error (a bug: not retried).
 */
interface Fault {
  caller: string;
  method: string;
  times: number;
  skip: number;
  transient: boolean;
}
const faults: Fault[] = [];

const recorder: Instrumentation = {
  onCall({ caller, method }: PortCall) {
    let set = called.get(caller);
    if (!set) called.set(caller, (set = new Set()));
    set.add(method);
    const f = faults.find((x) => x.caller === caller && x.method === method && x.times > 0);
    if (!f) return;
    if (f.skip > 0) {
      f.skip--;
      return;
    }
    f.times--;
    const message = `injected fault: ${caller} → ${method}`;
    throw f.transient ? new DependencyUnavailableError(message) : new Error(message);
  },
};
const inject = (caller: string, method: string, opts: Partial<Pick<Fault, 'times' | 'skip' | 'transient'>> = {}) =>
  faults.push({ caller, method, times: 1, skip: 0, transient: true, ...opts });

const envs: TestEnv[] = [];
afterAll(async () => {
  for (const e of envs) await e.close();
});
async function lambdaEnv(group: GroupOptions = {}): Promise<TestEnv> {
  const env = await testEnv(group, undefined, { instrumentation: recorder });
  envs.push(env);
  return env;
}
async function ecsEnv(group: EcsGroupOptions = {}): Promise<TestEnv> {
  const env = await ecsTestEnv(group, {}, undefined, { instrumentation: recorder });
  envs.push(env);
  return env;
}
/** Call an API operation as the local server does: with only the ports the operation declares. */
async function api(env: TestEnv, operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await env.work!.during(dispatch(operation, input, env.deps, env.viewFor));
  if ('error' in r) throw new Error(`${operation}: ${r.error.__type}: ${r.error.message}`);
  return r.output as Record<string, unknown>;
}
const waiting = (kind: string) => (d: { state: { currentWait?: { kind: string } } }) =>
  d.state.currentWait?.kind === kind;
const triggers = [
  {
    triggerName: 'all',
    triggerTargetArn: 'arn:aws:sns:us-east-1:111122223333:deployments',
    triggerEvents: TRIGGER_EVENT_TYPES.filter((e) => e.startsWith('Deployment')),
  },
];
const content = (text: string) => ({ revisionType: 'AppSpecContent', appSpecContent: { content: text } });
const statusOf = async (env: TestEnv, id: string) => (await env.deps.deployments.get(id))?.state.status;

describe('every granted port method is called by its function', () => {
  it('Lambda: hooks that call back and hooks that answer, a canary, an alarm rollback, triggers', async () => {
    const env = await lambdaEnv({ alarms: ['api-errors'], triggerConfigurations: triggers });
    env.world.registerHook('pre', reportingHook('Succeeded'));
    env.world.registerHook('post', async () => ({ status: 'Succeeded' }));
    env.world.registerHook('no', async () => ({ status: 'Failed' }));
    expect((await env.deploy(appSpec({ before: 'pre', after: 'post' }))).deployment.state.status).toBe('Succeeded');
    env.world.setErrorRate('api', '1', 0.9);
    const alarmed = await env.deploy(appSpec({ functions: [['api', '2', '1']] }));
    expect(alarmed.deployment.state.errorInformation?.code).toBe('ALARM_ACTIVE');
    env.world.setErrorRate('api', '1', 0);
    await env.elapse(120); // the alarm goes back to OK
    const refused = await env.deploy(appSpec({ functions: [['api', '2', '1']], before: 'no' }));
    expect(refused.deployment.state.errorInformation?.code).toBe('HOOK_EXECUTION_FAILURE');
  });

  it('Lambda: a webhook hook, signed with the group secret', async () => {
    const secret = 'the-webhook-secret-of-the-group';
    const hook = await webhookReceiver(secret, '/pre');
    try {
      const env = await lambdaEnv({ webhookSecret: secret });
      expect((await env.deploy(appSpec({ before: hook.url }))).deployment.state.status).toBe('Succeeded');
    } finally {
      await hook.close();
    }
  });

  it('Lambda: operator controls, approvals, pauses, hook retries and timeouts, StopExecution', async () => {
    const env = await lambdaEnv({ deploymentConfigName: '10% 10m, approve 1h, 50% 1m, 100%' });
    const id = await env.start(appSpec());
    await waitFor(env, id, waiting('bake'));
    await api(env, 'PauseDeployment', { deploymentId: id });
    await waitFor(env, id, waiting('pause'));
    await api(env, 'ResumeDeployment', { deploymentId: id });
    await waitFor(env, id, waiting('approval'));
    await api(env, 'ApproveDeployment', { deploymentId: id });
    await waitFor(env, id, waiting('bake'));
    await api(env, 'PromoteDeployment', { deploymentId: id });
    expect((await env.finish(id)).deployment.state.status).toBe('Succeeded');

    // A promote that arrives during a hook: the bake after it ends as soon as it begins.
    env.world.registerHook('promoting', async (e, ctx) => {
      await ctx.putLifecycleEventHookExecutionStatus({
        deploymentId: e.DeploymentId,
        lifecycleEventHookExecutionId: e.LifecycleEventHookExecutionId,
        status: 'Succeeded',
      });
      await api(env, 'PromoteDeployment', { deploymentId: e.DeploymentId });
    });
    const promoted = await env.deploy(appSpec({ functions: [['api', '2', '1']], before: 'promoting' }));
    expect(promoted.deployment.state.status).toBe('Succeeded');

    const stopped = await env.start(appSpec());
    await waitFor(env, stopped, waiting('approval'));
    await api(env, 'StopDeployment', { deploymentId: stopped });
    expect((await env.finish(stopped)).deployment.state.status).toBe('Stopped');
    // A wait that begins after the stop was recorded (a race on AWS) fails at once.
    await env.run(TASKS.startWait, { deploymentId: stopped, kind: 'bake', seconds: 60, taskToken: 'late' });
    expect(await statusOf(env, stopped)).toBe('Stopped');

    let calls = 0;
    env.world.registerHook('slow', async () =>
      ++calls === 1 ? { status: 'InProgress', retryAfterSeconds: 30 } : undefined,
    );
    const silent = await env.deploy(appSpec({ before: 'slow' }));
    expect(silent.deployment.state.errorInformation?.code).toBe('HOOK_EXECUTION_FAILURE');
    expect(calls).toBe(2);

    const aborted = await env.start(appSpec());
    await waitFor(env, aborted, waiting('bake'));
    env.runtime.abort(aborted);
    expect((await waitForEnd(env, aborted)).state.status).toBe('Stopped');
  });

  it('ECS: test traffic, ready and termination waits, rollbacks, KEEP_ALIVE, StopExecution', async () => {
    const env = await ecsEnv({
      alarms: ['web-5xx'],
      triggerConfigurations: triggers,
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 30 },
        terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 30 },
      },
    });
    for (const h of ECS_HOOKS) env.world.registerHook(`hook${h}`, reportingHook('Succeeded'));
    env.world.registerHook('failing', reportingHook('Failed'));
    const hooks = Object.fromEntries(ECS_HOOKS.map((h) => [h, `hook${h}`]));
    /** Start, continue past the ready wait, and wait for the termination wait. */
    const toTermination = async (taskDefinition: string, h: Record<string, string> = {}) => {
      const id = await env.start(ecsAppSpec(taskDefinition, h));
      await waitFor(env, id, waiting('ready'));
      await api(env, 'ContinueDeployment', { deploymentId: id, deploymentWaitType: 'READY_WAIT' });
      return id;
    };
    const id = await toTermination('web:2', hooks);
    await waitFor(env, id, waiting('termination'));
    await api(env, 'ContinueDeployment', { deploymentId: id, deploymentWaitType: 'TERMINATION_WAIT' });
    expect((await env.finish(id)).deployment.state.status).toBe('Succeeded');

    // Finalize records the commit, then fails (a bug, not retried): RecordOutcome completes the deployment.
    inject('finalizeDeployment', 'timeline.append', { skip: 1, transient: false }); // after the alarm check's note
    const committed = await env.finish(await toTermination('web:1'));
    expect(faults.splice(0)).toMatchObject([{ times: 0 }]);
    expect(committed.deployment.state.status).toBe('Succeeded');

    // StopExecution while green is primary and blue waits to be terminated.
    const aborted = await toTermination('web:2');
    await waitFor(env, aborted, waiting('termination'));
    env.runtime.abort(aborted);
    expect((await waitForEnd(env, aborted)).state.status).toBe('Stopped');

    // An alarm during the canary; a hook failing once green is primary.
    const bad = await env.finish(await toTermination('web:3'));
    expect(bad.deployment.state.errorInformation?.code).toBe('ALARM_ACTIVE');
    await env.elapse(120);
    const late = await env.finish(await toTermination('web:2', { AfterAllowTraffic: 'failing' }));
    expect(late.deployment.state.errorInformation?.code).toBe('HOOK_EXECUTION_FAILURE');

    // KEEP_ALIVE: the next deployment's Install removes the task set kept from the last one.
    const group = (await api(env, 'GetDeploymentGroup', { applicationName: 'shop', deploymentGroupName: 'web' }))
      .deploymentGroupInfo as Record<string, unknown>;
    await api(env, 'UpdateDeploymentGroup', {
      applicationName: 'shop',
      currentDeploymentGroupName: 'web',
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      ecsServices: group.ecsServices,
      loadBalancerInfo: group.loadBalancerInfo,
      blueGreenDeploymentConfiguration: { terminateBlueInstancesOnDeploymentSuccess: { action: 'KEEP_ALIVE' } },
    });
    for (const td of ['web:2', 'web:1'])
      expect((await env.deploy(ecsAppSpec(td))).deployment.state.status).toBe('Succeeded');

    // A second group for the same service is refused (ECS groups are checked against each other).
    await api(env, 'CreateApplication', { applicationName: 'store', computePlatform: 'ECS' });
    const second = await dispatch(
      'CreateDeploymentGroup',
      {
        applicationName: 'store',
        deploymentGroupName: 'web',
        ecsServices: group.ecsServices,
        loadBalancerInfo: group.loadBalancerInfo,
      },
      env.deps,
      env.viewFor,
    );
    expect(second).toMatchObject({
      error: { message: expect.stringContaining('already belongs to deployment group shop/web') },
    });
  });

  it('triggers: S3 uploads, CodePipeline jobs, a StartExecution with a request', async () => {
    const env = await lambdaEnv({ triggerConfigurations: triggers });
    await env.run(TASKS.createDeploymentConfig, { deploymentConfigName: 'Quick', trafficRoutingConfig: '100%' });
    const listed = () => env.deps.deployments.list('shop', 'prod');
    const put = (Key: string, Body: Uint8Array | string, Metadata?: Record<string, string>) =>
      env.s3.client.send(
        new PutObjectCommand({ Bucket: LOCAL_REVISION_BUCKET, Key, Body, ...(Metadata ? { Metadata } : {}) }),
      );
    /** The deployment an upload recorded (the S3 event runs the trigger before the upload returns). */
    const upload = async (...args: Parameters<typeof put>) => {
      const before = await listed();
      await put(...args);
      await env.clock.idle();
      const fresh = (await listed()).filter((id) => !before.includes(id));
      expect(fresh).toHaveLength(1);
      return fresh[0]!;
    };
    const one = await upload('revisions/shop/prod/one.zip', zip({ 'appspec.yml': appSpec() }), {
      'deployment-config': 'Quick',
    });
    expect((await waitForEnd(env, one)).state.status).toBe('Succeeded');
    const broken = await upload('revisions/shop/prod/broken.zip', zip({ 'index.js': 'no appspec' }));
    expect(await statusOf(env, broken)).toBe('Failed');

    await put('pipeline/SourceArtifact/a1', zip({ 'appspec.yml': appSpec({ functions: [['api', '2', '1']] }) }));
    const job = (id: string, data: Record<string, unknown>) => ({
      'CodePipeline.job': { id, accountId: '111122223333', data },
    });
    const params = (p: unknown) => ({ actionConfiguration: { configuration: { UserParameters: JSON.stringify(p) } } });
    const artifact = (objectKey: string) => ({
      inputArtifacts: [
        { name: 'Source', location: { type: 'S3', s3Location: { bucketName: LOCAL_REVISION_BUCKET, objectKey } } },
      ],
    });
    const started = (await env.run(
      TASKS.codePipelineJob,
      job('job-1', {
        ...params({ applicationName: 'shop', deploymentGroupName: 'prod', deploymentConfigName: 'Quick' }),
        ...artifact('pipeline/SourceArtifact/a1'),
      }),
    )) as { deploymentId: string };
    await waitForEnd(env, started.deploymentId);
    await env.run(TASKS.codePipelineJob, job('job-2', { continuationToken: started.deploymentId }));
    await env.run(
      TASKS.codePipelineJob,
      job('job-3', { actionConfiguration: { configuration: { UserParameters: 'x' } } }),
    );

    await env.runtime.start('pipeline-exec-1', {
      applicationName: 'shop',
      deploymentGroupName: 'prod',
      deploymentConfigName: 'Quick',
      revision: {
        revisionType: 'S3',
        s3Location: { bucket: LOCAL_REVISION_BUCKET, key: 'revisions/shop/prod/one.zip', bundleType: 'zip' },
      },
    });
    expect((await env.execution('pipeline-exec-1')).status).toBe('SUCCEEDED');
  });

  it('faults: a failure after the group is locked releases the lock, whoever started the deployment', async () => {
    const env = await lambdaEnv();
    inject('createDeployment', 'executions.start');
    await expect(env.start(appSpec())).rejects.toThrow(/injected/);
    inject('createDeployment', 'deployments.create');
    await expect(env.start(appSpec())).rejects.toThrow(/injected/);
    inject('api.CreateDeployment', 'deployments.create');
    await expect(
      api(env, 'CreateDeployment', {
        applicationName: 'shop',
        deploymentGroupName: 'prod',
        revision: content(appSpec()),
      }),
    ).rejects.toThrow(/CreateDeployment: /);
    inject('recordDeployment', 'deployments.create');
    await env.runtime.start('exec-1', {
      applicationName: 'shop',
      deploymentGroupName: 'prod',
      revision: content(appSpec()),
    });
    expect((await env.execution('exec-1')).status).toBe('SUCCEEDED'); // the state machine retried
    inject('s3Trigger', 'deployments.create');
    await env.s3.client.send(
      new PutObjectCommand({
        Bucket: LOCAL_REVISION_BUCKET,
        Key: 'revisions/shop/prod/x.yaml',
        Body: appSpec({ functions: [['api', '2', '1']] }),
      }),
    );
    await env.clock.idle();
    inject('codePipelineJob', 'deployments.create');
    await env.s3.client.send(
      new PutObjectCommand({
        Bucket: LOCAL_REVISION_BUCKET,
        Key: 'pipeline/a2',
        Body: zip({ 'appspec.yml': appSpec({ functions: [['api', '2', '1']] }) }),
      }),
    );
    await expect(
      env.run(TASKS.codePipelineJob, {
        'CodePipeline.job': {
          id: 'job-9',
          accountId: '111122223333',
          data: {
            actionConfiguration: {
              configuration: {
                UserParameters: JSON.stringify({ applicationName: 'shop', deploymentGroupName: 'prod' }),
              },
            },
            inputArtifacts: [
              {
                name: 'Source',
                location: { type: 'S3', s3Location: { bucketName: LOCAL_REVISION_BUCKET, objectKey: 'pipeline/a2' } },
              },
            ],
          },
        },
      }),
    ).rejects.toThrow(/injected/);
    // A failure after the record and the lock (the timeline entry) ends the record Failed and frees
    // the group; a busy group refuses the request and leaves no record.
    inject('createDeployment', 'timeline.append');
    await expect(env.start(appSpec({ functions: [['api', '2', '1']] }))).rejects.toThrow(/injected/);
    inject('api.CreateDeployment', 'timeline.append');
    await expect(
      api(env, 'CreateDeployment', {
        applicationName: 'shop',
        deploymentGroupName: 'prod',
        revision: content(appSpec()),
      }),
    ).rejects.toThrow(/CreateDeployment: /);
    const pipelineJob = (id: string) => ({
      'CodePipeline.job': {
        id,
        accountId: '111122223333',
        data: {
          actionConfiguration: {
            configuration: { UserParameters: JSON.stringify({ applicationName: 'shop', deploymentGroupName: 'prod' }) },
          },
          inputArtifacts: [
            {
              name: 'Source',
              location: { type: 'S3', s3Location: { bucketName: LOCAL_REVISION_BUCKET, objectKey: 'pipeline/a2' } },
            },
          ],
        },
      },
    });
    inject('codePipelineJob', 'timeline.append');
    await expect(env.run(TASKS.codePipelineJob, pipelineJob('job-10'))).rejects.toThrow(/injected/);
    const busy = await env.start(appSpec({ functions: [['api', '2', '1']], before: undefined }), {
      deploymentConfigName: 'CodeDeployDefault.LambdaLinear10PercentEvery10Minutes',
    });
    await expect(
      api(env, 'CreateDeployment', {
        applicationName: 'shop',
        deploymentGroupName: 'prod',
        revision: content(appSpec()),
      }),
    ).rejects.toThrow(/DeploymentLimitExceededException/);
    await env.run(TASKS.codePipelineJob, pipelineJob('job-11'));
    const request = { applicationName: 'shop', deploymentGroupName: 'prod', revision: content(appSpec()) };
    await env.runtime.start('exec-busy', request);
    expect((await env.execution('exec-busy')).status).toBe('FAILED'); // RequestRejected: the group is busy
    const uploadX = async (key: string) => {
      await env.s3.client.send(
        new PutObjectCommand({
          Bucket: LOCAL_REVISION_BUCKET,
          Key: key,
          Body: appSpec({ functions: [['api', '2', '1']] }),
        }),
      );
      await env.clock.idle();
    };
    await uploadX('revisions/shop/prod/busy.yaml');
    await api(env, 'StopDeployment', { deploymentId: busy });
    await env.finish(busy);
    inject('recordDeployment', 'timeline.append');
    await env.runtime.start('exec-2', request);
    expect((await env.execution('exec-2')).status).toBe('SUCCEEDED'); // ended quietly: recorded Failed
    inject('s3Trigger', 'timeline.append');
    await uploadX('revisions/shop/prod/y.yaml');
    expect(faults.every((f) => f.times === 0)).toBe(true);
    faults.length = 0;
    // Every failure released the group: a deployment goes through.
    expect((await env.deploy(appSpec({ functions: [['api', '2', '1']] }))).deployment.state.status).toBe('Succeeded');
  });

  it('Server: in place with traffic control, a failure rolled back, StopExecution, the reconciler', async () => {
    const { env, hosts } = await serverEnv(
      { config: 'OneHealthy', targetGroup: 'web-tg', autoRollback: true },
      { instrumentation: recorder },
    );
    envs.push(env);
    // Instance triggers: each host's start and end is published to SNS too.
    const group = (await env.deps.catalog.getDeploymentGroup('fleet', 'web'))!;
    await env.deps.catalog.updateDeploymentGroup({
      ...group,
      triggerConfigurations: [
        {
          triggerName: 'hosts',
          triggerTargetArn: 'arn:aws:sns:us-east-1:111122223333:hosts',
          triggerEvents: ['InstanceStart', 'InstanceSuccess', 'InstanceFailure'],
        },
      ],
    });
    const ok = await deployBundle(env);
    await runHosts(env, ok, hosts);
    expect(await statusOf(env, ok)).toBe('Succeeded');
    // The same revision again, to the outdated hosts only: there are none (Prepare reads the last hosts).
    const same = await deployBundle(env, 2, { updateOutdatedInstancesOnly: true });
    await runHosts(env, same, hosts);
    expect(await statusOf(env, same)).toBe('Succeeded');
    // A failure rolled back in place: the rollback deployment redeploys the earlier revision (and rejoins).
    const failed = await deployBundle(env, 3);
    await runHosts(env, failed, hosts, (_h, e, dep) =>
      e === 'ValidateService' && dep.creator !== 'codeDeployRollback' ? 'Failed' : 'Succeeded',
    );
    expect(await statusOf(env, failed)).toBe('Failed');
    const rollback = (await env.deps.deployments.get(failed))!.state.rollbackInfo!.rollbackDeploymentId!;
    expect(await statusOf(env, rollback)).toBe('Succeeded');
    // Its hosts through the API: targets, instances, the overview.
    const [host] = (await api(env, 'ListDeploymentTargets', { deploymentId: failed })).targetIds as string[];
    await api(env, 'GetDeploymentTarget', { deploymentId: failed, targetId: host });
    await api(env, 'BatchGetDeploymentTargets', { deploymentId: failed, targetIds: [host] });
    await api(env, 'ListDeploymentInstances', { deploymentId: failed });
    await api(env, 'GetDeploymentInstance', { deploymentId: failed, instanceId: host });
    await api(env, 'BatchGetDeploymentInstances', { deploymentId: failed, instanceIds: [host] });
    await api(env, 'GetDeployment', { deploymentId: rollback });
    await api(env, 'BatchGetDeployments', { deploymentIds: [rollback] });
    // StopExecution while the fleet runs: executionEnded stops it and records the outcome.
    const aborted = await deployBundle(env);
    await env.elapse(30);
    expect(waiting('settle')((await env.deps.deployments.get(aborted))!)).toBe(true);
    // Its first host ran an event: executionEnded's rollback redeploys the earlier revision to it in place
    // (the event is tried again while the rollback deployment's hosts work).
    for (const h of hosts) {
      const { HostCommand: c } = await h.poll();
      if (c && (await h.ack(c.HostCommandIdentifier)) === 'InProgress')
        await h.complete(c.HostCommandIdentifier, 'Succeeded');
    }
    env.runtime.abort(aborted);
    for (let i = 0; i < 200 && (await statusOf(env, aborted)) === 'InProgress'; i++) {
      for (const h of hosts) await h.runAll();
      await env.elapse(5);
    }
    expect((await waitForEnd(env, aborted)).state.status).toBe('Stopped');
    // The same, with executionEnded unable to run: the reconciler settles it.
    // A host ran its first event: the reconciler's rollback redeploys the earlier revision to it, and
    // says "later" until the rollback deployment's hosts are done.
    const lost = await deployBundle(env);
    await env.elapse(30);
    expect(waiting('settle')((await env.deps.deployments.get(lost))!)).toBe(true);
    for (const h of hosts) {
      const { HostCommand: c } = await h.poll();
      if (c && (await h.ack(c.HostCommandIdentifier)) === 'InProgress')
        await h.complete(c.HostCommandIdentifier, 'Succeeded');
    }
    inject('executionEnded', 'deployments.get', { times: 100 });
    env.runtime.abort(lost);
    await env.execution(lost);
    await env.elapse(120);
    faults.length = 0;
    expect((await env.run(TASKS.reconcile, { graceSeconds: 0 })).actions.map((a) => a.action)).toEqual(['retryLater']);
    for (let i = 0; i < 30 && (await statusOf(env, lost)) === 'InProgress'; i++) {
      for (const h of hosts) await h.runAll();
      await env.elapse(5);
      await env.run(TASKS.reconcile, { graceSeconds: 0 });
    }
    expect(await statusOf(env, lost)).toBe('Stopped');
    // StopDeployment while a host runs its events: the rollback stops the fleet.
    const stopped = await deployBundle(env);
    await env.elapse(30);
    const held: [ScriptedHost, string][] = [];
    for (const h of hosts) {
      const { HostCommand: running } = await h.poll();
      if (running) await h.ack(running.HostCommandIdentifier);
      if (running) held.push([h, running.HostCommandIdentifier]);
    }
    await api(env, 'StopDeployment', { deploymentId: stopped, autoRollbackEnabled: true });
    expect(['Failed', 'Stopped']).toContain((await waitForEnd(env, stopped)).state.status);
    // Their agents finish what they were running (a late completion changes nothing), freeing the hosts.
    for (const [h, id] of held) await h.complete(id, 'Succeeded');
    // A host that takes a command, then stops answering: its event fails at its liveness deadline.
    const dead = await deployBundle(env);
    await env.elapse(30);
    for (const h of hosts) {
      const { HostCommand: taken } = await h.poll();
      if (taken) await h.ack(taken.HostCommandIdentifier);
    }
    expect((await waitForEnd(env, dead)).state.status).toBe('Failed');
    const lastWords = (await env.deps.hostCommands.listHosts(dead)).flatMap((h) =>
      h.lifecycleEvents.flatMap((e) => (e.diagnostics ? [e.diagnostics.message] : [])),
    );
    expect(lastWords.join(' ')).toMatch(/stopped answering/);
  });

  it('the reconciler: deployments nothing drives, creates that did not finish, leaked locks, open rollbacks', async () => {
    const reconcile = (env: TestEnv) => env.run(TASKS.reconcile, { graceSeconds: 0 });
    /** Start, wait for `wait`, and end the execution with its end event lost (every executionEnded attempt fails). */
    const orphan = async (env: TestEnv, spec: string, wait: string) => {
      const id = await env.start(spec);
      await waitFor(env, id, waiting(wait));
      inject('executionEnded', 'deployments.get', { times: 100 });
      env.runtime.abort(id);
      await env.execution(id);
      await env.elapse(120);
      faults.length = 0;
      expect(await statusOf(env, id)).toBe('InProgress');
      return id;
    };

    const lambda = await lambdaEnv({
      deploymentConfigName: 'CodeDeployDefault.LambdaLinear10PercentEvery10Minutes',
      triggerConfigurations: triggers,
    });
    // A create whose clean-up failed too: Created, the group locked, no execution.
    inject('createDeployment', 'executions.start');
    inject('createDeployment', 'deployments.update', { times: 100 }); // every write, the clean-up's too
    await expect(lambda.start(appSpec())).rejects.toThrow(/injected/);
    faults.length = 0;
    expect((await reconcile(lambda)).actions.map((a) => a.action)).toEqual(['ended']);
    const left = await orphan(lambda, appSpec(), 'bake');
    expect((await reconcile(lambda)).actions.map((a) => a.action)).toEqual(['settled']);
    expect(await statusOf(lambda, left)).toBe('Stopped');
    // A rollback record left open, and a lock naming a deployment never recorded.
    const rb = (await lambda.deps.deployments.get(left))!.state.rollbackInfo!.rollbackDeploymentId!;
    const rec = (await lambda.deps.deployments.get(rb))!;
    await lambda.deps.deployments.update(rb, rec.state.version, { status: 'InProgress' });
    await lambda.deps.locks.acquire('shop', 'prod', 'd-NEVERMADE');
    const second = await reconcile(lambda);
    expect(second.actions.map((a) => a.action).sort()).toEqual(['released', 'rollbackEnded']);
    expect(await statusOf(lambda, rb)).toBe('Succeeded');
    expect((await lambda.deploy(appSpec())).deployment.state.status).toBe('Succeeded');

    const ecs = await ecsEnv({
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 30 },
        terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 30 },
      },
    });
    const split = await ecs.start(ecsAppSpec('web:2'));
    await waitFor(ecs, split, waiting('ready'));
    await api(ecs, 'ContinueDeployment', { deploymentId: split, deploymentWaitType: 'READY_WAIT' });
    inject('executionEnded', 'deployments.get', { times: 100 });
    await waitFor(ecs, split, waiting('termination'));
    ecs.runtime.abort(split);
    await ecs.execution(split);
    await ecs.elapse(120);
    faults.length = 0;
    expect((await reconcile(ecs)).actions.map((a) => a.action)).toEqual(['settled']);
    expect(await statusOf(ecs, split)).toBe('Stopped');
    // Committed, then the execution was lost before Complete: the reconciler completes it.
    const committed = await ecs.start(ecsAppSpec('web:2'));
    await waitFor(ecs, committed, waiting('ready'));
    await api(ecs, 'ContinueDeployment', { deploymentId: committed, deploymentWaitType: 'READY_WAIT' });
    await waitFor(ecs, committed, waiting('termination'));
    inject('completeDeployment', 'deployments.get', { times: 1000 });
    inject('executionEnded', 'deployments.get', { times: 100 });
    await api(ecs, 'ContinueDeployment', { deploymentId: committed, deploymentWaitType: 'TERMINATION_WAIT' });
    const ended = await ecs.execution(committed);
    expect(ended.status).toBe('FAILED');
    await ecs.elapse(120);
    faults.length = 0;
    expect(await statusOf(ecs, committed)).toBe('Succeeded');
    expect((await reconcile(ecs)).actions.map((a) => a.action)).toEqual(['settled']);
    expect((await ecs.deps.catalog.getDeploymentGroup('shop', 'web'))?.activeDeploymentId).toBeUndefined();
  });

  it('the API: every operation', async () => {
    const env = await lambdaEnv();
    await api(env, 'CreateApplication', { applicationName: 'books' });
    await api(env, 'GetApplication', { applicationName: 'books' });
    await api(env, 'ListApplications', {});
    await api(env, 'BatchGetApplications', { applicationNames: ['books', 'shop'] });
    await api(env, 'UpdateApplication', { applicationName: 'books', newApplicationName: 'novels' });
    await api(env, 'CreateDeploymentConfig', {
      deploymentConfigName: 'Halves',
      computePlatform: 'Lambda',
      trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 50, canaryInterval: 1 } },
    });
    await api(env, 'GetDeploymentConfig', { deploymentConfigName: 'Halves' });
    await api(env, 'ListDeploymentConfigs', {});
    await api(env, 'CreateDeploymentConfig', { deploymentConfigName: 'Thirds', trafficRoutingConfig: '33% 1m, 100%' });
    await api(env, 'CreateDeploymentGroup', {
      applicationName: 'novels',
      deploymentGroupName: 'live',
      deploymentConfigName: 'Halves',
      tags: [{ Key: 'env', Value: 'live' }],
      webhookSecret: 'a-webhook-secret-for-live',
    });
    await api(env, 'UpdateDeploymentGroup', {
      applicationName: 'novels',
      currentDeploymentGroupName: 'live',
      newDeploymentGroupName: 'prod',
      deploymentConfigName: 'Thirds',
      webhookSecret: 'a-new-webhook-secret-for-prod',
    });
    // A group whose record cannot be written takes its new secret with it.
    inject('api.CreateDeploymentGroup', 'catalog.createDeploymentGroup', { transient: false });
    const spare = { applicationName: 'novels', deploymentGroupName: 'spare', webhookSecret: 'a-secret-for-the-spare' };
    await expect(api(env, 'CreateDeploymentGroup', spare)).rejects.toThrow(/CreateDeploymentGroup: InternalFailure/);
    await api(env, 'CreateDeploymentGroup', spare); // deleted with its application below
    await api(env, 'GetDeploymentGroup', { applicationName: 'novels', deploymentGroupName: 'prod' });
    const arn = 'arn:aws:codedeploy:local:000000000000:deploymentgroup:novels/prod';
    await api(env, 'TagResource', { ResourceArn: arn, Tags: [{ Key: 'cost', Value: '42' }] });
    await api(env, 'UntagResource', { ResourceArn: arn, TagKeys: ['env'] });
    expect(await api(env, 'ListTagsForResource', { ResourceArn: arn })).toEqual({
      Tags: [{ Key: 'cost', Value: '42' }],
    });
    await api(env, 'ListDeploymentGroups', { applicationName: 'novels' });
    await api(env, 'DeleteDeploymentGroup', { applicationName: 'novels', deploymentGroupName: 'prod' });
    await api(env, 'DeleteDeploymentConfig', { deploymentConfigName: 'Halves' }); // no group uses it any more
    await api(env, 'DeleteApplication', { applicationName: 'novels' });

    // Server: applications, configurations, groups and on-premises instances.
    await api(env, 'CreateApplication', { applicationName: 'fleet', computePlatform: 'Server' });
    await api(env, 'CreateDeploymentConfig', {
      deploymentConfigName: 'Waves',
      computePlatform: 'Server',
      minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 },
      waves: '1 host 5m, 100%',
    });
    await api(env, 'CreateDeploymentGroup', {
      applicationName: 'fleet',
      deploymentGroupName: 'web',
      deploymentConfigName: 'Waves',
      onPremisesInstanceTagFilters: [{ Key: 'Role', Value: 'web', Type: 'KEY_AND_VALUE' }],
    });
    await api(env, 'BatchGetDeploymentGroups', { applicationName: 'fleet', deploymentGroupNames: ['web'] });
    const iamUserArn = 'arn:aws:iam::111122223333:user/rack-1';
    await api(env, 'RegisterOnPremisesInstance', { instanceName: 'rack-1', iamUserArn });
    const tags = [{ Key: 'Role', Value: 'web' }];
    await api(env, 'AddTagsToOnPremisesInstances', { instanceNames: ['rack-1'], tags });
    await api(env, 'GetOnPremisesInstance', { instanceName: 'rack-1' });
    await api(env, 'BatchGetOnPremisesInstances', { instanceNames: ['rack-1'] });
    await api(env, 'ListOnPremisesInstances', { tagFilters: [{ Key: 'Role', Type: 'KEY_ONLY' }] });
    await api(env, 'RemoveTagsFromOnPremisesInstances', { instanceNames: ['rack-1'], tags });
    await api(env, 'DeregisterOnPremisesInstance', { instanceName: 'rack-1' });

    const revision = content(appSpec());
    await api(env, 'RegisterApplicationRevision', { applicationName: 'shop', revision });
    await api(env, 'ListApplicationRevisions', { applicationName: 'shop' });
    await api(env, 'GetApplicationRevision', { applicationName: 'shop', revision });
    await api(env, 'BatchGetApplicationRevisions', { applicationName: 'shop', revisions: [revision] });
    await env.s3.client.send(
      new PutObjectCommand({
        Bucket: LOCAL_REVISION_BUCKET,
        Key: 'releases/r1.zip',
        Body: zip({ 'appspec.yml': appSpec() }),
      }),
    );
    const { deploymentId } = await api(env, 'CreateDeployment', {
      applicationName: 'shop',
      deploymentGroupName: 'prod',
      deploymentConfigName: 'Thirds',
      revision: {
        revisionType: 'S3',
        s3Location: { bucket: LOCAL_REVISION_BUCKET, key: 'releases/r1.zip', bundleType: 'zip' },
      },
    });
    await env.finish(deploymentId as string);
    await api(env, 'GetDeployment', { deploymentId });
    await api(env, 'BatchGetDeployments', { deploymentIds: [deploymentId] });
    await api(env, 'ListDeployments', {
      applicationName: 'shop',
      deploymentGroupName: 'prod',
      includeOnlyStatuses: ['Succeeded'],
    });
    await api(env, 'ListDeployments', {});
    await api(env, 'ListDeploymentTargets', { deploymentId });
    await api(env, 'BatchGetDeploymentTargets', { deploymentId, targetIds: ['api:live'] });
    await api(env, 'GetDeploymentTimeline', { deploymentId });

    // Hooks that report through the API (the hookCallback function's one operation).
    const viaApi =
      (status: 'Succeeded' | 'Failed') =>
      async (e: { DeploymentId: string; LifecycleEventHookExecutionId: string }) => {
        await api(env, 'PutLifecycleEventHookExecutionStatus', {
          deploymentId: e.DeploymentId,
          lifecycleEventHookExecutionId: e.LifecycleEventHookExecutionId,
          status,
        });
      };
    env.world.registerHook('failsViaApi', viaApi('Failed'));
    env.world.registerHook('passesViaApi', viaApi('Succeeded'));
    const failed = await env.deploy(appSpec({ functions: [['api', '2', '1']], before: 'failsViaApi' }));
    expect(failed.deployment.state.errorInformation?.code).toBe('HOOK_EXECUTION_FAILURE');
    const passed = await env.deploy(appSpec({ functions: [['api', '2', '1']], before: 'passesViaApi' }));
    expect(passed.deployment.state.status).toBe('Succeeded');
  });

  it('the agents’ command service: poll, a lost answer offered again, specification, acknowledgement, heartbeat, completion', async () => {
    const env = await lambdaEnv();
    const d = serverDeployment('d-ARCHHOST1', env.clock.now().toISOString());
    await env.deps.deployments.create(d);
    const credential = env.hostCredentials.issue('i-0aaaaaaaaaaaaaaa1');
    await startFleet(
      env.deps,
      d,
      () => fleetSetup([{ id: credential.hostId }], { minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 0 } }),
      0,
    );
    // A settle wait whose token no longer waits: the completion that ends the fleet tries it, then leaves a mark.
    await env.deps.deployments.update(d.deploymentId, d.state.version, {
      currentWait: { kind: 'settle', token: 'timed-out', since: env.clock.now().toISOString() },
    });
    const host = new ScriptedHost(
      dispatchTransport(env, { caller: { arn: credential.principalArn } }),
      `arn:aws:ec2:us-east-1:000000000000:instance/${credential.hostId}`,
    );
    const lost = (await host.poll()).HostCommand!; // its answer never reaches the agent
    await env.elapse(30);
    const again = (await host.poll()).HostCommand!;
    expect(again.HostCommandIdentifier).not.toBe(lost.HostCommandIdentifier);
    await host.specification(again.DeploymentExecutionId);
    expect(await host.ack(again.HostCommandIdentifier)).toBe('InProgress');
    expect(await host.update(again.HostCommandIdentifier)).toBe('InProgress');
    await host.complete(again.HostCommandIdentifier, 'Succeeded');
    expect(await host.runAll()).toHaveLength(6);
    expect((await env.deps.deployments.get(d.deploymentId))?.state.settleWake).toBeDefined();
  });

  it('no function is granted a port method it never calls', () => {
    const callersOf = (fn: string): string[] =>
      fn === 'api'
        ? [...called.keys()].filter((c) => c.startsWith('api.'))
        : fn === 'hookCallback'
          ? ['putLifecycleEventHookExecutionStatus', 'api.PutLifecycleEventHookExecutionStatus']
          : [fn];
    // Called by a rollback's stop of the fleet only to repair what a crash between two of the fleet's
    // writes left (a host's next command queued again, with a new id) or to fail a command past its
    // deadline: test/unit/fleet.test.ts covers those paths on the fleet itself.
    const REPAIR_ONLY = new Set([
      // A rollback deployment takes a host out of its target groups only if it is still in them.
      'Server.targetGroups.deregister',
      'Server.hostCommands.putCommand',
      'Server.hostCommands.updateCommand',
      'Server.ids.uuid',
    ]);
    const repairers = new Set(['executionEnded', 'reconcile', 'rollbackDeployment']);
    const unused: Record<string, string[]> = {};
    for (const [fn, granted] of Object.entries(functionPorts())) {
      const used = new Set(callersOf(fn).flatMap((c) => [...(called.get(c) ?? [])]));
      const never = granted.filter((m) => !used.has(m) && !(repairers.has(fn) && REPAIR_ONLY.has(m)));
      if (never.length) unused[fn] = never;
    }
    expect(unused).toEqual({});
  });

  it('no API operation declares a port method it never calls', () => {
    const unused: Record<string, string[]> = {};
    for (const [name, op] of Object.entries(OPERATIONS)) {
      const used = called.get(`api.${name}`) ?? new Set();
      const never = portMethods(op.uses).filter((m) => !used.has(m));
      if (never.length) unused[name] = never;
    }
    expect(unused).toEqual({});
  });
});
