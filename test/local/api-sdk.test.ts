/**
 * The official @aws-sdk/client-codedeploy against the local server (endpoint override): the
 * protocol, shapes and error names a CodeDeploy user relies on.
 */
import {
  BatchGetApplicationsCommand,
  BatchGetDeploymentTargetsCommand,
  BatchGetDeploymentsCommand,
  CreateDeploymentConfigCommand,
  DeleteApplicationCommand,
  DeleteDeploymentConfigCommand,
  DeleteDeploymentGroupCommand,
  GetApplicationCommand,
  GetApplicationRevisionCommand,
  ListApplicationRevisionsCommand,
  ListApplicationsCommand,
  ListDeploymentConfigsCommand,
  ListDeploymentGroupsCommand,
  ListDeploymentTargetsCommand,
  RegisterApplicationRevisionCommand,
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
  StopDeploymentCommand,
  waitUntilDeploymentSuccessful,
} from '@aws-sdk/client-codedeploy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/local/server.js';
import { appSpec, testEnv, waitFor, type TestEnv } from '../support/local.js';

let env: TestEnv;
let server: ApiServer;
let client: CodeDeployClient;

beforeAll(async () => {
  // The SDK's waiters poll on real time: let virtual time run by itself.
  env = await testEnv({}, 'skip');
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

const revision = (content: string) => ({ revisionType: 'AppSpecContent' as const, appSpecContent: { content } });

describe('CodeDeploy SDK client against the local server', () => {
  it('creates an application, a group and a deployment; the waiter returns when it succeeds', async () => {
    await client.send(new CreateApplicationCommand({ applicationName: 'web', computePlatform: 'Lambda' }));
    await client.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'web',
        deploymentGroupName: 'prod',
        serviceRoleArn: 'arn:aws:iam::111122223333:role/cd',
        deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
      }),
    );
    // A hook written for CodeDeploy: it reports through the SDK client, endpoint pointed at Cutover.
    env.world.registerHook('CodeDeployHook_pre', async (event) => {
      await client.send(
        new PutLifecycleEventHookExecutionStatusCommand({
          deploymentId: event.DeploymentId,
          lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
          status: 'Succeeded',
        }),
      );
    });
    const { deploymentId } = await client.send(
      new CreateDeploymentCommand({
        applicationName: 'web',
        deploymentGroupName: 'prod',
        revision: revision(appSpec({ before: 'CodeDeployHook_pre' })),
      }),
    );
    expect(deploymentId).toMatch(/^d-[A-Z0-9]{9}$/);
    const waited = await waitUntilDeploymentSuccessful(
      { client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { deploymentId },
    );
    expect(waited.state).toBe('SUCCESS');
    const { deploymentInfo } = await client.send(new GetDeploymentCommand({ deploymentId }));
    expect(deploymentInfo).toMatchObject({
      deploymentId,
      status: 'Succeeded',
      applicationName: 'web',
      deploymentGroupName: 'prod',
      creator: 'user',
      computePlatform: 'Lambda',
    });
    expect(deploymentInfo?.createTime).toBeInstanceOf(Date);
    expect(deploymentInfo?.revision?.appSpecContent?.content).toBeUndefined();
    // Hook execution ids (the hooks' callback credentials) are stored only as hashes, and neither they nor
    // task tokens leave through the API.
    const hookId = (await env.deps.deployments.get(deploymentId!))!.state.lifecycleEvents.find(
      (e) => e.hookExecutionIdHash,
    )?.hookExecutionIdHash;
    expect(hookId).toMatch(/^[0-9a-f]{64}$/);
    const raw = await fetch(server.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'CodeDeploy_20141006.GetDeployment', 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({ deploymentId }),
    });
    expect(await raw.text()).not.toContain(hookId!);
    expect(env.world.getAlias('api', 'live').functionVersion).toBe('2');

    const listed = await client.send(
      new ListDeploymentsCommand({
        applicationName: 'web',
        deploymentGroupName: 'prod',
        includeOnlyStatuses: ['Succeeded'],
      }),
    );
    expect(listed.deployments).toEqual([deploymentId]);
    const batch = await client.send(new BatchGetDeploymentsCommand({ deploymentIds: [deploymentId!, 'd-NOSUCHONE'] }));
    expect(batch.deploymentsInfo?.map((d) => d.deploymentId)).toEqual([deploymentId]);
  });

  it('stops a running deployment; errors arrive as CodeDeploy exception classes', async () => {
    await client.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'web',
        deploymentGroupName: 'slow',
        serviceRoleArn: 'arn:aws:iam::111122223333:role/cd',
        deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes',
      }),
    );
    const { deploymentId } = await client.send(
      new CreateDeploymentCommand({
        applicationName: 'web',
        deploymentGroupName: 'slow',
        revision: revision(appSpec({ functions: [['worker', '5', '6']] })),
      }),
    );
    await waitFor(env, deploymentId!, (d) => d.state.currentWait?.kind === 'bake');
    const second = await client
      .send(
        new CreateDeploymentCommand({
          applicationName: 'web',
          deploymentGroupName: 'slow',
          revision: revision(appSpec({ functions: [['worker', '5', '6']] })),
        }),
      )
      .catch((e: unknown) => e);
    expect(second).toMatchObject({
      name: 'DeploymentLimitExceededException',
      message: `The Deployment Group 'slow' already has an active Deployment '${deploymentId}'`,
    });
    expect(await client.send(new StopDeploymentCommand({ deploymentId }))).toMatchObject({ status: 'Pending' });
    await waitFor(env, deploymentId!, (d) => d.state.status === 'Stopped').catch(() => undefined);
    const { deploymentInfo } = await client.send(new GetDeploymentCommand({ deploymentId }));
    expect(deploymentInfo).toMatchObject({ status: 'Stopped', errorInformation: { code: 'MANUAL_STOP' } });
    expect(env.world.getAlias('worker', 'live')).toEqual({ functionVersion: '5', additionalVersionWeights: {} });

    const missing = await client
      .send(new GetDeploymentCommand({ deploymentId: 'd-NOSUCHONE' }))
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ name: 'DeploymentDoesNotExistException', $metadata: { httpStatusCode: 400 } });
    const badSpec = await client
      .send(
        new CreateDeploymentCommand({
          applicationName: 'web',
          deploymentGroupName: 'prod',
          revision: revision('version: 0.0\n'),
        }),
      )
      .catch((e: unknown) => e);
    expect(badSpec).toMatchObject({ name: 'InvalidRevisionException' });
    expect((badSpec as Error).message).toContain('Resources: required');
  });

  it('refuses to listen beyond loopback unless told to', async () => {
    await expect(startApiServer(env.deps, { host: '0.0.0.0' })).rejects.toThrow(/refusing to listen on 0.0.0.0/);
  });
});

