/**
 * Ports: the only way tasks reach the outside world. Each has an AWS adapter (src/adapters/aws)
 * and a simulated one (src/adapters/sim); src/wiring picks the family.
 *
 * Error contract for every port: throttling and 5xx (after the SDK's retries) surface as
 * DependencyUnavailableError (Step Functions retries it); AWS refusals (AccessDenied,
 * ResourceNotFound, validation) as DependencyRejectedError carrying AWS's message.
 */
import type { AlarmReading } from '../domain/alarms.js';
import type { DeploymentConfig } from '../domain/deployment-config.js';
import type {
  Application,
  Deployment,
  DeploymentGroup,
  DeploymentStatus,
  EcsTarget,
  LifecycleEvent,
  RevisionLocation,
  TimelineEntry,
} from '../domain/model.js';
import type { EventBridgeEntry, SnsMessage } from '../domain/notifications.js';
import type { AliasRouting } from '../domain/traffic.js';
import type { ForwardWeights } from '../domain/ecs.js';

/** Lambda alias routing. */
export interface TrafficRouter {
  /** Read an alias's routing. Throws PreconditionFailedError if the function or alias does not exist. */
  getAlias(functionName: string, alias: string): Promise<AliasRouting>;
  /** Set an alias's routing (UpdateAlias). Idempotent. Returns nothing; callers read back. */
  setAlias(functionName: string, alias: string, routing: AliasRouting): Promise<void>;
  /** Does this published version exist? */
  versionExists(functionName: string, version: string): Promise<boolean>;
}

/** An ECS task set, as the engine needs it (DescribeTaskSets). */
export interface TaskSetInfo {
  id: string;
  taskSetArn: string;
  status: 'PRIMARY' | 'ACTIVE' | 'DRAINING';
  stabilityStatus: 'STEADY_STATE' | 'STABILIZING';
  taskDefinition: string;
  externalId?: string;
  /** Target groups the task set registers its tasks with. */
  targetGroupArns: string[];
  /** Percent of the service's desired count. */
  scalePercent: number;
  runningCount: number;
  pendingCount: number;
  computedDesiredCount: number;
  /** How its tasks run: a replacement inherits these when the AppSpec leaves them out. */
  launchType?: string;
  platformVersion?: string;
  networkConfiguration?: TaskSetSpec['networkConfiguration'];
  capacityProviderStrategy?: TaskSetSpec['capacityProviderStrategy'];
}

/** An ECS service with its task sets (DescribeServices + DescribeTaskSets). */
export interface EcsServiceInfo {
  clusterName: string;
  serviceName: string;
  serviceArn: string;
  status: string;
  /** `ECS`, `CODE_DEPLOY` or `EXTERNAL`: the task-set APIs work only with `EXTERNAL`. */
  deploymentController: string;
  desiredCount: number;
  taskSets: TaskSetInfo[];
}

/** What CreateTaskSet gets for the replacement (green) task set. */
export interface TaskSetSpec extends Pick<
  EcsTarget,
  | 'taskDefinition'
  | 'containerName'
  | 'containerPort'
  | 'platformVersion'
  | 'networkConfiguration'
  | 'capacityProviderStrategy'
> {
  /** The deployment id: finds the task set again after a retry. */
  externalId: string;
  targetGroupArn: string;
  launchType?: string;
  /** Percent of the service's desired count (100: as many tasks as blue). */
  scalePercent: number;
}

/** ECS task sets of services with the EXTERNAL deployment controller. */
export interface EcsServices {
  /** The service and its task sets. Throws PreconditionFailedError when the cluster or service does not exist. */
  describeService(cluster: string, service: string): Promise<EcsServiceInfo>;
  /** CreateTaskSet. Returns the new task set (not yet steady). */
  createTaskSet(cluster: string, service: string, spec: TaskSetSpec): Promise<TaskSetInfo>;
  /** UpdateServicePrimaryTaskSet. */
  updateServicePrimaryTaskSet(cluster: string, service: string, taskSetId: string): Promise<void>;
  /** DeleteTaskSet (force). A task set that is already gone is not an error. */
  deleteTaskSet(cluster: string, service: string, taskSetId: string): Promise<void>;
}

/** One forward action of a listener: its default action (no ruleArn) or a rule's. */
export interface ListenerForward {
  ruleArn?: string;
  weights: ForwardWeights;
}

