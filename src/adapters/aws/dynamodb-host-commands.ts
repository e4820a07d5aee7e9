/**
 * The HostCommands port (src/ports/host-commands.ts) on the store's one DynamoDB table. Every write is
 * conditional; no transactions (dynalite has none). The fleet's plan and settings are written once and never
 * change, so they are read once per container and kept; the fleet's state, the hosts and the queue entries
 * are read consistently every time.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { InternalError } from '../../domain/errors.js';
import type {
  FleetRecord,
  FleetState,
  HostCommand,
  HostCommandStatus,
  HostCommands,
  HostQueueEntry,
  HostRecord,
} from '../../ports/index.js';
import { DynamoTable, isConditionFailure, updateExpression } from './dynamodb-store.js';
import { mapAwsError, withAwsErrors } from './errors.js';

const fleetKey = (id: string) => ({ pk: `DEP#${id}`, sk: 'FLEET' });
const stateKey = (id: string) => ({ pk: `DEP#${id}`, sk: 'FLEET#STATE' });
const hostKey = (id: string, host: string) => ({ pk: `DEP#${id}`, sk: `HOST#${host}` });
const queueKey = (host: string) => ({ pk: `HOSTQ#${host}`, sk: 'HOSTQ' });
const ENDED: readonly HostCommandStatus[] = ['Succeeded', 'Failed'];
/** Puts of host records at once (a fleet of a thousand hosts is written in about 60 rounds). */
const PARALLEL_PUTS = 16;

type Immutable = Omit<FleetRecord, 'state'>;

export class DynamoHostCommands extends DynamoTable implements HostCommands {
  /** Plans and settings by deployment: written once, so a container reads each once. */
  private readonly fixed = new Map<string, Immutable>();

  async createFleet(fleet: FleetRecord): Promise<FleetRecord> {
    const { state, ...fixed } = fleet;
    await this.putNew({ ...fleetKey(fleet.deploymentId), ...fixed });
    await this.putNew({ ...stateKey(fleet.deploymentId), deploymentId: fleet.deploymentId, ...state });
    const stored = await this.getFleet(fleet.deploymentId);
    if (!stored) throw new InternalError(`the fleet of deployment ${fleet.deploymentId} could not be read back`);
    return stored;
  }

  async getFleet(deploymentId: string): Promise<FleetRecord | undefined> {
    const state = await this.item<FleetState & { deploymentId?: string }>(
      stateKey(deploymentId).pk,
      stateKey(deploymentId).sk,
    );
    if (!state) return undefined;
    const fixed = await this.fixedOf(deploymentId);
    if (!fixed) return undefined;
    const { deploymentId: _d, ...rest } = state;
    return { ...fixed, state: rest };
  }

