/**
 * A platform (Lambda, ECS, ...) is a strategy: the deployment flow (plan, hooks, steps, bakes,
 * alarms, controls, commit point, rollback, outcome) is the same for all of them, and each platform
 * says only what moves traffic on its kind of target. Modelled on Argo Rollouts'
 * TrafficRoutingReconciler (SetWeight, VerifyWeight, RemoveManagedRoutes), with what a deployment
 * engine needs besides: check the world first, install a replacement, roll back from the world as
 * it is, finish after the commit point, describe the targets. docs/adr/0008-platforms-are-strategies.md
 */
import type { PlatformDeploymentConfigs } from '../domain/deployment-config.js';
import type { Issue } from '../domain/errors.js';
import type { StageTemplate } from '../domain/lifecycle.js';
import type {
  ComputePlatform,
  Deployment,
  DeploymentGroup,
  DeploymentSpec,
  RevisionLocation,
  WaitKind,
} from '../domain/model.js';
import type { Environment } from '../domain/notifications.js';
import type { HostCommands } from '../ports/host-commands.js';
import type { GroupInput } from '../ports/store.js';

/** What a strategy method may do besides using its own ports. */
export interface StrategyContext {
  now(): Date;
  /** Append to the deployment's timeline (and the log). */
  note(event: string, message: string, data?: Record<string, unknown>): Promise<void>;
  /**
   * Keep facts on the deployment now, before the next change to the world (e.g. the deadline of a
   * replacement about to be created), so a retry or a rollback after a crash knows of it.
   */
  recordFacts(facts: Record<string, unknown>): Promise<void>;
}

/** Prepare's check of the world, before anything changes. */
export interface WorldCheck<Facts> {
  /** Everything that stops the deployment (empty: ready). Each names the target and what is wrong. */
  problems: string[];
  /** What was found, kept on the deployment (ECS: which task set and target group are blue). */
  facts?: Facts;
  /** One line for the timeline: what goes from where to where. */
  summary: string;
}

/** An engine action of the lifecycle: done, or not yet (wait, then run it again). */
export type ActionResult<Facts> =
  { done: true; facts?: Partial<Facts> } | { done: false; wait: WaitKind; seconds: number; facts?: Partial<Facts> };

/**
 * Traffic read back after a change. Verification is data: `pending` (the world does not show the
 * weight yet, look again) is not an error, `mismatch` (something else holds the routing) is.
 */
export type Verification =
  | { verdict: 'verified'; observed: Record<string, string> }
  | { verdict: 'pending'; observed: Record<string, string>; retryAfterSeconds: number }
  | { verdict: 'mismatch'; observed: Record<string, string>; message: string };

/** What a deployment has changed in the world, read from the world (not from the record). */
export interface Assessment {
  /** Something of this deployment's is in place (traffic, or a replacement). */
  changed: boolean;
  trafficMoved: boolean;
  /** The state now, for the timeline. */
  describe: string;
}

/** The outcome of a rollback, per target, read back. */
export interface Restoration {
  /** Targets back on the original, verified, each with where its traffic is now. */
  restored: string[];
  /** Targets that could not be restored, each with where its traffic is now (empty: all restored). */
  notRestored: {
    target: string;
    where: string;
    reason: string;
    /** Trying again cannot restore it (nothing transient stands in the way): end the rollback now. */
    final?: boolean;
    /**
     * Its restore is under way and bounded by deadlines of its own (a host redeploying the earlier revision
     * fails at its event's deadline): try again after the rollback deadline too, until it ends either way.
     */
    underWay?: boolean;
  }[];
}

/**
 * The strategy for one kind of deployment target. Every method is idempotent and decides from the
 * world as it is, so a retried or interrupted call never half-applies. Methods throw
 * DependencyUnavailableError when retrying may help, DependencyRejectedError when AWS refused,
 * PreconditionFailedError when the world is not as the deployment needs it.
 */
