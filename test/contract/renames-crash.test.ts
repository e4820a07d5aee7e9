/**
 * Renames on dynalite, crashed at every write: the DynamoDB adapter moves a group (and an application with its
 * groups) with conditional writes only, no transactions (dynalite has none). Each case lets the rename run until
 * its n-th request, then stops the process there (the request not applied, or applied with its answer lost), for
 * every n until the rename runs to its end. A new process on the same table must then see the group under
 * exactly one of the two names, with its id, lock and tags, and the same call again must finish the rename.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient, createDynamoStore } from '../../src/adapters/aws/dynamodb-store.js';
import { localDynamoClient } from '../../src/adapters/aws/local-clients.js';
import { ensureTable } from '../../src/adapters/aws/table.js';
import type { DeploymentGroup } from '../../src/domain/model.js';
import { startDynalite } from '../../src/local/dynalite.js';

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

class Crash extends Error {}

/**
 * A document client that dies at its `at`-th request (from 0): `before`, the request is not sent; `after`, it is
 * applied and its answer lost. Every request after that fails too: the process is gone.
 */
function dying(doc: DynamoDBDocumentClient, at: number, when: 'before' | 'after') {
  let sent = 0;
  let dead = false;
  const send = async (command: never) => {
    if (dead) throw new Crash('the process is gone');
    const k = sent++;
    if (k === at && when === 'before') {
      dead = true;
      throw new Crash(`crashed before request ${k}`);
    }
    const r = await doc.send(command);
    if (k === at) {
      dead = true;
      throw new Crash(`crashed after request ${k}`);
    }
    return r;
  };
  return { doc: new Proxy(doc, { get: (t, p) => (p === 'send' ? send : Reflect.get(t, p)) }), sent: () => sent };
}

const group = (name: string, id: string): DeploymentGroup => ({
  applicationName: 'shop',
  deploymentGroupName: name,
  deploymentGroupId: id,
  computePlatform: 'Lambda',
  deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
  alarmConfiguration: { enabled: false, ignorePollAlarmFailure: false, alarms: [] },
  autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
  triggerConfigurations: [],
  hookTimeoutSeconds: 3600,
  createTime: '2026-01-01T00:00:00.000Z',
});

async function fresh() {
  const table = `r${++n}-${Date.now()}`;
  await ensureTable(client, table);
  const doc = createDocumentClient(client);
  const s = createDynamoStore(doc, table, 2);
  await s.catalog.createApplication({
    applicationId: 'a-1',
    applicationName: 'shop',
    computePlatform: 'Lambda',
    createTime: 't',
  });
  await s.catalog.createDeploymentGroup(group('prod', 'g-1'), [{ Key: 'env', Value: 'prod' }]);
  await s.catalog.createDeploymentGroup(group('beta', 'g-2'));
  await s.locks.acquire('shop', 'prod', 'd-AAAAAAAAA');
  return { doc, table, s };
}

/** Where the groups of `app` are, as a new process sees them. */
async function names(s: ReturnType<typeof createDynamoStore>, app: string) {
  return (await s.catalog.listDeploymentGroups(app)).map(
    (g) => `${g.applicationName}/${g.deploymentGroupName}:${g.deploymentGroupId}`,
  );
}

