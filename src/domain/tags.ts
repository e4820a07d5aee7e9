/**
 * Tags on CodeDeploy resources (applications, deployment groups, deployment configurations): the rules
 * TagResource and the `tags` of CreateApplication / CreateDeploymentGroup share, and the resource ARNs
 * TagResource, UntagResource and ListTagsForResource name. Pure.
 */
import { ApiError, type Issue } from './errors.js';
import type { Tag } from './model.js';
import { NAME_RE } from './names.js';

/** CodeDeploy's limit: tags on one resource. */
export const MAX_RESOURCE_TAGS = 50;
const MAX_KEY = 128;
const MAX_VALUE = 256;

/** A resource that carries tags, as TagResource's ARN names it. */
export type TaggableResource =
  | { kind: 'application'; applicationName: string }
  | { kind: 'deploymentGroup'; applicationName: string; deploymentGroupName: string }
  | { kind: 'deploymentConfig'; deploymentConfigName: string };

/**
 * Every problem of a tag list to add (at `path`): each a {Key, Value} object, Key of 1-128 characters not
 * starting with `aws:` (AWS reserves it), Value of at most 256, each key once. Returns the tags with a missing
 * Value as "" (CodeDeploy stores a key-only tag with an empty value).
 */
export function tagsToAdd(raw: unknown, path: string): { tags: Tag[]; issues: Issue[] } {
  const issues: Issue[] = [];
  if (!Array.isArray(raw)) return { tags: [], issues: [{ path, message: 'must be a list of {Key, Value}' }] };
  const seen = new Set<string>();
  const tags: Tag[] = [];
  raw.forEach((t: unknown, k) => {
    const at = `${path}[${k}]`;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) {
      issues.push({ path: at, message: 'must be an object {Key, Value}' });
      return;
    }
    const key = Object.hasOwn(t, 'Key') ? (t as Record<string, unknown>).Key : undefined;
    const value = Object.hasOwn(t, 'Value') ? (t as Record<string, unknown>).Value : undefined;
    if (typeof key !== 'string' || key.length < 1 || key.length > MAX_KEY)
      issues.push({ path: `${at}.Key`, message: `required: 1 to ${MAX_KEY} characters` });
    else if (key.toLowerCase().startsWith('aws:'))
      issues.push({ path: `${at}.Key`, message: 'the prefix aws: is reserved for AWS' });
    else if (seen.has(key)) issues.push({ path: `${at}.Key`, message: `${JSON.stringify(key)} is given twice` });
    else seen.add(key);
    if (value !== undefined && value !== null && (typeof value !== 'string' || value.length > MAX_VALUE))
      issues.push({ path: `${at}.Value`, message: `at most ${MAX_VALUE} characters` });
    if (typeof key === 'string') tags.push({ Key: key, Value: typeof value === 'string' ? value : '' });
  });
  if (!issues.length && tags.length > MAX_RESOURCE_TAGS)
    issues.push({ path, message: `at most ${MAX_RESOURCE_TAGS} tags on a resource (${tags.length} given)` });
  return { tags, issues };
}

/** `tags` with `add` merged in: a key given again takes the new value and keeps its place. */
export function mergeTags(tags: readonly Tag[], add: readonly Tag[]): Tag[] {
  const out = tags.map((t) => ({ ...(add.find((a) => a.Key === t.Key) ?? t) }));
  for (const a of add) if (!tags.some((t) => t.Key === a.Key)) out.push({ ...a });
  return out;
}

/** `tags` without the keys in `keys` (keys it does not have are ignored, as CodeDeploy ignores them). */
export const removeTagKeys = (tags: readonly Tag[], keys: readonly string[]): Tag[] =>
  tags.filter((t) => !keys.includes(t.Key)).map((t) => ({ ...t }));

