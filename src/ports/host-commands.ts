/**
 * Host commands: what EC2/on-premises in-place deployments keep per deployment and per host, and the
 * command each host's agent polls for (CodeDeploy's command service: PollHostCommand and friends). One
 * DynamoDB table holds it with the rest of the store (docs/architecture.md):
 *
 * | item | pk | sk |
 * | --- | --- | --- |
 * | a deployment's fleet: plan, settings, the agent's deployment specification | `DEP#<id>` | `FLEET` |
 * | the fleet's mutable state (host statuses, current wave), compare-and-set | `DEP#<id>` | `FLEET#STATE` |
 * | one host of the deployment: status, lifecycle events, its current command | `DEP#<id>` | `HOST#<hostId>` |
 * | a host's queue entry: the command it holds now (what PollHostCommand reads) | `HOSTQ#<hostId>` | `HOSTQ` |
 *
 * There are no transactions (dynalite has none, docs/adr/0014): the host record says which command a host
 * should hold, and the queue entry is what the host is offered; every change is ordered so that a crash
 * between two writes leaves a state the fleet repairs (docs/adr/0016-host-commands-and-fleet-progress.md).
 * Every write is conditional. Unless a method says otherwise, throttling and 5xx surface as
 * DependencyUnavailableError and refusals as DependencyRejectedError.
 */
import type { LifecycleEventStatus } from '../domain/model.js';

/** CodeDeploy's DeploymentCommandStatus: a command waits to be polled, runs on the host, or ended. */
export type HostCommandStatus = 'Pending' | 'InProgress' | 'Succeeded' | 'Failed';
/** CodeDeploy's InstanceStatus / TargetStatus for a host of an in-place deployment. */
export type HostStatus = 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'Skipped' | 'Unknown';

/** CodeDeploy's Diagnostics of a lifecycle event (errorCode is a LifecycleErrorCode: Success, ScriptFailed, ...). */
export interface LifecycleDiagnostics {
  errorCode: string;
  scriptName: string;
  message: string;
  /** The end of the scripts' log, at most 4 KB. */
  logTail: string;
}

/** One lifecycle event of one host, in CodeDeploy's words. */
export interface HostLifecycleEvent {
  lifecycleEventName: string;
  status: LifecycleEventStatus;
  startTime?: string;
  endTime?: string;
  diagnostics?: LifecycleDiagnostics;
  /** Who runs it: the host's agent (a command), or the engine (BlockTraffic, AllowTraffic). */
  runBy: 'agent' | 'engine';
  /** The command that ran it (its last attempt). */
  hostCommandId?: string;
  /** It failed, and ignoreApplicationStopFailures let the host go on. */
  ignoredFailure?: boolean;
  /**
   * It ended without the host taking its command (withdrawn by a stop, never polled, the host busy with
   * another deployment): nothing of it ran on the host, which a rollback needs to know.
   */
  notStarted?: boolean;
}

/** A command for a host's agent: one lifecycle event of one deployment. */
export interface HostCommand {
  hostId: string;
  deploymentId: string;
  /** Unguessable; names the deployment, the host, the event and the attempt (docs/adr/0016). */
  hostCommandId: string;
  /** The lifecycle event (CodeDeploy's CommandName). */
  commandName: string;
  /** CodeDeploy's DeploymentExecutionId (`<a>/<b>/<c>/<d>`), what GetDeploymentSpecification takes. */
  deploymentExecutionId: string;
  /** 1, then 2... when a command polled but never acknowledged is offered again. */
  attempt: number;
  /** This host's commands in this deployment, counted (CodeDeploy's Nonce). */
  sequence: number;
  status: HostCommandStatus;
  queuedAt: string;
  /** When the host polled it (Pending → InProgress). */
  claimedAt?: string;
  acknowledgedAt?: string;
  /** The agent said there is nothing to run (no scripts for this event): IsCommandNoop. */
  noop?: boolean;
  /** The host's last poll, acknowledgement, update or completion while it held this command. */
  lastContactAt?: string;
  /** What PostHostCommandUpdate estimated (ISO). */
  estimatedCompletionTime?: string;
  completedAt?: string;
  /**
   * The hard deadline: Pending, by when the host must poll it; InProgress, by when the event must end. The
   * liveness deadline (last contact + the fleet's liveness window) comes on top of it.
   */
  deadline: string;
  /** Seconds the event may take once the host polled it. */
  eventTimeoutSeconds: number;
  /** Why it ended: the agent's diagnostics, or the engine's reason. */
  diagnostics?: LifecycleDiagnostics;
  /** Who ended it: the host (PutHostCommandComplete) or the engine (a deadline, a stop). */
  endedBy?: 'host' | 'engine';
}

/** A host's queue entry: the command it holds or held last, and whether it should poll often. */
export interface HostQueueEntry {
  hostId: string;
  /** The deployment of `command`, or the one the host waits in (standby). */
  deploymentId?: string;
  command?: HostCommand;
  /** The host is part of a running deployment and should poll often until then (ISO). */
  standbyUntil?: string;
}

/** An instance-level outcome published for a host (CodeDeploy's instance event `state`). */
export type InstanceTransition = 'START' | 'SUCCESS' | 'FAILURE';

/** A transition's publication: claimed (by compare-and-set on the record), then marked published. */
export interface NoticeMark {
  claimedAt: string;
  publishedAt?: string;
}

