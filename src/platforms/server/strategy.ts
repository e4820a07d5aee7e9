/**
 * The Server (EC2/on-premises in-place) strategy. The deployment flow is the engine's (plan, waves as
 * steps, bakes, alarms, approvals, stop, rollback, outcome); what moves is hosts, through the fleet
 * (src/platforms/server/fleet, ADR 16):
 *
 * - `check` resolves the group's instances (EC2 tags and tag sets, Auto Scaling members, on-premises
 *   tags) from the world and keeps them as the deployment's facts.
 * - `setWeight(w)` releases wave `i` (the step being applied) to the fleet: the first call plans the
 *   fleet with CodeDeploy's start check (NO_INSTANCES, HEALTH_CONSTRAINTS_INVALID).
 * - `verifyWeight` reads the fleet's progress: verified once the wave's hosts are done with the
 *   minimum held, pending until the earliest host deadline (the state machine waits in a callback the
 *   fleet completes at the wave's end), or failed with CodeDeploy's code (HEALTH_CONSTRAINTS).
 * - `restore` is CodeDeploy's in-place rollback: it stops the fleet (no host starts another event), waits for
 *   commands still running, then redeploys the group's last successful revision to the hosts that ran any
 *   event of the new one, as the rollback deployment (creator codeDeployRollback) the engine recorded. That
 *   deployment has a fleet of its own; the rollback is verified when its hosts succeed. The minimum healthy
 *   hosts hold across the whole group: the hosts the rollback does not touch count as healthy.
 */
import { PreconditionFailedError } from '../../domain/errors.js';
import type { Deployment, DeploymentSpec, RevisionLocation } from '../../domain/model.js';
import { codedMessage } from '../../domain/outcome.js';
import { revisionKey } from '../../domain/revisions.js';
import type { Clock, Deployments, EventPublisher, IdSource } from '../../ports/index.js';
import type { HostCommands } from '../../ports/host-commands.js';
import type { Catalog, Instances } from '../../ports/store.js';
import type { Assessment, CheckContext, Restoration, TargetStrategy, Verification } from '../platform.js';
import { Fleet, instanceNotices, targetGroupEvents, type FleetSetupHost } from './fleet/index.js';
import { predefinedServerConfig, type ServerSchedulingConfig } from './deployment-config.js';
import { minimumHealthyHostCount } from './scheduling.js';
import type { Ec2Instances, AutoScalingGroups, TargetGroupTargets } from './ports.js';
import { selectTargets, type Ec2Candidate, type TargetSelection } from './targets.js';

/** What a Server deployment targets, fixed at create: how hosts take traffic and what the AppSpec asks. */
export interface ServerDeploymentTarget {
  /** deploymentStyle WITH_TRAFFIC_CONTROL: hosts leave and rejoin these target groups (by name). */
  targetGroups: string[];
  trafficControl: boolean;
  /** The AppSpec's file_exists_behavior. */
  fileExistsBehavior?: 'DISALLOW' | 'OVERWRITE' | 'RETAIN';
  /** Lifecycle events the AppSpec gives scripts to (for the timeline). */
  scriptedEvents: string[];
  /** The group's instance selection when the deployment was created. */
  selection: TargetSelection;
}

/** A host of the deployment, as Prepare found it. */
export interface ServerHost {
  id: string;
  kind: 'EC2' | 'OnPremises';
  availabilityZone?: string;
  targetArn: string;
}

/** What Prepare found: the hosts, the target groups' ARNs, and what a rollback would redeploy. */
export interface ServerFacts {
  hosts: ServerHost[];
  targetGroupArns: string[];
  /** Hosts left out because they already run this revision (updateOutdatedInstancesOnly). */
  upToDate?: string[];
  /** The group's last successful deployment when this one started: an in-place rollback redeploys it. */
  rollbackTo?: {
    deploymentId: string;
    revision: RevisionLocation;
    fileExistsBehavior?: 'DISALLOW' | 'OVERWRITE' | 'RETAIN';
  };
}

