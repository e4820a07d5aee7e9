/**
 * The HostCommands port in memory, for the fleet's unit tests. test/contract/host-commands.test.ts runs the
 * same contract against it and against the DynamoDB adapter on dynalite, so the two agree.
 */
import { InternalError } from '../../src/domain/errors.js';
import type { Deployment, DeploymentState } from '../../src/domain/model.js';
import type {
  Deployments,
  FleetRecord,
  FleetState,
  HostCommand,
  HostCommandStatus,
  HostCommands,
  HostQueueEntry,
  HostRecord,
  TaskTokens,
} from '../../src/ports/index.js';

const copy = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));
/** A patch applied as DynamoDB's SET/REMOVE would: undefined removes the field. */
function apply<T extends object>(target: T, patch: object): T {
  const out = { ...target } as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete out[k];
    else out[k] = copy(v);
  }
  return out as T;
}
const ENDED: readonly HostCommandStatus[] = ['Succeeded', 'Failed'];

export class MemoryHostCommands implements HostCommands {
  readonly fleets = new Map<string, FleetRecord>();
  readonly hosts = new Map<string, HostRecord>();
  readonly queues = new Map<string, HostQueueEntry>();
  /** Port calls, by method (tests count writes). */
  readonly calls: Record<string, number> = {};
  /** Runs before each call: tests throw from it to inject a fault. */
  beforeCall?: (method: string, args: unknown[]) => void;

  private called(method: string, ...args: unknown[]) {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    this.beforeCall?.(method, args);
  }

  async createFleet(fleet: FleetRecord): Promise<FleetRecord> {
    this.called('createFleet', fleet);
    if (!this.fleets.has(fleet.deploymentId)) this.fleets.set(fleet.deploymentId, copy(fleet));
    return copy(this.fleets.get(fleet.deploymentId)!);
  }
  async getFleet(id: string): Promise<FleetRecord | undefined> {
    this.called('getFleet', id);
    return copy(this.fleets.get(id));
  }
  async updateFleet(id: string, expected: number, state: Omit<FleetState, 'version'>): Promise<FleetRecord> {
    this.called('updateFleet', id, expected, state);
    const f = this.fleets.get(id);
    if (!f) throw new InternalError(`deployment ${id} has no fleet`);
    if (f.state.version !== expected) throw new InternalError(`fleet ${id} changed concurrently`);
    const next = { ...f, state: { ...copy(state), version: expected + 1 } };
    this.fleets.set(id, next);
    return copy(next);
  }
  async putHosts(hosts: HostRecord[]): Promise<void> {
    this.called('putHosts', hosts);
    for (const h of hosts) {
      const key = `${h.deploymentId}/${h.hostId}`;
      if (!this.hosts.has(key)) this.hosts.set(key, copy(h));
    }
  }
  async getHost(id: string, host: string): Promise<HostRecord | undefined> {
    this.called('getHost', id, host);
    return copy(this.hosts.get(`${id}/${host}`));
  }
  async listHosts(id: string): Promise<HostRecord[]> {
    this.called('listHosts', id);
    return [...this.hosts.values()]
      .filter((h) => h.deploymentId === id)
      .sort((a, b) => (a.hostId < b.hostId ? -1 : a.hostId > b.hostId ? 1 : 0))
      .map(copy);
  }
  async updateHost(
    id: string,
    host: string,
    expected: number,
    patch: Partial<Omit<HostRecord, 'deploymentId' | 'hostId' | 'version'>>,
  ): Promise<HostRecord> {
    this.called('updateHost', id, host, expected, patch);
    const key = `${id}/${host}`;
    const h = this.hosts.get(key);
    if (!h || h.version !== expected) throw new InternalError(`host ${host} changed concurrently`);
    const next = { ...apply(h, patch), version: expected + 1 };
    this.hosts.set(key, next);
    return copy(next);
  }
  async getQueue(host: string): Promise<HostQueueEntry | undefined> {
    this.called('getQueue', host);
    return copy(this.queues.get(host));
  }
  async putCommand(command: HostCommand, replacing?: string): Promise<boolean> {
    this.called('putCommand', command, replacing);
    const e = this.queues.get(command.hostId);
    const ok =
      replacing === undefined
        ? !e?.command || ENDED.includes(e.command.status)
        : e?.command?.hostCommandId === replacing;
    if (!ok) return false;
    this.queues.set(command.hostId, {
      ...(e ?? {}),
      hostId: command.hostId,
      deploymentId: command.deploymentId,
      command: copy(command),
    });
    return true;
  }
  async updateCommand(
    host: string,
    id: string,
    from: readonly HostCommandStatus[],
    patch: Partial<Omit<HostCommand, 'hostId' | 'hostCommandId' | 'deploymentId'>>,
  ): Promise<HostCommand | undefined> {
    this.called('updateCommand', host, id, from, patch);
    const e = this.queues.get(host);
    if (!e?.command || e.command.hostCommandId !== id || !from.includes(e.command.status)) return undefined;
    const command = apply(e.command, patch);
    this.queues.set(host, { ...e, command });
    return copy(command);
  }
  async setStandby(host: string, deploymentId: string, until: string | undefined): Promise<boolean> {
    this.called('setStandby', host, deploymentId, until);
    const e = this.queues.get(host);
    if (until === undefined) {
      if (e?.deploymentId !== deploymentId) return false;
      const { standbyUntil: _u, ...rest } = e;
      this.queues.set(host, rest);
      return true;
    }
    const ok = !e?.command || ENDED.includes(e.command.status) || e.command.deploymentId === deploymentId;
    if (!ok) return false;
    this.queues.set(host, { ...(e ?? {}), hostId: host, deploymentId, standbyUntil: until });
    return true;
  }
}

/** Deployment records in memory (compare-and-set on state.version), enough for the fleet's wake-ups. */
export class MemoryDeployments implements Pick<Deployments, 'get' | 'update' | 'create'> {
  readonly records = new Map<string, Deployment>();
  /** Runs before each update's write (tests interleave another writer here). */
  beforeUpdate?: (id: string) => Promise<void> | void;
  async create(d: Deployment): Promise<void> {
    this.records.set(d.deploymentId, copy(d));
  }
  async get(id: string): Promise<Deployment | undefined> {
    return copy(this.records.get(id));
  }
  async update(id: string, expected: number, patch: Partial<DeploymentState>): Promise<Deployment> {
    await this.beforeUpdate?.(id);
    const d = this.records.get(id);
    if (!d || d.state.version !== expected) throw new InternalError(`deployment ${id} changed concurrently`);
    const next = { ...d, state: { ...apply(d.state, patch), version: expected + 1 } };
    this.records.set(id, next);
    return copy(next);
  }
}

/** Task tokens: the tokens a test parks as waiting, and what completed them. */
export class MemoryTokens implements Pick<TaskTokens, 'succeed' | 'fail'> {
  readonly waiting = new Set<string>();
  readonly succeeded: { token: string; output: unknown }[] = [];
  readonly failed: { token: string; error: string }[] = [];
  async succeed(token: string, output: unknown): Promise<boolean> {
    if (!this.waiting.delete(token)) return false;
    this.succeeded.push({ token, output });
    return true;
  }
  async fail(token: string, error: string): Promise<boolean> {
    if (!this.waiting.delete(token)) return false;
    this.failed.push({ token, error });
    return true;
  }
}
