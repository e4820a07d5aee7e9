/**
 * The fleet: an in-place deployment's hosts moving through their lifecycle events, driven by the hosts' own
 * command completions, with CodeDeploy's scheduler (../scheduling.ts) deciding which host starts next.
 *
 * - `start` (from the Server strategy's setWeight): plan the fleet once (the minimum is computed at the
 *   start), release a wave, queue the first event of as many hosts as the scheduler allows.
 * - `onCommandComplete` (from PutHostCommandComplete): record the event, queue the host's next event at once;
 *   when the host ends, let the scheduler start the next hosts; wake the execution only at a wave boundary,
 *   at the end, or on a failure that ends the deployment (its parked `settle` wait's token).
 * - `progress` (from the strategy's verifyWeight, when the execution wakes or its wait times out): fail what
 *   ran out of time, repair what a crash left half-done, run the engine's own events, and say whether the
 *   wave is done (`verified`), when to look again (`pending`, the earliest deadline), or why it failed.
 *
 * Every step is idempotent and decides from the store: a host's record says which command it should hold,
 * its queue entry what it was offered and what came of it (docs/adr/0016-host-commands-and-fleet-progress.md).
 */
import { InternalError } from '../../../domain/errors.js';
import { isTerminal, type Deployment } from '../../../domain/model.js';
import type {
  Clock,
  Deployments,
  FleetRecord,
  FleetSettings,
  FleetState,
  HostCommand,
  HostCommands,
  HostRecord,
  HostStatus,
  IdSource,
  LifecycleDiagnostics,
  TaskTokens,
} from '../../../ports/index.js';
import type { ServerSchedulingConfig } from '../deployment-config.js';
import {
  nextHosts,
  planDeployment,
  summarize,
  type Decision,
  type FleetHost,
  type FleetPlan,
  type ProgressSummary,
} from '../scheduling.js';
import {
  DEFAULT_EVENT_TIMEOUT_SECONDS,
  DEFAULT_LIVENESS_SECONDS,
  DEFAULT_START_TIMEOUT_SECONDS,
  commandDeadline,
  expiredDiagnostics,
  inPlaceLifecycle,
  newCommand,
  nextStep,
  pendingEvents,
  recordResult,
  startEvent,
  stopHost,
} from './lifecycle.js';
import { notifyHost, type InstanceNotices } from './notices.js';
import { deploymentExecutionIdOf, deploymentSpecification, type FileExistsBehavior } from './specification.js';

/** The port methods each entry point calls, by port (what a caller declares; IAM follows, ADR 11). */
export const FLEET_USES = {
  start: {
    hostCommands: [
      'createFleet',
      'getFleet',
      'updateFleet',
      'putHosts',
      'getHost',
      'updateHost',
      'getQueue',
      'putCommand',
      'updateCommand',
      'setStandby',
    ],
  },
  progress: {
    hostCommands: [
      'getFleet',
      'updateFleet',
      'listHosts',
      'getHost',
      'updateHost',
      'getQueue',
      'putCommand',
      'updateCommand',
      'setStandby',
    ],
  },
  complete: {
    hostCommands: ['getFleet', 'updateFleet', 'getHost', 'updateHost', 'getQueue', 'putCommand', 'updateCommand'],
    deployments: ['get', 'update'],
    tokens: ['succeed'],
  },
  stop: {
    hostCommands: [
      'getFleet',
      'updateFleet',
      'listHosts',
      'getHost',
      'updateHost',
      'getQueue',
      'putCommand',
      'updateCommand',
      'setStandby',
    ],
  },
  targets: { hostCommands: ['listHosts'] },
} as const;

type Drive = 'getFleet' | 'updateFleet' | 'getHost' | 'updateHost' | 'getQueue' | 'putCommand' | 'updateCommand';
/** What driving hosts needs: the fleet, the hosts, their queue entries, the time, new ids. */
export interface DriveDeps {
  hostCommands: Pick<HostCommands, Drive>;
  clock: Pick<Clock, 'now'>;
  ids: Pick<IdSource, 'uuid'>;
  /** Runs BlockTraffic and AllowTraffic (the Server strategy gives it; without it they wait for `progress`). */
  engineEvents?: EngineEvents;
  /** Publishes the hosts' instance events (START, SUCCESS, FAILURE); without it none are published. */
  notices?: InstanceNotices;
}
export type StartDeps = DriveDeps & {
  hostCommands: Pick<HostCommands, Drive | 'createFleet' | 'putHosts' | 'setStandby'>;
};
export type ProgressDeps = DriveDeps & { hostCommands: Pick<HostCommands, Drive | 'listHosts' | 'setStandby'> };
export type CompleteDeps = DriveDeps & {
  deployments: Pick<Deployments, 'get' | 'update'>;
  tokens: Pick<TaskTokens, 'succeed'>;
};

/** What an engine event (BlockTraffic, AllowTraffic) came to. */
export type EngineEventResult =
  | { status: 'Succeeded' }
  | { status: 'Failed'; message: string }
  /** Not yet (draining, waiting for health): run it again after `checkAfterSeconds`. */
  | { status: 'InProgress'; checkAfterSeconds: number };

