/**
 * The store, as focused ports (one DynamoDB table behind them all; see docs/architecture.md).
 * Every write is conditional. Unless a method says otherwise, AWS throttling and 5xx surface as
 * DependencyUnavailableError (retried by the state machine) and refusals as DependencyRejectedError.
 */
import { ApiError } from '../domain/errors.js';
import type { DeploymentConfig } from '../domain/deployment-config.js';
import type {
  Application,
  Deployment,
  DeploymentGroup,
  DeploymentState,
  DeploymentStatus,
  OnPremisesInstance,
  RevisionLocation,
  Tag,
  TimelineEntry,
} from '../domain/model.js';
import type { TaggableResource } from '../domain/tags.js';

/**
 * The errors every catalog adapter throws for a missing or taken group or application, with
 * CodeDeploy's names and messages: one definition, so the adapters (and the contract test) agree.
 */
export const catalogErrors = {
  groupMissing: (app: string, group: string) =>
    new ApiError(
      'DeploymentGroupDoesNotExistException',
      `Deployment group ${group} does not exist in application ${app}`,
    ),
  groupTaken: (app: string, group: string) =>
    new ApiError(
      'DeploymentGroupAlreadyExistsException',
      `Deployment group ${group} already exists in application ${app}`,
    ),
  appMissing: (name: string) => new ApiError('ApplicationDoesNotExistException', `Application ${name} does not exist`),
  appTaken: (name: string) => new ApiError('ApplicationAlreadyExistsException', `Application ${name} already exists`),
};

export type { TaggableResource };

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

/** Group fields a deployment group update may change (not its lock or its history). */
export type GroupInput = Omit<
  DeploymentGroup,
  | 'deploymentGroupId'
  | 'createTime'
  | 'activeDeploymentId'
  | 'lastSuccessfulDeployment'
  | 'lastAttemptedDeployment'
  | 'lastSuccessfulRevision'
>;

/** Applications, deployment groups, custom deployment configurations and registered revisions. */
export interface Catalog {
  /**
   * Create an application with its tags (none when left out).
   * @throws ApiError ApplicationAlreadyExistsException
   */
  createApplication(app: Application, tags?: Tag[]): Promise<void>;
  getApplication(name: string): Promise<Application | undefined>;
  listApplications(): Promise<Application[]>;
  /** Delete an application, its deployment groups and their tags (CodeDeploy's DeleteApplication); idempotent. */
  deleteApplication(name: string): Promise<void>;

  /**
   * Create a deployment group with its tags (none when left out).
   * @throws ApiError DeploymentGroupAlreadyExistsException
   */
  createDeploymentGroup(group: DeploymentGroup, tags?: Tag[]): Promise<void>;
  /**
   * Replace a group's settings (GROUP_SETTINGS; not its lock or history).
   * @throws ApiError DeploymentGroupDoesNotExistException
   */
  updateDeploymentGroup(group: GroupInput): Promise<void>;
  /**
   * The group named `group` in `app`. With `groupId` (what a deployment created under earlier names knows): the
   * group of that id, followed through renames of it or of its application; undefined when it no longer exists.
   */
  getDeploymentGroup(app: string, group: string, groupId?: string): Promise<DeploymentGroup | undefined>;
  listDeploymentGroups(app: string): Promise<DeploymentGroup[]>;
  /**
   * Rename a group (UpdateDeploymentGroup's newDeploymentGroupName): it keeps its id, settings, lock, history
   * (Deployments.list) and tags, and a deployment that holds its lock finds it by id (getDeploymentGroup,
   * GroupLocks.release). All or nothing: a crash part-way leaves the group under exactly one of the two names,
   * and the same call again finishes or redoes it.
   * @throws ApiError DeploymentGroupDoesNotExistException; DeploymentGroupAlreadyExistsException when `to` is
   *   taken in the application
   */
  renameDeploymentGroup(app: string, from: string, to: string): Promise<void>;
  /**
   * Rename an application (UpdateApplication's newApplicationName) with its groups, registered revisions and
   * tags; ids, locks and histories are kept, as for renameDeploymentGroup. All or nothing from a reader's view:
   * once the new name is written the application is only there, and a crash before its groups and revisions
   * followed is finished by the next read of the application (getApplication, listDeploymentGroups).
   * @throws ApiError ApplicationDoesNotExistException; ApplicationAlreadyExistsException when `to` is taken
   */
  renameApplication(from: string, to: string): Promise<void>;
  /**
   * Delete a group and its tags; idempotent.
   * @throws ApiError InvalidOperationException while a deployment holds the group's lock
   */
  deleteDeploymentGroup(app: string, group: string): Promise<void>;