export interface TargetStrategy<Target = unknown, Facts = unknown> {
  /** Check the world before anything changes: every problem at once, and the facts to keep. */
  check(d: Deployment<Target, Facts>, ctx: CheckContext): Promise<WorldCheck<Facts>>;
  /** Run an engine action of the lifecycle (ECS: Install, AllowTestTraffic, a ready or termination wait). */
  runAction(d: Deployment<Target, Facts>, action: string, ctx: StrategyContext): Promise<ActionResult<Facts>>;
  /** Move traffic to `weight` percent on the target (at 100: the target is what serves). */
  setWeight(d: Deployment<Target, Facts>, weight: number, ctx: StrategyContext): Promise<void>;
  /** Read the world back: does it route `weight` percent to the target? */
  verifyWeight(d: Deployment<Target, Facts>, weight: number): Promise<Verification>;
  /** What this deployment has changed in the world. */
  assess(d: Deployment<Target, Facts>): Promise<Assessment>;
  /**
   * Put every target back on the original, from the world as it is, and read it back. A target that
   * cannot be restored does not stop the others; it is reported in `notRestored`.
   */
  restore(d: Deployment<Target, Facts>, ctx: StrategyContext): Promise<Restoration>;
  /**
   * The deployment ends early (failed or stopped, rolled back or not): stop whatever it would still start
   * on its own, so nothing moves after its outcome is recorded (Server: the fleet dispatches no more
   * commands and hosts not started are Skipped). Never moves traffic back; restore does that. Idempotent.
   * Returns what it did, for the timeline, or undefined when nothing was left to stop.
   * @throws the ports' errors (the caller retries)
   */
  halt(d: Deployment<Target, Facts>): Promise<string | undefined>;
  /**
   * After the commit point (the deployment is recorded Succeeded): clean up (ECS: delete the original
   * task set). Never touches traffic. Returns what it did, for the timeline.
   */
  finish(d: Deployment<Target, Facts>, ctx: StrategyContext): Promise<string>;
}

/** What Prepare's check may read besides the world: the group's last successful deployment. */
export interface CheckContext extends StrategyContext {
  previous?: Deployment;
}

export type StrategyMethod = keyof TargetStrategy;

export type { PlatformDeploymentConfigs, StageTemplate };

/** What a platform makes of an AppSpec for a group. */
export interface PlannedRevision<Target> {
  target: Target;
  /** Hook functions by lifecycle event, as the AppSpec names them. */
  hooks: Partial<Record<string, string>>;
  /** The stages of this deployment in order, before hooks are attached (hooks without a function are dropped). */
  stages: StageTemplate[];
}

/** A deployment target as CodeDeploy's API shows it (LambdaTarget, ECSTarget, InstanceTarget). */
export interface DescribedTarget {
  targetId: string;
  targetArn: string;
  deploymentTargetType: 'LambdaTarget' | 'ECSTarget' | 'InstanceTarget';
  /** The member of DeploymentTarget that holds it: lambdaTarget, ecsTarget, instanceTarget. */
  member: 'lambdaTarget' | 'ecsTarget' | 'instanceTarget';
  /** Platform fields of the target (lambdaFunctionInfo, taskSetsInfo, ...). */
  detail: Record<string, unknown>;
  /**
   * The target's own progress, when it has one (a Server deployment's host: its status, lifecycle events and
   * their diagnostics). Unset: the deployment's own (one target that moves with the deployment).
   */
  progress?: TargetProgress;
}

/** A target's status and lifecycle events in CodeDeploy's shape (times in epoch seconds, as the API returns). */
export interface TargetProgress {
  /** CodeDeploy's TargetStatus: Pending, InProgress, Succeeded, Failed, Skipped, Unknown, Ready. */
  status: string;
  lastUpdatedAt: number;
  lifecycleEvents: {
    lifecycleEventName: string;
    status: string;
    startTime?: number;
    endTime?: number;
    diagnostics?: { errorCode: string; message: string; scriptName?: string; logTail?: string };
  }[];
}

/** What describing a deployment's targets may read: the hosts of an in-place deployment. */
export interface TargetReadPorts {
  hostCommands: Pick<HostCommands, 'listHosts'>;
}

/** The port methods describeTargets may call (what an API operation that describes targets declares). */
export const TARGET_READ_USES = { hostCommands: ['listHosts'] } as const;

/** Which port methods a strategy method calls, by port: IAM statements are derived from it. */
export type PortUses<Ports> = { readonly [P in keyof Ports]?: readonly (keyof Ports[P] & string)[] };

/**
 * One platform: its lifecycle, its rules for groups and AppSpecs, its strategy and the ports the
 * strategy uses. Registered with one line in src/platforms/index.ts.
 */
