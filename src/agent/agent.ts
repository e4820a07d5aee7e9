/**
 * The agent's loop (command_poller.rb): report what a crash interrupted, then poll; each command
 * that arrives runs on its own (up to maxConcurrent at once, across deployment groups):
 * GetDeploymentSpecification → PutHostCommandAcknowledgement (IsCommandNoop) → the ongoing-deployment
 * marker → execute, with PostHostCommandUpdate heartbeats → PutHostCommandComplete (Succeeded, or
 * Failed with the diagnostics) → marker removed. A poll answers at once and may say when to poll
 * next (NextPollInSeconds, bounded); after a command ends the agent polls again at once, since its
 * next event is likely ready. Errors back off as CodeDeploy's agent does (up to 90 s).
 */
import {
  MAX_NEXT_POLL_SECONDS,
  MIN_NEXT_POLL_SECONDS,
  type AgentDiagnostics,
  type HostCommand,
} from '../platforms/server/agent-protocol.js';
import { diagnosticsOfError, envelopeOf, failedAfterRestart, succeeded } from './diagnostics.js';
import type { CommandExecutor, Progress } from './executor.js';
import type { AgentLog } from './log.js';
import { CommandApiError, type CommandClient } from './protocol.js';
import { parseDeploymentSpec } from './spec.js';
import type { CommandTracker } from './tracker.js';

export interface AgentOptions {
  hostId: string;
  client: CommandClient;
  executor: CommandExecutor;
  tracker: CommandTracker;
  log: AgentLog;
  pollSeconds: number;
  /** The longest wait between polls, whatever the engine says. */
  maxPollSeconds?: number;
  heartbeatSeconds: number;
  maxConcurrent: number;
  /** Consecutive errors → seconds to wait (default CodeDeploy's). */
  backoff?: (errors: number) => number;
  /** Between retries of a completion (default 1, 2, 4, 8 s). */
  completeRetryMs?: number;
}

/** CodeDeploy's agent: floor(1.2675^n × 90 / 1.2675^10) seconds, n = consecutive errors, at most 10. */
export const codeDeployBackoff = (errors: number) => {
  const n = Math.min(errors, 10);
  return Math.floor((1.2675 ** n * 90) / 1.2675 ** 10);
};

/** Seconds until the next poll: the engine's NextPollInSeconds, bounded, else the configured interval. */
export function nextPollDelay(answer: { NextPollInSeconds?: unknown }, pollSeconds: number): number {
  const next = answer.NextPollInSeconds;
  if (typeof next !== 'number' || !Number.isFinite(next)) return pollSeconds;
  return Math.min(MAX_NEXT_POLL_SECONDS, Math.max(MIN_NEXT_POLL_SECONDS, next));
}

export class Agent {
  private readonly running = new Map<string, Promise<void>>();
  /** Commands reported "failed after restart": if the engine sends one again, it fails again. */
  private readonly restartFailed = new Set<string>();
  private pendingRestartReports: { deploymentId: string; hostCommandIdentifier: string }[] = [];
  private wake: (() => void) | undefined;
  private stopping = false;

  constructor(private readonly o: AgentOptions) {}

