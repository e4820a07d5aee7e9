/**
 * EC2/on-premises (CodeDeploy's `Server` compute platform): in-place deployments of a revision (files and
 * hook scripts) to a fleet of EC2 and on-premises instances, run by an agent on each host, a batch at a time,
 * keeping a minimum number of hosts healthy (deployment-config.ts, scheduling.ts).
 *
 * The group rules (groups.ts: tags, tag sets, Auto Scaling groups, deployment style, target groups), the
 * configurations (deployment-config.ts), target selection (targets.ts), the Server AppSpec (appspec.ts) and
 * the strategy (strategy.ts), which hands hosts to the fleet (fleet/, ADR 16) a wave at a time.
 */
import type { DescribedTarget, Platform } from '../platform.js';
import { parseServerAppSpec } from './appspec.js';
import { DEFAULT_SERVER_CONFIG, serverDeploymentConfigs } from './deployment-config.js';
import { isTerminal } from '../../domain/model.js';
import { FLEET_USES, instanceTarget } from './fleet/index.js';
import { normalizeServerGroup, serverGroupIssues } from './groups.js';
import { SERVER_HOOK_EVENTS, SERVER_LIFECYCLE } from './lifecycle.js';
import { serverStrategy, type ServerDeploymentTarget, type ServerFacts, type ServerStrategyPorts } from './strategy.js';

export type { ServerDeploymentTarget, ServerFacts, ServerStrategyPorts };

const CHECK_USES = {
  ec2: ['matching'],
  autoScaling: ['members'],
  targetGroups: ['arns'],
  instances: ['list'],
  // updateOutdatedInstancesOnly: which hosts the last successful deployment left on this revision.
  hostCommands: ['listHosts'],
} as const;
const TRAFFIC_EVENT_USES = { targetGroups: ['register', 'deregister', 'health'], clock: ['now'] } as const;
/** The hosts' instance events (fleet/notices.ts), published by the sweep of progress and stop. */
const NOTICE_USES = { deployments: ['get'], events: ['putEvents', 'publish'] } as const;

