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
/**
 * CodeDeploy's LoadBalancerInfo. ECS groups use `targetGroupPairInfoList` (one pair); Server groups use
 * `targetGroupInfoList` (ALB/NLB target groups an instance leaves during BlockTraffic and rejoins during
 * AllowTraffic). `elbInfoList` (Classic Load Balancers) is kept for CodeDeploy's shape; no group takes it yet.
 */
export interface LoadBalancerInfo {
  targetGroupPairInfoList?: TargetGroupPairInfo[];
  targetGroupInfoList?: { name: string }[];
  elbInfoList?: { name: string }[];
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

/** CodeDeploy's tag filter types (EC2TagFilterType and TagFilterType share them). */
export const TAG_FILTER_TYPES = ['KEY_ONLY', 'VALUE_ONLY', 'KEY_AND_VALUE'] as const;
export type TagFilterType = (typeof TAG_FILTER_TYPES)[number];
/**
 * CodeDeploy's EC2TagFilter and TagFilter (on-premises; same shape): KEY_ONLY matches any instance with a tag
 * `Key`, VALUE_ONLY any tag whose value is `Value`, KEY_AND_VALUE a tag `Key` = `Value`.
 */
export interface TagFilter {
  Key?: string;
  Value?: string;
  Type: TagFilterType;
}
/** A tag (CodeDeploy's Tag): on-premises instances and EC2 instances carry them. */
export interface Tag {
  Key: string;
  Value: string;
}

/**
 * A registered on-premises instance (CodeDeploy's InstanceInfo; times ISO). Exactly one of `iamSessionArn`
 * and `iamUserArn` is set: the identity its agent signs with, by which the engine knows the host.
 */
export interface OnPremisesInstance {
  instanceName: string;
  iamSessionArn?: string;
  iamUserArn?: string;
  /** `arn:aws:codedeploy:<region>:<account>:instance/<name>`. */
  instanceArn: string;
  registerTime: string;
  /** Set once deregistered (then its registration status is Deregistered; it is deployed to no more). */
  deregisterTime?: string;
  tags: Tag[];
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
  hookConfiguration?: Partial<Record<string, HookSettings>>;
  /** ECS groups: the service (exactly one), its target group pair and listeners, blue/green settings. */
  ecsServices?: EcsServiceRef[];
  loadBalancerInfo?: LoadBalancerInfo;
  blueGreenDeploymentConfiguration?: BlueGreenDeploymentConfiguration;
  deploymentStyle?: DeploymentStyle;
  /**
   * Server groups: the instances deployed to. Within a filter list any filter matches; within a tag set every
   * group must match (each group being a filter list). A list and a set of the same kind exclude each other.
   */
  ec2TagFilters?: TagFilter[];
  ec2TagSet?: { ec2TagSetList: TagFilter[][] };
  onPremisesInstanceTagFilters?: TagFilter[];
  onPremisesTagSet?: { onPremisesTagSetList: TagFilter[][] };
  /** Server groups: the Auto Scaling groups (by name) whose instances are deployed to as well. */
  autoScalingGroups?: string[];
  /** Server groups: instances launched mid-deployment get a follow-on deployment (UPDATE) or not (IGNORE). */
  outdatedInstancesStrategy?: 'UPDATE' | 'IGNORE';
  /** Server groups: termination deployments on Auto Scaling scale-in (Cutover runs none yet: only false). */
  terminationHookEnabled?: boolean;
  /**
   * Where the secret that signs webhook hook requests (HMAC-SHA256) lives: a reference the Secrets port gave
   * (docs/adr/0025-webhook-secrets-in-parameter-store.md). The value is never stored in the group's record.
   */
  webhookSecretRef?: string;
  /**
   * @deprecated Only in records written before 0.2: the secret itself. Still used to sign; the next update of
   * the group moves it to the Secrets port and removes it from the record.
   */
  webhookSecret?: string;
  /**
   * Hosts (normalized) whose private addresses (RFC 1918, CGNAT, ULA) webhook hooks may reach; no
   * host opens metadata or link-local addresses (docs/adr/0022-hook-targets-safe-by-construction.md).
   */
  webhookAllowedHosts?: string[];
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

export interface LifecycleEvent {
  lifecycleEventName: string;
  status: LifecycleEventStatus;
  startTime?: string;
  endTime?: string;
  /**
   * When the hook's timeout ends, on the clock's time (not a stamp: in local mode that time runs ahead
   * of the wall clock). Internal, never shown to clients.
   */
  timeoutAt?: string;
  hookFunction?: string;
  /** sha256 of the running hook's execution id (src/domain/ids.ts): never the id itself. */
  hookExecutionIdHash?: string;
  diagnostics?: { errorCode: string; message: string; scriptName?: string; logTail?: string };
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

/**
 * One stage of a deployment's lifecycle, in order. Platforms declare their lifecycle (which events
 * are user hooks, which are engine actions such as Install, where traffic moves); the deployment
 * records the stages that apply to it when it is created, and the engine walks them in order.
 */
export type Stage =
  | {
      kind: 'hook';
      /** The lifecycle event (BeforeAllowTraffic, ...). */
      name: string;
      /** The hook to run: a Lambda function name or ARN, or a webhook URL (a secret: never returned). */
      hook: string;
      timeoutSeconds: number;
      timeoutAction: 'rollback' | 'continue';
    }
  | {
      kind: 'action';
      /** The engine action (Install, AllowTestTraffic, a wait for ContinueDeployment...). */
      name: string;
      /** Whether it is one of CodeDeploy's lifecycle events (recorded in lifecycleEvents). */
      lifecycleEvent: boolean;
    }
  | {
      kind: 'traffic';
      /** The lifecycle event traffic moves in (AllowTraffic). */
      name: string;
    };

/** What was asked: fixed when the deployment is created, never changed afterwards. */
export interface DeploymentSpec<Target = unknown> {
  applicationName: string;
  deploymentGroupName: string;
  deploymentGroupId: string;
  deploymentConfigName: string;
  computePlatform: ComputePlatform;
  creator: DeploymentCreator;
  description?: string;
  revision: RevisionLocation;
  createTime: string;
  autoRollbackConfiguration: AutoRollbackConfiguration;
  /**
   * CodeDeploy's in-place options of CreateDeployment (Server deployments act on them; the other platforms
   * accept only their defaults): a failed ApplicationStop, BeforeBlockTraffic or AfterBlockTraffic does not
   * fail a host; deploy only to hosts not on this revision yet; what Install does with a file already there
   * (an AppSpec's own file_exists_behavior wins).
   */
  ignoreApplicationStopFailures?: boolean;
  updateOutdatedInstancesOnly?: boolean;
  fileExistsBehavior?: 'DISALLOW' | 'OVERWRITE' | 'RETAIN';
  /** What the platform deploys, from the AppSpec and the group (Lambda aliases, an ECS service). */
  target: Target;
  /** The stages this deployment goes through, in order (hooks without a function are left out). */
  lifecycle: Stage[];
  plan: Plan;
}

/** Where a deployment is: changed as it runs, by compare-and-set on `version`. */
export interface DeploymentState<Facts = unknown> {
  status: DeploymentStatus;
  startTime?: string;
  completeTime?: string;
  errorInformation?: ErrorInformation;
  rollbackInfo?: RollbackInfo;
  /** Current percent of traffic on the target. */
  targetWeight: number;
  lifecycleEvents: LifecycleEvent[];
  executionArn?: string;
  /** What the platform found and made in the world (ECS: the original and replacement task sets). */
  facts?: Facts;
  /** The callback the execution is waiting on now, so alarms and operators can end it at once. */
  currentWait?: CurrentWait;
  /** Index of the last plan step applied and read back (-1 before the first). */
  stepIndex?: number;
  /** A step being applied whose traffic has not read back yet (set before the world is changed). */
  shifting?: { index: number; weight: number; since: string };
  /** When the bake at the current step ends (ISO). */
  bakeUntil?: string;
  /** Set while paused: the bake time that was left when the pause began. */
  paused?: { at: string; remainingBakeSeconds: number };
  /** An operator asked to skip the remaining bakes and go to 100%. */
  promoted?: { at: string };
  /** An operator asked to stop (StopDeployment). */
  stopRequest?: { at: string; autoRollbackEnabled?: boolean };
  /** ContinueDeployment requests (READY_WAIT ends a ready wait, TERMINATION_WAIT a termination wait). */
  continued?: { READY_WAIT?: string; TERMINATION_WAIT?: string };
  /** Steps an operator approved (plan indexes). */
  approvedSteps?: number[];
  /** The alarms this deployment indexed for the alarm listener (removed from the index at the end). */
  watchedAlarms?: string[];
  /** Alarm states when traffic was about to move (the baseline of `ignoreAlarmsAlreadyFiring`). */
  alarmBaseline?: { at: string; firing: string[] };
  /**
   * What a `settle` wait waits for arrived before the wait was parked (an in-place fleet's wave ended): the
   * next settle wait ends as soon as it begins (docs/adr/0016-host-commands-and-fleet-progress.md).
   */
  settleWake?: { at: string; reason: string };
  /** An alarm that went to ALARM while no wait could be interrupted: acted on at the next boundary. */
  pendingAlarm?: { alarmName: string; at: string };
  /** The outcome (SUCCESS, FAILURE, STOP) was published: it is published once. */
  outcomePublished?: boolean;
  /**
   * Side effects that must happen once (a timeline entry, an event, a trigger), by key, recorded as
   * each is done: a retried task skips what it already did (support.ts `once`).
   */
  effects?: string[];
  /** Notifications that could not be delivered (the topic refused, the bus is gone): reported, not retried. */
  notificationFailures?: NotificationFailure[];
  /** Until when a rollback keeps trying to restore targets it could not restore yet (ISO). */
  rollbackDeadline?: string;
  /** Monotonic counter for optimistic concurrency. */
  version: number;
}

/** An outcome notification that was refused, kept on the deployment and on its timeline. */
export interface NotificationFailure {
  at: string;
  /** The state or trigger event (SUCCESS, DeploymentSuccess, ...). */
  event: string;
  /** Where it was going: the event bus, or the SNS topic ARN. */
  target: string;
  message: string;
}

/** A deployment: what was asked (spec) and where it is (state). */
export interface Deployment<Target = unknown, Facts = unknown> {
  deploymentId: string;
  spec: DeploymentSpec<Target>;
  state: DeploymentState<Facts>;
}

export type WaitKind =
  'bake' | 'hook' | 'pause' | 'approval' | 'hookRetry' | 'settle' | 'steady' | 'ready' | 'termination';

export interface CurrentWait {
  kind: WaitKind;
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

/**
 * The lifecycle events of a deployment that ended at `at` without finishing them: one that was
 * running failed, one that never began was skipped (as CodeDeploy shows them). Ended ones stay.
 */
export function endLifecycle(events: LifecycleEvent[], at: string): LifecycleEvent[] {
  return events.map((e) =>
    e.status === 'InProgress'
      ? { ...e, status: 'Failed' as const, endTime: at }
      : e.status === 'Pending'
        ? { ...e, status: 'Skipped' as const }
        : e,
  );
}

export interface HookSettings {
  timeoutSeconds?: number;
  timeoutAction?: 'rollback' | 'continue';
}