/** One host of a deployment. */
export interface HostRecord {
  deploymentId: string;
  hostId: string;
  /** EC2: arn:aws:ec2:…:instance/i-…; on-premises: arn:aws:codedeploy:…:instance/<name>. */
  targetArn?: string;
  /** The wave the scheduler put it in. */
  wave: number;
  status: HostStatus;
  lifecycleEvents: HostLifecycleEvent[];
  /** The command the host should hold now (queued or running), a copy of what its queue entry is offered. */
  command?: HostCommand;
  /** An engine event in progress (BlockTraffic, AllowTraffic): when to look at it again (ISO). */
  checkAt?: string;
  /** Commands made for this host so far. */
  sequence: number;
  startTime?: string;
  endTime?: string;
  lastUpdatedAt: string;
  /** Its instance events (START, SUCCESS, FAILURE) claimed and published so far (fleet/notices.ts). */
  notices?: Partial<Record<InstanceTransition, NoticeMark>>;
  /** Compare-and-set counter. */
  version: number;
}

/** What a fleet was started with (fixed). */
export interface FleetSettings {
  /** The host's lifecycle events in order, and who runs each. */
  lifecycleEvents: { name: string; runBy: 'agent' | 'engine' }[];
  /**
   * CodeDeploy's ignoreApplicationStopFailures: a failed ApplicationStop, BeforeBlockTraffic or
   * AfterBlockTraffic does not fail the host.
   */
  ignoreApplicationStopFailures: boolean;
  /** Seconds a queued command may wait for its host to poll it (CodeDeploy: 5 minutes). */
  startTimeoutSeconds: number;
  /** Seconds an event may run once polled (CodeDeploy: 1 hour). */
  eventTimeoutSeconds: number;
  /** Seconds without a poll, heartbeat or answer after which a host holding a command is taken for dead. */
  livenessSeconds: number;
  deploymentExecutionId: string;
}

/** Where a fleet is (changed by compare-and-set on `version`). */
export interface FleetState {
  /** The wave the engine released (0, then +1 after each wave's bake and approval). */
  currentWave: number;
  /** Each host's status as the scheduler sees it (missing: Pending). */
  statuses: Record<string, HostStatus>;
  /** Wake-ups of the execution already delivered (keys: `wave:<n>`, `end`, `engine:<host>:<event>`). */
  woken: string[];
  /** Set once the fleet dispatches nothing more (it ended, failed or was stopped). */
  ended?: { at: string; reason: string; code?: string };
  version: number;
}

/** A deployment's fleet. `plan` is the scheduler's FleetPlan, stored as JSON. */
export interface FleetRecord {
  deploymentId: string;
  plan: unknown;
  settings: FleetSettings;
  /** The agent's deployment specification (GetDeploymentSpecification's TEXT/JSON payload). */
  specification: string;
  createdAt: string;
  state: FleetState;
}

/** Per deployment and host: the fleet, the hosts and the commands their agents poll for. */
export interface HostCommands {
  /**
   * Record a deployment's fleet if it has none, and return the fleet as stored: a retry, or a second start,
   * gets the first one (its plan was computed once, at the start). A crash part-way is completed by the retry.
   */
  createFleet(fleet: FleetRecord): Promise<FleetRecord>;
  /** The deployment's fleet, or undefined when it has none (or its creation did not finish). Consistent. */
  getFleet(deploymentId: string): Promise<FleetRecord | undefined>;
  /**
   * Compare-and-set on the fleet's state: writes `state` only if the stored version is `expectedVersion`, and
   * increments it. Returns the fleet as written.
   * @throws InternalError on a lost race (re-read and try again) or when the deployment has no fleet
   */
  updateFleet(deploymentId: string, expectedVersion: number, state: Omit<FleetState, 'version'>): Promise<FleetRecord>;

  /** Put host records that do not exist yet; existing ones are left as they are (idempotent). */
  putHosts(hosts: HostRecord[]): Promise<void>;
  getHost(deploymentId: string, hostId: string): Promise<HostRecord | undefined>;
  /** Every host of a deployment, in host id order (all pages). */
  listHosts(deploymentId: string): Promise<HostRecord[]>;
  /**
   * Compare-and-set on a host record: applies `patch` (undefined values remove the field) only if the stored
   * version is `expectedVersion`, and increments it. Returns the record as written.
   * @throws InternalError on a lost race (re-read and try again) or when there is no such host
   */
  updateHost(
    deploymentId: string,
    hostId: string,
    expectedVersion: number,
    patch: Partial<Omit<HostRecord, 'deploymentId' | 'hostId' | 'version'>>,
  ): Promise<HostRecord>;

  /** The host's queue entry (one consistent read: what PollHostCommand answers from), or undefined. */
  getQueue(hostId: string): Promise<HostQueueEntry | undefined>;
  /**
   * Offer `command` to its host. With `replacing`, only over that command (whatever its status); without,
   * only where the entry holds no command, or one that ended (Succeeded, Failed), or one of the same
   * deployment that is still Pending. Returns false when the condition does not hold (the host holds
   * another command); nothing is changed then.
   */
  putCommand(command: HostCommand, replacing?: string): Promise<boolean>;
  /**
   * Change the host's command if it is still `hostCommandId` and its status is one of `from`: the claim
   * (Pending → InProgress), a heartbeat, the completion (InProgress → Succeeded/Failed). Returns the command
   * as written, or undefined when the condition does not hold (another command, or another status: a
   * duplicate or late call changes nothing).
   */
  updateCommand(
    hostId: string,
    hostCommandId: string,
    from: readonly HostCommandStatus[],
    patch: Partial<Omit<HostCommand, 'hostId' | 'hostCommandId' | 'deploymentId'>>,
  ): Promise<HostCommand | undefined>;
  /**
   * Mark the host as waiting in `deploymentId` until `until` (it polls often), or clear that mark (`until`
   * undefined). Only where the entry holds no live command of another deployment; returns whether it wrote.
   */
  setStandby(hostId: string, deploymentId: string, until: string | undefined): Promise<boolean>;
}
