/**
 * The Server platform's AWS adapters: EC2 instances by tags, Auto Scaling group members, and ELBv2
 * instance targets. Calls `ec2:DescribeInstances`, `autoscaling:DescribeAutoScalingGroups`,
 * `elasticloadbalancing:DescribeTargetGroups`, `RegisterTargets`, `DeregisterTargets` and
 * `DescribeTargetHealth`.
 */
import { DescribeAutoScalingGroupsCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  ec2FilterFor,
  type AutoScalingGroups,
  type Ec2Instances,
  type GroupMember,
  type InstanceInfo,
  type TagFilter,
  type TargetGroupTargets,
  type TargetHealthState,
} from '../../platforms/server/ports.js';
import { LIVE_STATES } from '../../platforms/server/ports.js';
import { mapAwsError } from './errors.js';
import { ElbListenerRouter } from './load-balancers.js';

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw mapAwsError(e, what);
  }
}

/** EC2 instances by tag filter. */
export class Ec2TaggedInstances implements Ec2Instances {
  constructor(private readonly client: EC2Client) {}

  async matching(filter: TagFilter): Promise<InstanceInfo[]> {
    const tag = ec2FilterFor(filter);
    if (!tag) return [];
    const out: InstanceInfo[] = [];
    let token: string | undefined;
    do {
      const page = await call(`DescribeInstances ${tag.Name}=${tag.Values[0]}`, () =>
        this.client.send(
          new DescribeInstancesCommand({
            Filters: [{ Name: 'instance-state-name', Values: [...LIVE_STATES] }, tag],
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      for (const r of page.Reservations ?? [])
        for (const i of r.Instances ?? []) {
          if (!i.InstanceId) continue;
          out.push({
            instanceId: i.InstanceId,
            state: i.State?.Name ?? 'unknown',
            ...(i.Placement?.AvailabilityZone ? { availabilityZone: i.Placement.AvailabilityZone } : {}),
            tags: Object.fromEntries((i.Tags ?? []).flatMap((t) => (t.Key ? [[t.Key, t.Value ?? '']] : []))),
            ...(i.PrivateIpAddress ? { privateIpAddress: i.PrivateIpAddress } : {}),
          });
        }
      token = page.NextToken;
    } while (token);
    return out;
  }
}

/** Auto Scaling groups' members. */
export class AwsAutoScalingGroups implements AutoScalingGroups {
  constructor(private readonly client: AutoScalingClient) {}

  async members(names: string[]): Promise<{ members: GroupMember[]; missing: string[] }> {
    const found = new Set<string>();
    const members: GroupMember[] = [];
    // DescribeAutoScalingGroups takes at most 100 names a call.
    for (let i = 0; i < names.length; i += 100) {
      const batch = names.slice(i, i + 100);
      let token: string | undefined;
      do {
        const page = await call(`DescribeAutoScalingGroups ${batch.join(',')}`, () =>
          this.client.send(
            new DescribeAutoScalingGroupsCommand({
              AutoScalingGroupNames: batch,
              MaxRecords: 100,
              ...(token ? { NextToken: token } : {}),
            }),
          ),
        );
        for (const g of page.AutoScalingGroups ?? []) {
          if (!g.AutoScalingGroupName) continue;
          found.add(g.AutoScalingGroupName);
          for (const m of g.Instances ?? [])
            if (m.InstanceId)
              members.push({
                instanceId: m.InstanceId,
                autoScalingGroupName: g.AutoScalingGroupName,
                ...(m.AvailabilityZone ? { availabilityZone: m.AvailabilityZone } : {}),
                lifecycleState: m.LifecycleState ?? 'Unknown',
                healthStatus: m.HealthStatus ?? 'Unknown',
              });
        }
        token = page.NextToken;
      } while (token);
    }
    return { members, missing: names.filter((n) => !found.has(n)) };
  }
}

const STATES: ReadonlySet<string> = new Set(['initial', 'healthy', 'unhealthy', 'unused', 'draining', 'unavailable']);

/** ELBv2 instance targets. */
export class ElbInstanceTargets implements TargetGroupTargets {
  private readonly groups: ElbListenerRouter;

  constructor(private readonly client: ElasticLoadBalancingV2Client) {
    this.groups = new ElbListenerRouter(client);
  }

  arns(names: string[]): Promise<Record<string, string>> {
    return this.groups.targetGroupArns(names);
  }

  async register(targetGroupArn: string, instanceId: string): Promise<void> {
    await call(`RegisterTargets ${instanceId} in ${targetGroupArn}`, () =>
      this.client.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId }] })),
    );
  }

  async deregister(targetGroupArn: string, instanceId: string): Promise<void> {
    await call(`DeregisterTargets ${instanceId} from ${targetGroupArn}`, () =>
      this.client.send(new DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId }] })),
    );
  }

  async health(targetGroupArn: string, instanceIds: string[]): Promise<Record<string, TargetHealthState>> {
    if (instanceIds.length === 0) return {};
    const res = await call(`DescribeTargetHealth ${targetGroupArn}`, () =>
      this.client.send(
        new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn, Targets: instanceIds.map((Id) => ({ Id })) }),
      ),
    );
    const out: Record<string, TargetHealthState> = Object.fromEntries(instanceIds.map((id) => [id, 'unused']));
    for (const d of res.TargetHealthDescriptions ?? []) {
      const id = d.Target?.Id;
      const state = d.TargetHealth?.State;
      if (id && id in out && state) out[id] = (STATES.has(state) ? state : 'unavailable') as TargetHealthState;
    }
    return out;
  }
}
