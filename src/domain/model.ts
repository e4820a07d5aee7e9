/**
 * The deployment model, in CodeDeploy's words (application, deployment group, deployment
 * configuration, revision, lifecycle event). Field names follow CodeDeploy's API where one exists.
 */

export const DEPLOYMENT_STATUSES = [
  'Created',
  'Queued',
  'InProgress',
  'Baking',
  'Succeeded',
  'Failed',
  'Stopped',
  'Ready',
] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];
export const TERMINAL_STATUSES: readonly DeploymentStatus[] = ['Succeeded', 'Failed', 'Stopped'];
export const isTerminal = (s: DeploymentStatus): boolean => TERMINAL_STATUSES.includes(s);

export type LifecycleEventStatus = 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'Skipped' | 'Unknown';
export const LAMBDA_HOOK_EVENTS = ['BeforeAllowTraffic', 'AfterAllowTraffic'] as const;
export type LambdaHookEvent = (typeof LAMBDA_HOOK_EVENTS)[number];
/** ECS hooks, in the order they run. */
export const ECS_HOOK_EVENTS = [
  'BeforeInstall',
  'AfterInstall',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
] as const;
export type EcsHookEvent = (typeof ECS_HOOK_EVENTS)[number];
export type HookEvent = LambdaHookEvent | EcsHookEvent;

export type AutoRollbackEvent = 'DEPLOYMENT_FAILURE' | 'DEPLOYMENT_STOP_ON_ALARM' | 'DEPLOYMENT_STOP_ON_REQUEST';
export interface AutoRollbackConfiguration {
  enabled: boolean;
  events: AutoRollbackEvent[];
}
export interface AlarmConfiguration {
  enabled: boolean;
  ignorePollAlarmFailure: boolean;
  alarms: { name: string }[];
  /**
   * Cutover: what an alarm already in ALARM when the deployment starts means.
   * `failOnAlarmAtStart` (CodeDeploy's behaviour, default) fails the deployment;
   * `ignoreAlarmsAlreadyFiring` counts only new transitions to ALARM, so a fix can ship mid-incident.
   */
  baselineMode?: 'failOnAlarmAtStart' | 'ignoreAlarmsAlreadyFiring';
}
export const TRIGGER_EVENT_TYPES = [
  'DeploymentStart',
  'DeploymentSuccess',
  'DeploymentFailure',
  'DeploymentStop',
  'DeploymentRollback',
  'DeploymentReady',
  'InstanceStart',
  'InstanceSuccess',
  'InstanceFailure',
  'InstanceReady',
] as const;
export type TriggerEventType = (typeof TRIGGER_EVENT_TYPES)[number];
export interface TriggerConfig {
  triggerName: string;
  triggerTargetArn: string;
  triggerEvents: TriggerEventType[];
}

export type ComputePlatform = 'Lambda' | 'ECS' | 'Server';

export interface Application {
  applicationId: string;
  applicationName: string;
  computePlatform: ComputePlatform;
  createTime: string;
}

/** An ECS service a deployment group deploys (CodeDeploy's ECSService). */
export interface EcsServiceRef {
  serviceName: string;
  clusterName: string;
}
/** CodeDeploy's TargetGroupPairInfo: the two target groups and the listeners that route to them. */
export interface TargetGroupPairInfo {
  targetGroups: { name: string }[];
  prodTrafficRoute: { listenerArns: string[] };
  testTrafficRoute?: { listenerArns: string[] };
}
export interface LoadBalancerInfo {
  targetGroupPairInfoList: TargetGroupPairInfo[];
}
/** CodeDeploy's BlueGreenDeploymentConfiguration (the parts that apply to ECS). */
export interface BlueGreenDeploymentConfiguration {
  terminateBlueInstancesOnDeploymentSuccess?: {
    action: 'TERMINATE' | 'KEEP_ALIVE';
    terminationWaitTimeInMinutes?: number;
  };
  deploymentReadyOption?: { actionOnTimeout: 'CONTINUE_DEPLOYMENT' | 'STOP_DEPLOYMENT'; waitTimeInMinutes?: number };
}
export interface DeploymentStyle {
  deploymentType: 'BLUE_GREEN' | 'IN_PLACE';
  deploymentOption: 'WITH_TRAFFIC_CONTROL' | 'WITHOUT_TRAFFIC_CONTROL';
}

