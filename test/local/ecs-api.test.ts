/**
 * ECS through CodeDeploy's API with the official SDK client against the local server: groups with
 * ECS fields, a STOP_DEPLOYMENT deployment continued with ContinueDeployment, ECS deployment
 * targets, and CodeDeploy's exception names for bad ECS input.
 */
import {
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  ContinueDeploymentCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
  ListDeploymentConfigsCommand,
  ListDeploymentTargetsCommand,
  waitUntilDeploymentSuccessful,
} from '@aws-sdk/client-codedeploy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/local/server.js';
import { ecsAppSpec, ecsState, ecsTestEnv } from '../support/ecs.js';
import { waitFor, type TestEnv } from '../support/local.js';

let env: TestEnv;
let server: ApiServer;
let client: CodeDeployClient;

beforeAll(async () => {
  env = await ecsTestEnv(
    {
      deploymentConfigName: 'CodeDeployDefault.ECSLinear10PercentEvery1Minutes',
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 600 },
      },
    },
    {},
    'skip',
  );
  server = await startApiServer(env.deps, { work: env.clock, viewFor: env.viewFor });
  client = new CodeDeployClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await server.close();
  await env.close();
});

describe('ECS through the CodeDeploy SDK client', () => {
  it('group read back in CodeDeploy shapes; a Ready deployment continued by ContinueDeployment; ECS targets', async () => {
    const { deploymentGroupInfo } = await client.send(
      new GetDeploymentGroupCommand({ applicationName: 'shop', deploymentGroupName: 'web' }),
    );
    expect(deploymentGroupInfo).toMatchObject({
      computePlatform: 'ECS',
      ecsServices: [{ clusterName: 'demo', serviceName: 'web' }],
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 600 },
      },
    });
    expect(
      deploymentGroupInfo?.loadBalancerInfo?.targetGroupPairInfoList?.[0]?.targetGroups?.map((t) => t.name),
    ).toEqual(['web-blue', 'web-green']);
    const configs = await client.send(new ListDeploymentConfigsCommand({}));
    expect(configs.deploymentConfigsList).toEqual(
      expect.arrayContaining(['CodeDeployDefault.ECSAllAtOnce', 'CodeDeployDefault.ECSLinear10PercentEvery1Minutes']),
    );

    const { deploymentId } = await client.send(
      new CreateDeploymentCommand({
        applicationName: 'shop',
        deploymentGroupName: 'web',
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content: ecsAppSpec('web:2') } },
      }),
    );
    await waitFor(env, deploymentId!, (d) => d.state.status === 'Ready' && d.state.currentWait?.kind === 'ready');
    const ready = await client.send(new GetDeploymentCommand({ deploymentId }));
    expect(ready.deploymentInfo).toMatchObject({
      status: 'Ready',
      computePlatform: 'ECS',
      deploymentOverview: { Ready: 1 },
    });
    // Not in a termination wait: CodeDeploy's exception.
    await expect(
      client.send(new ContinueDeploymentCommand({ deploymentId, deploymentWaitType: 'TERMINATION_WAIT' })),
    ).rejects.toMatchObject({ name: 'DeploymentIsNotInReadyStateException' });
    await client.send(new ContinueDeploymentCommand({ deploymentId, deploymentWaitType: 'READY_WAIT' }));
    const r = await waitUntilDeploymentSuccessful(
      { client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { deploymentId },
    );
    expect(r.state).toBe('SUCCESS');
    expect(ecsState(env.world).taskSets).toEqual([['web:2', 'PRIMARY']]);

    const { targetIds } = await client.send(new ListDeploymentTargetsCommand({ deploymentId }));
    expect(targetIds).toEqual(['demo:web']);
    const { deploymentTargets } = await client.send(new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds }));
    const t = deploymentTargets?.[0];
    expect(t?.deploymentTargetType).toBe('ECSTarget');
    expect(t?.ecsTarget).toMatchObject({ targetId: 'demo:web', status: 'Succeeded' });
    expect(t?.ecsTarget?.taskSetsInfo?.map((s) => [s.taskSetLabel, s.targetGroup?.name, s.trafficWeight])).toEqual([
      ['Blue', 'web-blue', 0],
      ['Green', 'web-green', 100],
    ]);
    expect(t?.ecsTarget?.lifecycleEvents?.map((e) => e.lifecycleEventName)).toEqual([
      'BeforeInstall',
      'Install',
      'AfterInstall',
      'AllowTestTraffic',
      'AfterAllowTestTraffic',
      'BeforeAllowTraffic',
      'AllowTraffic',
      'AfterAllowTraffic',
    ]);
  });

  it('bad ECS input is refused with CodeDeploy exception names, naming every field', async () => {
    const bad = client.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'shop',
        deploymentGroupName: 'web-bad',
        serviceRoleArn: 'arn:aws:iam::111122223333:role/cutover',
        loadBalancerInfo: {
          targetGroupPairInfoList: [
            { targetGroups: [{ name: 'web-blue' }], prodTrafficRoute: { listenerArns: ['not-an-arn'] } },
          ],
        },
      }),
    );
    await expect(bad).rejects.toMatchObject({ name: 'InvalidLoadBalancerInfoException' });
    await expect(bad).rejects.toThrow(
      /loadBalancerInfo\.targetGroupPairInfoList\.0\.prodTrafficRoute\.listenerArns\.0/,
    );
    const lambdaSpec = `version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties: {Name: api, Alias: live, CurrentVersion: "1", TargetVersion: "2"}\n`;
    await expect(
      client.send(
        new CreateDeploymentCommand({
          applicationName: 'shop',
          deploymentGroupName: 'web',
          revision: { revisionType: 'AppSpecContent', appSpecContent: { content: lambdaSpec } },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidRevisionException',
      message: expect.stringContaining('this is a Lambda AppSpec, but the deployment group deploys to ECS'),
    });
  });
});
