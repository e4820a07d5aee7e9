/**
 * The Secrets port's contract, run against both adapters: SsmSecrets over a small fake of Parameter Store
 * (versions as SSM numbers them, `name:version` selectors, its error names), and FileSecrets on disk and in
 * memory. Each test checks what can be read back afterwards, not which calls were made.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterNotFound,
  ParameterVersionNotFound,
  PutParameterCommand,
  SSMClient,
  type PutParameterCommandInput,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { clientConfig } from '../../src/adapters/aws/errors.js';
import { SsmSecrets } from '../../src/adapters/aws/ssm-secrets.js';
import { FileSecrets, LOCAL_SECRETS_PREFIX } from '../../src/adapters/system/file-secrets.js';
import { SECRET_GONE } from '../../src/adapters/system/secret-refs.js';
import { DependencyRejectedError, DependencyUnavailableError } from '../../src/domain/errors.js';
import type { Secrets } from '../../src/ports/index.js';

const PREFIX = '/cutover/test/webhook-secrets';
const GROUP = '6f1c2e1a-0b4d-4a51-9d7e-0c2b8f3e9a10';
const OTHER = '0d3f8c55-7e1b-4c7a-a2f4-5b9e6d1c2a33';

/** Parameter Store as far as the adapter uses it: names, numbered versions, SecureString, its errors. */
const ssmMock = mockClient(SSMClient);
const parameters = new Map<string, { versions: Map<number, string>; latest: number; keyId?: string; type?: string }>();
const meta = { $metadata: {} };
function fakeSsm(): void {
  parameters.clear();
  ssmMock.reset();
  ssmMock.on(PutParameterCommand).callsFake((i: PutParameterCommandInput) => {
    const p = parameters.get(i.Name!) ?? { versions: new Map(), latest: 0 };
    if (parameters.has(i.Name!) && !i.Overwrite) throw new Error('ParameterAlreadyExists');
    p.latest += 1;
    p.versions.set(p.latest, i.Value!);
    for (const v of p.versions.keys()) if (v <= p.latest - 100) p.versions.delete(v);
    Object.assign(p, { keyId: i.KeyId, type: i.Type });
    parameters.set(i.Name!, p);
    return { Version: p.latest, Tier: 'Standard' };
  });
  ssmMock.on(GetParameterCommand).callsFake((i: { Name: string; WithDecryption?: boolean }) => {
    const [name, selector] = i.Name.split(':');
    const p = parameters.get(name!);
    if (!p) throw new ParameterNotFound({ message: '', ...meta });
    const version = selector === undefined ? p.latest : Number(selector);
    const value = p.versions.get(version);
    if (value === undefined) throw new ParameterVersionNotFound({ message: `version ${selector}`, ...meta });
    // Without decryption SSM returns the ciphertext, which would sign every webhook wrongly.
    return { Parameter: { Name: name, Version: version, Value: i.WithDecryption ? value : 'AQICAH-ciphertext' } };
  });
  ssmMock.on(DeleteParameterCommand).callsFake((i: { Name: string }) => {
    if (!parameters.delete(i.Name)) throw new ParameterNotFound({ message: '', ...meta });
    return {};
  });
}
const ssmClient = new SSMClient(clientConfig({ region: 'us-east-1', maxAttempts: 1 }));

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'cutover-secrets-'));
  dirs.push(d);
  return join(d, 'secrets');
};

const gone = async (p: Promise<unknown>): Promise<DependencyRejectedError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DependencyRejectedError);
  return err as DependencyRejectedError;
};

const adapters: [string, () => { secrets: Secrets; prefix: string }][] = [
  ['SsmSecrets', () => (fakeSsm(), { secrets: new SsmSecrets(ssmClient, PREFIX), prefix: PREFIX })],
  ['FileSecrets on disk', () => ({ secrets: new FileSecrets(tempDir()), prefix: LOCAL_SECRETS_PREFIX })],
  ['FileSecrets in memory', () => ({ secrets: new FileSecrets(), prefix: LOCAL_SECRETS_PREFIX })],
];

