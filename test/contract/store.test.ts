/**
 * The store's ports against dynalite (DynamoDB's API): conditional writes, the group lock, CAS
 * updates, orders. Every case runs on the DynamoDB adapter and on the in-memory store the fault
 * suite uses (src/adapters/memory/store.ts): the contract is what both must do alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient, createDynamoStore } from '../../src/adapters/aws/dynamodb-store.js';
import { ensureTable } from '../../src/adapters/aws/table.js';
import { ApiError, InternalError } from '../../src/domain/errors.js';
import { RandomIds } from '../../src/adapters/system/ids.js';
import type { Deployment, DeploymentGroup } from '../../src/domain/model.js';
import type { Ports } from '../../src/tasks/task.js';
import { localDynamoClient } from '../../src/adapters/aws/local-clients.js';
import { createMemoryStore } from '../../src/adapters/memory/store.js';
import { startDynalite } from '../../src/local/dynalite.js';

let server: Awaited<ReturnType<typeof startDynalite>>;
let client: ReturnType<typeof localDynamoClient>;
let n = 0;
type Store = Pick<Ports, 'catalog' | 'deployments' | 'locks' | 'hookExecutions' | 'timeline' | 'alarmWatches'>;
/** A fresh table on dynalite; `pageSize` makes queries page (the in-memory store has no pages). */
async function freshDynamo(pageSize?: number): Promise<Store> {
  const table = `t${++n}-${Date.now()}`;
  await ensureTable(client, table);
  return createDynamoStore(createDocumentClient(client), table, pageSize);
}
const STORES: [string, (pageSize?: number) => Promise<Store>][] = [
  ['dynalite', freshDynamo],
  ['memory', async () => createMemoryStore()],
];
beforeAll(async () => {
  server = await startDynalite();
  client = localDynamoClient(server.endpoint);
});
afterAll(async () => {
  client.destroy();
  await server.close();
});

const group = (name = 'prod'): DeploymentGroup => ({
  applicationName: 'shop',
  deploymentGroupName: name,
  deploymentGroupId: 'g-1',
  computePlatform: 'Lambda',
  deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
  alarmConfiguration: { enabled: false, ignorePollAlarmFailure: false, alarms: [] },
  autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
  triggerConfigurations: [],
  hookTimeoutSeconds: 3600,
  createTime: '2026-01-01T00:00:00.000Z',
});
const deployment = (id: string, createTime = '2026-01-01T00:00:00.000Z'): Deployment => ({
  deploymentId: id,
  spec: {
    applicationName: 'shop',
    deploymentGroupName: 'prod',
    deploymentGroupId: 'g-1',
    deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
    computePlatform: 'Lambda',
    creator: 'user',
    revision: { revisionType: 'AppSpecContent', appSpecContent: { content: 'x', sha256: 'y' } },
    createTime,
    autoRollbackConfiguration: { enabled: true, events: [] },
    target: { functions: [] },
    lifecycle: [],
    plan: { steps: [], totalBakeSeconds: 0 },
  },
  state: { status: 'Created', targetWeight: 0, lifecycleEvents: [], version: 1 },
});

