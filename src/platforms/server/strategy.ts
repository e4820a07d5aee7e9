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
 * - `restore` stops the fleet (no host starts another event). Redeploying the last successful
 *   revision to the hosts that were attempted (CodeDeploy's rollback) is not built yet, so a host that
 *   ran any event of the new revision is reported not restored: the deployment ends ROLLBACK_FAILED,
 *   loudly, naming each host, rather than claiming a rollback nothing verified.
 */
import { PreconditionFailedError } from '../../domain/errors.js';
import type { Deployment } from '../../domain/model.js';
import { codedMessage } from '../../domain/outcome.js';
import type { Clock, IdSource } from '../../ports/index.js';
import type { HostCommands } from '../../ports/host-commands.js';
import type { Catalog, Instances } from '../../ports/store.js';
import type { Assessment, CheckContext, Restoration, TargetStrategy, Verification } from '../platform.js';
import { Fleet, targetGroupEvents, type FleetSetupHost } from './fleet/index.js';
import { predefinedServerConfig, type ServerSchedulingConfig } from './deployment-config.js';
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

/** What Prepare found: the hosts, and the target groups' ARNs. */
export interface ServerFacts {
  hosts: { id: string; kind: 'EC2' | 'OnPremises'; availabilityZone?: string; targetArn: string }[];
  targetGroupArns: string[];
}

/** The ports the strategy uses (ports.ts, plus the fleet's store and the on-premises registry). */
export interface ServerStrategyPorts {
  ec2: Ec2Instances;
  autoScaling: AutoScalingGroups;
  targetGroups: TargetGroupTargets;
  hostCommands: HostCommands;
  instances: Pick<Instances, 'list'>;
  /** Custom deployment configurations (the scheduling of a deployment is read when its fleet starts). */
  configs: Pick<Catalog, 'getDeploymentConfig'>;
  /** The fleet's deadlines are on the engine's clock; its command ids are unguessable. */
  clock: Pick<Clock, 'now'>;
  ids: Pick<IdSource, 'uuid'>;
  /** Where the stack runs (instance ARNs, the agents' DeploymentExecutionId). */
  env: { region: string; accountId: string };
}

type D = Deployment<ServerDeploymentTarget, ServerFacts>;

/** The wave a step belongs to: the shifts before it (approvals are not waves). */
function waveOf(d: D): number {
  const index = d.state.shifting?.index ?? d.state.stepIndex ?? 0;
  return Math.max(0, d.spec.plan.steps.slice(0, index + 1).filter((s) => s.kind === 'shift').length - 1);
}

export function serverStrategy(ports: ServerStrategyPorts): TargetStrategy<ServerDeploymentTarget, ServerFacts> {
  const env = ports.env;
  const now = () => ports.clock.now();
  const fleetFor = (d: D) =>
    new Fleet({
      hostCommands: ports.hostCommands,
      clock: { now },
      ids: ports.ids,
      ...(d.spec.target.trafficControl && d.state.facts?.targetGroupArns.length
        ? { engineEvents: targetGroupEvents(ports.targetGroups, d.state.facts.targetGroupArns, { now }) }
        : {}),
    });
  const hostsOf = (d: D) => d.state.facts?.hosts ?? [];
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

  return {
    async check(d: D, _ctx: CheckContext) {
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
      const hosts = chosen.map((t) => ({
        id: t.targetId,
        kind: t.kind,
        ...(t.availabilityZone ? { availabilityZone: t.availabilityZone } : {}),
        targetArn:
          t.kind === 'EC2'
            ? `arn:aws:ec2:${env.region}:${env.accountId}:instance/${t.targetId}`
            : `arn:aws:codedeploy:${env.region}:${env.accountId}:instance/${t.targetId}`,
      }));
      if (hosts.length === 0)
        problems.push(
          codedMessage(
            'NO_INSTANCES',
            'No instances match the deployment group (its tags, tag sets and Auto Scaling groups)',
          ),
        );
      return {
        problems,
        facts: { hosts, targetGroupArns: Object.values(arns) },
        summary: `${hosts.length} host${hosts.length === 1 ? '' : 's'} (${hosts
          .slice(0, 5)
          .map((h) => h.id)
          .join(', ')}${hosts.length > 5 ? ', …' : ''}) with ${d.spec.deploymentConfigName}`,
      };
    },

    async runAction(_d, action) {
      throw new PreconditionFailedError(`Server deployments run no engine action ${action} at the deployment level`);
    },

    async setWeight(d: D, _weight, ctx) {
      const wave = waveOf(d);
      const hosts = hostsOf(d);
      const started = await fleetFor(d).start(
        d,
        async () => ({
          hosts: hosts.map((h): FleetSetupHost => ({
            id: h.id,
            ...(h.availabilityZone ? { availabilityZone: h.availabilityZone } : {}),
            instanceHealth: 'Healthy',
            revisionHealth: 'Unknown',
            targetArn: h.targetArn,
          })),
          config: await schedulingOf(d),
          trafficControl: d.spec.target.trafficControl,
          ...(d.spec.target.fileExistsBehavior ? { fileExistsBehavior: d.spec.target.fileExistsBehavior } : {}),
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
      const p = await fleetFor(d).progress(d, waveOf(d));
      const observed = { fleet: p.summary };
      if (p.verdict === 'verified') return { verdict: 'verified', observed };
      if (p.verdict === 'pending') return { verdict: 'pending', observed, retryAfterSeconds: p.retryAfterSeconds };
      throw new PreconditionFailedError(codedMessage(p.code, `${p.message} (${p.summary})`));
    },

    async assess(d: D): Promise<Assessment> {
      const hosts = await ports.hostCommands.listHosts(d.deploymentId);
      const touched = hosts.filter((h) => h.status !== 'Pending');
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
      if (await ports.hostCommands.getFleet(d.deploymentId)) await fleet.stop(d, 'the deployment is rolling back');
      const hosts = await ports.hostCommands.listHosts(d.deploymentId);
      const restored: string[] = [];
      const notRestored: Restoration['notRestored'] = [];
      for (const h of hosts) {
        const ran = h.lifecycleEvents.filter((e) => e.status !== 'Pending' && e.status !== 'Skipped');
        if (ran.length === 0) restored.push(`${h.hostId}: untouched, on its earlier revision`);
        else
          notRestored.push({
            target: h.hostId,
            where: `ran ${ran.map((e) => `${e.lifecycleEventName} (${e.status})`).join(', ')} of the new revision`,
            reason:
              'in-place rollback (redeploying the last successful revision to the attempted hosts) is not built yet; redeploy it with CreateDeployment',
            final: true,
          });
      }
      return { restored, notRestored };
    },

    async finish(d: D) {
      return `${hostsOf(d).length} hosts on the new revision`;
    },
  };
}