/**
 * The hook point for the engine's own lifecycle events, on the host's load balancers (ELBv2 target groups):
 * BlockTraffic deregisters the host and waits for draining; AllowTraffic registers it and waits until it is
 * healthy. Called again until it answers Succeeded or Failed, so it must be idempotent and decide from the
 * world. Implemented with the Server strategy (it owns the load balancer ports).
 */
export interface EngineEvents {
  run(
    deploymentId: string,
    host: Pick<HostRecord, 'hostId' | 'targetArn'>,
    event: string,
    startedAt: string,
  ): Promise<EngineEventResult>;
}

/** A host to deploy to: the scheduler's view of it, and its ARN for the API's InstanceTarget. */
export interface FleetSetupHost extends FleetHost {
  targetArn?: string;
}

/** What a fleet is started with; read once, when the deployment's fleet does not exist yet. */
export interface FleetSetup {
  hosts: FleetSetupHost[];
  /** The Server deployment configuration's scheduling part (minimum healthy hosts, waves or zones). */
  config: ServerSchedulingConfig;
  /** The group controls traffic through a load balancer: the block and allow events run. */
  trafficControl?: boolean;
  ignoreApplicationStopFailures?: boolean;
  fileExistsBehavior?: FileExistsBehavior;
  /** The region, for the DeploymentExecutionId. */
  region?: string;
  startTimeoutSeconds?: number;
  eventTimeoutSeconds?: number;
  livenessSeconds?: number;
}

/** What `start` did. */
export type FleetStart =
  | { ok: true; started: string[]; wave: number }
  /** The deployment cannot start: fail it with `code` (HEALTH_CONSTRAINTS_INVALID, NO_INSTANCES). */
  | { ok: false; code: 'HEALTH_CONSTRAINTS_INVALID' | 'NO_INSTANCES'; message: string };

/** Where a wave is. */
export type FleetProgress =
  | { verdict: 'verified'; wave: number; summary: string; counts: ProgressSummary }
  | { verdict: 'pending'; retryAfterSeconds: number; summary: string; counts: ProgressSummary }
  | { verdict: 'failed'; code: string; message: string; summary: string; counts: ProgressSummary };

/** What a completion did. */
export interface CompletionOutcome {
  /** False for a duplicate or late completion: nothing changed. */
  recorded: boolean;
  /** The command's status as the engine holds it. */
  status: HostCommand['status'];
  /** The execution was woken (a wave ended, or the deployment did). */
  woke?: string;
}

const MAX_RACES = 25;
const ENDED: readonly HostStatus[] = ['Succeeded', 'Failed', 'Skipped', 'Unknown'];
const isEnded = (s: HostStatus) => ENDED.includes(s);
const liveCommand = (c: HostCommand | undefined) => !!c && (c.status === 'Pending' || c.status === 'InProgress');
/** The longest an in-place deployment runs (CodeDeploy: 12 hours): how long waiting hosts poll often. */
const STANDBY_SECONDS = 12 * 3600;
const WITHOUT_DEADLINE_SECONDS = 60;

const planOf = (f: FleetRecord) => f.plan as FleetPlan;
const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

function summaryOf(f: FleetRecord): { summary: string; counts: ProgressSummary } {
  const plan = planOf(f);
  const counts = summarize(plan, f.state.statuses);
  const parts = [
    `${counts.succeeded} of ${plural(plan.fleetSize, 'host')} succeeded`,
    ...(counts.failed ? [`${counts.failed} failed`] : []),
    ...(counts.inProgress ? [`${counts.inProgress} in progress`] : []),
    ...(counts.skipped ? [`${counts.skipped} skipped`] : []),
  ];
  const waves = plan.waves.length > 1 ? ` (wave ${f.state.currentWave + 1} of ${plan.waves.length})` : '';
  return { summary: `${parts.join(', ')}${waves}`, counts };
}

/** Re-read and compare-and-set the fleet's state until `change` has nothing more to do. */
async function changeFleet(
  deps: { hostCommands: Pick<HostCommands, 'getFleet' | 'updateFleet'> },
  deploymentId: string,
  change: (f: FleetRecord) => Omit<FleetState, 'version'> | undefined,
): Promise<FleetRecord> {
  for (let attempt = 0; ; attempt++) {
    const f = await deps.hostCommands.getFleet(deploymentId);
    if (!f) throw new InternalError(`deployment ${deploymentId} has no fleet`);
    const next = change(f);
    if (!next) return f;
    try {
      return await deps.hostCommands.updateFleet(deploymentId, f.state.version, next);
    } catch (e) {
      if (!(e instanceof InternalError) || attempt >= MAX_RACES) throw e;
    }
  }
}

/** Re-read and compare-and-set a host record until `change` has nothing more to do. */
async function changeHost(
  deps: { hostCommands: Pick<HostCommands, 'getHost' | 'updateHost'> },
  deploymentId: string,
  hostId: string,
  change: (h: HostRecord) => Partial<HostRecord> | undefined,
): Promise<HostRecord> {
  for (let attempt = 0; ; attempt++) {
    const h = await deps.hostCommands.getHost(deploymentId, hostId);
    if (!h) throw new InternalError(`host ${hostId} is not part of deployment ${deploymentId}`);
    const patch = change(h);
    if (!patch) return h;
    try {
      return await deps.hostCommands.updateHost(deploymentId, hostId, h.version, patch);
    } catch (e) {
      if (!(e instanceof InternalError) || attempt >= MAX_RACES) throw e;
    }
  }
}

