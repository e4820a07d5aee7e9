/**
 * EC2/on-premises (CodeDeploy's `Server` compute platform): in-place deployments of a revision (files and
 * hook scripts) to a fleet of EC2 and on-premises instances, run by an agent on each host, a batch at a time,
 * keeping a minimum number of hosts healthy (deployment-config.ts, scheduling.ts).
 *
 * What is here: the applications, deployment groups (groups.ts: tags, tag sets, Auto Scaling groups, deployment
 * style, target groups), deployment configurations and target selection (targets.ts) of the platform.
 * What is not yet: running a deployment. `planRevision` refuses every CreateDeployment to a Server group with
 * InvalidComputePlatformException, so no Server deployment is ever recorded, and the strategy below is a
 * documented placeholder that is never reached: each method throws PreconditionFailedError saying so. The
 * engine side (the agent's command API, the host scheduler in the state machine, traffic control) replaces it.
 */
import { PreconditionFailedError, ApiError } from '../../domain/errors.js';
import type { Platform, TargetStrategy } from '../platform.js';
import { DEFAULT_SERVER_CONFIG, serverDeploymentConfigs } from './deployment-config.js';
import { normalizeServerGroup, serverGroupIssues } from './groups.js';
import { SERVER_HOOK_EVENTS, SERVER_LIFECYCLE } from './lifecycle.js';
import type { ServerPorts } from './ports.js';

/** What a Server deployment targets: the hosts chosen at Prepare (none yet: no Server deployment runs). */
export interface ServerDeploymentTarget {
  hosts: string[];
}

/** Why CreateDeployment refuses a Server group in this version. */
export const SERVER_NOT_RUNNABLE =
  'Deployments to Server (EC2/on-premises) deployment groups cannot run yet: this version of Cutover manages ' +
  'Server applications, deployment groups, deployment configurations and on-premises instances, but not their deployments';

/**
 * The placeholder strategy: never reached, since no Server deployment is ever recorded (see above). It is
 * given the platform's ports (ports.ts: EC2, Auto Scaling, ELBv2 targets) and uses none of them yet, so no
 * function is granted their AWS actions.
 */
function strategy(_ports: ServerPorts): TargetStrategy<ServerDeploymentTarget, undefined> {
  const notYet = (): never => {
    throw new PreconditionFailedError(SERVER_NOT_RUNNABLE);
  };
  return {
    check: async () => notYet(),
    runAction: async () => notYet(),
    setWeight: async () => notYet(),
    verifyWeight: async () => notYet(),
    assess: async () => notYet(),
    restore: async () => notYet(),
    finish: async () => notYet(),
  };
}

export const serverPlatform: Platform<ServerDeploymentTarget, undefined, ServerPorts> = {
  computePlatform: 'Server',
  lifecycleEvents: SERVER_LIFECYCLE,
  hookEvents: SERVER_HOOK_EVENTS,
  defaultDeploymentConfig: DEFAULT_SERVER_CONFIG,
  deploymentConfigs: serverDeploymentConfigs,
  errorCodes: { invalidTarget: 'NO_INSTANCES', refused: 'IAM_ROLE_PERMISSIONS' },
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

  planRevision() {
    throw new ApiError('InvalidComputePlatformException', SERVER_NOT_RUNNABLE);
  },
  rollbackTarget: (spec) => spec.target,
  describeTargets: () => [],
  hookContext: () => ({}),
  describe: (d) => ({ functions: [], server: { hosts: d.spec.target.hosts } }),
  summary: (d) => `${d.spec.target.hosts.length} hosts`,
  targetCount: (d) => d.spec.target.hosts.length,

  strategy,
  uses: { check: {}, runAction: {}, setWeight: {}, verifyWeight: {}, assess: {}, restore: {}, finish: {} },
};