export const serverPlatform: Platform<ServerDeploymentTarget, ServerFacts, ServerStrategyPorts> = {
  computePlatform: 'Server',
  lifecycleEvents: SERVER_LIFECYCLE,
  hookEvents: SERVER_HOOK_EVENTS,
  defaultDeploymentConfig: DEFAULT_SERVER_CONFIG,
  // The agent installs files from the bundle: an AppSpec alone has none.
  revisionTypes: ['S3'],
  inPlace: true,
  deploymentConfigs: serverDeploymentConfigs,
  errorCodes: { invalidTarget: 'HEALTH_CONSTRAINTS', refused: 'IAM_ROLE_PERMISSIONS' },
  groupFields: [
    'ec2TagFilters',
    'ec2TagSet',
    'onPremisesInstanceTagFilters',
    'onPremisesTagSet',
    'autoScalingGroups',
    'outdatedInstancesStrategy',
    'terminationHookEnabled',
    'loadBalancerInfo',
    'deploymentStyle',
    'blueGreenDeploymentConfiguration',
  ],
  groupIssues: async (input) => serverGroupIssues(input),
  normalizeGroup: normalizeServerGroup,

  planRevision(appSpec, group) {
    const { spec } = parseServerAppSpec(appSpec);
    const trafficControl = group.deploymentStyle?.deploymentOption === 'WITH_TRAFFIC_CONTROL';
    const target: ServerDeploymentTarget = {
      targetGroups: trafficControl ? (group.loadBalancerInfo?.targetGroupInfoList ?? []).map((t) => t.name) : [],
      trafficControl,
      ...(spec.fileExistsBehavior ? { fileExistsBehavior: spec.fileExistsBehavior } : {}),
      scriptedEvents: Object.keys(spec.hooks),
      selection: {
        ...(group.ec2TagFilters ? { ec2TagFilters: group.ec2TagFilters } : {}),
        ...(group.ec2TagSet ? { ec2TagSet: group.ec2TagSet } : {}),
        ...(group.onPremisesInstanceTagFilters
          ? { onPremisesInstanceTagFilters: group.onPremisesInstanceTagFilters }
          : {}),
        ...(group.onPremisesTagSet ? { onPremisesTagSet: group.onPremisesTagSet } : {}),
        ...(group.autoScalingGroups ? { autoScalingGroups: group.autoScalingGroups } : {}),
      },
    };
    // Hosts run the scripts; the engine's part is one traffic loop over the waves.
    return { target, hooks: {}, stages: [{ kind: 'traffic', name: 'AllowTraffic' }] };
  },
  rollbackTarget: (spec) => spec.target,
  // CodeDeploy's in-place rollback redeploys the group's last successful revision (strategy.ts `restore`).
  rollbackRevision: (_spec, facts) => facts?.rollbackTo?.revision,
  deploymentStyle: (d) => ({
    deploymentType: 'IN_PLACE',
    deploymentOption: d.spec.target.trafficControl ? 'WITH_TRAFFIC_CONTROL' : 'WITHOUT_TRAFFIC_CONTROL',
  }),
  targetIds: (d) => (d.state.facts?.hosts ?? []).map((h) => h.id),
  // The hosts' records (the fleet's, live): each its own status, events and diagnostics. Before the fleet has
  // written them, the hosts Prepare chose, Pending (a rollback deployment has only the hosts it redeploys to:
  // its records).
  async describeTargets(d, _env, ports): Promise<DescribedTarget[]> {
    const records = await ports.hostCommands.listHosts(d.deploymentId);
    const arns = new Map((d.state.facts?.hosts ?? []).map((h) => [h.id, h.targetArn]));
    if (records.length || d.spec.creator === 'codeDeployRollback')
      return records.map((r) => {
        const t = instanceTarget(r).instanceTarget;
        return {
          targetId: r.hostId,
          targetArn: r.targetArn ?? arns.get(r.hostId) ?? r.hostId,
          deploymentTargetType: 'InstanceTarget',
          member: 'instanceTarget',
          detail: {},
          progress: { status: t.status, lastUpdatedAt: t.lastUpdatedAt, lifecycleEvents: t.lifecycleEvents },
        };
      });
    return (d.state.facts?.hosts ?? []).map((h) => ({
      targetId: h.id,
      targetArn: h.targetArn,
      deploymentTargetType: 'InstanceTarget',
      member: 'instanceTarget',
      detail: {},
      progress: {
        status: isTerminal(d.state.status) ? 'Skipped' : 'Pending',
        lastUpdatedAt: Date.parse(d.state.startTime ?? d.spec.createTime) / 1000,
        lifecycleEvents: [],
      },
    }));
  },
  hookContext: () => ({}),
  describe: (d) => ({ functions: [], server: { hosts: (d.state.facts?.hosts ?? []).map((h) => h.id) } }),
  summary: (d) => `${d.state.facts?.hosts.length ?? 'the group’s'} hosts`,
  targetCount: (d) => d.state.facts?.hosts.length ?? 0,

  strategy: serverStrategy,
  uses: {
    check: CHECK_USES,
    runAction: {},
    setWeight: {
      hostCommands: FLEET_USES.start.hostCommands,
      configs: ['getDeploymentConfig'],
      ids: ['uuid'],
      ...TRAFFIC_EVENT_USES,
    },
    verifyWeight: {
      hostCommands: FLEET_USES.progress.hostCommands,
      ids: ['uuid'],
      configs: ['getDeploymentGroup'],
      ...TRAFFIC_EVENT_USES,
      ...NOTICE_USES,
    },
    assess: { hostCommands: ['listHosts'] },
    // Stops the fleet, then runs the rollback deployment's own fleet (start and progress).
    restore: {
      hostCommands: [
        ...new Set([
          ...FLEET_USES.stop.hostCommands,
          ...FLEET_USES.start.hostCommands,
          ...FLEET_USES.progress.hostCommands,
          'getFleet' as const,
          'listHosts' as const,
        ]),
      ],
      configs: ['getDeploymentConfig', 'getDeploymentGroup'],
      ids: ['uuid'],
      ...TRAFFIC_EVENT_USES,
      ...NOTICE_USES,
    },
    finish: {},
    // Stops the fleet, or closes the hosts of a start that never wrote its fleet.
    halt: {
      hostCommands: [
        ...new Set([...FLEET_USES.stop.hostCommands, 'getFleet' as const, 'listHosts' as const, 'updateHost' as const]),
      ],
      ...NOTICE_USES,
    },
  },
};