const secretOf = (ids: Pick<IdSource, 'uuid'>) => ids.uuid().replace(/-/g, '');

/** Where driving a host got to. */
interface Driven {
  host: HostRecord;
  /** The earliest moment something about this host must be looked at again (ms), if any. */
  dueAt?: number;
  /** An engine event is due and nobody here can run it: the execution should run it. */
  engineDue?: string;
}

/**
 * Move one host as far as it goes without waiting for anyone: apply a result its queue entry holds, queue its
 * next event, offer again a command its queue does not hold, fail a command whose deadline passed (when
 * `checkDeadlines`), run engine events (when `deps.engineEvents` is given), stop it when the fleet ended.
 * Idempotent; decides from the store each round.
 */
async function driveHost(
  deps: DriveDeps,
  fleet: FleetRecord,
  hostId: string,
  opts: { checkDeadlines: boolean },
): Promise<Driven> {
  const { settings } = fleet;
  const id = fleet.deploymentId;
  const hc = deps.hostCommands;
  for (let round = 0; round < settings.lifecycleEvents.length * 3 + 10; round++) {
    const now = deps.clock.now();
    const at = now.toISOString();
    const h = await hc.getHost(id, hostId);
    if (!h) throw new InternalError(`host ${hostId} is not part of deployment ${id}`);
    if (isEnded(h.status)) return { host: h };
    const ended = fleet.state.ended;
    if (h.status === 'Pending') {
      if (ended) {
        await changeHost(deps, id, hostId, (cur) =>
          cur.status === 'Pending' ? stopHost(cur, `Skipped: ${ended.reason}`, at) : undefined,
        );
        continue;
      }
      if (fleet.state.statuses[hostId] !== 'InProgress') return { host: h };
      await changeHost(deps, id, hostId, (cur) =>
        cur.status === 'Pending' ? { status: 'InProgress', startTime: at, lastUpdatedAt: at } : undefined,
      );
      continue;
    }
    if (h.command) {
      const mine = h.command;
      const entry = await hc.getQueue(hostId);
      const c = entry?.command;
      if (c?.hostCommandId === mine.hostCommandId) {
        if (c.status === 'Succeeded' || c.status === 'Failed') {
          await changeHost(deps, id, hostId, (cur) => {
            if (cur.command?.hostCommandId !== c.hostCommandId) return undefined;
            const result = {
              status: c.status as 'Succeeded' | 'Failed',
              hostCommandId: c.hostCommandId,
              ...(c.diagnostics ? { diagnostics: c.diagnostics } : {}),
              ...(c.claimedAt ? { startTime: c.claimedAt } : { notStarted: true }),
            };
            const patch = recordResult(cur, c.commandName, result, settings, c.completedAt ?? at);
            // The fleet ended: nothing more is started on this host.
            if (ended && !patch.status)
              return { ...patch, ...stopHost({ ...cur, ...patch }, `Skipped: ${ended.reason}`, at) };
            return patch;
          });
          continue;
        }
        if (ended && c.status === 'Pending') {
          // Never polled: withdraw it; the host stops here.
          await hc.updateCommand(hostId, c.hostCommandId, ['Pending'], {
            status: 'Failed',
            completedAt: at,
            endedBy: 'engine',
            diagnostics: stoppedDiagnostics(ended.reason),
          });
          continue;
        }
        const due = commandDeadline(c, settings);
        if (opts.checkDeadlines && due.at <= now.getTime()) {
          await hc.updateCommand(hostId, c.hostCommandId, ['Pending', 'InProgress'], {
            status: 'Failed',
            completedAt: at,
            endedBy: 'engine',
            diagnostics: expiredDiagnostics(c, due.kind, settings),
          });
          continue;
        }
        return { host: h, dueAt: due.at };
      }
      // The queue does not hold the host's command: offer it (again), unless another deployment's is running.
      if (!liveCommand(c) || c?.deploymentId === id) {
        // Conditional on what was seen: a lost race is looked at again in the next round.
        await hc.putCommand(mine, c?.hostCommandId);
        continue;
      }
      const due = Date.parse(mine.deadline);
      if (opts.checkDeadlines && due <= now.getTime()) {
        const busy: LifecycleDiagnostics = {
          errorCode: 'UnknownError',
          scriptName: '',
          message: `The host was busy with deployment ${c!.deploymentId} (${c!.commandName}) and could not start ${mine.commandName} in time`,
          logTail: '',
        };
        await changeHost(deps, id, hostId, (cur) =>
          cur.command?.hostCommandId === mine.hostCommandId
            ? recordResult(
                cur,
                mine.commandName,
                { status: 'Failed', diagnostics: busy, notStarted: true },
                settings,
                at,
              )
            : undefined,
        );
        continue;
      }
      return { host: h, dueAt: due };
    }
    const step = nextStep(h);
    if (step.kind === 'done') {
      await changeHost(deps, id, hostId, (cur) =>
        !isEnded(cur.status) && !cur.command && nextStep(cur).kind === 'done'
          ? { status: recordedStatus(cur), endTime: at, lastUpdatedAt: at }
          : undefined,
      );
      continue;
    }
    if (ended) {
      await changeHost(deps, id, hostId, (cur) =>
        !isEnded(cur.status) && !cur.command ? stopHost(cur, `Skipped: ${ended.reason}`, at) : undefined,
      );
      continue;
    }
    if (step.kind === 'command') {
      const command = newCommand(h, step.event, settings, now, secretOf(deps.ids));
      await changeHost(deps, id, hostId, (cur) =>
        cur.command || nextStep(cur).kind !== 'command' ? undefined : { command, sequence: command.sequence },
      );
      continue;
    }
    if (step.kind === 'engine') {
      await changeHost(deps, id, hostId, (cur) =>
        nextStep(cur).kind === 'engine' ? { ...startEvent(cur, step.event, at), checkAt: at } : undefined,
      );
      continue;
    }
    // An event runs without a command: the engine's own, or an agent's whose command was lost.
    const event = h.lifecycleEvents.find((e) => e.lifecycleEventName === step.event)!;
    if (event.runBy === 'agent') {
      const command = newCommand(h, step.event, settings, now, secretOf(deps.ids));
      await changeHost(deps, id, hostId, (cur) => (cur.command ? undefined : { command, sequence: command.sequence }));
      continue;
    }
    const checkAt = Date.parse(h.checkAt ?? at);
    if (checkAt > now.getTime()) return { host: h, dueAt: checkAt };
    if (!deps.engineEvents && !opts.checkDeadlines)
      return { host: h, dueAt: checkAt, engineDue: `engine:${hostId}:${step.event}` };
    const r: EngineEventResult = deps.engineEvents
      ? await deps.engineEvents.run(id, h, step.event, event.startTime ?? at)
      : {
          status: 'Failed',
          message: `${step.event} needs the engine's load balancer actions, and this engine was given none`,
        };
    const done = deps.clock.now().toISOString();
    await changeHost(deps, id, hostId, (cur) => {
      if (cur.command || cur.lifecycleEvents.find((e) => e.lifecycleEventName === step.event)?.status !== 'InProgress')
        return undefined;
      if (r.status === 'InProgress')
        return { checkAt: new Date(Date.parse(done) + Math.max(1, r.checkAfterSeconds) * 1000).toISOString() };
      const diagnostics: LifecycleDiagnostics | undefined =
        r.status === 'Failed'
          ? { errorCode: 'UnknownError', scriptName: '', message: r.message, logTail: '' }
          : undefined;
      return recordResult(
        cur,
        step.event,
        { status: r.status, ...(diagnostics ? { diagnostics } : {}) },
        settings,
        done,
      );
    });
  }
  throw new InternalError(`host ${hostId} of deployment ${id} did not settle`);
}

