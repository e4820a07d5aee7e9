/**
 * CodeDeploy's service model as the API's first check: every input is checked against its operation's
 * input shape (types, lengths, enums, list and map sizes) before the operation runs, and a problem is
 * answered with one of the exceptions the model lists for that operation, naming each field. The model
 * itself is generated (codedeploy.generated.ts); the mapping from a field to its exception is ours,
 * because the model does not say which exception a field's problem gets.
 */
import type { Issue } from '../../domain/errors.js';
import { CODEDEPLOY_MODEL } from './codedeploy.generated.js';
import type { ModelOperation, ModelShape, ServiceModel } from './types.js';

export type { ModelOperation, ModelShape, ServiceModel };
export { CODEDEPLOY_MODEL };

/** The model's operation, by own keys only ("constructor" is not an operation). */
export function modelOperation(name: string): ModelOperation | undefined {
  return Object.hasOwn(CODEDEPLOY_MODEL.operations, name) ? CODEDEPLOY_MODEL.operations[name] : undefined;
}

/**
 * The exception(s) CodeDeploy answers for a problem with an input field, most specific first, where the
 * field's name alone does not give it (Invalid<Field>Exception, which is tried first).
 */
const FIELD_EXCEPTIONS: Record<string, readonly string[]> = {
  alarmConfiguration: ['InvalidAlarmConfigException'],
  overrideAlarmConfiguration: ['InvalidAlarmConfigException'],
  autoRollbackConfiguration: ['InvalidAutoRollbackConfigException'],
  autoScalingGroups: ['InvalidAutoScalingGroupException'],
  createTimeRange: ['InvalidTimeRangeException'],
  currentDeploymentGroupName: ['InvalidDeploymentGroupNameException'],
  newDeploymentGroupName: ['InvalidDeploymentGroupNameException'],
  deploymentGroupNames: ['InvalidDeploymentGroupNameException'],
  applicationNames: ['InvalidApplicationNameException'],
  newApplicationName: ['InvalidApplicationNameException'],
  deployed: ['InvalidDeployedStateFilterException'],
  deploymentIds: ['InvalidDeploymentIdException'],
  description: ['InvalidRevisionException'],
  ec2TagFilters: ['InvalidEC2TagException'],
  ec2TagSet: ['InvalidEC2TagException'],
  ecsServices: ['InvalidECSServiceException'],
  ignoreApplicationStopFailures: ['InvalidIgnoreApplicationStopFailuresValueException'],
  updateOutdatedInstancesOnly: ['InvalidUpdateOutdatedInstancesOnlyValueException'],
  includeOnlyStatuses: ['InvalidDeploymentStatusException'],
  instanceId: ['InvalidInstanceNameException', 'InvalidInstanceIdException'],
  instanceIds: ['InvalidInstanceNameException', 'InvalidInstanceIdException'],
  instanceNames: ['InvalidInstanceNameException'],
  instanceStatusFilter: ['InvalidInstanceStatusException'],
  instanceTypeFilter: ['InvalidInstanceTypeException'],
  minimumHealthyHosts: ['InvalidMinimumHealthyHostValueException'],
  onPremisesInstanceTagFilters: ['InvalidTagException'],
  onPremisesTagSet: ['InvalidTagException'],
  tagFilters: ['InvalidTagFilterException', 'InvalidTagException'],
  revisions: ['InvalidRevisionException'],
  s3Bucket: ['InvalidBucketNameFilterException'],
  s3KeyPrefix: ['InvalidKeyPrefixFilterException'],
  serviceRoleArn: ['InvalidRoleException'],
  status: ['InvalidLifecycleEventHookExecutionStatusException'],
  tags: ['InvalidTagsToAddException', 'InvalidTagException'],
  Tags: ['InvalidTagsToAddException', 'InvalidTagException'],
  TagKeys: ['InvalidTagsToAddException', 'InvalidTagException'],
  ResourceArn: ['InvalidArnException'],
  targetFilters: ['InvalidInstanceStatusException', 'InvalidDeploymentInstanceTypeException'],
  targetId: ['InvalidDeploymentTargetIdException'],
  targetIds: ['InvalidDeploymentTargetIdException'],
  trafficRoutingConfig: ['InvalidTrafficRoutingConfigurationException'],
  triggerConfigurations: ['InvalidTriggerConfigException'],
  externalId: ['InvalidExternalIdException'],
  NextToken: ['InvalidNextTokenException'],
  tokenName: ['InvalidGitHubAccountTokenNameException'],
};

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The exception `operation` answers for a problem with its top-level input field `field`: one the model
 * lists for the operation, or undefined when it lists none that fits (a test checks there is none).
 */
