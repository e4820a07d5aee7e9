/** DynamoDeploymentStore against dynalite (DynamoDB's API): conditional writes, the group lock, CAS updates. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDeploymentStore, createDocumentClient } from '../../src/adapters/aws/dynamodb-store.js';
import { ensureTable } from '../../src/adapters/aws/table.js';
import { ApiError, InternalError } from '../../src/domain/errors.js';
import { newDeploymentId } from '../../src/domain/ids.js';
import type { Deployment, DeploymentGroup } from '../../src/domain/model.js';
import { localDynamoClient, startDynalite } from '../../src/local/dynalite.js';

let server: Awaited<ReturnType<typeof startDynalite>>;
let client: ReturnType<typeof localDynamoClient>;
let n = 0;
async function freshStore(pageSize?: number) {
  const table = `t${++n}-${Date.now()}`;
  await ensureTable(client, table);
  return new DynamoDeploymentStore(createDocumentClient(client), table, pageSize);
}
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
  applicationName: 'shop',
  deploymentGroupName: 'prod',
  deploymentGroupId: 'g-1',
  deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
  computePlatform: 'Lambda',
  status: 'Created',
  creator: 'user',
  revision: { revisionType: 'AppSpecContent', appSpecContent: { content: 'x', sha256: 'y' } },
  createTime,
  autoRollbackConfiguration: { enabled: true, events: [] },
  functions: [],
  hooks: {},
  targetWeight: 0,
  lifecycleEvents: [],
  version: 1,
});

describe('DynamoDeploymentStore on dynalite', () => {
  it('applications, groups and configs: create once, read back, duplicates named like CodeDeploy', async () => {
    const s = await freshStore();
    await s.createApplication({
      applicationId: 'a-1',
      applicationName: 'shop',
      computePlatform: 'Lambda',
      createTime: 'now',
    });
    expect(await s.getApplication('shop')).toEqual({
      applicationId: 'a-1',
      applicationName: 'shop',
      computePlatform: 'Lambda',
      createTime: 'now',
    });
    await expect(
      s.createApplication({
        applicationId: 'a-2',
        applicationName: 'shop',
        computePlatform: 'Lambda',
        createTime: 'now',
      }),
    ).rejects.toMatchObject({
      exceptionName: 'ApplicationAlreadyExistsException',
    });
    expect((await s.getApplication('shop'))?.applicationId).toBe('a-1');
    await s.createDeploymentGroup(group());
    await expect(s.createDeploymentGroup(group())).rejects.toMatchObject({
      exceptionName: 'DeploymentGroupAlreadyExistsException',
    });
    await s.createDeploymentConfig({
      deploymentConfigName: 'c',
      deploymentConfigId: 'c-1',
      computePlatform: 'Lambda',
      trafficRoutingConfig: { type: 'AllAtOnce' },
      createTime: 'now',
    });
    await expect(
      s.createDeploymentConfig({
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
    await s.createDeploymentGroup(group());
    await s.lockGroup('shop', 'prod', 'd-AAAAAAAAA');
    await s.updateDeploymentGroup({
      ...group(),
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      hookTimeoutSeconds: 60,
    });
    const g = await s.getDeploymentGroup('shop', 'prod');
    expect(g).toMatchObject({
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      hookTimeoutSeconds: 60,
      activeDeploymentId: 'd-AAAAAAAAA',
      deploymentGroupId: 'g-1',
    });
    await expect(s.updateDeploymentGroup({ ...group('other') })).rejects.toMatchObject({
      exceptionName: 'DeploymentGroupDoesNotExistException',
    });
    expect(await s.getDeploymentGroup('shop', 'other')).toBeUndefined();
  });

  it('50 concurrent locks on one group: exactly one wins, 49 get CodeDeploy’s message naming the winner', async () => {
    const s = await freshStore();
    await s.createDeploymentGroup(group());
    const ids = Array.from({ length: 50 }, () => newDeploymentId());
    const results = await Promise.allSettled(ids.map((id) => s.lockGroup('shop', 'prod', id)));
    const won = ids.filter((_, i) => results[i]!.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const holder = (await s.getDeploymentGroup('shop', 'prod'))?.activeDeploymentId;
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
    await s.createDeploymentGroup(group());
    await expect(s.lockGroup('shop', 'nope', 'd-AAAAAAAAA')).rejects.toMatchObject({
      exceptionName: 'DeploymentGroupDoesNotExistException',
    });
    await s.lockGroup('shop', 'prod', 'd-AAAAAAAAA');
    await s.lockGroup('shop', 'prod', 'd-AAAAAAAAA');
    await s.releaseGroup('shop', 'prod', 'd-BBBBBBBBB', { status: 'Failed', createTime: 't' });
    expect((await s.getDeploymentGroup('shop', 'prod'))?.activeDeploymentId).toBe('d-AAAAAAAAA');
    await s.releaseGroup('shop', 'prod', 'd-AAAAAAAAA', {
      status: 'Succeeded',
      createTime: 't0',
      endTime: 't1',
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: 'c', sha256: 's' } },
    });
    const g = await s.getDeploymentGroup('shop', 'prod');
    expect(g?.activeDeploymentId).toBeUndefined();
    expect(g?.lastSuccessfulDeployment).toEqual({
      deploymentId: 'd-AAAAAAAAA',
      status: 'Succeeded',
      createTime: 't0',
      endTime: 't1',
    });
    expect(g?.lastSuccessfulRevision).toMatchObject({ revisionType: 'AppSpecContent' });
    await s.lockGroup('shop', 'prod', 'd-CCCCCCCCC');
    expect((await s.getDeploymentGroup('shop', 'prod'))?.activeDeploymentId).toBe('d-CCCCCCCCC');
  });

  it('deployments: compare-and-set updates; a stale version changes nothing; undefined removes a field', async () => {
    const s = await freshStore();
    await s.createDeployment(deployment('d-AAAAAAAAA'));
    await expect(s.createDeployment(deployment('d-AAAAAAAAA'))).rejects.toBeInstanceOf(InternalError);
    const v2 = await s.updateDeployment('d-AAAAAAAAA', 1, {
      status: 'InProgress',
      currentWait: { kind: 'bake', token: 't', since: 'now' },
    });
    expect(v2).toMatchObject({ status: 'InProgress', version: 2, currentWait: { token: 't' } });
    await expect(s.updateDeployment('d-AAAAAAAAA', 1, { status: 'Failed' })).rejects.toBeInstanceOf(InternalError);
    expect((await s.getDeployment('d-AAAAAAAAA'))?.status).toBe('InProgress');
    const v3 = await s.updateDeployment('d-AAAAAAAAA', 2, { currentWait: undefined, targetWeight: 10 });
    expect(v3.currentWait).toBeUndefined();
    expect(v3).toMatchObject({ version: 3, targetWeight: 10 });
    expect(Object.keys(v3)).not.toContain('pk');
  });

  it('timeline in time order; deployments of a group listed newest first across pages', async () => {
    const s = await freshStore(2);
    for (const [i, at] of [
      '2026-01-01T00:00:03.000Z',
      '2026-01-01T00:00:01.000Z',
      '2026-01-01T00:00:02.000Z',
    ].entries()) {
      await s.appendTimeline('d-AAAAAAAAA', { at, event: `e${i}`, message: 'm' });
    }
    expect((await s.getTimeline('d-AAAAAAAAA')).map((e) => e.event)).toEqual(['e1', 'e2', 'e0']);
    const ids = ['d-000000001', 'd-000000002', 'd-000000003', 'd-000000004', 'd-000000005'];
    for (const [i, id] of ids.entries()) await s.createDeployment(deployment(id, `2026-01-0${i + 1}T00:00:00.000Z`));
    expect(await s.listDeployments('shop', 'prod')).toEqual([...ids].reverse());
  });

  it('hook executions complete exactly once', async () => {
    const s = await freshStore();
    await s.putHookExecution({
      hookExecutionId: 'h1',
      deploymentId: 'd-AAAAAAAAA',
      lifecycleEventName: 'BeforeAllowTraffic',
      taskToken: 'tok',
      status: 'InProgress',
    });
    const both = await Promise.all([
      s.completeHookExecution('h1', 'Succeeded'),
      s.completeHookExecution('h1', 'Failed'),
    ]);
    expect(both.filter(Boolean)).toHaveLength(1);
    expect(await s.completeHookExecution('h1', 'Succeeded')).toBe(false);
    expect(await s.completeHookExecution('missing', 'Succeeded')).toBe(false);
  });
});
