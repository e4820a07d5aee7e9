/**
 * Applications, deployment groups and custom deployment configurations, with CodeDeploy's
 * validation rules and exception names. Every problem is reported at once; nothing is written
 * when any is found.
 */
import { z } from 'zod';
import { GroupInputSchema, NAME, groupException } from '../config/deployment-group.js';
import {
  CONFIG_FIELD_EXCEPTIONS,
  CONFIG_SETTINGS_FIELDS,
  configNameIssues,
  type DeploymentConfig,
  type DeploymentConfigSettings,
} from '../domain/deployment-config.js';
import { ApiError, InvalidInputError, type Issue } from '../domain/errors.js';
import type { Application, DeploymentGroup, Tag } from '../domain/model.js';
import { tagsToAdd } from '../domain/tags.js';
import {
  DEFAULT_PLATFORM,
  PLATFORM_NAMES,
  PLATFORMS,
  platformOf,
  predefinedDeploymentConfig,
  type RegisteredPlatform,
} from '../platforms/index.js';
import type { GroupInput } from '../ports/index.js';
import { resolveConfig } from './create-deployment.js';
import { defineTask, parseInput, type DepsFor } from './task.js';

const PLATFORM = z.enum(PLATFORM_NAMES, { message: `must be one of ${PLATFORM_NAMES.join(', ')}` });
const ApplicationInput = z.object({
  applicationName: NAME,
  computePlatform: PLATFORM.default(DEFAULT_PLATFORM),
});

const APP_USES = { catalog: ['createApplication'] } as const;
const APP_EXCEPTIONS: Record<string, string> = {
  applicationName: 'InvalidApplicationNameException',
  computePlatform: 'InvalidComputePlatformException',
};

/**
 * Parse with `schema`; every problem at once, under the exception `exceptions` names for the first one's field.
 * A missing or empty `required` field is CodeDeploy's `<Field>RequiredException` (ApplicationNameRequired...).
 */
function parseNamed<I>(
  schema: z.ZodType<I>,
  raw: unknown,
  exceptions: Readonly<Record<string, string>>,
  required: string,
): I {
  const given = (raw as Record<string, unknown> | null | undefined)?.[required];
  if (given === undefined || given === null || given === '')
    throw new ApiError(`${required[0]!.toUpperCase()}${required.slice(1)}RequiredException`, `${required} is required`);
  try {
    return parseInput(schema, raw);
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    const field = e.issues[0]?.path.split('.')[0] ?? '';
    throw new InvalidInputError(e.issues, exceptions[field] ?? e.exceptionName);
  }
}

/**
 * The `tags` of a create request (none when left out), checked with the rest of it: `parse`'s problems and the
 * tags' together, under `parse`'s exception, or InvalidTagsToAddException when only the tags are wrong.
 */
function withTags<I>(raw: unknown, parse: () => I): { input: I; tags: Tag[] } {
  const given = (raw as Record<string, unknown> | null | undefined)?.tags;
  const checked = given === undefined || given === null ? { tags: [], issues: [] } : tagsToAdd(given, 'tags');
  let input: I;
  try {
    input = parse();
  } catch (e) {
    if (e instanceof InvalidInputError && checked.issues.length)
      throw new InvalidInputError([...e.issues, ...checked.issues], e.exceptionName);
    throw e;
  }
  if (checked.issues.length) throw new InvalidInputError(checked.issues, 'InvalidTagsToAddException');
  return { input, tags: checked.tags };
}

async function createApp(raw: unknown, deps: DepsFor<typeof APP_USES>): Promise<{ applicationId: string }> {
  const { input, tags } = withTags(raw, () => parseNamed(ApplicationInput, raw, APP_EXCEPTIONS, 'applicationName'));
  const app: Application = {
    applicationId: deps.ids.uuid(),
    applicationName: input.applicationName,
    computePlatform: input.computePlatform,
    createTime: deps.clock.stamp().toISOString(),
  };
  await deps.catalog.createApplication(app, tags);
  return { applicationId: app.applicationId };
}
export const createApplication = defineTask('createApplication', APP_USES, z.unknown(), createApp);

function groupError(issues: readonly Issue[]): InvalidInputError {
  const first = issues[0];
  const exception = first?.exception ?? groupException(first?.path.split('.')[0] ?? '');
  return new InvalidInputError(issues, exception, 'Invalid deployment group');
}

/** The platforms whose groups take `field` (e.g. "ECS and Server"). */
const groupFieldOwners = (field: keyof GroupInput): string =>
  PLATFORM_NAMES.filter((n) => PLATFORMS[n].groupFields.includes(field as never)).join(' and ');

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
const CREATE_GROUP_USES = {
  catalog: [...CHECK_USES.catalog, 'createDeploymentGroup'],
  secrets: ['put', 'remove'],
} as const;
const UPDATE_GROUP_USES = {
  catalog: [...CHECK_USES.catalog, 'getDeploymentGroup', 'updateDeploymentGroup'],
  secrets: ['put'],
} as const;
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
  // Fields of other platforms only, and hooks this platform has no lifecycle event for.
  const issues: Issue[] = [];
  const groupFields = new Set(PLATFORM_NAMES.flatMap((n) => PLATFORMS[n].groupFields as readonly (keyof GroupInput)[]));
  for (const k of groupFields) {
    if ((input as Partial<GroupInput>)[k] !== undefined && !platform.groupFields.includes(k))
      issues.push({
        path: k,
        message: `applies to ${groupFieldOwners(k)} applications only; ${input.applicationName} is ${app.computePlatform}`,
      });
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
  const parsed = withTags(raw, () => parseGroup(raw));
  const { webhookSecret, ...input } = await checkGroup(parsed.input, deps);
  const deploymentGroupId = deps.ids.uuid();
  // The secret goes to the Secrets port first; the record keeps only the reference (ADR 25).
  const webhookSecretRef =
    webhookSecret === undefined ? undefined : await deps.secrets.put(deploymentGroupId, webhookSecret);
  const group: DeploymentGroup = {
    ...input,
    ...(webhookSecretRef ? { webhookSecretRef } : {}),
    deploymentGroupId,
    createTime: deps.clock.stamp().toISOString(),
  };
  try {
    await deps.catalog.createDeploymentGroup(group, parsed.tags);
  } catch (e) {
    // Not created (a name taken meanwhile, the store unavailable): its new id's secret goes with it.
    if (webhookSecretRef) await deps.secrets.remove(deploymentGroupId).catch(() => undefined);
    throw e;
  }
  return { deploymentGroupId };
}
export const createDeploymentGroup = defineTask('createDeploymentGroup', CREATE_GROUP_USES, z.unknown(), createGroup);