function recordedStatus(h: HostRecord): HostStatus {
  return h.lifecycleEvents.some((e) => e.status === 'Failed' && !e.ignoredFailure) ? 'Failed' : 'Succeeded';
}

function stoppedDiagnostics(reason: string): LifecycleDiagnostics {
  return { errorCode: 'UnknownError', scriptName: '', message: `Skipped: ${reason}`, logTail: '' };
}

/**
 * Record hosts' ends on the fleet and let the scheduler start more (in the same compare-and-set, so two
 * completions never start the same host twice), then begin the hosts it started. Returns the fleet and the
 * scheduler's decision after the starts.
 */
async function schedule(
  deps: DriveDeps,
  deploymentId: string,
  ends: Record<string, HostStatus>,
  releaseWave?: number,
): Promise<{ fleet: FleetRecord; decision: Decision; started: string[] }> {
  let started: string[] = [];
  const fleet = await changeFleet(deps, deploymentId, (f) => {
    const plan = planOf(f);
    started = [];
    const statuses = { ...f.state.statuses };
    let changed = false;
    for (const [host, s] of Object.entries(ends)) {
      if (statuses[host] !== s) {
        statuses[host] = s;
        changed = true;
      }
    }
    let currentWave = f.state.currentWave;
    if (releaseWave !== undefined && !f.state.ended) {
      const wave = Math.min(releaseWave, plan.waves.length - 1);
      if (wave > currentWave) {
        currentWave = wave;
        changed = true;
      }
    }
    if (!f.state.ended) {
      const d = nextHosts({ plan, progress: statuses, currentWave });
      if (d.kind === 'start') {
        for (const h of d.hostIds) statuses[h] = 'InProgress';
        started = d.hostIds;
        changed = true;
      }
    }
    return changed ? { ...f.state, statuses, currentWave } : undefined;
  });
  const begun = started;
  for (const host of begun) await driveHost(deps, fleet, host, { checkDeadlines: false });
  const decision = nextHosts({
    plan: planOf(fleet),
    progress: fleet.state.statuses,
    currentWave: fleet.state.currentWave,
  });
  return { fleet, decision, started: begun };
}

/** The wake-up a decision calls for: a wave ended, or the deployment did (succeeded or failed). */
function boundaryOf(d: Decision): string | undefined {
  if (d.kind === 'waveComplete') return `wave:${d.wave}`;
  if (d.kind === 'succeeded' || d.kind === 'failed') return 'end';
  return undefined;
}

/**
 * Wake the execution: complete the deployment's parked `settle` wait, or, when none is parked yet (the
 * execution is between its progress read and its wait), leave `settleWake` on the record so the wait ends as
 * soon as it begins. Both sides change the record by compare-and-set, so one of them sees the other.
 */
