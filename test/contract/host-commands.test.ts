/**
 * The HostCommands port's contract, against the DynamoDB adapter on dynalite (DynamoDB's API) and against the
 * in-memory double the fleet's unit tests use, so the two agree: create-once fleets, compare-and-set on the
 * fleet and the hosts, the queue entry's conditional claim and completion, standby marks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoHostCommands } from '../../src/adapters/aws/dynamodb-host-commands.js';
import { createDocumentClient } from '../../src/adapters/aws/dynamodb-store.js';
import { localDynamoClient } from '../../src/adapters/aws/local-clients.js';
import { ensureTable } from '../../src/adapters/aws/table.js';
import { InternalError } from '../../src/domain/errors.js';
import { startDynalite } from '../../src/local/dynalite.js';
import type { FleetRecord, HostCommand, HostCommands, HostRecord } from '../../src/ports/index.js';
import { MemoryHostCommands } from '../support/fleet-memory.js';

let server: Awaited<ReturnType<typeof startDynalite>>;
let client: ReturnType<typeof localDynamoClient>;
let n = 0;
beforeAll(async () => {
  server = await startDynalite();
  client = localDynamoClient(server.endpoint);
});
afterAll(async () => {
  client.destroy();
  await server.close();
});

const ADAPTERS: [string, () => Promise<HostCommands>][] = [
  [
    'DynamoDB (dynalite)',
    async () => {
      const table = `hc${++n}-${Date.now()}`;
      await ensureTable(client, table);
      // A small page size: listHosts must read every page.
      return new DynamoHostCommands(createDocumentClient(client), table, 2);
    },
  ],
  ['in memory', async () => new MemoryHostCommands()],
];

const AT = '2026-06-01T12:00:00.000Z';
const fleet = (id = 'd-FLEET0001'): FleetRecord => ({
  deploymentId: id,
  plan: { fleetSize: 2, hosts: [{ id: 'i-0000000a' }, { id: 'i-0000000b' }] },
  settings: {
    lifecycleEvents: [{ name: 'ApplicationStop', runBy: 'agent' }],
    ignoreApplicationStopFailures: false,
    startTimeoutSeconds: 300,
    eventTimeoutSeconds: 3600,
    livenessSeconds: 60,
    deploymentExecutionId: `cutover/local/${id}/in-place`,
  },
  specification: '{"DeploymentId":"d-FLEET0001"}',
  createdAt: AT,
  state: { currentWave: 0, statuses: {}, woken: [], version: 0 },
});
const host = (hostId: string, id = 'd-FLEET0001'): HostRecord => ({
  deploymentId: id,
  hostId,
  wave: 0,
  status: 'Pending',
  lifecycleEvents: [{ lifecycleEventName: 'ApplicationStop', status: 'Pending', runBy: 'agent' }],
  sequence: 0,
  lastUpdatedAt: AT,
  version: 0,
});
const command = (hostId: string, hostCommandId: string, deploymentId = 'd-FLEET0001'): HostCommand => ({
  hostId,
  deploymentId,
  hostCommandId,
  commandName: 'ApplicationStop',
  deploymentExecutionId: `cutover/local/${deploymentId}/in-place`,
  attempt: 1,
  sequence: 1,
  status: 'Pending',
  queuedAt: AT,
  deadline: '2026-06-01T12:05:00.000Z',
  eventTimeoutSeconds: 3600,
});

describe.each(ADAPTERS)('HostCommands on %s', (_name, make) => {
  it('a fleet is created once: a second create returns the first; its state changes by compare-and-set', async () => {
    const hc = await make();
    expect(await hc.getFleet('d-FLEET0001')).toBeUndefined();
    const first = await hc.createFleet(fleet());
    expect(first.plan).toEqual(fleet().plan);
    const again = await hc.createFleet({ ...fleet(), createdAt: '2030-01-01T00:00:00.000Z' });
    expect(again.createdAt).toBe(AT);
    const next = await hc.updateFleet('d-FLEET0001', 0, {
      currentWave: 1,
      statuses: { 'i-0000000a': 'InProgress' },
      woken: ['wave:0'],
    });
    expect(next.state).toEqual({
      currentWave: 1,
      statuses: { 'i-0000000a': 'InProgress' },
      woken: ['wave:0'],
      version: 1,
    });
    await expect(hc.updateFleet('d-FLEET0001', 0, next.state)).rejects.toBeInstanceOf(InternalError);
    expect((await hc.getFleet('d-FLEET0001'))!.state.version).toBe(1);
    const ended = await hc.updateFleet('d-FLEET0001', 1, { ...next.state, ended: { at: AT, reason: 'x', code: 'C' } });
    expect(ended.state.ended).toEqual({ at: AT, reason: 'x', code: 'C' });
    await expect(hc.updateFleet('d-NOFLEET00', 0, next.state)).rejects.toBeInstanceOf(InternalError);
  });

  it('hosts: put once, listed in id order over every page, changed by compare-and-set (undefined removes)', async () => {
    const hc = await make();
    await hc.putHosts([host('i-0000000c'), host('i-0000000a'), host('i-0000000b'), host('i-00000001', 'd-OTHER0001')]);
    const changed = await hc.updateHost('d-FLEET0001', 'i-0000000a', 0, {
      status: 'InProgress',
      command: command('i-0000000a', 'c-1'),
      checkAt: AT,
    });
    expect(changed.version).toBe(1);
    expect(changed.command?.hostCommandId).toBe('c-1');
    // A retried put leaves the record as it is.
    await hc.putHosts([host('i-0000000a')]);
    expect((await hc.getHost('d-FLEET0001', 'i-0000000a'))!.status).toBe('InProgress');
    expect((await hc.listHosts('d-FLEET0001')).map((h) => h.hostId)).toEqual([
      'i-0000000a',
      'i-0000000b',
      'i-0000000c',
    ]);
    await expect(hc.updateHost('d-FLEET0001', 'i-0000000a', 0, { status: 'Failed' })).rejects.toBeInstanceOf(
      InternalError,
    );
    const cleared = await hc.updateHost('d-FLEET0001', 'i-0000000a', 1, { command: undefined, checkAt: undefined });
    expect(cleared.command).toBeUndefined();
    expect(cleared.checkAt).toBeUndefined();
    expect(cleared.status).toBe('InProgress');
    expect(await hc.getHost('d-FLEET0001', 'i-nothere')).toBeUndefined();
    await expect(hc.updateHost('d-FLEET0001', 'i-nothere', 0, { status: 'Failed' })).rejects.toBeInstanceOf(
      InternalError,
    );
  });

  it('the queue: a command is offered only where none lives; claimed once; completed once; replaced by id', async () => {
    const hc = await make();
    expect(await hc.getQueue('i-0000000a')).toBeUndefined();
    expect(await hc.putCommand(command('i-0000000a', 'c-1'))).toBe(true);
    // Another command while one is live: refused, unless it replaces that one by id.
    expect(await hc.putCommand(command('i-0000000a', 'c-2', 'd-OTHER0001'))).toBe(false);
    expect(await hc.putCommand(command('i-0000000a', 'c-2'), 'c-9')).toBe(false);
    const claim = () => hc.updateCommand('i-0000000a', 'c-1', ['Pending'], { status: 'InProgress', claimedAt: AT });
    const claimed = await claim();
    expect(claimed).toMatchObject({ hostCommandId: 'c-1', status: 'InProgress', claimedAt: AT });
    expect(await claim()).toBeUndefined(); // a second poll does not get it
    expect(await hc.updateCommand('i-0000000a', 'c-9', ['InProgress'], { lastContactAt: AT })).toBeUndefined();
    const complete = () =>
      hc.updateCommand('i-0000000a', 'c-1', ['InProgress'], {
        status: 'Succeeded',
        completedAt: AT,
        diagnostics: { errorCode: 'Success', scriptName: '', message: 'ok', logTail: '' },
        claimedAt: undefined,
      });
    const done = await complete();
    expect(done).toMatchObject({ status: 'Succeeded', diagnostics: { errorCode: 'Success' } });
    expect(done!.claimedAt).toBeUndefined();
    expect(await complete()).toBeUndefined(); // a duplicate changes nothing
    expect((await hc.getQueue('i-0000000a'))!.command!.status).toBe('Succeeded');
    // Ended: the next command takes its place (of this deployment or another).
    expect(await hc.putCommand(command('i-0000000a', 'c-2'))).toBe(true);
    expect(await hc.putCommand(command('i-0000000a', 'c-3'), 'c-2')).toBe(true);
    expect((await hc.getQueue('i-0000000a'))!.command!.hostCommandId).toBe('c-3');
    expect((await hc.getQueue('i-0000000a'))!.deploymentId).toBe('d-FLEET0001');
  });

  it('standby: marked where no other deployment holds a live command; cleared only by its deployment', async () => {
    const hc = await make();
    expect(await hc.setStandby('i-0000000a', 'd-FLEET0001', '2026-06-01T13:00:00.000Z')).toBe(true);
    expect(await hc.getQueue('i-0000000a')).toMatchObject({
      hostId: 'i-0000000a',
      deploymentId: 'd-FLEET0001',
      standbyUntil: '2026-06-01T13:00:00.000Z',
    });
    // A command offered later keeps the mark.
    expect(await hc.putCommand(command('i-0000000a', 'c-1'))).toBe(true);
    expect((await hc.getQueue('i-0000000a'))!.standbyUntil).toBe('2026-06-01T13:00:00.000Z');
    expect(await hc.setStandby('i-0000000a', 'd-OTHER0001', '2026-06-01T14:00:00.000Z')).toBe(false);
    expect(await hc.setStandby('i-0000000a', 'd-OTHER0001', undefined)).toBe(false);
    expect(await hc.setStandby('i-0000000a', 'd-FLEET0001', undefined)).toBe(true);
    expect((await hc.getQueue('i-0000000a'))!.standbyUntil).toBeUndefined();
    expect((await hc.getQueue('i-0000000a'))!.command!.hostCommandId).toBe('c-1');
    expect(await hc.setStandby('i-0000000z', 'd-FLEET0001', undefined)).toBe(false);
  });
});
