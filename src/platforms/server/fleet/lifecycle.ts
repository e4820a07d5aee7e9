/**
 * One host's in-place lifecycle, as data and pure functions: which events it goes through and in what order,
 * who runs each (the agent, or the engine for BlockTraffic and AllowTraffic), what a result does to the host,
 * the deadlines of a command, the agent's diagnostics in CodeDeploy's words, and the command identifiers.
 * No I/O, no clock: the caller passes the time.
 */
import { createHash } from 'node:crypto';
import { LOG_TAIL_CHARS, diagnosticsOf } from '../agent-protocol.js';
import { SERVER_LIFECYCLE, serverLifecycle } from '../lifecycle.js';
import type {
  FleetSettings,
  HostCommand,
  HostLifecycleEvent,
  HostRecord,
  LifecycleDiagnostics,
} from '../../../ports/index.js';

/** CodeDeploy's in-place events without traffic control (the events every host runs). */
export const INSTALL_EVENTS: readonly string[] = serverLifecycle(false);
/** Events the engine runs itself (on the load balancers), never sent to the agent. */
export const ENGINE_EVENTS: ReadonlySet<string> = new Set(['BlockTraffic', 'AllowTraffic']);
/**
 * The agent's own ordered list (AllPossibleLifecycleEvents of the deployment specification): every event it
 * may be told to run; an AppSpec hook outside it is refused by the agent.
 */
export const AGENT_LIFECYCLE_EVENTS: readonly string[] = SERVER_LIFECYCLE.filter((e) => !ENGINE_EVENTS.has(e));
/** Events whose failure `ignoreApplicationStopFailures` ignores (CodeDeploy's API reference). */
export const IGNORABLE_EVENTS: ReadonlySet<string> = new Set([
  'ApplicationStop',
  'BeforeBlockTraffic',
  'AfterBlockTraffic',
]);

/** CodeDeploy's limits: an event must start within 5 minutes, and may run for an hour. */
export const DEFAULT_START_TIMEOUT_SECONDS = 300;
export const DEFAULT_EVENT_TIMEOUT_SECONDS = 3600;
/** A host holding a command that is silent this long (no poll, heartbeat or answer) is taken for dead. */
export const DEFAULT_LIVENESS_SECONDS = 60;
/** A command polled but not acknowledged this long is offered again (its poll's answer was lost)... */
export const REDELIVER_AFTER_SECONDS = 30;
/** ...at most this many times in all. */
export const MAX_ATTEMPTS = 3;

/** The lifecycle of a host in an in-place deployment, in order. */
export function inPlaceLifecycle(trafficControl: boolean): FleetSettings['lifecycleEvents'] {
  return serverLifecycle(trafficControl).map((name) => ({ name, runBy: ENGINE_EVENTS.has(name) ? 'engine' : 'agent' }));
}

/** A host's events before anything ran: all Pending. */
export function pendingEvents(settings: Pick<FleetSettings, 'lifecycleEvents'>): HostLifecycleEvent[] {
  return settings.lifecycleEvents.map((e) => ({ lifecycleEventName: e.name, status: 'Pending', runBy: e.runBy }));
}

const isDoneEvent = (e: HostLifecycleEvent) => e.status !== 'Pending' && e.status !== 'InProgress';

/** What a host does next, from its record. */
export type HostStep =
  /** Its next event is the agent's: queue a command. */
  | { kind: 'command'; event: string }
  /** Its next event is the engine's (BlockTraffic, AllowTraffic): run it. */
  | { kind: 'engine'; event: string }
  /** An event is running (a command the host holds, or an engine event). */
  | { kind: 'running'; event: string }
  /** Every event ended: the host is done. */
  | { kind: 'done' };

