/**
 * CodeDeploy's rules for an EC2/on-premises (Server) deployment group, every problem at once with its path and,
 * where the field alone does not name it, CodeDeploy's exception; and the group as stored.
 *
 * - Instances: `ec2TagFilters` or `ec2TagSet` (not both: InvalidEC2TagCombinationException),
 *   `onPremisesInstanceTagFilters` or `onPremisesTagSet` (not both: InvalidOnPremisesTagCombinationException);
 *   filters as in targets.ts (InvalidEC2TagException, InvalidTagException); at most 3 groups in a tag set
 *   (TagSetListLimitExceededException); up to 10 Auto Scaling groups (InvalidAutoScalingGroupException). An
 *   empty list is the same as none (how UpdateDeploymentGroup clears one).
 * - `deploymentStyle` IN_PLACE, WITH or WITHOUT_TRAFFIC_CONTROL (default WITHOUT); BLUE_GREEN is refused
 *   (InvalidDeploymentStyleException): Cutover does not provision replacement fleets.
 * - `loadBalancerInfo.targetGroupInfoList`: up to 10 ALB/NLB target groups, required with traffic control
 *   (InvalidLoadBalancerInfoException). Classic Load Balancers (`elbInfoList`) and ECS's
 *   `targetGroupPairInfoList` are refused, each saying what to use instead.
 * - `blueGreenDeploymentConfiguration` is refused; `terminationHookEnabled` only false; `serviceRoleArn`, when
 *   given, is an IAM role ARN (InvalidRoleException).
 */
import type { Issue } from '../../domain/errors.js';
import type { DeploymentStyle, TagFilter } from '../../domain/model.js';
import type { GroupInput } from '../../ports/store.js';
import { normalizeTagFilter, tagGroupIssues, tagSetIssues } from './targets.js';

/** CodeDeploy: at most 10 Auto Scaling groups and 10 target groups per deployment group. */
export const MAX_AUTO_SCALING_GROUPS = 10;
export const MAX_TARGET_GROUPS = 10;

/** CodeDeploy's default for a Server group: in place, without a load balancer. */
export const DEFAULT_SERVER_STYLE: DeploymentStyle = {
  deploymentType: 'IN_PLACE',
  deploymentOption: 'WITHOUT_TRAFFIC_CONTROL',
};

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

const given = (v: unknown): boolean => v !== undefined && !(Array.isArray(v) && v.length === 0);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A tag-set field (`{<listKey>: [[filter...]...]}`) as a request gives it. */
function tagSetFieldIssues(input: unknown, path: string, listKey: string): Issue[] {
  if (!isObject(input)) return [{ path, message: `must be {${listKey}: [[{Key, Value, Type}...]...]}` }];
  const list = input[listKey];
  if (list === undefined || (Array.isArray(list) && list.length === 0)) return [];
  const { issues, tooManyGroups } = tagSetIssues(list, `${path}.${listKey}`);
  return issues.map((i) =>
    tooManyGroups && i.path === `${path}.${listKey}` ? { ...i, exception: 'TagSetListLimitExceededException' } : i,
  );
}

/** The instance selectors: a list and a set of one kind exclude each other. */
function selectorIssues(input: GroupInput): Issue[] {
  const issues: Issue[] = [];
  const pairs = [
    ['ec2TagFilters', 'ec2TagSet', 'ec2TagSetList', 'InvalidEC2TagCombinationException'],
    [
      'onPremisesInstanceTagFilters',
      'onPremisesTagSet',
      'onPremisesTagSetList',
      'InvalidOnPremisesTagCombinationException',
    ],
  ] as const;
  for (const [listField, setField, listKey, exception] of pairs) {
    const list: unknown = input[listField];
    const set: unknown = input[setField];
    const setGiven = isObject(set) ? given(set[listKey]) : set !== undefined;
    if (given(list) && setGiven)
      issues.push({ path: setField, message: `cannot be given with ${listField}: use one of them`, exception });
    if (given(list)) issues.push(...tagGroupIssues(list, listField));
    if (set !== undefined) issues.push(...tagSetFieldIssues(set, setField, listKey));
  }
  const asgs = input.autoScalingGroups ?? [];
  if (asgs.length > MAX_AUTO_SCALING_GROUPS)
    issues.push({ path: 'autoScalingGroups', message: `at most ${MAX_AUTO_SCALING_GROUPS} Auto Scaling groups` });
  asgs.forEach((name, i) => {
    if (name.length < 1 || name.length > 255)
      issues.push({ path: `autoScalingGroups.${i}`, message: 'an Auto Scaling group name has 1 to 255 characters' });
    else if (asgs.indexOf(name) !== i)
      issues.push({ path: `autoScalingGroups.${i}`, message: `${name} is listed twice` });
  });
  return issues;
}