describe('catalog operations through the SDK', () => {
  it('applications, groups, configs: list, get, delete, with CodeDeploy exception names', async () => {
    await client.send(new CreateApplicationCommand({ applicationName: 'catalog' }));
    await client.send(
      new CreateDeploymentConfigCommand({
        deploymentConfigName: 'Careful10',
        computePlatform: 'Lambda',
        trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 } },
      }),
    );
    await client.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'catalog',
        deploymentGroupName: 'a',
        serviceRoleArn: 'arn:aws:iam::111122223333:role/cd',
        deploymentConfigName: 'Careful10',
      }),
    );
    await client.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'catalog',
        deploymentGroupName: 'b',
        serviceRoleArn: 'arn:aws:iam::111122223333:role/cd',
      }),
    );
    expect((await client.send(new ListApplicationsCommand({}))).applications).toEqual(
      expect.arrayContaining(['catalog', 'web']),
    );
    expect(
      (await client.send(new BatchGetApplicationsCommand({ applicationNames: ['catalog'] }))).applicationsInfo?.[0],
    ).toMatchObject({ applicationName: 'catalog', computePlatform: 'Lambda' });
    expect(
      (await client.send(new ListDeploymentGroupsCommand({ applicationName: 'catalog' }))).deploymentGroups,
    ).toEqual(['a', 'b']);
    const configs = (await client.send(new ListDeploymentConfigsCommand({}))).deploymentConfigsList;
    expect(configs).toEqual(
      expect.arrayContaining([
        'CodeDeployDefault.LambdaAllAtOnce',
        'CodeDeployDefault.LambdaLinear10PercentEvery1Minute',
        'Careful10',
      ]),
    );
    await expect(
      client.send(new DeleteDeploymentConfigCommand({ deploymentConfigName: 'Careful10' })),
    ).rejects.toMatchObject({ name: 'DeploymentConfigInUseException' });
    await expect(
      client.send(new DeleteDeploymentConfigCommand({ deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' })),
    ).rejects.toMatchObject({ name: 'InvalidOperationException' });
    await client.send(new DeleteDeploymentGroupCommand({ applicationName: 'catalog', deploymentGroupName: 'a' }));
    await client.send(new DeleteDeploymentConfigCommand({ deploymentConfigName: 'Careful10' }));
    expect(
      (await client.send(new ListDeploymentGroupsCommand({ applicationName: 'catalog' }))).deploymentGroups,
    ).toEqual(['b']);
    await client.send(new DeleteApplicationCommand({ applicationName: 'catalog' }));
    await expect(client.send(new GetApplicationCommand({ applicationName: 'catalog' }))).rejects.toMatchObject({
      name: 'ApplicationDoesNotExistException',
    });
  });

  it('revisions: registered, used by a deployment, listed and fetched with their content; targets of a deployment', async () => {
    const content = appSpec({ functions: [['api', '2', '1']] });
    await client.send(
      new RegisterApplicationRevisionCommand({
        applicationName: 'web',
        revision: revision(content),
        description: 'roll back to v1',
      }),
    );
    const listed = await client.send(
      new ListApplicationRevisionsCommand({ applicationName: 'web', deployed: 'exclude' }),
    );
    expect(listed.revisions).toHaveLength(1);
    const { deploymentId } = await client.send(
      new CreateDeploymentCommand({ applicationName: 'web', deploymentGroupName: 'prod', revision: revision(content) }),
    );
    await waitUntilDeploymentSuccessful({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { deploymentId });
    const got = await client.send(
      new GetApplicationRevisionCommand({ applicationName: 'web', revision: revision(content) }),
    );
    expect(got.revision?.appSpecContent?.content).toBe(content);
    expect(got.revisionInfo).toMatchObject({ description: 'roll back to v1', deploymentGroups: ['prod'] });
    expect(got.revisionInfo?.firstUsedTime).toBeInstanceOf(Date);
    const targets = await client.send(new ListDeploymentTargetsCommand({ deploymentId }));
    expect(targets.targetIds).toEqual(['api:live']);
    const batch = await client.send(new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds: ['api:live'] }));
    expect(batch.deploymentTargets?.[0]).toMatchObject({
      deploymentTargetType: 'LambdaTarget',
      lambdaTarget: {
        status: 'Succeeded',
        lambdaFunctionInfo: {
          functionName: 'api',
          functionAlias: 'live',
          currentVersion: '2',
          targetVersion: '1',
          targetVersionWeight: 100,
        },
      },
    });
  });
});

/** Every page of an unfiltered ListDeployments. */
async function* paginateListDeploymentsAll(): AsyncGenerator<string[]> {
  const { paginateListDeployments } = await import('@aws-sdk/client-codedeploy');
  for await (const page of paginateListDeployments({ client }, {})) yield page.deployments ?? [];
}

