/**
 * EcsTaskSetServices and ElbListenerRouter against mocked ECS and ELBv2 APIs. Small fakes apply
 * the writes the way the services do (CreateTaskSet's client token, ModifyListener replacing the
 * default actions, DescribeTargetGroups refusing a list with a missing name), so the tests check
 * the resulting state, not the calls.
 */
import {
  AccessDeniedException,
  ClientException,
  ClusterNotFoundException,
  CreateTaskSetCommand,
  DeleteTaskSetCommand,
  DescribeServicesCommand,
  DescribeTaskSetsCommand,
  ECSClient,
  ECSServiceException,
  ServiceNotFoundException,
  TaskSetNotFoundException,
  UpdateServicePrimaryTaskSetCommand,
} from '@aws-sdk/client-ecs';
import type { CreateTaskSetCommandInput, Service, TaskSet } from '@aws-sdk/client-ecs';
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
  ListenerNotFoundException,
  ModifyListenerCommand,
  ModifyRuleCommand,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Action, Listener, Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EcsTaskSetServices } from '../../src/adapters/aws/ecs-services.js';
import { clientConfig } from '../../src/adapters/aws/errors.js';
import { ElbListenerRouter } from '../../src/adapters/aws/load-balancers.js';
import { forwardWeightsFor } from '../../src/platforms/ecs/domain.js';
import {
  DependencyRejectedError,
  DependencyUnavailableError,
  PreconditionFailedError,
} from '../../src/domain/errors.js';
import type { TaskSetSpec } from '../../src/platforms/ecs/ports.js';

const ecsMock = mockClient(ECSClient);
const elbMock = mockClient(ElasticLoadBalancingV2Client);
const ecsClient = new ECSClient(clientConfig({ region: 'us-east-1', maxAttempts: 1 }));
const elbClient = new ElasticLoadBalancingV2Client(clientConfig({ region: 'us-east-1', maxAttempts: 1 }));

beforeEach(() => {
  ecsMock.reset();
  elbMock.reset();
});

const ACCOUNT = '123456789012';
const CLUSTER_ARN = `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/demo`;
const TG = (name: string) => `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/${name}/0123456789abcdef`;
const BLUE = TG('web-blue');
const GREEN = TG('web-green');
const OTHER = TG('admin');
const LISTENER = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener/app/web-alb/50dc6c495c0c9188/f2f7dc8efc522ab2`;
const RULE = (n: number) =>
  `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener-rule/app/web-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/${String(n).padStart(16, '0')}`;

const ecsThrottled = () =>
  new ECSServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: 'Rate exceeded',
  });
const ecsDenied = (action: string) =>
  new AccessDeniedException({
    $metadata: { httpStatusCode: 400 },
    message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/cutover/x is not authorized to perform: ${action}`,
  });

/** ECS's services and task sets, as the task set APIs see them. */
class FakeEcs {
  readonly services = new Map<string, Service>();
  readonly taskSets = new Map<string, TaskSet[]>();
  readonly tokens = new Map<string, TaskSet>();
  private n = 0;