/** Deployment style, load balancer and the blue/green fields. */
function trafficIssues(input: GroupInput): Issue[] {
  const issues: Issue[] = [];
  const style = input.deploymentStyle ?? DEFAULT_SERVER_STYLE;
  if (style.deploymentType !== 'IN_PLACE')
    issues.push({
      path: 'deploymentStyle.deploymentType',
      message:
        'Server groups deploy IN_PLACE in Cutover; BLUE_GREEN (a replacement fleet of new instances) is not supported',
    });
  const lb = input.loadBalancerInfo;
  const targetGroups = lb?.targetGroupInfoList ?? [];
  if (given(lb?.elbInfoList))
    issues.push({
      path: 'loadBalancerInfo.elbInfoList',
      message:
        'Classic Load Balancers are not supported: put the instances behind an Application or Network Load Balancer and name its target groups in targetGroupInfoList',
    });
  if (given(lb?.targetGroupPairInfoList))
    issues.push({
      path: 'loadBalancerInfo.targetGroupPairInfoList',
      message: 'is for ECS groups; a Server group names the target groups its instances serve in targetGroupInfoList',
      exception: 'InvalidTargetGroupPairException',
    });
  if (targetGroups.length > MAX_TARGET_GROUPS)
    issues.push({
      path: 'loadBalancerInfo.targetGroupInfoList',
      message: `at most ${MAX_TARGET_GROUPS} target groups`,
    });
  targetGroups.forEach((tg, i) => {
    if (targetGroups.findIndex((t) => t.name === tg.name) !== i)
      issues.push({ path: `loadBalancerInfo.targetGroupInfoList.${i}`, message: `${tg.name} is listed twice` });
  });
  if (style.deploymentOption === 'WITH_TRAFFIC_CONTROL' && targetGroups.length === 0 && !given(lb?.elbInfoList))
    issues.push({
      path: 'loadBalancerInfo.targetGroupInfoList',
      message:
        'required with WITH_TRAFFIC_CONTROL: the target groups an instance leaves during BlockTraffic and rejoins during AllowTraffic',
    });
  if (input.blueGreenDeploymentConfiguration !== undefined)
    issues.push({
      path: 'blueGreenDeploymentConfiguration',
      message: 'Server groups deploy IN_PLACE in Cutover; blue/green settings do not apply',
    });
  return issues;
}

/** Every problem with a Server group's own fields (the fields all platforms share are checked elsewhere). */
export function serverGroupIssues(input: GroupInput): Issue[] {
  const issues = [...selectorIssues(input), ...trafficIssues(input)];
  if (input.serviceRoleArn !== undefined && !ROLE_ARN.test(input.serviceRoleArn))
    issues.push({ path: 'serviceRoleArn', message: 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)' });
  if (input.terminationHookEnabled === true)
    issues.push({
      path: 'terminationHookEnabled',
      message: 'termination deployments (on Auto Scaling scale-in) are not supported yet; leave it out or false',
    });
  return issues;
}

const filters = (list: TagFilter[] | undefined): TagFilter[] | undefined =>
  list?.length ? list.map(normalizeTagFilter) : undefined;
const groups = (list: TagFilter[][] | undefined): TagFilter[][] | undefined =>
  list?.length ? list.map((g) => g.map(normalizeTagFilter)) : undefined;

/**
 * A valid Server group as stored: tag filters with their Type, empty lists dropped, CodeDeploy's defaults
 * (IN_PLACE WITHOUT_TRAFFIC_CONTROL, outdatedInstancesStrategy UPDATE) filled in.
 */
export function normalizeServerGroup(input: GroupInput): GroupInput {
  const {
    ec2TagFilters,
    ec2TagSet,
    onPremisesInstanceTagFilters,
    onPremisesTagSet,
    autoScalingGroups,
    terminationHookEnabled: _t,
    ...rest
  } = input;
  const ec2Set = groups(ec2TagSet?.ec2TagSetList);
  const onPremSet = groups(onPremisesTagSet?.onPremisesTagSetList);
  const ec2 = filters(ec2TagFilters);
  const onPrem = filters(onPremisesInstanceTagFilters);
  const lb = input.loadBalancerInfo;
  return {
    ...rest,
    deploymentStyle: input.deploymentStyle ?? DEFAULT_SERVER_STYLE,
    outdatedInstancesStrategy: input.outdatedInstancesStrategy ?? 'UPDATE',
    ...(ec2 ? { ec2TagFilters: ec2 } : {}),
    ...(ec2Set ? { ec2TagSet: { ec2TagSetList: ec2Set } } : {}),
    ...(onPrem ? { onPremisesInstanceTagFilters: onPrem } : {}),
    ...(onPremSet ? { onPremisesTagSet: { onPremisesTagSetList: onPremSet } } : {}),
    ...(autoScalingGroups?.length ? { autoScalingGroups } : {}),
    loadBalancerInfo: lb?.targetGroupInfoList?.length ? { targetGroupInfoList: lb.targetGroupInfoList } : undefined,
  };
}