export async function wakeExecution(
  deps: Pick<CompleteDeps, 'deployments' | 'tokens' | 'clock'>,
  deploymentId: string,
  reason: string,
): Promise<'woken' | 'marked' | 'ended'> {
  for (let attempt = 0; attempt < MAX_RACES; attempt++) {
    const d: Deployment | undefined = await deps.deployments.get(deploymentId);
    if (!d || isTerminal(d.state.status)) return 'ended';
    const w = d.state.currentWait;
    if (w?.kind === 'settle' && (await deps.tokens.succeed(w.token, { woken: reason }))) return 'woken';
    // No wait parked, or its token no longer waits (it timed out, and the execution is about to look
    // again): leave the mark, unless the record changed meanwhile (then look again).
    if (d.state.settleWake) return 'marked';
    try {
      await deps.deployments.update(deploymentId, d.state.version, {
        settleWake: { at: deps.clock.now().toISOString(), reason },
      });
      return 'marked';
    } catch (e) {
      if (!(e instanceof InternalError)) throw e;
    }
  }
  throw new InternalError(`could not wake deployment ${deploymentId}: its record keeps changing`);
}

/**
 * Wake the execution for `key` once: the completion that records the key in the fleet's ledger (by
 * compare-and-set) is the one that wakes, so two hosts ending together wake it once. A crash between the two
 * loses the wake-up; the execution's wait then ends at its own timeout (the earliest deadline it computed).
 */
async function wakeOnce(
  deps: CompleteDeps,
  deploymentId: string,
  key: string,
  reason: string,
): Promise<string | undefined> {
  let mine = false;
  await changeFleet(deps, deploymentId, (f) => {
    mine = !f.state.woken.includes(key);
    return mine ? { ...f.state, woken: [...f.state.woken, key] } : undefined;
  });
  if (!mine) return undefined;
  await wakeExecution(deps, deploymentId, reason);
  return key;
}

/** End the fleet (nothing more is dispatched) with `reason`, once. */
async function endFleet(deps: DriveDeps, deploymentId: string, reason: string, code?: string): Promise<FleetRecord> {
  const at = deps.clock.now().toISOString();
  return changeFleet(deps, deploymentId, (f) =>
    f.state.ended ? undefined : { ...f.state, ended: { at, reason, ...(code ? { code } : {}) } },
  );
}

// ---- the entry points -------------------------------------------------------------------------

/**
 * Start (or continue) the deployment's fleet at `wave`: the first call plans it from `setup()` (CodeDeploy's
 * start check: NO_INSTANCES, HEALTH_CONSTRAINTS_INVALID), writes every host Pending and tells them to poll
 * often; every call releases `wave` (never goes back) and starts what the scheduler allows. Idempotent.
 *
 * @throws PreconditionFailedError when the revision cannot be deployed in place (not in S3)
 */
export async function startFleet(
  deps: StartDeps,
  d: Pick<Deployment, 'deploymentId' | 'spec'>,
  setup: () => Promise<FleetSetup> | FleetSetup,
  wave: number,
): Promise<FleetStart> {
  const id = d.deploymentId;
  let fleet = await deps.hostCommands.getFleet(id);
  if (!fleet) {
    const s = await setup();
    const check = planDeployment(s.hosts, s.config);
    if (!check.ok) return check;
    const settings: FleetSettings = {
      lifecycleEvents: inPlaceLifecycle(!!s.trafficControl),
      ignoreApplicationStopFailures: !!s.ignoreApplicationStopFailures,
      startTimeoutSeconds: s.startTimeoutSeconds ?? DEFAULT_START_TIMEOUT_SECONDS,
      eventTimeoutSeconds: s.eventTimeoutSeconds ?? DEFAULT_EVENT_TIMEOUT_SECONDS,
      livenessSeconds: s.livenessSeconds ?? DEFAULT_LIVENESS_SECONDS,
      deploymentExecutionId: deploymentExecutionIdOf(s.region ?? 'local', id),
    };
    const at = deps.clock.now().toISOString();
    const specification = deploymentSpecification(id, d.spec, {
      ...(s.fileExistsBehavior ? { fileExistsBehavior: s.fileExistsBehavior } : {}),
    });
    const arns = new Map(s.hosts.map((h) => [h.id, h.targetArn]));
    // Hosts first: a fleet that exists always has its hosts (a crash here is repeated by the retry).
    await deps.hostCommands.putHosts(
      check.plan.hosts.map((h) => ({
        deploymentId: id,
        hostId: h.id,
        ...(arns.get(h.id) ? { targetArn: arns.get(h.id)! } : {}),
        wave: h.wave,
        status: 'Pending',
        lifecycleEvents: pendingEvents(settings),
        sequence: 0,
        lastUpdatedAt: at,
        version: 0,
      })),
    );
    const until = new Date(Date.parse(at) + STANDBY_SECONDS * 1000).toISOString();
    for (const h of check.plan.hosts) await deps.hostCommands.setStandby(h.id, id, until);
    fleet = await deps.hostCommands.createFleet({
      deploymentId: id,
      plan: check.plan,
      settings,
      specification,
      createdAt: at,
      state: { currentWave: 0, statuses: {}, woken: [], version: 0 },
    });
  }
  if (fleet.state.ended) return { ok: true, started: [], wave: fleet.state.currentWave };
  const { fleet: after, started } = await schedule(deps, id, {}, wave);
  return { ok: true, started, wave: after.state.currentWave };
}

