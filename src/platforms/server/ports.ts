/**
 * What the Server (EC2/on-premises) platform needs from AWS besides the agent: the EC2 instances a
 * group's tags select, the members of its Auto Scaling groups, and ELBv2 target registration for
 * in-place traffic control (BlockTraffic deregisters a host, AllowTraffic registers it and waits
 * until it is healthy). Adapters: src/adapters/aws (SDK v3) and src/adapters/sim (the SimWorld).
 *
 * Error contract, as for every port: throttling and 5xx surface as DependencyUnavailableError;
 * AWS refusals (AccessDenied, validation) as DependencyRejectedError with AWS's error name.
 */

import type { TagFilter as GroupTagFilter } from '../../domain/model.js';

/**
 * One CodeDeploy tag filter (EC2TagFilter / TagFilter): `Type` says which of Key and Value must match. A
 * group stores its filters with their Type (domain/model.ts); a filter given without one is read as
 * `ec2FilterFor` says.
 */
export type TagFilter = Omit<GroupTagFilter, 'Type'> & { Type?: GroupTagFilter['Type'] };

/** EC2 instance states a deployment group still targets. */
export const LIVE_STATES: readonly string[] = ['pending', 'running', 'stopping', 'stopped'];

/** An EC2 instance, as a deployment needs it. */
export interface InstanceInfo {
  instanceId: string;
  /** `pending`, `running`, ... (DescribeInstances State.Name). */
  state: string;
  availabilityZone?: string;
  tags: Record<string, string>;
  privateIpAddress?: string;
}

/** An Auto Scaling group's member (DescribeAutoScalingGroups). */
export interface GroupMember {
  instanceId: string;
  autoScalingGroupName: string;
  availabilityZone?: string;
  /** `InService`, `Pending`, `Terminating`, ... */
  lifecycleState: string;
  /** `Healthy` or `Unhealthy`. */
  healthStatus: string;
}

/** ELBv2 DescribeTargetHealth's states; `unused` also for a target that is not registered. */
export type TargetHealthState = 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining' | 'unavailable';

/** EC2 instances selected by tags. */
export interface Ec2Instances {
  /**
   * The instances that are not terminated or terminating (LIVE_STATES: CodeDeploy deploys to a
   * stopped one and counts it failed) and match one tag filter (DescribeInstances, every page): a
   * KEY_ONLY filter matches the key with any value, VALUE_ONLY any key with the value, KEY_AND_VALUE
   * both (a filter without Type: KEY_AND_VALUE when it has both, else the one it has).
   */
  matching(filter: TagFilter): Promise<InstanceInfo[]>;
}

/** Auto Scaling groups' members. */
export interface AutoScalingGroups {
  /** The members of the named groups; names that do not exist are listed in `missing`, not thrown. */
  members(names: string[]): Promise<{ members: GroupMember[]; missing: string[] }>;
}

/** ELBv2 target groups with instance targets. */
export interface TargetGroupTargets {
  /** Target group ARNs by name (DescribeTargetGroups); names that do not exist are absent. */
  arns(names: string[]): Promise<Record<string, string>>;
  /** RegisterTargets. Registering a registered target is not an error (ELB treats it so). */
  register(targetGroupArn: string, instanceId: string): Promise<void>;
  /** DeregisterTargets. Deregistering a target that is not registered is not an error. */
  deregister(targetGroupArn: string, instanceId: string): Promise<void>;
  /** DescribeTargetHealth for these instances (each present in the answer). */
  health(targetGroupArn: string, instanceIds: string[]): Promise<Record<string, TargetHealthState>>;
}

/** The Server platform's ports. */
export interface ServerPorts {
  ec2: Ec2Instances;
  autoScaling: AutoScalingGroups;
  targetGroups: TargetGroupTargets;
}

/** The DescribeInstances filter for a tag filter (undefined: a filter that selects nothing). */
export function ec2FilterFor(filter: TagFilter): { Name: string; Values: string[] } | undefined {
  const type = filter.Type ?? (filter.Key && filter.Value ? 'KEY_AND_VALUE' : filter.Key ? 'KEY_ONLY' : 'VALUE_ONLY');
  if (type === 'KEY_ONLY') return filter.Key ? { Name: 'tag-key', Values: [filter.Key] } : undefined;
  if (type === 'VALUE_ONLY') return filter.Value ? { Name: 'tag-value', Values: [filter.Value] } : undefined;
  return filter.Key && filter.Value !== undefined ? { Name: `tag:${filter.Key}`, Values: [filter.Value] } : undefined;
}

/** Does an instance's tag set match a tag filter (the same rule as ec2FilterFor, for simulated worlds)? */
export function tagsMatch(tags: Record<string, string>, filter: TagFilter): boolean {
  const f = ec2FilterFor(filter);
  if (!f) return false;
  const value = f.Values[0]!;
  if (f.Name === 'tag-key') return value in tags;
  if (f.Name === 'tag-value') return Object.values(tags).includes(value);
  return tags[f.Name.slice('tag:'.length)] === value;
}
