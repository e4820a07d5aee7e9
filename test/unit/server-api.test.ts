/**
 * The Server (EC2/on-premises) side of the API: applications, deployment configurations (predefined, custom,
 * waves), deployment groups (tags, tag sets, Auto Scaling groups, deployment style, target groups) with every
 * problem at once and CodeDeploy's exception names, on-premises instances, and CreateDeployment's refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/api/operations.js';
import { testEnv, type TestEnv } from '../support/local.js';

let env: TestEnv;
beforeAll(async () => {
  env = await testEnv();
});
afterAll(async () => env.close());

type Result = { output?: Record<string, unknown>; error?: { __type: string; message: string } };
const call = async (operation: string, input: Record<string, unknown>): Promise<Result> =>
  (await dispatch(operation, input, env.deps, env.viewFor)) as Result;
const ok = async (operation: string, input: Record<string, unknown>) => {
  const r = await call(operation, input);
  if (r.error) throw new Error(`${operation}: ${r.error.__type}: ${r.error.message}`);
  return r.output!;
};
const kv = (Key: string, Value: string) => ({ Key, Value, Type: 'KEY_AND_VALUE' });
const role = 'arn:aws:iam::111122223333:role/CodeDeployServiceRole';

describe('Server applications and deployment configurations', () => {
  it('a Server application is accepted; an unknown platform is refused with InvalidComputePlatformException', async () => {
    await ok('CreateApplication', { applicationName: 'fleet', computePlatform: 'Server' });
    expect((await ok('GetApplication', { applicationName: 'fleet' })).application).toMatchObject({
      computePlatform: 'Server',
    });
    expect(await call('CreateApplication', { applicationName: 'x', computePlatform: 'Mainframe' })).toMatchObject({
      error: { __type: 'InvalidComputePlatformException' },
    });
    expect(await call('CreateApplication', { applicationName: 'bad name!' })).toMatchObject({
      error: { __type: 'InvalidApplicationNameException' },
    });
    expect(await call('CreateApplication', { computePlatform: 'Server' })).toMatchObject({
      error: { __type: 'ApplicationNameRequiredException' },
    });
    expect(await call('CreateDeploymentConfig', { computePlatform: 'Server' })).toMatchObject({
      error: { __type: 'DeploymentConfigNameRequiredException' },
    });
  });

  it("the three predefined Server configurations, exactly as CodeDeploy's GetDeploymentConfig reports them", async () => {
    const get = async (name: string) =>
      (await ok('GetDeploymentConfig', { deploymentConfigName: name })).deploymentConfigInfo;
    expect(await get('CodeDeployDefault.OneAtATime')).toMatchObject({
      deploymentConfigName: 'CodeDeployDefault.OneAtATime',
      computePlatform: 'Server',
      minimumHealthyHosts: { type: 'MOST_CONCURRENCY', value: 1 },
    });
    expect(await get('CodeDeployDefault.HalfAtATime')).toMatchObject({
      minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 50 },
    });
    expect(await get('CodeDeployDefault.AllAtOnce')).toMatchObject({
      minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 0 },
    });
    expect((await get('CodeDeployDefault.AllAtOnce')) as object).not.toHaveProperty('trafficRoutingConfig');
    const list = (await ok('ListDeploymentConfigs', {})).deploymentConfigsList as string[];
    expect(list).toEqual(
      expect.arrayContaining([
        'CodeDeployDefault.OneAtATime',
        'CodeDeployDefault.HalfAtATime',
        'CodeDeployDefault.AllAtOnce',
        'CodeDeployDefault.LambdaAllAtOnce',
      ]),
    );
    expect(
      await call('DeleteDeploymentConfig', { deploymentConfigName: 'CodeDeployDefault.OneAtATime' }),
    ).toMatchObject({ error: { __type: 'InvalidOperationException' } });
  });

  it('custom minimumHealthyHosts, zonalConfig and waves (a list or the step-list text) are stored and returned', async () => {
    await ok('CreateDeploymentConfig', {
      deploymentConfigName: 'TwoAtATime',
      computePlatform: 'Server',
      minimumHealthyHosts: { type: 'HOST_COUNT', value: 2 },
    });
    // No computePlatform: the Server fields say which (CodeDeploy's default platform is Server).
    await ok('CreateDeploymentConfig', {
      deploymentConfigName: 'ZoneByZone',
      minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 75 },
      zonalConfig: {
        firstZoneMonitorDurationInSeconds: 900,
        monitorDurationInSeconds: 300,
        minimumHealthyHostsPerZone: { type: 'HOST_COUNT', value: 1 },
      },
    });
    await ok('CreateDeploymentConfig', {
      deploymentConfigName: 'Waves',
      computePlatform: 'Server',
      minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 90 },
      waves: '1 host 10m, 10% 15m, approve 2h, 50%, 100%',
    });
    const get = async (name: string) =>
      (await ok('GetDeploymentConfig', { deploymentConfigName: name })).deploymentConfigInfo;
    expect(await get('TwoAtATime')).toMatchObject({
      computePlatform: 'Server',
      minimumHealthyHosts: { type: 'HOST_COUNT', value: 2 },
    });
    expect(await get('ZoneByZone')).toMatchObject({
      computePlatform: 'Server',
      zonalConfig: { firstZoneMonitorDurationInSeconds: 900, monitorDurationInSeconds: 300 },
    });
    expect((await get('Waves')) as Record<string, unknown>).toMatchObject({
      waves: [
        { hosts: 1, bakeSeconds: 600 },
        { percentage: 10, bakeSeconds: 900 },
        { approve: true, timeoutSeconds: 7200 },
        { percentage: 50, bakeSeconds: 0 },
        { percentage: 100, bakeSeconds: 0 },
      ],
    });
    expect((await ok('ListDeploymentConfigs', {})).deploymentConfigsList).toEqual(
      expect.arrayContaining(['TwoAtATime', 'Waves', 'ZoneByZone']),
    );
  });

  it("invalid Server configurations: every problem at once, named as CodeDeploy's CreateDeploymentConfig does", async () => {
    const create = (input: Record<string, unknown>) =>
      call('CreateDeploymentConfig', { deploymentConfigName: 'Bad', computePlatform: 'Server', ...input });
    expect(await create({ minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 100 } })).toMatchObject({
      error: { __type: 'InvalidMinimumHealthyHostValueException', message: expect.stringContaining('less than 100') },
    });
    expect(await create({})).toMatchObject({ error: { __type: 'InvalidMinimumHealthyHostValueException' } });
    expect(await create({ minimumHealthyHosts: { type: 'MOST_CONCURRENCY', value: 1 } })).toMatchObject({
      error: { __type: 'InvalidMinimumHealthyHostValueException' },
    });
    expect(
      await create({
        minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 },
        zonalConfig: { monitorDurationInSeconds: -1, minimumHealthyHostsPerZone: { type: 'HOSTS', value: 1 } },
      }),
    ).toMatchObject({
      error: {
        __type: 'InvalidZonalDeploymentConfigurationException',
        message: expect.stringMatching(/monitorDurationInSeconds.*minimumHealthyHostsPerZone\.type/),
      },
    });
    const waves = await create({ minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 }, waves: '50%, 2 hosts, 90%' });
    expect(waves.error?.__type).toBe('InvalidTrafficRoutingConfigurationException');
    expect(waves.error?.message).toContain('waves[1].hosts: must come before the percentage waves');
    expect(waves.error?.message).toContain('waves[2].percentage: the last wave must be 100%');
    // Another platform's fields are refused, whichever way round, with everything else that is wrong.
    const mixed = await create({
      deploymentConfigName: 'CodeDeployDefault.Mine',
      trafficRoutingConfig: { type: 'AllAtOnce' },
      minimumHealthyHosts: { type: 'HOST_COUNT', value: -1 },
    });
    expect(mixed.error?.__type).toBe('InvalidDeploymentConfigNameException');
    expect(mixed.error?.message).toContain('trafficRoutingConfig: applies to Lambda and ECS configurations only');
    expect(mixed.error?.message).toContain('minimumHealthyHosts.value: must be a whole number, 0 or more');
    const lambda = await call('CreateDeploymentConfig', {
      deploymentConfigName: 'Bad',
      computePlatform: 'Lambda',
      trafficRoutingConfig: { type: 'AllAtOnce' },
      zonalConfig: {},
    });
    expect(lambda.error).toMatchObject({
      __type: 'InvalidZonalDeploymentConfigurationException',
      message: expect.stringContaining('zonalConfig: applies to Server configurations only; this one is Lambda'),
    });
    expect(
      await call('CreateDeploymentConfig', {
        deploymentConfigName: 'CodeDeployDefault.OneAtATime',
        computePlatform: 'Server',
        minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 },
      }),
    ).toMatchObject({ error: { __type: 'InvalidDeploymentConfigNameException' } });
    expect((await call('GetDeploymentConfig', { deploymentConfigName: 'Bad' })).error?.__type).toBe(
      'DeploymentConfigDoesNotExistException',
    );
  });
});

describe('Server deployment groups', () => {
  it('tags, tag sets, Auto Scaling groups, target groups and triggers, returned in CodeDeploy’s shapes', async () => {
    await ok('CreateDeploymentGroup', {
      applicationName: 'fleet',
      deploymentGroupName: 'web',
      serviceRoleArn: role,
      ec2TagSet: {
        ec2TagSetList: [[kv('Environment', 'Beta'), kv('Environment', 'Staging')], [{ Key: 'Role', Type: 'KEY_ONLY' }]],
      },
      onPremisesInstanceTagFilters: [{ Key: 'Site', Value: 'paris' }], // Type read from Key and Value
      autoScalingGroups: ['web-asg'],
      deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      loadBalancerInfo: { targetGroupInfoList: [{ name: 'web-tg' }] },
      alarmConfiguration: { enabled: true, alarms: [{ name: 'web-5xx' }] },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
      triggerConfigurations: [
        {
          triggerName: 'hosts',
          triggerTargetArn: 'arn:aws:sns:us-east-1:111122223333:hosts',
          triggerEvents: ['InstanceStart', 'InstanceSuccess', 'InstanceFailure', 'InstanceReady', 'DeploymentFailure'],
        },
      ],
    });
    const info = (await ok('GetDeploymentGroup', { applicationName: 'fleet', deploymentGroupName: 'web' }))
      .deploymentGroupInfo;
    expect(info).toMatchObject({
      computePlatform: 'Server',
      serviceRoleArn: role,
      deploymentConfigName: 'CodeDeployDefault.OneAtATime',
      ec2TagFilters: [],
      ec2TagSet: {
        ec2TagSetList: [[kv('Environment', 'Beta'), kv('Environment', 'Staging')], [{ Key: 'Role', Type: 'KEY_ONLY' }]],
      },
      onPremisesInstanceTagFilters: [kv('Site', 'paris')],
      autoScalingGroups: [{ name: 'web-asg' }],
      deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      loadBalancerInfo: { targetGroupInfoList: [{ name: 'web-tg' }] },
      outdatedInstancesStrategy: 'UPDATE',
      terminationHookEnabled: false,
      alarmConfiguration: { enabled: true, alarms: [{ name: 'web-5xx' }] },
      triggerConfigurations: [{ triggerName: 'hosts' }],
    });
    // Defaults: in place without a load balancer; the configuration is OneAtATime.
    await ok('CreateDeploymentGroup', {
      applicationName: 'fleet',
      deploymentGroupName: 'batch',
      ec2TagFilters: [kv('Role', 'batch')],
    });
    const batch = (await ok('BatchGetDeploymentGroups', {
      applicationName: 'fleet',
      deploymentGroupNames: ['batch', 'web', 'nope'],
    })) as { deploymentGroupsInfo: Record<string, unknown>[]; errorMessage: string };
    expect(batch.deploymentGroupsInfo.map((g) => g.deploymentGroupName)).toEqual(['batch', 'web']);
    expect(batch.deploymentGroupsInfo[0]).toMatchObject({
      deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITHOUT_TRAFFIC_CONTROL' },
      ec2TagFilters: [kv('Role', 'batch')],
    });
    expect(batch.errorMessage).toContain('nope');
    expect((await ok('ListDeploymentGroups', { applicationName: 'fleet' })).deploymentGroups).toEqual(['batch', 'web']);
  });

  it('UpdateDeploymentGroup keeps what it is not given; a tag set given replaces the tag filters', async () => {
    await ok('UpdateDeploymentGroup', {
      applicationName: 'fleet',
      currentDeploymentGroupName: 'batch',
      ec2TagSet: { ec2TagSetList: [[kv('Role', 'batch')], [kv('Zone', 'a')]] },
      deploymentConfigName: 'TwoAtATime',
    });
    const g = (await ok('GetDeploymentGroup', { applicationName: 'fleet', deploymentGroupName: 'batch' }))
      .deploymentGroupInfo as Record<string, unknown>;
    expect(g).toMatchObject({ deploymentConfigName: 'TwoAtATime', ec2TagFilters: [] });
    expect(g.ec2TagSet).toEqual({ ec2TagSetList: [[kv('Role', 'batch')], [kv('Zone', 'a')]] });
    // An empty list clears it (as in CodeDeploy).
    await ok('UpdateDeploymentGroup', {
      applicationName: 'fleet',
      currentDeploymentGroupName: 'batch',
      ec2TagSet: { ec2TagSetList: [] },
      autoScalingGroups: ['batch-asg'],
    });
    const cleared = (await ok('GetDeploymentGroup', { applicationName: 'fleet', deploymentGroupName: 'batch' }))
      .deploymentGroupInfo as Record<string, unknown>;
    expect(cleared.ec2TagSet).toBeUndefined();
    expect(cleared).toMatchObject({ autoScalingGroups: [{ name: 'batch-asg' }], deploymentConfigName: 'TwoAtATime' });
  });

  it('every problem at once, each with its path, under the exception CodeDeploy names for the first', async () => {
    const create = (input: Record<string, unknown>) =>
      call('CreateDeploymentGroup', { applicationName: 'fleet', deploymentGroupName: 'bad', ...input });
    const both = await create({
      ec2TagFilters: [kv('Role', 'web')],
      ec2TagSet: { ec2TagSetList: [[kv('Role', 'web')]] },
      onPremisesInstanceTagFilters: [{ Type: 'KEY_ONLY' }],
      autoScalingGroups: ['a', 'a'],
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      loadBalancerInfo: { elbInfoList: [{ name: 'classic' }] },
      blueGreenDeploymentConfiguration: { terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE' } },
      serviceRoleArn: 'CodeDeployServiceRole',
      terminationHookEnabled: true,
    });
    expect(both.error?.__type).toBe('InvalidEC2TagCombinationException');
    for (const part of [
      'ec2TagSet: cannot be given with ec2TagFilters',
      'onPremisesInstanceTagFilters.0.Key: required for KEY_ONLY',
      'autoScalingGroups.1: a is listed twice',
      'deploymentStyle.deploymentType: Server groups deploy IN_PLACE',
      'loadBalancerInfo.elbInfoList: Classic Load Balancers are not supported',
      'blueGreenDeploymentConfiguration: Server groups deploy IN_PLACE',
      'serviceRoleArn: must be an IAM role ARN',
      'terminationHookEnabled: termination deployments',
    ])
      expect(both.error?.message).toContain(part);
    const exception = async (input: Record<string, unknown>) => (await create(input)).error?.__type;
    expect(
      await exception({
        onPremisesInstanceTagFilters: [kv('a', 'b')],
        onPremisesTagSet: { onPremisesTagSetList: [[kv('a', 'b')]] },
      }),
    ).toBe('InvalidOnPremisesTagCombinationException');
    expect(await exception({ ec2TagFilters: [{ Key: 'Name', Value: 'x', Type: 'KEY_ONLY' }] })).toBe(
      'InvalidEC2TagException',
    );
    expect(await exception({ onPremisesInstanceTagFilters: [{ Key: 'k'.repeat(129) }] })).toBe('InvalidTagException');
    const four = [[kv('a', '1')], [kv('b', '2')], [kv('c', '3')], [kv('d', '4')]];
    expect(await exception({ ec2TagSet: { ec2TagSetList: four } })).toBe('TagSetListLimitExceededException');
    expect(await exception({ autoScalingGroups: Array.from({ length: 11 }, (_, i) => `asg-${i}`) })).toBe(
      'InvalidAutoScalingGroupException',
    );
    expect(
      await exception({ deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' } }),
    ).toBe('InvalidDeploymentStyleException');
    expect(
      await exception({ deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITH_TRAFFIC_CONTROL' } }),
    ).toBe('InvalidLoadBalancerInfoException');
    const pair = {
      targetGroups: [{ name: 'a' }, { name: 'b' }],
      prodTrafficRoute: {
        listenerArns: [
          'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/lb/0123456789abcdef/0123456789abcdef',
        ],
      },
    };
    expect(await exception({ loadBalancerInfo: { targetGroupPairInfoList: [pair] } })).toBe(
      'InvalidTargetGroupPairException',
    );
    expect(await exception({ serviceRoleArn: 'nope' })).toBe('InvalidRoleException');
    expect(await exception({ ecsServices: [{ serviceName: 's', clusterName: 'c' }] })).toBe(
      'InvalidECSServiceException',
    );
    expect(await exception({ deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' })).toBe(
      'InvalidDeploymentConfigNameException',
    );
    expect(await exception({ hookConfiguration: { BeforeAllowTraffic: { timeoutSeconds: 60 } } })).toBeUndefined();
    await ok('DeleteDeploymentGroup', { applicationName: 'fleet', deploymentGroupName: 'bad' });
    expect(await exception({ hookConfiguration: { AllowTestTraffic: { timeoutSeconds: 60 } } })).toBe(
      'InvalidInputException',
    );
    expect(await call('GetDeploymentGroup', { applicationName: 'fleet', deploymentGroupName: 'bad' })).toMatchObject({
      error: { __type: 'DeploymentGroupDoesNotExistException' },
    });
  });

  it("Lambda and ECS groups refuse Server's fields; Server refuses ECS's; messages say whose they are", async () => {
    const lambda = await call('CreateDeploymentGroup', {
      applicationName: 'shop',
      deploymentGroupName: 'tagged',
      ec2TagFilters: [kv('Role', 'web')],
      autoScalingGroups: ['asg'],
      loadBalancerInfo: { targetGroupInfoList: [{ name: 'tg' }] },
    });
    // The first problem in CreateDeploymentGroup's field order names the exception.
    expect(lambda.error?.__type).toBe('InvalidLoadBalancerInfoException');
    expect(lambda.error?.message).toContain('ec2TagFilters: applies to Server applications only; shop is Lambda');
    expect(lambda.error?.message).toContain('autoScalingGroups: applies to Server applications only');
    expect(lambda.error?.message).toContain('loadBalancerInfo: applies to ECS and Server applications only');
    await ok('CreateApplication', { applicationName: 'containers', computePlatform: 'ECS' });
    const ecs = await call('CreateDeploymentGroup', {
      applicationName: 'containers',
      deploymentGroupName: 'web',
      ecsServices: [{ serviceName: 'web', clusterName: 'main' }],
      loadBalancerInfo: { targetGroupInfoList: [{ name: 'tg' }] },
      onPremisesTagSet: { onPremisesTagSetList: [[kv('a', 'b')]] },
    });
    expect(ecs.error?.message).toContain('onPremisesTagSet: applies to Server applications only; containers is ECS');
    const ecsLb = await call('CreateDeploymentGroup', {
      applicationName: 'containers',
      deploymentGroupName: 'web',
      ecsServices: [{ serviceName: 'web', clusterName: 'main' }],
      loadBalancerInfo: { targetGroupInfoList: [{ name: 'tg' }] },
    });
    expect(ecsLb.error?.message).toContain('loadBalancerInfo.targetGroupInfoList: is for Server groups');
  });

  it('CreateDeployment to a Server group without an S3 bundle is refused, saying why, and leaves nothing behind', async () => {
    const r = await call('CreateDeployment', {
      applicationName: 'fleet',
      deploymentGroupName: 'web',
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: 'version: 0.0\nos: linux\n' } },
    });
    expect(r.error).toMatchObject({
      __type: 'InvalidRevisionException',
      message: expect.stringContaining('revision.revisionType: Server deployments take S3 revisions'),
    });
    expect(await env.deps.deployments.list('fleet', 'web')).toEqual([]);
    expect((await env.deps.catalog.getDeploymentGroup('fleet', 'web'))?.activeDeploymentId).toBeUndefined();
  });
});

describe('on-premises instances', () => {
  const user = (n: string) => `arn:aws:iam::111122223333:user/CodeDeploy/${n}`;
  const session = (n: string) => `arn:aws:sts::111122223333:assumed-role/CodeDeployInstanceRole/${n}`;

  it('register (IAM user or session), get, batch get, list by status and tags, tag, deregister', async () => {
    await ok('RegisterOnPremisesInstance', { instanceName: 'rack-1', iamUserArn: user('rack-1') });
    await ok('RegisterOnPremisesInstance', { instanceName: 'rack-2', iamSessionArn: session('rack-2') });
    await ok('RegisterOnPremisesInstance', { instanceName: 'rack-3', iamUserArn: user('rack-3') });
    expect((await ok('GetOnPremisesInstance', { instanceName: 'rack-1' })).instanceInfo).toEqual({
      instanceName: 'rack-1',
      iamUserArn: user('rack-1'),
      instanceArn: 'arn:aws:codedeploy:local:000000000000:instance/rack-1',
      registerTime: Date.parse('2026-06-01T12:00:00Z') / 1000,
      tags: [],
    });
    await ok('AddTagsToOnPremisesInstances', {
      instanceNames: ['rack-1', 'rack-2'],
      tags: [
        { Key: 'Role', Value: 'web' },
        { Key: 'Site', Value: 'paris' },
      ],
    });
    await ok('AddTagsToOnPremisesInstances', { instanceNames: ['rack-2'], tags: [{ Key: 'Site', Value: 'lyon' }] });
    await ok('RemoveTagsFromOnPremisesInstances', { instanceNames: ['rack-1'], tags: [{ Key: 'Role', Value: 'web' }] });
    const infos = (await ok('BatchGetOnPremisesInstances', { instanceNames: ['rack-1', 'rack-2', 'nope'] }))
      .instanceInfos as { instanceName: string; tags: unknown[] }[];
    expect(infos.map((i) => [i.instanceName, i.tags])).toEqual([
      ['rack-1', [{ Key: 'Site', Value: 'paris' }]],
      [
        'rack-2',
        [
          { Key: 'Role', Value: 'web' },
          { Key: 'Site', Value: 'lyon' },
        ],
      ],
    ]);
    const list = async (input: Record<string, unknown>) => (await ok('ListOnPremisesInstances', input)).instanceNames;
    expect(await list({})).toEqual(['rack-1', 'rack-2', 'rack-3']);
    expect(
      await list({ tagFilters: [kv('Site', 'lyon'), { Key: 'Site', Value: 'paris', Type: 'KEY_AND_VALUE' }] }),
    ).toEqual(['rack-1', 'rack-2']);
    expect(await list({ tagFilters: [{ Value: 'web', Type: 'VALUE_ONLY' }] })).toEqual(['rack-2']);
    await ok('DeregisterOnPremisesInstance', { instanceName: 'rack-3' });
    await ok('DeregisterOnPremisesInstance', { instanceName: 'rack-3' }); // idempotent
    expect(await list({ registrationStatus: 'Registered' })).toEqual(['rack-1', 'rack-2']);
    expect(await list({ registrationStatus: 'Deregistered' })).toEqual(['rack-3']);
    expect((await ok('GetOnPremisesInstance', { instanceName: 'rack-3' })).instanceInfo).toMatchObject({
      deregisterTime: expect.any(Number),
    });
    // The engine knows a host by the IAM identity it signs with, while it is registered.
    expect((await env.deps.instances.byIamArn(session('rack-2')))?.instanceName).toBe('rack-2');
    expect(await env.deps.instances.byIamArn(user('rack-3'))).toBeUndefined();
  });

  it("CodeDeploy's exceptions for registrations", async () => {
    const register = async (input: Record<string, unknown>) =>
      (await call('RegisterOnPremisesInstance', input)).error?.__type;
    expect(await register({ iamUserArn: user('x') })).toBe('InstanceNameRequiredException');
    expect(await register({ instanceName: 'has space', iamUserArn: user('x') })).toBe('InvalidInstanceNameException');
    expect(await register({ instanceName: 'x' })).toBe('IamArnRequiredException');
    expect(await register({ instanceName: 'x', iamUserArn: user('x'), iamSessionArn: session('x') })).toBe(
      'MultipleIamArnsProvidedException',
    );
    expect(await register({ instanceName: 'x', iamUserArn: 'arn:aws:iam::111122223333:role/x' })).toBe(
      'InvalidIamUserArnException',
    );
    expect(await register({ instanceName: 'x', iamSessionArn: user('x') })).toBe('InvalidIamSessionArnException');
    expect(await register({ instanceName: 'rack-1', iamUserArn: user('other') })).toBe(
      'InstanceNameAlreadyRegisteredException',
    );
    expect(await register({ instanceName: 'x', iamUserArn: user('rack-1') })).toBe(
      'IamUserArnAlreadyRegisteredException',
    );
    expect(await register({ instanceName: 'x', iamSessionArn: session('rack-2') })).toBe(
      'IamSessionArnAlreadyRegisteredException',
    );
    // A deregistered instance's ARN is free again.
    await ok('RegisterOnPremisesInstance', { instanceName: 'rack-4', iamUserArn: user('rack-3') });
    expect((await call('GetOnPremisesInstance', { instanceName: 'x' })).error?.__type).toBe(
      'InstanceNotRegisteredException',
    );
  });

  it("CodeDeploy's exceptions for tags and lists; a refused tag call changes nothing", async () => {
    const add = async (input: Record<string, unknown>) =>
      (await call('AddTagsToOnPremisesInstances', input)).error?.__type;
    expect(await add({ instanceNames: ['rack-1'] })).toBe('TagRequiredException');
    expect(await add({ tags: [{ Key: 'a', Value: 'b' }] })).toBe('InstanceNameRequiredException');
    expect(await add({ instanceNames: ['rack-1'], tags: [{ Value: 'b' }] })).toBe('InvalidTagException');
    expect(await add({ instanceNames: ['rack-1'], tags: [{ Key: 'a' }] })).toBe('InvalidTagException');
    const many = Array.from({ length: 26 }, (_, i) => `n${i}`);
    expect(await add({ instanceNames: many, tags: [{ Key: 'a', Value: 'b' }] })).toBe('InstanceLimitExceededException');
    const nine = Array.from({ length: 9 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    expect(await add({ instanceNames: ['rack-1', 'rack-2'], tags: nine })).toBe('TagLimitExceededException');
    expect(await add({ instanceNames: ['rack-1', 'rack-3'], tags: [{ Key: 'New', Value: 'v' }] })).toBe(
      'InstanceNotRegisteredException',
    );
    expect((await env.deps.instances.get('rack-1'))?.tags).toEqual([{ Key: 'Site', Value: 'paris' }]);
    expect((await call('ListOnPremisesInstances', { registrationStatus: 'Gone' })).error?.__type).toBe(
      'InvalidRegistrationStatusException',
    );
    expect((await call('ListOnPremisesInstances', { tagFilters: [{ Type: 'KEY_ONLY' }] })).error?.__type).toBe(
      'InvalidTagFilterException',
    );
    expect((await call('ListOnPremisesInstances', { nextToken: 'garbage!' })).error?.__type).toBe(
      'InvalidNextTokenException',
    );
    expect(
      (await call('BatchGetOnPremisesInstances', { instanceNames: Array.from({ length: 26 }, (_, i) => `n${i}`) }))
        .error?.__type,
    ).toBe('BatchLimitExceededException');
  });

  it('ListOnPremisesInstances pages with nextToken', async () => {
    for (let i = 0; i < 105; i++)
      await ok('RegisterOnPremisesInstance', {
        instanceName: `bulk-${String(i).padStart(3, '0')}`,
        iamUserArn: user(`bulk-${i}`),
      });
    const first = (await ok('ListOnPremisesInstances', { registrationStatus: 'Registered' })) as {
      instanceNames: string[];
      nextToken: string;
    };
    expect(first.instanceNames).toHaveLength(100);
    const second = (await ok('ListOnPremisesInstances', {
      registrationStatus: 'Registered',
      nextToken: first.nextToken,
    })) as { instanceNames: string[]; nextToken?: string };
    expect(second.nextToken).toBeUndefined();
    expect([...first.instanceNames, ...second.instanceNames].filter((n) => n.startsWith('bulk-'))).toHaveLength(105);
  });
});
