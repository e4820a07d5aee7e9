/**
 * The Server platform's ports (EC2 instances by tag, Auto Scaling members, ELBv2 instance targets):
 * one suite run against the SimWorld adapters and the AWS adapters. For AWS, small fakes answer the
 * way the services do (DescribeInstances ANDs its filters and pages; DescribeTargetHealth answers
 * `unused` for a target that is not registered), so both are held to the same outcomes.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  type DescribeAutoScalingGroupsCommandInput,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client, type DescribeInstancesCommandInput } from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
  TargetGroupNotFoundException,
  type DescribeTargetGroupsCommandInput,
  type DescribeTargetHealthCommandInput,
  type RegisterTargetsCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { clientConfig } from '../../src/adapters/aws/errors.js';
import { AwsAutoScalingGroups, Ec2TaggedInstances, ElbInstanceTargets } from '../../src/adapters/aws/server-hosts.js';
import { SimAutoScalingGroups, SimEc2Instances, SimTargetGroupTargets } from '../../src/adapters/sim/adapters.js';
import { SimWorld, type SimInstanceSpec } from '../../src/adapters/sim/world.js';
import { tagsMatch, type ServerPorts } from '../../src/platforms/server/ports.js';
import { ManualClock } from '../support/manual-clock.js';

const INSTANCES: SimInstanceSpec[] = [
  { id: 'i-0001', tags: { Name: 'web', Env: 'prod' }, availabilityZone: 'us-west-2a', autoScalingGroup: 'web-asg' },
  { id: 'i-0002', tags: { Name: 'web', Env: 'staging' }, availabilityZone: 'us-west-2b', autoScalingGroup: 'web-asg' },
  { id: 'i-0003', tags: { Role: 'prod' }, availabilityZone: 'us-west-2a' },
  { id: 'i-0004', tags: { Name: 'web', Env: 'prod' }, state: 'terminated' },
  { id: 'i-0005', tags: { Name: 'api' }, state: 'stopped' },
];
const TG = 'web-tg';

interface World {
  ports: ServerPorts;
  clock: ManualClock;
  /** Make a registered target pass its health checks now (a real ELB: the checks start passing). */
  settle(): void;
}

function simWorld(): World {
  const clock = new ManualClock();
  const w = new SimWorld(clock, {
    servers: {
      instances: INSTANCES,
      targetGroups: [{ name: TG, healthyAfterSeconds: 10, deregistrationDelaySeconds: 30 }],
    },
  });
  return {
    clock,
    ports: {
      ec2: new SimEc2Instances(w),
      autoScaling: new SimAutoScalingGroups(w),
      targetGroups: new SimTargetGroupTargets(w),
    },
    settle: () => clock.advance(60),
  };
}

const TG_ARN = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/web-tg/0123456789abcdef';