/** The ports the strategy uses (ports.ts, plus the fleet's store and the on-premises registry). */
export interface ServerStrategyPorts {
  ec2: Ec2Instances;
  autoScaling: AutoScalingGroups;
  targetGroups: TargetGroupTargets;
  hostCommands: HostCommands;
  instances: Pick<Instances, 'list'>;
  /**
   * Custom deployment configurations (the scheduling of a deployment is read when its fleet starts), and the
   * group's triggers (the hosts' instance events).
   */
  configs: Pick<Catalog, 'getDeploymentConfig' | 'getDeploymentGroup'>;
  /** The deployment records instance events name (a rollback deployment's too). */
  deployments: Pick<Deployments, 'get'>;
  /** Instance events: EventBridge and the group's SNS triggers (fleet/notices.ts). */
  events: Pick<EventPublisher, 'putEvents' | 'publish'>;
  /** The fleet's deadlines are on the engine's clock; its command ids are unguessable. */
  clock: Pick<Clock, 'now'>;
  ids: Pick<IdSource, 'uuid'>;
  /** Where the stack runs (instance ARNs, the agents' DeploymentExecutionId), and the events' source. */
  env: { region: string; accountId: string; eventSource?: string };
}

type D = Deployment<ServerDeploymentTarget, ServerFacts>;

/** The wave a step belongs to: the shifts before it (approvals are not waves). */
function waveOf(d: D): number {
  const index = d.state.shifting?.index ?? d.state.stepIndex ?? 0;
  return Math.max(0, d.spec.plan.steps.slice(0, index + 1).filter((s) => s.kind === 'shift').length - 1);
}

type HostEvents = { lifecycleEvents: { lifecycleEventName: string; status: string; notStarted?: boolean }[] };
/**
 * A host record's events that ran: not Pending or Skipped, and not ended before the host took the command (a
 * command withdrawn by the stop ran nothing). A host with none is still on its earlier revision.
 */
const ranEvents = (h: HostEvents) =>
  h.lifecycleEvents.filter((e) => e.status !== 'Pending' && e.status !== 'Skipped' && !e.notStarted);

/** The rollback deployment as its fleet sees it: the original's group, the earlier revision, the rollback's id. */
function rollbackDeployment(
  d: D,
  rollbackId: string,
  to: NonNullable<ServerFacts['rollbackTo']>,
): Pick<Deployment, 'deploymentId' | 'spec'> {
  const spec: DeploymentSpec = { ...d.spec, creator: 'codeDeployRollback', revision: to.revision };
  return { deploymentId: rollbackId, spec };
}

const describeRevision = (r: RevisionLocation) =>
  r.revisionType === 'S3' ? `s3://${r.s3Location.bucket}/${r.s3Location.key}` : r.revisionType;