export interface DeploymentGroup {
  applicationName: string;
  deploymentGroupName: string;
  deploymentGroupId: string;
  computePlatform: ComputePlatform;
  serviceRoleArn?: string;
  deploymentConfigName: string;
  alarmConfiguration: AlarmConfiguration;
  autoRollbackConfiguration: AutoRollbackConfiguration;
  triggerConfigurations: TriggerConfig[];
  /** Seconds a lifecycle hook may take to report before the event fails (CodeDeploy: 3600). */
  hookTimeoutSeconds: number;
  /** Per lifecycle event: its own timeout and what a timeout does (default: roll back). */
  hookConfiguration?: Partial<Record<HookEvent, HookSettings>>;
  /** ECS groups: the service (exactly one), its target group pair and listeners, blue/green settings. */
  ecsServices?: EcsServiceRef[];
  loadBalancerInfo?: LoadBalancerInfo;
  blueGreenDeploymentConfiguration?: BlueGreenDeploymentConfiguration;
  deploymentStyle?: DeploymentStyle;
  /** Secret for signing webhook hook requests (HMAC-SHA256). Never returned by the API. */
  webhookSecret?: string;
  createTime: string;
  /** Set while a deployment holds the group's lock (one active deployment per group). */
  activeDeploymentId?: string;
  lastSuccessfulDeployment?: DeploymentSummary;
  lastAttemptedDeployment?: DeploymentSummary;
  /** The revision of the last successful deployment. */
  lastSuccessfulRevision?: RevisionLocation;
}

export interface DeploymentSummary {
  deploymentId: string;
  status: DeploymentStatus;
  endTime?: string;
  createTime: string;
}

export type RevisionLocation =
  | { revisionType: 'AppSpecContent'; appSpecContent: { content: string; sha256: string } }
  | { revisionType: 'String'; string: { content: string; sha256: string } }
  | {
      revisionType: 'S3';
      s3Location: { bucket: string; key: string; bundleType?: string; version?: string; eTag?: string };
    };

/** One Lambda function shifted by a deployment. */
export interface FunctionTarget {
  /** The AppSpec resource's logical name. */
  logicalName: string;
  functionName: string;
  alias: string;
  currentVersion: string;
  targetVersion: string;
}

export interface LifecycleEvent {
  lifecycleEventName: string;
  status: LifecycleEventStatus;
  startTime?: string;
  endTime?: string;
  hookFunction?: string;
  hookExecutionId?: string;
  diagnostics?: { errorCode: string; message: string };
}

export interface TimelineEntry {
  at: string;
  event: string;
  message: string;
  data?: Record<string, unknown>;
}

export interface ErrorInformation {
  code: string;
  message: string;
}

export interface RollbackInfo {
  rollbackDeploymentId?: string;
  rollbackTriggeringDeploymentId?: string;
  rollbackMessage?: string;
}

export type DeploymentCreator = 'user' | 'codeDeployRollback' | 'CodePipeline' | 'S3';

/**
 * One step of a plan. A `shift` moves traffic to `weight` and bakes there; an `approve` step keeps
 * the weight of the step before it and waits for an operator's approval (or times out → rollback).
 */
export type Step =
  | {
      kind: 'shift';
      /** Percent of traffic on the target version after this step (0 < weight <= 100). */
      weight: number;
      /** Seconds to bake at this weight before the next step (0 for the last step). */
      bakeSeconds: number;
    }
  | { kind: 'approve'; weight: number; bakeSeconds: 0; timeoutSeconds: number };

export interface Plan {
  steps: Step[];
  /** Seconds between the first and the last traffic shift. */
  totalBakeSeconds: number;
}

