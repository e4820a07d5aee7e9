/** Hooks that are easy to write: a returned status, InProgress and retry, webhooks, timeout actions. */
import { afterEach, describe, expect, it } from 'vitest';
import { appSpec, testEnv, type SeenEvent, type TestEnv } from '../support/local.js';
import { webhookReceiver, type WebhookReceiver } from '../support/webhooks.js';

let env: TestEnv | undefined;
let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await env?.close();
  await receiver?.close();
  env = receiver = undefined;
});
const entered = (r: { execution: { events: { type: string; state?: string }[] } }) =>
  r.execution.events.filter((e) => e.type === 'StateEntered').map((e) => e.state);

/** A webhook receiver on loopback that only trusts bodies signed with `secret` (closed after the test). */
async function webhook(secret: string): Promise<{ url: string; seen: () => unknown[] }> {
  const r = (receiver = await webhookReceiver(secret));
  return { url: r.url, seen: () => r.accepted.map((a) => a.body) };
}

describe('hooks', () => {
  it('a hook may simply return its status (Succeeded → continues, Failed → rollback)', async () => {
    env = await testEnv();
    env.world.registerHook('ok', async () => ({ status: 'Succeeded' }));
    env.world.registerHook('no', async () => ({ status: 'Failed' }));
    const good = await env.deploy(appSpec({ before: 'ok', after: 'ok' }));
    expect(good.deployment.state.status).toBe('Succeeded');
    expect(good.deployment.state.lifecycleEvents.map((e) => e.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    const bad = await env.deploy(appSpec({ functions: [['api', '2', '1']], after: 'no' }));
    expect(bad.deployment.state).toMatchObject({
      status: 'Failed',
      errorInformation: { code: 'HOOK_EXECUTION_FAILURE' },
    });
    expect(env.world.getAlias('api', 'live').functionVersion).toBe('2');
  });

  it('InProgress with retryAfterSeconds: invoked again later, then Succeeded', async () => {
    env = await testEnv();
    const ids: string[] = [];
    env.world.registerHook('slow', async (event) => {
      ids.push(event.LifecycleEventHookExecutionId);
      return ids.length < 3 ? { status: 'InProgress', retryAfterSeconds: 45 } : { status: 'Succeeded' };
    });
    const r = await env.deploy(appSpec({ before: 'slow' }));
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3); // a fresh execution id per attempt
    expect(entered(r).filter((s) => s === 'WaitToRetryHook')).toHaveLength(2);
  });

  it('a hook that throws fails the deployment at once, without waiting for its timeout', async () => {
    env = await testEnv();
    env.world.registerHook('broken', async () => {
      throw new TypeError('cannot read properties of undefined');
    });
    const r = await env.deploy(appSpec({ before: 'broken' }));
    expect(r.deployment.state).toMatchObject({
      status: 'Failed',
      errorInformation: { code: 'HOOK_EXECUTION_FAILURE' },
    });
    expect(r.deployment.state.errorInformation?.message).toContain('cannot read properties of undefined');
    expect(entered(r)).not.toContain('HookTimedOut');
  });

  it('timeoutAction continue: a silent hook is recorded as timed out and the deployment goes on', async () => {
    env = await testEnv({
      hookConfiguration: { AfterAllowTraffic: { timeoutSeconds: 60, timeoutAction: 'continue' } },
    });
    env.world.registerHook('silent', async () => undefined);
    const r = await env.deploy(appSpec({ after: 'silent' }));
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(r.deployment.state.lifecycleEvents.find((e) => e.lifecycleEventName === 'AfterAllowTraffic')).toMatchObject({
      status: 'Failed',
      diagnostics: { errorCode: 'ScriptTimedOut' },
    });
    expect(r.timeline.map((t) => t.message).join('\n')).toMatch(/continuing \(timeoutAction: continue\)/);
  });

  it('webhook hook: signed with the group secret, its JSON answer counts', async () => {
    const secret = 'a-long-shared-secret-for-hooks';
    const { url, seen: bodies } = await webhook(secret);
    env = await testEnv({ webhookSecret: secret });
    const r = await env.deploy(appSpec({ before: url }));
    expect(r.deployment.state.status).toBe('Succeeded');
    const seen = bodies() as SeenEvent[];
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ DeploymentId: r.deploymentId, LifecycleEventName: 'BeforeAllowTraffic' });
  });

  it('webhook hook: a receiver that rejects the signature fails the deployment before traffic moves', async () => {
    const { url, seen } = await webhook('the-receivers-own-secret-value');
    env = await testEnv({ webhookSecret: 'a-different-secret-altogether' });
    const r = await env.deploy(appSpec({ before: url }));
    expect(r.deployment.state).toMatchObject({
      status: 'Failed',
      errorInformation: { code: 'HOOK_EXECUTION_FAILURE' },
    });
    expect(r.deployment.state.errorInformation?.message).toContain('answered 401');
    expect(r.deployment.state.errorInformation?.message).not.toContain('bad signature'); // the body is never copied
    expect(seen()).toHaveLength(0);
    expect(env.world.calls.UpdateAlias).toBeUndefined();
  });
});

describe('hook targets in records and logs', () => {
  it('a webhook URL is recorded without its query string', async () => {
    const secret = 'another-long-shared-secret';
    const { url } = await webhook(secret);
    env = await testEnv({ webhookSecret: secret });
    const r = await env.deploy(appSpec({ before: `${url}?token=do-not-log-me` }));
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(JSON.stringify(r.timeline)).not.toContain('do-not-log-me');
    expect(JSON.stringify(r.deployment.state.lifecycleEvents)).not.toContain('do-not-log-me');
    expect(r.deployment.state.lifecycleEvents[0]?.hookFunction).toBe(url);
  });
});