export function serverStrategy(ports: ServerStrategyPorts): TargetStrategy<ServerDeploymentTarget, ServerFacts> {
  const env = ports.env;
  const now = () => ports.clock.now();
  const notices = instanceNotices({
    deployments: ports.deployments,
    configs: ports.configs,
    events: ports.events,
    clock: { now },
    env,
  });
  const fleetFor = (d: D) =>
    new Fleet({
      hostCommands: ports.hostCommands,
      clock: { now },
      ids: ports.ids,
      notices,
      ...(d.spec.target.trafficControl && d.state.facts?.targetGroupArns.length
        ? { engineEvents: targetGroupEvents(ports.targetGroups, d.state.facts.targetGroupArns, { now }) }
        : {}),
    });
  const hostsOf = (d: D) => d.state.facts?.hosts ?? [];
  const setupHost = (h: ServerHost): FleetSetupHost => ({
    id: h.id,
    ...(h.availabilityZone ? { availabilityZone: h.availabilityZone } : {}),
    instanceHealth: 'Healthy',
    revisionHealth: 'Unknown',
    targetArn: h.targetArn,
  });
  /** The deployment's configuration, as its minimum and waves were when the fleet started. */
  const schedulingOf = async (d: D): Promise<ServerSchedulingConfig> => {
    const name = d.spec.deploymentConfigName;
    const c = predefinedServerConfig(name) ?? (await ports.configs.getDeploymentConfig(name));
    if (!c?.minimumHealthyHosts)
      throw new PreconditionFailedError(`Deployment configuration ${name} is gone or is not a Server configuration`);
    return {
      minimumHealthyHosts: c.minimumHealthyHosts as ServerSchedulingConfig['minimumHealthyHosts'],
      ...(c.zonalConfig ? { zonalConfig: c.zonalConfig as ServerSchedulingConfig['zonalConfig'] } : {}),
      ...(c.waves ? { waves: c.waves as ServerSchedulingConfig['waves'] } : {}),
    };
  };
  /**
   * Hosts that already run `d`'s revision: those that succeeded in the group's last successful deployment when
   * it deployed this same revision (CodeDeploy's updateOutdatedInstancesOnly).
   */
  const upToDate = async (d: D, previous: Deployment | undefined): Promise<Set<string>> => {
    if (!d.spec.updateOutdatedInstancesOnly || !previous || previous.state.status !== 'Succeeded') return new Set();
    if (revisionKey(previous.spec.revision) !== revisionKey(d.spec.revision)) return new Set();
    const hosts = await ports.hostCommands.listHosts(previous.deploymentId);
    return new Set(hosts.filter((h) => h.status === 'Succeeded').map((h) => h.hostId));
  };

  return {
    async check(d: D, ctx: CheckContext) {
      const group = d.spec.target.selection;
      const problems: string[] = [];
      const filters = [...(group.ec2TagFilters ?? []), ...(group.ec2TagSet?.ec2TagSetList.flat() ?? [])];
      const ec2 = new Map<string, Ec2Candidate>();
      for (const f of filters) for (const i of await ports.ec2.matching(f)) ec2.set(i.instanceId, i);
      const asg = group.autoScalingGroups?.length
        ? await ports.autoScaling.members(group.autoScalingGroups)
        : { members: [], missing: [] };
      for (const m of asg.missing) problems.push(`Auto Scaling group ${m} does not exist`);
      const onPrem =
        group.onPremisesInstanceTagFilters?.length || group.onPremisesTagSet ? await ports.instances.list() : [];
      const chosen = selectTargets(group, {
        ec2: [...ec2.values()],
        autoScalingMembers: asg.members,
        onPremises: onPrem,
      });
      const arns = d.spec.target.targetGroups.length ? await ports.targetGroups.arns(d.spec.target.targetGroups) : {};
      for (const name of d.spec.target.targetGroups)
        if (!arns[name]) problems.push(`Target group ${name} does not exist`);
      const all: ServerHost[] = chosen.map((t) => ({
        id: t.targetId,
        kind: t.kind,
        ...(t.availabilityZone ? { availabilityZone: t.availabilityZone } : {}),
        targetArn:
          t.kind === 'EC2'
            ? `arn:aws:ec2:${env.region}:${env.accountId}:instance/${t.targetId}`
            : `arn:aws:codedeploy:${env.region}:${env.accountId}:instance/${t.targetId}`,
      }));
      if (all.length === 0)
        problems.push(
          codedMessage(
            'NO_INSTANCES',
            'No instances match the deployment group (its tags, tag sets and Auto Scaling groups)',
          ),
        );
      const current = await upToDate(d, ctx.previous);
      const hosts = all.filter((h) => !current.has(h.id));
      const previous = ctx.previous;
      const rollbackTo =
        previous && previous.state.status === 'Succeeded' && previous.spec.revision.revisionType === 'S3'
          ? {
              deploymentId: previous.deploymentId,
              revision: previous.spec.revision,
              ...(previous.spec.fileExistsBehavior ? { fileExistsBehavior: previous.spec.fileExistsBehavior } : {}),
            }
          : undefined;
      const skipped = all.filter((h) => current.has(h.id)).map((h) => h.id);
      return {
        problems,
        facts: {
          hosts,
          targetGroupArns: Object.values(arns),
          ...(skipped.length ? { upToDate: skipped } : {}),
          ...(rollbackTo ? { rollbackTo } : {}),
        },
        summary: `${hosts.length} host${hosts.length === 1 ? '' : 's'} (${hosts
          .slice(0, 5)
          .map((h) => h.id)
          .join(', ')}${hosts.length > 5 ? ', …' : ''}) with ${d.spec.deploymentConfigName}${
          skipped.length ? `; ${skipped.length} already on this revision (updateOutdatedInstancesOnly)` : ''
        }`,
      };
    },

    async runAction(_d, action) {
      throw new PreconditionFailedError(`Server deployments run no engine action ${action} at the deployment level`);
    },

    async setWeight(d: D, _weight, ctx) {
      const wave = waveOf(d);
      const hosts = hostsOf(d);
      // Every host already runs this revision (updateOutdatedInstancesOnly): there is nothing to deploy.
      if (hosts.length === 0) return;
      const started = await fleetFor(d).start(
        d,
        async () => ({
          hosts: hosts.map(setupHost),
          config: await schedulingOf(d),
          trafficControl: d.spec.target.trafficControl,
          ignoreApplicationStopFailures: !!d.spec.ignoreApplicationStopFailures,
          // The deployment's choice; the agent lets the AppSpec's own file_exists_behavior win over it.
          ...(d.spec.fileExistsBehavior ? { fileExistsBehavior: d.spec.fileExistsBehavior } : {}),
          region: env.region,
        }),
        wave,
      );
      if (!started.ok) throw new PreconditionFailedError(codedMessage(started.code, started.message));
      if (started.started.length)
        await ctx.note('HostsStarted', `Wave ${wave + 1}: ${started.started.join(', ')} started`, {
          wave: wave + 1,
          hosts: started.started,
        });
    },

    async verifyWeight(d: D): Promise<Verification> {
      if (hostsOf(d).length === 0)
        return { verdict: 'verified', observed: { fleet: 'every host already runs this revision' } };
      const p = await fleetFor(d).progress(d, waveOf(d));
      const observed = { fleet: p.summary };
      if (p.verdict === 'verified') return { verdict: 'verified', observed };
      if (p.verdict === 'pending') return { verdict: 'pending', observed, retryAfterSeconds: p.retryAfterSeconds };
      throw new PreconditionFailedError(codedMessage(p.code, `${p.message} (${p.summary})`));
    },

    async halt(d: D) {
      return fleetFor(d).halt(d, `the deployment is ${d.state.stopRequest ? 'stopping' : 'failing'}`);
    },

    async assess(d: D): Promise<Assessment> {
      const hosts = await ports.hostCommands.listHosts(d.deploymentId);
      // A host halted before it took a command is Skipped with nothing run: still on its earlier revision.
      const touched = hosts.filter((h) => h.status === 'InProgress' || ranEvents(h).length > 0);
      return {
        changed: touched.length > 0,
        trafficMoved: touched.length > 0,
        describe: touched.length
          ? `${touched.length} of ${hosts.length} hosts started the new revision (${touched.map((h) => `${h.hostId} ${h.status}`).join(', ')})`
          : 'no host started the new revision',
      };
    },

    async restore(d: D): Promise<Restoration> {
      const fleet = fleetFor(d);
      // Stopping again each time is how a host that died mid-event reaches its deadline (stop drives it).
      if (await ports.hostCommands.getFleet(d.deploymentId)) await fleet.stop(d, 'the deployment is rolling back');
      const hosts = await ports.hostCommands.listHosts(d.deploymentId);
      const attempted = hosts.filter((h) => ranEvents(h).length > 0);
      const restored = hosts
        .filter((h) => ranEvents(h).length === 0)
        .map((h) => `${h.hostId}: untouched, on its earlier revision`);
      if (attempted.length === 0) return { restored, notRestored: [] };
      const to = d.state.facts?.rollbackTo;
      const rollbackId = d.state.rollbackInfo?.rollbackDeploymentId;
      if (!to || !rollbackId)
        return {
          restored,
          notRestored: attempted.map((h) => ({
            target: h.hostId,
            where: `ran ${describeRan(h)} of the new revision`,
            reason: to
              ? 'no rollback deployment was recorded'
              : 'the group has no earlier successful revision to redeploy (a rollback redeploys the last successful one)',
            final: true,
          })),
        };
      // The agent runs one command at a time: hosts finish (or time out of) the failed revision's event first.
      const busy = attempted.filter((h) => h.status === 'InProgress');
      if (busy.length)
        return {
          restored,
          notRestored: busy.map((h) => ({
            target: h.hostId,
            where: `running ${describeRan(h)} of the new revision`,
            reason: 'the rollback starts on this host once its running event ends or reaches its deadline',
            underWay: true,
          })),
        };

      const rb = rollbackDeployment(d, rollbackId, to);
      const targets = new Set(attempted.map((h) => h.hostId));
      const rbHosts = hostsOf(d).filter((h) => targets.has(h.id));
      const rbFleet = fleetFor(d);
      const started = await rbFleet.start(
        rb,
        async () => {
          // The group's minimum holds across the group: hosts the rollback leaves alone count as healthy.
          const config = await schedulingOf(d);
          const untouched = hostsOf(d).length - rbHosts.length;
          const minimum = minimumHealthyHostCount(config.minimumHealthyHosts, hostsOf(d).length);
          return {
            hosts: rbHosts.map(setupHost),
            config: { minimumHealthyHosts: { type: 'HOST_COUNT', value: Math.max(0, minimum - untouched) } },
            trafficControl: d.spec.target.trafficControl,
            ignoreApplicationStopFailures: !!d.spec.ignoreApplicationStopFailures,
            ...(to.fileExistsBehavior ? { fileExistsBehavior: to.fileExistsBehavior } : {}),
            region: env.region,
          };
        },
        0,
      );
      const revision = describeRevision(to.revision);
      if (!started.ok)
        return {
          restored,
          notRestored: attempted.map((h) => ({
            target: h.hostId,
            where: `ran ${describeRan(h)} of the new revision`,
            reason: `the rollback to ${revision} cannot start: ${started.message}`,
            final: true,
          })),
        };
      const p = await rbFleet.progress(rb, 0);
      const rbRecords = new Map((await ports.hostCommands.listHosts(rollbackId)).map((h) => [h.hostId, h]));
      if (p.verdict === 'verified')
        return {
          restored: [
            ...restored,
            ...attempted.map((h) => `${h.hostId}: ${revision} redeployed by ${rollbackId} (every event succeeded)`),
          ],
          notRestored: [],
        };
      if (p.verdict === 'pending')
        return {
          restored,
          notRestored: attempted.map((h) => ({
            target: h.hostId,
            where: `rollback ${rollbackId}: ${rbRecords.get(h.hostId)?.status ?? 'Pending'} (${p.summary})`,
            reason: `redeploying ${revision}`,
            underWay: true,
          })),
        };
      const failed = attempted.filter((h) => rbRecords.get(h.hostId)?.status !== 'Succeeded');
      return {
        restored: [
          ...restored,
          ...attempted
            .filter((h) => rbRecords.get(h.hostId)?.status === 'Succeeded')
            .map((h) => `${h.hostId}: ${revision} redeployed by ${rollbackId}`),
        ],
        notRestored: failed.map((h) => {
          const r = rbRecords.get(h.hostId);
          const failedEvent = r?.lifecycleEvents.find((e) => e.status === 'Failed');
          return {
            target: h.hostId,
            where: `rollback ${rollbackId}: ${r?.status ?? 'not started'}${failedEvent ? ` at ${failedEvent.lifecycleEventName}` : ''}`,
            reason: `redeploying ${revision} failed: ${failedEvent?.diagnostics?.message ?? p.message}`,
            final: true,
          };
        }),
      };
    },

    async finish(d: D) {
      const skipped = d.state.facts?.upToDate?.length ?? 0;
      return `${hostsOf(d).length} hosts on the new revision${skipped ? ` (${skipped} already were)` : ''}`;
    },
  };
}

function describeRan(h: HostEvents): string {
  return ranEvents(h)
    .map((e) => `${e.lifecycleEventName} (${e.status})`)
    .join(', ');
}
