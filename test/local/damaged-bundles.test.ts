/**
 * Damaged bundles (zip, tar, tgz) never end in an internal error: through the API they are refused
 * with InvalidRevisionException naming the revision; uploaded under `revisions/<app>/<group>/` they
 * become a recorded Failed deployment with the reason, a timeline event and a published failure.
 */
import {
  CodeDeployClient,
  CreateDeploymentCommand,
  GetApplicationRevisionCommand,
  RegisterApplicationRevisionCommand,
} from '@aws-sdk/client-codedeploy';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_REVISION_BUCKET } from '../../src/local/s3.js';
import { startApiServer, type ApiServer } from '../../src/local/server.js';
import { tar, tgz, zip } from '../support/archives.js';
import { appSpec, testEnv, type TestEnv } from '../support/local.js';

const LOCAL = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const CENTRAL = Buffer.from([0x50, 0x4b, 0x01, 0x02]);

/** Each kind of damage, applied to a good bundle (with a real AppSpec, so only the damage can fail it). */
function damagedBundles(): { name: string; ext: 'zip' | 'tar' | 'tgz'; body: Buffer; reason: RegExp }[] {
  const good = zip({ 'appspec.yml': appSpec() });
  const central = good.lastIndexOf(CENTRAL);
  const local = good.indexOf(LOCAL);
  const dataStart = local + 30 + good.readUInt16LE(local + 26) + good.readUInt16LE(local + 28);
  const edit = (f: (b: Buffer) => void) => {
    const b = Buffer.from(good);
    f(b);
    return b;
  };
  const goodTar = tar({ 'appspec.yml': appSpec() });
  const goodTgz = tgz({ 'appspec.yml': appSpec() });
  return [
    {
      name: 'central-size-lies',
      ext: 'zip',
      body: edit((b) => b.writeUInt32LE(0xffffff, central + 20)),
      reason: /extends past the end/,
    },
    {
      name: 'uncompressed-size-lies',
      ext: 'zip',
      body: edit((b) => b.writeUInt32LE(5, central + 24)),
      reason: /not the 5 it declares/,
    },
    {
      name: 'local-header-lies',
      ext: 'zip',
      body: edit((b) => b.writeUInt16LE(0xffff, local + 28)),
      reason: /extends past the end/,
    },
    {
      name: 'corrupt-deflate',
      ext: 'zip',
      body: edit((b) => b.fill(0xff, dataStart, dataStart + 4)),
      reason: /corrupt deflate data/,
    },
    {
      name: 'offset-past-end',
      ext: 'zip',
      body: edit((b) => b.writeUInt32LE(good.length + 1000, central + 42)),
      reason: /starts past the end of the archive/,
    },
    {
      name: 'offset-in-last-bytes',
      ext: 'zip',
      body: edit((b) => b.writeUInt32LE(good.length - 2, central + 42)),
      reason: /starts past the end of the archive/,
    },
    {
      name: 'tar-bad-header',
      ext: 'tar',
      body: (() => {
        const b = Buffer.from(goodTar);
        b.write('9', 124); // the size, without fixing the checksum
        return b;
      })(),
      reason: /damaged header at offset 0/,
    },
    { name: 'tar-truncated', ext: 'tar', body: goodTar.subarray(0, 520), reason: /truncated/ },
    { name: 'tgz-truncated', ext: 'tgz', body: goodTgz.subarray(0, goodTgz.length - 10), reason: /not valid gzip/ },
    { name: 'tgz-of-garbage', ext: 'tgz', body: Buffer.from('not gzip at all'), reason: /not valid gzip/ },
  ];
}

let env: TestEnv;
let server: ApiServer;
let client: CodeDeployClient;
beforeAll(async () => {
  env = await testEnv({}, 'skip');
  server = await startApiServer(env.deps, { work: env.clock, viewFor: env.viewFor });
  client = new CodeDeployClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await server.close();
  await env.close();
});

const put = (key: string, body: Uint8Array) =>
  env.s3.client.send(new PutObjectCommand({ Bucket: LOCAL_REVISION_BUCKET, Key: key, Body: body }));

