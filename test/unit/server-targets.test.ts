/**
 * Which instances a Server group deploys to: CodeDeploy's four examples from "Tagging instances for deployment
 * groups", the three filter types, on-premises tag sets, Auto Scaling groups, and the rules for tag filters.
 */
import { describe, expect, it } from 'vitest';
import type { Tag, TagFilter } from '../../src/domain/model.js';
import {
  matchesTagSet,
  normalizeTagFilter,
  selectTargets,
  tagFilterIssues,
  tagFilterMatches,
  tagGroupIssues,
  tagSetIssues,
  type Ec2Candidate,
} from '../../src/platforms/server/targets.js';

/** `Name=web,Region=North` → tags. */
const tags = (text: string): Tag[] =>
  text
    .split(',')
    .filter(Boolean)
    .map((kv) => {
      const [Key, Value] = kv.split('=');
      return { Key: Key!, Value: Value ?? '' };
    });
const kv = (Key: string, Value: string): TagFilter => ({ Key, Value, Type: 'KEY_AND_VALUE' });
/** EC2 instances i-1, i-2, ... with these tags (as DescribeInstances' port gives them: a map). */
const fleet = (...tagTexts: string[]): Ec2Candidate[] =>
  tagTexts.map((t, i) => ({
    instanceId: `i-${i + 1}`,
    tags: Object.fromEntries(tags(t).map((x) => [x.Key, x.Value])),
    availabilityZone: 'us-east-1a',
  }));
const ids = (targets: { targetId: string }[]) => targets.map((t) => t.targetId);

describe("CodeDeploy's tagging examples", () => {
  it('example 1: a single tag group with a single tag; other tags do not matter', () => {
    const ec2 = fleet('Name=AppVersion-ABC', 'Name=AppVersion-ABC,Region=West', 'Name=AppVersion-XYZ', '');
    expect(ids(selectTargets({ ec2TagFilters: [kv('Name', 'AppVersion-ABC')] }, { ec2 }))).toEqual(['i-1', 'i-2']);
  });

  it('example 2: a single tag group with several tags: any of them', () => {
    const ec2 = fleet('Region=North', 'Region=South', 'Region=East', 'Region=West');
    const ec2TagFilters = [kv('Region', 'North'), kv('Region', 'South'), kv('Region', 'East')];
    expect(ids(selectTargets({ ec2TagFilters }, { ec2 }))).toEqual(['i-1', 'i-2', 'i-3']);
  });

  it('example 3: several tag groups of one tag each: all of them', () => {
    const ec2 = fleet(
      'Name=AppVersion-ABC,Region=North,Type=t2.medium',
      'Name=AppVersion-ABC,Region=South,Type=t2.medium',
      'Name=AppVersion-ABC,Region=North,Type=t2.large',
      'Name=AppVersion-ABC',
    );
    const ec2TagSetList = [[kv('Name', 'AppVersion-ABC')], [kv('Region', 'North')], [kv('Type', 't2.medium')]];
    expect(ids(selectTargets({ ec2TagSet: { ec2TagSetList } }, { ec2 }))).toEqual(['i-1']);
  });

  it('example 4: several tag groups of several tags: one tag of each group', () => {
    const ec2TagSetList = [
      [kv('Environment', 'Beta'), kv('Environment', 'Staging')],
      [kv('Region', 'North'), kv('Region', 'South'), kv('Region', 'East')],
      [kv('Type', 't2.medium'), kv('Type', 't2.large')],
    ];
    const included = ['Environment=Beta,Region=North,Type=t2.medium', 'Environment=Staging,Region=East,Type=t2.large'];
    const alsoIncluded = 'Environment=Staging,Region=South,Type=t2.large';
    const excluded = [
      'Environment=Beta,Region=West,Type=t2.medium',
      'Environment=Staging,Region=East,Type=t2.micro',
      'Environment=Production,Region=South,Type=t2.large',
    ];
    const ec2 = fleet(...included, alsoIncluded, ...excluded);
    expect(ids(selectTargets({ ec2TagSet: { ec2TagSetList } }, { ec2 }))).toEqual(['i-1', 'i-2', 'i-3']);
  });
});

