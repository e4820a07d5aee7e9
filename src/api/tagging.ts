/**
 * CodeDeploy's TagResource, UntagResource and ListTagsForResource on applications, deployment groups and custom
 * deployment configurations, named by their ARNs (`arn:aws:codedeploy:REGION:ACCOUNT:application:NAME`,
 * `...:deploymentgroup:APP/GROUP`, `...:deploymentconfig:NAME`). Every request is checked whole before anything
 * is written, each answer with one of the operation's modelled exceptions.
 */
import { ApiError, InvalidInputError } from '../domain/errors.js';
import type { Tag } from '../domain/model.js';
import {
  MAX_RESOURCE_TAGS,
  mergeTags,
  parseResourceArn,
  removeTagKeys,
  tagsToAdd,
  type TaggableResource,
} from '../domain/tags.js';
import { predefinedDeploymentConfig } from '../platforms/index.js';
import { operation, str, type Input, type Operation } from './operation.js';

/**
 * The resource `ResourceArn` names.
 * @throws ApiError ResourceArnRequiredException, InvalidArnException, ArnNotSupportedException
 */
function resourceOf(i: Input, env: { region: string; accountId: string }): TaggableResource {
  const arn = str(i.ResourceArn);
  if (!arn) throw new ApiError('ResourceArnRequiredException', 'ResourceArn is required');
  const r = parseResourceArn(arn, env);
  if (r.kind === 'invalid')
    throw new ApiError('InvalidArnException', `ResourceArn ${JSON.stringify(arn)} ${r.message}`);
  if (r.kind === 'unsupported')
    throw new ApiError('ArnNotSupportedException', `ResourceArn ${JSON.stringify(arn)} ${r.message}`);
  return r;
}

const isPredefined = (r: TaggableResource) =>
  r.kind === 'deploymentConfig' &&
  (predefinedDeploymentConfig(r.deploymentConfigName) !== undefined ||
    r.deploymentConfigName.startsWith('CodeDeployDefault.'));

/** A taggable resource that may be changed: predefined configurations are CodeDeploy's, not the account's. */
function changeable(i: Input, env: { region: string; accountId: string }): TaggableResource {
  const r = resourceOf(i, env);
  if (isPredefined(r))
    throw new ApiError(
      'ArnNotSupportedException',
      `ResourceArn ${str(i.ResourceArn)} is a predefined deployment configuration; only custom ones carry tags`,
    );
  return r;
}

/** `tags` with `add` merged in, within CodeDeploy's limit. @throws ApiError InvalidTagsToAddException */
function withinLimit(tags: Tag[], add: Tag[]): Tag[] {
  const next = mergeTags(tags, add);
  if (next.length > MAX_RESOURCE_TAGS)
    throw new ApiError(
      'InvalidTagsToAddException',
      `Tags: a resource has at most ${MAX_RESOURCE_TAGS} tags; it has ${tags.length} and ${next.length - tags.length} more were given`,
    );
  return next;
}

export const TAGGING: Record<string, Operation> = {
  TagResource: operation({ catalog: ['updateTags'] }, async (i, d) => {
    const resource = changeable(i, d.env);
    if (!Array.isArray(i.Tags) || i.Tags.length === 0)
      throw new ApiError('TagRequiredException', 'Tags: at least one tag is required');
    const { tags, issues } = tagsToAdd(i.Tags, 'Tags');
    if (issues.length) throw new InvalidInputError(issues, 'InvalidTagsToAddException');
    await d.catalog.updateTags(resource, (current) => withinLimit(current, tags));
    return {};
  }),

  UntagResource: operation({ catalog: ['updateTags'] }, async (i, d) => {
    const resource = changeable(i, d.env);
    if (!Array.isArray(i.TagKeys) || i.TagKeys.length === 0)
      throw new ApiError('TagRequiredException', 'TagKeys: at least one tag key is required');
    const issues = i.TagKeys.flatMap((k: unknown, n) =>
      typeof k === 'string' && k.length >= 1 && k.length <= 128
        ? []
        : [{ path: `TagKeys[${n}]`, message: 'a tag key of 1 to 128 characters' }],
    );
    if (issues.length) throw new InvalidInputError(issues, 'InvalidTagsToAddException');
    const keys = i.TagKeys as string[];
    await d.catalog.updateTags(resource, (current) => removeTagKeys(current, keys));
    return {};
  }),

  // A resource that does not exist has no tags (the model gives ListTagsForResource no not-found exception);
  // every tag fits one page (at most 50), so there is never a NextToken.
  ListTagsForResource: operation({ catalog: ['listTags'] }, async (i, d) => {
    const resource = resourceOf(i, d.env);
    if (isPredefined(resource)) return { Tags: [] };
    return { Tags: (await d.catalog.listTags(resource)) ?? [] };
  }),
};