/** Returns what the host does next. Never throws. */
export function nextStep(h: Pick<HostRecord, 'lifecycleEvents'>): HostStep {
  const running = h.lifecycleEvents.find((e) => e.status === 'InProgress');
  if (running) return { kind: 'running', event: running.lifecycleEventName };
  const next = h.lifecycleEvents.find((e) => !isDoneEvent(e));
  if (!next) return { kind: 'done' };
  return next.runBy === 'engine'
    ? { kind: 'engine', event: next.lifecycleEventName }
    : { kind: 'command', event: next.lifecycleEventName };
}

const replaceEvent = (events: HostLifecycleEvent[], name: string, patch: Partial<HostLifecycleEvent>) =>
  events.map((e) => (e.lifecycleEventName === name ? { ...e, ...patch } : e));

/** The events left (Pending, or running with nothing to wait for) marked Skipped. */
function skipped(events: HostLifecycleEvent[], at: string): HostLifecycleEvent[] {
  return events.map((e) => (isDoneEvent(e) ? e : { ...e, status: 'Skipped', ...(e.startTime ? { endTime: at } : {}) }));
}

/** The ended status of a host: Failed if an event failed that counts, else Succeeded. */
function endedStatus(events: HostLifecycleEvent[]): 'Succeeded' | 'Failed' {
  return events.some(countsAsFailed) ? 'Failed' : 'Succeeded';
}
const countsAsFailed = (e: HostLifecycleEvent) => e.status === 'Failed' && !e.ignoredFailure;
const IGNORED_NOTE = '(ignored: ignoreApplicationStopFailures)';

/**
 * The host after `event` ended with `result` at `at`: the event recorded (with its diagnostics); on a failure
 * that counts, the host Failed and its other events Skipped; a failure `ignoreApplicationStopFailures` lets
 * pass is recorded Failed with a note, and the host goes on. The command is dropped from the record.
 */
export function recordResult(
  h: HostRecord,
  event: string,
  result: {
    status: 'Succeeded' | 'Failed';
    diagnostics?: LifecycleDiagnostics;
    startTime?: string;
    hostCommandId?: string;
    /** The host never took the command (withdrawn, never polled, busy with another deployment). */
    notStarted?: boolean;
  },
  settings: Pick<FleetSettings, 'ignoreApplicationStopFailures'>,
  at: string,
): Partial<HostRecord> {
  const before = h.lifecycleEvents.find((e) => e.lifecycleEventName === event);
  const ignored = result.status === 'Failed' && settings.ignoreApplicationStopFailures && IGNORABLE_EVENTS.has(event);
  const diagnostics =
    ignored && result.diagnostics
      ? { ...result.diagnostics, message: `${result.diagnostics.message} ${IGNORED_NOTE}`.trim() }
      : ignored
        ? { errorCode: 'UnknownError', scriptName: '', message: IGNORED_NOTE, logTail: '' }
        : result.diagnostics;
  let events = replaceEvent(h.lifecycleEvents, event, {
    status: result.status,
    startTime: before?.startTime ?? result.startTime ?? at,
    endTime: at,
    ...(diagnostics ? { diagnostics } : {}),
    ...(result.hostCommandId ? { hostCommandId: result.hostCommandId } : {}),
    ...(ignored ? { ignoredFailure: true } : {}),
    ...(result.notStarted ? { notStarted: true } : {}),
  });
  const fails = result.status === 'Failed' && !ignored;
  if (fails) events = skipped(events, at);
  const done = fails || nextStep({ lifecycleEvents: events }).kind === 'done';
  return {
    lifecycleEvents: events,
    command: undefined,
    checkAt: undefined,
    lastUpdatedAt: at,
    ...(done ? { status: fails ? 'Failed' : endedStatus(events), endTime: at } : {}),
  };
}

