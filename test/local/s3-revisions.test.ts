/** S3 revisions through the real S3 API (the local S3 on loopback): bare AppSpecs and bundles. */
import { readFileSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZlibBundles } from '../../src/adapters/system/bundles.js';

const bundles = new ZlibBundles();
const appSpecFromBundle = (data: Uint8Array, type: 'zip' | 'tar' | 'tgz') => bundles.appSpecOf(data, type);
import { InvalidInputError } from '../../src/domain/errors.js';
import { LOCAL_REVISION_BUCKET } from '../../src/local/s3.js';
import { TASKS } from '../../src/tasks/index.js';
import { tar, tgz, zip } from '../support/archives.js';
import { appSpec, testEnv, type TestEnv } from '../support/local.js';

let env: TestEnv;
beforeAll(async () => {
  env = await testEnv();
});
afterAll(async () => env.close());

const put = (key: string, body: Uint8Array | string) =>
  env.s3.client.send(new PutObjectCommand({ Bucket: LOCAL_REVISION_BUCKET, Key: key, Body: body }));
const deployS3 = async (key: string, extra: Record<string, unknown> = {}) => {
  const { deploymentId } = (await TASKS.createDeployment.run(
    {
      applicationName: 'shop',
      deploymentGroupName: 'prod',
      revision: { revisionType: 'S3', s3Location: { bucket: LOCAL_REVISION_BUCKET, key, ...extra } },
    },
    env.deps,
  )) as { deploymentId: string };
  return env.finish(deploymentId);
};