describe('renames crashed at every request (dynalite)', () => {
  for (const when of ['before', 'after'] as const) {
    it(`a group rename, the process dying ${when} its n-th request: one group, then the retry finishes`, async () => {
      let finished = false;
      for (let at = 0; !finished && at < 40; at++) {
        const { doc, table, s } = await fresh();
        const d = dying(doc, at, when);
        const crashing = createDynamoStore(d.doc, table, 2);
        try {
          await crashing.catalog.renameDeploymentGroup('shop', 'prod', 'live');
          finished = true; // no crash: every request of the rename ran
        } catch (e) {
          if (!(e instanceof Crash)) throw e;
        }
        const seen = await names(s, 'shop');
        const where = seen.filter((x) => x.endsWith(':g-1'));
        expect(where, `crash ${when} request ${at}: ${seen.join(', ')}`).toHaveLength(1);
        expect(['shop/prod:g-1', 'shop/live:g-1']).toContain(where[0]);
        expect(seen).toContain('shop/beta:g-2');
        const [, name] = where[0]!.split(/[/:]/);
        expect((await s.catalog.getDeploymentGroup('shop', name!))?.activeDeploymentId).toBe('d-AAAAAAAAA');
        expect(await s.catalog.getDeploymentGroup('shop', name === 'prod' ? 'live' : 'prod')).toBeUndefined();
        expect((await s.catalog.getDeploymentGroup('shop', 'prod', 'g-1'))?.deploymentGroupName).toBe(name);
        // The lock holds wherever the group is: nobody else takes it under either name.
        await expect(s.locks.acquire('shop', name!, 'd-BBBBBBBBB')).rejects.toMatchObject({
          exceptionName: 'DeploymentLimitExceededException',
        });
        await expect(s.locks.acquire('shop', name === 'prod' ? 'live' : 'prod', 'd-BBBBBBBBB')).rejects.toMatchObject({
          exceptionName: 'DeploymentGroupDoesNotExistException',
        });
        // The same call again ends with the group renamed, once.
        if (name === 'prod') await s.catalog.renameDeploymentGroup('shop', 'prod', 'live');
        expect(await names(s, 'shop')).toEqual(['shop/beta:g-2', 'shop/live:g-1']);
        expect(
          await s.catalog.listTags({ kind: 'deploymentGroup', applicationName: 'shop', deploymentGroupName: 'live' }),
        ).toEqual([{ Key: 'env', Value: 'prod' }]);
        // The running deployment's release, by the names it began with, frees the group.
        await s.locks.release('shop', 'prod', 'd-AAAAAAAAA', { status: 'Succeeded', createTime: 't' }, 'g-1');
        expect((await s.catalog.getDeploymentGroup('shop', 'live'))?.activeDeploymentId).toBeUndefined();
        // The old name can be taken by a new group.
        await s.catalog.createDeploymentGroup(group('prod', 'g-3'));
        expect(await names(s, 'shop')).toEqual(['shop/beta:g-2', 'shop/live:g-1', 'shop/prod:g-3']);
      }
      expect(finished).toBe(true);
    });

    it(`an application rename, the process dying ${when} its n-th request: all under one name once read`, async () => {
      let finished = false;
      for (let at = 0; !finished && at < 80; at++) {
        const { doc, table, s } = await fresh();
        const d = dying(doc, at, when);
        const crashing = createDynamoStore(d.doc, table, 2);
        try {
          await crashing.catalog.renameApplication('shop', 'store');
          finished = true;
        } catch (e) {
          if (!(e instanceof Crash)) throw e;
        }
        const old = await s.catalog.getApplication('shop');
        const now = await s.catalog.getApplication('store');
        expect(Boolean(old) !== Boolean(now), `crash ${when} request ${at}: exactly one application`).toBe(true);
        const app = old ? 'shop' : 'store';
        expect(await names(s, app)).toEqual([`${app}/beta:g-2`, `${app}/prod:g-1`]);
        expect(await names(s, old ? 'store' : 'shop')).toEqual([]);
        expect((await s.catalog.listApplications()).map((a) => a.applicationName)).toEqual([app]);
        expect((await s.catalog.getDeploymentGroup(app, 'prod'))?.activeDeploymentId).toBe('d-AAAAAAAAA');
        if (old) await s.catalog.renameApplication('shop', 'store');
        expect(await names(s, 'store')).toEqual(['store/beta:g-2', 'store/prod:g-1']);
        await s.locks.release('shop', 'prod', 'd-AAAAAAAAA', { status: 'Failed', createTime: 't' }, 'g-1');
        expect((await s.catalog.getDeploymentGroup('store', 'prod'))?.activeDeploymentId).toBeUndefined();
      }
      expect(finished).toBe(true);
    });
  }
});