describe('damaged bundles through the API', () => {
  it('the good bundles the damage is applied to deploy', async () => {
    for (const [key, body] of [
      ['good/a.zip', zip({ 'appspec.yml': appSpec() })],
      ['good/back.tar', tar({ 'appspec.yml': appSpec({ functions: [['api', '2', '1']] }) })],
    ] as const) {
      await put(key, body);
      const { deploymentId } = await client.send(
        new CreateDeploymentCommand({
          applicationName: 'shop',
          deploymentGroupName: 'prod',
          revision: { revisionType: 'S3', s3Location: { bucket: LOCAL_REVISION_BUCKET, key } },
        }),
      );
      expect(deploymentId).toMatch(/^d-/);
      expect((await env.finish(deploymentId!)).deployment.state.status).toBe('Succeeded');
    }
  });

  it.each(damagedBundles().map((c) => [c.name, c] as const))(
    'CreateDeployment of a %s bundle: 400 InvalidRevisionException naming the revision',
    async (_name, c) => {
      const key = `damaged/${c.name}.${c.ext}`;
      await put(key, c.body);
      const before = await env.deps.deployments.list('shop', 'prod');
      const error = await client
        .send(
          new CreateDeploymentCommand({
            applicationName: 'shop',
            deploymentGroupName: 'prod',
            revision: { revisionType: 'S3', s3Location: { bucket: LOCAL_REVISION_BUCKET, key } },
          }),
        )
        .then(
          () => undefined,
          (e: unknown) => e as Error & { $metadata: { httpStatusCode?: number } },
        );
      expect(error?.name).toBe('InvalidRevisionException');
      expect(error?.$metadata.httpStatusCode).toBe(400);
      expect(error?.message).toContain(`s3://${LOCAL_REVISION_BUCKET}/${key}`);
      expect(error?.message).toMatch(c.reason);
      // Nothing a client could see as a 500 or a stack: no node internals in the message.
      expect(error?.message).not.toMatch(/offset" is out of range|RangeError|ERR_/);
      expect(await env.deps.deployments.list('shop', 'prod')).toEqual(before);
    },
  );
});

describe('registering a damaged bundle', () => {
  it('RegisterApplicationRevision records it without reading it, as CodeDeploy does; deploying it is refused', async () => {
    const c = damagedBundles().find((x) => x.name === 'corrupt-deflate')!;
    const key = `registered/${c.name}.${c.ext}`;
    await put(key, c.body);
    const revision = {
      revisionType: 'S3' as const,
      s3Location: { bucket: LOCAL_REVISION_BUCKET, key, bundleType: 'zip' as const },
    };
    await client.send(new RegisterApplicationRevisionCommand({ applicationName: 'shop', revision }));
    const got = await client.send(new GetApplicationRevisionCommand({ applicationName: 'shop', revision }));
    expect(got.revision?.s3Location?.key).toBe(key);
    await expect(
      client.send(new CreateDeploymentCommand({ applicationName: 'shop', deploymentGroupName: 'prod', revision })),
    ).rejects.toMatchObject({ name: 'InvalidRevisionException', message: expect.stringMatching(/corrupt deflate/) });
  });
});

describe('damaged bundles uploaded under revisions/<app>/<group>/', () => {
  /** The deployment the trigger records for an upload (the trigger runs on s3rver's event). */
  async function recordedFor(before: string[]): Promise<string> {
    for (let i = 0; i < 2000; i++) {
      const fresh = (await env.deps.deployments.list('shop', 'prod')).filter((id) => !before.includes(id));
      if (fresh.length) return fresh[0]!;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('the upload recorded no deployment');
  }

  it.each(damagedBundles().map((c) => [c.name, c] as const))(
    'a %s upload is a Failed deployment with the reason, an event and a published failure',
    async (_name, c) => {
      const key = `revisions/shop/prod/${c.name}.${c.ext}`;
      const before = await env.deps.deployments.list('shop', 'prod');
      await put(key, c.body);
      const id = await recordedFor(before);
      const d = (await env.deps.deployments.get(id))!;
      expect(d).toMatchObject({
        spec: { creator: 'S3', revision: { s3Location: { key } } },
        state: { status: 'Failed', errorInformation: { code: 'INVALID_REVISION' } },
      });
      expect(d.state.errorInformation?.message).toContain(`s3://${LOCAL_REVISION_BUCKET}/${key}`);
      expect(d.state.errorInformation?.message).toMatch(c.reason);
      const events = await env.deps.timeline.list(id);
      expect(events).toContainEqual(
        expect.objectContaining({ event: 'Failed', message: expect.stringMatching(c.reason) as unknown }),
      );
      const published = () =>
        env.world.log.find(
          (e) => e.kind === 'EventBridge' && (e.detail.detail as { deploymentId?: string }).deploymentId === id,
        );
      for (let i = 0; i < 2000 && !published(); i++) await new Promise((r) => setTimeout(r, 2));
      expect((published()?.detail.detail as { state?: string } | undefined)?.state).toBe('FAILURE');
    },
  );
});
