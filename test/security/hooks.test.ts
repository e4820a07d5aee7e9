/**
 * Hooks are no SSRF (issue #14): every refused address class, as a literal and as a name that
 * resolves to it (an injected resolver: no real DNS), IPv4-mapped and other embedding IPv6 forms,
 * pinning (the connection goes to the checked address, resolved once), redirects not followed, a
 * refused answer's body never recorded, a bounded answer, timestamped signatures and the receiver's
 * replay window, and Lambda hooks outside the stack's hookFunctions.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyCutoverSignature } from '../../examples/hooks/verify-webhook.mjs';
import {
  AllowedFunctionsHookInvoker,
  MAX_WEBHOOK_ANSWER_BYTES,
  WebhookHookInvoker,
  type Resolver,
} from '../../src/adapters/hook-invokers.js';
import { dispatch } from '../../src/api/operations.js';
import { classifyAddress } from '../../src/domain/addresses.js';
import { DependencyRejectedError } from '../../src/domain/errors.js';
import { STRICT_HOOK_TARGETS, functionRefusal, type HookTargetPolicy } from '../../src/domain/hook-targets.js';
import type { HookInvoker } from '../../src/ports/index.js';
import { appSpec, testEnv, type TestEnv } from '../support/local.js';

const SECRET = 'a-long-shared-secret-for-hooks';
const LOCAL: HookTargetPolicy = { loopbackWebhooks: true };
const payload = { DeploymentId: 'd-AAAAAAAAA', LifecycleEventHookExecutionId: 'x'.repeat(64) };

let servers: Server[] = [];
let env: TestEnv | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

/** A receiver on loopback; each request's method, Host, headers and body are kept in `seen`. */
async function sink(
  answer: (req: IncomingMessage, body: string, res: ServerResponse) => void,
): Promise<{ port: number; seen: { host?: string; body: string; signature?: string }[] }> {
  const seen: { host?: string; body: string; signature?: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const sig = req.headers['x-cutover-signature'];
      seen.push({
        ...(req.headers.host ? { host: req.headers.host } : {}),
        body,
        ...(typeof sig === 'string' ? { signature: sig } : {}),
      });
      answer(req, body, res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, seen };
}

/** A resolver from a table, counting lookups; a name it lacks does not resolve. */
function table(names: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = (async (host: string) => {
    calls.push(host);
    const list = names[host];
    if (!list) throw Object.assign(new Error(`no ${host}`), { code: 'ENOTFOUND' });
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  }) as Resolver & { calls: string[] };
  resolve.calls = calls;
  return resolve;
}

const refusal = async (p: Promise<unknown>): Promise<string> => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DependencyRejectedError);
  return (e as Error).message;
};