  /** Poll until `signal` aborts, then wait for the running commands. */
  async run(signal: AbortSignal): Promise<void> {
    const { log } = this.o;
    this.pendingRestartReports = this.o.tracker.interrupted();
    const onAbort = () => {
      this.stopping = true;
      this.wake?.();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    let errors = 0;
    try {
      while (!this.stopping) {
        if (this.pendingRestartReports.length > 0) await this.reportInterrupted();
        if (this.running.size >= this.o.maxConcurrent) {
          await Promise.race(this.running.values());
          continue;
        }
        let wait = this.o.pollSeconds;
        try {
          const answer = await this.o.client.pollHostCommand({ HostIdentifier: this.o.hostId });
          errors = 0;
          wait = Math.min(nextPollDelay(answer, this.o.pollSeconds), this.o.maxPollSeconds ?? Infinity);
          const command = answer.HostCommand;
          if (command) {
            if (this.accept(command)) {
              this.start(command);
              continue; // another event (of another group) may be waiting: poll again at once
            }
          }
        } catch (e) {
          errors++;
          wait = (this.o.backoff ?? codeDeployBackoff)(errors);
          log.error(`PollHostCommand failed (${errors} in a row; next try in ${wait} s): ${(e as Error).message}`);
        }
        await this.sleep(wait * 1000);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (this.running.size > 0) log.info(`stopping: waiting for ${this.running.size} running command(s) to end`);
    await Promise.allSettled(this.running.values());
  }

  /** The commands running now (their HostCommandIdentifiers). */
  get inFlight(): string[] {
    return [...this.running.keys()];
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  private accept(c: HostCommand): boolean {
    const { log } = this.o;
    if (!c.HostCommandIdentifier || !c.CommandName || !c.DeploymentExecutionId) {
      log.error(`PollHostCommand answered an incomplete HostCommand ${JSON.stringify(c)}; ignored`);
      return false;
    }
    if (c.HostIdentifier && !this.o.hostId.includes(c.HostIdentifier)) {
      log.error(
        `Host Identifier mismatch: ${this.o.hostId} != ${c.HostIdentifier}; command ${c.HostCommandIdentifier} ignored`,
      );
      return false;
    }
    if (this.running.has(c.HostCommandIdentifier)) {
      log.debug(`command ${c.HostCommandIdentifier} is running already`);
      return false;
    }
    return true;
  }

  private start(c: HostCommand): void {
    const id = c.HostCommandIdentifier;
    const p = this.process(c)
      .catch((e) => this.o.log.error(`command ${id} (${c.CommandName}): ${(e as Error).message}`))
      .finally(() => {
        this.running.delete(id);
        this.wake?.();
      });
    this.running.set(id, p);
  }

  private async complete(id: string, status: 'Succeeded' | 'Failed', d: AgentDiagnostics): Promise<void> {
    const delay = this.o.completeRetryMs ?? 1000;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.o.client.putHostCommandComplete({
          HostCommandIdentifier: id,
          CommandStatus: status,
          Diagnostics: envelopeOf(d),
        });
        return;
      } catch (e) {
        if (attempt >= 4 || !(e instanceof CommandApiError && e.retryable)) throw e;
        await new Promise((r) => setTimeout(r, delay * 2 ** attempt));
      }
    }
  }

  /** Commands a crash interrupted: Failed, code 7, as CodeDeploy's agent reports them at start. */
  private async reportInterrupted(): Promise<void> {
    const left: typeof this.pendingRestartReports = [];
    for (const i of this.pendingRestartReports) {
      try {
        this.o.log.warn(
          `deployment ${i.deploymentId}: command ${i.hostCommandIdentifier} was running when the agent stopped; reporting it Failed (failed after restart)`,
        );
        await this.complete(i.hostCommandIdentifier, 'Failed', failedAfterRestart());
        this.restartFailed.add(i.hostCommandIdentifier);
        this.o.tracker.clear(i.deploymentId);
      } catch (e) {
        this.o.log.error(`could not report ${i.hostCommandIdentifier} failed after restart: ${(e as Error).message}`);
        left.push(i);
        this.restartFailed.add(i.hostCommandIdentifier);
      }
    }
    this.pendingRestartReports = left;
  }

  private async process(c: HostCommand): Promise<void> {
    const { client, executor, tracker, log } = this.o;
    const id = c.HostCommandIdentifier;
    if (this.restartFailed.has(id)) {
      // The engine sent again a command this host was running when it crashed: it failed then.
      await this.complete(id, 'Failed', failedAfterRestart());
      const pending = this.pendingRestartReports.find((p) => p.hostCommandIdentifier === id);
      if (pending) {
        tracker.clear(pending.deploymentId);
        this.pendingRestartReports = this.pendingRestartReports.filter((p) => p !== pending);
      }
      return;
    }
    let deploymentId: string | undefined;
    try {
      const out = await client.getDeploymentSpecification({
        DeploymentExecutionId: c.DeploymentExecutionId,
        HostIdentifier: this.o.hostId,
      });
      if (out.DeploymentSystem !== 'CodeDeploy')
        throw new Error(`Deployment System mismatch: CodeDeploy != ${String(out.DeploymentSystem)}`);
      const envelope = out.DeploymentSpecification?.GenericEnvelope;
      if (!envelope) throw new Error('Deployment Specification missing');
      const spec = parseDeploymentSpec(envelope);
      deploymentId = spec.deploymentId;
      const noop = executor.isNoop(c.CommandName, spec);
      const ack = await client.putHostCommandAcknowledgement({
        HostCommandIdentifier: id,
        Diagnostics: { Format: 'JSON', Payload: JSON.stringify({ IsCommandNoop: noop }) },
      });
      if (ack.CommandStatus === 'Succeeded' || ack.CommandStatus === 'Failed') {
        log.info(`${c.CommandName} of ${spec.deploymentId} is ${ack.CommandStatus} already; not run`);
        if (ack.CommandStatus === 'Failed' && noop)
          await this.complete(id, 'Succeeded', succeeded('', 'CompletedNoopCommand'));
        return;
      }
      log.info(`${c.CommandName} of ${spec.deploymentId} (group ${spec.groupName}): start${noop ? ' (no-op)' : ''}`);
      tracker.start(spec.deploymentId, id);
      const progress: Progress = {};
      const heartbeat = this.heartbeat(id, c.CommandName, progress);
      let result: { ok: true; log: string } | { ok: false; error: unknown };
      try {
        result = { ok: true, log: await executor.execute(c.CommandName, spec, progress) };
      } catch (error) {
        result = { ok: false, error };
      } finally {
        clearInterval(heartbeat);
      }
      try {
        if (result.ok) {
          await this.complete(id, 'Succeeded', succeeded(result.log));
          log.info(`${c.CommandName} of ${spec.deploymentId}: Succeeded`);
        } else {
          const d = diagnosticsOfError(result.error);
          await this.complete(id, 'Failed', d);
          log.warn(`${c.CommandName} of ${spec.deploymentId}: Failed (code ${d.error_code}): ${d.message}`);
        }
      } finally {
        tracker.end(spec.deploymentId);
      }
    } catch (e) {
      if (e instanceof CommandApiError && e.operation === 'PutHostCommandComplete') throw e;
      // Anything before the command ran (the spec, the ack): the command fails with the reason.
      if (deploymentId) tracker.end(deploymentId);
      await this.complete(id, 'Failed', diagnosticsOfError(e));
      log.warn(`${c.CommandName}: Failed before it ran: ${(e as Error).message}`);
    }
  }

  private heartbeat(id: string, name: string, progress: Progress): NodeJS.Timeout {
    const t = setInterval(() => {
      const tail = progress.tail?.() ?? '';
      this.o.client
        .postHostCommandUpdate({
          HostCommandIdentifier: id,
          ...(progress.deadline ? { EstimatedCompletionTime: Math.round(progress.deadline.getTime() / 1000) } : {}),
          Diagnostics: envelopeOf({
            error_code: 0,
            script_name: progress.script ?? '',
            message: `InProgress: ${name}${progress.script ? ` running ${progress.script}` : ''}`,
            log: tail,
          }),
        })
        .then((out) => {
          if (out.CommandStatus === 'Failed' || out.CommandStatus === 'Succeeded')
            this.o.log.warn(
              `${name}: the engine reports command ${id} ${out.CommandStatus} already; its scripts run to their end (as CodeDeploy's agent lets them)`,
            );
        })
        .catch((e) => this.o.log.warn(`heartbeat for ${id} failed: ${(e as Error).message}`));
    }, this.o.heartbeatSeconds * 1000);
    t.unref();
    return t;
  }
}