describe('tag filters', () => {
  const t = tags('Name=web,Env=prod,Empty=');
  it('KEY_ONLY matches the key with any value; VALUE_ONLY the value under any key; KEY_AND_VALUE both', () => {
    expect(tagFilterMatches({ Key: 'Name', Type: 'KEY_ONLY' }, t)).toBe(true);
    expect(tagFilterMatches({ Key: 'name', Type: 'KEY_ONLY' }, t)).toBe(false); // case-sensitive
    expect(tagFilterMatches({ Value: 'prod', Type: 'VALUE_ONLY' }, t)).toBe(true);
    expect(tagFilterMatches({ Value: 'Env', Type: 'VALUE_ONLY' }, t)).toBe(false);
    expect(tagFilterMatches(kv('Env', 'prod'), t)).toBe(true);
    expect(tagFilterMatches(kv('Name', 'prod'), t)).toBe(false);
    expect(tagFilterMatches(kv('Empty', ''), t)).toBe(true);
  });

  it('an empty tag set matches nothing', () => {
    expect(matchesTagSet([], t)).toBe(false);
  });
});

describe('selectTargets', () => {
  it('on-premises instances by their filters or tag set; deregistered ones never', () => {
    const onPremises = [
      { instanceName: 'rack-2', tags: tags('Role=web,Site=paris') },
      { instanceName: 'rack-1', tags: tags('Role=web,Site=lyon') },
      { instanceName: 'rack-3', tags: tags('Role=web,Site=paris'), deregisterTime: '2026-01-01T00:00:00.000Z' },
      { instanceName: 'rack-4', tags: tags('Role=db,Site=paris') },
    ];
    expect(ids(selectTargets({ onPremisesInstanceTagFilters: [kv('Role', 'web')] }, { onPremises }))).toEqual([
      'rack-1',
      'rack-2',
    ]);
    const onPremisesTagSetList = [[kv('Role', 'web')], [{ Value: 'paris', Type: 'VALUE_ONLY' as const }]];
    expect(selectTargets({ onPremisesTagSet: { onPremisesTagSetList } }, { onPremises })).toEqual([
      { targetId: 'rack-2', kind: 'OnPremises', matchedBy: ['tags'] },
    ]);
  });

  it('EC2 and on-premises filters apply each to its own kind', () => {
    const ec2 = fleet('Role=web');
    const onPremises = [{ instanceName: 'rack-1', tags: tags('Role=web') }];
    expect(ids(selectTargets({ ec2TagFilters: [kv('Role', 'web')] }, { ec2, onPremises }))).toEqual(['i-1']);
    expect(ids(selectTargets({ onPremisesInstanceTagFilters: [kv('Role', 'web')] }, { ec2, onPremises }))).toEqual([
      'rack-1',
    ]);
    expect(
      ids(
        selectTargets(
          { ec2TagFilters: [kv('Role', 'web')], onPremisesInstanceTagFilters: [kv('Role', 'web')] },
          { ec2, onPremises },
        ),
      ),
    ).toEqual(['i-1', 'rack-1']);
  });

  it("Auto Scaling groups' members are targets whatever their tags, unless leaving; each instance once, with why", () => {
    const ec2: Ec2Candidate[] = [
      { instanceId: 'i-3', tags: { Role: 'web' }, availabilityZone: 'us-east-1b' },
      { instanceId: 'i-2', tags: { Role: 'web' }, availabilityZone: 'us-east-1a' },
    ];
    const member = (instanceId: string, autoScalingGroupName: string, lifecycleState = 'InService') => ({
      instanceId,
      autoScalingGroupName,
      availabilityZone: 'us-east-1a',
      lifecycleState,
    });
    const autoScalingMembers = [
      member('i-3', 'web-asg'),
      member('i-1', 'web-asg'),
      member('i-4', 'other-asg'),
      member('i-5', 'web-asg', 'Terminating:Wait'),
      member('i-6', 'web-asg', 'Detaching'),
    ];
    expect(
      selectTargets(
        { ec2TagFilters: [kv('Role', 'web')], autoScalingGroups: ['web-asg'] },
        { ec2, autoScalingMembers },
      ),
    ).toEqual([
      { targetId: 'i-1', kind: 'EC2', availabilityZone: 'us-east-1a', matchedBy: ['autoScalingGroup'] },
      { targetId: 'i-2', kind: 'EC2', availabilityZone: 'us-east-1a', matchedBy: ['tags'] },
      { targetId: 'i-3', kind: 'EC2', availabilityZone: 'us-east-1b', matchedBy: ['tags', 'autoScalingGroup'] },
    ]);
  });

  it('terminated and terminating instances are left out; stopped ones are targets (they will fail)', () => {
    const ec2 = fleet('Role=web', 'Role=web', 'Role=web', 'Role=web').map((i, k) => ({
      ...i,
      state: ['running', 'stopped', 'terminated', 'shutting-down'][k]!,
    }));
    expect(ids(selectTargets({ ec2TagFilters: [kv('Role', 'web')] }, { ec2 }))).toEqual(['i-1', 'i-2']);
  });

  it('a group that selects nothing has no targets', () => {
    expect(selectTargets({}, { ec2: fleet('Role=web'), onPremises: [{ instanceName: 'a', tags: [] }] })).toEqual([]);
  });
});