/** Addresses no webhook may reach on AWS, each with its class, in the forms an attacker would write. */
const REFUSED: [address: string, kind: string][] = [
  ['169.254.169.254', 'metadata'],
  ['169.254.170.2', 'metadata'],
  ['fd00:ec2::254', 'metadata'],
  ['::ffff:169.254.169.254', 'metadata'],
  ['::ffff:a9fe:a9fe', 'metadata'],
  ['64:ff9b::a9fe:a9fe', 'metadata'], // NAT64
  ['2002:a9fe:a9fe::1', 'metadata'], // 6to4
  ['169.254.1.1', 'link-local'],
  ['fe80::1', 'link-local'],
  ['febf::1', 'link-local'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['::1', 'loopback'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:0:127.0.0.1', 'loopback'],
  ['::127.0.0.1', 'loopback'],
  ['10.0.0.1', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['100.64.0.1', 'private'],
  ['100.127.255.255', 'private'],
  ['::ffff:10.0.0.1', 'private'],
  ['fc00::1', 'private'],
  ['fd12:3456::1', 'private'],
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['::', 'unspecified'],
  ['::ffff:0.0.0.0', 'unspecified'],
  ['224.0.0.1', 'multicast'],
  ['ff02::1', 'multicast'],
  ['::ffff:224.0.0.1', 'multicast'],
  ['255.255.255.255', 'broadcast'],
];
const PUBLIC = ['93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:93.184.216.34', '1.1.1.1'];

describe('the SSRF address list', () => {
  it.each(REFUSED)('%s is %s', (address, kind) => expect(classifyAddress(address)).toBe(kind));
  it.each(PUBLIC)('%s is public', (address) => expect(classifyAddress(address)).toBe('public'));

  it.each(REFUSED)('https://[%s] as a literal is refused before any connection (AWS policy)', async (address) => {
    const resolve = table({});
    const invoker = new WebhookHookInvoker({ policy: STRICT_HOOK_TARGETS, resolve });
    const host = address.includes(':') ? `[${address}]` : address;
    const msg = await refusal(invoker.invoke(`https://${host}/hook`, payload, { webhookSecret: SECRET }));
    expect(msg).toMatch(/address|never|webhook target/);
    expect(resolve.calls).toEqual([]);
  });

  it('numeric shorthands the URL parser turns into loopback or metadata are refused too', async () => {
    const invoker = new WebhookHookInvoker({ policy: STRICT_HOOK_TARGETS, resolve: table({}) });
    for (const url of [
      'https://2130706433/',
      'https://0x7f.1/',
      'https://127.1/',
      'https://0251.0376.0251.0376/',
      'https://[::ffff:7f00:1]/',
    ])
      expect(await refusal(invoker.invoke(url, payload, { webhookSecret: SECRET }))).toMatch(/address/);
  });

  it.each(REFUSED)('a name resolving to %s is refused (every address is checked)', async (address) => {
    const resolve = table({ 'hooks.attacker.example': ['93.184.216.34', address] });
    const invoker = new WebhookHookInvoker({ policy: STRICT_HOOK_TARGETS, resolve });
    const msg = await refusal(invoker.invoke('https://hooks.attacker.example/x', payload, { webhookSecret: SECRET }));
    expect(msg).toContain(`resolves to ${address}`);
    expect(resolve.calls).toEqual(['hooks.attacker.example']);
  });

  it('the allow-list opens private addresses of the hosts it names, never metadata or link-local', async () => {
    const resolve = table({
      'ci.internal': ['10.1.2.3'],
      'meta.internal': ['169.254.169.254'],
      'other.internal': ['10.1.2.4'],
    });
    const invoker = new WebhookHookInvoker({ policy: STRICT_HOOK_TARGETS, resolve, timeoutMs: 200 });
    const opts = { webhookSecret: SECRET, webhookAllowedHosts: ['ci.internal', 'meta.internal'] };
    // Allowed: it gets as far as connecting (10.1.2.3 is not there: unavailable, not refused).
    const e = await invoker.invoke('https://ci.internal/x', payload, opts).catch((err: unknown) => err);
    expect(e).not.toBeInstanceOf(DependencyRejectedError);
    expect(await refusal(invoker.invoke('https://meta.internal/x', payload, opts))).toMatch(/never a webhook target/);
    expect(await refusal(invoker.invoke('https://other.internal/x', payload, opts))).toMatch(
      /only when the deployment group's webhookAllowedHosts names other\.internal/,
    );
  });

  it('plain http: refused on AWS; locally only to loopback', async () => {
    const resolve = table({ 'localhost.evil': ['10.0.0.5'], 'public.example': ['93.184.216.34'] });
    const aws = new WebhookHookInvoker({ policy: STRICT_HOOK_TARGETS, resolve });
    expect(await refusal(aws.invoke('http://public.example/x', payload, { webhookSecret: SECRET }))).toMatch(/https/);
    const local = new WebhookHookInvoker({ policy: LOCAL, resolve });
    expect(await refusal(local.invoke('http://public.example/x', payload, { webhookSecret: SECRET }))).toMatch(
      /only to loopback, and public.example resolves to 93.184.216.34/,
    );
    expect(await refusal(local.invoke('http://localhost.evil/x', payload, { webhookSecret: SECRET }))).toMatch(
      /a private or reserved address/,
    );
  });
});

describe('the connection', () => {
  it('is pinned to the checked address: the name is resolved once, by the injected resolver only', async () => {
    const { port, seen } = await sink((_req, _body, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"Succeeded"}'),
    );
    // hooks.test exists only in this table: had Node resolved it again, the request would fail.
    const resolve = table({ 'hooks.test': ['127.0.0.1'] });
    const invoker = new WebhookHookInvoker({ policy: LOCAL, resolve });
    const answer = await invoker.invoke(`http://hooks.test:${port}/pre`, payload, { webhookSecret: SECRET });
    expect(answer).toEqual({ status: 'Succeeded' });
    expect(resolve.calls).toEqual(['hooks.test']);
    expect(seen.map((s) => s.host)).toEqual([`hooks.test:${port}`]);
  });

  it('a DNS rebind after the check cannot win: a second answer is never asked for', async () => {
    const { port, seen } = await sink((_req, _body, res) => res.writeHead(204).end());
    let answers = 0;
    // First answer loopback (allowed locally), every later one metadata.
    const resolve: Resolver = async () =>
      answers++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '169.254.169.254', family: 4 }];
    const invoker = new WebhookHookInvoker({ policy: LOCAL, resolve });
    await invoker.invoke(`http://rebind.test:${port}/`, payload, { webhookSecret: SECRET });
    expect(answers).toBe(1);
    expect(seen).toHaveLength(1);
  });

  it('redirects are not followed', async () => {
    const target = await sink((_req, _body, res) => res.writeHead(200).end('{"status":"Succeeded"}'));
    const { port } = await sink((_req, _body, res) =>
      res.writeHead(302, { location: `http://127.0.0.1:${target.port}/latest/meta-data/` }).end(),
    );
    const invoker = new WebhookHookInvoker({ policy: LOCAL });
    const msg = await refusal(invoker.invoke(`http://127.0.0.1:${port}/`, payload, { webhookSecret: SECRET }));
    expect(msg).toContain('answered 302; redirects are not followed');
    expect(target.seen).toHaveLength(0);
  });

  it('a 2xx answer is read up to a bound; beyond it the hook fails with a fixed message', async () => {
    const { port } = await sink((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"status":"Succeeded","pad":"${'x'.repeat(MAX_WEBHOOK_ANSWER_BYTES)}"}`);
    });
    const invoker = new WebhookHookInvoker({ policy: LOCAL });
    expect(await refusal(invoker.invoke(`http://127.0.0.1:${port}/`, payload, { webhookSecret: SECRET }))).toBe(
      `webhook http://127.0.0.1:${port}/: answered with more than ${MAX_WEBHOOK_ANSWER_BYTES} bytes`,
    );
  });
});

describe('a refused answer body is never recorded', () => {
  it('403 db_password=hunter2 does not reach GetDeployment, errorInformation or the timeline', async () => {
    const { port, seen } = await sink((_req, _body, res) =>
      res.writeHead(403, { 'content-type': 'text/plain' }).end('db_password=hunter2'),
    );
    env = await testEnv({ webhookSecret: SECRET });
    const r = await env.deploy(appSpec({ before: `http://127.0.0.1:${port}/hook` }));
    expect(seen).toHaveLength(1);
    expect(r.deployment.state).toMatchObject({
      status: 'Failed',
      errorInformation: { code: 'HOOK_EXECUTION_FAILURE' },
    });
    expect(r.deployment.state.errorInformation?.message).toContain('answered 403');
    const got = await dispatch('GetDeployment', { deploymentId: r.deploymentId }, env.deps);
    const events = await dispatch('ListDeploymentTargets', { deploymentId: r.deploymentId }, env.deps);
    for (const text of [
      JSON.stringify(got),
      JSON.stringify(events),
      JSON.stringify(r.timeline),
      JSON.stringify(r.deployment),
    ])
      expect(text).not.toContain('hunter2');
  });
});

describe('signatures carry a timestamp; the receiver refuses replays', () => {
  it('the signed request verifies now, and not outside the window or with another body', async () => {
    const { port, seen } = await sink((_req, _body, res) => res.writeHead(204).end());
    const sentAt = 1_800_000_000;
    const invoker = new WebhookHookInvoker({ policy: LOCAL, now: () => sentAt * 1000 });
    await invoker.invoke(`http://127.0.0.1:${port}/`, payload, { webhookSecret: SECRET });
    const { body, signature } = seen[0]!;
    expect(signature).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifyCutoverSignature(SECRET, signature, body, { nowSeconds: sentAt + 10 })).toEqual({
      ok: true,
      timestamp: sentAt,
    });
    // A replay an hour later, or ahead of the receiver's clock: refused.
    expect(verifyCutoverSignature(SECRET, signature, body, { nowSeconds: sentAt + 3600 })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/window/),
    });
    expect(verifyCutoverSignature(SECRET, signature, body, { nowSeconds: sentAt - 301 })).toMatchObject({ ok: false });
    // The timestamp is signed: moving it forward breaks the signature.
    const moved = signature!.replace(`t=${sentAt}`, `t=${sentAt + 3600}`);
    expect(verifyCutoverSignature(SECRET, moved, body, { nowSeconds: sentAt + 3600 })).toMatchObject({
      ok: false,
      reason: 'signature does not match',
    });
    expect(verifyCutoverSignature(SECRET, signature, body + ' ', { nowSeconds: sentAt })).toMatchObject({ ok: false });
    expect(verifyCutoverSignature('another-secret-of-16+', signature, body, { nowSeconds: sentAt })).toMatchObject({
      ok: false,
    });
    for (const bad of [undefined, '', 'sha256=abc', 't=abc,v1=00', `t=${sentAt}`, 'v1=' + '0'.repeat(64)])
      expect(verifyCutoverSignature(SECRET, bad, body, { nowSeconds: sentAt }).ok).toBe(false);
  });
});