/**
 * Where the deployment's wave `wave` is, after failing what ran out of time, repairing what a crash left
 * half-done, running due engine events (with `deps.engineEvents`) and starting what the scheduler allows:
 * `verified` when every host of waves 0..`wave` is done and the minimum held (or the deployment is done);
 * `pending` with the seconds to the earliest deadline of the hosts in progress (a command to be polled, an
 * event's time, a host's liveness, an engine event's next look); `failed` with CodeDeploy's code
 * (HEALTH_CONSTRAINTS) and why. A failed fleet dispatches nothing more. Idempotent.
 *
 * @throws InternalError when the deployment has no fleet (start it first)
 */
export async function fleetProgress(
  deps: ProgressDeps,
  d: Pick<Deployment, 'deploymentId'>,
  wave: number,
): Promise<FleetProgress> {
  const id = d.deploymentId;
  let fleet = await deps.hostCommands.getFleet(id);
  if (!fleet) throw new InternalError(`deployment ${id} has no fleet: start it before reading its progress`);
  // Only the plan's hosts (a start retried after a crash may have written records of a fleet since changed).
  const planned = new Set(planOf(fleet).hosts.map((h) => h.id));
  // While the fleet runs, only the hosts it started can need anything (a host leaves Pending only after the
  // fleet's state says InProgress; an ended host is recorded there before it is looked at again), so read
  // those alone: a sequential deployment looks about once a minute, and reading every host each time made
  // its looks grow with the fleet (1,000 hosts: 600 looks × 1,000 records). An ended fleet reads them all.
  const running = Object.entries(fleet.state.statuses)
    .filter(([host, s]) => s === 'InProgress' && planned.has(host))
    .map(([host]) => host);
  const hosts = fleet.state.ended
    ? (await deps.hostCommands.listHosts(id)).filter((h) => planned.has(h.hostId))
    : (await Promise.all(running.map((host) => deps.hostCommands.getHost(id, host)))).filter(
        (h): h is HostRecord => h !== undefined,
      );
  const ends: Record<string, HostStatus> = {};
  let dueAt = Infinity;
  // A command waiting to be polled is due at its start deadline (minutes away), but once a host claims it the
  // host's liveness (a minute of silence) is what must be looked at: a host that died right after claiming its
  // command, and whose agent came back before that first look, kept the event until its hour (the agent's
  // polls count as heartbeats). So while any host holds a command, look again within the liveness.
  const soon = deps.clock.now().getTime() + fleet.settings.livenessSeconds * 1000;
  for (const h of hosts) {
    const active =
      h.status === 'InProgress' || (h.status === 'Pending' && fleet.state.statuses[h.hostId] === 'InProgress');
    if (!active && !(fleet.state.ended && h.status === 'Pending')) {
      if (isEnded(h.status) && fleet.state.statuses[h.hostId] !== h.status) ends[h.hostId] = h.status;
      continue;
    }
    const r = await driveHost(deps, fleet, h.hostId, { checkDeadlines: true });
    if (isEnded(r.host.status)) ends[h.hostId] = r.host.status;
    if (r.dueAt !== undefined) dueAt = Math.min(dueAt, r.dueAt, r.host.command ? soon : Infinity);
  }
  const scheduled = await schedule(deps, id, ends, fleet.state.ended ? undefined : wave);
  fleet = scheduled.fleet;
  const decision = scheduled.decision;
  for (const host of scheduled.started) {
    const h = await deps.hostCommands.getHost(id, host);
    const due = h?.command ? Math.min(Date.parse(h.command.deadline), soon) : undefined;
    if (due !== undefined) dueAt = Math.min(dueAt, due);
  }
  if (fleet.state.ended || decision.kind === 'failed') {
    const code = fleet.state.ended ? (fleet.state.ended.code ?? 'MANUAL_STOP') : 'HEALTH_CONSTRAINTS';
    const message =
      fleet.state.ended?.reason ?? (decision.kind === 'failed' ? decision.message : 'The deployment stopped');
    if (!fleet.state.ended) fleet = await endFleet(deps, id, message, code);
    await stopDispatch(deps, fleet, await deps.hostCommands.listHosts(id));
    await sweepNotices(deps, id);
    return { verdict: 'failed', code, message, ...summaryOf(await refreshed(deps, fleet)) };
  }
  await sweepNotices(deps, id);
  if (decision.kind === 'succeeded' || (decision.kind === 'waveComplete' && decision.wave >= wave)) {
    if (decision.kind === 'succeeded') await clearStandby(deps, fleet, await deps.hostCommands.listHosts(id));
    return {
      verdict: 'verified',
      wave: decision.kind === 'succeeded' ? planOf(fleet).waves.length - 1 : decision.wave,
      ...summaryOf(fleet),
    };
  }
  const now = deps.clock.now().getTime();
  const seconds = Number.isFinite(dueAt) ? Math.ceil((dueAt - now) / 1000) : WITHOUT_DEADLINE_SECONDS;
  return { verdict: 'pending', retryAfterSeconds: Math.max(1, seconds), ...summaryOf(fleet) };
}

