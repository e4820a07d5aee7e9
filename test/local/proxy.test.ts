/**
 * `cutover proxy` against a stand-in for the deployed API: an HTTP server on 127.0.0.2 that, like API
 * Gateway's IAM authorisation, answers only requests signed for execute-api in us-west-2 with the one key
 * it knows (the local SigV4 verifier recomputes the signature), and passes those on to a local Cutover
 * API. Clients are the SDK's CodeDeployClient and the AWS CLI v2, which sign for `codedeploy` with keys
 * the stand-in does not know: only the proxy's re-signing gets them through.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CodeDeployClient,
  CreateApplicationCommand,
  GetApplicationCommand,
  ListApplicationsCommand,
  type CodeDeployClientConfig,
} from '@aws-sdk/client-codedeploy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  endToEndHeaders,
  startProxy,
  type ProxyRequestLog,
  type RunningProxy,
} from '../../src/adapters/aws/codedeploy-proxy.js';
import { signRequest } from '../../src/adapters/aws/sigv4.js';
import { MAX_REQUEST_BYTES } from '../../src/api/json-protocol.js';
import { startApiServer, type ApiServer } from '../../src/local/server.js';
import { verifySigV4 } from '../../src/local/sigv4-verifier.js';
import { proxyCommand, upstreamOf } from '../../src/cli/proxy.js';
import { testEnv, type TestEnv } from '../support/local.js';

const KEY = { accessKeyId: 'AKIDPROXYTEST', secretAccessKey: 'the-proxy-test-secret' };
/** What the clients sign with: a key the stand-in does not know. */
const CLIENT_KEY = { accessKeyId: 'AKIDCLIENTONLY', secretAccessKey: 'client-secret-unknown-upstream' };
const REGION = 'us-west-2';
const AWS_CLI = '/usr/bin/aws';

let env: TestEnv;
let api: ApiServer;
let standIn: Server;
let upstream: URL;
/** What the stand-in saw: one entry per request, with its verdict. */
const seen: { ok: boolean; reason?: string; target?: string }[] = [];
let proxy: RunningProxy;
const logs: ProxyRequestLog[] = [];