describe('Lambda hook targets are the functions the stack may invoke', () => {
  const env0 = { region: 'eu-west-1', accountId: '111122223333' };
  const policy: HookTargetPolicy = { functions: ['CodeDeployHook_*', 'checks-*'], loopbackWebhooks: false };

  it('names and ARNs outside hookFunctions, or in another account or region, are refused by name', () => {
    expect(functionRefusal('CodeDeployHook_pre', policy, env0)).toBeUndefined();
    expect(
      functionRefusal('arn:aws:lambda:eu-west-1:111122223333:function:checks-smoke', policy, env0),
    ).toBeUndefined();
    expect(functionRefusal('admin-reset', policy, env0)).toMatch(
      /admin-reset is not a function this stack may invoke as a hook \(hookFunctions: CodeDeployHook_\*, checks-\*\)/,
    );
    expect(functionRefusal('arn:aws:lambda:eu-west-1:999999999999:function:CodeDeployHook_x', policy, env0)).toMatch(
      /this stack invokes hooks in eu-west-1\/111122223333 only/,
    );
    expect(functionRefusal('anything', { loopbackWebhooks: false }, env0)).toBeUndefined();
  });

  it('the invoker refuses them before invoking', async () => {
    const invoked: string[] = [];
    const inner: HookInvoker = { invoke: async (t) => (invoked.push(t), { status: 'Succeeded' }) };
    const invoker = new AllowedFunctionsHookInvoker(inner, policy, env0);
    expect(await invoker.invoke('CodeDeployHook_ok', payload)).toEqual({ status: 'Succeeded' });
    expect(await refusal(invoker.invoke('admin-reset', payload))).toMatch(/hookFunctions/);
    expect(invoked).toEqual(['CodeDeployHook_ok']);
  });

  it('CreateDeployment refuses them (and refused webhooks) at once, naming the hook, before anything runs', async () => {
    env = await testEnv({ webhookSecret: SECRET }, undefined, { hookFunctions: ['CodeDeployHook_*'] });
    env.world.registerHook('admin-reset', async () => ({ status: 'Succeeded' }));
    const refused = await env
      .start(appSpec({ before: 'admin-reset', after: 'https://169.254.169.254/latest' }))
      .catch((e: unknown) => e as Error & { exceptionName?: string });
    expect(refused).toMatchObject({ exceptionName: 'InvalidRevisionException' });
    expect((refused as Error).message).toMatch(/Hooks\.BeforeAllowTraffic: admin-reset is not a function this stack/);
    expect((refused as Error).message).toMatch(
      /Hooks\.AfterAllowTraffic: 169\.254\.169\.254: an instance metadata address/,
    );
    expect(env.world.calls.Invoke).toBeUndefined();
    const listed = await dispatch(
      'ListDeployments',
      { applicationName: 'shop', deploymentGroupName: 'prod' },
      env.deps,
    );
    expect(listed).toMatchObject({ output: { deployments: [] } });
  });

  it('a group setting webhookAllowedHosts gets them normalized, and a bad host named', async () => {
    env = await testEnv();
    const update = (hosts: string[]) =>
      dispatch(
        'UpdateDeploymentGroup',
        { applicationName: 'shop', currentDeploymentGroupName: 'prod', webhookAllowedHosts: hosts },
        env!.deps,
      );
    expect(await update(['CI.Internal', '10.0.0.5'])).toMatchObject({ output: {} });
    expect((await env.deps.catalog.getDeploymentGroup('shop', 'prod'))?.webhookAllowedHosts).toEqual([
      'ci.internal',
      '10.0.0.5',
    ]);
    expect(await update(['https://x/y'])).toMatchObject({
      error: { message: expect.stringMatching(/webhookAllowedHosts\.0: must be a host name or IP address/) },
    });
  });
});

