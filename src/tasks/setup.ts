/**
 * Applications, deployment groups and custom deployment configurations, with CodeDeploy's
 * validation rules and exception names. Every problem is reported at once; nothing is written
 * when any is found.
 */
import { z } from 'zod';
import { GroupInputSchema, NAME, groupException } from '../config/deployment-group.js';
import {
  configNameIssues,
  plan,
  predefinedConfig,
  stepListConfig,
  trafficRoutingIssues,
  type DeploymentConfig,
  type TrafficRoutingConfig,
} from '../domain/deployment-config.js';
import { ApiError, InvalidInputError, type Issue } from '../domain/errors.js';
import type { Application, DeploymentGroup } from '../domain/model.js';
import { DEFAULT_PLATFORM, PLATFORM_NAMES, PLATFORMS, platformOf } from '../platforms/index.js';
import type { GroupInput } from '../ports/index.js';
import { resolveConfig } from './create-deployment.js';
import { defineTask, parseInput, type DepsFor } from './task.js';

const PLATFORM = z.enum(PLATFORM_NAMES, { message: `must be one of ${PLATFORM_NAMES.join(', ')}` });
const ApplicationInput = z.object({
  applicationName: NAME,
  computePlatform: PLATFORM.default(DEFAULT_PLATFORM),
});

const APP_USES = { catalog: ['createApplication'] } as const;

async function createApp(
  input: z.infer<typeof ApplicationInput>,
  deps: DepsFor<typeof APP_USES>,
): Promise<{ applicationId: string }> {
  const app: Application = {
    applicationId: deps.ids.uuid(),
    applicationName: input.applicationName,
    computePlatform: input.computePlatform,
    createTime: deps.clock.now().toISOString(),
  };
  await deps.catalog.createApplication(app);
  return { applicationId: app.applicationId };
}
export const createApplication = defineTask('createApplication', APP_USES, ApplicationInput, createApp);

function groupError(issues: readonly Issue[]): InvalidInputError {
  const field = issues[0]?.path.split('.')[0] ?? '';
  return new InvalidInputError(issues, groupException(field), 'Invalid deployment group');
}

/** Parse a group request; every problem at once, under the exception CodeDeploy uses for the first. */
function parseGroup(raw: unknown): GroupInputSchema {
  try {
    return parseInput(GroupInputSchema, raw);
  } catch (e) {
    throw e instanceof InvalidInputError ? groupError(e.issues) : e;
  }
}

/** What checking a group reads: its application, its configuration, and the platform's other groups. */
const CHECK_USES = {
  catalog: ['getApplication', 'listApplications', 'listDeploymentGroups', 'getDeploymentConfig'],
} as const;
const CREATE_GROUP_USES = { catalog: [...CHECK_USES.catalog, 'createDeploymentGroup'] } as const;
const UPDATE_GROUP_USES = { catalog: [...CHECK_USES.catalog, 'updateDeploymentGroup'] } as const;
type GroupDeps = DepsFor<typeof CHECK_USES>;

/** Every group of the platform's applications (for the platform's rules across groups). */
async function groupsOf(deps: GroupDeps, computePlatform: string): Promise<DeploymentGroup[]> {
  const apps = (await deps.catalog.listApplications()).filter((a) => a.computePlatform === computePlatform);
  return (await Promise.all(apps.map((a) => deps.catalog.listDeploymentGroups(a.applicationName)))).flat();
}

/** The group as stored, after every check; throws with every problem at once. */
async function checkGroup(input: GroupInputSchema, deps: GroupDeps): Promise<GroupInput> {
  const app = await deps.catalog.getApplication(input.applicationName);
  if (!app)
    throw new ApiError('ApplicationDoesNotExistException', `Application ${input.applicationName} does not exist`);
  const platform = platformOf(app.computePlatform);
  const group: GroupInput = {
    ...input,
    deploymentConfigName: input.deploymentConfigName ?? platform.defaultDeploymentConfig,
    computePlatform: app.computePlatform,
  };
  // Fields of other platforms, and hooks this platform has no lifecycle event for.
  const issues: Issue[] = [];
  for (const other of PLATFORM_NAMES.filter((n) => n !== app.computePlatform)) {
    for (const k of PLATFORMS[other].groupFields) {
      if ((input as Partial<GroupInput>)[k] !== undefined && !platform.groupFields.includes(k))
        issues.push({
          path: k,
          message: `applies to ${other} applications only; ${input.applicationName} is ${app.computePlatform}`,
        });
    }
  }
  for (const k of Object.keys(input.hookConfiguration ?? {})) {
    if (!platform.hookEvents.includes(k))
      issues.push({
        path: `hookConfiguration.${k}`,
        message: `is not a ${app.computePlatform} lifecycle event with hooks; they are ${platform.hookEvents.join(', ')}`,
      });
  }
  if (!issues.length) issues.push(...(await platform.groupIssues(group, () => groupsOf(deps, app.computePlatform))));
  if (issues.length) throw groupError(issues);
  await resolveConfig(deps, group.deploymentConfigName, app.computePlatform);
  return platform.normalizeGroup(group);
}

async function createGroup(
  raw: unknown,
  deps: DepsFor<typeof CREATE_GROUP_USES>,
): Promise<{ deploymentGroupId: string }> {
  const input = await checkGroup(parseGroup(raw), deps);
  const group: DeploymentGroup = {
    ...input,
    deploymentGroupId: deps.ids.uuid(),
    createTime: deps.clock.now().toISOString(),
  };
  await deps.catalog.createDeploymentGroup(group);
  return { deploymentGroupId: group.deploymentGroupId };
}
export const createDeploymentGroup = defineTask('createDeploymentGroup', CREATE_GROUP_USES, z.unknown(), createGroup);

async function updateGroup(raw: unknown, deps: DepsFor<typeof UPDATE_GROUP_USES>): Promise<Record<string, never>> {
  await deps.catalog.updateDeploymentGroup(await checkGroup(parseGroup(raw), deps));
  return {};
}
export const updateDeploymentGroup = defineTask('updateDeploymentGroup', UPDATE_GROUP_USES, z.unknown(), updateGroup);

const ConfigInput = z.object({
  deploymentConfigName: z.string(),
  computePlatform: PLATFORM.default(DEFAULT_PLATFORM),
  /** CodeDeploy's shape, or Cutover's StepList; a string is read as a step list ("10% 5m, 100%"). */
  trafficRoutingConfig: z.unknown(),
});

const CONFIG_USES = { catalog: ['createDeploymentConfig'] } as const;

async function createConfig(
  input: z.infer<typeof ConfigInput>,
  deps: DepsFor<typeof CONFIG_USES>,
): Promise<{ deploymentConfigId: string }> {
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
    deploymentConfigId: deps.ids.uuid(),
    computePlatform: input.computePlatform,
    trafficRoutingConfig: trc,
    createTime: deps.clock.now().toISOString(),
  };
  await deps.catalog.createDeploymentConfig(config);
  return { deploymentConfigId: config.deploymentConfigId };
}
export const createDeploymentConfig = defineTask('createDeploymentConfig', CONFIG_USES, ConfigInput, createConfig);