/** The host stopped where it is: events not started Skipped (with why, on the first), status as given. */
export function stopHost(h: HostRecord, reason: string, at: string): Partial<HostRecord> {
  const events = skipped(h.lifecycleEvents, at);
  const first = events.findIndex((e, i) => e.status === 'Skipped' && h.lifecycleEvents[i]!.status !== 'Skipped');
  if (first >= 0) {
    events[first] = {
      ...events[first]!,
      diagnostics: { errorCode: 'UnknownError', scriptName: '', message: reason, logTail: '' },
    };
  }
  const started = h.status !== 'Pending';
  const failed = events.some(countsAsFailed);
  return {
    lifecycleEvents: events,
    command: undefined,
    checkAt: undefined,
    status: failed ? 'Failed' : 'Skipped',
    ...(started ? { endTime: at } : {}),
    lastUpdatedAt: at,
  };
}

/** A host's event started (a command was polled, an engine event began). */
export function startEvent(h: HostRecord, event: string, at: string): Partial<HostRecord> {
  return {
    lifecycleEvents: replaceEvent(h.lifecycleEvents, event, { status: 'InProgress', startTime: at }),
    lastUpdatedAt: at,
  };
}

// ---- commands ---------------------------------------------------------------------------------

/** The parts of a command identifier: which deployment, host, event, and the how-manieth command and try. */
export interface CommandRef {
  deploymentId: string;
  hostId: string;
  event: string;
  sequence: number;
  attempt: number;
}

const PREFIX = 'hc1';

/**
 * A HostCommandIdentifier: the command's parts (readable, as CodeDeploy's are) and `secret`, a random part
 * that makes it unguessable. Never throws.
 */
export function commandIdOf(ref: CommandRef, secret: string): string {
  const body = Buffer.from(
    JSON.stringify([ref.deploymentId, ref.hostId, ref.event, ref.sequence, ref.attempt]),
    'utf8',
  ).toString('base64url');
  return `${PREFIX}.${body}.${secret.replace(/[^A-Za-z0-9_-]/g, '')}`;
}

/** The parts of a HostCommandIdentifier this engine issued, or undefined for anything else. Never throws. */
export function parseCommandId(id: string): CommandRef | undefined {
  const parts = id.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX || !parts[2]) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 5) return undefined;
    const [deploymentId, hostId, event, sequence, attempt] = v as unknown[];
    if (typeof deploymentId !== 'string' || typeof hostId !== 'string' || typeof event !== 'string') return undefined;
    if (!Number.isInteger(sequence) || !Number.isInteger(attempt)) return undefined;
    return { deploymentId, hostId, event, sequence: sequence as number, attempt: attempt as number };
  } catch {
    return undefined;
  }
}

/** A new command for `event` on host `h`, queued at `at`, to be polled before the start deadline. */
export function newCommand(
  h: Pick<HostRecord, 'deploymentId' | 'hostId' | 'sequence'>,
  event: string,
  settings: FleetSettings,
  at: Date,
  secret: string,
  attempt = 1,
): HostCommand {
  const sequence = attempt === 1 ? h.sequence + 1 : h.sequence;
  const ref = { deploymentId: h.deploymentId, hostId: h.hostId, event, sequence, attempt };
  return {
    hostId: h.hostId,
    deploymentId: h.deploymentId,
    hostCommandId: commandIdOf(ref, secret),
    commandName: event,
    deploymentExecutionId: settings.deploymentExecutionId,
    attempt,
    sequence,
    status: 'Pending',
    queuedAt: at.toISOString(),
    deadline: new Date(at.getTime() + settings.startTimeoutSeconds * 1000).toISOString(),
    eventTimeoutSeconds: settings.eventTimeoutSeconds,
  };
}

/**
 * Which deadline ends a command first: never polled, polled but never acknowledged (even when offered again),
 * the event's time, or the host went silent.
 */
export type DeadlineKind = 'start' | 'ack' | 'event' | 'liveness';

/** A command polled and not acknowledged for this long is failed (after its last offer). */
export const ACK_TIMEOUT_SECONDS = 60;

