/**
 * Which instances a Server deployment group deploys to, as CodeDeploy decides it ("Tagging instances for
 * deployment groups"), and the rules for the tag filters that say so. Pure: the caller reads the candidates
 * through the platform's ports (ports.ts: EC2 instances matching each filter, the Auto Scaling groups' members)
 * and the registered on-premises instances, and passes them in.
 *
 * - A tag filter is KEY_ONLY (the instance has a tag with that key), VALUE_ONLY (a tag with that value, whatever
 *   its key) or KEY_AND_VALUE (that key with that value); keys and values match exactly (ports.ts `tagsMatch`).
 * - A filter list (`ec2TagFilters`, `onPremisesInstanceTagFilters`) is one tag group: an instance matching **any**
 *   filter is in.
 * - A tag set (`ec2TagSet`, `onPremisesTagSet`) is up to three tag groups: an instance is in only if it matches
 *   **every** group (at least one filter of each).
 * - The members of the group's Auto Scaling groups are in, whatever their tags, unless they are leaving their
 *   group (Terminating, Detaching, ...).
 * - Terminated (or terminating) EC2 instances and deregistered on-premises instances are never in. Stopped ones
 *   are (CodeDeploy deploys to them, and counts them failed).
 */
import type { Issue } from '../../domain/errors.js';
import { TAG_FILTER_TYPES, type DeploymentGroup, type Tag, type TagFilter } from '../../domain/model.js';
import { LIVE_STATES, tagsMatch, type GroupMember, type InstanceInfo } from './ports.js';

/** An EC2 instance that may be a target (what `Ec2Instances.matching` answers). */
export type Ec2Candidate = Pick<InstanceInfo, 'instanceId' | 'tags' | 'availabilityZone'> & { state?: string };

/** An on-premises instance that may be a target. */
export interface OnPremisesCandidate {
  instanceName: string;
  tags: readonly Tag[];
  /** Set once deregistered: then it is never a target. */
  deregisterTime?: string;
}

/** A target of a Server deployment: an EC2 instance (by id) or an on-premises instance (by name). */
export interface ServerTarget {
  /** The instance id (EC2) or the instance name (on-premises): CodeDeploy's target id. */
  targetId: string;
  kind: 'EC2' | 'OnPremises';
  availabilityZone?: string;
  /** Why it is a target: its tags, its Auto Scaling group, or both. */
  matchedBy: ('tags' | 'autoScalingGroup')[];
}

/** The group fields that select targets. */
export type TargetSelection = Pick<
  DeploymentGroup,
  'ec2TagFilters' | 'ec2TagSet' | 'onPremisesInstanceTagFilters' | 'onPremisesTagSet' | 'autoScalingGroups'
>;

/** Auto Scaling lifecycle states of instances leaving their group: not deployed to. */
const LEAVING = /^(Terminat|Detach)/;

/** Tags as a map (on-premises instances hold each key once, as EC2 does). */
function tagMap(tags: readonly Tag[] | Readonly<Record<string, string>>): Record<string, string> {
  const isList = (t: typeof tags): t is readonly Tag[] => Array.isArray(t);
  return isList(tags) ? Object.fromEntries(tags.map((t) => [t.Key, t.Value])) : { ...tags };
}

/** True when one of `tags` satisfies `filter`. Never throws. */
export function tagFilterMatches(filter: TagFilter, tags: readonly Tag[] | Readonly<Record<string, string>>): boolean {
  return tagsMatch(tagMap(tags), filter);
}

/** One tag group: true when any filter matches (an empty group matches nothing). Never throws. */
export function matchesAnyFilter(
  filters: readonly TagFilter[],
  tags: readonly Tag[] | Readonly<Record<string, string>>,
): boolean {
  const map = tagMap(tags);
  return filters.some((f) => tagsMatch(map, f));
}

/** A tag set: true when every group has a filter that matches (an empty set matches nothing). Never throws. */
export function matchesTagSet(
  groups: readonly (readonly TagFilter[])[],
  tags: readonly Tag[] | Readonly<Record<string, string>>,
): boolean {
  const map = tagMap(tags);
  return groups.length > 0 && groups.every((g) => g.some((f) => tagsMatch(map, f)));
}

/** Whether tags select an instance, by a filter list or a tag set (whichever the group has). */
function selectedByTags(
  filters: readonly TagFilter[] | undefined,
  set: readonly (readonly TagFilter[])[] | undefined,
  tags: readonly Tag[] | Readonly<Record<string, string>>,
): boolean {
  return (filters !== undefined && matchesAnyFilter(filters, tags)) || (set !== undefined && matchesTagSet(set, tags));
}

