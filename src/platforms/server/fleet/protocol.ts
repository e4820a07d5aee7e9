/**
 * The agent-facing operations of CodeDeploy's command service (CodeDeployCommandService_v20141006, JSON 1.1):
 * PollHostCommand, GetDeploymentSpecification, PutHostCommandAcknowledgement, PostHostCommandUpdate and
 * PutHostCommandComplete, with CodeDeploy's field names. The calling host is known from its request's
 * signature (./identity.ts), never from a field; a HostIdentifier naming another host, or a command of
 * another host, is refused. A poll answers at once, with Cutover's `NextPollInSeconds`: no request is held
 * open waiting for work (docs/adr/0016-host-commands-and-fleet-progress.md).
 */
import { ApiError, InvalidInputError, type Issue } from '../../../domain/errors.js';
import type {
  Catalog,
  Clock,
  EventPublisher,
  HostCommand,
  HostCommands,
  IdSource,
  Instances,
} from '../../../ports/index.js';
import { completeCommand, type CompleteDeps, FLEET_USES } from './fleet.js';
import { instanceNotices } from './notices.js';
import { ACCESS_DENIED, assertSameHost, callerHost, type CallerContext, type CallerHost } from './identity.js';
import {
  MAX_ATTEMPTS,
  POLL_SECONDS,
  REDELIVER_AFTER_SECONDS,
  agentDiagnostics,
  commandIdOf,
  idlePollSeconds,
  parseCommandId,
  startEvent,
  type CommandRef,
} from './lifecycle.js';
import {
  DEPLOYMENT_SYSTEM,
  MAX_ENVELOPE_PAYLOAD,
  SPEC_FORMAT,
  type CommandOperation,
  type GetDeploymentSpecificationOutput,
  type PollHostCommandOutput,
} from '../agent-protocol.js';
import { deploymentIdOfExecution } from './specification.js';

/** The port methods each operation calls, by port. */
export const PROTOCOL_USES = {
  PollHostCommand: {
    instances: ['byIamArn'],
    hostCommands: ['getQueue', 'updateCommand', 'putCommand', 'getHost', 'updateHost'],
  },
  GetDeploymentSpecification: { instances: ['byIamArn'], hostCommands: ['getFleet', 'getHost'] },
  PutHostCommandAcknowledgement: { instances: ['byIamArn'], hostCommands: ['getQueue', 'updateCommand'] },
  PostHostCommandUpdate: { instances: ['byIamArn'], hostCommands: ['getQueue', 'updateCommand'] },
  // The host's instance events are published from here too (fleet/notices.ts): the group's triggers, EventBridge, SNS.
  PutHostCommandComplete: {
    instances: ['byIamArn'],
    ...FLEET_USES.complete,
    catalog: ['getDeploymentGroup'],
    events: ['putEvents', 'publish'],
  },
} as const satisfies Record<CommandOperation, object>;

/** A poll writes the host's liveness at most this often (the agent may poll every second). */
const CONTACT_WRITE_SECONDS = 10;

type Input = Record<string, unknown>;
/** Registered on-premises instances: who signs as which host (the Instances port). */
type Identities = { instances: Pick<Instances, 'byIamArn'> };
type Time = { clock: Pick<Clock, 'now'> };

const invalid = (issues: Issue[]) => new InvalidInputError(issues, 'ValidationException');

function requiredString(input: Input, field: string, what: string, max = 1024): string {
  const v = input[field];
  if (typeof v !== 'string' || v.length === 0) throw invalid([{ path: field, message: `required: ${what}` }]);
  if (v.length > max) throw invalid([{ path: field, message: `at most ${max} characters` }]);
  return v;
}

/** CodeDeploy's Envelope `{Format, Payload}` (Format 1–64 characters, Payload at most 8192). */
function envelope(input: Input, field: string): { Format: string; Payload: string } | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid([{ path: field, message: 'must be {Format, Payload}' }]);
  const { Format, Payload } = v as Record<string, unknown>;
  const issues: Issue[] = [];
  if (typeof Format !== 'string' || Format.length < 1 || Format.length > 64)
    issues.push({ path: `${field}.Format`, message: 'required: 1 to 64 characters (JSON)' });
  if (Payload !== undefined && typeof Payload !== 'string')
    issues.push({ path: `${field}.Payload`, message: 'must be a string' });
  else if (typeof Payload === 'string' && Payload.length > MAX_ENVELOPE_PAYLOAD)
    issues.push({ path: `${field}.Payload`, message: `at most ${MAX_ENVELOPE_PAYLOAD} characters` });
  if (issues.length) throw invalid(issues);
  return { Format: Format as string, Payload: (Payload as string | undefined) ?? '' };
}