/** A raw request, to set headers no SDK would (a foreign Host, an Origin). */
function raw(
  url: string,
  headers: Record<string, string>,
  body: string | Buffer = '{}',
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((done, fail) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

beforeAll(async () => {
  env = await testEnv({}, 'skip');
  api = await startApiServer(env.deps, { work: env.clock, viewFor: env.viewFor });
  standIn = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const check = verifySigV4(
        { method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body },
        (id) => (id === KEY.accessKeyId ? KEY.secretAccessKey : undefined),
        { services: ['execute-api'] },
      );
      const target = req.headers['x-amz-target'] as string | undefined;
      const ok = check.signed && check.ok && check.region === REGION && req.url === '/prod/';
      seen.push({
        ok,
        ...(check.signed && !check.ok ? { reason: check.reason } : {}),
        ...(target ? { target } : {}),
      });
      if (!ok) {
        // API Gateway's refusal: 403 with `message` and no `__type`.
        res
          .writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidSignatureException' })
          .end(JSON.stringify({ message: check.signed && !check.ok ? check.reason : 'Missing Authentication Token' }));
        return;
      }
      fetch(api.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target ?? '' },
        body,
      })
        .then(async (r) => {
          res.writeHead(r.status, {
            'content-type': r.headers.get('content-type') ?? 'application/json',
            // Hop-by-hop headers the proxy must not pass on.
            connection: 'keep-alive, x-stand-in-hop',
            'x-stand-in-hop': 'drop me',
            'x-stand-in-end': 'keep me',
          });
          res.end(await r.text());
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((r) => standIn.listen(0, '127.0.0.2', r));
  upstream = new URL(`http://127.0.0.2:${(standIn.address() as AddressInfo).port}/prod/`);
  proxy = await startProxy({ upstream, region: REGION, credentials: KEY, port: 0, onRequest: (l) => logs.push(l) });
});
afterAll(async () => {
  await proxy?.close();
  await new Promise((r) => standIn?.close(r));
  await api?.close();
  await env?.close();
});

const sdk = (config: CodeDeployClientConfig) =>
  new CodeDeployClient({ region: REGION, credentials: CLIENT_KEY, maxAttempts: 1, ...config });

describe('cutover proxy: CodeDeploy clients reach an execute-api endpoint', () => {
  it("the stand-in refuses the SDK's own codedeploy signature, unsigned and tampered requests", async () => {
    const direct = sdk({ endpoint: upstream.href, credentials: KEY });
    await expect(direct.send(new ListApplicationsCommand({}))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
    expect(seen.at(-1)).toMatchObject({ ok: false, reason: expect.stringContaining('signed for codedeploy') });
    direct.destroy();

    const unsigned = await raw(upstream.href, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'CodeDeploy_20141006.ListApplications',
    });
    expect(unsigned.status).toBe(403);

    const body = JSON.stringify({ applicationName: 'tampered' });
    const headers = await signRequest({
      method: 'POST',
      url: upstream,
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'CodeDeploy_20141006.CreateApplication',
      },
      body,
      region: REGION,
      service: 'execute-api',
      credentials: KEY,
    });
    const intact = await raw(upstream.href, headers, body);
    expect(intact.status).toBe(200);
    const tampered = await raw(upstream.href, headers, body.replace('tampered', 'tampere2'));
    expect(tampered.status).toBe(403);
    expect(seen.at(-1)).toMatchObject({ ok: false, reason: expect.stringContaining('signature we calculated') });
    const wrongKey = await raw(
      upstream.href,
      { ...headers, authorization: headers.authorization!.replace(/.$/, (c) => (c === '0' ? '1' : '0')) },
      body,
    );
    expect(wrongKey.status).toBe(403);
  });

  it('the SDK through the proxy: CreateApplication, then GetApplication finds it', async () => {
    const client = sdk({ endpoint: proxy.url });
    const before = seen.length;
    const { applicationId } = await client.send(
      new CreateApplicationCommand({ applicationName: 'via-proxy', computePlatform: 'Lambda' }),
    );
    expect(applicationId).toMatch(/\S/);
    const got = await client.send(new GetApplicationCommand({ applicationName: 'via-proxy' }));
    expect(got.application).toMatchObject({ applicationName: 'via-proxy', applicationId, computePlatform: 'Lambda' });
    // Both went upstream, signed for execute-api by the proxy (the stand-in verified them).
    expect(seen.slice(before)).toEqual([
      { ok: true, target: 'CodeDeploy_20141006.CreateApplication' },
      { ok: true, target: 'CodeDeploy_20141006.GetApplication' },
    ]);
    // CodeDeploy's errors come back as they are.
    await expect(client.send(new GetApplicationCommand({ applicationName: 'nope' }))).rejects.toMatchObject({
      name: 'ApplicationDoesNotExistException',
    });
    client.destroy();
  });

  it('streams the answer back with its status and end-to-end headers, without the hop-by-hop ones', async () => {
    const r = await raw(`${proxy.url}/`, {
      host: new URL(proxy.url).host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'CodeDeploy_20141006.ListApplications',
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toHaveProperty('applications');
    expect(r.headers['x-stand-in-end']).toBe('keep me');
    expect(r.headers['x-stand-in-hop']).toBeUndefined();
    expect(
      endToEndHeaders({ connection: 'close, x-a', 'x-a': '1', 'transfer-encoding': 'chunked', 'x-b': '2', te: 'x' }),
    ).toEqual({ 'x-b': '2' });
  });

  it('refuses a foreign Host or Origin (403) and oversized bodies (413), and sends none of them on', async () => {
    const before = seen.length;
    const own = new URL(proxy.url).host;
    const base = {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'CodeDeploy_20141006.ListApplications',
    };
    const rebound = await raw(proxy.url, { ...base, host: `attacker.example:${proxy.port}` });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toMatchObject({
      __type: 'AccessDeniedException',
      message: expect.stringContaining('Host'),
    });
    expect((await raw(proxy.url, { ...base, host: `127.0.0.1:${proxy.port + 1}` })).status).toBe(403);
    const page = await raw(proxy.url, { ...base, host: own, origin: 'https://attacker.example' });
    expect(page.status).toBe(403);
    expect(JSON.parse(page.body).message).toContain('Origin');
    expect((await raw(proxy.url, { ...base, host: own, origin: 'null' })).status).toBe(403);

    // Declared too large: refused from the header alone. The client sends a few bytes and waits; the
    // answer comes without the rest (a proxy that read to the declared end would never answer).
    const declared = await new Promise<{ status: number; body: string }>((done, fail) => {
      const req = request(
        proxy.url,
        { method: 'POST', headers: { ...base, host: own, 'content-length': String(100 * 1024 * 1024) } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => {
            done({ status: res.statusCode ?? 0, body });
            req.destroy();
          });
        },
      );
      req.on('error', fail);
      req.write('{"applicationName":');
    });
    expect(JSON.parse(declared.body)).toMatchObject({ __type: 'RequestEntityTooLargeException' });
    expect(declared.status).toBe(413);
    // No length declared (chunked): refused once the received bytes pass the limit.
    const chunked = await new Promise<number>((done, fail) => {
      const req = request(proxy.url, { method: 'POST', headers: { ...base, host: own } }, (res) => {
        res.resume();
        done(res.statusCode ?? 0);
      });
      req.on('error', fail);
      for (let sent = 0; sent <= MAX_REQUEST_BYTES; sent += 64 * 1024) req.write(Buffer.alloc(64 * 1024, 0x20));
      req.end();
    });
    expect(chunked).toBe(413);
    expect(seen.length).toBe(before);
    expect(logs.filter((l) => l.status === 413).length).toBeGreaterThanOrEqual(2);
  });

  it("--require-signature: only clients that sign with the proxy's own key get through", async () => {
    const strict = await startProxy({
      upstream,
      region: REGION,
      credentials: KEY,
      port: 0,
      requireSignature: true,
      onRequest: (l) => logs.push(l),
    });
    try {
      const before = seen.length;
      const same = sdk({ endpoint: strict.url, credentials: KEY });
      const got = await same.send(new GetApplicationCommand({ applicationName: 'via-proxy' }));
      expect(got.application?.applicationName).toBe('via-proxy');
      same.destroy();
      const other = sdk({ endpoint: strict.url });
      await expect(other.send(new GetApplicationCommand({ applicationName: 'via-proxy' }))).rejects.toMatchObject({
        name: 'AccessDeniedException',
        message: expect.stringContaining("another access key than the proxy's"),
      });
      other.destroy();
      const unsigned = await raw(strict.url, {
        host: new URL(strict.url).host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'CodeDeploy_20141006.ListApplications',
      });
      expect(unsigned.status).toBe(403);
      expect(JSON.parse(unsigned.body).message).toContain('not signed');
      // Only the first went upstream.
      expect(seen.slice(before)).toEqual([{ ok: true, target: 'CodeDeploy_20141006.GetApplication' }]);
    } finally {
      await strict.close();
    }
  });

  it('logs operations and statuses, never a credential or a signature', () => {
    expect(logs.some((l) => l.target === 'CodeDeploy_20141006.CreateApplication' && l.status === 200)).toBe(true);
    const text = JSON.stringify(logs);
    for (const secret of [KEY.secretAccessKey, KEY.accessKeyId, CLIENT_KEY.secretAccessKey, 'Signature=', 'AWS4-HMAC'])
      expect(text).not.toContain(secret);
  });

  it('the SDK without the proxy: the documented one-line configuration signs for execute-api', async () => {
    // README "Calling the deployed API": the same line, with the stand-in's URL.
    const client = new CodeDeployClient({
      endpoint: upstream.href,
      region: REGION,
      signingName: 'execute-api',
      credentials: KEY,
    } as CodeDeployClientConfig);
    await client.send(new CreateApplicationCommand({ applicationName: 'direct-sdk' }));
    const got = await client.send(new GetApplicationCommand({ applicationName: 'direct-sdk' }));
    expect(got.application?.applicationName).toBe('direct-sdk');
    expect(seen.at(-1)).toEqual({ ok: true, target: 'CodeDeploy_20141006.GetApplication' });
    client.destroy();
  });

  it.skipIf(!existsSync(AWS_CLI))(
    `the AWS CLI v2 (${AWS_CLI}) through the proxy: create-application, then get-application`,
    async () => {
      const home = mkdtempSync(join(tmpdir(), 'cutover-proxy-cli-'));
      try {
        // Asynchronous: the proxy and the stand-in run in this process.
        const cli = (...args: string[]) => cliVia(proxy.url, CLIENT_KEY, ...args);
        const cliVia = (url: string, key: typeof KEY, ...args: string[]) =>
          new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
            const p = spawn(AWS_CLI, ['deploy', '--endpoint-url', url, '--output', 'json', ...args], {
              env: {
                PATH: process.env.PATH ?? '',
                HOME: home,
                AWS_ACCESS_KEY_ID: key.accessKeyId,
                AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
                AWS_DEFAULT_REGION: REGION,
                AWS_CONFIG_FILE: join(home, 'config'),
                AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
                AWS_PAGER: '',
                AWS_MAX_ATTEMPTS: '1',
              },
            });
            let stdout = '';
            let stderr = '';
            p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
            p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
            p.on('exit', (status) => done({ status, stdout, stderr }));
          });
        const created = await cli(
          'create-application',
          '--application-name',
          'cli-app',
          '--compute-platform',
          'Server',
        );
        expect(created.stderr).toBe('');
        expect(created.status).toBe(0);
        const { applicationId } = JSON.parse(created.stdout) as { applicationId: string };
        const got = await cli('get-application', '--application-name', 'cli-app');
        expect(got.status).toBe(0);
        expect(JSON.parse(got.stdout).application).toMatchObject({ applicationName: 'cli-app', applicationId });
        const missing = await cli('get-application', '--application-name', 'not-there');
        expect(missing.status).toBe(254);
        expect(missing.stderr).toContain('ApplicationDoesNotExistException');
        // The CLI's own signature (for codedeploy) passes --require-signature when it uses the proxy's key.
        const strict = await startProxy({
          upstream,
          region: REGION,
          credentials: KEY,
          port: 0,
          requireSignature: true,
        });
        try {
          const signed = await cliVia(strict.url, KEY, 'get-application', '--application-name', 'cli-app');
          expect(signed.stderr).toBe('');
          expect(JSON.parse(signed.stdout).application).toMatchObject({ applicationName: 'cli-app' });
          const other = await cliVia(strict.url, CLIENT_KEY, 'get-application', '--application-name', 'cli-app');
          expect(other.status).toBe(254);
          expect(other.stderr).toContain('AccessDeniedException');
        } finally {
          await strict.close();
        }
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

describe('cutover proxy (the command)', () => {
  it("takes the stack's ServiceEndpoint output as it is (no trailing slash), and only https off loopback", () => {
    const url = upstreamOf('https://abc123.execute-api.eu-west-1.amazonaws.com/prod');
    expect(url instanceof URL ? url.href : url).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/prod/');
    expect(upstreamOf('http://abc123.execute-api.eu-west-1.amazonaws.com/prod')).toContain('must be https://');
    expect(upstreamOf('https://u:p@abc123.execute-api.eu-west-1.amazonaws.com/prod')).toContain('user name');
    expect(upstreamOf('not a url')).toContain('not a URL');
    expect(upstreamOf('http://127.0.0.2:9/prod/')).toBeInstanceOf(URL);
  });

  const bin = resolve('bin/cutover.js');
  const run = (args: string[], extraEnv: Record<string, string> = {}) =>
    spawn(process.execPath, [bin, 'proxy', ...args], {
      env: {
        ...process.env,
        NO_COLOR: '1',
        AWS_ACCESS_KEY_ID: KEY.accessKeyId,
        AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
        AWS_SESSION_TOKEN: '',
        AWS_PROFILE: '',
        AWS_REGION: REGION,
        CUTOVER_ENDPOINT: '',
        ...extraEnv,
      },
    });
  const finish = (p: ReturnType<typeof run>) =>
    new Promise<{ code: number | null; out: string; err: string }>((done) => {
      let out = '';
      let err = '';
      p.stdout.on('data', (c: Buffer) => (out += c.toString()));
      p.stderr.on('data', (c: Buffer) => (err += c.toString()));
      p.on('exit', (code) => done({ code, out, err }));
    });

  it('--help, and bad usage, a busy port or no login exit 2 naming the option or the cause', async () => {
    // In this process (each start of the CLI takes seconds); none of these gets as far as serving.
    const command = async (args: string[], env: Record<string, string> = {}) => {
      let out = '';
      let err = '';
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
      Object.assign(process.env, env);
      try {
        const code = await proxyCommand(args, {
          out: (s) => (out += `${s}\n`),
          err: (s) => (err += `${s}\n`),
          env: { ...process.env, CUTOVER_ENDPOINT: '' },
        });
        return { code, out, err };
      } finally {
        for (const [k, v] of Object.entries(saved))
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
      }
    };
    const help = await command(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('--endpoint URL');
    const none = await command([]);
    expect(none).toMatchObject({ code: 2, err: expect.stringContaining('--endpoint: required') });
    const plain = await command(['--endpoint', 'http://api.example.com/prod/']);
    expect(plain).toMatchObject({ code: 2, err: expect.stringContaining('--endpoint: must be https://') });
    const port = await command(['--endpoint', upstream.href, '--port', 'x']);
    expect(port).toMatchObject({ code: 2, err: expect.stringContaining('--port: must be 0-65535') });
    const typo = await command(['--endpiont', upstream.href]);
    expect(typo).toMatchObject({ code: 2, err: expect.stringContaining('--endpiont') });
    const login = {
      AWS_ACCESS_KEY_ID: KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
      AWS_SESSION_TOKEN: '',
    };
    const busy = await command(['--endpoint', upstream.href, '--port', String(proxy.port)], login);
    expect(busy).toMatchObject({ code: 2, err: expect.stringContaining(`127.0.0.1:${proxy.port} is in use`) });
    const nowhere = join(tmpdir(), 'cutover-proxy-no-such-dir');
    const noLogin = await command(['--endpoint', upstream.href, '--port', '0'], {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: '',
      AWS_CONFIG_FILE: join(nowhere, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(nowhere, 'credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
      AWS_WEB_IDENTITY_TOKEN_FILE: '',
    });
    expect(noLogin).toMatchObject({ code: 2, err: expect.stringContaining('no usable AWS credentials') });
  });

  it('prints the line to use, forwards with the credentials of the environment, and exits 0 on SIGINT', async () => {
    const p = run(['--port', '0'], { CUTOVER_ENDPOINT: upstream.href });
    const done = finish(p);
    let out = '';
    const url = await new Promise<string>((found, fail) => {
      p.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /aws deploy --endpoint-url (http:\/\/127\.0\.0\.1:\d+) /.exec(out);
        if (m) found(m[1]!);
      });
      p.on('exit', () => fail(new Error(`exited early: ${out}`)));
    });
    const client = sdk({ endpoint: url });
    const apps = await client.send(new ListApplicationsCommand({}));
    expect(apps.applications).toContain('via-proxy');
    client.destroy();
    p.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/200 {2}CodeDeploy_20141006\.ListApplications/);
    expect(result.err).toContain('SIGINT: proxy stopped');
    expect(result.out + result.err).not.toContain(KEY.secretAccessKey);
  }, 60_000);
});
