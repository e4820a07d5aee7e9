/**
 * Server deployments under faults: hosts that behave as the agent does when the engine's answers fail (a
 * call that errs is tried again at the next poll; a completion is repeated until it is answered), hosts
 * that die part-way through an event, and the checks the fault suite makes of a run, for in-place
 * deployments (test/faults/server.test.ts).
 */
import type { Deployment } from '../../src/domain/model.js';
import { isTerminal } from '../../src/domain/model.js';
import type { HostCommand, ScriptedHost } from './host-agent.js';
import type { TestEnv } from './local.js';

export type EventOutcome = 'Succeeded' | 'Failed' | 'Dies';
export type Outcome = (
  host: number,
  event: string,
  deployment: { id: string; key: string },
) => EventOutcome | undefined;

/** An event a host ran to its end (the engine answered its completion). */
export interface Ran {
  deploymentId: string;
  event: string;
  status: 'Succeeded' | 'Failed';
}

/**
 * A scripted host as the agent is: poll, fetch the specification, acknowledge, heartbeat, run, complete;
 * an error answer ends the turn and the same step is tried again at the next one (a completion at most ten
 * times, then the agent gives up on it, as a restarted agent would). A host that dies stops calling
 * anything for `deadSeconds` (default 150: past the engine's 60 s liveness deadline, within the 5 minutes a
 * new command waits to be polled), then comes back with nothing in hand (an agent restarted after a crash).
 */
export class AgentHost {
  /** The S3 key of the revision this host last installed (its Install event succeeded). */
  installed: string | undefined;
  readonly ran: Ran[] = [];
  /** Answers that failed, by operation. */
  readonly errors: string[] = [];
  private held?: {
    c: HostCommand;
    deploymentId: string;
    key: string;
    stage: 'ack' | 'update' | 'run' | 'complete';
    status?: 'Succeeded' | 'Failed';
    tries: number;
  };
  private deadUntil = 0;

  constructor(
    readonly agent: ScriptedHost,
    readonly index: number,
    private readonly now: () => number,
    private readonly deadSeconds = 150,
  ) {}

  /** Holding a command it has not completed yet. */
  get busy(): boolean {
    return this.held !== undefined && !this.dead;
  }

  get dead(): boolean {
    return this.now() < this.deadUntil;
  }

  private async attempt<T>(operation: string, call: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> {
    try {
      return { ok: true, value: await call() };
    } catch (e) {
      this.errors.push(`${operation}: ${(e as Error).message}`);
      return { ok: false };
    }
  }

  /** One turn: as far as the host gets without waiting (bounded). */
  async turn(outcome: Outcome = () => 'Succeeded'): Promise<void> {
    for (let step = 0; step < 60; step++) if (!(await this.step(outcome))) return;
  }

  /** One step; false when the host waits for its next turn. */
  private async step(outcome: Outcome): Promise<boolean> {
    if (this.dead) return false;
    const h = this.held;
    if (!h) {
      const polled = await this.attempt('PollHostCommand', () => this.agent.poll());
      if (!polled.ok || !polled.value.HostCommand) return false;
      const c = polled.value.HostCommand;
      const spec = await this.attempt('GetDeploymentSpecification', () =>
        this.agent.specification(c.DeploymentExecutionId),
      );
      // Without its specification the agent cannot run it: the engine offers it again.
      if (!spec.ok) return false;
      const key = String((spec.value.Revision as { S3Revision?: { Key?: string } } | undefined)?.S3Revision?.Key);
      this.held = { c, deploymentId: String(spec.value.DeploymentId), key, stage: 'ack', tries: 0 };
      return true;
    }
    switch (h.stage) {
      case 'ack': {
        const r = await this.attempt('PutHostCommandAcknowledgement', () => this.agent.ack(h.c.HostCommandIdentifier));
        if (!r.ok) return this.tried(h);
        if (r.value !== 'InProgress') {
          this.held = undefined;
          return true;
        }
        h.stage = 'update';
        h.tries = 0;
        return true;
      }
      case 'update': {
        // A heartbeat that fails is not fatal: the next poll is one too.
        await this.attempt('PostHostCommandUpdate', () => this.agent.update(h.c.HostCommandIdentifier));
        h.stage = 'run';
        return true;
      }
      case 'run': {
        const o = outcome(this.index, h.c.CommandName, { id: h.deploymentId, key: h.key }) ?? 'Succeeded';
        if (o === 'Dies') {
          this.deadUntil = this.now() + this.deadSeconds * 1000;
          this.held = undefined;
          return false;
        }
        h.status = o;
        h.stage = 'complete';
        return true;
      }
      case 'complete': {
        const status = h.status!;
        const r = await this.attempt('PutHostCommandComplete', () =>
          this.agent.complete(h.c.HostCommandIdentifier, status),
        );
        if (!r.ok) return this.tried(h);
        this.ran.push({ deploymentId: h.deploymentId, event: h.c.CommandName, status });
        if (h.c.CommandName === 'Install' && status === 'Succeeded') this.installed = h.key;
        this.held = undefined;
        return true;
      }
    }
  }

  /** A step that failed: try it again next turn, ten times at most. */
  private tried(h: NonNullable<AgentHost['held']>): false {
    if (++h.tries >= 10) this.held = undefined;
    return false;
  }
}

const ended = (s: string | undefined) => s !== undefined && isTerminal(s as Deployment['state']['status']);

/**
 * Drive hosts every 5 virtual seconds until the deployment (and its rollback, if any) ended, or `limitSeconds`.
 * Returns whether it ended.
 */
export async function driveHosts(
  e: TestEnv,
  id: string | undefined,
  hosts: AgentHost[],
  outcome?: Outcome,
  limitSeconds = 4 * 3600,
): Promise<boolean> {
  for (let t = 0; t <= limitSeconds; t += 5) {
    if (id === undefined) return true;
    const d = await e.deps.deployments.get(id);
    const rb = d?.state.rollbackInfo?.rollbackDeploymentId;
    const r = rb ? await e.deps.deployments.get(rb) : undefined;
    // Ended, and no host is left holding a completion it has not been answered yet.
    if (d && ended(d.state.status) && (!rb || ended(r?.state.status)) && !running(e) && !hosts.some((h) => h.busy))
      return true;
    for (const h of hosts) await h.turn(outcome);
    await e.elapse(5);
  }
  return false;
}

function running(e: TestEnv): boolean {
  for (const [, x] of e.runtime.executions) if (x.status === 'RUNNING') return true;
  return false;
}