/** The command a HostCommandIdentifier names, checked to be the calling host's. */
function ownCommand(host: CallerHost, input: Input): { id: string; ref: CommandRef } {
  const id = requiredString(input, 'HostCommandIdentifier', 'the HostCommandIdentifier PollHostCommand gave');
  const ref = parseCommandId(id);
  if (!ref)
    throw new ApiError(
      'ClientException',
      `HostCommandIdentifier ${id.slice(0, 64)} is not a command this engine issued`,
    );
  if (ref.hostId !== host.hostId)
    throw new ApiError(
      ACCESS_DENIED,
      `Host command ${ref.event} of ${ref.deploymentId} belongs to another host, not ${host.hostId}`,
    );
  return { id, ref };
}

/** The status to answer for a command the host's queue no longer holds (an older attempt): skip it. */
const SUPERSEDED = 'Failed';

/** CodeDeploy's HostCommandInstance. */
function wire(c: HostCommand, hostIdentifier: string) {
  return {
    HostCommandIdentifier: c.hostCommandId,
    HostIdentifier: hostIdentifier,
    DeploymentExecutionId: c.deploymentExecutionId,
    CommandName: c.commandName,
    Nonce: c.sequence,
  };
}

export interface PollOutput extends PollHostCommandOutput {
  HostCommand?: ReturnType<typeof wire>;
  /**
   * Cutover: when to poll next (1 s after a command, about 5 s while busy or waiting in a deployment, about
   * a minute idle).
   */
  NextPollInSeconds: number;
}

/**
 * PollHostCommand: the command waiting for the calling host, claimed (Pending → InProgress, a conditional
 * write, so two polls never both get it), or none. A command polled but never acknowledged is offered again
 * (its poll's answer was lost) up to three times. A poll while the host runs a command counts as a heartbeat.
 * Answers at once.
 * @throws ApiError AccessDeniedException (unsigned, not a host, HostIdentifier of another host);
 *   InvalidInputError ValidationException naming the field
 */
export async function pollHostCommand(
  deps: Identities &
    Time & {
      hostCommands: Pick<HostCommands, 'getQueue' | 'updateCommand' | 'putCommand' | 'getHost' | 'updateHost'>;
      ids: Pick<IdSource, 'uuid'>;
    },
  context: CallerContext,
  input: Input,
): Promise<PollOutput> {
  const host = await callerHost(context, deps.instances);
  const hostIdentifier = requiredString(input, 'HostIdentifier', "the host's identifier (its instance ARN or IAM ARN)");
  assertSameHost(host, hostIdentifier);
  const now = deps.clock.now();
  const at = now.toISOString();
  const hc = deps.hostCommands;
  const entry = await hc.getQueue(host.hostId);
  const c = entry?.command;
  if (c?.status === 'Pending') {
    const claimed = await hc.updateCommand(host.hostId, c.hostCommandId, ['Pending'], {
      status: 'InProgress',
      claimedAt: at,
      lastContactAt: at,
      deadline: new Date(now.getTime() + c.eventTimeoutSeconds * 1000).toISOString(),
    });
    if (!claimed) return { NextPollInSeconds: POLL_SECONDS.command };
    await markStarted(deps, claimed, at);
    return { HostCommand: wire(claimed, hostIdentifier), NextPollInSeconds: POLL_SECONDS.command };
  }
  if (c?.status === 'InProgress') {
    const claimedAt = c.claimedAt ? Date.parse(c.claimedAt) : now.getTime();
    if (!c.acknowledgedAt && c.attempt < MAX_ATTEMPTS && now.getTime() - claimedAt >= REDELIVER_AFTER_SECONDS * 1000) {
      const again = await redeliver(deps, c, now);
      if (again) return { HostCommand: wire(again, hostIdentifier), NextPollInSeconds: POLL_SECONDS.command };
    }
    const contact = c.lastContactAt ? Date.parse(c.lastContactAt) : 0;
    if (now.getTime() - contact >= CONTACT_WRITE_SECONDS * 1000)
      await hc.updateCommand(host.hostId, c.hostCommandId, ['InProgress'], { lastContactAt: at });
    return { NextPollInSeconds: POLL_SECONDS.running };
  }
  const standby = entry?.standbyUntil !== undefined && Date.parse(entry.standbyUntil) > now.getTime();
  return { NextPollInSeconds: standby ? POLL_SECONDS.standby : idlePollSeconds(host.hostId, now) };
}

