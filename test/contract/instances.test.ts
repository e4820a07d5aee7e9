/**
 * The Instances port against dynalite (DynamoDB's API): on-premises instances by name and by IAM ARN,
 * CodeDeploy's exception names, deregistration that frees the ARN, tag updates by compare-and-set, and
 * what a crash between two writes leaves (nothing that blocks a retry or lies to `byIamArn`).
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient, createDynamoStore } from '../../src/adapters/aws/dynamodb-store.js';
import { localDynamoClient } from '../../src/adapters/aws/local-clients.js';
import { ensureTable } from '../../src/adapters/aws/table.js';
import type { OnPremisesInstance } from '../../src/domain/model.js';
import { startDynalite } from '../../src/local/dynalite.js';

let server: Awaited<ReturnType<typeof startDynalite>>;
let client: ReturnType<typeof localDynamoClient>;
let n = 0;
async function freshStore(pageSize?: number) {
  const table = `i${++n}-${Date.now()}`;
  await ensureTable(client, table);
  const doc = createDocumentClient(client);
  return { ...createDynamoStore(doc, table, pageSize), doc, table };
}
beforeAll(async () => {
  server = await startDynalite();
  client = localDynamoClient(server.endpoint);
});
afterAll(async () => {
  client.destroy();
  await server.close();
});

const user = (name: string) => `arn:aws:iam::111122223333:user/CodeDeploy/${name}`;
const session = (name: string) => `arn:aws:sts::111122223333:assumed-role/CodeDeployInstanceRole/${name}`;
const instance = (name: string, arn: Partial<OnPremisesInstance> = { iamUserArn: user(name) }): OnPremisesInstance => ({
  instanceName: name,
  ...arn,
  instanceArn: `arn:aws:codedeploy:us-east-1:111122223333:instance/${name}`,
  registerTime: '2026-01-01T00:00:00.000Z',
  tags: [],
});

describe('on-premises instances on dynalite', () => {
  it('registers by name, finds by IAM user or session ARN, lists in name order across pages', async () => {
    const s = await freshStore(2);
    await s.instances.register(instance('web-2'));
    await s.instances.register(instance('web-1', { iamSessionArn: session('web-1') }));
    await s.instances.register(instance('web-3'));
    expect(await s.instances.get('web-2')).toEqual(instance('web-2'));
    expect(await s.instances.get('nope')).toBeUndefined();
    expect((await s.instances.byIamArn(user('web-2')))?.instanceName).toBe('web-2');
    expect((await s.instances.byIamArn(session('web-1')))?.instanceName).toBe('web-1');
    expect(await s.instances.byIamArn(user('web-1'))).toBeUndefined();
    expect((await s.instances.list()).map((i) => i.instanceName)).toEqual(['web-1', 'web-2', 'web-3']);
    expect(Object.keys((await s.instances.list())[0]!)).not.toContain('version');
  });

  it('a registered name or ARN is refused with CodeDeploy’s exception; the refused call leaves nothing', async () => {
    const s = await freshStore();
    await s.instances.register(instance('web-1'));
    await s.instances.register(instance('web-2', { iamSessionArn: session('web-2') }));
    await expect(s.instances.register(instance('web-1', { iamUserArn: user('other') }))).rejects.toMatchObject({
      exceptionName: 'InstanceNameAlreadyRegisteredException',
    });
    expect(await s.instances.byIamArn(user('other'))).toBeUndefined();
    await expect(s.instances.register(instance('web-3', { iamUserArn: user('web-1') }))).rejects.toMatchObject({
      exceptionName: 'IamUserArnAlreadyRegisteredException',
      message: expect.stringContaining('by instance web-1'),
    });
    await expect(s.instances.register(instance('web-3', { iamSessionArn: session('web-2') }))).rejects.toMatchObject({
      exceptionName: 'IamSessionArnAlreadyRegisteredException',
    });
    expect(await s.instances.get('web-3')).toBeUndefined();
    expect((await s.instances.byIamArn(user('web-1')))?.instanceName).toBe('web-1');
  });

  it('10 concurrent registrations of one name: exactly one wins; the losers’ ARNs stay free', async () => {
    const s = await freshStore();
    const tries = Array.from({ length: 10 }, (_, i) => instance('web', { iamUserArn: user(`u${i}`) }));
    const results = await Promise.allSettled(tries.map((t) => s.instances.register(t)));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected'))
      expect(r.reason).toMatchObject({ exceptionName: 'InstanceNameAlreadyRegisteredException' });
    for (let i = 0; i < 10; i++)
      expect((await s.instances.byIamArn(user(`u${i}`)))?.instanceName).toBe(i === won[0] ? 'web' : undefined);
    await s.instances.register(instance('other', { iamUserArn: user(`u${(won[0]! + 1) % 10}`) }));
  });

  it('10 concurrent registrations of one ARN under different names: exactly one wins', async () => {
    const s = await freshStore();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => s.instances.register(instance(`web-${i}`, { iamUserArn: user('shared') }))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const holder = await s.instances.byIamArn(user('shared'));
    expect(holder).toBeDefined();
    expect((await s.instances.list()).map((i) => i.instanceName)).toEqual([holder!.instanceName]);
  });

  it('deregistering keeps the record and tags, frees the ARN, is idempotent; the name can be registered again', async () => {
    const s = await freshStore();
    await s.instances.register(instance('web-1'));
    await s.instances.updateTags('web-1', () => [{ Key: 'Name', Value: 'web' }]);
    await s.instances.deregister('web-1', '2026-01-02T00:00:00.000Z');
    await s.instances.deregister('web-1', '2026-01-03T00:00:00.000Z');
    await s.instances.deregister('never-registered', '2026-01-03T00:00:00.000Z');
    expect(await s.instances.get('web-1')).toEqual({
      ...instance('web-1'),
      deregisterTime: '2026-01-02T00:00:00.000Z',
      tags: [{ Key: 'Name', Value: 'web' }],
    });
    expect(await s.instances.byIamArn(user('web-1'))).toBeUndefined();
    await expect(s.instances.updateTags('web-1', (t) => t)).rejects.toMatchObject({
      exceptionName: 'InstanceNotRegisteredException',
    });
    // The ARN is free for another name; the old name can be registered again, fresh.
    await s.instances.register(instance('web-9', { iamUserArn: user('web-1') }));
    expect((await s.instances.byIamArn(user('web-1')))?.instanceName).toBe('web-9');
    await s.instances.register({ ...instance('web-1', { iamUserArn: user('new') }), registerTime: 't2' });
    expect(await s.instances.get('web-1')).toEqual({
      ...instance('web-1', { iamUserArn: user('new') }),
      registerTime: 't2',
    });
  });

  it('a claim left by a crash (its instance never written, or holding another ARN) is not trusted and is taken over', async () => {
    const s = await freshStore();
    const claim = (arn: string, name: string) =>
      s.doc.send(
        new PutCommand({
          TableName: s.table,
          Item: { pk: `IAMARN#${arn}`, sk: 'IAMARN', iamArn: arn, instanceName: name },
        }),
      );
    await claim(user('ghost'), 'ghost');
    expect(await s.instances.byIamArn(user('ghost'))).toBeUndefined();
    await s.instances.register(instance('real', { iamUserArn: user('ghost') }));
    expect((await s.instances.byIamArn(user('ghost')))?.instanceName).toBe('real');
    await s.instances.register(instance('web-1'));
    await claim(user('web-1-old'), 'web-1'); // web-1 holds another ARN: this claim is stale
    expect(await s.instances.byIamArn(user('web-1-old'))).toBeUndefined();
    await s.instances.register(instance('web-2', { iamUserArn: user('web-1-old') }));
    expect((await s.instances.byIamArn(user('web-1-old')))?.instanceName).toBe('web-2');
  });

  it('tags: a change applies to the tags as they are; concurrent changes are all kept', async () => {
    const s = await freshStore();
    await s.instances.register(instance('web-1'));
    await expect(s.instances.updateTags('nope', (t) => t)).rejects.toMatchObject({
      exceptionName: 'InstanceNotRegisteredException',
    });
    await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        s.instances.updateTags('web-1', (tags) => [...tags, { Key: `k${i}`, Value: `v${i}` }]),
      ),
    );
    const tags = (await s.instances.get('web-1'))!.tags;
    expect(tags.map((t) => t.Key).sort()).toEqual(['k0', 'k1', 'k2', 'k3']);
    expect(await s.instances.updateTags('web-1', (t) => t.filter((x) => x.Key !== 'k0'))).toHaveLength(3);
  });
});