  /** @throws ApiError DeploymentConfigAlreadyExistsException */
  createDeploymentConfig(config: DeploymentConfig): Promise<void>;
  getDeploymentConfig(name: string): Promise<DeploymentConfig | undefined>;
  listDeploymentConfigs(): Promise<DeploymentConfig[]>;
  /** Delete a custom configuration and its tags; idempotent. */
  deleteDeploymentConfig(name: string): Promise<void>;

  /**
   * A resource's tags (CodeDeploy's ListTagsForResource), in the order their keys were first added; undefined
   * when the resource does not exist. Predefined configurations are not stored: they have none.
   */
  listTags(resource: TaggableResource): Promise<Tag[] | undefined>;
  /**
   * Replace a resource's tags with what `change` makes of them, by compare-and-set: a concurrent change makes it
   * read again and call `change` again; an error `change` throws (a limit) is passed on and nothing is written.
   * Returns the tags written.
   * @throws ApiError ApplicationDoesNotExistException, DeploymentGroupDoesNotExistException or
   *   DeploymentConfigDoesNotExistException when the resource does not exist; InternalError when its tags kept
   *   changing (five tries)
   */
  updateTags(resource: TaggableResource, change: (tags: Tag[]) => Tag[]): Promise<Tag[]>;

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
}

/** Deployment records: what was asked (immutable spec) and where each one is (state). */
export interface Deployments {
  /** Record a new deployment. @throws InternalError when the id exists already */
  create(d: Deployment): Promise<void>;
  get(id: string): Promise<Deployment | undefined>;
  /**
   * Compare-and-set on the state: applies `patch` only if the stored state still has
   * `expectedVersion`; the spec cannot change. Returns the new record.
   * @throws InternalError on a lost race (the caller re-reads and retries)
   */
  update(id: string, expectedVersion: number, patch: Partial<DeploymentState>): Promise<Deployment>;
  /**
   * Ids of a group's deployments, newest first; at most `limit` of them when given. Those created under names
   * the group had before a rename are its too; those of another group that had this name before are not.
   */
  list(app: string, group: string, limit?: number): Promise<string[]>;
  /**
   * Remove a deployment that never started (its status still Created): what CreateDeployment does
   * when the group turns out to be busy, so a refused request leaves no record. A record that has
   * moved on, or none, is left alone (idempotent). Returns whether a record was removed.
   */
  discard(id: string): Promise<boolean>;
}

/** What releasing a group's lock records on the group. */
export interface LockOutcome {
  status: DeploymentStatus;
  createTime: string;
  endTime?: string;
  revision?: RevisionLocation;
}

/** One active deployment per deployment group (CodeDeploy's rule). */
export interface GroupLocks {
  /**
   * Take the group's lock for `deploymentId` (idempotent for the same id).
   * @throws ApiError DeploymentLimitExceededException ("The Deployment Group 'G' already has an
   *   active Deployment 'd-X'") when another holds it; DeploymentGroupDoesNotExistException
   */
  acquire(app: string, group: string, deploymentId: string): Promise<void>;
  /**
   * Release the lock if `deploymentId` holds it, and record the outcome on the group (idempotent). With
   * `groupId`, the group of that id is found wherever a rename took it (see Catalog.getDeploymentGroup).
   */
  release(app: string, group: string, deploymentId: string, outcome: LockOutcome, groupId?: string): Promise<void>;
}

/** A waiting hook execution: maps the hook's id (its callback credential) to the task token waiting for it. */
export interface HookExecution {
  /** sha256 of the hook execution id (hookExecutionIdHash): the id itself is never stored. */
  idHash: string;
  deploymentId: string;
  lifecycleEventName: string;
  taskToken: string;
  status: 'InProgress' | 'Succeeded' | 'Failed';
}