/** When a live command expires, and why. Never throws. */
export function commandDeadline(
  c: HostCommand,
  settings: Pick<FleetSettings, 'livenessSeconds'>,
): { at: number; kind: DeadlineKind } {
  const hard = Date.parse(c.deadline);
  if (c.status === 'Pending') return { at: hard, kind: 'start' };
  const contact = Math.max(
    ...[c.lastContactAt, c.acknowledgedAt, c.claimedAt].filter((t): t is string => !!t).map(Date.parse),
  );
  const live = contact + settings.livenessSeconds * 1000;
  const candidates: { at: number; kind: DeadlineKind }[] = [
    { at: hard, kind: 'event' },
    { at: live, kind: 'liveness' },
  ];
  if (!c.acknowledgedAt && c.claimedAt && c.attempt >= MAX_ATTEMPTS)
    candidates.push({ at: Date.parse(c.claimedAt) + ACK_TIMEOUT_SECONDS * 1000, kind: 'ack' });
  return candidates.reduce((a, b) => (b.at < a.at ? b : a));
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

/** What an event that ran out of time failed with: it says whether the host never answered or went silent. */
export function expiredDiagnostics(
  c: HostCommand,
  kind: DeadlineKind,
  settings: Pick<FleetSettings, 'livenessSeconds' | 'startTimeoutSeconds'>,
): LifecycleDiagnostics {
  const minutes = (s: number) => (s % 60 === 0 ? plural(s / 60, 'minute') : plural(s, 'second'));
  const message =
    kind === 'start'
      ? `The host did not poll for its ${c.commandName} command within ${minutes(settings.startTimeoutSeconds)}: ` +
        `its agent never answered (is it running, and can it reach the engine with its credentials?)`
      : kind === 'ack'
        ? `The host polled its ${c.commandName} command ${plural(c.attempt, 'time')} but never acknowledged it`
        : kind === 'liveness'
          ? `The host stopped answering during ${c.commandName}: no poll, heartbeat or result for ` +
            `${minutes(settings.livenessSeconds)} (the instance or its agent may have stopped)`
          : `${c.commandName} did not finish within ${minutes(c.eventTimeoutSeconds)} of starting`;
  return { errorCode: kind === 'event' ? 'ScriptTimedOut' : 'UnknownError', scriptName: '', message, logTail: '' };
}

// ---- the agent's diagnostics ----------------------------------------------------------------

/**
 * The agent's completion diagnostics (`{"error_code", "script_name", "message", "log"}`, read by the shared
 * `diagnosticsOf`, ../agent-protocol.ts) as CodeDeploy's Diagnostics; a payload that is no such JSON is kept
 * as the message. The log tail is cut to its last 4 KB. Never throws.
 */
export function agentDiagnostics(payload: string, status: 'Succeeded' | 'Failed'): LifecycleDiagnostics {
  const read = diagnosticsOf({ Format: 'JSON', Payload: payload });
  if (!read) {
    return {
      errorCode: status === 'Succeeded' ? 'Success' : 'UnknownError',
      scriptName: '',
      message: payload.slice(0, 1024),
      logTail: '',
    };
  }
  const { errorCode, scriptName, message, logTail } = read;
  return {
    errorCode,
    scriptName,
    message,
    logTail: logTail.length > LOG_TAIL_CHARS ? logTail.slice(-LOG_TAIL_CHARS) : logTail,
  };
}

// ---- polling --------------------------------------------------------------------------------

/** Seconds to the next poll: at once after a command, often while busy or waiting in a deployment. */
export const POLL_SECONDS = { command: 1, running: 5, standby: 5, idleMin: 45, idleSpread: 30 } as const;

/**
 * When an idle host should poll next: about a minute, spread over 45–75 s by the host and the minute (no
 * randomness), so a fleet's hosts do not poll in step. Never throws.
 */
export function idlePollSeconds(hostId: string, now: Date): number {
  const minute = Math.floor(now.getTime() / 60_000);
  const h = createHash('sha256').update(`${hostId}#${minute}`).digest();
  return POLL_SECONDS.idleMin + (h.readUInt16BE(0) % (POLL_SECONDS.idleSpread + 1));
}
