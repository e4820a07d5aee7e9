/**
 * Issue #14 item 2: the local servers serve only the local user. A web page cannot drive the local API
 * (DNS rebinding, cross-site requests), cannot upload to the local S3 (form POSTs, unsigned requests), and no
 * request, however malformed, brings either server down: each attack is tried, then the server must still
 * answer the SDK.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListApplicationsCommand, CodeDeployClient } from '@aws-sdk/client-codedeploy';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_REVISION_BUCKET, startS3, type LocalS3 } from '../../src/local/s3.js';
import { startApiServer, type ApiServer } from '../../src/local/server.js';
import { testEnv, type TestEnv } from '../support/local.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One raw HTTP request (node:http lets us set Host and Origin as a browser or an attacker would). */
function send(url: string, method: string, headers: Record<string, string>, body = ''): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Raw bytes on a socket, for requests node:http would not send; resolves when the server closes or answers. */
function raw(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (/\r\n\r\n/.test(got)) s.end();
    });
    s.on('error', () => resolve(got));
    s.on('close', () => resolve(got));
    s.write(bytes);
    setTimeout(() => s.end(), 200).unref();
  });
}

describe('the local API server', () => {
  let env: TestEnv;
  let server: ApiServer;
  beforeAll(async () => {
    env = await testEnv({}, 'skip');
    server = await startApiServer(env.deps, { work: env.clock, viewFor: env.viewFor });
  });
  afterAll(async () => {
    await server.close();
    await env.close();
  });
  const list = { 'x-amz-target': 'CodeDeploy_20141006.ListApplications', 'content-type': 'application/x-amz-json-1.1' };

  it('refuses a rebinding Host (attacker.example) with 403 AccessDeniedException', async () => {
    const r = await send(server.url, 'POST', { ...list, host: 'attacker.example' }, '{}');
    expect(r.status).toBe(403);
    expect(r.headers['x-amzn-errortype']).toBe('AccessDeniedException');
    expect(JSON.parse(r.body)).toMatchObject({
      __type: 'AccessDeniedException',
      message: expect.stringMatching(/Host/),
    });
    const port = new URL(server.url).port;
    // The right name with another port is a different origin too.
    expect((await send(server.url, 'POST', { ...list, host: `localhost:${Number(port) + 1}` }, '{}')).status).toBe(403);
  });

  it('refuses a foreign Origin, even with the right Host', async () => {
    const r = await send(server.url, 'POST', { ...list, origin: 'https://attacker.example' }, '{}');
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toMatchObject({
      __type: 'AccessDeniedException',
      message: expect.stringMatching(/Origin/),
    });
    expect((await send(server.url, 'POST', { ...list, origin: 'null' }, '{}')).status).toBe(403);
  });

  it('serves the SDK (correct Host, no Origin), and localhost:PORT as the Host', async () => {
    const client = new CodeDeployClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    await expect(client.send(new ListApplicationsCommand({}))).resolves.toMatchObject({
      applications: expect.any(Array),
    });
    client.destroy();
    const port = new URL(server.url).port;
    const r = await send(
      server.url,
      'POST',
      { ...list, host: `localhost:${port}`, origin: `http://localhost:${port}` },
      '{}',
    );
    expect(r.status).toBe(200);
  });
});