/** The host record shows the event started (best effort: the completion records its start time anyway). */
async function markStarted(
  deps: { hostCommands: Pick<HostCommands, 'getHost' | 'updateHost'> },
  c: HostCommand,
  at: string,
): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const h = await deps.hostCommands.getHost(c.deploymentId, c.hostId);
    const e = h?.lifecycleEvents.find((x) => x.lifecycleEventName === c.commandName);
    if (!h || h.command?.hostCommandId !== c.hostCommandId || e?.status !== 'Pending') return;
    try {
      await deps.hostCommands.updateHost(c.deploymentId, c.hostId, h.version, startEvent(h, c.commandName, at));
      return;
    } catch {
      // Changed meanwhile: look again.
    }
  }
}

/** Offer a polled, unacknowledged command again as a new attempt (a new identifier): the host record first. */
async function redeliver(
  deps: Time & {
    hostCommands: Pick<HostCommands, 'putCommand' | 'getHost' | 'updateHost'>;
    ids: Pick<IdSource, 'uuid'>;
  },
  c: HostCommand,
  now: Date,
): Promise<HostCommand | undefined> {
  const ref = parseCommandId(c.hostCommandId);
  if (!ref) return undefined;
  const attempt = c.attempt + 1;
  const hostCommandId = commandIdOf({ ...ref, attempt }, deps.ids.uuid().replace(/-/g, ''));
  const at = now.toISOString();
  const queued: HostCommand = {
    ...c,
    hostCommandId,
    attempt,
    status: 'Pending',
    queuedAt: at,
    claimedAt: undefined,
    acknowledgedAt: undefined,
    lastContactAt: undefined,
    deadline: new Date(now.getTime() + c.eventTimeoutSeconds * 1000).toISOString(),
  };
  const h = await deps.hostCommands.getHost(c.deploymentId, c.hostId);
  if (!h || h.command?.hostCommandId !== c.hostCommandId) return undefined;
  try {
    await deps.hostCommands.updateHost(c.deploymentId, c.hostId, h.version, { command: queued });
  } catch {
    return undefined;
  }
  const claimed: HostCommand = { ...queued, status: 'InProgress', claimedAt: at, lastContactAt: at };
  return (await deps.hostCommands.putCommand(claimed, c.hostCommandId)) ? claimed : undefined;
}

/**
 * GetDeploymentSpecification: the deployment specification of a deployment the calling host is part of, in
 * a TEXT/JSON envelope, with DeploymentSystem `CodeDeploy` (the agent refuses anything else).
 * @throws ApiError AccessDeniedException; DeploymentNotFoundException; HostNotFoundException (the host is not
 *   part of the deployment); InvalidInputError ValidationException naming the field
 */
export async function getDeploymentSpecification(
  deps: Identities & { hostCommands: Pick<HostCommands, 'getFleet' | 'getHost'> },
  context: CallerContext,
  input: Input,
): Promise<GetDeploymentSpecificationOutput> {
  const host = await callerHost(context, deps.instances);
  const executionId = requiredString(input, 'DeploymentExecutionId', 'the DeploymentExecutionId of the command', 129);
  if (!/^[^/]+\/[^/]+\/[^/]+\/.+$/.test(executionId))
    throw invalid([{ path: 'DeploymentExecutionId', message: 'must match ^[^/]+/[^/]+/[^/]+/.+$' }]);
  const hostIdentifier = requiredString(input, 'HostIdentifier', "the host's identifier (its instance ARN or IAM ARN)");
  assertSameHost(host, hostIdentifier);
  const deploymentId = deploymentIdOfExecution(executionId);
  const fleet = deploymentId ? await deps.hostCommands.getFleet(deploymentId) : undefined;
  if (!fleet || fleet.settings.deploymentExecutionId !== executionId)
    throw new ApiError('DeploymentNotFoundException', `No deployment has the execution id ${executionId}`);
  if (!(await deps.hostCommands.getHost(fleet.deploymentId, host.hostId)))
    throw new ApiError('HostNotFoundException', `Host ${host.hostId} is not part of deployment ${fleet.deploymentId}`);
  return {
    DeploymentSystem: DEPLOYMENT_SYSTEM,
    DeploymentSpecification: { GenericEnvelope: { Format: SPEC_FORMAT, Payload: fleet.specification } },
  };
}

/** The IsCommandNoop flag of an acknowledgement's diagnostics, if it has one. */
function noopOf(diagnostics: { Format: string; Payload: string } | undefined): boolean | undefined {
  if (!diagnostics || diagnostics.Format !== 'JSON') return undefined;
  try {
    const v = JSON.parse(diagnostics.Payload) as { IsCommandNoop?: unknown };
    return typeof v.IsCommandNoop === 'boolean' ? v.IsCommandNoop : undefined;
  } catch {
    throw invalid([{ path: 'Diagnostics.Payload', message: 'must be JSON when Format is JSON' }]);
  }
}