/** Hook executions, by their unguessable ids. */
export interface HookExecutions {
  put(h: HookExecution): Promise<void>;
  /** By the hash of the id. */
  get(idHash: string): Promise<HookExecution | undefined>;
  /** InProgress → Succeeded/Failed once, by the hash of the id; returns false if it was already completed. */
  complete(idHash: string, status: 'Succeeded' | 'Failed'): Promise<boolean>;
}

/** A deployment's timeline: every step it took, for people and for the API's GetDeploymentTimeline. */
export interface Timeline {
  append(deploymentId: string, entry: TimelineEntry): Promise<void>;
  /** In time order. */
  list(deploymentId: string): Promise<TimelineEntry[]>;
}

/** The alarm index: which active deployments watch an alarm (queried without scans). */
export interface AlarmWatches {
  /** Index the alarms an active deployment watches (idempotent). */
  watch(deploymentId: string, alarmNames: string[]): Promise<void>;
  /** Remove a deployment from the index (idempotent). */
  unwatch(deploymentId: string, alarmNames: string[]): Promise<void>;
  /** Ids of the deployments that watch `alarmName` now. */
  watching(alarmName: string): Promise<string[]>;
}

/**
 * On-premises instances (CodeDeploy's RegisterOnPremisesInstance and friends), by name, and by the IAM
 * identity each one's agent signs with: the engine knows a host from the principal of its request's
 * signature (`byIamArn`), never from a field of the request. A deregistered instance stays listed, with its
 * deregisterTime, until its name is registered again.
 */
export interface Instances {
  /**
   * Register an instance (its `deregisterTime` unset), replacing a deregistered one of the same name. A crash
   * part-way leaves nothing that blocks a retry.
   * @throws ApiError InstanceNameAlreadyRegisteredException when a registered instance has the name;
   *   IamUserArnAlreadyRegisteredException / IamSessionArnAlreadyRegisteredException when another registered
   *   instance has the IAM ARN
   */
  register(instance: OnPremisesInstance): Promise<void>;
  /**
   * Deregister the named instance at `at` (ISO): it keeps its record and tags, and its IAM ARN is free to be
   * registered again. Idempotent: a deregistered instance, or none, is left as it is.
   */
  deregister(name: string, at: string): Promise<void>;
  /** The named instance, registered or deregistered; undefined when there is none. */
  get(name: string): Promise<OnPremisesInstance | undefined>;
  /** The registered instance whose iamUserArn or iamSessionArn is `arn`; undefined when there is none. */
  byIamArn(arn: string): Promise<OnPremisesInstance | undefined>;
  /** Every instance, registered and deregistered, in name order. */
  list(): Promise<OnPremisesInstance[]>;
  /**
   * Replace a registered instance's tags with what `change` makes of them, by compare-and-set (a concurrent
   * change makes it read again and call `change` again). Returns the tags written.
   * @throws ApiError InstanceNotRegisteredException when the instance is not registered (none, or deregistered)
   */
  updateTags(name: string, change: (tags: Tag[]) => Tag[]): Promise<Tag[]>;
}

/**
 * The fields of a group that updateDeploymentGroup replaces (one that is unset is removed): every store
 * adapter keeps exactly these.
 */
export const GROUP_SETTINGS = [
  'serviceRoleArn',
  'deploymentConfigName',
  'alarmConfiguration',
  'autoRollbackConfiguration',
  'triggerConfigurations',
  'hookTimeoutSeconds',
  'hookConfiguration',
  // An update always removes a plain secret of a record written before 0.2 (the task moves it to the
  // Secrets port) and writes the reference it keeps or makes.
  'webhookSecret',
  'webhookSecretRef',
  'webhookAllowedHosts',
  'computePlatform',
  'ecsServices',
  'loadBalancerInfo',
  'blueGreenDeploymentConfiguration',
  'deploymentStyle',
  'ec2TagFilters',
  'ec2TagSet',
  'onPremisesInstanceTagFilters',
  'onPremisesTagSet',
  'autoScalingGroups',
  'outdatedInstancesStrategy',
  'terminationHookEnabled',
] as const satisfies readonly (keyof GroupInput)[];