describe('pagination and updates', () => {
  it('ListDeployments pages with nextToken (the SDK paginator collects every page)', async () => {
    const { paginateListDeployments } = await import('@aws-sdk/client-codedeploy');
    const group = (await env.deps.catalog.getDeploymentGroup('web', 'prod'))!;
    const ids = Array.from({ length: 130 }, (_, i) => `d-P${String(i).padStart(8, '0')}`);
    await Promise.all(
      ids.map((deploymentId, i) =>
        env.deps.deployments.create({
          deploymentId,
          spec: {
            applicationName: 'web',
            deploymentGroupName: 'pages',
            deploymentGroupId: group.deploymentGroupId,
            deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
            computePlatform: 'Lambda',
            creator: 'user',
            revision: { revisionType: 'AppSpecContent', appSpecContent: { content: 'x', sha256: 'y' } },
            createTime: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
            autoRollbackConfiguration: { enabled: false, events: [] },
            target: { functions: [] },
            lifecycle: [],
            plan: { steps: [], totalBakeSeconds: 0 },
          },
          state: { status: 'Failed', targetWeight: 0, lifecycleEvents: [], version: 1 },
        }),
      ),
    );
    await client.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'web',
        deploymentGroupName: 'pages',
        serviceRoleArn: 'arn:aws:iam::111122223333:role/cd',
      }),
    );
    const pages: string[][] = [];
    for await (const page of paginateListDeployments(
      { client },
      { applicationName: 'web', deploymentGroupName: 'pages' },
    ))
      pages.push(page.deployments ?? []);
    expect(pages.map((p) => p.length)).toEqual([100, 30]);
    expect(pages.flat()).toEqual([...ids].reverse());
    await expect(
      client.send(
        new ListDeploymentsCommand({ applicationName: 'web', deploymentGroupName: 'pages', nextToken: 'garbage!' }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidNextTokenException' });
  });

  it('ListDeployments with no application lists every group’s deployments; bad filters are refused', async () => {
    // The 130 deployments of 'pages' (the test above) and the ones of 'prod', newest first.
    const everyone: string[] = [];
    for await (const page of paginateListDeploymentsAll()) everyone.push(...page);
    const pagesIds = Array.from({ length: 130 }, (_, i) => `d-P${String(i).padStart(8, '0')}`);
    expect(everyone).toEqual(expect.arrayContaining(pagesIds));
    const prod = (
      await client.send(new ListDeploymentsCommand({ applicationName: 'web', deploymentGroupName: 'prod' }))
    ).deployments!;
    expect(prod.length).toBeGreaterThan(0);
    expect(everyone).toEqual(expect.arrayContaining(prod));
    // Within the list, 'pages' (created in 2026-01) come after the newer ones, in their own order.
    expect(everyone.filter((id) => pagesIds.includes(id))).toEqual([...pagesIds].reverse());

    const refused = async (input: Record<string, unknown>) =>
      client.send(new ListDeploymentsCommand(input as never)).then(
        () => undefined,
        (e: Error) => ({ name: e.name, message: e.message }),
      );
    expect(await refused({ applicationName: 'web' })).toMatchObject({ name: 'DeploymentGroupNameRequiredException' });
    expect(await refused({ deploymentGroupName: 'prod' })).toMatchObject({ name: 'ApplicationNameRequiredException' });
    expect(await refused({ includeOnlyStatuses: ['Bogus', 'Succeeded', 'Nope'] })).toEqual({
      name: 'InvalidDeploymentStatusException',
      message: expect.stringMatching(
        /^includeOnlyStatuses\[0\]: "Bogus" is not one of Created, .*; includeOnlyStatuses\[2\]: "Nope" is not one of /,
      ),
    });
    expect(await refused({ createTimeRange: { start: new Date('2026-02-01'), end: new Date('2026-01-01') } })).toEqual({
      name: 'InvalidTimeRangeException',
      message: 'createTimeRange: start is after end',
    });
    const january = await client.send(
      new ListDeploymentsCommand({
        createTimeRange: { start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-01-01T00:00:09Z') },
      }),
    );
    expect(january.deployments).toEqual(pagesIds.slice(0, 10).reverse());
  });

  it('UpdateApplication renames an application without groups; GetDeploymentConfig; ContinueDeployment approves', async () => {
    const { UpdateApplicationCommand, GetDeploymentConfigCommand, ContinueDeploymentCommand } =
      await import('@aws-sdk/client-codedeploy');
    await client.send(new CreateApplicationCommand({ applicationName: 'old-name' }));
    await client.send(new UpdateApplicationCommand({ applicationName: 'old-name', newApplicationName: 'new-name' }));
    expect(
      (await client.send(new GetApplicationCommand({ applicationName: 'new-name' }))).application?.applicationName,
    ).toBe('new-name');
    await expect(client.send(new GetApplicationCommand({ applicationName: 'old-name' }))).rejects.toMatchObject({
      name: 'ApplicationDoesNotExistException',
    });
    const cfg = await client.send(
      new GetDeploymentConfigCommand({ deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent15Minutes' }),
    );
    expect(cfg.deploymentConfigInfo?.trafficRoutingConfig).toEqual({
      type: 'TimeBasedCanary',
      timeBasedCanary: { canaryPercentage: 10, canaryInterval: 15 },
    });
    await expect(client.send(new GetDeploymentConfigCommand({ deploymentConfigName: 'Nope' }))).rejects.toMatchObject({
      name: 'DeploymentConfigDoesNotExistException',
    });

    await client.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'web',
        deploymentGroupName: 'gated',
        serviceRoleArn: 'arn:aws:iam::111122223333:role/cd',
      }),
    );
    const { deploymentId } = await client.send(
      new CreateDeploymentCommand({
        applicationName: 'web',
        deploymentGroupName: 'gated',
        deploymentConfigName: '10% 1m, approve 1h, 100%',
        revision: revision(appSpec({ functions: [['worker', '5', '6']] })),
      }),
    );
    await waitFor(env, deploymentId!, (d) => d.state.currentWait?.kind === 'approval');
    await client.send(new ContinueDeploymentCommand({ deploymentId, deploymentWaitType: 'READY_WAIT' }));
    expect(
      (await waitUntilDeploymentSuccessful({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { deploymentId }))
        .state,
    ).toBe('SUCCESS');
  });

  it('UpdateDeploymentGroup changes settings; fields left out keep their values', async () => {
    const { UpdateDeploymentGroupCommand, GetDeploymentGroupCommand } = await import('@aws-sdk/client-codedeploy');
    await client.send(
      new UpdateDeploymentGroupCommand({
        applicationName: 'web',
        currentDeploymentGroupName: 'prod',
        deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      }),
    );
    const g = await client.send(new GetDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'prod' }));
    expect(g.deploymentGroupInfo?.deploymentConfigName).toBe('CodeDeployDefault.LambdaCanary10Percent5Minutes');
    // Fields not given keep their values (the role set at creation is still there).
    expect(g.deploymentGroupInfo?.serviceRoleArn).toBe('arn:aws:iam::111122223333:role/cd');
  });

  it('a Lambda group as SAM, CloudFormation and Terraform create it: BLUE_GREEN WITH_TRAFFIC_CONTROL', async () => {
    const { CreateDeploymentGroupCommand, UpdateDeploymentGroupCommand, GetDeploymentGroupCommand } =
      await import('@aws-sdk/client-codedeploy');
    const style = { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' } as const;
    await client.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'web',
        deploymentGroupName: 'sam',
        serviceRoleArn: 'arn:aws:iam::111122223333:role/cd',
        deploymentStyle: style,
      }),
    );
    await client.send(
      new UpdateDeploymentGroupCommand({
        applicationName: 'web',
        currentDeploymentGroupName: 'sam',
        deploymentStyle: style,
      }),
    );
    const g = await client.send(new GetDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'sam' }));
    expect(g.deploymentGroupInfo?.deploymentStyle).toEqual(style);
    // Any other style is refused, naming the field, and changes nothing.
    await expect(
      client.send(
        new UpdateDeploymentGroupCommand({
          applicationName: 'web',
          currentDeploymentGroupName: 'sam',
          deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITHOUT_TRAFFIC_CONTROL' },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidDeploymentStyleException',
      message: expect.stringContaining('deploymentStyle'),
    });
    const after = await client.send(
      new GetDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'sam' }),
    );
    expect(after.deploymentGroupInfo?.deploymentStyle).toEqual(style);
  });
});

