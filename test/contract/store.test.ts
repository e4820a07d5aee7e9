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

const app = (name: string) => ({
  applicationId: `id-${name}`,
  applicationName: name,
  computePlatform: 'Lambda' as const,
  createTime: 'now',
});
const tags = (...kv: [string, string][]) => kv.map(([Key, Value]) => ({ Key, Value }));
const G = (app: string, group: string) => ({
  kind: 'deploymentGroup' as const,
  applicationName: app,
  deploymentGroupName: group,
});
const A = (name: string) => ({ kind: 'application' as const, applicationName: name });

describe.each(STORES)('tags and renames on %s', (_name, freshStore) => {
  it('tags given on create are kept; updates by compare-and-set; a missing resource is named; deletes take the tags', async () => {
    const s = await freshStore();
    await s.catalog.createApplication(app('shop'), tags(['team', 'web']));
    await s.catalog.createDeploymentGroup(group(), tags(['env', 'prod']));
    await s.catalog.createDeploymentConfig({
      deploymentConfigName: 'Halves',
      deploymentConfigId: 'c-1',
      computePlatform: 'Lambda',
      trafficRoutingConfig: { type: 'AllAtOnce' },
      createTime: 'now',
    });
    const config = { kind: 'deploymentConfig' as const, deploymentConfigName: 'Halves' };
    expect(await s.catalog.listTags(A('shop'))).toEqual(tags(['team', 'web']));
    expect(await s.catalog.listTags(G('shop', 'prod'))).toEqual(tags(['env', 'prod']));
    expect(await s.catalog.listTags(config)).toEqual([]);
    expect(await s.catalog.listTags(A('nope'))).toBeUndefined();
    // The resource itself does not show its tags.
    expect(Object.keys((await s.catalog.getApplication('shop'))!)).not.toContain('resourceTags');
    expect(Object.keys((await s.catalog.getDeploymentGroup('shop', 'prod'))!)).not.toContain('resourceTags');
    expect(await s.catalog.updateTags(config, (t) => [...t, ...tags(['a', '1'])])).toEqual(tags(['a', '1']));
    // Concurrent changes: none is lost.
    await Promise.all(
      ['x', 'y', 'z'].map((k) => s.catalog.updateTags(G('shop', 'prod'), (t) => [...t, ...tags([k, k])])),
    );
    expect((await s.catalog.listTags(G('shop', 'prod')))!.map((t) => t.Key).sort()).toEqual(['env', 'x', 'y', 'z']);
    // A change that refuses writes nothing.
    await expect(
      s.catalog.updateTags(A('shop'), () => {
        throw new ApiError('InvalidTagsToAddException', 'too many');
      }),
    ).rejects.toMatchObject({ exceptionName: 'InvalidTagsToAddException' });
    expect(await s.catalog.listTags(A('shop'))).toEqual(tags(['team', 'web']));
    for (const [r, e] of [
      [A('nope'), 'ApplicationDoesNotExistException'],
      [G('shop', 'nope'), 'DeploymentGroupDoesNotExistException'],
      [{ kind: 'deploymentConfig' as const, deploymentConfigName: 'nope' }, 'DeploymentConfigDoesNotExistException'],
    ] as const)
      await expect(s.catalog.updateTags(r, (t) => t)).rejects.toMatchObject({ exceptionName: e });
    await s.catalog.deleteDeploymentConfig('Halves');
    expect(await s.catalog.listTags(config)).toBeUndefined();
    await s.catalog.deleteApplication('shop');
    await s.catalog.createApplication(app('shop'));
    await s.catalog.createDeploymentGroup(group());
    expect(await s.catalog.listTags(A('shop'))).toEqual([]);
    expect(await s.catalog.listTags(G('shop', 'prod'))).toEqual([]);
  });

  it('a group renamed keeps its id, settings, lock, tags and history; its old name is free for another group', async () => {
    const s = await freshStore(2);
    await s.catalog.createApplication(app('shop'));
    await s.catalog.createDeploymentGroup(group('prod'), tags(['env', 'prod']));
    await s.catalog.createDeploymentGroup(group('beta'));
    await s.deployments.create(deployment('d-AAAAAAAAA', '2026-01-01T00:00:00.000Z'));
    await s.deployments.create(deployment('d-BBBBBBBBB', '2026-01-02T00:00:00.000Z'));
    await s.locks.acquire('shop', 'prod', 'd-BBBBBBBBB');
    await expect(s.catalog.renameDeploymentGroup('shop', 'prod', 'beta')).rejects.toMatchObject({
      exceptionName: 'DeploymentGroupAlreadyExistsException',
    });
    await expect(s.catalog.renameDeploymentGroup('shop', 'nope', 'x')).rejects.toMatchObject({
      exceptionName: 'DeploymentGroupDoesNotExistException',
    });
    await s.catalog.renameDeploymentGroup('shop', 'prod', 'production');
    expect(await s.catalog.getDeploymentGroup('shop', 'prod')).toBeUndefined();
    const moved = (await s.catalog.getDeploymentGroup('shop', 'production'))!;
    expect(moved).toMatchObject({
      deploymentGroupName: 'production',
      deploymentGroupId: 'g-1',
      activeDeploymentId: 'd-BBBBBBBBB',
      hookTimeoutSeconds: 3600,
    });
    expect(Object.keys(moved)).not.toEqual(expect.arrayContaining(['formerNames']));
    expect(await s.catalog.listTags(G('shop', 'production'))).toEqual(tags(['env', 'prod']));
    expect(await s.catalog.listTags(G('shop', 'prod'))).toBeUndefined();
    expect((await s.catalog.listDeploymentGroups('shop')).map((g) => g.deploymentGroupName)).toEqual([
      'beta',
      'production',
    ]);
    expect(await s.deployments.list('shop', 'production')).toEqual(['d-BBBBBBBBB', 'd-AAAAAAAAA']);
    expect(await s.deployments.list('shop', 'production', 1)).toEqual(['d-BBBBBBBBB']);
    // The running deployment finds its group by id under the names it began with.
    expect((await s.catalog.getDeploymentGroup('shop', 'prod', 'g-1'))?.deploymentGroupName).toBe('production');
    // A new group takes the old name: it has none of the renamed group's history, and running deployments
    // still find theirs.
    await s.catalog.createDeploymentGroup({ ...group('prod'), deploymentGroupId: 'g-2' });
    expect(await s.deployments.list('shop', 'prod')).toEqual([]);
    expect((await s.catalog.getDeploymentGroup('shop', 'prod', 'g-1'))?.deploymentGroupName).toBe('production');
    await s.locks.release('shop', 'prod', 'd-BBBBBBBBB', { status: 'Succeeded', createTime: 't0' }, 'g-1');
    expect((await s.catalog.getDeploymentGroup('shop', 'production'))?.activeDeploymentId).toBeUndefined();
    expect((await s.catalog.getDeploymentGroup('shop', 'production'))?.lastSuccessfulDeployment?.deploymentId).toBe(
      'd-BBBBBBBBB',
    );
    expect((await s.catalog.getDeploymentGroup('shop', 'prod'))?.lastAttemptedDeployment).toBeUndefined();
    // Renamed again (twice, and back to a name it had): still one group with its whole history.
    await s.catalog.renameDeploymentGroup('shop', 'production', 'live');
    await s.catalog.renameDeploymentGroup('shop', 'live', 'production');
    expect(await s.deployments.list('shop', 'production')).toEqual(['d-BBBBBBBBB', 'd-AAAAAAAAA']);
    expect(await s.deployments.list('shop', 'live')).toEqual([]);
    expect((await s.catalog.getDeploymentGroup('shop', 'prod', 'g-1'))?.deploymentGroupName).toBe('production');
    expect((await s.catalog.listDeploymentGroups('shop')).map((g) => g.deploymentGroupName)).toEqual([
      'beta',
      'prod',
      'production',
    ]);
  });

  it('an application renamed takes its groups, revisions and tags; locks and histories follow', async () => {
    const s = await freshStore(2);
    await s.catalog.createApplication(app('shop'), tags(['team', 'web']));
    await s.catalog.createApplication(app('books'));
    await s.catalog.createDeploymentGroup(group('prod'), tags(['env', 'prod']));
    await s.catalog.createDeploymentGroup({ ...group('beta'), deploymentGroupId: 'g-2' });
    await s.catalog.registerRevision(
      'shop',
      'k1',
      { revisionType: 'String', string: { content: 'x', sha256: 'k1' } },
      'one',
      't1',
    );
    await s.deployments.create(deployment('d-AAAAAAAAA'));
    await s.locks.acquire('shop', 'prod', 'd-AAAAAAAAA');
    await expect(s.catalog.renameApplication('shop', 'books')).rejects.toMatchObject({
      exceptionName: 'ApplicationAlreadyExistsException',
    });
    await expect(s.catalog.renameApplication('nope', 'x')).rejects.toMatchObject({
      exceptionName: 'ApplicationDoesNotExistException',
    });
    await s.catalog.renameApplication('shop', 'store');
    expect(await s.catalog.getApplication('shop')).toBeUndefined();
    expect(await s.catalog.getApplication('store')).toEqual({ ...app('shop'), applicationName: 'store' });
    expect((await s.catalog.listApplications()).map((a) => a.applicationName)).toEqual(['books', 'store']);
    expect(await s.catalog.listDeploymentGroups('shop')).toEqual([]);
    expect(
      (await s.catalog.listDeploymentGroups('store')).map((g) => [g.applicationName, g.deploymentGroupName]),
    ).toEqual([
      ['store', 'beta'],
      ['store', 'prod'],
    ]);
    expect(await s.catalog.listTags(A('store'))).toEqual(tags(['team', 'web']));
    expect(await s.catalog.listTags(G('store', 'prod'))).toEqual(tags(['env', 'prod']));
    expect((await s.catalog.listRevisions('store')).map((r) => [r.key, r.description])).toEqual([['k1', 'one']]);
    expect(await s.catalog.listRevisions('shop')).toEqual([]);
    expect(await s.deployments.list('store', 'prod')).toEqual(['d-AAAAAAAAA']);
    expect((await s.catalog.getDeploymentGroup('store', 'prod'))?.activeDeploymentId).toBe('d-AAAAAAAAA');
    await s.locks.release('shop', 'prod', 'd-AAAAAAAAA', { status: 'Failed', createTime: 't0' }, 'g-1');
    expect((await s.catalog.getDeploymentGroup('store', 'prod'))?.activeDeploymentId).toBeUndefined();
    // The old name is free again.
    await s.catalog.createApplication(app('shop'));
    expect(await s.catalog.listDeploymentGroups('shop')).toEqual([]);
  });
});
