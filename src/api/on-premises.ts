/**
 * CodeDeploy's on-premises instance operations (RegisterOnPremisesInstance, Deregister, Get, BatchGet, List,
 * AddTagsTo, RemoveTagsFrom) over the Instances port, with CodeDeploy's exception names. Every request is
 * checked whole before anything is written: a refused call changes nothing.
 *
 * Limits CodeDeploy does not document, chosen here: at most {@link MAX_TAGS_PER_INSTANCE} tags on an instance
 * and in one tag call (TagLimitExceededException), at most {@link MAX_INSTANCES_PER_CALL} instances in one tag
 * or BatchGet call (InstanceLimitExceededException, BatchLimitExceededException).
 */
import { ApiError, InvalidInputError, formatIssues } from '../domain/errors.js';
import type { OnPremisesInstance, Tag, TagFilter } from '../domain/model.js';
import { instanceArn } from '../domain/notifications.js';
import { matchesAnyFilter, normalizeTagFilter, tagFilterIssues } from '../platforms/server/targets.js';
import { decodeToken, encodeToken, operation, PAGE, str, type Input, type Operation } from './operation.js';
import { epochSeconds } from './shapes.js';

export const MAX_TAGS_PER_INSTANCE = 10;
export const MAX_INSTANCES_PER_CALL = 25;

const INSTANCE_NAME = /^[A-Za-z0-9._+=,@-]{1,100}$/;
const IAM_USER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:user\/[\w+=,.@/-]{1,512}$/;
const IAM_SESSION_ARN = /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/[\w+=,.@-]{1,64}\/[\w+=,.@-]{2,64}$/;

/** CodeDeploy's InstanceInfo. */
export function instanceInfo(i: OnPremisesInstance) {
  return {
    instanceName: i.instanceName,
    iamSessionArn: i.iamSessionArn,
    iamUserArn: i.iamUserArn,
    instanceArn: i.instanceArn,
    registerTime: epochSeconds(i.registerTime),
    deregisterTime: epochSeconds(i.deregisterTime),
    tags: i.tags,
  };
}

/** An instance name from the request. @throws ApiError InstanceNameRequiredException, InvalidInstanceNameException */
function instanceName(v: unknown): string {
  const name = str(v);
  if (!name) throw new ApiError('InstanceNameRequiredException', 'instanceName is required');
  if (!INSTANCE_NAME.test(name))
    throw new ApiError(
      'InvalidInstanceNameException',
      `Instance name ${JSON.stringify(name)} is not valid: 1-100 characters of letters, digits and . _ + = , @ -`,
    );
  return name;
}

/** `instanceNames` of a call, at most `max`. */
function instanceNames(i: Input, max: number, tooMany: string): string[] {
  const names = Array.isArray(i.instanceNames) ? i.instanceNames.map((n) => instanceName(n)) : [];
  if (!names.length) throw new ApiError('InstanceNameRequiredException', 'instanceNames is required');
  if (names.length > max) throw new ApiError(tooMany, `At most ${max} instance names per call (${names.length} given)`);
  return [...new Set(names)];
}

/**
 * The `tags` of a tag call: Keys of 1–128 characters, Values of at most 256 (required when adding), each key once.
 * @throws ApiError TagRequiredException, TagLimitExceededException, InvalidTagException
 */
function requestTags(i: Input, valueRequired: boolean): { Key: string; Value?: string }[] {
  if (!Array.isArray(i.tags) || i.tags.length === 0) throw new ApiError('TagRequiredException', 'tags is required');
  if (i.tags.length > MAX_TAGS_PER_INSTANCE)
    throw new ApiError('TagLimitExceededException', `At most ${MAX_TAGS_PER_INSTANCE} tags per call`);
  const issues: { path: string; message: string }[] = [];
  const keys = new Set<string>();
  const tags = i.tags.map((raw: unknown, k) => {
    const t = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const at = `tags.${k}`;
    if (typeof t.Key !== 'string' || t.Key.length < 1 || t.Key.length > 128)
      issues.push({ path: `${at}.Key`, message: 'required: 1 to 128 characters' });
    else if (keys.has(t.Key)) issues.push({ path: `${at}.Key`, message: `${t.Key} is listed twice` });
    else keys.add(t.Key);
    if (t.Value !== undefined && (typeof t.Value !== 'string' || t.Value.length > 256))
      issues.push({ path: `${at}.Value`, message: 'at most 256 characters' });
    else if (t.Value === undefined && valueRequired)
      issues.push({ path: `${at}.Value`, message: 'required (value-only and key-only tags cannot be added)' });
    return { Key: str(t.Key), ...(typeof t.Value === 'string' ? { Value: t.Value } : {}) };
  });
  if (issues.length) throw new ApiError('InvalidTagException', formatIssues(issues));
  return tags;
}

/** Every named instance, registered. @throws ApiError InstanceNotRegisteredException naming all that are not */
async function registeredInstances(
  d: { instances: { get(name: string): Promise<OnPremisesInstance | undefined> } },
  names: string[],
): Promise<OnPremisesInstance[]> {
  const found = await Promise.all(names.map((n) => d.instances.get(n)));
  const missing = names.filter((_, k) => !found[k] || found[k]!.deregisterTime !== undefined);
  if (missing.length)
    throw new ApiError(
      'InstanceNotRegisteredException',
      `On-premises instance${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not registered`,
    );
  return found as OnPremisesInstance[];
}

