/**
 * Outcome messages in CodeDeploy's shapes, so existing alerting keeps working:
 * EventBridge `CodeDeploy Deployment State-change Notification` and SNS trigger JSON. Pure.
 */
import type { HookTargetPolicy } from './hook-targets.js';
import type { Deployment, DeploymentGroup, TriggerEventType } from './model.js';

/** The `state` of CodeDeploy's EventBridge deployment event. */
export type DeploymentEventState = 'START' | 'SUCCESS' | 'FAILURE' | 'STOP' | 'READY';

export interface Environment {
  region: string;
  accountId: string;
  /** EventBridge `source` (AWS reserves `aws.*`; default `cutover`). */
  eventSource: string;
  /** Key prefix under which S3 uploads start deployments (`<prefix>/<app>/<group>/...`). */
  revisionPrefix?: string;
  /**
   * How long a rollback keeps trying to restore a target it could not restore yet (throttling, a
   * not-found read again, a refusal that may be IAM propagation) before the deployment ends
   * ROLLBACK_FAILED. Default 900 s.
   */
  rollbackDeadlineSeconds?: number;
  /** What hooks may reach (set by the wiring); unset: STRICT_HOOK_TARGETS (https to public addresses). */
  hookTargets?: HookTargetPolicy;
}

/** The rollback deadline when the stack does not set one. */
export const DEFAULT_ROLLBACK_DEADLINE_SECONDS = 900;

/** detail-type of the event published, besides the FAILURE, when a rollback could not restore every target. */
export const ROLLBACK_FAILED_DETAIL_TYPE = 'Cutover Deployment Rollback Failed';

export interface EventBridgeEntry {
  Source: string;
  DetailType: string;
  Resources: string[];
  Detail: string;
  Time: Date;
}

export interface SnsMessage {
  topicArn: string;
  subject: string;
  message: string;
}

export const DEPLOYMENT_DETAIL_TYPE = 'CodeDeploy Deployment State-change Notification';

export const applicationArn = (env: Environment, app: string): string =>
  `arn:aws:codedeploy:${env.region}:${env.accountId}:application:${app}`;
export const deploymentGroupArn = (env: Environment, app: string, group: string): string =>
  `arn:aws:codedeploy:${env.region}:${env.accountId}:deploymentgroup:${app}/${group}`;

/**
 * The event published when a rollback could not restore every target (besides the FAILURE): its own
 * detail-type so that alerting can page on it alone. `message` names each target and where its
 * traffic is.
 */
export function rollbackFailedEntry(env: Environment, d: Deployment, message: string, at: Date): EventBridgeEntry {
  return {
    Source: env.eventSource,
    DetailType: ROLLBACK_FAILED_DETAIL_TYPE,
    Resources: [
      applicationArn(env, d.spec.applicationName),
      deploymentGroupArn(env, d.spec.applicationName, d.spec.deploymentGroupName),
    ],
    Detail: JSON.stringify({
      application: d.spec.applicationName,
      deploymentGroup: d.spec.deploymentGroupName,
      deploymentId: d.deploymentId,
      region: env.region,
      errorCode: 'ROLLBACK_FAILED',
      message,
    }),
    Time: at,
  };
}

export function eventBridgeEntry(
  env: Environment,
  d: Deployment,
  state: DeploymentEventState,
  at: Date,
): EventBridgeEntry {
  return {
    Source: env.eventSource,
    DetailType: DEPLOYMENT_DETAIL_TYPE,
    Resources: [
      applicationArn(env, d.spec.applicationName),
      deploymentGroupArn(env, d.spec.applicationName, d.spec.deploymentGroupName),
    ],
    Detail: JSON.stringify({
      instanceGroupId: d.spec.deploymentGroupId,
      region: env.region,
      application: d.spec.applicationName,
      deploymentId: d.deploymentId,
      state,
      deploymentGroup: d.spec.deploymentGroupName,
    }),
    Time: at,
  };
}

/** CodeDeploy renders times in trigger messages as epoch seconds with millis, as strings. */
const epoch = (iso: string | undefined): string | undefined =>
  iso === undefined ? undefined : (Date.parse(iso) / 1000).toFixed(3);

const SUBJECT_VERB: Partial<Record<TriggerEventType, string>> = {
  DeploymentStart: 'CREATED',
  DeploymentSuccess: 'SUCCEEDED',
  DeploymentFailure: 'FAILED',
  DeploymentStop: 'STOPPED',
  DeploymentRollback: 'ROLLBACK',
};

