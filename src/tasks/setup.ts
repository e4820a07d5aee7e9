/**
 * Applications, deployment groups and custom deployment configurations, with CodeDeploy's
 * validation rules and exception names. Every problem is reported at once; nothing is written
 * when any is found.
 */
import { z } from 'zod';
import {
  DEFAULT_ECS_CONFIG,
  DEFAULT_LAMBDA_CONFIG,
  configNameIssues,
  plan,
  predefinedConfig,
  stepListConfig,
  trafficRoutingIssues,
  type DeploymentConfig,
  type TrafficRoutingConfig,
} from '../domain/deployment-config.js';
import { ApiError, InvalidInputError, type Issue } from '../domain/errors.js';
import { newUuid } from '../domain/ids.js';
import { ECS_HOOK_EVENTS, LAMBDA_HOOK_EVENTS, type Application, type DeploymentGroup } from '../domain/model.js';
import type { GroupInput } from '../ports/index.js';
import { DEFAULT_AUTO_ROLLBACK } from '../domain/outcome.js';
import { resolveConfig } from './create-deployment.js';
import { defineTask, parseInput, type Deps } from './task.js';

const LISTENER_ARN = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/(app|net)\/[^/]+\/[0-9a-f]+\/[0-9a-f]+$/,
    'must be an ELB listener ARN',
  );
const NAME = z
  .string()
  .min(1, 'required')
  .max(100, 'at most 100 characters')
  .regex(/^[A-Za-z0-9._+=,@-]+$/, 'letters, digits and . _ + = , @ - only');

const PLATFORM = z.enum(['Lambda', 'ECS'], {
  message: 'must be Lambda or ECS (Server, for EC2/on-premises, is not supported yet)',
});
const ApplicationInput = z.object({
  applicationName: NAME,
  computePlatform: PLATFORM.default('Lambda'),
});

async function createApp(input: z.infer<typeof ApplicationInput>, deps: Deps): Promise<{ applicationId: string }> {
  const app: Application = {
    applicationId: newUuid(),
    applicationName: input.applicationName,
    computePlatform: input.computePlatform,
    createTime: deps.clock.now().toISOString(),
  };
  await deps.store.createApplication(app);
  return { applicationId: app.applicationId };
}
export const createApplication = defineTask('createApplication', ApplicationInput, createApp);