function awsWorld(): World {
  const clock = new ManualClock();
  const ec2 = mockClient(EC2Client);
  const asg = mockClient(AutoScalingClient);
  const elb = mockClient(ElasticLoadBalancingV2Client);
  ec2.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) => {
    // EC2 ANDs the filters; the adapter must page through NextToken (one instance a page here).
    const pass = INSTANCES.filter((i) =>
      (input.Filters ?? []).every((f) => {
        const v = f.Values?.[0] ?? '';
        const tags = i.tags ?? {};
        if (f.Name === 'instance-state-name') return f.Values!.includes(i.state ?? 'running');
        if (f.Name === 'tag-key') return tagsMatch(tags, { Key: v, Type: 'KEY_ONLY' });
        if (f.Name === 'tag-value') return tagsMatch(tags, { Value: v, Type: 'VALUE_ONLY' });
        return tags[f.Name!.slice(4)] === v;
      }),
    );
    const at = Number(input.NextToken ?? 0);
    const i = pass[at];
    return {
      Reservations: i
        ? [
            {
              Instances: [
                {
                  InstanceId: i.id,
                  State: { Name: i.state ?? 'running' },
                  Placement: { AvailabilityZone: i.availabilityZone },
                  Tags: Object.entries(i.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
                },
              ],
            },
          ]
        : [],
      ...(at + 1 < pass.length ? { NextToken: String(at + 1) } : {}),
    };
  });
  asg.on(DescribeAutoScalingGroupsCommand).callsFake((input: DescribeAutoScalingGroupsCommandInput) => ({
    AutoScalingGroups: [...new Set(INSTANCES.flatMap((i) => (i.autoScalingGroup ? [i.autoScalingGroup] : [])))]
      .filter((n) => input.AutoScalingGroupNames?.includes(n))
      .map((n) => ({
        AutoScalingGroupName: n,
        Instances: INSTANCES.filter((i) => i.autoScalingGroup === n).map((i) => ({
          InstanceId: i.id,
          AvailabilityZone: i.availabilityZone,
          LifecycleState: 'InService',
          HealthStatus: 'Healthy',
        })),
      })),
  }));
  const registered = new Map<string, { at: number; drainingSince?: number }>();
  elb.on(DescribeTargetGroupsCommand).callsFake((input: DescribeTargetGroupsCommandInput) => {
    if (input.Names?.some((n) => n !== TG))
      throw new TargetGroupNotFoundException({ message: 'One or more target groups not found', $metadata: {} });
    return { TargetGroups: [{ TargetGroupName: TG, TargetGroupArn: TG_ARN }] };
  });
  elb.on(RegisterTargetsCommand).callsFake((input: RegisterTargetsCommandInput) => {
    for (const t of input.Targets ?? []) {
      const cur = registered.get(t.Id!);
      if (!cur || cur.drainingSince !== undefined) registered.set(t.Id!, { at: clock.now().getTime() });
    }
    return {};
  });
  elb.on(DeregisterTargetsCommand).callsFake((input: RegisterTargetsCommandInput) => {
    for (const t of input.Targets ?? []) {
      const cur = registered.get(t.Id!);
      if (cur && cur.drainingSince === undefined) cur.drainingSince = clock.now().getTime();
    }
    return {};
  });
  elb.on(DescribeTargetHealthCommand).callsFake((input: DescribeTargetHealthCommandInput) => ({
    TargetHealthDescriptions: (input.Targets ?? []).map((t) => {
      const r = registered.get(t.Id!);
      const now = clock.now().getTime();
      const State = !r
        ? 'unused'
        : r.drainingSince !== undefined
          ? now < r.drainingSince + 30_000
            ? 'draining'
            : 'unused'
          : now < r.at + 10_000
            ? 'initial'
            : 'healthy';
      return { Target: { Id: t.Id }, TargetHealth: { State } };
    }),
  }));
  const config = clientConfig({ region: 'us-west-2' });
  return {
    clock,
    ports: {
      ec2: new Ec2TaggedInstances(new EC2Client(config)),
      autoScaling: new AwsAutoScalingGroups(new AutoScalingClient(config)),
      targetGroups: new ElbInstanceTargets(new ElasticLoadBalancingV2Client(config)),
    },
    settle: () => clock.advance(60),
  };
}

const ids = (xs: { instanceId: string }[]) => xs.map((x) => x.instanceId).sort();