describe('the local S3', () => {
  let dir: string;
  let s3: LocalS3;
  let client: S3Client;
  const events: { Records: { eventName: string; s3: { object: { key: string; eTag: string } } }[] }[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cutover-sec-s3-'));
    s3 = await startS3({ directory: dir });
    s3.onEvent((e) => events.push(e as (typeof events)[number]));
    client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: s3.credentials,
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    client.destroy();
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const port = () => Number(new URL(s3.endpoint).port);
  const keys = async () =>
    ((await client.send(new ListObjectsV2Command({ Bucket: LOCAL_REVISION_BUCKET }))).Contents ?? []).map((o) => o.Key);
  /** The server still answers a signed PUT and GET. */
  async function stillServes(key: string) {
    const put = await client.send(new PutObjectCommand({ Bucket: LOCAL_REVISION_BUCKET, Key: key, Body: 'alive' }));
    expect(put.ETag).toBe(`"${createHash('md5').update('alive').digest('hex')}"`);
    const got = await client.send(new GetObjectCommand({ Bucket: LOCAL_REVISION_BUCKET, Key: key }));
    expect(await got.Body?.transformToString()).toBe('alive');
  }

  it('refuses a cross-origin browser form POST (405), stores nothing and emits no event', async () => {
    const boundary = '----form';
    const form = [
      `--${boundary}`,
      'Content-Disposition: form-data; name="key"',
      '',
      'revisions/shop/prod/evil.yml',
      `--${boundary}`,
      'Content-Disposition: form-data; name="file"; filename="appspec.yml"',
      '',
      'version: 0.0',
      `--${boundary}--`,
      '',
    ].join('\r\n');
    const before = events.length;
    const r = await send(
      `${s3.endpoint}/${LOCAL_REVISION_BUCKET}`,
      'POST',
      { 'content-type': `multipart/form-data; boundary=${boundary}`, origin: 'https://attacker.example' },
      form,
    );
    expect(r.status).toBe(403);
    // Same origin, but still a form POST.
    const same = await send(
      `${s3.endpoint}/${LOCAL_REVISION_BUCKET}`,
      'POST',
      { 'content-type': `multipart/form-data; boundary=${boundary}` },
      form,
    );
    expect(same.status).toBe(405);
    expect(same.body).toMatch(/<Code>MethodNotAllowed<\/Code>/);
    expect(await keys()).not.toContain('revisions/shop/prod/evil.yml');
    expect(events.length).toBe(before);
  });

  it('survives a malformed multipart body (the dicer crash, CVE-2022-24434) and answers afterwards', async () => {
    // The body that crashed dicer: a part header block that never ends.
    const evil = `--x\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n${'A'.repeat(100_000)}`;
    const r = await send(
      `${s3.endpoint}/${LOCAL_REVISION_BUCKET}`,
      'POST',
      { 'content-type': 'multipart/form-data; boundary=x' },
      evil,
    );
    expect(r.status).toBe(405);
    const broken = await send(
      `${s3.endpoint}/${LOCAL_REVISION_BUCKET}/k?uploads`,
      'POST',
      { 'content-type': 'multipart/form-data; boundary=' },
      '--\r\n\r\n',
    );
    expect(broken.status).toBe(403);
    await stillServes('after-multipart');
  });

  it('refuses an unsigned PUT, a wrong key and a bad signature, each as an S3 XML error', async () => {
    const url = `${s3.endpoint}/${LOCAL_REVISION_BUCKET}/revisions/shop/prod/unsigned.yml`;
    const unsigned = await send(url, 'PUT', { 'content-type': 'text/yaml' }, 'version: 0.0');
    expect(unsigned.status).toBe(403);
    expect(unsigned.body).toMatch(/<Error><Code>AccessDenied<\/Code><Message>Anonymous requests/);
    const other = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      maxAttempts: 1,
    });
    await expect(
      other.send(new PutObjectCommand({ Bucket: LOCAL_REVISION_BUCKET, Key: 'x', Body: 'x' })),
    ).rejects.toMatchObject({
      name: 'InvalidAccessKeyId',
    });
    other.destroy();
    const forged = await send(
      url,
      'PUT',
      {
        authorization: `AWS4-HMAC-SHA256 Credential=${s3.credentials.accessKeyId}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
        'x-amz-date': new Date().toISOString().replace(/[-:]|\.\d{3}/g, ''),
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      },
      'x',
    );
    expect(forged.status).toBe(403);
    expect(await keys()).not.toContain('revisions/shop/prod/unsigned.yml');
  });

  it('refuses a rebinding Host and a foreign Origin before looking at the signature', async () => {
    const r = await send(`${s3.endpoint}/${LOCAL_REVISION_BUCKET}`, 'GET', { host: 'attacker.example' });
    expect(r.status).toBe(403);
    expect(r.body).toMatch(/DNS rebinding/);
  });

  it('answers every malformed request with an error and keeps serving (fuzz-ish)', async () => {
    const p = port();
    const attempts: (string | Buffer)[] = [
      'GARBAGE\r\n\r\n',
      'GET /%zz%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
      `PUT /${LOCAL_REVISION_BUCKET}/a HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nContent-Length: 99999999999\r\n\r\nabc`,
      `PUT /${LOCAL_REVISION_BUCKET}/a HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
      `GET /${LOCAL_REVISION_BUCKET}/../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=x\r\n\r\n`,
      `GET /?X-Amz-Signature=${'a'.repeat(64)}&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\n\r\n`,
      Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 13, 10]),
      `POST /${LOCAL_REVISION_BUCKET}/k?uploadId=../../x HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nContent-Length: 5\r\n\r\n<Comp`,
    ];
    for (const a of attempts) {
      const answer = await raw(p, a);
      // Answered (an HTTP error status) or the connection closed; never a success.
      expect(answer).not.toMatch(/^HTTP\/1\.1 2/);
    }
    // Signed, but a body that is not aws-chunked although it says so, and chunk signatures that lie.
    await expect(
      client.send(new PutObjectCommand({ Bucket: LOCAL_REVISION_BUCKET, Key: '../escape', Body: 'x' })),
    ).rejects.toMatchObject({ name: 'InvalidArgument' });
    await stillServes('after-fuzz');
  });

  it('takes multipart uploads as S3 does: ETag md5-of-md5s-N and an ObjectCreated:CompleteMultipartUpload event', async () => {
    const Key = 'revisions/shop/prod/big.zip';
    const a = Buffer.alloc(5 * 1024 * 1024, 1);
    const b = Buffer.from('tail');
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: LOCAL_REVISION_BUCKET, Key }));
    const p1 = await client.send(
      new UploadPartCommand({ Bucket: LOCAL_REVISION_BUCKET, Key, UploadId, PartNumber: 1, Body: a }),
    );
    const p2 = await client.send(
      new UploadPartCommand({ Bucket: LOCAL_REVISION_BUCKET, Key, UploadId, PartNumber: 2, Body: b }),
    );
    const done = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: LOCAL_REVISION_BUCKET,
        Key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.ETag },
            { PartNumber: 2, ETag: p2.ETag },
          ],
        },
      }),
    );
    const md5 = (x: Buffer) => createHash('md5').update(x).digest();
    const expected = `${createHash('md5')
      .update(Buffer.concat([md5(a), md5(b)]))
      .digest('hex')}-2`;
    expect(done.ETag).toBe(`"${expected}"`);
    const got = await client.send(new GetObjectCommand({ Bucket: LOCAL_REVISION_BUCKET, Key, Range: 'bytes=-4' }));
    expect(await got.Body?.transformToString()).toBe('tail');
    expect(events.at(-1)?.Records[0]).toMatchObject({
      eventName: 'ObjectCreated:CompleteMultipartUpload',
      s3: { object: { key: Key, eTag: expected } },
    });
  });

  // The AWS CLI v2 as users run it (Debian's /usr/bin/aws; a pyenv v1 may come first on PATH). Spawned
  // asynchronously: the S3 server answers on this process's event loop.
  it.skipIf(!existsSync('/usr/bin/aws'))(
    'the AWS CLI uploads with `aws s3 cp` (a 9 MB file goes as a multipart upload)',
    async () => {
      const file = join(dir, 'bundle.bin');
      writeFileSync(file, Buffer.alloc(9 * 1024 * 1024, 7));
      const env = {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_PAGER: '',
      };
      const aws = (...args: string[]) =>
        new Promise<{ status: number | null; out: string; err: string }>((done) => {
          const p = spawn('/usr/bin/aws', ['--endpoint-url', s3.endpoint, ...args], { env });
          let out = '';
          let err = '';
          p.stdout.on('data', (c: Buffer) => (out += c.toString()));
          p.stderr.on('data', (c: Buffer) => (err += c.toString()));
          p.on('exit', (status) => done({ status, out, err }));
        });
      const cp = await aws('s3', 'cp', file, `s3://${LOCAL_REVISION_BUCKET}/cli/bundle.bin`);
      expect(cp.status, cp.err).toBe(0);
      const listed = await aws('s3', 'ls', `s3://${LOCAL_REVISION_BUCKET}/cli/`);
      expect(listed.status, listed.err).toBe(0);
      expect(listed.out).toMatch(/9437184 bundle\.bin/);
      expect(events.at(-1)?.Records[0]?.eventName).toBe('ObjectCreated:CompleteMultipartUpload');
    },
  );
});