describe('S3 revisions', () => {
  it('a zip bundle with appspec.yml at its root deploys; the revision records bundle type and eTag', async () => {
    const put1 = await put('revisions/shop/prod/v2.zip', zip({ 'appspec.yml': appSpec(), 'README.md': 'docs' }));
    const r = await deployS3('revisions/shop/prod/v2.zip');
    expect(r.deployment.state.status).toBe('Succeeded');
    expect(r.deployment.spec.revision).toEqual({
      revisionType: 'S3',
      s3Location: {
        bucket: LOCAL_REVISION_BUCKET,
        key: 'revisions/shop/prod/v2.zip',
        bundleType: 'zip',
        eTag: put1.ETag!.replace(/"/g, ''),
      },
    });
  });

  it('a tgz bundle and a bare YAML AppSpec deploy too', async () => {
    await put('r/back.tgz', tgz({ 'appspec.yaml': appSpec({ functions: [['api', '2', '1']] }) }));
    expect((await deployS3('r/back.tgz')).deployment.state.status).toBe('Succeeded');
    await put('r/again.yaml', appSpec());
    expect((await deployS3('r/again.yaml')).deployment.state.status).toBe('Succeeded');
  });

  it('a bundle without an AppSpec, or with the wrong eTag, is refused with the reason; nothing is recorded', async () => {
    await put('r/empty.zip', zip({ 'src/index.js': 'x' }));
    await expect(deployS3('r/empty.zip')).rejects.toMatchObject({
      exceptionName: 'InvalidRevisionException',
      message: expect.stringContaining('no appspec.yml, appspec.yaml, appspec.json at its root'),
    });
    await put('r/v.yaml', appSpec({ functions: [['api', '1', '2']] }));
    await expect(deployS3('r/v.yaml', { eTag: '"0123"' })).rejects.toMatchObject({
      message: expect.stringContaining("revision.s3Location.eTag: does not match the object's ETag"),
    });
    expect((await env.deps.catalog.getDeploymentGroup('shop', 'prod'))?.activeDeploymentId).toBeUndefined();
  });
});

describe('bundle reading', () => {
  it('reads archives made by real tools (Info-ZIP, GNU tar with ./ names, gzip)', () => {
    expect(appSpecFromBundle(readFileSync('test/fixtures/bundles/info-zip.zip'), 'zip')).toBe('version: 0.0\n');
    expect(appSpecFromBundle(readFileSync('test/fixtures/bundles/gnu-tar.tgz'), 'tgz')).toBe('version: 0.0\n');
    expect(appSpecFromBundle(readFileSync('test/fixtures/bundles/gnu-tar-dot-slash.tar'), 'tar')).toBe(
      'version: 0.0\n',
    );
  });

  it('prefers appspec.yml, reads stored (uncompressed) zip entries, ignores nested appspecs, rejects garbage', () => {
    expect(appSpecFromBundle(zip({ 'appspec.json': '{}', 'appspec.yml': 'yml' }, false), 'zip')).toBe('yml');
    expect(() => appSpecFromBundle(tar({ 'sub/appspec.yml': 'nested' }), 'tar')).toThrow(
      /no appspec.yml, appspec.yaml, appspec.json at its root \(it is empty\)/,
    );
    expect(() => appSpecFromBundle(Buffer.from('not a zip at all'), 'zip')).toThrow(/not a valid zip archive/);
    expect(() => appSpecFromBundle(Buffer.from('not gzip'), 'tgz')).toThrow(/not valid gzip/);
  });

  it('a damaged zip (a size that lies, corrupt deflate data, an entry offset past the end) is an invalid revision', () => {
    const good = zip({ 'appspec.yml': 'version: 0.0\n' });
    const central = good.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    const local = good.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    const lyingSize = Buffer.from(good);
    lyingSize.writeUInt32LE(0xffffff, central + 20); // compressed size far past the end
    const corrupt = Buffer.from(good);
    const dataStart = local + 30 + corrupt.readUInt16LE(local + 26) + corrupt.readUInt16LE(local + 28);
    corrupt.fill(0xff, dataStart, dataStart + 4);
    const pastEnd = Buffer.from(good);
    pastEnd.writeUInt32LE(good.length + 1000, central + 42); // local header offset
    for (const damaged of [lyingSize, corrupt, pastEnd]) {
      let caught: unknown;
      try {
        appSpecFromBundle(damaged, 'zip');
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(InvalidInputError);
      expect(caught).toMatchObject({ exceptionName: 'InvalidRevisionException' });
      expect((caught as Error).message).toMatch(/zip/);
    }
  });
});

describe('S3 upload trigger (local S3 events → the same task as on AWS)', () => {
  /** The group's deployments now (to tell the next upload's deployment from the earlier ones). */
  const listed = () => env.deps.deployments.list('shop', 'prod');
  /** Wait until the group has a deployment not in `before` (the trigger runs on the local S3's event). */
  async function newDeployment(before: string[]): Promise<string> {
    for (let i = 0; i < 2000; i++) {
      const fresh = (await listed()).filter((id) => !before.includes(id));
      if (fresh.length) return fresh[0]!;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('no new deployment');
  }

  it('an upload under revisions/<app>/<group>/ starts a deployment; metadata names the config', async () => {
    const before = await listed();
    await env.s3.client.send(
      new PutObjectCommand({
        Bucket: LOCAL_REVISION_BUCKET,
        Key: 'revisions/shop/prod/release 7.tgz',
        Body: tgz({ 'appspec.yml': appSpec({ functions: [['worker', '5', '6']] }) }),
        Metadata: { 'deployment-config': 'CodeDeployDefault.LambdaAllAtOnce', description: 'from CI' },
      }),
    );
    const id = await newDeployment(before);
    const r = await env.finish(id);
    expect(r.deployment).toMatchObject({
      spec: { creator: 'S3', description: 'from CI', deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' },
      state: { status: 'Succeeded' },
    });
    expect(r.deployment.spec.revision).toMatchObject({
      revisionType: 'S3',
      s3Location: { key: 'revisions/shop/prod/release 7.tgz', bundleType: 'tgz' },
    });
    expect(env.world.getAlias('worker', 'live').functionVersion).toBe('6');
  });

  it('a bare AppSpec and a zip bundle uploaded under the prefix deploy too', async () => {
    for (const [key, body, from, to] of [
      ['revisions/shop/prod/back.yaml', appSpec({ functions: [['worker', '6', '5']] }), '6', '5'],
      [
        'revisions/shop/prod/again.zip',
        zip({ 'appspec.yml': appSpec({ functions: [['worker', '5', '6']] }) }),
        '5',
        '6',
      ],
    ] as const) {
      const before = await listed();
      expect(env.world.getAlias('worker', 'live').functionVersion).toBe(from);
      await put(key, body);
      const id = await newDeployment(before);
      const r = await env.finish(id);
      expect(r.deployment).toMatchObject({
        spec: { creator: 'S3', revision: { s3Location: { key } } },
        state: { status: 'Succeeded' },
      });
      expect(env.world.getAlias('worker', 'live').functionVersion).toBe(to);
    }
  });

  it('an invalid upload is recorded as a Failed deployment with the reason, and the failure is published', async () => {
    const before = await listed();
    await put('revisions/shop/prod/broken.zip', zip({ 'index.js': 'no appspec here' }));
    const id = await newDeployment(before);
    const d = (await env.deps.deployments.get(id))!;
    expect(d).toMatchObject({
      spec: { creator: 'S3' },
      state: { status: 'Failed', errorInformation: { code: 'INVALID_REVISION' } },
    });
    expect(d.state.errorInformation?.message).toContain('no appspec.yml');
    const published = () =>
      env.world.log.find(
        (e) => e.kind === 'EventBridge' && (e.detail.detail as { deploymentId: string }).deploymentId === id,
      );
    while (!published()) await new Promise((r) => setTimeout(r, 2));
    expect((published()!.detail.detail as { state: string }).state).toBe('FAILURE');
  });

  it('uploads outside the prefix, or of other files, are ignored', async () => {
    const result = await TASKS.s3Trigger.run(
      {
        Records: [
          {
            eventName: 'ObjectCreated:Put',
            s3: { bucket: { name: LOCAL_REVISION_BUCKET }, object: { key: 'other/shop/prod/x.zip' } },
          },
          {
            eventName: 'ObjectCreated:Put',
            s3: { bucket: { name: LOCAL_REVISION_BUCKET }, object: { key: 'revisions/shop/prod/notes.txt' } },
          },
          {
            eventName: 'ObjectCreated:Put',
            s3: { bucket: { name: LOCAL_REVISION_BUCKET }, object: { key: 'revisions/shop/x.zip' } },
          },
        ],
      },
      env.deps,
    );
    expect(result.results.map((r: { ignored?: string }) => r.ignored)).toEqual([
      'not under revisions/<application>/<deploymentGroup>/',
      'not an AppSpec or bundle (.yaml, .yml, .json, .zip, .tar, .tgz)',
      'not under revisions/<application>/<deploymentGroup>/',
    ]);
  });
});
