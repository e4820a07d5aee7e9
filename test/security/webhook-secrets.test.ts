/**
 * Webhook secrets live behind the Secrets port (ADR 25): through the API, the group's record keeps only a
 * reference, the webhook is signed with the value it names, a new secret is a new version, deleting the group
 * or its application deletes the secret, a client cannot point a group at another group's secret, and a record
 * written before 0.2 (with the secret itself) still signs and is moved out of the table by its next update.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/api/operations.js';
import { SECRET_GONE } from '../../src/adapters/system/secret-refs.js';
import type { DeploymentGroup } from '../../src/domain/model.js';
import { appSpec, testEnv, type TestEnv } from '../support/local.js';
import { webhookReceiver, type WebhookReceiver } from '../support/webhooks.js';

const FIRST = 'the-first-webhook-secret-value';
const SECOND = 'the-second-webhook-secret-value';

let env: TestEnv | undefined;
let opened: WebhookReceiver | undefined;
afterEach(async () => {
  await env?.close();
  await opened?.close();
  env = opened = undefined;
});
/** The loopback receiver of this test (closed after it). */
const receiver = async () => (opened = await webhookReceiver());
const signedBy = (h: WebhookReceiver) => h.accepted.map((a) => a.secret);

async function api(operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await env!.work!.during(dispatch(operation, input, env!.deps, env!.viewFor));
  if ('error' in r) throw new Error(`${operation}: ${r.error.__type}: ${r.error.message}`);
  return r.output as Record<string, unknown>;
}
const group = async (name = 'prod', app = 'shop'): Promise<DeploymentGroup> =>
  (await env!.deps.catalog.getDeploymentGroup(app, name))!;
const lambdaGroup = (name: string, extra: Record<string, unknown> = {}) => ({
  applicationName: 'shop',
  deploymentGroupName: name,
  deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
  ...extra,
});
/** Deploy api:live 1 → 2 (or `functions`) with the webhook before traffic; the deployment's state. */
const statusOf = async (url: string, functions?: [string, string, string][]) =>
  (await env!.deploy(appSpec({ before: url, ...(functions ? { functions } : {}) }))).deployment.state;