/** An ELB listener and where it forwards (DescribeListeners + DescribeRules). */
export interface ListenerInfo {
  listenerArn: string;
  loadBalancerArn: string;
  protocol: string;
  port: number;
  /** The default action's forward (if it forwards) and every non-default rule that forwards. */
  forwards: ListenerForward[];
}

/** ELBv2 listeners and target groups. */
export interface LoadBalancers {
  /** Throws PreconditionFailedError when the listener does not exist. */
  describeListener(listenerArn: string): Promise<ListenerInfo>;
  /** Target group ARNs by name (DescribeTargetGroups); names that do not exist are absent. */
  targetGroupArns(names: string[]): Promise<Record<string, string>>;
  /**
   * Point every forward of the listener that sends traffic to any of `pair` (the default action
   * with ModifyListener, rules with ModifyRule) at `weights`. Other forwards are left alone.
   * Returns nothing; callers read back.
   */
  setForward(listenerArn: string, pair: [string, string], weights: ForwardWeights): Promise<void>;
}

/** CloudWatch alarm states. */
export interface AlarmSource {
  /** Current state of the named alarms; alarms that do not exist are absent from the result. */
  describe(names: string[]): Promise<AlarmReading[]>;
}

/** The payload a lifecycle hook receives: CodeDeploy's two keys plus Cutover's context. */
export interface HookPayload {
  DeploymentId: string;
  LifecycleEventHookExecutionId: string;
  [extra: string]: unknown;
}

/** Invokes lifecycle hooks: Lambda functions (by name or ARN) or webhooks (http/https URLs). */
export interface HookInvoker {
  /**
   * Run the hook and resolve with what it answered (its return value or response body), or
   * undefined. A hook that fails to run rejects with DependencyRejectedError naming it.
   */
  invoke(target: string, payload: HookPayload, options?: { webhookSecret?: string }): Promise<unknown>;
}

/** An object holding a revision (S3). */
export interface RevisionObject {
  body: Uint8Array;
  eTag?: string;
  versionId?: string;
  /** User metadata (x-amz-meta-*), keys lower-case without the prefix. */
  metadata: Record<string, string>;
}

/** Where S3 revisions are read from. */
export interface RevisionSource {
  /**
   * GetObject. A missing bucket, key or version throws ApiError RevisionDoesNotExistException;
   * an object larger than `maxBytes` throws InvalidInputError (InvalidRevisionException).
   */
  get(bucket: string, key: string, version: string | undefined, maxBytes: number): Promise<RevisionObject>;
}

/** CodePipeline job results (a Lambda invoke action's job worker). */
export interface PipelineJobs {
  /** PutJobSuccessResult; with a continuationToken CodePipeline invokes the worker again later. */
  succeed(
    jobId: string,
    result: { continuationToken?: string; summary?: string; externalExecutionId?: string },
  ): Promise<void>;
  /** PutJobFailureResult. */
  fail(
    jobId: string,
    failure: { type: 'JobFailed' | 'ConfigurationError'; message: string; externalExecutionId?: string },
  ): Promise<void>;
}

/** Step Functions callbacks. */
export interface TaskTokens {
  /** Complete a waiting task. Resolves false when the token is no longer waiting (timed out or done). */
  succeed(token: string, output: unknown): Promise<boolean>;
  fail(token: string, error: string, cause: string): Promise<boolean>;
}

/** Starts state machine executions. */
export interface ExecutionStarter {
  /** StartExecution with a unique name (the deployment id). Returns the execution ARN. */
  start(name: string, input: Record<string, unknown>): Promise<string>;
}

/** EventBridge and SNS. */
export interface EventPublisher {
  putEvents(entries: EventBridgeEntry[]): Promise<void>;
  publish(message: SnsMessage): Promise<void>;
}

/** Time, injected so local mode can compress it and tests can skip it. */
export interface Clock {
  now(): Date;
  /** Sleep `seconds` of clock time (compressed in local mode). Rejects with an AbortError if `signal` aborts. */
  sleep(seconds: number, signal?: AbortSignal): Promise<void>;
}

/** A waiting hook execution: maps the hook's id to the task token waiting for it. */
export interface HookExecution {
  hookExecutionId: string;
  deploymentId: string;
  lifecycleEventName: string;
  taskToken: string;
  status: 'InProgress' | 'Succeeded' | 'Failed';
}

/** A registered application revision with CodeDeploy's GenericRevisionInfo. */
export interface StoredRevision {
  /** Identity of the revision: its sha256, or its S3 location. */
  key: string;
  revision: RevisionLocation;
  description?: string;
  registerTime?: string;
  firstUsedTime?: string;
  lastUsedTime?: string;
  deploymentGroups: string[];
}

