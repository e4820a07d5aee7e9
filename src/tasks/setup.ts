/**
 * Applications, deployment groups and custom deployment configurations, with CodeDeploy's
 * validation rules and exception names. Every problem is reported at once; nothing is written
 * when any is found.
 */
import { z } from 'zod';
import { configNameIssues, plan, predefinedConfig, stepListConfig, trafficRoutingIssues, type DeploymentConfig, type TrafficRoutingConfig } from '../domain/deployment-config.js';
import { ApiError, InvalidInputError, type Issue } from '../domain/errors.js';
import { newUuid } from '../domain/ids.js';
import type { Application, DeploymentGroup } from '../domain/model.js';
import { DEFAULT_AUTO_ROLLBACK } from '../domain/outcome.js';
import { resolveConfig } from './create-deployment.js';
import { defineTask, parseInput, type Deps } from './task.js';

const NAME = z.string().min(1, 'required').max(100, 'at most 100 characters').regex(/^[A-Za-z0-9._+=,@-]+$/, 'letters, digits and . _ + = , @ - only');

const ApplicationInput = z.object({
  applicationName: NAME,
  computePlatform: z.literal('Lambda', { message: 'only Lambda is supported so far' }).default('Lambda'),
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
  triggerTargetArn: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, 'must be an SNS topic ARN'),
  triggerEvents: z
    .array(z.enum(['DeploymentStart', 'DeploymentSuccess', 'DeploymentFailure', 'DeploymentStop', 'DeploymentRollback', 'DeploymentReady', 'InstanceStart', 'InstanceSuccess', 'InstanceFailure', 'InstanceReady']))
    .min(1),
});
export const GroupInputSchema = z.object({
  applicationName: NAME,
  deploymentGroupName: NAME,
  serviceRoleArn: z.string().optional(),
  deploymentConfigName: z.string().min(1).default('CodeDeployDefault.LambdaAllAtOnce'),
  alarmConfiguration: AlarmConfig.default({ enabled: false, ignorePollAlarmFailure: false, baselineMode: 'failOnAlarmAtStart', alarms: [] }),
  autoRollbackConfiguration: z
    .object({
      enabled: z.boolean(),
      events: z.array(z.enum(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'])).default([]),
    })
    .default(DEFAULT_AUTO_ROLLBACK),
  triggerConfigurations: z.array(Trigger).max(10, 'at most 10 triggers per deployment group').default([]),
  hookTimeoutSeconds: z.number().int().min(1).max(3600 * 24, 'at most 86400 seconds').default(3600),
  hookConfiguration: z
    .partialRecord(
      z.enum(['BeforeAllowTraffic', 'AfterAllowTraffic']),
      z.object({ timeoutSeconds: z.number().int().min(1).max(3600 * 24).optional(), timeoutAction: z.enum(['rollback', 'continue']).optional() }),
    )
    .optional(),
  webhookSecret: z.string().min(16, 'at least 16 characters').max(256).optional(),
});
export type GroupInputSchema = z.infer<typeof GroupInputSchema>;

async function checkGroup(input: GroupInputSchema, deps: Deps): Promise<void> {
  const app = await deps.store.getApplication(input.applicationName);
  if (!app) throw new ApiError('ApplicationDoesNotExistException', `Application ${input.applicationName} does not exist`);
  await resolveConfig(deps, input.deploymentConfigName);
}

async function createGroup(raw: unknown, deps: Deps): Promise<{ deploymentGroupId: string }> {
  const input = parseInput(GroupInputSchema, raw);
  await checkGroup(input, deps);
  const group: DeploymentGroup = {
    ...input,
    computePlatform: 'Lambda',
    deploymentGroupId: newUuid(),
    createTime: deps.clock.now().toISOString(),
  };
  await deps.store.createDeploymentGroup(group);
  return { deploymentGroupId: group.deploymentGroupId };
}
export const createDeploymentGroup = defineTask('createDeploymentGroup', z.unknown(), createGroup);

async function updateGroup(raw: unknown, deps: Deps): Promise<Record<string, never>> {
  const input = parseInput(GroupInputSchema, raw);
  await checkGroup(input, deps);
  await deps.store.updateDeploymentGroup({ ...input, computePlatform: 'Lambda' });
  return {};
}
export const updateDeploymentGroup = defineTask('updateDeploymentGroup', z.unknown(), updateGroup);

const ConfigInput = z.object({
  deploymentConfigName: z.string(),
  computePlatform: z.literal('Lambda', { message: 'only Lambda is supported so far' }).default('Lambda'),
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
    throw new InvalidInputError(issues, nameProblem ? 'InvalidDeploymentConfigNameException' : 'InvalidTrafficRoutingConfigurationException');
  }
  if (predefinedConfig(input.deploymentConfigName)) {
    throw new ApiError('DeploymentConfigAlreadyExistsException', `${input.deploymentConfigName} is predefined`);
  }
  plan(trc);
  const config: DeploymentConfig = {
    deploymentConfigName: input.deploymentConfigName,
    deploymentConfigId: newUuid(),
    computePlatform: 'Lambda',
    trafficRoutingConfig: trc,
    createTime: deps.clock.now().toISOString(),
  };
  await deps.store.createDeploymentConfig(config);
  return { deploymentConfigId: config.deploymentConfigId };
}
export const createDeploymentConfig = defineTask('createDeploymentConfig', ConfigInput, createConfig);