describe('Server (EC2/on-premises) through the SDK', () => {
  const user = (n: string) => `arn:aws:iam::111122223333:user/CodeDeploy/${n}`;

  it('a Server application, configuration and group, as `aws deploy` creates and reads them', async () => {
    const {
      BatchGetDeploymentGroupsCommand,
      GetDeploymentConfigCommand,
      GetDeploymentGroupCommand,
      UpdateDeploymentGroupCommand,
    } = await import('@aws-sdk/client-codedeploy');
    await client.send(new CreateApplicationCommand({ applicationName: 'hosts', computePlatform: 'Server' }));
    // `aws deploy create-deployment-config --minimum-healthy-hosts type=HOST_COUNT,value=2`: no platform given.
    await client.send(
      new CreateDeploymentConfigCommand({
        deploymentConfigName: 'TwoHealthy',
        minimumHealthyHosts: { type: 'HOST_COUNT', value: 2 },
        zonalConfig: { monitorDurationInSeconds: 600 },
      }),
    );
    const custom = await client.send(new GetDeploymentConfigCommand({ deploymentConfigName: 'TwoHealthy' }));
    expect(custom.deploymentConfigInfo).toMatchObject({
      computePlatform: 'Server',
      minimumHealthyHosts: { type: 'HOST_COUNT', value: 2 },
      zonalConfig: { monitorDurationInSeconds: 600 },
    });
    const oneAtATime = await client.send(
      new GetDeploymentConfigCommand({ deploymentConfigName: 'CodeDeployDefault.OneAtATime' }),
    );
    expect(oneAtATime.deploymentConfigInfo?.minimumHealthyHosts).toEqual({ type: 'MOST_CONCURRENCY', value: 1 });
    await expect(
      client.send(
        new CreateDeploymentConfigCommand({
          deploymentConfigName: 'Impossible',
          computePlatform: 'Server',
          minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 100 },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidMinimumHealthyHostValueException' });

    await client.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'hosts',
        deploymentGroupName: 'web',
        serviceRoleArn: 'arn:aws:iam::111122223333:role/cd',
        deploymentConfigName: 'TwoHealthy',
        ec2TagFilters: [{ Key: 'Role', Value: 'web', Type: 'KEY_AND_VALUE' }],
        onPremisesTagSet: { onPremisesTagSetList: [[{ Key: 'Site', Type: 'KEY_ONLY' }]] },
        autoScalingGroups: ['web-asg'],
        deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
        loadBalancerInfo: { targetGroupInfoList: [{ name: 'web-tg' }] },
        triggerConfigurations: [
          {
            triggerName: 'hosts',
            triggerTargetArn: 'arn:aws:sns:us-east-1:111122223333:hosts',
            triggerEvents: ['InstanceStart', 'InstanceFailure'],
          },
        ],
      }),
    );
    const { deploymentGroupInfo } = await client.send(
      new GetDeploymentGroupCommand({ applicationName: 'hosts', deploymentGroupName: 'web' }),
    );
    expect(deploymentGroupInfo).toMatchObject({
      computePlatform: 'Server',
      ec2TagFilters: [{ Key: 'Role', Value: 'web', Type: 'KEY_AND_VALUE' }],
      onPremisesTagSet: { onPremisesTagSetList: [[{ Key: 'Site', Type: 'KEY_ONLY' }]] },
      autoScalingGroups: [{ name: 'web-asg' }],
      deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      loadBalancerInfo: { targetGroupInfoList: [{ name: 'web-tg' }] },
      outdatedInstancesStrategy: 'UPDATE',
      triggerConfigurations: [{ triggerEvents: ['InstanceStart', 'InstanceFailure'] }],
    });
    await client.send(
      new UpdateDeploymentGroupCommand({
        applicationName: 'hosts',
        currentDeploymentGroupName: 'web',
        deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITHOUT_TRAFFIC_CONTROL' },
        outdatedInstancesStrategy: 'IGNORE',
      }),
    );
    const batch = await client.send(
      new BatchGetDeploymentGroupsCommand({ applicationName: 'hosts', deploymentGroupNames: ['web'] }),
    );
    expect(batch.deploymentGroupsInfo?.[0]).toMatchObject({
      deploymentStyle: { deploymentOption: 'WITHOUT_TRAFFIC_CONTROL' },
      outdatedInstancesStrategy: 'IGNORE',
      ec2TagFilters: [{ Key: 'Role' }],
    });

    const combined = await client
      .send(
        new CreateDeploymentGroupCommand({
          applicationName: 'hosts',
          deploymentGroupName: 'both',
          serviceRoleArn: 'arn:aws:iam::111122223333:role/cd',
          ec2TagFilters: [{ Key: 'Role', Value: 'web', Type: 'KEY_AND_VALUE' }],
          ec2TagSet: { ec2TagSetList: [[{ Key: 'Role', Value: 'web', Type: 'KEY_AND_VALUE' }]] },
        }),
      )
      .catch((e: unknown) => e);
    expect(combined).toMatchObject({ name: 'InvalidEC2TagCombinationException', $metadata: { httpStatusCode: 400 } });
    await expect(
      client.send(
        new CreateDeploymentGroupCommand({
          applicationName: 'hosts',
          deploymentGroupName: 'bg',
          serviceRoleArn: 'arn:aws:iam::111122223333:role/cd',
          deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
          loadBalancerInfo: { targetGroupInfoList: [{ name: 'web-tg' }] },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidDeploymentStyleException' });
    await expect(
      client.send(
        new CreateDeploymentCommand({
          applicationName: 'hosts',
          deploymentGroupName: 'web',
          revision: revision('version: 0.0\nos: linux\n'),
        }),
      ),
      // An AppSpec alone has no files to install: Server deployments take S3 bundles.
    ).rejects.toMatchObject({ name: 'InvalidRevisionException' });
  });

  it('on-premises instances: register, tag, list, get, deregister, with exception classes', async () => {
    const {
      AddTagsToOnPremisesInstancesCommand,
      BatchGetOnPremisesInstancesCommand,
      DeregisterOnPremisesInstanceCommand,
      GetOnPremisesInstanceCommand,
      ListOnPremisesInstancesCommand,
      RegisterOnPremisesInstanceCommand,
      RemoveTagsFromOnPremisesInstancesCommand,
    } = await import('@aws-sdk/client-codedeploy');
    await client.send(
      new RegisterOnPremisesInstanceCommand({ instanceName: 'AssetTag12010298EX', iamUserArn: user('a') }),
    );
    await client.send(
      new RegisterOnPremisesInstanceCommand({
        instanceName: 'AssetTag12010299EX',
        iamSessionArn: 'arn:aws:sts::111122223333:assumed-role/CodeDeployInstanceRole/AssetTag12010299EX',
      }),
    );
    await client.send(
      new AddTagsToOnPremisesInstancesCommand({
        instanceNames: ['AssetTag12010298EX', 'AssetTag12010299EX'],
        tags: [{ Key: 'Name', Value: 'CodeDeployDemo-OnPrem' }],
      }),
    );
    const { instanceInfo } = await client.send(
      new GetOnPremisesInstanceCommand({ instanceName: 'AssetTag12010298EX' }),
    );
    expect(instanceInfo).toMatchObject({
      instanceName: 'AssetTag12010298EX',
      iamUserArn: user('a'),
      instanceArn: expect.stringMatching(/^arn:aws:codedeploy:.*:instance\/AssetTag12010298EX$/),
      tags: [{ Key: 'Name', Value: 'CodeDeployDemo-OnPrem' }],
    });
    expect(instanceInfo?.registerTime).toBeInstanceOf(Date);
    const listed = await client.send(
      new ListOnPremisesInstancesCommand({
        registrationStatus: 'Registered',
        tagFilters: [{ Key: 'Name', Value: 'CodeDeployDemo-OnPrem', Type: 'KEY_AND_VALUE' }],
      }),
    );
    expect(listed.instanceNames).toEqual(['AssetTag12010298EX', 'AssetTag12010299EX']);
    await client.send(
      new RemoveTagsFromOnPremisesInstancesCommand({
        instanceNames: ['AssetTag12010298EX'],
        tags: [{ Key: 'Name', Value: 'CodeDeployDemo-OnPrem' }],
      }),
    );
    await client.send(new DeregisterOnPremisesInstanceCommand({ instanceName: 'AssetTag12010298EX' }));
    const batch = await client.send(
      new BatchGetOnPremisesInstancesCommand({ instanceNames: ['AssetTag12010298EX', 'AssetTag12010299EX'] }),
    );
    expect(batch.instanceInfos?.map((i) => [i.instanceName, i.tags?.length, i.deregisterTime instanceof Date])).toEqual(
      [
        ['AssetTag12010298EX', 0, true],
        ['AssetTag12010299EX', 1, false],
      ],
    );
    expect(
      (await client.send(new ListOnPremisesInstancesCommand({ registrationStatus: 'Deregistered' }))).instanceNames,
    ).toEqual(['AssetTag12010298EX']);

    await expect(
      client.send(
        new RegisterOnPremisesInstanceCommand({
          instanceName: 'both',
          iamUserArn: user('b'),
          iamSessionArn: 'arn:aws:sts::111122223333:assumed-role/R/both',
        }),
      ),
    ).rejects.toMatchObject({ name: 'MultipleIamArnsProvidedException' });
    await expect(client.send(new RegisterOnPremisesInstanceCommand({ instanceName: 'none' }))).rejects.toMatchObject({
      name: 'IamArnRequiredException',
    });
    await expect(
      client.send(
        new RegisterOnPremisesInstanceCommand({
          instanceName: 'AssetTag12010299EX',
          iamUserArn: user('c'),
        }),
      ),
    ).rejects.toMatchObject({ name: 'InstanceNameAlreadyRegisteredException' });
    await expect(
      client.send(
        new AddTagsToOnPremisesInstancesCommand({
          instanceNames: ['AssetTag12010298EX'],
          tags: [{ Key: 'Name', Value: 'x' }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InstanceNotRegisteredException' });
    await expect(client.send(new GetOnPremisesInstanceCommand({ instanceName: 'ghost' }))).rejects.toMatchObject({
      name: 'InstanceNotRegisteredException',
    });
  });
});

const ARN = 'arn:aws:codedeploy:local:000000000000';

describe('tags through the SDK', () => {
  it('tags given on create are listed; TagResource, UntagResource and ListTagsForResource as CodeDeploy answers them', async () => {
    const { TagResourceCommand, UntagResourceCommand, ListTagsForResourceCommand } =
      await import('@aws-sdk/client-codedeploy');
    const list = async (arn: string) => (await client.send(new ListTagsForResourceCommand({ ResourceArn: arn }))).Tags;
    await client.send(
      new CreateApplicationCommand({ applicationName: 'tagged', tags: [{ Key: 'team', Value: 'payments' }] }),
    );
    await client.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'tagged',
        deploymentGroupName: 'prod',
        serviceRoleArn: 'arn:aws:iam::111122223333:role/cd',
        tags: [{ Key: 'env', Value: 'prod' }, { Key: 'owner' }],
      }),
    );
    await client.send(
      new CreateDeploymentConfigCommand({
        deploymentConfigName: 'TaggedHalves',
        computePlatform: 'Lambda',
        trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 50, canaryInterval: 1 } },
      }),
    );
    expect(await list(`${ARN}:application:tagged`)).toEqual([{ Key: 'team', Value: 'payments' }]);
    expect(await list(`${ARN}:deploymentgroup:tagged/prod`)).toEqual([
      { Key: 'env', Value: 'prod' },
      { Key: 'owner', Value: '' },
    ]);
    expect(await list(`${ARN}:deploymentconfig:TaggedHalves`)).toEqual([]);
    expect(await list(`${ARN}:deploymentconfig:CodeDeployDefault.LambdaAllAtOnce`)).toEqual([]);

    await client.send(
      new TagResourceCommand({
        ResourceArn: `${ARN}:deploymentgroup:tagged/prod`,
        Tags: [
          { Key: 'env', Value: 'production' },
          { Key: 'cost', Value: '42' },
        ],
      }),
    );
    await client.send(
      new UntagResourceCommand({ ResourceArn: `${ARN}:deploymentgroup:tagged/prod`, TagKeys: ['owner', 'nope'] }),
    );
    expect(await list(`${ARN}:deploymentgroup:tagged/prod`)).toEqual([
      { Key: 'env', Value: 'production' },
      { Key: 'cost', Value: '42' },
    ]);
    await client.send(
      new TagResourceCommand({ ResourceArn: `${ARN}:deploymentconfig:TaggedHalves`, Tags: [{ Key: 'k', Value: 'v' }] }),
    );
    expect(await list(`${ARN}:deploymentconfig:TaggedHalves`)).toEqual([{ Key: 'k', Value: 'v' }]);

    const refused = async (command: { input: object }) =>
      (await client.send(command as never).catch((e: unknown) => e)) as { name: string; message: string };
    const many = Array.from({ length: 50 }, (_, k) => ({ Key: `k${k}`, Value: 'v' }));
    // 50 tags at most on a resource: it has 2, and 49 more would make 51. Nothing is written.
    expect(
      await refused(
        new TagResourceCommand({ ResourceArn: `${ARN}:deploymentgroup:tagged/prod`, Tags: many.slice(0, 49) }),
      ),
    ).toMatchObject({ name: 'InvalidTagsToAddException', message: expect.stringContaining('at most 50') });
    expect(await list(`${ARN}:deploymentgroup:tagged/prod`)).toHaveLength(2);
    await client.send(
      new TagResourceCommand({ ResourceArn: `${ARN}:deploymentgroup:tagged/prod`, Tags: many.slice(0, 48) }),
    );
    expect(await list(`${ARN}:deploymentgroup:tagged/prod`)).toHaveLength(50);
    expect(
      await refused(
        new CreateApplicationCommand({ applicationName: 'overtagged', tags: [...many, { Key: 'x', Value: 'y' }] }),
      ),
    ).toMatchObject({ name: 'InvalidTagsToAddException' });
    expect(
      await refused(
        new CreateApplicationCommand({ applicationName: 'bad tags', tags: [{ Key: 'aws:owner', Value: 'x' }] }),
      ),
    ).toMatchObject({
      name: 'InvalidApplicationNameException',
      message: expect.stringMatching(/applicationName.*tags\[0\]\.Key: the prefix aws: is reserved/),
    });
    await expect(client.send(new GetApplicationCommand({ applicationName: 'overtagged' }))).rejects.toMatchObject({
      name: 'ApplicationDoesNotExistException',
    });
    for (const [command, name] of [
      [
        new TagResourceCommand({ ResourceArn: `${ARN}:application:nope`, Tags: [{ Key: 'a', Value: 'b' }] }),
        'ApplicationDoesNotExistException',
      ],
      [
        new TagResourceCommand({ ResourceArn: `${ARN}:deploymentgroup:tagged/nope`, Tags: [{ Key: 'a', Value: 'b' }] }),
        'DeploymentGroupDoesNotExistException',
      ],
      [
        new UntagResourceCommand({ ResourceArn: `${ARN}:deploymentconfig:Nope`, TagKeys: ['a'] }),
        'DeploymentConfigDoesNotExistException',
      ],
      [new TagResourceCommand({ ResourceArn: `${ARN}:application:tagged`, Tags: [] }), 'TagRequiredException'],
      [new UntagResourceCommand({ ResourceArn: `${ARN}:application:tagged`, TagKeys: [] }), 'TagRequiredException'],
      [new TagResourceCommand({ ResourceArn: 'not an arn', Tags: [{ Key: 'a', Value: 'b' }] }), 'InvalidArnException'],
      [new ListTagsForResourceCommand({ ResourceArn: `${ARN}:deploymentgroup:no-slash` }), 'InvalidArnException'],
      [
        new ListTagsForResourceCommand({ ResourceArn: 'arn:aws:lambda:local:000000000000:function:f' }),
        'ArnNotSupportedException',
      ],
      [
        new ListTagsForResourceCommand({ ResourceArn: 'arn:aws:codedeploy:us-west-2:111122223333:application:tagged' }),
        'ArnNotSupportedException',
      ],
      [
        new TagResourceCommand({
          ResourceArn: `${ARN}:deploymentconfig:CodeDeployDefault.LambdaAllAtOnce`,
          Tags: [{ Key: 'a', Value: 'b' }],
        }),
        'ArnNotSupportedException',
      ],
      [
        new TagResourceCommand({
          ResourceArn: `${ARN}:application:tagged`,
          Tags: [
            { Key: 'a', Value: 'b' },
            { Key: 'a', Value: 'c' },
          ],
        }),
        'InvalidTagsToAddException',
      ],
      [
        new TagResourceCommand({
          ResourceArn: `${ARN}:application:tagged`,
          Tags: [{ Key: 'k'.repeat(129), Value: 'b' }],
        }),
        'InvalidTagsToAddException',
      ],
      [new TagResourceCommand({ ResourceArn: '', Tags: [{ Key: 'a', Value: 'b' }] }), 'ResourceArnRequiredException'],
    ] as const)
      expect(await refused(command), JSON.stringify(command.input).slice(0, 80)).toMatchObject({ name });
    // A resource that is gone has no tags: a group deleted and created again starts with none.
    await client.send(new DeleteDeploymentGroupCommand({ applicationName: 'tagged', deploymentGroupName: 'prod' }));
    expect(await list(`${ARN}:deploymentgroup:tagged/prod`)).toEqual([]);
    await client.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'tagged',
        deploymentGroupName: 'prod',
        serviceRoleArn: 'arn:aws:iam::111122223333:role/cd',
      }),
    );
    expect(await list(`${ARN}:deploymentgroup:tagged/prod`)).toEqual([]);
    await client.send(new DeleteApplicationCommand({ applicationName: 'tagged' }));
    expect(await list(`${ARN}:application:tagged`)).toEqual([]);
  });
});

describe('renames through the SDK', () => {
  it('a group and its application renamed while a deployment of the group runs: it goes on and its history follows', async () => {
    const {
      UpdateApplicationCommand,
      UpdateDeploymentGroupCommand,
      GetDeploymentGroupCommand,
      ContinueDeploymentCommand,
      ListTagsForResourceCommand,
    } = await import('@aws-sdk/client-codedeploy');
    env.world.addFunction('cart', {
      versions: { '1': {}, '2': {}, '3': {}, '4': {} },
      aliases: { live: '1' },
      requestsPerSecond: 100,
    });
    await client.send(
      new CreateApplicationCommand({ applicationName: 'market', tags: [{ Key: 'team', Value: 'web' }] }),
    );
    for (const name of ['checkout', 'taken'])
      await client.send(
        new CreateDeploymentGroupCommand({
          applicationName: 'market',
          deploymentGroupName: name,
          serviceRoleArn: 'arn:aws:iam::111122223333:role/cd',
          tags: [{ Key: 'group', Value: name }],
        }),
      );
    const { deploymentGroupInfo: before } = await client.send(
      new GetDeploymentGroupCommand({ applicationName: 'market', deploymentGroupName: 'checkout' }),
    );
    const first = await client.send(
      new CreateDeploymentCommand({
        applicationName: 'market',
        deploymentGroupName: 'checkout',
        revision: revision(appSpec({ functions: [['cart', '1', '2']] })),
      }),
    );
    await waitUntilDeploymentSuccessful(
      { client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { deploymentId: first.deploymentId! },
    );
    const { deploymentId } = await client.send(
      new CreateDeploymentCommand({
        applicationName: 'market',
        deploymentGroupName: 'checkout',
        deploymentConfigName: '10% 1m, approve 1h, 100%',
        revision: revision(appSpec({ functions: [['cart', '2', '3']] })),
      }),
    );
    await waitFor(env, deploymentId!, (d) => d.state.currentWait?.kind === 'approval');

    const refused = async (command: { input: object }) =>
      (await client.send(command as never).catch((e: unknown) => e)) as { name: string; message: string };
    // Names checked as CodeDeploy checks them; a refused rename changes nothing.
    for (const [command, name] of [
      [
        new UpdateDeploymentGroupCommand({
          applicationName: 'market',
          currentDeploymentGroupName: 'checkout',
          newDeploymentGroupName: 'taken',
        }),
        'DeploymentGroupAlreadyExistsException',
      ],
      [
        new UpdateDeploymentGroupCommand({
          applicationName: 'market',
          currentDeploymentGroupName: 'checkout',
          newDeploymentGroupName: 'has space',
        }),
        'InvalidDeploymentGroupNameException',
      ],
      [
        new UpdateDeploymentGroupCommand({
          applicationName: 'market',
          currentDeploymentGroupName: 'checkout',
          newDeploymentGroupName: 'g'.repeat(101),
        }),
        'InvalidDeploymentGroupNameException',
      ],
      [
        new UpdateDeploymentGroupCommand({
          applicationName: 'market',
          currentDeploymentGroupName: 'nope',
          newDeploymentGroupName: 'other',
        }),
        'DeploymentGroupDoesNotExistException',
      ],
      [
        new UpdateApplicationCommand({ applicationName: 'market', newApplicationName: 'a'.repeat(101) }),
        'InvalidApplicationNameException',
      ],
      [
        new UpdateApplicationCommand({ applicationName: 'market', newApplicationName: 'my shop' }),
        'InvalidApplicationNameException',
      ],
      [
        new UpdateApplicationCommand({ applicationName: 'market', newApplicationName: 'web' }),
        'ApplicationAlreadyExistsException',
      ],
      [
        new UpdateApplicationCommand({ applicationName: 'nope', newApplicationName: 'other' }),
        'ApplicationDoesNotExistException',
      ],
    ] as const)
      expect(await refused(command), JSON.stringify(command.input).slice(0, 100)).toMatchObject({ name });
    expect((await client.send(new ListApplicationsCommand({}))).applications).toContain('market');
    expect(
      (await client.send(new ListDeploymentGroupsCommand({ applicationName: 'market' }))).deploymentGroups,
    ).toEqual(['checkout', 'taken']);

    // Renamed while the deployment waits for its approval: the group keeps its id, lock, tags and history.
    await client.send(
      new UpdateDeploymentGroupCommand({
        applicationName: 'market',
        currentDeploymentGroupName: 'checkout',
        newDeploymentGroupName: 'payments',
      }),
    );
    await client.send(new UpdateApplicationCommand({ applicationName: 'market', newApplicationName: 'bazaar' }));
    await expect(client.send(new GetApplicationCommand({ applicationName: 'market' }))).rejects.toMatchObject({
      name: 'ApplicationDoesNotExistException',
    });
    const { deploymentGroupInfo: renamed } = await client.send(
      new GetDeploymentGroupCommand({ applicationName: 'bazaar', deploymentGroupName: 'payments' }),
    );
    expect(renamed).toMatchObject({ applicationName: 'bazaar', deploymentGroupId: before!.deploymentGroupId });
    expect(
      (await client.send(new ListTagsForResourceCommand({ ResourceArn: `${ARN}:deploymentgroup:bazaar/payments` })))
        .Tags,
    ).toEqual([{ Key: 'group', Value: 'checkout' }]);
    expect(
      (await client.send(new ListTagsForResourceCommand({ ResourceArn: `${ARN}:application:bazaar` }))).Tags,
    ).toEqual([{ Key: 'team', Value: 'web' }]);
    // The lock moved with the group: a second deployment under the new names is refused, naming the running one.
    expect(
      await refused(
        new CreateDeploymentCommand({
          applicationName: 'bazaar',
          deploymentGroupName: 'payments',
          revision: revision(appSpec({ functions: [['cart', '2', '3']] })),
        }),
      ),
    ).toMatchObject({ name: 'DeploymentLimitExceededException', message: expect.stringContaining(deploymentId!) });

    await client.send(new ContinueDeploymentCommand({ deploymentId, deploymentWaitType: 'READY_WAIT' }));
    await waitUntilDeploymentSuccessful({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { deploymentId });
    expect(env.world.getAlias('cart', 'live').functionVersion).toBe('3');
    // The deployment's record keeps the names it was created under, and the group's id.
    const { deploymentInfo } = await client.send(new GetDeploymentCommand({ deploymentId }));
    expect(deploymentInfo).toMatchObject({
      status: 'Succeeded',
      applicationName: 'market',
      deploymentGroupName: 'checkout',
    });
    // Its outcome is recorded on the group under its new names, and the group is free again.
    const { deploymentGroupInfo: after } = await client.send(
      new GetDeploymentGroupCommand({ applicationName: 'bazaar', deploymentGroupName: 'payments' }),
    );
    expect(after?.lastSuccessfulDeployment?.deploymentId).toBe(deploymentId);
    // Both made under the old names (the contract test checks the order; here they may share a createTime).
    expect(
      (await client.send(new ListDeploymentsCommand({ applicationName: 'bazaar', deploymentGroupName: 'payments' })))
        .deployments,
    ).toEqual(expect.arrayContaining([deploymentId, first.deploymentId]));
    const next = await client.send(
      new CreateDeploymentCommand({
        applicationName: 'bazaar',
        deploymentGroupName: 'payments',
        revision: revision(appSpec({ functions: [['cart', '3', '4']] })),
      }),
    );
    await waitUntilDeploymentSuccessful(
      { client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { deploymentId: next.deploymentId! },
    );
    // The old names are free: a new application and group there have none of the history.
    await client.send(new CreateApplicationCommand({ applicationName: 'market' }));
    await client.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'market',
        deploymentGroupName: 'checkout',
        serviceRoleArn: 'arn:aws:iam::111122223333:role/cd',
      }),
    );
    expect(
      (await client.send(new ListDeploymentsCommand({ applicationName: 'market', deploymentGroupName: 'checkout' })))
        .deployments,
    ).toEqual([]);
    expect(
      (await client.send(new ListDeploymentsCommand({ applicationName: 'bazaar', deploymentGroupName: 'payments' })))
        .deployments,
    ).toHaveLength(3);
  });
});