/** One SNS message per trigger of the group that subscribes to `event`. */
export function triggerMessages(
  env: Environment,
  group: DeploymentGroup,
  d: Deployment,
  event: TriggerEventType,
  /** How many targets the deployment has (functions, services, instances): the overview's counts. */
  targets: number,
): SnsMessage[] {
  const done = d.state.status === 'Succeeded' || d.state.status === 'Failed' || d.state.status === 'Stopped';
  const n = targets;
  const overview = {
    Failed: String(d.state.status === 'Failed' ? n : 0),
    InProgress: String(d.state.status === 'InProgress' ? n : 0),
    Pending: String(d.state.status === 'Created' ? n : 0),
    Skipped: String(d.state.status === 'Stopped' ? n : 0),
    Succeeded: String(d.state.status === 'Succeeded' ? n : 0),
  };
  return group.triggerConfigurations
    .filter((t) => t.triggerEvents.includes(event))
    .map((t) => {
      const body: Record<string, unknown> = {
        region: env.region,
        accountId: env.accountId,
        eventTriggerName: t.triggerName,
        applicationName: d.spec.applicationName,
        deploymentId: d.deploymentId,
        deploymentGroupName: d.spec.deploymentGroupName,
        createTime: epoch(d.spec.createTime),
        completeTime: done ? epoch(d.state.completeTime) : undefined,
        deploymentOverview: overview,
        status: d.state.status,
      };
      if (d.state.errorInformation) {
        body.errorInformation = {
          ErrorCode: d.state.errorInformation.code,
          ErrorMessage: d.state.errorInformation.message,
        };
      }
      if (d.state.rollbackInfo) body.rollbackInformation = d.state.rollbackInfo;
      return {
        topicArn: t.triggerTargetArn,
        subject:
          `${SUBJECT_VERB[event] ?? event}: AWS CodeDeploy ${d.deploymentId} in ${env.region} to ${d.spec.applicationName}`.slice(
            0,
            100,
          ),
        message: JSON.stringify(body),
      };
    });
}

export const INSTANCE_DETAIL_TYPE = 'CodeDeploy Instance State-change Notification';

/** The `state` of CodeDeploy's EventBridge instance event. */
export type InstanceEventState = 'START' | 'SUCCESS' | 'FAILURE' | 'READY';

/** One host of a Server deployment, as instance events report it. */
export interface InstanceReport {
  /** The instance id (EC2 `i-…`) or the on-premises instance name. */
  targetId: string;
  kind: 'EC2' | 'OnPremises';
  /** CodeDeploy's instance status: Pending, InProgress, Succeeded, Failed, Skipped, Unknown, Ready. */
  status: string;
  lastUpdatedAt: string;
  lifecycleEvents: { lifecycleEventName: string; status: string; startTime?: string; endTime?: string }[];
}

/** The instance's ARN: EC2's for an instance id, CodeDeploy's for an on-premises instance name. */
export const instanceArn = (env: Environment, host: Pick<InstanceReport, 'targetId' | 'kind'>): string =>
  host.kind === 'EC2'
    ? `arn:aws:ec2:${env.region}:${env.accountId}:instance/${host.targetId}`
    : `arn:aws:codedeploy:${env.region}:${env.accountId}:instance/${host.targetId}`;

/** EventBridge `CodeDeploy Instance State-change Notification` for one host of a deployment. */
export function instanceEventBridgeEntry(
  env: Environment,
  d: Deployment,
  host: InstanceReport,
  state: InstanceEventState,
  at: Date,
): EventBridgeEntry {
  const arn = instanceArn(env, host);
  // The deployment event's shape, plus the instance (CodeDeploy's instance events add only that): its ARN in
  // `resources`, the bare instance id (i-…, or the on-premises name) in `detail.instanceId`.
  const base = eventBridgeEntry(env, d, state, at);
  return {
    ...base,
    DetailType: INSTANCE_DETAIL_TYPE,
    Resources: [...base.Resources, arn],
    Detail: JSON.stringify({ ...(JSON.parse(base.Detail) as Record<string, unknown>), instanceId: host.targetId }),
  };
}

const INSTANCE_SUBJECT: Partial<Record<TriggerEventType, string>> = {
  InstanceStart: 'INSTANCE STARTED',
  InstanceSuccess: 'INSTANCE SUCCEEDED',
  InstanceFailure: 'INSTANCE FAILED',
  InstanceReady: 'INSTANCE READY',
};

/** One SNS message per trigger of the group that subscribes to an instance event (InstanceStart, ...). */
export function instanceTriggerMessages(
  env: Environment,
  group: DeploymentGroup,
  d: Deployment,
  event: TriggerEventType,
  host: InstanceReport,
): SnsMessage[] {
  return group.triggerConfigurations
    .filter((t) => t.triggerEvents.includes(event))
    .map((t) => ({
      topicArn: t.triggerTargetArn,
      subject:
        `${INSTANCE_SUBJECT[event] ?? event}: AWS CodeDeploy ${d.deploymentId} in ${env.region} to ${d.spec.applicationName}`.slice(
          0,
          100,
        ),
      message: JSON.stringify({
        region: env.region,
        accountId: env.accountId,
        eventTriggerName: t.triggerName,
        deploymentId: d.deploymentId,
        instanceId: instanceArn(env, host),
        lastUpdatedAt: epoch(host.lastUpdatedAt),
        instanceStatus: host.status,
        lifecycleEvents: host.lifecycleEvents.map((e) => ({
          LifecycleEvent: e.lifecycleEventName,
          LifecycleEventStatus: e.status,
          ...(e.startTime ? { StartTime: epoch(e.startTime) } : {}),
          ...(e.endTime ? { EndTime: epoch(e.endTime) } : {}),
        })),
      }),
    }));
}