describe.each(STORES)('the store on %s', (_name, freshStore) => {
  it('applications, groups and configs: create once, read back, duplicates named like CodeDeploy', async () => {
    const s = await freshStore();
    await s.catalog.createApplication({
      applicationId: 'a-1',
      applicationName: 'shop',
      computePlatform: 'Lambda',
      createTime: 'now',
    });
    expect(await s.catalog.getApplication('shop')).toEqual({
      applicationId: 'a-1',
      applicationName: 'shop',
      computePlatform: 'Lambda',
      createTime: 'now',
    });
    await expect(
      s.catalog.createApplication({
        applicationId: 'a-2',
        applicationName: 'shop',
        computePlatform: 'Lambda',
        createTime: 'now',
      }),
    ).rejects.toMatchObject({
      exceptionName: 'ApplicationAlreadyExistsException',
    });
    expect((await s.catalog.getApplication('shop'))?.applicationId).toBe('a-1');
    await s.catalog.createDeploymentGroup(group());
    await expect(s.catalog.createDeploymentGroup(group())).rejects.toMatchObject({
      exceptionName: 'DeploymentGroupAlreadyExistsException',
    });
    await s.catalog.createDeploymentConfig({
      deploymentConfigName: 'c',
      deploymentConfigId: 'c-1',
      computePlatform: 'Lambda',
      trafficRoutingConfig: { type: 'AllAtOnce' },
      createTime: 'now',
    });
    await expect(
      s.catalog.createDeploymentConfig({
        deploymentConfigName: 'c',
        deploymentConfigId: 'c-2',
        computePlatform: 'Lambda',
        trafficRoutingConfig: { type: 'AllAtOnce' },
        createTime: 'now',
      }),
    ).rejects.toMatchObject({ exceptionName: 'DeploymentConfigAlreadyExistsException' });
  });

  it('updating a group replaces its settings but never its lock or history; a missing group is named', async () => {
    const s = await freshStore();
    await s.catalog.createDeploymentGroup(group());
    await s.locks.acquire('shop', 'prod', 'd-AAAAAAAAA');
    await s.catalog.updateDeploymentGroup({
      ...group(),
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      hookTimeoutSeconds: 60,
      // A Server group's own fields are settings too (every store keeps the same list).
      ec2TagFilters: [{ Key: 'Role', Value: 'web', Type: 'KEY_AND_VALUE' }],
      autoScalingGroups: ['web-asg'],
    });
    const g = await s.catalog.getDeploymentGroup('shop', 'prod');
    expect(g).toMatchObject({
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      hookTimeoutSeconds: 60,
      ec2TagFilters: [{ Key: 'Role', Value: 'web', Type: 'KEY_AND_VALUE' }],
      autoScalingGroups: ['web-asg'],
      activeDeploymentId: 'd-AAAAAAAAA',
      deploymentGroupId: 'g-1',
    });
    await expect(s.catalog.updateDeploymentGroup({ ...group('other') })).rejects.toMatchObject({
      exceptionName: 'DeploymentGroupDoesNotExistException',
    });
    expect(await s.catalog.getDeploymentGroup('shop', 'other')).toBeUndefined();
  });

  it('50 concurrent locks on one group: exactly one wins, 49 get CodeDeploy’s message naming the winner', async () => {
    const s = await freshStore();
    await s.catalog.createDeploymentGroup(group());
    const ids = Array.from({ length: 50 }, () => new RandomIds().deploymentId());
    const results = await Promise.allSettled(ids.map((id) => s.locks.acquire('shop', 'prod', id)));
    const won = ids.filter((_, i) => results[i]!.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const holder = (await s.catalog.getDeploymentGroup('shop', 'prod'))?.activeDeploymentId;
    expect(holder).toBe(won[0]);
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
      expect(r.reason).toBeInstanceOf(ApiError);
      expect(r.reason).toMatchObject({
        exceptionName: 'DeploymentLimitExceededException',
        message: `The Deployment Group 'prod' already has an active Deployment '${holder}'`,
      });
    }
  });

  it('the lock: re-lock by the holder is idempotent; a non-holder cannot release it; release then lock again', async () => {
    const s = await freshStore();
    await s.catalog.createDeploymentGroup(group());
    await expect(s.locks.acquire('shop', 'nope', 'd-AAAAAAAAA')).rejects.toMatchObject({
      exceptionName: 'DeploymentGroupDoesNotExistException',
    });
    await s.locks.acquire('shop', 'prod', 'd-AAAAAAAAA');
    await s.locks.acquire('shop', 'prod', 'd-AAAAAAAAA');
    await s.locks.release('shop', 'prod', 'd-BBBBBBBBB', { status: 'Failed', createTime: 't' });
    expect((await s.catalog.getDeploymentGroup('shop', 'prod'))?.activeDeploymentId).toBe('d-AAAAAAAAA');
    await s.locks.release('shop', 'prod', 'd-AAAAAAAAA', {
      status: 'Succeeded',
      createTime: 't0',
      endTime: 't1',
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: 'c', sha256: 's' } },
    });
    const g = await s.catalog.getDeploymentGroup('shop', 'prod');
    expect(g?.activeDeploymentId).toBeUndefined();
    expect(g?.lastSuccessfulDeployment).toEqual({
      deploymentId: 'd-AAAAAAAAA',
      status: 'Succeeded',
      createTime: 't0',
      endTime: 't1',
    });
    expect(g?.lastSuccessfulRevision).toMatchObject({ revisionType: 'AppSpecContent' });
    await s.locks.acquire('shop', 'prod', 'd-CCCCCCCCC');
    expect((await s.catalog.getDeploymentGroup('shop', 'prod'))?.activeDeploymentId).toBe('d-CCCCCCCCC');
  });

  it('deployments: compare-and-set updates; a stale version changes nothing; undefined removes a field', async () => {
    const s = await freshStore();
    await s.deployments.create(deployment('d-AAAAAAAAA'));
    await expect(s.deployments.create(deployment('d-AAAAAAAAA'))).rejects.toBeInstanceOf(InternalError);
    const v2 = await s.deployments.update('d-AAAAAAAAA', 1, {
      status: 'InProgress',
      currentWait: { kind: 'bake', token: 't', since: 'now' },
    });
    expect(v2.state).toMatchObject({ status: 'InProgress', version: 2, currentWait: { token: 't' } });
    expect(v2.spec).toEqual(deployment('d-AAAAAAAAA').spec); // what was asked is never changed
    await expect(s.deployments.update('d-AAAAAAAAA', 1, { status: 'Failed' })).rejects.toBeInstanceOf(InternalError);
    expect((await s.deployments.get('d-AAAAAAAAA'))?.state.status).toBe('InProgress');
    const v3 = await s.deployments.update('d-AAAAAAAAA', 2, { currentWait: undefined, targetWeight: 10 });
    expect(v3.state.currentWait).toBeUndefined();
    expect(v3.state).toMatchObject({ version: 3, targetWeight: 10 });
    expect(Object.keys(v3)).not.toContain('pk');
  });

  it('timeline in time order; deployments of a group listed newest first across pages', async () => {
    const s = await freshStore(2);
    for (const [i, at] of [
      '2026-01-01T00:00:03.000Z',
      '2026-01-01T00:00:01.000Z',
      '2026-01-01T00:00:02.000Z',
    ].entries()) {
      await s.timeline.append('d-AAAAAAAAA', { at, event: `e${i}`, message: 'm' });
    }
    expect((await s.timeline.list('d-AAAAAAAAA')).map((e) => e.event)).toEqual(['e1', 'e2', 'e0']);
    const ids = ['d-000000001', 'd-000000002', 'd-000000003', 'd-000000004', 'd-000000005'];
    for (const [i, id] of ids.entries()) await s.deployments.create(deployment(id, `2026-01-0${i + 1}T00:00:00.000Z`));
    expect(await s.deployments.list('shop', 'prod')).toEqual([...ids].reverse());
    expect(await s.deployments.list('shop', 'prod', 2)).toEqual([...ids].reverse().slice(0, 2));
    expect(await s.deployments.list('shop', 'prod', 3)).toEqual([...ids].reverse().slice(0, 3)); // across pages
  });

  it('discard removes only a deployment that never started', async () => {
    const s = await freshStore();
    await s.deployments.create(deployment('d-00000000A', '2026-01-01T00:00:00.000Z'));
    await s.deployments.create(deployment('d-00000000B', '2026-01-01T00:00:01.000Z'));
    const b = (await s.deployments.get('d-00000000B'))!;
    await s.deployments.update('d-00000000B', b.state.version, { status: 'InProgress' });
    expect(await s.deployments.discard('d-00000000A')).toBe(true);
    expect(await s.deployments.discard('d-00000000A')).toBe(false);
    expect(await s.deployments.discard('d-00000000B')).toBe(false);
    expect(await s.deployments.get('d-00000000A')).toBeUndefined();
    expect((await s.deployments.get('d-00000000B'))?.state.status).toBe('InProgress');
    expect(await s.deployments.list('shop', 'prod')).toEqual(['d-00000000B']);
  });

  it('hook executions complete exactly once', async () => {
    const s = await freshStore();
    await s.hookExecutions.put({
      idHash: 'h1',
      deploymentId: 'd-AAAAAAAAA',
      lifecycleEventName: 'BeforeAllowTraffic',
      taskToken: 'tok',
      status: 'InProgress',
    });
    const both = await Promise.all([
      s.hookExecutions.complete('h1', 'Succeeded'),
      s.hookExecutions.complete('h1', 'Failed'),
    ]);
    expect(both.filter(Boolean)).toHaveLength(1);
    expect(await s.hookExecutions.complete('h1', 'Succeeded')).toBe(false);
    expect(await s.hookExecutions.complete('missing', 'Succeeded')).toBe(false);
  });

  it('alarm watches: watching twice is once; unwatching what is not there is fine; listed by deployment id', async () => {
    const s = await freshStore();
    await s.alarmWatches.watch('d-00000000B', ['a', 'b']);
    await s.alarmWatches.watch('d-00000000A', ['a']);
    await s.alarmWatches.watch('d-00000000B', ['a']);
    expect(await s.alarmWatches.watching('a')).toEqual(['d-00000000A', 'd-00000000B']);
    expect(await s.alarmWatches.watching('b')).toEqual(['d-00000000B']);
    await s.alarmWatches.unwatch('d-00000000B', ['a', 'b', 'c']);
    await s.alarmWatches.unwatch('d-00000000B', ['a']);
    expect(await s.alarmWatches.watching('a')).toEqual(['d-00000000A']);
    expect(await s.alarmWatches.watching('b')).toEqual([]);
    await s.alarmWatches.unwatch('d-00000000A', []);
    expect(await s.alarmWatches.watching('nobody')).toEqual([]);
  });

  it('revisions: registering and using merge; first times kept, every group listed once, sorted', async () => {
    const s = await freshStore();
    const rev = (content: string) => ({
      revisionType: 'AppSpecContent' as const,
      appSpecContent: { content, sha256: content },
    });
    await s.catalog.recordRevisionUse('shop', 'k1', rev('one'), 'prod', 't1');
    await s.catalog.recordRevisionUse('shop', 'k1', rev('other'), 'beta', 't2');
    await s.catalog.recordRevisionUse('shop', 'k1', rev('other'), 'prod', 't3');
    await s.catalog.registerRevision('shop', 'k1', rev('one'), 'the first', 't4');
    await s.catalog.registerRevision('shop', 'k1', rev('one'), undefined, 't5');
    expect(await s.catalog.getRevision('shop', 'k1')).toEqual({
      key: 'k1',
      revision: rev('one'),
      description: 'the first',
      registerTime: 't4',
      firstUsedTime: 't1',
      lastUsedTime: 't3',
      deploymentGroups: ['beta', 'prod'],
    });
    await s.catalog.registerRevision('shop', 'k0', rev('zero'), undefined, 't6');
    await s.catalog.registerRevision('books', 'k9', rev('nine'), undefined, 't6');
    expect(await s.catalog.getRevision('shop', 'k0')).toEqual({
      key: 'k0',
      revision: rev('zero'),
      registerTime: 't6',
      deploymentGroups: [],
    });
    expect((await s.catalog.listRevisions('shop')).map((r) => r.key)).toEqual(['k0', 'k1']);
    expect(await s.catalog.getRevision('shop', 'k9')).toBeUndefined();
  });

  it('listings in key order; a locked group cannot be deleted, and deleting its application stops at it', async () => {
    const s = await freshStore();
    for (const name of ['shop', 'books', 'cart'])
      await s.catalog.createApplication({
        applicationId: name,
        applicationName: name,
        computePlatform: 'Lambda',
        createTime: 'now',
      });
    expect((await s.catalog.listApplications()).map((a) => a.applicationName)).toEqual(['books', 'cart', 'shop']);
    for (const g of ['prod', 'beta']) await s.catalog.createDeploymentGroup(group(g));
    expect((await s.catalog.listDeploymentGroups('shop')).map((g) => g.deploymentGroupName)).toEqual(['beta', 'prod']);
    expect(await s.catalog.listDeploymentGroups('books')).toEqual([]);
    for (const name of ['z', 'a'])
      await s.catalog.createDeploymentConfig({
        deploymentConfigName: name,
        deploymentConfigId: name,
        computePlatform: 'Lambda',
        trafficRoutingConfig: { type: 'AllAtOnce' },
        createTime: 'now',
      });
    expect((await s.catalog.listDeploymentConfigs()).map((c) => c.deploymentConfigName)).toEqual(['a', 'z']);
    await s.catalog.deleteDeploymentConfig('z');
    await s.catalog.deleteDeploymentConfig('z');
    expect(await s.catalog.getDeploymentConfig('z')).toBeUndefined();

    await s.locks.acquire('shop', 'prod', 'd-AAAAAAAAA');
    await expect(s.catalog.deleteDeploymentGroup('shop', 'prod')).rejects.toMatchObject({
      exceptionName: 'InvalidOperationException',
      message: expect.stringContaining('d-AAAAAAAAA'),
    });
    await expect(s.catalog.deleteApplication('shop')).rejects.toMatchObject({
      exceptionName: 'InvalidOperationException',
    });
    expect(await s.catalog.getApplication('shop')).toBeDefined();
    await s.locks.release('shop', 'prod', 'd-AAAAAAAAA', { status: 'Failed', createTime: 't' });
    await s.catalog.deleteApplication('shop');
    await s.catalog.deleteApplication('shop');
    expect(await s.catalog.getApplication('shop')).toBeUndefined();
    expect(await s.catalog.listDeploymentGroups('shop')).toEqual([]);
  });

  it('a release by someone else records the attempt only; a release on a missing group changes nothing', async () => {
    const s = await freshStore();
    await s.catalog.createDeploymentGroup(group());
    await s.locks.acquire('shop', 'prod', 'd-AAAAAAAAA');
    await s.locks.release('shop', 'prod', 'd-BBBBBBBBB', { status: 'Succeeded', createTime: 't0', endTime: 't1' });
    const g = await s.catalog.getDeploymentGroup('shop', 'prod');
    expect(g).toMatchObject({
      activeDeploymentId: 'd-AAAAAAAAA',
      lastAttemptedDeployment: { deploymentId: 'd-BBBBBBBBB', status: 'Succeeded', createTime: 't0', endTime: 't1' },
    });
    expect(g?.lastSuccessfulDeployment).toBeUndefined();
    await s.locks.release('shop', 'nope', 'd-AAAAAAAAA', { status: 'Failed', createTime: 't' });
    expect(await s.catalog.getDeploymentGroup('shop', 'nope')).toBeUndefined();
  });

  it('what is read is a copy, and undefined values inside what is written are dropped', async () => {
    const s = await freshStore();
    await s.deployments.create(deployment('d-AAAAAAAAA'));
    const read = (await s.deployments.get('d-AAAAAAAAA'))!;
    read.state.status = 'Failed';
    read.spec.lifecycle.push({ kind: 'traffic', name: 'AllowTraffic' });
    expect((await s.deployments.get('d-AAAAAAAAA'))?.state.status).toBe('Created');
    expect((await s.deployments.get('d-AAAAAAAAA'))?.spec.lifecycle).toEqual([]);
    const patched = await s.deployments.update('d-AAAAAAAAA', 1, {
      currentWait: { kind: 'bake', token: 't', since: 'now', until: undefined },
      version: 99,
    });
    expect(patched.state.version).toBe(2);
    expect(Object.keys(patched.state.currentWait!)).toEqual(expect.not.arrayContaining(['until']));
    expect(Object.keys((await s.deployments.get('d-AAAAAAAAA'))!.state.currentWait!).sort()).toEqual([
      'kind',
      'since',
      'token',
    ]);
    await s.catalog.createDeploymentGroup(group());
    const g = (await s.catalog.getDeploymentGroup('shop', 'prod'))!;
    g.hookTimeoutSeconds = 1;
    expect((await s.catalog.getDeploymentGroup('shop', 'prod'))?.hookTimeoutSeconds).toBe(3600);
    await expect(s.deployments.update('d-MISSING00', 1, { status: 'Failed' })).rejects.toBeInstanceOf(InternalError);
  });
});
