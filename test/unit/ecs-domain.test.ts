/** ECS rules in pure terms: the ECS AppSpec, listener weights, ECS configurations. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plan, predefinedConfig } from '../../src/domain/deployment-config.js';
import { InvalidInputError } from '../../src/domain/errors.js';
import type { Deployment } from '../../src/domain/model.js';
import { parseEcsAppSpec } from '../../src/platforms/ecs/appspec.js';
import {
  forwardWeightsFor,
  greenPercentOf,
  sameSplit,
  taskDefinitionShortName,
} from '../../src/platforms/ecs/domain.js';
import { replacementSpec } from '../../src/platforms/ecs/index.js';
import type { EcsFacts, EcsTarget } from '../../src/platforms/ecs/model.js';
import type { TaskSetInfo } from '../../src/platforms/ecs/ports.js';

const FULL = `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: "arn:aws:ecs:us-east-1:111122223333:task-definition/web:42"
        LoadBalancerInfo:
          ContainerName: "web"
          ContainerPort: 8080
        PlatformVersion: "LATEST"
        NetworkConfiguration:
          AwsvpcConfiguration:
            Subnets: ["subnet-aaaa", "subnet-bbbb"]
            SecurityGroups: ["sg-cccc"]
            AssignPublicIp: "DISABLED"
        CapacityProviderStrategy:
          - CapacityProvider: "FARGATE_SPOT"
            Base: 1
            Weight: 2
          - CapacityProvider: "FARGATE"
            Base: 0
            Weight: 1
Hooks:
  - BeforeInstall: "CodeDeployHook_beforeInstall"
  - AfterInstall: "CodeDeployHook_afterInstall"
  - AfterAllowTestTraffic: "CodeDeployHook_testTraffic"
  - BeforeAllowTraffic: "CodeDeployHook_beforeProd"
  - AfterAllowTraffic: "CodeDeployHook_afterProd"
`;

const issuesOf = (text: string) => {
  try {
    parseEcsAppSpec(text);
  } catch (e) {
    if (e instanceof InvalidInputError) return e.issues;
    throw e;
  }
  throw new Error('expected an InvalidInputError');
};

describe('ECS AppSpec', () => {
  it("reads CodeDeploy's documented example completely", () => {
    const a = parseEcsAppSpec(FULL);
    expect(a.target).toEqual({
      taskDefinition: 'arn:aws:ecs:us-east-1:111122223333:task-definition/web:42',
      containerName: 'web',
      containerPort: 8080,
      platformVersion: 'LATEST',
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-aaaa', 'subnet-bbbb'],
          securityGroups: ['sg-cccc'],
          assignPublicIp: 'DISABLED',
        },
      },
      capacityProviderStrategy: [
        { capacityProvider: 'FARGATE_SPOT', base: 1, weight: 2 },
        { capacityProvider: 'FARGATE', base: 0, weight: 1 },
      ],
    });
    expect(Object.keys(a.hooks)).toEqual([
      'BeforeInstall',
      'AfterInstall',
      'AfterAllowTestTraffic',
      'BeforeAllowTraffic',
      'AfterAllowTraffic',
    ]);
  });

  it('JSON works too, with lower-case keys', () => {
    const a = parseEcsAppSpec(
      JSON.stringify({
        version: 0.0,
        resources: [
          {
            svc: {
              type: 'AWS::ECS::Service',
              properties: { taskDefinition: 'web:3', loadBalancerInfo: { containerName: 'web', containerPort: '80' } },
            },
          },
        ],
      }),
    );
    expect(a.target).toEqual({ taskDefinition: 'web:3', containerName: 'web', containerPort: 80 });
    expect(a.hooks).toEqual({});
  });

  it('reports every problem at once, each with its path', () => {
    const bad = `version: 1
Resources:
  - TargetService:
      Type: AWS::Lambda::Function
      Properties:
        TaskDefinition: "web"
        LoadBalancerInfo:
          ContainerPort: 70000
        NetworkConfiguration:
          AwsvpcConfiguration:
            AssignPublicIp: "MAYBE"
        CapacityProviderStrategy:
          - CapacityProvider: A
            Base: 1
          - CapacityProvider: B
            Base: 2
Hooks:
  - BeforeDeploy: x
`;
    expect(issuesOf(bad).map((i) => i.path)).toEqual([
      'version',
      'Resources[0].TargetService.Type',
      'Resources[0].TargetService.Properties.TaskDefinition',
      'Resources[0].TargetService.Properties.LoadBalancerInfo.ContainerName',
      'Resources[0].TargetService.Properties.LoadBalancerInfo.ContainerPort',
      'Resources[0].TargetService.Properties.NetworkConfiguration.AwsvpcConfiguration.Subnets',
      'Resources[0].TargetService.Properties.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp',
      'Resources[0].TargetService.Properties.CapacityProviderStrategy',
      'Hooks[0].BeforeDeploy',
    ]);
    expect(issuesOf(bad).find((i) => i.path.endsWith('BeforeDeploy'))?.message).toContain(
      'BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic and AfterAllowTraffic',
    );
  });

  it('one service per AppSpec', () => {
    const two = FULL.replace('Hooks:', '  - Other:\n      Type: AWS::ECS::Service\n      Properties: {}\nHooks:');
    expect(issuesOf(two)[0]).toMatchObject({
      path: 'Resources',
      message: expect.stringContaining('exactly one resource'),
    });
  });
});

describe('listener weights', () => {
  const B = 'arn:tg/blue';
  const G = 'arn:tg/green';
  it('round-trip any percentage to one decimal, within ELB weight limits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), (tenths) => {
        const p = tenths / 10;
        const w = forwardWeightsFor(B, G, p);
        expect(Object.values(w).every((x) => Number.isInteger(x) && x >= 0 && x <= 999)).toBe(true);
        expect(greenPercentOf(w, B, G)).toBeCloseTo(p, 5);
        expect(sameSplit(w, forwardWeightsFor(B, G, p))).toBe(true);
      }),
    );
  });
  it('a forward to some other target group is not ours', () => {
    expect(greenPercentOf({ [B]: 1, 'arn:tg/other': 1 }, B, G)).toBeUndefined();
    expect(greenPercentOf({ [B]: 5 }, B, G)).toBe(0);
    expect(sameSplit({ [B]: 1 }, { [B]: 100, [G]: 0 })).toBe(true);
    expect(sameSplit({ [B]: 90, [G]: 10 }, { [B]: 80, [G]: 20 })).toBe(false);
  });
  it('task definition names', () => {
    expect(taskDefinitionShortName('arn:aws:ecs:us-east-1:111122223333:task-definition/web:42')).toBe('web:42');
    expect(taskDefinitionShortName('web:3')).toBe('web:3');
  });
});

describe('ECS configurations', () => {
  it("all five predefined ECS configurations, with CodeDeploy's names and plans", () => {
    expect(predefinedConfig('CodeDeployDefault.ECSLinear10PercentEvery1Minutes')?.computePlatform).toBe('ECS');
    expect(predefinedConfig('CodeDeployDefault.ECSLinear10PercentEvery1Minute')).toBeUndefined();
    const weights = (name: string) => plan(predefinedConfig(name)!.trafficRoutingConfig!).steps.map((s) => s.weight);
    expect(weights('CodeDeployDefault.ECSAllAtOnce')).toEqual([100]);
    expect(weights('CodeDeployDefault.ECSCanary10Percent5Minutes')).toEqual([10, 100]);
    expect(weights('CodeDeployDefault.ECSCanary10Percent15Minutes')).toEqual([10, 100]);
    expect(weights('CodeDeployDefault.ECSLinear10PercentEvery3Minutes')).toEqual([
      10, 20, 30, 40, 50, 60, 70, 80, 90, 100,
    ]);
  });
});

describe('the replacement task set', () => {
  const deployment = (target: Partial<EcsTarget>) =>
    ({
      deploymentId: 'd-AAAAAAAAA',
      spec: {
        target: {
          clusterName: 'c',
          serviceName: 's',
          taskDefinition: 'web:2',
          containerName: 'web',
          containerPort: 8080,
          ...target,
        },
      },
      state: { facts: { blueTargetGroupArn: 'arn:tg/blue', greenTargetGroupArn: 'arn:tg/green' } },
    }) as unknown as Deployment<EcsTarget, EcsFacts>;
  const blue = {
    id: 'ecs-svc/1',
    taskSetArn: 'arn:ts/1',
    status: 'PRIMARY',
    stabilityStatus: 'STEADY_STATE',
    taskDefinition: 'web:1',
    targetGroupArns: ['arn:tg/blue'],
    scalePercent: 100,
    runningCount: 4,
    pendingCount: 0,
    computedDesiredCount: 4,
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a'], securityGroups: ['sg-b'] } },
  } as const satisfies TaskSetInfo;

  it('runs as the original does when the AppSpec says nothing (network, platform version, launch type)', () => {
    expect(replacementSpec(deployment({}), blue)).toEqual({
      taskDefinition: 'web:2',
      externalId: 'd-AAAAAAAAA',
      targetGroupArn: 'arn:tg/green',
      containerName: 'web',
      containerPort: 8080,
      scalePercent: 100,
      platformVersion: '1.4.0',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a'], securityGroups: ['sg-b'] } },
      launchType: 'FARGATE',
    });
  });
  it("the AppSpec's settings win; capacity providers replace the launch type", () => {
    const spec = replacementSpec(
      deployment({
        platformVersion: 'LATEST',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-z'] } },
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
      }),
      blue,
    );
    expect(spec).toMatchObject({
      platformVersion: 'LATEST',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-z'] } },
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
    });
    expect(spec.launchType).toBeUndefined();
  });
});
