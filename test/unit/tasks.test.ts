/** Tasks' validation and error names (CodeDeploy's exceptions), against sim adapters and dynalite. */
import { hookExecutionIdHash } from '../../src/domain/ids.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/domain/errors.js';
import { TASKS } from '../../src/tasks/index.js';
import { appSpec, testEnv, type TestEnv } from '../support/local.js';

let env: TestEnv;
beforeAll(async () => {
  env = await testEnv();
});
afterAll(async () => env.close());

const rejects = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, 'expected a rejection').toBeDefined();
  return e as { exceptionName: string; message: string; issues: InvalidInputError['issues'] };
};
const create = (extra: Record<string, unknown>) =>
  TASKS.createDeployment.run(
    {
      applicationName: 'shop',
      deploymentGroupName: 'prod',
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec() } },
      ...extra,
    },
    env.deps,
  );

describe('createDeployment input', () => {
  it('names missing fields with CodeDeploy exceptions and lists every problem', async () => {
    const e = await rejects(TASKS.createDeployment.run({ description: 'x'.repeat(300) }, env.deps));
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e.exceptionName).toBe('ApplicationNameRequiredException');
    expect(e.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['applicationName', 'deploymentGroupName', 'revision', 'description']),
    );
  });

  it('unknown application, group and configuration', async () => {
    expect((await rejects(create({ applicationName: 'nope' }))).exceptionName).toBe('ApplicationDoesNotExistException');
    expect((await rejects(create({ deploymentGroupName: 'nope' }))).exceptionName).toBe(
      'DeploymentGroupDoesNotExistException',
    );
    expect((await rejects(create({ deploymentConfigName: 'MyMissingConfig' }))).exceptionName).toBe(
      'DeploymentConfigDoesNotExistException',
    );
    expect((await rejects(create({ deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce' }))).exceptionName).toBe(
      'InvalidDeploymentConfigNameException',
    );
    const bad = await rejects(create({ deploymentConfigName: '10% 5m, 5% 1m, 100%' }));
    expect(bad.exceptionName).toBe('InvalidTrafficRoutingConfigurationException');
    expect(bad.message).toContain('greater than the previous step');
  });

  it('checks a given sha256, and names a missing S3 revision, changing nothing', async () => {
    const wrong = await rejects(
      TASKS.createDeployment.run(
        {
          applicationName: 'shop',
          deploymentGroupName: 'prod',
          revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec(), sha256: '00' } },
        },
        env.deps,
      ),
    );
    expect(wrong.message).toContain('revision.appSpecContent.sha256');
    const s3 = await rejects(
      create({ revision: { revisionType: 'S3', s3Location: { bucket: 'no-such-bucket', key: 'app.zip' } } }),
    );
    expect(s3.exceptionName).toBe('RevisionDoesNotExistException');
    const untyped = await rejects(
      create({ revision: { revisionType: 'S3', s3Location: { bucket: 'b', key: 'revision.bin' } } }),
    );
    expect(untyped.exceptionName).toBe('InvalidRevisionException');
    expect(untyped.message).toContain('revision.s3Location.bundleType');
    expect(await env.deps.deployments.list('shop', 'prod')).toEqual([]);
    expect((await env.deps.catalog.getDeploymentGroup('shop', 'prod'))?.activeDeploymentId).toBeUndefined();
  });
});