/**
 * The targets of a group among the candidates: EC2 instances (by tags, and the members of its Auto Scaling
 * groups) first, then on-premises instances, each kind in id order (UTF-16 code units). Never throws.
 */
export function selectTargets(
  group: TargetSelection,
  candidates: {
    ec2?: readonly Ec2Candidate[];
    autoScalingMembers?: readonly Pick<
      GroupMember,
      'instanceId' | 'autoScalingGroupName' | 'availabilityZone' | 'lifecycleState'
    >[];
    onPremises?: readonly OnPremisesCandidate[];
  },
): ServerTarget[] {
  const byId = (a: ServerTarget, b: ServerTarget) => (a.targetId < b.targetId ? -1 : a.targetId > b.targetId ? 1 : 0);
  const ec2 = new Map<string, ServerTarget>();
  const add = (instanceId: string, zone: string | undefined, why: ServerTarget['matchedBy'][number]) => {
    const known = ec2.get(instanceId);
    if (known) {
      if (!known.matchedBy.includes(why)) known.matchedBy.push(why);
      if (known.availabilityZone === undefined && zone !== undefined) known.availabilityZone = zone;
    } else
      ec2.set(instanceId, {
        targetId: instanceId,
        kind: 'EC2',
        ...(zone !== undefined ? { availabilityZone: zone } : {}),
        matchedBy: [why],
      });
  };
  for (const i of candidates.ec2 ?? []) {
    if (i.state !== undefined && !LIVE_STATES.includes(i.state)) continue;
    if (selectedByTags(group.ec2TagFilters, group.ec2TagSet?.ec2TagSetList, i.tags))
      add(i.instanceId, i.availabilityZone, 'tags');
  }
  const asgs = new Set(group.autoScalingGroups ?? []);
  for (const m of candidates.autoScalingMembers ?? []) {
    if (asgs.has(m.autoScalingGroupName) && !LEAVING.test(m.lifecycleState))
      add(m.instanceId, m.availabilityZone, 'autoScalingGroup');
  }
  const onPremises = new Map<string, ServerTarget>();
  for (const i of candidates.onPremises ?? []) {
    if (i.deregisterTime !== undefined) continue;
    if (selectedByTags(group.onPremisesInstanceTagFilters, group.onPremisesTagSet?.onPremisesTagSetList, i.tags))
      onPremises.set(i.instanceName, { targetId: i.instanceName, kind: 'OnPremises', matchedBy: ['tags'] });
  }
  return [...[...ec2.values()].sort(byId), ...[...onPremises.values()].sort(byId)];
}

/** CodeDeploy's limits on tags in a group: 10 filters per tag group, 3 groups per tag set; key 128, value 256. */
export const MAX_FILTERS_PER_TAG_GROUP = 10;
export const MAX_TAG_GROUPS = 3;
export const MAX_TAG_KEY_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTagFilterType = (v: unknown): v is TagFilter['Type'] =>
  typeof v === 'string' && (TAG_FILTER_TYPES as readonly string[]).includes(v);

/**
 * Issues with one tag filter as a request gives it (`Type` may be left out: it is then read from which of Key and
 * Value are given). KEY_ONLY needs a Key and takes no Value, VALUE_ONLY the other way round, KEY_AND_VALUE both;
 * a Key is 1–128 characters, a Value at most 256. Returns an empty list when it is valid; never throws.
 */