async function refreshed(
  deps: { hostCommands: Pick<HostCommands, 'getFleet'> },
  fleet: FleetRecord,
): Promise<FleetRecord> {
  return (await deps.hostCommands.getFleet(fleet.deploymentId)) ?? fleet;
}

/** Withdraw what was queued and not polled, skip hosts not started; running commands end on their own. */
async function stopDispatch(deps: ProgressDeps, fleet: FleetRecord, hosts: HostRecord[]): Promise<void> {
  for (const h of hosts) {
    if (isEnded(h.status)) continue;
    await driveHost(deps, fleet, h.hostId, { checkDeadlines: true });
  }
  await clearStandby(deps, fleet, hosts);
}

async function clearStandby(
  deps: { hostCommands: Pick<HostCommands, 'setStandby'> },
  fleet: FleetRecord,
  hosts: HostRecord[],
): Promise<void> {
  for (const h of hosts) await deps.hostCommands.setStandby(h.hostId, fleet.deploymentId, undefined);
}

/**
 * A host completed its command (PutHostCommandComplete), already checked to be the caller's: record it
 * (conditional on the command and its status: a duplicate or a late completion changes nothing), move the
 * host to its next event at once, and when the host ended let the scheduler start the next hosts. Wakes the
 * execution only at a wave boundary, at the end, on a failure that ends the deployment, or when an engine
 * event is due that only the execution runs. The follow-ups run on duplicates too, so a retried completion
 * repairs what a crash left half-done.
 *
 * @throws InternalError when the command's deployment has no fleet
 */
export async function completeCommand(
  deps: CompleteDeps,
  command: { deploymentId: string; hostId: string; hostCommandId: string },
  result: { status: 'Succeeded' | 'Failed'; diagnostics?: LifecycleDiagnostics },
): Promise<CompletionOutcome> {
  const { deploymentId, hostId, hostCommandId } = command;
  const at = deps.clock.now().toISOString();
  const written = await deps.hostCommands.updateCommand(hostId, hostCommandId, ['InProgress'], {
    status: result.status,
    completedAt: at,
    lastContactAt: at,
    endedBy: 'host',
    ...(result.diagnostics ? { diagnostics: result.diagnostics } : {}),
  });
  let status: HostCommand['status'] = written?.status ?? result.status;
  if (!written) {
    const c = (await deps.hostCommands.getQueue(hostId))?.command;
    if (c?.hostCommandId === hostCommandId) status = c.status;
    else {
      const h = await deps.hostCommands.getHost(deploymentId, hostId);
      const e = h?.lifecycleEvents.find((x) => x.hostCommandId === hostCommandId);
      // A superseded attempt, or a command this host never held: nothing to record or repair.
      status = e?.status === 'Succeeded' ? 'Succeeded' : 'Failed';
      if (!e) return { recorded: false, status };
    }
  }
  const fleet = await deps.hostCommands.getFleet(deploymentId);
  if (!fleet) throw new InternalError(`deployment ${deploymentId} has no fleet`);
  const driven = await driveHost(deps, fleet, hostId, { checkDeadlines: false });
  const outcome: CompletionOutcome = { recorded: !!written, status };
  if (driven.engineDue) {
    const woke = await wakeOnce(deps, deploymentId, driven.engineDue, `${driven.engineDue} is due`);
    if (woke) outcome.woke = woke;
  }
  const ended = isEnded(driven.host.status) ? { [hostId]: driven.host.status } : {};
  const { fleet: after, decision } = await schedule(deps, deploymentId, ended);
  if (decision.kind === 'failed' && !after.state.ended)
    await endFleet(deps, deploymentId, decision.message, decision.code);
  // The host's next command is queued and the next hosts started: publish what this host reached (before the
  // wake, so the execution's sweep finds it published), never failing the completion over it.
  await notifyHost(deps, deploymentId, hostId, { sweep: false });
  const key = boundaryOf(decision);
  if (key && !after.state.woken.includes(key)) {
    const woke = await wakeOnce(
      deps,
      deploymentId,
      key,
      key === 'end' ? `the fleet ended (${decision.kind})` : `${key} is done`,
    );
    if (woke) outcome.woke = woke;
  }
  return outcome;
}

/**
 * Stop the fleet (a StopDeployment, an alarm, a rollback): nothing more is dispatched; queued commands not yet
 * polled are withdrawn and hosts not started are Skipped; commands running on hosts end on their own and their
 * hosts stop after them. Idempotent.
 */
export async function stopFleet(
  deps: ProgressDeps,
  d: Pick<Deployment, 'deploymentId'>,
  reason: string,
): Promise<void> {
  const fleet = await endFleet(deps, d.deploymentId, reason);
  await stopDispatch(deps, fleet, await deps.hostCommands.listHosts(d.deploymentId));
  await sweepNotices(deps, d.deploymentId);
}

/**
 * The deployment ended early: stop its fleet, or, when a start wrote the hosts but never its fleet (it
 * failed in between), close those hosts: no command was ever queued for them, so each is Skipped with its
 * events, and its standby mark is cleared. Returns what it did, or undefined when nothing was open.
 * Idempotent.
 */