export function fieldException(operation: string, field: string): string | undefined {
  const op = modelOperation(operation);
  if (!op) return undefined;
  const candidates = [
    `Invalid${capital(field)}Exception`,
    ...(Object.hasOwn(FIELD_EXCEPTIONS, field) ? FIELD_EXCEPTIONS[field]! : []),
    'InvalidInputException',
  ];
  // Last resort (a field no exception is named for, e.g. StopDeployment's autoRollbackEnabled): the
  // operation's first modelled Invalid…Exception; the message names the field.
  return candidates.find((c) => op.errors.includes(c)) ?? op.errors.find((e) => e.startsWith('Invalid'));
}

/** The exception `operation` answers when `field` is required and missing (e.g. ApplicationNameRequiredException). */
export function requiredException(operation: string, field: string): string | undefined {
  const op = modelOperation(operation);
  if (!op) return undefined;
  const singular = field.replace(/s$/, '');
  const candidates = [`${capital(field)}RequiredException`, `${capital(singular)}RequiredException`];
  if (field === 'currentDeploymentGroupName') candidates.push('DeploymentGroupNameRequiredException');
  if (field === 'deploymentGroupNames') candidates.push('DeploymentGroupNameRequiredException');
  if (field === 'targetId') candidates.push('DeploymentTargetIdRequiredException');
  if (field === 'targetIds') candidates.push('DeploymentTargetIdRequiredException');
  if (field === 'instanceId' || field === 'instanceIds') candidates.push('InstanceIdRequiredException');
  if (field === 'instanceName' || field === 'instanceNames') candidates.push('InstanceNameRequiredException');
  if (field === 'tags') candidates.push('TagRequiredException');
  if (field === 'revision') candidates.push('RevisionRequiredException');
  candidates.push(...[fieldException(operation, field)].filter((x): x is string => x !== undefined));
  return candidates.find((c) => op.errors.includes(c));
}

const describe = (s: ModelShape): string => {
  switch (s.type) {
    case 'structure':
      return 'an object';
    case 'list':
      return 'a list';
    case 'map':
      return 'a map of strings';
    case 'string':
      return s.enum ? `one of ${s.enum.join(', ')}` : 'a string';
    case 'integer':
    case 'long':
      return 'a whole number';
    case 'double':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'timestamp':
      return 'a time (seconds since the epoch)';
    default:
      return s.type;
  }
};