describe('the AWS wiring', () => {
  it('takes hookFunctions from CUTOVER_HOOK_FUNCTIONS and refuses webhooks to loopback and plain http', async () => {
    const { parseAwsEnv } = await import('../../src/config/env.js');
    const { hooks } = await import('../../src/wiring/aws.js');
    const base = {
      CUTOVER_TABLE: 'cutover-ci',
      CUTOVER_STATE_MACHINE_ARN: 'arn:aws:states:x',
      AWS_REGION: 'eu-west-1',
    };
    expect(parseAwsEnv(base).CUTOVER_HOOK_FUNCTIONS).toBe('CodeDeployHook_*');
    const cfg = parseAwsEnv({
      ...base,
      CUTOVER_HOOK_FUNCTIONS: 'checks-*, CodeDeployHook_*',
      CUTOVER_ACCOUNT_ID: '111122223333',
    });
    const invoker = hooks({ cfg, clients: {} as never, doc: () => ({}) as never });
    expect(await refusal(invoker.invoke('admin-reset', payload))).toMatch(
      /hookFunctions: checks-\*, CodeDeployHook_\*/,
    );
    expect(await refusal(invoker.invoke('https://127.0.0.1/x', payload, { webhookSecret: SECRET }))).toMatch(
      /loopback address is not a webhook target here/,
    );
    expect(await refusal(invoker.invoke('http://localhost/x', payload, { webhookSecret: SECRET }))).toMatch(
      /must use https/,
    );
  });
});
