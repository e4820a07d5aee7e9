/**
 * What the agent reports about a command: CodeDeploy's error codes 0–7, the tail of the event's
 * script output, and the JSON payload `{error_code, script_name, message, log}` that carries them
 * (hook_executor.rb ScriptError, command_poller.rb gather_diagnostics*).
 */
import {
  AGENT_ERROR_CODES,
  LOG_TAIL_CHARS,
  MAX_ENVELOPE_PAYLOAD,
  type AgentDiagnostics,
  type AgentErrorCode,
  type Envelope,
} from '../platforms/server/agent-protocol.js';

export { AGENT_ERROR_CODES };

/** The last LOG_TAIL_CHARS characters of an event's log entries (`LifecycleEvent - …`, `[stdout]…`). */
export class ScriptLog {
  private entries: string[] = [];
  private size = 0;

  constructor(private readonly limit = LOG_TAIL_CHARS) {}

  append(entry: string): void {
    this.entries.push(entry);
    this.size += entry.length;
    while (this.size > this.limit && this.entries.length > 1) this.size -= this.entries.shift()!.length;
  }

  /** The tail, cut to the limit (a single entry longer than the limit keeps its end). */
  text(): string {
    const all = this.entries.join('');
    return all.length > this.limit ? all.slice(all.length - this.limit) : all;
  }
}

/** A command that failed, with CodeDeploy's error code, the script it was running and the log tail. */
export class ScriptError extends Error {
  override readonly name = 'ScriptError';
  constructor(
    readonly code: AgentErrorCode,
    readonly scriptName: string,
    message: string,
    readonly log: string,
  ) {
    super(message);
  }
}

/** The diagnostics of any failure: a ScriptError as it is, anything else as UnknownError (5). */
export function diagnosticsOfError(e: unknown): AgentDiagnostics {
  if (e instanceof ScriptError)
    return { error_code: e.code, script_name: e.scriptName, message: e.message, log: e.log };
  return {
    error_code: AGENT_ERROR_CODES.UnknownError,
    script_name: '',
    message: e instanceof Error ? e.message : String(e),
    log: '',
  };
}

export const succeeded = (log: string, what?: string): AgentDiagnostics => ({
  error_code: AGENT_ERROR_CODES.Succeeded,
  script_name: '',
  message: what ? `Succeeded: ${what}` : 'Succeeded',
  log,
});

export const FAILED_AFTER_RESTART_MESSAGE = 'Failed: Failing in-progress lifecycle event after an agent restart.';
export const failedAfterRestart = (): AgentDiagnostics => ({
  error_code: AGENT_ERROR_CODES.FailedAfterRestart,
  script_name: '',
  message: FAILED_AFTER_RESTART_MESSAGE,
  log: '',
});

/** The JSON envelope, within the API's 8192-character Payload limit (the log, then the message, give way). */
export function envelopeOf(d: AgentDiagnostics): Envelope {
  let payload = JSON.stringify(d);
  let log = d.log;
  let message = d.message;
  while (payload.length > MAX_ENVELOPE_PAYLOAD && log.length > 0) {
    log = log.slice(Math.min(log.length, Math.max(64, payload.length - MAX_ENVELOPE_PAYLOAD)));
    payload = JSON.stringify({ ...d, log });
  }
  while (payload.length > MAX_ENVELOPE_PAYLOAD && message.length > 0) {
    message = message.slice(0, Math.max(0, message.length - (payload.length - MAX_ENVELOPE_PAYLOAD) - 1));
    payload = JSON.stringify({ ...d, log, message: `${message}…` });
  }
  return { Format: 'JSON', Payload: payload };
}
