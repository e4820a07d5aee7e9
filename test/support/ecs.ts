/**
 * An ECS world (EXTERNAL service behind an ALB with prod and test listeners) and a local environment for
 * ECS path tests.
 */
import type { SimDeploymentController } from '../../src/adapters/sim/ecs-world.js';
import { SimWorld } from '../../src/adapters/sim/world.js';
import { TASKS } from '../../src/tasks/index.js';
import { VirtualClock, type ClockMode } from '../../src/local/clock.js';
import { createLocalEnvironment } from '../../src/wiring/local.js';
import { TEST_CLOCK, withDeployments, type TestEnv, type TestLocalOptions } from './local.js';

export interface EcsGroupOptions {
  deploymentConfigName?: string;
  alarms?: string[];
  testListener?: boolean;
  blueGreenDeploymentConfiguration?: Record<string, unknown>;
  hookConfiguration?: Record<string, { timeoutSeconds?: number; timeoutAction?: 'rollback' | 'continue' }>;
  autoRollbackConfiguration?: { enabled: boolean; events: string[] };
  triggerConfigurations?: unknown[];
}

export interface EcsWorldOptions {
  controller?: SimDeploymentController;
  loadBalancerType?: 'application' | 'network';
}

/** web:1 runs (PRIMARY on web-blue); web:2 healthy, web:3 fails 60% of requests, web:9 never steady. */
export function ecsWorld(clock: VirtualClock, opts: EcsWorldOptions = {}): SimWorld {
  const nlb = opts.loadBalancerType === 'network';
  return new SimWorld(clock, {
    ecs: {
      taskDefinitions: {
        'web:1': {},
        'web:2': { steadyAfterSeconds: 30 },
        'web:3': { errorRate: 0.6, steadyAfterSeconds: 30 },
        'web:9': { steadyAfterSeconds: 'never' },
      },
      loadBalancers: [
        {
          name: 'web-alb',
          type: opts.loadBalancerType ?? 'application',
          targetGroups: ['web-blue', 'web-green'],
          listeners: [
            {
              name: 'prod',
              port: 80,
              forwardTo: 'web-blue',
              requestsPerSecond: 100,
              ...(nlb ? { protocol: 'TCP' } : {}),
            },
            {
              name: 'test',
              port: 8080,
              forwardTo: 'web-blue',
              requestsPerSecond: 10,
              ...(nlb ? { protocol: 'TCP' } : {}),
            },
          ],
        },
      ],
      services: [
        {
          cluster: 'demo',
          name: 'web',
          desiredCount: 4,
          taskDefinition: 'web:1',
          targetGroup: 'web-blue',
          deploymentController: opts.controller ?? 'EXTERNAL',
        },
      ],
    },
    alarms: [
      {
        name: 'web-5xx',
        listener: 'web-alb/prod',
        metric: 'ErrorRate',
        threshold: 5,
        periodSeconds: 60,
        evaluationPeriods: 1,
      },
    ],
  });
}

export async function ecsTestEnv(
  group: EcsGroupOptions = {},
  world: EcsWorldOptions = {},
  mode: ClockMode = TEST_CLOCK,
  local: TestLocalOptions = {},
): Promise<TestEnv> {
  const clock = new VirtualClock(mode, new Date('2026-06-01T12:00:00Z'));
  const w = ecsWorld(clock, world);
  const env = await createLocalEnvironment({ ...local, clock, world: w });
  await TASKS.createApplication.run({ applicationName: 'shop', computePlatform: 'ECS' }, env.deps);
  await TASKS.createDeploymentGroup.run(
    {
      applicationName: 'shop',
      deploymentGroupName: 'web',
      deploymentConfigName: group.deploymentConfigName ?? 'CodeDeployDefault.ECSCanary10Percent5Minutes',
      ecsServices: [{ clusterName: 'demo', serviceName: 'web' }],
      loadBalancerInfo: {
        targetGroupPairInfoList: [
          {
            targetGroups: [{ name: 'web-blue' }, { name: 'web-green' }],
            prodTrafficRoute: { listenerArns: [w.listenerArn('web-alb/prod')] },
            ...(group.testListener === false
              ? {}
              : { testTrafficRoute: { listenerArns: [w.listenerArn('web-alb/test')] } }),
          },
        ],
      },
      alarmConfiguration: {
        enabled: true,
        alarms: (group.alarms ?? []).map((name) => ({ name })),
        ignorePollAlarmFailure: false,
      },
      ...(group.blueGreenDeploymentConfiguration
        ? { blueGreenDeploymentConfiguration: group.blueGreenDeploymentConfiguration }
        : {}),
      ...(group.hookConfiguration ? { hookConfiguration: group.hookConfiguration } : {}),
      ...(group.autoRollbackConfiguration ? { autoRollbackConfiguration: group.autoRollbackConfiguration } : {}),
      ...(group.triggerConfigurations ? { triggerConfigurations: group.triggerConfigurations } : {}),
    },
    env.deps,
  );
  return withDeployments(env, clock, 'shop', 'web');
}

export const ECS_HOOKS = [
  'BeforeInstall',
  'AfterInstall',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
] as const;

/** An ECS AppSpec for `taskDefinition` with the named hooks (event → function). */
export function ecsAppSpec(
  taskDefinition = 'web:2',
  hooks: Partial<Record<(typeof ECS_HOOKS)[number], string>> = {},
): string {
  const h = Object.entries(hooks).map(([e, fn]) => `  - ${e}: ${fn}`);
  return `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: "arn:aws:ecs:us-east-1:111122223333:task-definition/${taskDefinition}"
        LoadBalancerInfo:
          ContainerName: "web"
          ContainerPort: 8080
${h.length ? `Hooks:\n${h.join('\n')}\n` : ''}`;
}

/** The world's ECS service: its task sets as [taskDefinition, status], the listeners' splits by target group. */
export function ecsState(world: SimWorld) {
  const svc = world.ecs.describeTaskSets('demo', 'web');
  return {
    taskSets: svc.map((t) => [t.taskDefinition.replace(/^.*task-definition\//, ''), t.status]).sort(),
    prod: world.ecs.split('web-alb/prod'),
    test: world.ecs.split('web-alb/test'),
  };
}