export interface Platform<Target = unknown, Facts = unknown, Ports = unknown> {
  readonly computePlatform: ComputePlatform;
  /** Every CodeDeploy lifecycle event of a deployment, in order (what lifecycleEvents records). */
  readonly lifecycleEvents: readonly string[];
  /** The lifecycle events that take a hook. */
  readonly hookEvents: readonly string[];
  readonly defaultDeploymentConfig: string;
  /** The revision types a deployment may name (unset: every type; Server: S3 bundles only). */
  readonly revisionTypes?: readonly ('S3' | 'AppSpecContent' | 'String')[];
  /** Its deployment configurations: CodeDeploy's predefined ones, CreateDeploymentConfig's fields, inline ones. */
  readonly deploymentConfigs: PlatformDeploymentConfigs;
  /** ErrorInformation codes: the world is not as needed, and AWS refused a call. */
  readonly errorCodes: { invalidTarget: string; refused: string };
  /** Group fields that belong to this platform (other platforms' groups must leave them out). */
  readonly groupFields: readonly (keyof GroupInput)[];
  /**
   * This platform's rules for a deployment group's own fields: every problem at once, with its path.
   * `groups` lists every group of this platform (for rules across groups, e.g. one service, one group).
   */
  groupIssues(input: GroupInput, groups: () => Promise<DeploymentGroup[]>): Promise<Issue[]>;
  /** The group as stored (fields this platform implies, e.g. ECS's deployment style). */
  normalizeGroup(input: GroupInput): GroupInput;
  /** Read an AppSpec for a group. @throws InvalidInputError (InvalidRevisionException) with every problem */
  planRevision(appSpec: string, group: DeploymentGroup): PlannedRevision<Target>;
  /** A rollback deployment's target: the same targets, the other way round. */
  rollbackTarget(spec: DeploymentSpec<Target>, facts: Facts | undefined): Target;
  /**
   * What a rollback deployment records as its revision, when it is not the deployment's own (Server: the
   * group's last successful revision, which the rollback redeploys). Unset or undefined: the same revision.
   */
  rollbackRevision?(spec: DeploymentSpec<Target>, facts: Facts | undefined): RevisionLocation | undefined;
  /**
   * The deployment's targets for ListDeploymentTargets, GetDeploymentTarget, BatchGetDeploymentTargets (and
   * the deprecated instance operations), in target id order. Reads only through `ports` (TARGET_READ_USES).
   * @throws DependencyUnavailableError when the store is throttled or unavailable (retrying may help)
   */
  describeTargets(d: Deployment<Target, Facts>, env: Environment, ports: TargetReadPorts): Promise<DescribedTarget[]>;
  /** The deployment's target ids, from the record alone (for messages: where to look). Never throws. */
  targetIds(d: Deployment<Target, Facts>): string[];
  /** What a hook gets besides CodeDeploy's two keys (so it need not look it up). */
  hookContext(d: Deployment<Target, Facts>): Record<string, unknown>;
  /** Cutover's extra fields of GetDeployment (`cutover.*`). */
  describe(d: Deployment<Target, Facts>): Record<string, unknown>;
  /** One line: what a successful deployment did, e.g. "checkout:live → v2". */
  summary(d: Deployment<Target, Facts>): string;
  /** Deploys in place to hosts: a deployment may skip hosts already on its revision (updateOutdatedInstancesOnly). */
  inPlace?: boolean;
  /** CodeDeploy's deploymentStyle of a deployment (unset: BLUE_GREEN with traffic control, as Lambda and ECS). */
  deploymentStyle?(d: Deployment<Target, Facts>): {
    deploymentType: 'IN_PLACE' | 'BLUE_GREEN';
    deploymentOption: 'WITH_TRAFFIC_CONTROL' | 'WITHOUT_TRAFFIC_CONTROL';
  };
  /** The number of targets (deploymentOverview counts them). */
  targetCount(d: Deployment<Target, Facts>): number;
  /** The strategy, bound to this platform's ports. */
  strategy(ports: Ports): TargetStrategy<Target, Facts>;
  /** Which port methods each strategy method uses. */
  readonly uses: { readonly [M in StrategyMethod]: PortUses<Ports> };
}

/** The only deployment style of Lambda and ECS deployments, which CodeDeploy reports on their groups. */
export const BLUE_GREEN_STYLE = { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' } as const;

/**
 * A group's `deploymentStyle` for a blue/green-only platform: CodeDeploy accepts BLUE_GREEN with traffic
 * control (SAM, CloudFormation, CDK and Terraform send it for Lambda groups) and refuses any other.
 */
export function blueGreenStyleIssues(input: Pick<GroupInput, 'deploymentStyle'>, platform: string): Issue[] {
  const style = input.deploymentStyle;
  if (!style || (style.deploymentType === 'BLUE_GREEN' && style.deploymentOption === 'WITH_TRAFFIC_CONTROL')) return [];
  return [{ path: 'deploymentStyle', message: `${platform} deployments are BLUE_GREEN WITH_TRAFFIC_CONTROL` }];
}