export interface Deployment {
  deploymentId: string;
  applicationName: string;
  deploymentGroupName: string;
  deploymentGroupId: string;
  deploymentConfigName: string;
  computePlatform: ComputePlatform;
  status: DeploymentStatus;
  creator: DeploymentCreator;
  description?: string;
  revision: RevisionLocation;
  createTime: string;
  startTime?: string;
  completeTime?: string;
  errorInformation?: ErrorInformation;
  rollbackInfo?: RollbackInfo;
  autoRollbackConfiguration: AutoRollbackConfiguration;
  /** Filled by Prepare from the AppSpec. */
  functions: FunctionTarget[];
  hooks: Partial<Record<HookEvent, string>>;
  /** ECS deployments: the service, its task sets and listeners (filled by Prepare and Install). */
  ecs?: EcsTarget;
  plan?: Plan;
  /** Current percent of traffic on the target versions. */
  targetWeight: number;
  lifecycleEvents: LifecycleEvent[];
  executionArn?: string;
  /** The callback the execution is waiting on now, so alarms and operators can end it at once. */
  currentWait?: CurrentWait;
  /** Index of the last plan step applied (-1 before the first). */
  stepIndex?: number;
  /** When the bake at the current step ends (simulated or real time, ISO). */
  bakeUntil?: string;
  /** Set while paused: the bake time that was left when the pause began. */
  paused?: { at: string; remainingBakeSeconds: number };
  /** An operator asked to skip the remaining bakes and go to 100%. */
  promoted?: { at: string };
  /** An operator asked to stop (StopDeployment). */
  stopRequest?: { at: string; autoRollbackEnabled?: boolean };
  /** ContinueDeployment requests (ECS: READY_WAIT ends the ready wait, TERMINATION_WAIT the termination wait). */
  continued?: { READY_WAIT?: string; TERMINATION_WAIT?: string };
  /** Steps an operator approved (plan indexes). */
  approvedSteps?: number[];
  /** The alarms this deployment indexed for the alarm listener (removed from the index at the end). */
  watchedAlarms?: string[];
  /** Alarm states when traffic was about to move (the baseline of `ignoreAlarmsAlreadyFiring`). */
  alarmBaseline?: { at: string; firing: string[] };
  /** An alarm that went to ALARM while no wait could be interrupted: acted on at the next boundary. */
  pendingAlarm?: { alarmName: string; at: string };
  /** Monotonic counter for optimistic concurrency. */
  version: number;
}

/** ECS awsvpc network settings of a task set (CodeDeploy's AppSpec NetworkConfiguration). */
export interface EcsNetworkConfiguration {
  awsvpcConfiguration: { subnets: string[]; securityGroups?: string[]; assignPublicIp?: 'ENABLED' | 'DISABLED' };
}
export interface EcsCapacityProvider {
  capacityProvider: string;
  base?: number;
  weight?: number;
}

/** An ECS deployment's target: from the AppSpec, then the blue/green task sets found and made. */
export interface EcsTarget {
  clusterName: string;
  serviceName: string;
  taskDefinition: string;
  containerName: string;
  containerPort: number;
  platformVersion?: string;
  networkConfiguration?: EcsNetworkConfiguration;
  capacityProviderStrategy?: EcsCapacityProvider[];
  /** Set by Prepare: the primary task set and its target group. */
  blueTaskSetId?: string;
  blueTaskDefinition?: string;
  blueTargetGroupArn?: string;
  /** Set by Prepare: the other target group of the pair. Install creates green on it. */
  greenTargetGroupArn?: string;
  /** Set by Prepare: the original task set the last deployment kept (KEEP_ALIVE); Install deletes it first. */
  replacesKeptTaskSetId?: string;
  /** Set by Install. */
  greenTaskSetId?: string;
  prodListenerArns?: string[];
  testListenerArns?: string[];
  /** Install gives up when green is not steady by then (ISO). */
  steadyDeadline?: string;
  /** Set when test traffic was routed to green. */
  testTrafficOnGreen?: boolean;
}

export interface CurrentWait {
  kind: 'bake' | 'hook' | 'pause' | 'approval' | 'hookRetry' | 'steady' | 'ready' | 'termination';
  /** Step Functions task token (a secret: never logged). */
  token: string;
  stepIndex?: number;
  lifecycleEventName?: string;
  since: string;
  /** When the wait ends by itself (bake end or hook timeout). */
  until?: string;
}

/** Return `events` with the named lifecycle event replaced by `patch` applied to it (added if missing). */
export function withLifecycle(
  events: LifecycleEvent[],
  name: string,
  patch: Partial<LifecycleEvent>,
): LifecycleEvent[] {
  const found = events.some((e) => e.lifecycleEventName === name);
  const list = found ? events : [...events, { lifecycleEventName: name, status: 'Pending' as const }];
  return list.map((e) => (e.lifecycleEventName === name ? { ...e, ...patch } : e));
}

/** Lifecycle events of a Lambda deployment, in order (Start and End are implicit). */
export const LAMBDA_LIFECYCLE = ['BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'] as const;
/** Lifecycle events of an ECS deployment, in order (Start and End are implicit). */
export const ECS_LIFECYCLE = [
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'AllowTestTraffic',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AllowTraffic',
  'AfterAllowTraffic',
] as const;

export interface HookSettings {
  timeoutSeconds?: number;
  timeoutAction?: 'rollback' | 'continue';
}