describe.each(adapters)('the Secrets contract: %s', (_name, make) => {
  let secrets: Secrets;
  let prefix: string;
  beforeEach(() => ({ secrets, prefix } = make()));

  it('a put returns a new reference under the prefix; every reference keeps reading its own value', async () => {
    const first = await secrets.put(GROUP, 'the-first-webhook-secret');
    const second = await secrets.put(GROUP, 'the-second-webhook-secret');
    expect(first).toBe(`${prefix}/${GROUP}:1`);
    expect(second).toBe(`${prefix}/${GROUP}:2`);
    // A record still naming the first version (its update crashed after the put) signs as before.
    expect(await secrets.get(first)).toBe('the-first-webhook-secret');
    expect(await secrets.get(second)).toBe('the-second-webhook-secret');
    expect(await secrets.get(await secrets.put(OTHER, 'another-groups-secret'))).toBe('another-groups-secret');
    expect(await secrets.get(second)).toBe('the-second-webhook-secret');
  });

  it('remove deletes every version of that owner only, and is idempotent', async () => {
    const mine = [await secrets.put(GROUP, 'value-number-one'), await secrets.put(GROUP, 'value-number-two')];
    const theirs = await secrets.put(OTHER, 'value-of-the-other');
    await secrets.remove(GROUP);
    await secrets.remove(GROUP);
    await secrets.remove('1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed'); // never stored
    for (const ref of mine) expect((await gone(secrets.get(ref))).message).toBe(SECRET_GONE);
    expect(await secrets.get(theirs)).toBe('value-of-the-other');
  });

  it('keeps the 100 latest versions, as Parameter Store does', async () => {
    const refs: string[] = [];
    for (let k = 0; k < 101; k++) refs.push(await secrets.put(GROUP, `value-${k}`));
    expect((await gone(secrets.get(refs[0]!))).message).toBe(SECRET_GONE);
    expect(await secrets.get(refs[1]!)).toBe('value-1');
    expect(await secrets.get(refs[100]!)).toBe('value-100');
  });

  it('refuses references that are not its own, and owners that are not group ids, naming no path', async () => {
    await secrets.put(GROUP, 'a-value-worth-stealing');
    for (const ref of [
      `/other/prefix/${GROUP}:1`,
      `${prefix}/${GROUP}`,
      `${prefix}/${GROUP}:0`,
      `${prefix}/${GROUP}:latest`,
      `${prefix}/../${GROUP}:1`,
      `${prefix}/a/b:1`,
      '',
    ]) {
      const err = await gone(secrets.get(ref));
      expect(err.message).toBe(SECRET_GONE);
      expect(err.message).not.toContain('/');
    }
    for (const owner of ['../escape', 'a/b', '', 'x'.repeat(65), '__proto__/x'])
      await expect(secrets.put(owner, 'some-long-value-here')).rejects.toThrow(/deployment group id/);
  });
});

describe('SsmSecrets against Parameter Store', () => {
  beforeEach(fakeSsm);

  it('stores SecureStrings, encrypted with the stack key when one is given, and reads them decrypted', async () => {
    const keyId = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const ref = await new SsmSecrets(ssmClient, PREFIX, keyId).put(GROUP, 'signed-with-this-value');
    expect(parameters.get(`${PREFIX}/${GROUP}`)).toMatchObject({ type: 'SecureString', keyId });
    await new SsmSecrets(ssmClient, PREFIX).put(OTHER, 'default-key-value-x');
    expect(parameters.get(`${PREFIX}/${OTHER}`)).toMatchObject({ type: 'SecureString', keyId: undefined });
    expect(await new SsmSecrets(ssmClient, PREFIX).get(ref)).toBe('signed-with-this-value');
  });

  it('throttling is DependencyUnavailable (the task retries); access denied is DependencyRejected', async () => {
    const secrets = new SsmSecrets(ssmClient, PREFIX);
    ssmMock
      .on(PutParameterCommand)
      .rejects(
        Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }),
      );
    await expect(secrets.put(GROUP, 'value-that-waits-a-bit')).rejects.toBeInstanceOf(DependencyUnavailableError);
    ssmMock.on(GetParameterCommand).rejects(
      Object.assign(new Error('not authorized'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const err = await gone(secrets.get(`${PREFIX}/${GROUP}:1`));
    expect(err.awsErrorName).toBe('AccessDeniedException');
  });

  it('a reference read once is served from memory: it names one immutable version', async () => {
    const secrets = new SsmSecrets(ssmClient, PREFIX);
    const ref = await secrets.put(GROUP, 'cached-after-first-read');
    expect(await secrets.get(ref)).toBe('cached-after-first-read');
    ssmMock.on(GetParameterCommand).rejects(new Error('Parameter Store is down'));
    expect(await secrets.get(ref)).toBe('cached-after-first-read');
    await secrets.remove(GROUP); // …until the owner is removed through this adapter
    await expect(secrets.get(ref)).rejects.toThrow(/down/);
  });
});

describe('FileSecrets on disk', () => {
  it('a private folder and private files, written whole, readable by a new process', async () => {
    const dir = tempDir();
    const ref = await new FileSecrets(dir).put(GROUP, 'kept-across-restarts-value');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir);
    expect(files).toEqual([`${GROUP}.json`]); // no temporary file left beside it
    expect(statSync(join(dir, files[0]!)).mode & 0o777).toBe(0o600);
    expect(await new FileSecrets(dir).get(ref)).toBe('kept-across-restarts-value');
    await new FileSecrets(dir).remove(GROUP);
    expect(readdirSync(dir)).toEqual([]);
  });
});