export async function haltFleet(
  deps: ProgressDeps,
  d: Pick<Deployment, 'deploymentId'>,
  reason: string,
): Promise<string | undefined> {
  const fleet = await deps.hostCommands.getFleet(d.deploymentId);
  if (fleet) {
    if (fleet.state.ended) return undefined;
    await stopFleet(deps, d, reason);
    return `The fleet dispatches nothing more (${reason}); hosts not started are Skipped`;
  }
  const open = (await deps.hostCommands.listHosts(d.deploymentId)).filter((h) => h.status === 'Pending');
  const at = deps.clock.now().toISOString();
  for (const h of open) {
    await deps.hostCommands.updateHost(d.deploymentId, h.hostId, h.version, {
      status: 'Skipped',
      lastUpdatedAt: at,
      lifecycleEvents: h.lifecycleEvents.map((e) => (e.status === 'Pending' ? { ...e, status: 'Skipped' } : e)),
    });
    await deps.hostCommands.setStandby(h.hostId, d.deploymentId, undefined);
  }
  return open.length ? `${open.length} hosts never started: Skipped (${reason})` : undefined;
}

/**
 * Publish the instance events of every host of the deployment that nobody published: those not claimed yet,
 * and those whose claim is older than the grace period (its publisher crashed or its publish failed).
 * Returns whether every one is published now.
 */
export async function sweepNotices(
  deps: Pick<DriveDeps, 'clock' | 'notices'> & {
    hostCommands: Pick<HostCommands, 'listHosts' | 'getHost' | 'updateHost'>;
  },
  deploymentId: string,
): Promise<boolean> {
  if (!deps.notices) return true;
  let settled = true;
  for (const h of await deps.hostCommands.listHosts(deploymentId))
    if (!(await notifyHost(deps, deploymentId, h.hostId, { sweep: true })).settled) settled = false;
  return settled;
}

/** The deployment's hosts as CodeDeploy's API shows them (DeploymentTarget with an InstanceTarget). */
export async function fleetTargets(
  deps: { hostCommands: Pick<HostCommands, 'listHosts'> },
  d: Pick<Deployment, 'deploymentId'>,
): Promise<InstanceDeploymentTarget[]> {
  return (await deps.hostCommands.listHosts(d.deploymentId)).map(instanceTarget);
}

/** CodeDeploy's DeploymentTarget of type InstanceTarget (times in epoch seconds, as the API returns them). */
export interface InstanceDeploymentTarget {
  deploymentTargetType: 'InstanceTarget';
  instanceTarget: {
    deploymentId: string;
    targetId: string;
    targetArn: string;
    status: HostStatus;
    lastUpdatedAt: number;
    lifecycleEvents: {
      lifecycleEventName: string;
      status: string;
      startTime?: number;
      endTime?: number;
      diagnostics?: LifecycleDiagnostics;
    }[];
  };
}

const epoch = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso) / 1000);

/** A host record as CodeDeploy's InstanceTarget. Never throws. */
export function instanceTarget(h: HostRecord): InstanceDeploymentTarget {
  return {
    deploymentTargetType: 'InstanceTarget',
    instanceTarget: {
      deploymentId: h.deploymentId,
      targetId: h.hostId,
      targetArn: h.targetArn ?? h.hostId,
      status: h.status,
      lastUpdatedAt: epoch(h.lastUpdatedAt)!,
      lifecycleEvents: h.lifecycleEvents.map((e) => ({
        lifecycleEventName: e.lifecycleEventName,
        status: e.status,
        ...(e.startTime ? { startTime: epoch(e.startTime)! } : {}),
        ...(e.endTime ? { endTime: epoch(e.endTime)! } : {}),
        ...(e.diagnostics ? { diagnostics: e.diagnostics } : {}),
      })),
    },
  };
}

/**
 * The fleet service, bound to its ports: what the Server strategy calls. `start` from setWeight, `progress`
 * from verifyWeight, `stop` from assess/restore when the deployment ends early; `onCommandComplete` is what
 * PutHostCommandComplete calls.
 */
export class Fleet {
  constructor(
    private readonly deps: StartDeps & ProgressDeps & Partial<Pick<CompleteDeps, 'deployments' | 'tokens'>>,
  ) {}

  start(d: Pick<Deployment, 'deploymentId' | 'spec'>, setup: () => Promise<FleetSetup> | FleetSetup, wave: number) {
    return startFleet(this.deps, d, setup, wave);
  }

  progress(d: Pick<Deployment, 'deploymentId'>, wave: number) {
    return fleetProgress(this.deps, d, wave);
  }

  stop(d: Pick<Deployment, 'deploymentId'>, reason: string) {
    return stopFleet(this.deps, d, reason);
  }

  halt(d: Pick<Deployment, 'deploymentId'>, reason: string) {
    return haltFleet(this.deps, d, reason);
  }

  targets(d: Pick<Deployment, 'deploymentId'>) {
    return fleetTargets(this.deps, d);
  }

  onCommandComplete(
    command: { deploymentId: string; hostId: string; hostCommandId: string },
    result: { status: 'Succeeded' | 'Failed'; diagnostics?: LifecycleDiagnostics },
  ) {
    const { deployments, tokens } = this.deps;
    if (!deployments || !tokens) throw new InternalError('onCommandComplete needs the deployments and tokens ports');
    return completeCommand({ ...this.deps, deployments, tokens }, command, result);
  }
}