describe('setup tasks', () => {
  it('a deployment group with several problems reports them all', async () => {
    const e = await rejects(
      TASKS.createDeploymentGroup.run(
        {
          applicationName: 'shop',
          deploymentGroupName: 'bad name!',
          alarmConfiguration: { enabled: true, alarms: Array.from({ length: 11 }, (_, i) => ({ name: `a${i}` })) },
          triggerConfigurations: [
            { triggerName: 't', triggerTargetArn: 'not-an-arn', triggerEvents: ['DeploymentStart'] },
          ],
        },
        env.deps,
      ),
    );
    expect(e.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining([
        'deploymentGroupName',
        'alarmConfiguration.alarms',
        'triggerConfigurations.0.triggerTargetArn',
      ]),
    );
    expect(await env.deps.catalog.getDeploymentGroup('shop', 'bad name!')).toBeUndefined();
  });

  it('custom configurations: CodeDeploy shapes and step lists; invalid ones rejected with the reason', async () => {
    await TASKS.createDeploymentConfig.run(
      {
        deploymentConfigName: 'Linear25Every2',
        trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 25, linearInterval: 2 } },
      },
      env.deps,
    );
    await TASKS.createDeploymentConfig.run(
      { deploymentConfigName: 'Careful', trafficRoutingConfig: '1% 5m, 10% 10m, 50% 10m, 100%' },
      env.deps,
    );
    expect((await env.deps.catalog.getDeploymentConfig('Careful'))?.trafficRoutingConfig).toMatchObject({
      type: 'StepList',
    });
    const dup = await rejects(
      TASKS.createDeploymentConfig.run(
        { deploymentConfigName: 'Careful', trafficRoutingConfig: { type: 'AllAtOnce' } },
        env.deps,
      ),
    );
    expect(dup.exceptionName).toBe('DeploymentConfigAlreadyExistsException');
    const reserved = await rejects(
      TASKS.createDeploymentConfig.run(
        { deploymentConfigName: 'CodeDeployDefault.Mine', trafficRoutingConfig: { type: 'AllAtOnce' } },
        env.deps,
      ),
    );
    expect(reserved.exceptionName).toBe('InvalidDeploymentConfigNameException');
    const invalid = await rejects(
      TASKS.createDeploymentConfig.run(
        {
          deploymentConfigName: 'Bad',
          trafficRoutingConfig: {
            type: 'TimeBasedCanary',
            timeBasedCanary: { canaryPercentage: 100, canaryInterval: 0 },
          },
        },
        env.deps,
      ),
    );
    expect(invalid.exceptionName).toBe('InvalidTrafficRoutingConfigurationException');
    expect(invalid.issues.map((i) => i.path)).toEqual([
      'trafficRoutingConfig.timeBasedCanary.canaryPercentage',
      'trafficRoutingConfig.timeBasedCanary.canaryInterval',
    ]);
    expect(await env.deps.catalog.getDeploymentConfig('Bad')).toBeUndefined();
  });
});

describe('PutLifecycleEventHookExecutionStatus', () => {
  const put = (input: Record<string, unknown>) => TASKS.putLifecycleEventHookExecutionStatus.run(input, env.deps);
  it('uses CodeDeploy exception names for bad input', async () => {
    expect((await rejects(put({ lifecycleEventHookExecutionId: 'x', status: 'Succeeded' }))).exceptionName).toBe(
      'DeploymentIdRequiredException',
    );
    expect(
      (await rejects(put({ deploymentId: 'd-AAAAAAAAA', lifecycleEventHookExecutionId: 'x', status: 'Pending' })))
        .exceptionName,
    ).toBe('InvalidLifecycleEventHookExecutionStatusException');
    expect(
      (await rejects(put({ deploymentId: 'd-AAAAAAAAA', lifecycleEventHookExecutionId: 'guess', status: 'Succeeded' })))
        .exceptionName,
    ).toBe('InvalidLifecycleEventHookExecutionIdException');
  });

  it('an id of another deployment is refused as unknown', async () => {
    await env.deps.hookExecutions.put({
      idHash: hookExecutionIdHash('h-real'),
      deploymentId: 'd-BBBBBBBBB',
      lifecycleEventName: 'BeforeAllowTraffic',
      taskToken: 't',
      status: 'InProgress',
    });
    const e = await rejects(
      put({ deploymentId: 'd-CCCCCCCCC', lifecycleEventHookExecutionId: 'h-real', status: 'Succeeded' }),
    );
    expect(e.exceptionName).toBe('InvalidLifecycleEventHookExecutionIdException');
    expect((await env.deps.hookExecutions.get(hookExecutionIdHash('h-real')))?.status).toBe('InProgress');
  });
});

describe('one active deployment per group', () => {
  it('50 concurrent CreateDeployment calls on one group: exactly one wins; the others leave no record', async () => {
    const race = await testEnv({ deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes' });
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, () =>
          TASKS.createDeployment.run(
            {
              applicationName: 'shop',
              deploymentGroupName: 'prod',
              revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec() } },
            },
            race.deps,
          ),
        ),
      );
      const winners = results.filter(
        (r): r is PromiseFulfilledResult<{ deploymentId: string }> => r.status === 'fulfilled',
      );
      expect(winners).toHaveLength(1);
      const winner = winners[0]!.value.deploymentId;
      const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(new Set(losers.map((r) => (r.reason as { exceptionName: string }).exceptionName))).toEqual(
        new Set(['DeploymentLimitExceededException']),
      );
      expect(losers[0]!.reason.message).toBe(
        `The Deployment Group 'prod' already has an active Deployment '${winner}'`,
      );
      expect(await race.deps.deployments.list('shop', 'prod')).toEqual([winner]);
      expect((await race.finish(winner)).deployment.state.status).toBe('Succeeded');
    } finally {
      await race.close();
    }
  });
});