const addTo = (tags: Tag[], add: { Key: string; Value?: string }[]): Tag[] => [
  ...tags.filter((t) => !add.some((a) => a.Key === t.Key)),
  ...add.map((a) => ({ Key: a.Key, Value: a.Value ?? '' })),
];
const removeFrom = (tags: Tag[], remove: { Key: string; Value?: string }[]): Tag[] =>
  tags.filter((t) => !remove.some((r) => r.Key === t.Key && (r.Value === undefined || r.Value === t.Value)));

export const ON_PREMISES: Record<string, Operation> = {
  RegisterOnPremisesInstance: operation({ instances: ['register'] }, async (i, d) => {
    const name = instanceName(i.instanceName);
    const user = i.iamUserArn === undefined || i.iamUserArn === null ? undefined : str(i.iamUserArn);
    const session = i.iamSessionArn === undefined || i.iamSessionArn === null ? undefined : str(i.iamSessionArn);
    if (user && session)
      throw new ApiError(
        'MultipleIamArnsProvidedException',
        'Give either iamUserArn or iamSessionArn, not both: an instance has one identity',
      );
    if (!user && !session)
      throw new ApiError(
        'IamArnRequiredException',
        'An IAM identity is required: iamUserArn (an IAM user) or iamSessionArn (an assumed-role session)',
      );
    if (user && !IAM_USER_ARN.test(user))
      throw new ApiError(
        'InvalidIamUserArnException',
        `${user} is not an IAM user ARN (arn:aws:iam::<account>:user/<name>)`,
      );
    if (session && !IAM_SESSION_ARN.test(session))
      throw new ApiError(
        'InvalidIamSessionArnException',
        `${session} is not an IAM session ARN (arn:aws:sts::<account>:assumed-role/<role>/<session>)`,
      );
    await d.instances.register({
      instanceName: name,
      ...(user ? { iamUserArn: user } : { iamSessionArn: session! }),
      instanceArn: instanceArn(d.env, { targetId: name, kind: 'OnPremises' }),
      registerTime: d.clock.stamp().toISOString(),
      tags: [],
    });
    return {};
  }),

  DeregisterOnPremisesInstance: operation({ instances: ['deregister'] }, async (i, d) => {
    await d.instances.deregister(instanceName(i.instanceName), d.clock.stamp().toISOString());
    return {};
  }),

  GetOnPremisesInstance: operation({ instances: ['get'] }, async (i, d) => {
    const name = instanceName(i.instanceName);
    const found = await d.instances.get(name);
    if (!found) throw new ApiError('InstanceNotRegisteredException', `On-premises instance ${name} is not registered`);
    return { instanceInfo: instanceInfo(found) };
  }),

  BatchGetOnPremisesInstances: operation({ instances: ['get'] }, async (i, d) => {
    const names = instanceNames(i, MAX_INSTANCES_PER_CALL, 'BatchLimitExceededException');
    const found = await Promise.all(names.map((n) => d.instances.get(n)));
    return { instanceInfos: found.flatMap((x) => (x ? [instanceInfo(x)] : [])) };
  }),

  ListOnPremisesInstances: operation({ instances: ['list'] }, async (i, d) => {
    const status = i.registrationStatus;
    if (status !== undefined && status !== null && status !== 'Registered' && status !== 'Deregistered')
      throw new ApiError('InvalidRegistrationStatusException', 'registrationStatus must be Registered or Deregistered');
    const raw = Array.isArray(i.tagFilters) ? i.tagFilters : i.tagFilters === undefined ? [] : [i.tagFilters];
    const issues = raw.flatMap((f: unknown, k) => tagFilterIssues(f, `tagFilters.${k}`));
    if (issues.length) throw new InvalidInputError(issues, 'InvalidTagFilterException');
    const filters: TagFilter[] = raw.map((f) => normalizeTagFilter(f as Record<string, string>));
    const from = decodeToken(i.nextToken);
    const names = (await d.instances.list())
      .filter((x) => !status || (status === 'Registered') === (x.deregisterTime === undefined))
      .filter((x) => !filters.length || matchesAnyFilter(filters, x.tags))
      .map((x) => x.instanceName);
    const page = names.slice(from, from + PAGE);
    return { instanceNames: page, ...(from + PAGE < names.length ? { nextToken: encodeToken(from + PAGE) } : {}) };
  }),

  AddTagsToOnPremisesInstances: operation({ instances: ['get', 'updateTags'] }, async (i, d) => {
    const names = instanceNames(i, MAX_INSTANCES_PER_CALL, 'InstanceLimitExceededException');
    const tags = requestTags(i, true);
    const over = (await registeredInstances(d, names)).filter(
      (x) => addTo(x.tags, tags).length > MAX_TAGS_PER_INSTANCE,
    );
    if (over.length)
      throw new ApiError(
        'TagLimitExceededException',
        `An on-premises instance has at most ${MAX_TAGS_PER_INSTANCE} tags; ${over.map((x) => x.instanceName).join(', ')} would have more`,
      );
    for (const name of names) {
      await d.instances.updateTags(name, (current) => {
        const next = addTo(current, tags);
        if (next.length > MAX_TAGS_PER_INSTANCE)
          throw new ApiError('TagLimitExceededException', `${name} would have more than ${MAX_TAGS_PER_INSTANCE} tags`);
        return next;
      });
    }
    return {};
  }),

  RemoveTagsFromOnPremisesInstances: operation({ instances: ['get', 'updateTags'] }, async (i, d) => {
    const names = instanceNames(i, MAX_INSTANCES_PER_CALL, 'InstanceLimitExceededException');
    const tags = requestTags(i, false);
    await registeredInstances(d, names);
    for (const name of names) await d.instances.updateTags(name, (current) => removeFrom(current, tags));
    return {};
  }),
};