  async updateFleet(
    deploymentId: string,
    expectedVersion: number,
    state: Omit<FleetState, 'version'>,
  ): Promise<FleetRecord> {
    const fixed = await this.fixedOf(deploymentId);
    if (!fixed) throw new InternalError(`deployment ${deploymentId} has no fleet`);
    const next: FleetState = { ...state, version: expectedVersion + 1 };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...stateKey(deploymentId), deploymentId, ...next },
          ConditionExpression: '#v = :expected',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        }),
      );
    } catch (e) {
      if (isConditionFailure(e))
        throw new InternalError(
          `the fleet of deployment ${deploymentId} was changed concurrently (expected version ${expectedVersion})`,
        );
      throw mapAwsError(e, 'DynamoDB PutItem');
    }
    return { ...fixed, state: next };
  }

  private async fixedOf(deploymentId: string): Promise<Immutable | undefined> {
    const cached = this.fixed.get(deploymentId);
    if (cached) return cached;
    const { pk, sk } = fleetKey(deploymentId);
    const found = await this.item<Immutable>(pk, sk);
    if (found) this.fixed.set(deploymentId, found);
    return found;
  }

  async putHosts(hosts: HostRecord[]): Promise<void> {
    for (let i = 0; i < hosts.length; i += PARALLEL_PUTS) {
      await Promise.all(
        hosts.slice(i, i + PARALLEL_PUTS).map((h) => this.putNew({ ...hostKey(h.deploymentId, h.hostId), ...h })),
      );
    }
  }

  getHost(deploymentId: string, hostId: string): Promise<HostRecord | undefined> {
    const { pk, sk } = hostKey(deploymentId, hostId);
    return this.item<HostRecord>(pk, sk);
  }

  async listHosts(deploymentId: string): Promise<HostRecord[]> {
    const items = await this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :h)',
      ExpressionAttributeValues: { ':pk': `DEP#${deploymentId}`, ':h': 'HOST#' },
      ConsistentRead: true,
    });
    return items.map(({ pk: _p, sk: _s, ...h }) => h as unknown as HostRecord);
  }

  async updateHost(
    deploymentId: string,
    hostId: string,
    expectedVersion: number,
    patch: Partial<Omit<HostRecord, 'deploymentId' | 'hostId' | 'version'>>,
  ): Promise<HostRecord> {
    const u = updateExpression(patch, ['#version = :next']);
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: hostKey(deploymentId, hostId),
          UpdateExpression: u.expr,
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { ...u.names, '#version': 'version' },
          ExpressionAttributeValues: { ...u.values, ':next': expectedVersion + 1, ':expected': expectedVersion },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const { pk: _p, sk: _s, ...h } = r.Attributes ?? {};
      return h as unknown as HostRecord;
    } catch (e) {
      if (isConditionFailure(e))
        throw new InternalError(
          `host ${hostId} of deployment ${deploymentId} was changed concurrently (expected version ${expectedVersion})`,
        );
      throw mapAwsError(e, 'DynamoDB UpdateItem');
    }
  }

  async getQueue(hostId: string): Promise<HostQueueEntry | undefined> {
    const r = await withAwsErrors('DynamoDB GetItem', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: queueKey(hostId), ConsistentRead: true })),
    );
    if (!r.Item) return undefined;
    const { pk: _p, sk: _s, ...entry } = r.Item;
    return entry as HostQueueEntry;
  }

  async putCommand(command: HostCommand, replacing?: string): Promise<boolean> {
    const condition =
      replacing === undefined ? 'attribute_not_exists(#c) OR #c.#s IN (:ok, :failed)' : '#c.hostCommandId = :replacing';
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: queueKey(command.hostId),
          UpdateExpression: 'SET #c = :c, deploymentId = :d, hostId = :h',
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#c': 'command', ...(replacing === undefined ? { '#s': 'status' } : {}) },
          ExpressionAttributeValues: {
            ':c': command,
            ':d': command.deploymentId,
            ':h': command.hostId,
            ...(replacing === undefined ? { ':ok': ENDED[0], ':failed': ENDED[1] } : { ':replacing': replacing }),
          },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw mapAwsError(e, 'DynamoDB UpdateItem');
    }
  }

  async updateCommand(
    hostId: string,
    hostCommandId: string,
    from: readonly HostCommandStatus[],
    patch: Partial<Omit<HostCommand, 'hostId' | 'hostCommandId' | 'deploymentId'>>,
  ): Promise<HostCommand | undefined> {
    if (from.length === 0) return undefined;
    const u = updateExpression(patch, [], '#c');
    const statuses = Object.fromEntries(from.map((s, i) => [`:from${i}`, s]));
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: queueKey(hostId),
          UpdateExpression: u.expr,
          ConditionExpression: `#c.hostCommandId = :id AND #c.#status IN (${Object.keys(statuses).join(', ')})`,
          ExpressionAttributeNames: { ...u.names, '#c': 'command', '#status': 'status' },
          ExpressionAttributeValues: { ...u.values, ...statuses, ':id': hostCommandId },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return (r.Attributes as HostQueueEntry | undefined)?.command;
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      throw mapAwsError(e, 'DynamoDB UpdateItem');
    }
  }

  async setStandby(hostId: string, deploymentId: string, until: string | undefined): Promise<boolean> {
    const set = until !== undefined;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: queueKey(hostId),
          UpdateExpression: set ? 'SET standbyUntil = :u, deploymentId = :d, hostId = :h' : 'REMOVE standbyUntil',
          ConditionExpression: set
            ? 'attribute_not_exists(#c) OR #c.#s IN (:ok, :failed) OR #c.deploymentId = :d'
            : 'deploymentId = :d',
          ExpressionAttributeNames: set ? { '#c': 'command', '#s': 'status' } : undefined,
          ExpressionAttributeValues: set
            ? { ':u': until, ':d': deploymentId, ':h': hostId, ':ok': ENDED[0], ':failed': ENDED[1] }
            : { ':d': deploymentId },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw mapAwsError(e, 'DynamoDB UpdateItem');
    }
  }
}
