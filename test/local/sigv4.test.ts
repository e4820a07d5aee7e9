/**
 * The CLI signs requests to a remote endpoint with SigV4 for execute-api (as API Gateway's IAM
 * authorisation requires). A receiver on 127.0.0.2 (loopback, but not a local-server address)
 * recomputes the signature with the expected credentials and only answers when it matches.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { Sha256 } from '../../src/adapters/aws/sigv4.js';

const KEY = { accessKeyId: 'AKIDCUTOVERTEST', secretAccessKey: 'the-secret-key-for-this-test' };

async function verify(req: IncomingMessage, body: string, port: number): Promise<boolean> {
  const headers = { ...req.headers } as Record<string, string>;
  const auth = headers.authorization ?? '';
  const amzDate = headers['x-amz-date'] ?? '';
  if (!auth.includes(`Credential=${KEY.accessKeyId}/`) || !auth.includes('/us-west-2/execute-api/aws4_request'))
    return false;
  const signedNames = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(';') ?? [];
  const toSign = Object.fromEntries(
    signedNames.map((n) => [n, headers[n]!]).filter(([n]) => n !== 'x-amz-date' && n !== 'x-amz-content-sha256'),
  );
  const date = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({ service: 'execute-api', region: 'us-west-2', credentials: KEY, sha256: Sha256 });
  const again = await signer.sign(
    { method: 'POST', protocol: 'http:', hostname: '127.0.0.2', port, path: '/', query: {}, headers: toSign, body },
    { signingDate: date },
  );
  return again.headers.authorization === auth;
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [resolve('bin/cutover.js'), ...args], {
      env: { ...process.env, NO_COLOR: '1', ...env },
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('exit', (code) => done({ code, out, err }));
  });
}

describe('SigV4 for remote endpoints', () => {
  it('signs with the standard credentials for execute-api; a wrong key is refused by the receiver', async () => {
    let port = 0;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', async () => {
        const ok = await verify(req, body, port);
        res
          .writeHead(ok ? 200 : 403, { 'content-type': 'application/json' })
          .end(
            JSON.stringify(
              ok ? { applications: ['signed-ok'] } : { message: 'The request signature we calculated does not match' },
            ),
          );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
    port = (server.address() as AddressInfo).port;
    const endpoint = `http://127.0.0.2:${port}/`;
    try {
      const env = {
        AWS_ACCESS_KEY_ID: KEY.accessKeyId,
        AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
        AWS_REGION: 'us-west-2',
        AWS_PROFILE: '',
        AWS_SESSION_TOKEN: '',
      };
      const good = await cli(['app', 'list', '--endpoint', endpoint], env);
      expect(good.err).toBe('');
      expect(good.out).toMatch(/^signed-ok$/m);
      const bad = await cli(['app', 'list', '--endpoint', endpoint], { ...env, AWS_SECRET_ACCESS_KEY: 'not-the-key' });
      expect(bad.code).toBe(2);
      expect(bad.err).toContain('signature we calculated does not match');
    } finally {
      await new Promise((r) => server.close(r));
    }
  }, 60_000);
});
