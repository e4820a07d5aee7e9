/**
 * Records → CodeDeploy's API shapes (JSON 1.1: timestamps are epoch seconds). Cutover's own extras
 * ride along under `cutover`, which CodeDeploy clients ignore. Secrets never leave: no task tokens,
 * no webhook secret, no group lock.
 */
import type { DeploymentConfig } from '../domain/deployment-config.js';
import type { Application, Deployment, DeploymentGroup, RevisionLocation } from '../domain/model.js';
import { platformOf } from '../platforms/index.js';

export const epochSeconds = (iso: string | undefined): number | undefined =>
  iso === undefined ? undefined : Date.parse(iso) / 1000;

function revisionOut(r: RevisionLocation): RevisionLocation {
  // GetDeployment never returns the AppSpec content (GetApplicationRevision does), as in CodeDeploy.
  if (r.revisionType === 'AppSpecContent')
    return { ...r, appSpecContent: { ...r.appSpecContent, content: null as unknown as string } };
  if (r.revisionType === 'String') return { ...r, string: { ...r.string, content: null as unknown as string } };
  return r;
}

export function applicationInfo(a: Application) {
  return {
    applicationId: a.applicationId,
    applicationName: a.applicationName,
    computePlatform: a.computePlatform,
    createTime: epochSeconds(a.createTime),
    linkedToGitHub: false,
  };
}

export function deploymentGroupInfo(g: DeploymentGroup) {
  const summary = (s: DeploymentGroup['lastSuccessfulDeployment']) =>
    s && {
      deploymentId: s.deploymentId,
      status: s.status,
      createTime: epochSeconds(s.createTime),
      endTime: epochSeconds(s.endTime),
    };
  return {
    applicationName: g.applicationName,
    deploymentGroupId: g.deploymentGroupId,
    deploymentGroupName: g.deploymentGroupName,
    deploymentConfigName: g.deploymentConfigName,
    serviceRoleArn: g.serviceRoleArn,
    alarmConfiguration: g.alarmConfiguration,
    autoRollbackConfiguration: g.autoRollbackConfiguration,
    triggerConfigurations: g.triggerConfigurations,
    // Lambda groups are blue/green by nature (CodeDeploy reports them so); ECS and Server groups store theirs.
    deploymentStyle: g.deploymentStyle ?? { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
    computePlatform: g.computePlatform,
    ecsServices: g.ecsServices,
    loadBalancerInfo: g.loadBalancerInfo,
    // Server groups' instances (CodeDeploy lists empty ones for every group).
    ec2TagFilters: g.ec2TagFilters ?? [],
    ec2TagSet: g.ec2TagSet,
    onPremisesInstanceTagFilters: g.onPremisesInstanceTagFilters ?? [],
    onPremisesTagSet: g.onPremisesTagSet,
    // CodeDeploy also names the lifecycle hooks it installs on each; Cutover installs none (yet).
    autoScalingGroups: (g.autoScalingGroups ?? []).map((name) => ({ name })),
    outdatedInstancesStrategy: g.outdatedInstancesStrategy,
    terminationHookEnabled: g.computePlatform === 'Server' ? (g.terminationHookEnabled ?? false) : undefined,
    blueGreenDeploymentConfiguration: g.blueGreenDeploymentConfiguration,
    targetRevision: g.lastSuccessfulRevision ? revisionOut(g.lastSuccessfulRevision) : undefined,
    lastSuccessfulDeployment: summary(g.lastSuccessfulDeployment),
    lastAttemptedDeployment: summary(g.lastAttemptedDeployment),
    cutover: {
      hookTimeoutSeconds: g.hookTimeoutSeconds,
      hookConfiguration: g.hookConfiguration,
      webhookSecretSet: g.webhookSecretRef !== undefined || g.webhookSecret !== undefined,
      webhookAllowedHosts: g.webhookAllowedHosts,
    },
  };
}

export function deploymentConfigInfo(c: DeploymentConfig) {
  return { ...c, createTime: epochSeconds(c.createTime) };
}

/**
 * CodeDeploy's DeploymentInfo. `overview`: the targets counted by their own status (a Server deployment's
 * hosts); without it every target counts with the deployment's status.
 */
export function deploymentInfo(d: Deployment, overview?: Record<string, number>) {
  const spec = d.spec;
  const state = d.state;
  const platform = platformOf(spec.computePlatform);
  const n = spec.target === undefined ? 0 : platform.targetCount(d);
  const count = (statuses: string[]) => (statuses.includes(state.status) ? n : 0);
  return {
    applicationName: spec.applicationName,
    deploymentGroupName: spec.deploymentGroupName,
    deploymentConfigName: spec.deploymentConfigName,
    deploymentId: d.deploymentId,
    revision: revisionOut(spec.revision),
    status: state.status,
    errorInformation: state.errorInformation,
    createTime: epochSeconds(spec.createTime),
    startTime: epochSeconds(state.startTime),
    completeTime: epochSeconds(state.completeTime),
    deploymentOverview: overview ?? {
      Pending: count(['Created', 'Queued']),
      InProgress: count(['InProgress', 'Baking']),
      Succeeded: count(['Succeeded']),
      Failed: count(['Failed']),
      Skipped: count(['Stopped']),
      Ready: count(['Ready']),
    },
    description: spec.description,
    creator: spec.creator,
    autoRollbackConfiguration: spec.autoRollbackConfiguration,
    ignoreApplicationStopFailures: spec.ignoreApplicationStopFailures ?? false,
    updateOutdatedInstancesOnly: spec.updateOutdatedInstancesOnly ?? false,
    ...(spec.fileExistsBehavior ? { fileExistsBehavior: spec.fileExistsBehavior } : {}),
    rollbackInfo: state.rollbackInfo,
    computePlatform: spec.computePlatform,
    deploymentStyle:
      spec.target !== undefined && platform.deploymentStyle
        ? platform.deploymentStyle(d)
        : { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
    cutover: {
      ...(spec.target === undefined ? { functions: [] } : platform.describe(d)),
      plan: spec.plan,
      targetWeight: state.targetWeight,
      stepIndex: state.stepIndex,
      // The hook execution id is the hook's credential for its callback: never handed out.
      lifecycleEvents: state.lifecycleEvents.map(({ hookExecutionIdHash: _id, timeoutAt: _t, ...e }) => e),
      waiting: state.currentWait?.kind,
      paused: state.paused !== undefined,
    },
  };
}