  constructor() {
    const service = (cluster?: string, name?: string) => {
      if (cluster !== 'demo')
        throw new ClusterNotFoundException({ $metadata: { httpStatusCode: 400 }, message: 'Cluster not found.' });
      const s = this.services.get(name ?? '');
      if (!s) throw new ServiceNotFoundException({ $metadata: { httpStatusCode: 400 }, message: 'Service not found.' });
      return s;
    };
    const taskSet = (name: string, id?: string) => {
      const t = this.taskSets.get(name)?.find((x) => x.id === id || x.taskSetArn === id);
      if (!t)
        throw new TaskSetNotFoundException({
          $metadata: { httpStatusCode: 400 },
          message: 'The specified task set does not exist.',
        });
      return t;
    };
    ecsMock.on(DescribeServicesCommand).callsFake(async (input: { cluster?: string; services?: string[] }) => {
      if (input.cluster !== 'demo')
        throw new ClusterNotFoundException({ $metadata: { httpStatusCode: 400 }, message: 'Cluster not found.' });
      const found = (input.services ?? []).map((n) => this.services.get(n));
      return {
        services: found.filter((s) => s !== undefined).map((s) => structuredClone(s)),
        failures: (input.services ?? [])
          .filter((_, i) => !found[i])
          .map((n) => ({ arn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/demo/${n}`, reason: 'MISSING' })),
      };
    });
    ecsMock.on(DescribeTaskSetsCommand).callsFake(async (input: { cluster?: string; service?: string }) => {
      const s = service(input.cluster, input.service);
      if (s.deploymentController?.type === 'ECS')
        throw new ClientException({
          $metadata: { httpStatusCode: 400 },
          message:
            'Amazon ECS does not support task set management on services configured to use ECS deployment controller.',
        });
      return { taskSets: structuredClone(this.taskSets.get(s.serviceName!) ?? []) };
    });
    ecsMock.on(CreateTaskSetCommand).callsFake(async (input: CreateTaskSetCommandInput) => {
      const s = service(input.cluster, input.service);
      const again = input.clientToken ? this.tokens.get(input.clientToken) : undefined;
      if (again) return { taskSet: structuredClone(again) };
      if (!input.taskDefinition?.includes('web:'))
        throw new ClientException({ $metadata: { httpStatusCode: 400 }, message: 'TaskDefinition not found.' });
      if (input.launchType && input.capacityProviderStrategy)
        throw new ClientException({
          $metadata: { httpStatusCode: 400 },
          message: 'Specifying both a launch type and capacity provider strategy is not supported.',
        });
      const id = `ecs-svc/${String(++this.n).padStart(19, '9')}`;
      const t: TaskSet = {
        id,
        taskSetArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-set/demo/${s.serviceName}/${id}`,
        clusterArn: CLUSTER_ARN,
        serviceArn: s.serviceArn,
        status: 'ACTIVE',
        stabilityStatus: 'STABILIZING',
        taskDefinition: input.taskDefinition,
        externalId: input.externalId,
        loadBalancers: input.loadBalancers,
        scale: input.scale,
        computedDesiredCount: Math.ceil(((s.desiredCount ?? 0) * (input.scale?.value ?? 0)) / 100),
        runningCount: 0,
        pendingCount: 0,
        launchType: input.launchType,
        capacityProviderStrategy: input.capacityProviderStrategy,
        platformVersion: input.platformVersion,
        networkConfiguration: input.networkConfiguration,
      };
      this.taskSets.set(s.serviceName!, [...(this.taskSets.get(s.serviceName!) ?? []), t]);
      if (input.clientToken) this.tokens.set(input.clientToken, t);
      return { taskSet: structuredClone(t) };
    });
    ecsMock
      .on(UpdateServicePrimaryTaskSetCommand)
      .callsFake(async (input: { cluster?: string; service?: string; primaryTaskSet?: string }) => {
        const s = service(input.cluster, input.service);
        const t = taskSet(s.serviceName!, input.primaryTaskSet);
        for (const other of this.taskSets.get(s.serviceName!) ?? [])
          if (other.status === 'PRIMARY') other.status = 'ACTIVE';
        t.status = 'PRIMARY';
        return { taskSet: structuredClone(t) };
      });
    ecsMock
      .on(DeleteTaskSetCommand)
      .callsFake(async (input: { cluster?: string; service?: string; taskSet?: string; force?: boolean }) => {
        const s = service(input.cluster, input.service);
        const t = taskSet(s.serviceName!, input.taskSet);
        if (!input.force && (t.runningCount ?? 0) > 0)
          throw new ClientException({
            $metadata: { httpStatusCode: 400 },
            message: 'The task set has running tasks; scale it to zero first or use force.',
          });
        this.taskSets.set(
          s.serviceName!,
          (this.taskSets.get(s.serviceName!) ?? []).filter((x) => x !== t),
        );
        return { taskSet: structuredClone({ ...t, status: 'DRAINING' }) };
      });
  }

  addService(name: string, controller: 'ECS' | 'EXTERNAL', taskSets: TaskSet[] = []): void {
    this.services.set(name, {
      serviceName: name,
      serviceArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/demo/${name}`,
      clusterArn: CLUSTER_ARN,
      status: 'ACTIVE',
      desiredCount: 4,
      deploymentController: { type: controller },
      // DescribeServices lists them too for EXTERNAL services; the adapter reads DescribeTaskSets.
      taskSets: structuredClone(taskSets),
    });
    this.taskSets.set(name, taskSets);
  }
}

const BLUE_SET: TaskSet = {
  id: 'ecs-svc/1111111111111111111',
  taskSetArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-set/demo/web/ecs-svc/1111111111111111111`,
  status: 'PRIMARY',
  stabilityStatus: 'STEADY_STATE',
  taskDefinition: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/web:1`,
  loadBalancers: [{ targetGroupArn: BLUE, containerName: 'web', containerPort: 8080 }],
  scale: { unit: 'PERCENT', value: 100 },
  computedDesiredCount: 4,
  runningCount: 4,
  pendingCount: 0,
};

const SPEC: TaskSetSpec = {
  taskDefinition: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/web:2`,
  externalId: 'd-ABCDEF123',
  targetGroupArn: GREEN,
  containerName: 'web',
  containerPort: 8080,
  platformVersion: 'LATEST',
  networkConfiguration: {
    awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' },
  },
  capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }],
  launchType: 'FARGATE',
  scalePercent: 100,
};

describe('EcsTaskSetServices', () => {
  const ecs = new EcsTaskSetServices(ecsClient);

  it('describes an EXTERNAL service with its task sets', async () => {
    const fake = new FakeEcs();
    fake.addService('web', 'EXTERNAL', [structuredClone(BLUE_SET)]);
    expect(await ecs.describeService('demo', 'web')).toEqual({
      clusterName: 'demo',
      serviceName: 'web',
      serviceArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/demo/web`,
      status: 'ACTIVE',
      deploymentController: 'EXTERNAL',
      desiredCount: 4,
      taskSets: [
        {
          id: BLUE_SET.id,
          taskSetArn: BLUE_SET.taskSetArn,
          status: 'PRIMARY',
          stabilityStatus: 'STEADY_STATE',
          taskDefinition: BLUE_SET.taskDefinition,
          targetGroupArns: [BLUE],
          scalePercent: 100,
          runningCount: 4,
          pendingCount: 0,
          computedDesiredCount: 4,
        },
      ],
    });
  });

  it('describes a service with the ECS controller without asking for task sets', async () => {
    const fake = new FakeEcs();
    fake.addService('legacy', 'ECS');
    expect(await ecs.describeService('demo', 'legacy')).toMatchObject({ deploymentController: 'ECS', taskSets: [] });
    expect(ecsMock.commandCalls(DescribeTaskSetsCommand)).toHaveLength(0);
  });

  it('a missing service (failures MISSING) or cluster is a PreconditionFailedError naming it', async () => {
    new FakeEcs();
    await expect(ecs.describeService('demo', 'web')).rejects.toMatchObject({
      name: 'PreconditionFailedError',
      code: 'INVALID_ECS_SERVICE',
      message: `ECS service web in cluster demo does not exist: MISSING (arn:aws:ecs:us-east-1:${ACCOUNT}:service/demo/web)`,
    });
    const err = await ecs.describeService('prod', 'web').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PreconditionFailedError);
    expect((err as Error).message).toBe(
      'ECS service web in cluster prod does not exist: ClusterNotFoundException: Cluster not found.',
    );
    await expect(ecs.createTaskSet('demo', 'api', SPEC)).rejects.toBeInstanceOf(PreconditionFailedError);
    await expect(ecs.updateServicePrimaryTaskSet('demo', 'api', 'ecs-svc/1')).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
  });

  it('creates the green task set with every field, once per deployment (client token)', async () => {
    const fake = new FakeEcs();
    fake.addService('web', 'EXTERNAL', [structuredClone(BLUE_SET)]);
    const created = await ecs.createTaskSet('demo', 'web', SPEC);
    expect(created).toMatchObject({
      status: 'ACTIVE',
      stabilityStatus: 'STABILIZING',
      externalId: 'd-ABCDEF123',
      targetGroupArns: [GREEN],
      scalePercent: 100,
      computedDesiredCount: 4,
    });
    expect(ecsMock.commandCalls(CreateTaskSetCommand)[0]!.args[0].input).toEqual({
      cluster: 'demo',
      service: 'web',
      taskDefinition: SPEC.taskDefinition,
      externalId: 'd-ABCDEF123',
      clientToken: 'd-ABCDEF123',
      loadBalancers: [{ targetGroupArn: GREEN, containerName: 'web', containerPort: 8080 }],
      scale: { unit: 'PERCENT', value: 100 },
      platformVersion: 'LATEST',
      networkConfiguration: SPEC.networkConfiguration,
      // ECS refuses both: a capacity provider strategy wins over the launch type.
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }],
    });
    // A retry (the task timed out after ECS created it) gets the same task set back.
    expect((await ecs.createTaskSet('demo', 'web', SPEC)).id).toBe(created.id);
    expect((await ecs.describeService('demo', 'web')).taskSets.map((t) => t.id)).toEqual([BLUE_SET.id, created.id]);
    // How it runs is read back too (a later replacement inherits it when its AppSpec says nothing).
    expect((await ecs.describeService('demo', 'web')).taskSets[1]).toMatchObject({
      platformVersion: 'LATEST',
      networkConfiguration: SPEC.networkConfiguration,
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }],
    });

    const { capacityProviderStrategy: _c, ...withLaunchType } = SPEC;
    await ecs.createTaskSet('demo', 'web', { ...withLaunchType, externalId: 'd-ZZZZZZZZZ' });
    expect(fake.taskSets.get('web')!.at(-1)).toMatchObject({
      launchType: 'FARGATE',
      capacityProviderStrategy: undefined,
    });
  });

  it('a task definition ECS does not know is refused with its message', async () => {
    const fake = new FakeEcs();
    fake.addService('web', 'EXTERNAL');
    await expect(ecs.createTaskSet('demo', 'web', { ...SPEC, taskDefinition: 'api:9' })).rejects.toMatchObject({
      name: 'DependencyRejectedError',
      awsErrorName: 'ClientException',
      message: 'CreateTaskSet demo/web: ClientException: TaskDefinition not found.',
    });
  });

  it('moves the primary task set, and deletes with force; a task set already gone is fine', async () => {
    const fake = new FakeEcs();
    fake.addService('web', 'EXTERNAL', [structuredClone({ ...BLUE_SET })]);
    const green = await ecs.createTaskSet('demo', 'web', SPEC);
    fake.taskSets.get('web')!.at(-1)!.runningCount = 4;
    await ecs.updateServicePrimaryTaskSet('demo', 'web', green.id);
    expect((await ecs.describeService('demo', 'web')).taskSets.map((t) => [t.id, t.status])).toEqual([
      [BLUE_SET.id, 'ACTIVE'],
      [green.id, 'PRIMARY'],
    ]);
    await ecs.deleteTaskSet('demo', 'web', BLUE_SET.id!);
    await ecs.deleteTaskSet('demo', 'web', BLUE_SET.id!);
    expect((await ecs.describeService('demo', 'web')).taskSets.map((t) => t.id)).toEqual([green.id]);
    expect(ecsMock.commandCalls(DeleteTaskSetCommand).every((c) => c.args[0].input.force === true)).toBe(true);
  });

  it('maps throttling to DependencyUnavailableError and AccessDenied to DependencyRejectedError', async () => {
    ecsMock.on(DescribeServicesCommand).rejects(ecsThrottled());
    const err = await ecs.describeService('demo', 'web').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect((err as Error).message).toBe('DescribeServices demo/web: ThrottlingException: Rate exceeded');
    ecsMock.on(CreateTaskSetCommand).rejects(ecsDenied('ecs:CreateTaskSet'));
    await expect(ecs.createTaskSet('demo', 'web', SPEC)).rejects.toMatchObject({
      name: 'DependencyRejectedError',
      awsErrorName: 'AccessDeniedException',
      message: `CreateTaskSet demo/web: AccessDeniedException: User: arn:aws:sts::${ACCOUNT}:assumed-role/cutover/x is not authorized to perform: ecs:CreateTaskSet`,
    });
    ecsMock.on(DeleteTaskSetCommand).rejects(
      new ECSServiceException({
        name: 'ServerException',
        $fault: 'server',
        $metadata: { httpStatusCode: 500 },
        message: 'Internal',
      }),
    );
    await expect(ecs.deleteTaskSet('demo', 'web', 'ecs-svc/1')).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});

/** ELBv2 listeners, rules and target groups. */
class FakeElb {
  readonly listeners = new Map<string, Listener>();
  readonly rules = new Map<string, Rule[]>();
  readonly targetGroups = new Map<string, string>([
    ['web-blue', BLUE],
    ['web-green', GREEN],
    ['admin', OTHER],
  ]);

  constructor(pageSize = 2) {
    const listener = (arn?: string) => {
      const l = this.listeners.get(arn ?? '');
      if (!l)
        throw new ListenerNotFoundException({
          $metadata: { httpStatusCode: 400 },
          message: 'One or more listeners not found',
        });
      return l;
    };
    const checkActions = (actions: Action[] = []) => {
      for (const a of actions) {
        if (
          a.Type === 'authenticate-oidc' &&
          !a.AuthenticateOidcConfig?.ClientSecret &&
          !a.AuthenticateOidcConfig?.UseExistingClientSecret
        ) {
          throw new ElasticLoadBalancingV2ServiceException({
            name: 'ValidationError',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
            message: 'A client secret must be specified',
          });
        }
      }
      return structuredClone(actions);
    };
    elbMock.on(DescribeListenersCommand).callsFake(async (input: { ListenerArns?: string[] }) => ({
      Listeners: (input.ListenerArns ?? []).map((a) => structuredClone(listener(a))),
    }));
    elbMock.on(DescribeRulesCommand).callsFake(async (input: { ListenerArn?: string; Marker?: string }) => {
      const l = listener(input.ListenerArn);
      // ELB lists the default rule too (IsDefault), with the listener's default actions.
      const all: Rule[] = [
        ...(this.rules.get(input.ListenerArn!) ?? []),
        { RuleArn: RULE(999), Priority: 'default', IsDefault: true, Actions: l.DefaultActions },
      ];
      const from = Number(input.Marker ?? 0);
      const next = from + pageSize < all.length ? String(from + pageSize) : undefined;
      return { Rules: structuredClone(all.slice(from, from + pageSize)), ...(next ? { NextMarker: next } : {}) };
    });
    elbMock.on(ModifyListenerCommand).callsFake(async (input: { ListenerArn?: string; DefaultActions?: Action[] }) => {
      const l = listener(input.ListenerArn);
      if (input.DefaultActions) l.DefaultActions = checkActions(input.DefaultActions);
      return { Listeners: [structuredClone(l)] };
    });
    elbMock.on(ModifyRuleCommand).callsFake(async (input: { RuleArn?: string; Actions?: Action[] }) => {
      const r = [...this.rules.values()].flat().find((x) => x.RuleArn === input.RuleArn);
      if (!r)
        throw new ElasticLoadBalancingV2ServiceException({
          name: 'RuleNotFound',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
          message: 'One or more rules not found',
        });
      if (input.Actions) r.Actions = checkActions(input.Actions);
      return { Rules: [structuredClone(r)] };
    });
    elbMock.on(DescribeTargetGroupsCommand).callsFake(async (input: { Names?: string[] }) => {
      const names = input.Names ?? [];
      if (names.some((n) => !this.targetGroups.has(n)))
        throw new TargetGroupNotFoundException({
          $metadata: { httpStatusCode: 400 },
          message: 'One or more target groups not found',
        });
      return { TargetGroups: names.map((n) => ({ TargetGroupName: n, TargetGroupArn: this.targetGroups.get(n) })) };
    });
  }
}

const forward = (weights: Record<string, number>, extra: Partial<Action> = {}): Action => ({
  Type: 'forward',
  ForwardConfig: { TargetGroups: Object.entries(weights).map(([arn, w]) => ({ TargetGroupArn: arn, Weight: w })) },
  ...extra,
});

function albWithRules(): FakeElb {
  const elb = new FakeElb();
  elb.listeners.set(LISTENER, {
    ListenerArn: LISTENER,
    LoadBalancerArn: `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:loadbalancer/app/web-alb/50dc6c495c0c9188`,
    Protocol: 'HTTPS',
    Port: 443,
    // A plain TargetGroupArn forward (weight 1) after an authentication action.
    DefaultActions: [
      {
        Type: 'authenticate-oidc',
        Order: 1,
        AuthenticateOidcConfig: {
          Issuer: 'https://idp',
          AuthorizationEndpoint: 'https://idp/a',
          TokenEndpoint: 'https://idp/t',
          UserInfoEndpoint: 'https://idp/u',
          ClientId: 'c',
        },
      },
      { Type: 'forward', Order: 2, TargetGroupArn: BLUE },
    ],
  });
  elb.rules.set(LISTENER, [
    // Weighted forward with stickiness, no Weight on one side (= 1).
    {
      RuleArn: RULE(1),
      Priority: '1',
      IsDefault: false,
      Actions: [
        forward(
          { [BLUE]: 1 },
          {
            Order: 1,
            ForwardConfig: {
              TargetGroups: [{ TargetGroupArn: BLUE }],
              TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 600 },
            },
          },
        ),
      ],
    },
    { RuleArn: RULE(2), Priority: '2', IsDefault: false, Actions: [forward({ [OTHER]: 1 })] },
    {
      RuleArn: RULE(3),
      Priority: '3',
      IsDefault: false,
      Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '403' } }],
    },
    // Someone else's split that includes blue: rewriting it would drop OTHER, so it is not ours.
    { RuleArn: RULE(4), Priority: '4', IsDefault: false, Actions: [forward({ [BLUE]: 1, [OTHER]: 1 })] },
  ]);
  return elb;
}

describe('ElbListenerRouter', () => {
  const router = new ElbListenerRouter(elbClient);

  it('describes the default forward and each rule that forwards (all pages)', async () => {
    albWithRules();
    expect(await router.describeListener(LISTENER)).toEqual({
      listenerArn: LISTENER,
      loadBalancerArn: `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:loadbalancer/app/web-alb/50dc6c495c0c9188`,
      protocol: 'HTTPS',
      port: 443,
      forwards: [
        { weights: { [BLUE]: 1 } },
        { ruleArn: RULE(1), weights: { [BLUE]: 1 } },
        { ruleArn: RULE(2), weights: { [OTHER]: 1 } },
        { ruleArn: RULE(4), weights: { [BLUE]: 1, [OTHER]: 1 } },
      ],
    });
    expect(elbMock.commandCalls(DescribeRulesCommand).length).toBeGreaterThan(1);
  });

  it('shifts only the forwards that touch the pair, keeping other actions, order and stickiness', async () => {
    const elb = albWithRules();
    const before = structuredClone(elb.rules.get(LISTENER)!);
    await router.setForward(LISTENER, [BLUE, GREEN], forwardWeightsFor(BLUE, GREEN, 10));

    const l = elb.listeners.get(LISTENER)!;
    expect(l.DefaultActions![0]).toMatchObject({
      Type: 'authenticate-oidc',
      Order: 1,
      AuthenticateOidcConfig: { ClientId: 'c', UseExistingClientSecret: true },
    });
    expect(l.DefaultActions![1]).toEqual({
      Type: 'forward',
      Order: 2,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: BLUE, Weight: 900 },
          { TargetGroupArn: GREEN, Weight: 100 },
        ],
      },
    });
    const rules = elb.rules.get(LISTENER)!;
    expect(rules[0]!.Actions).toEqual([
      {
        Type: 'forward',
        Order: 1,
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: BLUE, Weight: 900 },
            { TargetGroupArn: GREEN, Weight: 100 },
          ],
          TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 600 },
        },
      },
    ]);
    expect(rules.slice(1)).toEqual(before.slice(1));
    expect((await router.describeListener(LISTENER)).forwards.map((f) => f.weights)).toEqual([
      { [BLUE]: 900, [GREEN]: 100 },
      { [BLUE]: 900, [GREEN]: 100 },
      { [OTHER]: 1 },
      { [BLUE]: 1, [OTHER]: 1 },
    ]);
    expect(elbMock.commandCalls(ModifyRuleCommand).map((c) => c.args[0].input.RuleArn)).toEqual([RULE(1)]);

    // All of it on green, then the same again: nothing left to write.
    await router.setForward(LISTENER, [BLUE, GREEN], forwardWeightsFor(BLUE, GREEN, 100));
    const writes = elbMock.commandCalls(ModifyListenerCommand).length + elbMock.commandCalls(ModifyRuleCommand).length;
    await router.setForward(LISTENER, [BLUE, GREEN], forwardWeightsFor(BLUE, GREEN, 100));
    expect(elbMock.commandCalls(ModifyListenerCommand).length + elbMock.commandCalls(ModifyRuleCommand).length).toBe(
      writes,
    );
    expect((await router.describeListener(LISTENER)).forwards[0]!.weights).toEqual({ [BLUE]: 0, [GREEN]: 1 });
  });

  it('on a Network Load Balancer writes a plain forward to the side with weight', async () => {
    const elb = new FakeElb();
    const nlb = LISTENER.replace('/app/', '/net/');
    elb.listeners.set(nlb, {
      ListenerArn: nlb,
      Protocol: 'TCP',
      Port: 443,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: BLUE }],
    });
    await router.setForward(nlb, [BLUE, GREEN], forwardWeightsFor(BLUE, GREEN, 100));
    expect(elb.listeners.get(nlb)!.DefaultActions).toEqual([{ Type: 'forward', TargetGroupArn: GREEN }]);
    await expect(router.setForward(nlb, [BLUE, GREEN], forwardWeightsFor(BLUE, GREEN, 50))).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
  });

  it('finds target group ARNs by name, leaving out the missing ones', async () => {
    new FakeElb();
    expect(await router.targetGroupArns(['web-blue', 'web-green'])).toEqual({ 'web-blue': BLUE, 'web-green': GREEN });
    expect(await router.targetGroupArns(['web-blue', 'gone', 'web-green'])).toEqual({
      'web-blue': BLUE,
      'web-green': GREEN,
    });
    expect(await router.targetGroupArns(['gone'])).toEqual({});
    expect(await router.targetGroupArns([])).toEqual({});
  });

  it('a missing listener is a PreconditionFailedError naming it', async () => {
    new FakeElb();
    const err = await router.describeListener(LISTENER).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PreconditionFailedError);
    expect(err).toMatchObject({
      code: 'ELASTIC_LOAD_BALANCING_INVALID',
      message: `ELB listener ${LISTENER} does not exist: ListenerNotFoundException: One or more listeners not found`,
    });
    await expect(router.setForward(LISTENER, [BLUE, GREEN], { [BLUE]: 1, [GREEN]: 0 })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
  });

  it('maps throttling to DependencyUnavailableError and AccessDenied to DependencyRejectedError', async () => {
    albWithRules();
    elbMock.on(ModifyListenerCommand).rejects(
      new ElasticLoadBalancingV2ServiceException({
        name: 'Throttling',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded',
      }),
    );
    const err = await router
      .setForward(LISTENER, [BLUE, GREEN], forwardWeightsFor(BLUE, GREEN, 10))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect((err as Error).message).toBe(`ModifyListener ${LISTENER}: Throttling: Rate exceeded`);
    elbMock.on(DescribeTargetGroupsCommand).rejects(
      new ElasticLoadBalancingV2ServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'not authorized to perform: elasticloadbalancing:DescribeTargetGroups',
      }),
    );
    const denied = await router.targetGroupArns(['web-blue']).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(DependencyRejectedError);
    expect(denied).toMatchObject({
      awsErrorName: 'AccessDenied',
      message:
        'DescribeTargetGroups web-blue: AccessDenied: not authorized to perform: elasticloadbalancing:DescribeTargetGroups',
    });
  });
});