async function touch(
  deps: Identities & Time & { hostCommands: Pick<HostCommands, 'getQueue' | 'updateCommand'> },
  context: CallerContext,
  input: Input,
  patch: (at: string, c: HostCommand) => Partial<HostCommand>,
): Promise<{ CommandStatus: HostCommand['status'] }> {
  const host = await callerHost(context, deps.instances);
  const { id } = ownCommand(host, input);
  const at = deps.clock.now().toISOString();
  const c = (await deps.hostCommands.getQueue(host.hostId))?.command;
  if (c?.hostCommandId !== id) return { CommandStatus: SUPERSEDED };
  if (c.status !== 'InProgress') return { CommandStatus: c.status };
  const written = await deps.hostCommands.updateCommand(host.hostId, id, ['InProgress'], {
    lastContactAt: at,
    ...patch(at, c),
  });
  return { CommandStatus: written?.status ?? SUPERSEDED };
}

/**
 * PutHostCommandAcknowledgement: the host received the command and starts it (Diagnostics may carry
 * `{"IsCommandNoop": true}`). Answers the command's status: InProgress to go on; Succeeded or Failed when
 * it ended already (the agent then skips it), Failed for an older attempt.
 * @throws ApiError AccessDeniedException (not the caller's command); ClientException (not a command this
 *   engine issued); InvalidInputError ValidationException naming the field
 */
export async function putHostCommandAcknowledgement(
  deps: Identities & Time & { hostCommands: Pick<HostCommands, 'getQueue' | 'updateCommand'> },
  context: CallerContext,
  input: Input,
) {
  const noop = noopOf(envelope(input, 'Diagnostics'));
  return touch(deps, context, input, (at, c) => ({
    acknowledgedAt: c.acknowledgedAt ?? at,
    ...(noop !== undefined ? { noop } : {}),
  }));
}

function timestampOf(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === 'number' ? v * 1000 : typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms))
    throw invalid([{ path: 'EstimatedCompletionTime', message: 'must be a timestamp (epoch seconds)' }]);
  return new Date(ms).toISOString();
}

/**
 * PostHostCommandUpdate: a heartbeat from a host running the command (extends its liveness), with an
 * optional estimate of when it ends. Answers the command's status, as the acknowledgement does.
 * @throws as PutHostCommandAcknowledgement
 */
export async function postHostCommandUpdate(
  deps: Identities & Time & { hostCommands: Pick<HostCommands, 'getQueue' | 'updateCommand'> },
  context: CallerContext,
  input: Input,
) {
  envelope(input, 'Diagnostics');
  const estimate = timestampOf(input.EstimatedCompletionTime);
  return touch(deps, context, input, () => (estimate ? { estimatedCompletionTime: estimate } : {}));
}

/**
 * PutHostCommandComplete: the host's result for its command (CommandStatus Succeeded or Failed, Diagnostics
 * `{"error_code", "script_name", "message", "log"}` in a JSON envelope). Recorded once: a duplicate or late
 * completion (after the engine failed the command at its deadline) changes nothing. The host's next event is
 * queued at once (./fleet.ts completeCommand).
 * @throws ApiError AccessDeniedException; ClientException (not issued here, or never polled);
 *   InvalidInputError ValidationException naming the field
 */
export async function putHostCommandComplete(
  deps: Identities &
    CompleteDeps & {
      // Without them (a fleet driven on its own, in unit tests) no instance events are published.
      catalog?: Pick<Catalog, 'getDeploymentGroup'>;
      events?: Pick<EventPublisher, 'putEvents' | 'publish'>;
      env?: { region: string; accountId: string; eventSource?: string };
    },
  context: CallerContext,
  input: Input,
): Promise<Record<string, never>> {
  const host = await callerHost(context, deps.instances);
  const { id, ref } = ownCommand(host, input);
  const status = input.CommandStatus;
  if (status !== 'Succeeded' && status !== 'Failed')
    throw invalid([{ path: 'CommandStatus', message: 'required: Succeeded or Failed' }]);
  const env = envelope(input, 'Diagnostics');
  const diagnostics = env ? agentDiagnostics(env.Payload, status) : undefined;
  const notices =
    deps.catalog && deps.events && deps.env
      ? instanceNotices({
          deployments: deps.deployments,
          configs: deps.catalog,
          events: deps.events,
          clock: deps.clock,
          env: deps.env,
        })
      : undefined;
  const outcome = await completeCommand(
    { ...deps, ...(notices ? { notices } : {}) },
    { deploymentId: ref.deploymentId, hostId: host.hostId, hostCommandId: id },
    { status, ...(diagnostics ? { diagnostics } : {}) },
  );
  if (outcome.status === 'Pending')
    throw new ApiError('ClientException', `Host command ${id.slice(0, 64)} was never polled: it cannot be complete`);
  return {};
}