const AlarmConfig = z.object({
  enabled: z.boolean().default(true),
  ignorePollAlarmFailure: z.boolean().default(false),
  baselineMode: z.enum(['failOnAlarmAtStart', 'ignoreAlarmsAlreadyFiring']).default('failOnAlarmAtStart'),
  alarms: z
    .array(z.object({ name: z.string().min(1).max(255) }))
    .max(10, 'at most 10 alarms per deployment group')
    .default([])
    .refine((a) => new Set(a.map((x) => x.name)).size === a.length, 'alarm names must be unique'),
});
const Trigger = z.object({
  triggerName: z.string().min(1),
  triggerTargetArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, 'must be an SNS topic ARN'),
  triggerEvents: z
    .array(
      z.enum([
        'DeploymentStart',
        'DeploymentSuccess',
        'DeploymentFailure',
        'DeploymentStop',
        'DeploymentRollback',
        'DeploymentReady',
        'InstanceStart',
        'InstanceSuccess',
        'InstanceFailure',
        'InstanceReady',
      ]),
    )
    .min(1),
});
export const GroupInputSchema = z.object({
  applicationName: NAME,
  deploymentGroupName: NAME,
  serviceRoleArn: z.string().optional(),
  /** Default: CodeDeployDefault.LambdaAllAtOnce or CodeDeployDefault.ECSAllAtOnce, by the application's platform. */
  deploymentConfigName: z.string().min(1).optional(),
  alarmConfiguration: AlarmConfig.default({
    enabled: false,
    ignorePollAlarmFailure: false,
    baselineMode: 'failOnAlarmAtStart',
    alarms: [],
  }),
  autoRollbackConfiguration: z
    .object({
      enabled: z.boolean(),
      events: z
        .array(z.enum(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST']))
        .default([]),
    })
    .default(DEFAULT_AUTO_ROLLBACK),
  triggerConfigurations: z.array(Trigger).max(10, 'at most 10 triggers per deployment group').default([]),
  hookTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(3600 * 24, 'at most 86400 seconds')
    .default(3600),
  hookConfiguration: z
    .partialRecord(
      z.enum(ECS_HOOK_EVENTS),
      z.object({
        timeoutSeconds: z
          .number()
          .int()
          .min(1)
          .max(3600 * 24)
          .optional(),
        timeoutAction: z.enum(['rollback', 'continue']).optional(),
      }),
    )
    .optional(),
  webhookSecret: z.string().min(16, 'at least 16 characters').max(256).optional(),
  // ECS groups (CodeDeploy's shapes).
  ecsServices: z
    .array(z.object({ serviceName: z.string().min(1).max(255), clusterName: z.string().min(1).max(255) }))
    .optional(),
  loadBalancerInfo: z
    .object({
      targetGroupPairInfoList: z.array(
        z.object({
          targetGroups: z.array(
            z.object({ name: z.string().min(1).max(32, 'a target group name has at most 32 characters') }),
          ),
          prodTrafficRoute: z.object({ listenerArns: z.array(LISTENER_ARN) }),
          testTrafficRoute: z.object({ listenerArns: z.array(LISTENER_ARN) }).optional(),
        }),
      ),
    })
    .optional(),
  blueGreenDeploymentConfiguration: z
    .object({
      terminateBlueInstancesOnDeploymentSuccess: z
        .object({
          action: z.enum(['TERMINATE', 'KEEP_ALIVE']),
          terminationWaitTimeInMinutes: z.number().int().min(0).max(2880, 'at most 2880 minutes (2 days)').optional(),
        })
        .optional(),
      deploymentReadyOption: z
        .object({
          actionOnTimeout: z.enum(['CONTINUE_DEPLOYMENT', 'STOP_DEPLOYMENT']),
          waitTimeInMinutes: z.number().int().min(0).max(7200, 'at most 7200 minutes (120 hours) for ECS').optional(),
        })
        .optional(),
    })
    .optional(),
  deploymentStyle: z
    .object({
      deploymentType: z.enum(['BLUE_GREEN', 'IN_PLACE']),
      deploymentOption: z.enum(['WITH_TRAFFIC_CONTROL', 'WITHOUT_TRAFFIC_CONTROL']),
    })
    .optional(),
});
export type GroupInputSchema = z.infer<typeof GroupInputSchema>;

/** CodeDeploy's exception for a problem with each group field (the first problem's field names it). */
const GROUP_EXCEPTIONS: Record<string, string> = {
  applicationName: 'InvalidApplicationNameException',
  deploymentGroupName: 'InvalidDeploymentGroupNameException',
  deploymentConfigName: 'InvalidDeploymentConfigNameException',
  alarmConfiguration: 'InvalidAlarmConfigException',
  autoRollbackConfiguration: 'InvalidAutoRollbackConfigException',
  triggerConfigurations: 'InvalidTriggerConfigException',
  ecsServices: 'InvalidECSServiceException',
  loadBalancerInfo: 'InvalidLoadBalancerInfoException',
  blueGreenDeploymentConfiguration: 'InvalidBlueGreenDeploymentConfigurationException',
  deploymentStyle: 'InvalidDeploymentStyleException',
};

function groupError(issues: readonly Issue[]): InvalidInputError {
  const field = issues[0]?.path.split('.')[0] ?? '';
  return new InvalidInputError(issues, GROUP_EXCEPTIONS[field] ?? 'InvalidInputException', 'Invalid deployment group');
}

/** Parse a group request; every problem at once, under the exception CodeDeploy uses for the first. */
function parseGroup(raw: unknown): GroupInputSchema {
  try {
    return parseInput(GroupInputSchema, raw);
  } catch (e) {
    throw e instanceof InvalidInputError ? groupError(e.issues) : e;
  }
}

const ECS_ONLY = ['ecsServices', 'loadBalancerInfo', 'blueGreenDeploymentConfiguration', 'deploymentStyle'] as const;

/** The ECS rules CodeDeploy applies to a group: one service, one target group pair, one listener per route. */
function ecsGroupIssues(input: GroupInputSchema): Issue[] {
  const issues: Issue[] = [];
  if (input.ecsServices?.length !== 1)
    issues.push({
      path: 'ecsServices',
      message: 'required: exactly one {serviceName, clusterName} (an ECS group deploys one service)',
    });
  const pairs = input.loadBalancerInfo?.targetGroupPairInfoList;
  if (pairs?.length !== 1) {
    issues.push({
      path: 'loadBalancerInfo.targetGroupPairInfoList',
      message: 'required: exactly one target group pair (ECS blue/green needs a load balancer)',
    });
  } else {
    const pair = pairs[0]!;
    const at = 'loadBalancerInfo.targetGroupPairInfoList.0';
    const names = pair.targetGroups.map((t) => t.name);
    if (names.length !== 2 || names[0] === names[1])
      issues.push({
        path: `${at}.targetGroups`,
        message: 'must name exactly two different target groups (blue and green take turns on them)',
      });
    if (pair.prodTrafficRoute.listenerArns.length !== 1)
      issues.push({ path: `${at}.prodTrafficRoute.listenerArns`, message: 'must hold exactly one listener ARN' });
    if (pair.testTrafficRoute && pair.testTrafficRoute.listenerArns.length !== 1)
      issues.push({
        path: `${at}.testTrafficRoute.listenerArns`,
        message: 'must hold exactly one listener ARN (or leave testTrafficRoute out)',
      });
    if (
      pair.testTrafficRoute?.listenerArns[0] &&
      pair.testTrafficRoute.listenerArns[0] === pair.prodTrafficRoute.listenerArns[0]
    ) {
      issues.push({
        path: `${at}.testTrafficRoute.listenerArns`,
        message: 'must be a different listener from the production route',
      });
    }
  }
  const style = input.deploymentStyle;
  if (style && (style.deploymentType !== 'BLUE_GREEN' || style.deploymentOption !== 'WITH_TRAFFIC_CONTROL')) {
    issues.push({ path: 'deploymentStyle', message: 'ECS deployments are BLUE_GREEN WITH_TRAFFIC_CONTROL' });
  }
  const ready = input.blueGreenDeploymentConfiguration?.deploymentReadyOption;
  if (ready?.actionOnTimeout === 'STOP_DEPLOYMENT' && !ready.waitTimeInMinutes) {
    issues.push({
      path: 'blueGreenDeploymentConfiguration.deploymentReadyOption.waitTimeInMinutes',
      message: 'required with STOP_DEPLOYMENT: minutes to wait for ContinueDeployment (1-7200)',
    });
  }
  return issues;
}

/** The group as stored, after every check; throws with every problem at once. */
async function checkGroup(input: GroupInputSchema, deps: Deps): Promise<GroupInput> {
  const app = await deps.store.getApplication(input.applicationName);
  if (!app)
    throw new ApiError('ApplicationDoesNotExistException', `Application ${input.applicationName} does not exist`);
  const platform = app.computePlatform;
  const issues =
    platform === 'ECS'
      ? ecsGroupIssues(input)
      : ECS_ONLY.filter((k) => input[k] !== undefined).map((k) => ({
          path: k,
          message: `applies to ECS applications only; ${input.applicationName} is ${platform}`,
        }));
  if (platform !== 'ECS' && input.hookConfiguration) {
    for (const k of Object.keys(input.hookConfiguration)) {
      if (!(LAMBDA_HOOK_EVENTS as readonly string[]).includes(k))
        issues.push({
          path: `hookConfiguration.${k}`,
          message: `is an ECS lifecycle event; Lambda hooks are ${LAMBDA_HOOK_EVENTS.join(' and ')}`,
        });
    }
  }
  if (issues.length) throw groupError(issues);
  const deploymentConfigName =
    input.deploymentConfigName ?? (platform === 'ECS' ? DEFAULT_ECS_CONFIG : DEFAULT_LAMBDA_CONFIG);
  await resolveConfig(deps, deploymentConfigName, platform);
  if (platform === 'ECS') {
    // CodeDeploy: an ECS service belongs to one deployment group at most.
    const svc = input.ecsServices![0]!;
    for (const a of await deps.store.listApplications()) {
      if (a.computePlatform !== 'ECS') continue;
      for (const g of await deps.store.listDeploymentGroups(a.applicationName)) {
        const same = g.ecsServices?.some((s) => s.clusterName === svc.clusterName && s.serviceName === svc.serviceName);
        if (
          same &&
          !(g.applicationName === input.applicationName && g.deploymentGroupName === input.deploymentGroupName)
        ) {
          throw new ApiError(
            'ECSServiceMappingLimitExceededException',
            `The ECS service ${svc.clusterName}:${svc.serviceName} already belongs to deployment group ${g.applicationName}/${g.deploymentGroupName}`,
          );
        }
      }
    }
  }
  return {
    ...input,
    deploymentConfigName,
    computePlatform: platform,
    ...(platform === 'ECS'
      ? { deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' } as const }
      : {}),
  };
}

async function createGroup(raw: unknown, deps: Deps): Promise<{ deploymentGroupId: string }> {
  const input = await checkGroup(parseGroup(raw), deps);
  const group: DeploymentGroup = {
    ...input,
    deploymentGroupId: newUuid(),
    createTime: deps.clock.now().toISOString(),
  };
  await deps.store.createDeploymentGroup(group);
  return { deploymentGroupId: group.deploymentGroupId };
}
export const createDeploymentGroup = defineTask('createDeploymentGroup', z.unknown(), createGroup);

async function updateGroup(raw: unknown, deps: Deps): Promise<Record<string, never>> {
  await deps.store.updateDeploymentGroup(await checkGroup(parseGroup(raw), deps));
  return {};
}
export const updateDeploymentGroup = defineTask('updateDeploymentGroup', z.unknown(), updateGroup);

const ConfigInput = z.object({
  deploymentConfigName: z.string(),
  computePlatform: PLATFORM.default('Lambda'),
  /** CodeDeploy's shape, or Cutover's StepList; a string is read as a step list ("10% 5m, 100%"). */
  trafficRoutingConfig: z.unknown(),
});

async function createConfig(input: z.infer<typeof ConfigInput>, deps: Deps): Promise<{ deploymentConfigId: string }> {
  const issues: Issue[] = configNameIssues(input.deploymentConfigName);
  let trc = input.trafficRoutingConfig as TrafficRoutingConfig;
  if (typeof input.trafficRoutingConfig === 'string') {
    try {
      trc = stepListConfig(input.trafficRoutingConfig);
    } catch (e) {
      if (!(e instanceof InvalidInputError)) throw e;
      issues.push(...e.issues.map((i) => ({ ...i, path: `trafficRoutingConfig.${i.path}` })));
    }
  } else {
    issues.push(...trafficRoutingIssues(trc));
  }
  if (issues.length) {
    const nameProblem = issues.some((i) => i.path === 'deploymentConfigName');
    throw new InvalidInputError(
      issues,
      nameProblem ? 'InvalidDeploymentConfigNameException' : 'InvalidTrafficRoutingConfigurationException',
    );
  }
  if (predefinedConfig(input.deploymentConfigName)) {
    throw new ApiError('DeploymentConfigAlreadyExistsException', `${input.deploymentConfigName} is predefined`);
  }
  plan(trc);
  const config: DeploymentConfig = {
    deploymentConfigName: input.deploymentConfigName,
    deploymentConfigId: newUuid(),
    computePlatform: input.computePlatform,
    trafficRoutingConfig: trc,
    createTime: deps.clock.now().toISOString(),
  };
  await deps.store.createDeploymentConfig(config);
  return { deploymentConfigId: config.deploymentConfigId };
}
export const createDeploymentConfig = defineTask('createDeploymentConfig', ConfigInput, createConfig);
