/**
 * Records → CodeDeploy's API shapes (JSON 1.1: timestamps are epoch seconds). Cutover's own extras
 * ride along under `cutover`, which CodeDeploy clients ignore. Secrets never leave: no task tokens,
 * no webhook secret, no group lock.
 */
import type { DeploymentConfig } from '../domain/deployment-config.js';
import type { Application, Deployment, DeploymentGroup, RevisionLocation } from '../domain/model.js';

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
    deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
    computePlatform: g.computePlatform,
    ecsServices: g.ecsServices,
    loadBalancerInfo: g.loadBalancerInfo,
    blueGreenDeploymentConfiguration: g.blueGreenDeploymentConfiguration,
    targetRevision: g.lastSuccessfulRevision ? revisionOut(g.lastSuccessfulRevision) : undefined,
    lastSuccessfulDeployment: summary(g.lastSuccessfulDeployment),
    lastAttemptedDeployment: summary(g.lastAttemptedDeployment),
    cutover: {
      hookTimeoutSeconds: g.hookTimeoutSeconds,
      hookConfiguration: g.hookConfiguration,
      webhookSecretSet: g.webhookSecret !== undefined,
    },
  };
}

export function deploymentConfigInfo(c: DeploymentConfig) {
  return { ...c, createTime: epochSeconds(c.createTime) };
}

export function deploymentInfo(d: Deployment) {
  const n = d.ecs ? 1 : d.functions.length;
  const count = (statuses: string[]) => (statuses.includes(d.status) ? n : 0);
  return {
    applicationName: d.applicationName,
    deploymentGroupName: d.deploymentGroupName,
    deploymentConfigName: d.deploymentConfigName,
    deploymentId: d.deploymentId,
    revision: revisionOut(d.revision),
    status: d.status,
    errorInformation: d.errorInformation,
    createTime: epochSeconds(d.createTime),
    startTime: epochSeconds(d.startTime),
    completeTime: epochSeconds(d.completeTime),
    deploymentOverview: {
      Pending: count(['Created', 'Queued']),
      InProgress: count(['InProgress', 'Baking']),
      Succeeded: count(['Succeeded']),
      Failed: count(['Failed']),
      Skipped: count(['Stopped']),
      Ready: count(['Ready']),
    },
    description: d.description,
    creator: d.creator,
    autoRollbackConfiguration: d.autoRollbackConfiguration,
    rollbackInfo: d.rollbackInfo,
    computePlatform: d.computePlatform,
    deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
    cutover: {
      functions: d.functions,
      ...(d.ecs ? { ecs: d.ecs } : {}),
      plan: d.plan,
      targetWeight: d.targetWeight,
      stepIndex: d.stepIndex,
      // The hook execution id is the hook's credential for its callback: never handed out.
      lifecycleEvents: d.lifecycleEvents.map(({ hookExecutionId: _id, ...e }) => e),
      waiting: d.currentWait?.kind,
      paused: d.paused !== undefined,
    },
  };
}