/** The ARN of a resource, as CodeDeploy forms it. */
export function resourceArn(env: { region: string; accountId: string }, r: TaggableResource): string {
  const base = `arn:aws:codedeploy:${env.region}:${env.accountId}`;
  if (r.kind === 'application') return `${base}:application:${r.applicationName}`;
  if (r.kind === 'deploymentGroup') return `${base}:deploymentgroup:${r.applicationName}/${r.deploymentGroupName}`;
  return `${base}:deploymentconfig:${r.deploymentConfigName}`;
}

/** Why an ARN names no taggable resource here: not an ARN at all, or one of something else. */
export type ArnProblem = { kind: 'invalid'; message: string } | { kind: 'unsupported'; message: string };

const ARN_RE = /^arn:(aws[a-z-]*):([a-z0-9-]*):([a-z0-9-]*):(\d{12}|):(.+)$/;

/**
 * The resource an ARN names: `arn:aws:codedeploy:REGION:ACCOUNT:application:NAME`,
 * `...:deploymentgroup:APP/GROUP` or `...:deploymentconfig:NAME`, of this region and account. A string that is
 * not an ARN, or a CodeDeploy ARN whose name is not valid, is `invalid`; a well-formed ARN of another service,
 * resource type, region or account is `unsupported`.
 */
export function parseResourceArn(
  arn: string,
  env: { region: string; accountId: string },
): TaggableResource | ArnProblem {
  const m = ARN_RE.exec(arn);
  if (!m) return { kind: 'invalid', message: 'is not an ARN (arn:aws:codedeploy:REGION:ACCOUNT:TYPE:NAME)' };
  const [, , service, region, account, rest] = m as unknown as [string, string, string, string, string, string];
  if (service !== 'codedeploy')
    return { kind: 'unsupported', message: `is a ${service || 'nameless'} ARN, not CodeDeploy's` };
  if (region !== env.region || account !== env.accountId)
    return {
      kind: 'unsupported',
      message: `names region ${region || '(none)'} and account ${account || '(none)'}; this API serves ${env.region} and ${env.accountId}`,
    };
  const sep = rest.indexOf(':');
  const type = sep < 0 ? rest : rest.slice(0, sep);
  const name = sep < 0 ? '' : rest.slice(sep + 1);
  const bad = (what: string): ArnProblem => ({
    kind: 'invalid',
    message: `${what} must be 1-100 letters, digits or . _ + = , @ -`,
  });
  switch (type) {
    case 'application':
      return NAME_RE.test(name) ? { kind: 'application', applicationName: name } : bad('the application name');
    case 'deploymentconfig':
      return NAME_RE.test(name)
        ? { kind: 'deploymentConfig', deploymentConfigName: name }
        : bad('the deployment configuration name');
    case 'deploymentgroup': {
      const slash = name.indexOf('/');
      const app = slash < 0 ? '' : name.slice(0, slash);
      const group = slash < 0 ? '' : name.slice(slash + 1);
      if (!NAME_RE.test(app) || !NAME_RE.test(group)) return bad('deploymentgroup:APPLICATION/GROUP: each name');
      return { kind: 'deploymentGroup', applicationName: app, deploymentGroupName: group };
    }
    default:
      return {
        kind: 'unsupported',
        message: `names a ${type || 'nameless'} resource; tags go on application, deploymentgroup and deploymentconfig resources`,
      };
  }
}

/** The store's refusal of a tag call on a resource that does not exist. */
export function missingResource(r: TaggableResource): ApiError {
  if (r.kind === 'application')
    return new ApiError('ApplicationDoesNotExistException', `Application ${r.applicationName} does not exist`);
  if (r.kind === 'deploymentGroup')
    return new ApiError(
      'DeploymentGroupDoesNotExistException',
      `Deployment group ${r.deploymentGroupName} does not exist in application ${r.applicationName}`,
    );
  return new ApiError(
    'DeploymentConfigDoesNotExistException',
    `Deployment configuration ${r.deploymentConfigName} does not exist`,
  );
}