/** Group fields a deployment group update may change. */
export type GroupInput = Omit<
  DeploymentGroup,
  | 'deploymentGroupId'
  | 'createTime'
  | 'activeDeploymentId'
  | 'lastSuccessfulDeployment'
  | 'lastAttemptedDeployment'
  | 'lastSuccessfulRevision'
>;

/**
 * The store (one DynamoDB table). Every write is conditional. Methods throw ApiError with
 * CodeDeploy's exception names for user-visible conflicts.
 */
export interface DeploymentStore {
  createApplication(app: Application): Promise<void>;
  getApplication(name: string): Promise<Application | undefined>;
  createDeploymentGroup(group: DeploymentGroup): Promise<void>;
  /** Replace a group's settings (not its lock or history). */
  updateDeploymentGroup(group: GroupInput): Promise<void>;
  getDeploymentGroup(app: string, group: string): Promise<DeploymentGroup | undefined>;
  createDeploymentConfig(config: DeploymentConfig): Promise<void>;
  getDeploymentConfig(name: string): Promise<DeploymentConfig | undefined>;

  /**
   * Take the group's lock for `deploymentId`. Throws ApiError DeploymentLimitExceededException
   * ("The Deployment Group 'G' already has an active Deployment 'd-X'") when another holds it.
   */
  lockGroup(app: string, group: string, deploymentId: string): Promise<void>;
  /** Release the lock if `deploymentId` holds it; records the outcome on the group. */
  releaseGroup(
    app: string,
    group: string,
    deploymentId: string,
    outcome: { status: DeploymentStatus; createTime: string; endTime?: string; revision?: RevisionLocation },
  ): Promise<void>;

  /** Create a deployment record (fails if the id exists). */
  createDeployment(d: Deployment): Promise<void>;
  getDeployment(id: string): Promise<Deployment | undefined>;
  /**
   * Compare-and-set update: applies `patch` only if the stored record still has `expectedVersion`.
   * Returns the new record. Throws InternalError on a lost race.
   */
  updateDeployment(id: string, expectedVersion: number, patch: Partial<Deployment>): Promise<Deployment>;
  appendTimeline(id: string, entry: TimelineEntry): Promise<void>;
  getTimeline(id: string): Promise<TimelineEntry[]>;
  listDeployments(app: string, group: string): Promise<string[]>;

  listApplications(): Promise<Application[]>;
  /** Delete an application and its deployment groups (CodeDeploy's DeleteApplication). */
  deleteApplication(name: string): Promise<void>;
  listDeploymentGroups(app: string): Promise<DeploymentGroup[]>;
  /** Delete a group; refuses (ApiError) while a deployment holds its lock. */
  deleteDeploymentGroup(app: string, group: string): Promise<void>;
  listDeploymentConfigs(): Promise<DeploymentConfig[]>;
  deleteDeploymentConfig(name: string): Promise<void>;

  /** RegisterApplicationRevision: remember a revision (idempotent merge; keeps its usage). */
  registerRevision(
    app: string,
    key: string,
    revision: RevisionLocation,
    description: string | undefined,
    at: string,
  ): Promise<void>;
  /** A deployment of `group` used this revision at `at` (idempotent merge). */
  recordRevisionUse(app: string, key: string, revision: RevisionLocation, group: string, at: string): Promise<void>;
  getRevision(app: string, key: string): Promise<StoredRevision | undefined>;
  listRevisions(app: string): Promise<StoredRevision[]>;

  /** Index the alarms an active deployment watches (alarm → deployments, queried without scans). */
  watchAlarms(deploymentId: string, alarmNames: string[]): Promise<void>;
  /** Remove a deployment from the alarm index (idempotent). */
  unwatchAlarms(deploymentId: string, alarmNames: string[]): Promise<void>;
  /** Ids of the deployments that watch `alarmName` now. */
  deploymentsWatching(alarmName: string): Promise<string[]>;

  putHookExecution(h: HookExecution): Promise<void>;
  getHookExecution(id: string): Promise<HookExecution | undefined>;
  /** InProgress → Succeeded/Failed once; returns false if it was already completed. */
  completeHookExecution(id: string, status: 'Succeeded' | 'Failed'): Promise<boolean>;
}

export type { LifecycleEvent };

/** Structured logs. Never pass task tokens, hook execution ids or secrets in `data`. */
export interface Logger {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}