describe('webhook secrets through the API', () => {
  it('the record keeps a reference, never the value; the webhook is signed with the value it names', async () => {
    env = await testEnv();
    const hook = await receiver();
    await api('UpdateDeploymentGroup', {
      applicationName: 'shop',
      currentDeploymentGroupName: 'prod',
      webhookSecret: FIRST,
    });
    const record = await group();
    expect(record.webhookSecretRef).toMatch(new RegExp(`/${record.deploymentGroupId}:1$`));
    expect(record.webhookSecret).toBeUndefined();
    expect(JSON.stringify(record)).not.toContain(FIRST);
    const got = await api('GetDeploymentGroup', { applicationName: 'shop', deploymentGroupName: 'prod' });
    expect(JSON.stringify(got)).not.toContain(FIRST);
    expect(JSON.stringify(got)).not.toContain(record.webhookSecretRef!);
    expect(got).toMatchObject({ deploymentGroupInfo: { cutover: { webhookSecretSet: true } } });

    hook.trust(FIRST);
    expect((await statusOf(hook.url)).status).toBe('Succeeded');
    expect(signedBy(hook)).toEqual([FIRST]);
  });

  it('a new secret is a new version and signs from then on; an update without one keeps it', async () => {
    env = await testEnv({ webhookSecret: FIRST });
    const hook = await receiver();
    const before = (await group()).webhookSecretRef!;
    await api('UpdateDeploymentGroup', {
      applicationName: 'shop',
      currentDeploymentGroupName: 'prod',
      webhookSecret: SECOND,
    });
    const after = (await group()).webhookSecretRef!;
    expect(after).not.toBe(before);
    hook.trust(FIRST);
    expect((await statusOf(hook.url)).errorInformation?.message).toContain('answered 401');
    hook.trust(SECOND);
    expect((await statusOf(hook.url)).status).toBe('Succeeded');

    await api('UpdateDeploymentGroup', {
      applicationName: 'shop',
      currentDeploymentGroupName: 'prod',
      newDeploymentGroupName: 'live',
      hookTimeoutSeconds: 600,
    });
    expect((await group('live')).webhookSecretRef).toBe(after);
  });

  it('a client cannot name a reference: webhookSecretRef in a request is ignored', async () => {
    env = await testEnv({ webhookSecret: FIRST });
    const stolen = (await group()).webhookSecretRef!;
    await api('CreateDeploymentGroup', lambdaGroup('thief', { webhookSecretRef: stolen }));
    await api('UpdateDeploymentGroup', {
      applicationName: 'shop',
      currentDeploymentGroupName: 'prod',
      webhookSecretRef: `${stolen.split(':')[0]}:7`,
    });
    expect((await group('thief')).webhookSecretRef).toBeUndefined();
    expect((await group()).webhookSecretRef).toBe(stolen);
    const got = await api('GetDeploymentGroup', { applicationName: 'shop', deploymentGroupName: 'thief' });
    expect(got).toMatchObject({ deploymentGroupInfo: { cutover: { webhookSecretSet: false } } });
  });

  it('deleting a group, or its application, deletes its secret', async () => {
    env = await testEnv();
    await api('CreateDeploymentGroup', lambdaGroup('one', { webhookSecret: FIRST }));
    await api('CreateDeploymentGroup', lambdaGroup('two', { webhookSecret: SECOND }));
    const one = (await group('one')).webhookSecretRef!;
    const two = (await group('two')).webhookSecretRef!;
    await api('DeleteDeploymentGroup', { applicationName: 'shop', deploymentGroupName: 'one' });
    await expect(env.deps.secrets.get(one)).rejects.toThrow(SECRET_GONE);
    expect(await env.deps.secrets.get(two)).toBe(SECOND);
    await api('DeleteApplication', { applicationName: 'shop' });
    await expect(env.deps.secrets.get(two)).rejects.toThrow(SECRET_GONE);
  });

  it('a group whose secret is gone fails its webhook with the fixed message, before traffic moves', async () => {
    env = await testEnv({ webhookSecret: FIRST });
    const hook = await receiver();
    hook.trust(FIRST);
    await env.deps.secrets.remove((await group()).deploymentGroupId);
    const state = await statusOf(hook.url);
    expect(state).toMatchObject({ status: 'Failed', errorInformation: { code: 'HOOK_EXECUTION_FAILURE' } });
    expect(state.errorInformation?.message).toContain(SECRET_GONE);
    expect(signedBy(hook)).toEqual([]);
    expect(env.world.calls.UpdateAlias).toBeUndefined();
  });

  it('a record written before 0.2 still signs, and its next update moves the secret out of the table', async () => {
    env = await testEnv();
    const hook = await receiver();
    hook.trust(FIRST);
    const legacy = await group();
    await env.deps.catalog.updateDeploymentGroup({ ...legacy, webhookSecret: FIRST });
    expect((await group()).webhookSecret).toBe(FIRST);
    expect((await statusOf(hook.url)).status).toBe('Succeeded');

    await api('UpdateDeploymentGroup', {
      applicationName: 'shop',
      currentDeploymentGroupName: 'prod',
      hookTimeoutSeconds: 900,
    });
    const moved = await group();
    expect(moved.webhookSecret).toBeUndefined();
    expect(JSON.stringify(moved)).not.toContain(FIRST);
    expect(await env.deps.secrets.get(moved.webhookSecretRef!)).toBe(FIRST);
    expect((await statusOf(hook.url, [['api', '2', '1']])).status).toBe('Succeeded'); // and back to 1
    expect(signedBy(hook)).toEqual([FIRST, FIRST]);
  });

  it('a group that could not be created leaves no secret behind', async () => {
    env = await testEnv();
    const failing = env.deps.catalog.createDeploymentGroup.bind(env.deps.catalog);
    let put: string | undefined;
    const secrets = env.deps.secrets;
    const realPut = secrets.put.bind(secrets);
    secrets.put = async (owner, value) => (put = await realPut(owner, value));
    env.deps.catalog.createDeploymentGroup = async () => {
      throw new Error('the table is unavailable');
    };
    const r = await env.work!.during(
      dispatch('CreateDeploymentGroup', lambdaGroup('doomed', { webhookSecret: FIRST }), env.deps, env.viewFor),
    );
    env.deps.catalog.createDeploymentGroup = failing;
    expect(r).toMatchObject({ error: {} });
    expect(put).toBeDefined();
    await expect(secrets.get(put!)).rejects.toThrow(SECRET_GONE);
  });
});