export function tagFilterIssues(input: unknown, path: string): Issue[] {
  if (!isObject(input)) return [{ path, message: 'must be {Key, Value, Type}' }];
  const { Key: key, Value: value, Type: type } = input;
  const issues: Issue[] = [];
  for (const [name, v, max] of [
    ['Key', key, MAX_TAG_KEY_LENGTH],
    ['Value', value, MAX_TAG_VALUE_LENGTH],
  ] as const) {
    if (v !== undefined && typeof v !== 'string') issues.push({ path: `${path}.${name}`, message: 'must be a string' });
    else if (typeof v === 'string' && v.length > max)
      issues.push({ path: `${path}.${name}`, message: `at most ${max} characters` });
  }
  if (issues.length) return issues;
  const k = key as string | undefined;
  const val = value as string | undefined;
  if (type !== undefined && !isTagFilterType(type)) {
    // CodeDeploy's own user guide shows Key and Type swapped in its tag-set examples: say so.
    const swapped = isTagFilterType(k) ? ` (Key is ${JSON.stringify(k)}: are Key and Type swapped?)` : '';
    return [{ path: `${path}.Type`, message: `must be KEY_ONLY, VALUE_ONLY or KEY_AND_VALUE${swapped}` }];
  }
  const t = type ?? inferredType(k, val);
  if (t === undefined) return [{ path, message: 'needs a Key, a Value or both' }];
  if (t !== 'VALUE_ONLY' && !k) issues.push({ path: `${path}.Key`, message: `required for ${t}` });
  if (t !== 'KEY_ONLY' && (val === undefined || (t === 'VALUE_ONLY' && val === '')))
    issues.push({ path: `${path}.Value`, message: `required for ${t}` });
  if (t === 'KEY_ONLY' && val) issues.push({ path: `${path}.Value`, message: 'must be left out for KEY_ONLY' });
  if (t === 'VALUE_ONLY' && k) issues.push({ path: `${path}.Key`, message: 'must be left out for VALUE_ONLY' });
  return issues;
}

/** A filter's Type when it gives none: as ports.ts `ec2FilterFor` reads it (both given: KEY_AND_VALUE). */
function inferredType(key: string | undefined, value: string | undefined): TagFilter['Type'] | undefined {
  if (key && value) return 'KEY_AND_VALUE';
  if (key) return 'KEY_ONLY';
  if (value) return 'VALUE_ONLY';
  return undefined;
}

/** A valid tag filter as stored: its Type filled in, only the fields its Type uses. */
export function normalizeTagFilter(input: { Key?: string; Value?: string; Type?: string }): TagFilter {
  const type = (input.Type as TagFilter['Type'] | undefined) ?? inferredType(input.Key, input.Value) ?? 'KEY_ONLY';
  if (type === 'KEY_ONLY') return { Key: input.Key ?? '', Type: type };
  if (type === 'VALUE_ONLY') return { Value: input.Value ?? '', Type: type };
  return { Key: input.Key ?? '', Value: input.Value ?? '', Type: type };
}

/**
 * Issues with a filter list (one tag group): a list of 1 to {@link MAX_FILTERS_PER_TAG_GROUP} valid filters, no
 * two alike. Returns an empty list when it is valid; never throws.
 */
export function tagGroupIssues(input: unknown, path: string): Issue[] {
  if (!Array.isArray(input)) return [{ path, message: 'must be a list of {Key, Value, Type}' }];
  if (input.length === 0) return [{ path, message: 'must hold at least one tag filter (or be left out)' }];
  const issues: Issue[] = input.flatMap((f: unknown, i) => tagFilterIssues(f, `${path}.${i}`));
  if (input.length > MAX_FILTERS_PER_TAG_GROUP)
    issues.push({ path, message: `at most ${MAX_FILTERS_PER_TAG_GROUP} tags in a tag group` });
  if (!issues.length) {
    const seen = new Set<string>();
    input.forEach((f: { Key?: string; Value?: string; Type?: string }, i) => {
      const key = JSON.stringify(normalizeTagFilter(f));
      if (seen.has(key)) issues.push({ path: `${path}.${i}`, message: 'is listed twice' });
      seen.add(key);
    });
  }
  return issues;
}

/**
 * Issues with a tag set's list of groups: 1 to {@link MAX_TAG_GROUPS} valid tag groups. The group count over the
 * limit is reported on its own (CodeDeploy answers it with TagSetListLimitExceededException). Returns an empty
 * list when it is valid; never throws.
 */
export function tagSetIssues(input: unknown, path: string): { issues: Issue[]; tooManyGroups: boolean } {
  if (!Array.isArray(input))
    return {
      issues: [{ path, message: 'must be a list of tag groups (lists of {Key, Value, Type})' }],
      tooManyGroups: false,
    };
  if (input.length === 0)
    return { issues: [{ path, message: 'must hold at least one tag group (or be left out)' }], tooManyGroups: false };
  const tooManyGroups = input.length > MAX_TAG_GROUPS;
  return {
    issues: [
      ...(tooManyGroups
        ? [{ path, message: `at most ${MAX_TAG_GROUPS} tag groups in a tag set (${input.length} given)` }]
        : []),
      ...input.flatMap((g: unknown, i) => tagGroupIssues(g, `${path}.${i}`)),
    ],
    tooManyGroups,
  };
}