describe.each([
  ['SimWorld', simWorld],
  ['AWS SDK', awsWorld],
] as const)('Server ports (%s)', (_, make) => {
  let w: World;
  beforeEach(() => {
    w = make();
  });

  it('selects instances that are not terminated by one tag filter of each type', async () => {
    expect(ids(await w.ports.ec2.matching({ Key: 'Env', Value: 'prod', Type: 'KEY_AND_VALUE' }))).toEqual(['i-0001']);
    expect(ids(await w.ports.ec2.matching({ Key: 'Env', Type: 'KEY_ONLY' }))).toEqual(['i-0001', 'i-0002']);
    expect(ids(await w.ports.ec2.matching({ Value: 'prod', Type: 'VALUE_ONLY' }))).toEqual(['i-0001', 'i-0003']);
    // Without Type: both given → key and value.
    expect(ids(await w.ports.ec2.matching({ Key: 'Name', Value: 'web' }))).toEqual(['i-0001', 'i-0002']);
    expect(await w.ports.ec2.matching({ Key: 'Nope', Value: 'x', Type: 'KEY_AND_VALUE' })).toEqual([]);
    // Stopped instances are targets (CodeDeploy counts them failed); terminated ones never.
    expect(await w.ports.ec2.matching({ Key: 'Name', Value: 'api' })).toMatchObject([
      { instanceId: 'i-0005', state: 'stopped' },
    ]);
    const [one] = await w.ports.ec2.matching({ Key: 'Env', Value: 'prod', Type: 'KEY_AND_VALUE' });
    expect(one).toMatchObject({ state: 'running', availabilityZone: 'us-west-2a', tags: { Name: 'web', Env: 'prod' } });
  });

  it('lists Auto Scaling members and names the groups that do not exist', async () => {
    const { members, missing } = await w.ports.autoScaling.members(['web-asg', 'gone-asg']);
    expect(ids(members)).toEqual(['i-0001', 'i-0002']);
    expect(members[0]).toMatchObject({ autoScalingGroupName: 'web-asg', lifecycleState: 'InService' });
    expect(missing).toEqual(['gone-asg']);
  });

  it('registers a target: initial, then healthy; deregisters it: draining, then unused; both idempotent', async () => {
    const { [TG]: arn } = await w.ports.targetGroups.arns([TG, 'missing-tg']);
    expect(arn).toMatch(/targetgroup\/web-tg\//);
    expect(await w.ports.targetGroups.health(arn!, ['i-0001'])).toEqual({ 'i-0001': 'unused' });
    await w.ports.targetGroups.register(arn!, 'i-0001');
    await w.ports.targetGroups.register(arn!, 'i-0001');
    expect(await w.ports.targetGroups.health(arn!, ['i-0001', 'i-0002'])).toEqual({
      'i-0001': 'initial',
      'i-0002': 'unused',
    });
    w.settle();
    expect(await w.ports.targetGroups.health(arn!, ['i-0001'])).toEqual({ 'i-0001': 'healthy' });
    await w.ports.targetGroups.deregister(arn!, 'i-0001');
    await w.ports.targetGroups.deregister(arn!, 'i-0001');
    await w.ports.targetGroups.deregister(arn!, 'i-0002');
    expect(await w.ports.targetGroups.health(arn!, ['i-0001'])).toEqual({ 'i-0001': 'draining' });
    w.settle();
    expect(await w.ports.targetGroups.health(arn!, ['i-0001'])).toEqual({ 'i-0001': 'unused' });
  });
});

describe('Server ports in the SimWorld only', () => {
  it('a target whose health check fails is unhealthy; the world remembers registrations', async () => {
    const clock = new ManualClock();
    const w = new SimWorld(clock, { servers: { instances: INSTANCES, targetGroups: [{ name: TG }] } });
    const tg = new SimTargetGroupTargets(w);
    const { [TG]: arn } = await tg.arns([TG]);
    await tg.register(arn!, 'i-0003');
    w.servers.setHealthy('i-0003', false);
    clock.advance(60);
    expect(await tg.health(arn!, ['i-0003'])).toEqual({ 'i-0003': 'unhealthy' });
    await expect(tg.register(arn!, 'i-9999')).rejects.toMatchObject({
      name: 'DependencyRejectedError',
      awsErrorName: 'InvalidTargetException',
    });
    const again = new SimWorld(clock, JSON.parse(JSON.stringify(w.snapshot())));
    expect(again.servers.registered(TG)).toEqual(['i-0003']);
  });
});