/** Every problem of `value` against `shapeName`, with paths from `path`. Unknown members are left alone. */
function check(
  model: ServiceModel,
  shapeName: string,
  value: unknown,
  path: string,
  out: Issue[],
  extended: (path: string, value: unknown) => boolean,
): void {
  const shape = model.shapes[shapeName];
  if (!shape || value === undefined || value === null || extended(path, value)) return;
  const bad = (message: string): void => {
    out.push({ path, message });
  };
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || Array.isArray(value)) return bad(`must be ${describe(shape)}`);
      const members = shape.members ?? {};
      for (const name of shape.required ?? []) {
        const at = path ? `${path}.${name}` : name;
        const v = Object.hasOwn(value, name) ? (value as Record<string, unknown>)[name] : undefined;
        if ((v === undefined || v === null || v === '') && !LENIENT_REQUIRED.has(at))
          out.push({ path: at, message: 'required' });
      }
      for (const [name, memberShape] of Object.entries(members)) {
        const v = Object.hasOwn(value, name) ? (value as Record<string, unknown>)[name] : undefined;
        check(model, memberShape, v, path ? `${path}.${name}` : name, out, extended);
      }
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) return bad('must be a list');
      if (shape.max !== undefined && value.length > shape.max)
        bad(`at most ${shape.max} entries (got ${value.length})`);
      if (shape.min !== undefined && value.length < shape.min) bad(`at least ${shape.min} entries`);
      // Only the first problems of a long list: the message stays readable.
      for (let k = 0; k < value.length && out.length < 20; k++)
        check(model, shape.member!, value[k], `${path}[${k}]`, out, extended);
      return;
    }
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) return bad(`must be ${describe(shape)}`);
      const entries = Object.entries(value as Record<string, unknown>);
      if (shape.max !== undefined && entries.length > shape.max) bad(`at most ${shape.max} entries`);
      for (const [k, v] of entries.slice(0, 20)) {
        check(model, shape.key!, k, `${path} key`, out, extended);
        check(model, shape.value!, v, `${path}.${k}`, out, extended);
      }
      return;
    }
    case 'string': {
      if (typeof value !== 'string') return bad(`must be ${describe(shape)}`);
      if (shape.enum && !shape.enum.includes(value))
        return bad(`${JSON.stringify(value.slice(0, 40))} is not ${describe(shape)}`);
      if (shape.max !== undefined && value.length > shape.max)
        return bad(`at most ${shape.max} characters (got ${value.length})`);
      if (shape.min !== undefined && value.length < shape.min)
        return bad(shape.min === 1 ? 'must not be empty' : `at least ${shape.min} characters`);
      return;
    }
    case 'integer':
    case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value)) return bad(`must be ${describe(shape)}`);
      if (shape.min !== undefined && value < shape.min) return bad(`at least ${shape.min}`);
      if (shape.max !== undefined && value > shape.max) return bad(`at most ${shape.max}`);
      return;
    case 'double':
      if (typeof value !== 'number' || !Number.isFinite(value)) return bad(`must be ${describe(shape)}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') return bad(`must be ${describe(shape)}`);
      return;
    case 'timestamp':
      // JSON 1.1 sends epoch seconds; the AWS CLI and the SDKs send numbers.
      if (typeof value !== 'number' || !Number.isFinite(value)) return bad(`must be ${describe(shape)}`);
      return;
    default:
      return;
  }
}

/**
 * Fields the model requires that Cutover lets a caller leave out: the service role, which Cutover never
 * assumes (its own functions' roles do the work), so tools that omit it locally are not refused.
 */
const LENIENT_REQUIRED: ReadonlySet<string> = new Set(['serviceRoleArn']);

/** Longest inline step list (deploymentConfigName given as "10% 5m, 100%"): about 60 steps. */
const MAX_INLINE_STEP_LIST = 1000;

/**
 * Where Cutover takes more than CodeDeploy's model: a step list's text or Cutover's StepList type as a
 * trafficRoutingConfig, and an inline step list as a deployment configuration's name. The platform's own
 * checks validate these in full.
 */
function cutoverExtension(operation: string, path: string, value: unknown): boolean {
  if (operation === 'CreateDeploymentConfig') {
    if (path === 'trafficRoutingConfig' && typeof value === 'string') return true;
    if (path === 'trafficRoutingConfig.type' && value === 'StepList') return true;
  }
  return (
    path === 'deploymentConfigName' &&
    typeof value === 'string' &&
    value.length <= MAX_INLINE_STEP_LIST &&
    /\d\s*(%|hosts?\b)/.test(value)
  );
}

/** The model's problems with an operation's input (none for an operation the model does not have). */
export function modelIssues(operation: string, input: unknown): Issue[] {
  const op = modelOperation(operation);
  if (!op?.input) return [];
  const out: Issue[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return [{ path: '', message: 'the request body must be a JSON object' }];
  check(CODEDEPLOY_MODEL, op.input, input, '', out, (path, value) => cutoverExtension(operation, path, value));
  // A missing top-level field has its own exception (ApplicationNameRequiredException, ...).
  return out.map((i) =>
    i.message === 'required' && !i.path.includes('.')
      ? { ...i, ...(requiredException(operation, i.path) ? { exception: requiredException(operation, i.path)! } : {}) }
      : i,
  );
}