describe('tag filter rules', () => {
  it('each type needs its own fields and no others; Type is read from the fields when left out', () => {
    expect(tagFilterIssues({ Key: 'Name', Type: 'KEY_ONLY' }, 'f')).toEqual([]);
    expect(tagFilterIssues({ Key: 'Name', Value: '', Type: 'KEY_ONLY' }, 'f')).toEqual([]);
    expect(tagFilterIssues({ Key: 'Name', Value: 'web', Type: 'KEY_ONLY' }, 'f')).toEqual([
      { path: 'f.Value', message: 'must be left out for KEY_ONLY' },
    ]);
    expect(tagFilterIssues({ Type: 'VALUE_ONLY' }, 'f')).toEqual([
      { path: 'f.Value', message: 'required for VALUE_ONLY' },
    ]);
    expect(tagFilterIssues({ Value: 'x', Type: 'KEY_AND_VALUE' }, 'f')).toEqual([
      { path: 'f.Key', message: 'required for KEY_AND_VALUE' },
    ]);
    expect(tagFilterIssues({}, 'f')).toEqual([{ path: 'f', message: 'needs a Key, a Value or both' }]);
    expect(normalizeTagFilter({ Key: 'Name', Value: 'web' })).toEqual(kv('Name', 'web'));
    expect(normalizeTagFilter({ Key: 'Name' })).toEqual({ Key: 'Name', Type: 'KEY_ONLY' });
    expect(normalizeTagFilter({ Value: 'web' })).toEqual({ Value: 'web', Type: 'VALUE_ONLY' });
    expect(normalizeTagFilter({ Key: 'Name', Value: '', Type: 'KEY_ONLY' })).toEqual({ Key: 'Name', Type: 'KEY_ONLY' });
    // As ec2FilterFor reads a filter without Type: an empty Value is no value.
    expect(normalizeTagFilter({ Key: 'Name', Value: '' })).toEqual({ Key: 'Name', Type: 'KEY_ONLY' });
  });

  it("a Type that is not one, with a hint when Key and Type are swapped (as in CodeDeploy's own examples)", () => {
    expect(tagFilterIssues({ Key: 'KEY_AND_VALUE', Type: 'Name', Value: 'AppVersion-ABC' }, 'f')).toEqual([
      {
        path: 'f.Type',
        message: 'must be KEY_ONLY, VALUE_ONLY or KEY_AND_VALUE (Key is "KEY_AND_VALUE": are Key and Type swapped?)',
      },
    ]);
  });

  it('lengths, group sizes and duplicates; every problem with its path', () => {
    expect(tagFilterIssues({ Key: 'k'.repeat(129), Value: 'v'.repeat(257) }, 'f')).toEqual([
      { path: 'f.Key', message: 'at most 128 characters' },
      { path: 'f.Value', message: 'at most 256 characters' },
    ]);
    const eleven = Array.from({ length: 11 }, (_, i) => kv('Role', `r${i}`));
    expect(tagGroupIssues(eleven, 'g')).toEqual([{ path: 'g', message: 'at most 10 tags in a tag group' }]);
    expect(tagGroupIssues([kv('a', 'b'), { Key: 'a', Value: 'b' }], 'g')).toEqual([
      { path: 'g.1', message: 'is listed twice' },
    ]);
    expect(tagGroupIssues([], 'g')).toEqual([
      { path: 'g', message: 'must hold at least one tag filter (or be left out)' },
    ]);
    const four = tagSetIssues([[kv('a', '1')], [kv('b', '2')], [kv('c', '3')], [{ Type: 'KEY_ONLY' }]], 's');
    expect(four.tooManyGroups).toBe(true);
    expect(four.issues).toEqual([
      { path: 's', message: 'at most 3 tag groups in a tag set (4 given)' },
      { path: 's.3.0.Key', message: 'required for KEY_ONLY' },
    ]);
  });
});