async function updateGroup(raw: unknown, deps: DepsFor<typeof UPDATE_GROUP_USES>): Promise<Record<string, never>> {
  const { webhookSecret, ...input } = await checkGroup(parseGroup(raw), deps);
  const existing = await deps.catalog.getDeploymentGroup(input.applicationName, input.deploymentGroupName);
  if (!existing)
    throw new ApiError(
      'DeploymentGroupDoesNotExistException',
      `Deployment group ${input.deploymentGroupName} does not exist in application ${input.applicationName}`,
    );
  // A new secret becomes a new version; a plain secret of a record written before 0.2 moves out of the table
  // (the update removes it from the record); otherwise the group keeps the reference it has. The put comes
  // first: if the record's write fails, the record still names the previous version, which stays readable.
  const secret = webhookSecret ?? existing.webhookSecret;
  const webhookSecretRef =
    secret === undefined ? existing.webhookSecretRef : await deps.secrets.put(existing.deploymentGroupId, secret);
  await deps.catalog.updateDeploymentGroup({ ...input, ...(webhookSecretRef ? { webhookSecretRef } : {}) });
  return {};
}
export const updateDeploymentGroup = defineTask('updateDeploymentGroup', UPDATE_GROUP_USES, z.unknown(), updateGroup);

const ConfigInput = z.looseObject({
  deploymentConfigName: z.string(),
  /** Left out: the platform whose fields the request has (e.g. minimumHealthyHosts), else Cutover's default. */
  computePlatform: PLATFORM.optional(),
});

const CONFIG_USES = { catalog: ['createDeploymentConfig'] } as const;

/** The platforms whose configurations take `field`. */
const configFieldOwners = (field: keyof DeploymentConfigSettings): RegisteredPlatform[] =>
  PLATFORM_NAMES.filter((n) => PLATFORMS[n].deploymentConfigs.fields.includes(field));

/**
 * The platform of a configuration created without one: the first whose fields the request gives, unless the
 * default platform takes them too (a bare `trafficRoutingConfig` stays the default's).
 */
function configPlatform(raw: Readonly<Record<string, unknown>>): RegisteredPlatform {
  const given = CONFIG_SETTINGS_FIELDS.filter((f) => raw[f] !== undefined);
  if (given.some((f) => configFieldOwners(f).includes(DEFAULT_PLATFORM))) return DEFAULT_PLATFORM;
  return given.map((f) => configFieldOwners(f)[0]).find((p) => p !== undefined) ?? DEFAULT_PLATFORM;
}

async function createConfig(raw: unknown, deps: DepsFor<typeof CONFIG_USES>): Promise<{ deploymentConfigId: string }> {
  const input = parseNamed(ConfigInput, raw, CONFIG_FIELD_EXCEPTIONS, 'deploymentConfigName');
  const request = input as Readonly<Record<string, unknown>>;
  const computePlatform = input.computePlatform ?? configPlatform(request);
  const platform = PLATFORMS[computePlatform];
  // Every problem at once: the name, other platforms' fields, then this platform's own.
  const issues: Issue[] = configNameIssues(input.deploymentConfigName);
  for (const f of CONFIG_SETTINGS_FIELDS) {
    if (request[f] !== undefined && !platform.deploymentConfigs.fields.includes(f))
      issues.push({
        path: f,
        message: `applies to ${configFieldOwners(f).join(' and ')} configurations only; this one is ${computePlatform}`,
      });
  }
  // The first problem names the exception: the name's or another platform's field's, else the platform's own.
  const before = issues.length;
  let settings: DeploymentConfigSettings | undefined;
  let exception = 'InvalidInputException';
  try {
    settings = platform.deploymentConfigs.settings(request);
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    issues.push(...e.issues);
    exception = e.exceptionName;
  }
  if (issues.length || !settings) {
    const field = issues[0]?.path.split('.')[0] ?? '';
    throw new InvalidInputError(issues, before ? (CONFIG_FIELD_EXCEPTIONS[field] ?? exception) : exception);
  }
  if (predefinedDeploymentConfig(input.deploymentConfigName)) {
    throw new ApiError('DeploymentConfigAlreadyExistsException', `${input.deploymentConfigName} is predefined`);
  }
  const config: DeploymentConfig = {
    deploymentConfigName: input.deploymentConfigName,
    deploymentConfigId: deps.ids.uuid(),
    computePlatform,
    ...settings,
    createTime: deps.clock.stamp().toISOString(),
  };
  await deps.catalog.createDeploymentConfig(config);
  return { deploymentConfigId: config.deploymentConfigId };
}
export const createDeploymentConfig = defineTask('createDeploymentConfig', CONFIG_USES, z.unknown(), createConfig);
