/**
 * Hostile request bodies, called in process: prototype names as operations and as keys, bodies over the
 * size limit, nesting deep enough to overflow a recursive walk, huge batches, broken strings and bytes,
 * non-object bodies, numbers JSON cannot mean, and garbage hook callbacks. Each answers a 4xx under
 * CodeDeploy's name, never a 500 or a crash, and the handler still answers afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleApiEvent } from '../../src/api/gateway.js';
import { handleHookCallback } from '../../src/api/hook-callback.js';
import { MAX_REQUEST_BYTES } from '../../src/api/json-protocol.js';
import { testEnv, type TestEnv } from '../support/local.js';

let env: TestEnv;
beforeAll(async () => {
  env = await testEnv();
});
afterAll(async () => env.close());

interface Answer {
  statusCode: number;
  body: string;
}
const T = 'CodeDeploy_20141006.';
const event = (target: string, body: string, isBase64Encoded = false) => ({
  resource: '/',
  headers: { 'X-Amz-Target': target, 'Content-Type': 'application/x-amz-json-1.1' },
  body,
  isBase64Encoded,
});
const raw = async (target: string, body: string): Promise<Answer> =>
  (await handleApiEvent(event(target, body), env.deps)) as Answer;
const call = (operation: string, body: unknown) => raw(`${T}${operation}`, JSON.stringify(body));
const type = (a: Answer): string => (JSON.parse(a.body) as { __type: string }).__type;
const polluted = () => ({}) as Record<string, unknown>;

/** The handler still serves a normal request. */
async function stillServes(): Promise<void> {
  const ok = await call('GetApplication', { applicationName: 'shop' });
  expect(ok.statusCode).toBe(200);
  expect(JSON.parse(ok.body).application.applicationName).toBe('shop');
}

describe('prototype names', () => {
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('target %s is unknown', async (name) => {
    const a = await raw(`${T}${name}`, '{}');
    expect(a.statusCode).toBe(400);
    expect(type(a)).toBe('UnknownOperationException');
    await stillServes();
  });

  it.each(['constructor', 'prototype'])('a member key %s pollutes nothing', async (key) => {
    const a = await raw(`${T}CreateApplication`, `{"applicationName":"p-${key}","${key}":{"polluted":1}}`);
    expect(a.statusCode).toBe(200);
    expect(JSON.parse(a.body).applicationId).toEqual(expect.any(String));
    expect(polluted().polluted).toBeUndefined();
  });

  it('a member key __proto__ is refused, naming it, and pollutes nothing', async () => {
    for (const body of [
      '{"applicationName":"p-proto","__proto__":{"polluted":1}}',
      '{"applicationName":"p-proto","tags":[{"Key":"k","Value":"v","__proto__":{"polluted":1}}]}',
    ]) {
      const a = await raw(`${T}CreateApplication`, body);
      expect(a.statusCode).toBe(400);
      expect(type(a)).toBe('InvalidInputException');
      expect(JSON.parse(a.body).message).toMatch(/^(tags\[0\]\.)?__proto__: /);
    }
    expect((await call('GetApplication', { applicationName: 'p-proto' })).statusCode).toBe(400);
    expect(polluted().polluted).toBeUndefined();
  });

  it.each(['__proto__', 'constructor'])('an application named %s round-trips', async (name) => {
    expect((await call('CreateApplication', { applicationName: name })).statusCode).toBe(200);
    const got = await call('GetApplication', { applicationName: name });
    expect(got.statusCode).toBe(200);
    expect(JSON.parse(got.body).application.applicationName).toBe(name);
    const list = await call('ListApplications', {});
    expect(JSON.parse(list.body).applications).toContain(name);
    const batch = await call('BatchGetApplications', { applicationNames: [name, 'shop'] });
    expect(JSON.parse(batch.body).applicationsInfo.map((a: { applicationName: string }) => a.applicationName)).toEqual([
      name,
      'shop',
    ]);
    expect(polluted().applicationName).toBeUndefined();
  });
});

describe('size and shape', () => {
  it('a body over 1 MiB is refused before parsing', async () => {
    const a = await raw(`${T}CreateApplication`, `{"applicationName":"${'a'.repeat(MAX_REQUEST_BYTES)}"}`);
    expect(a.statusCode).toBe(413);
    expect(type(a)).toBe('RequestEntityTooLargeException');
    // Multi-byte characters count as bytes, not as UTF-16 units.
    const wide = await raw(`${T}CreateApplication`, `{"x":"${'é'.repeat(MAX_REQUEST_BYTES / 2 + 1)}"}`);
    expect(wide.statusCode).toBe(413);
    await stillServes();
  });

  it.each([10_000, 400_000])('%i levels of nesting are refused, not a crash', async (depth) => {
    const arrays = '['.repeat(depth) + ']'.repeat(depth);
    const objects = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const bodies = [
      arrays,
      objects,
      `{"applicationName":"shop","x":${arrays}}`,
      `{"applicationName":${objects}}`,
      `{"applicationNames":${arrays}}`,
    ];
    for (const body of bodies) {
      const operation = body.includes('applicationNames') ? 'BatchGetApplications' : 'GetApplication';
      const a = await raw(`${T}${operation}`, body);
      if (Buffer.byteLength(body) > MAX_REQUEST_BYTES) {
        expect(a.statusCode).toBe(413); // refused before parsing
        continue;
      }
      expect(a.statusCode, body.slice(0, 40)).toBe(400);
      expect(type(a)).toBe('SerializationException');
      expect(JSON.parse(a.body).message).toBe('The request body is nested deeper than 100 levels');
    }
    await stillServes();
  });

  it('nesting up to 100 levels is still accepted', async () => {
    const a = await raw(`${T}GetApplication`, `{"applicationName":"shop","x":${'['.repeat(99)}${']'.repeat(99)}}`);
    expect(a.statusCode).toBe(200);
  });

  it('100,000 names in one BatchGetApplications is over the batch limit', async () => {
    const a = await call('BatchGetApplications', { applicationNames: Array.from({ length: 100_000 }, () => 'shop') });
    expect(a.statusCode).toBe(400);
    expect(type(a)).toBe('BatchLimitExceededException');
  });

  it.each(['[]', '"x"', 'null', '42', 'true'])('a body %s is not an object', async (body) => {
    const a = await raw(`${T}GetApplication`, body);
    expect(a.statusCode).toBe(400);
    expect(type(a)).toBe('SerializationException');
  });
});

describe('strings and numbers', () => {
  it('a 1 MB application name is an invalid name', async () => {
    const a = await call('CreateApplication', { applicationName: 'a'.repeat(1_000_000) });
    expect(a.statusCode).toBe(400);
    expect(type(a)).toBe('InvalidApplicationNameException');
    expect(a.body.length).toBeLessThan(2000); // the message does not echo the name
  });

  it('a lone surrogate is an invalid name (and no application by that name exists)', async () => {
    const created = await raw(`${T}CreateApplication`, '{"applicationName":"\\ud800"}');
    expect(created.statusCode).toBe(400);
    expect(type(created)).toBe('InvalidApplicationNameException');
    const got = await raw(`${T}GetApplication`, '{"applicationName":"\\ud800"}');
    expect(got.statusCode).toBe(400);
    expect(type(got)).toBe('ApplicationDoesNotExistException');
  });

  it('invalid UTF-8 bytes are an invalid name, or not JSON', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"applicationName":"'),
      Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]),
      Buffer.from('"}'),
    ]);
    const a = (await handleApiEvent(
      event(`${T}CreateApplication`, bytes.toString('base64'), true),
      env.deps,
    )) as Answer;
    expect(a.statusCode).toBe(400);
    expect(type(a)).toBe('InvalidApplicationNameException');
    const broken = Buffer.concat([Buffer.from('{"applicationName"'), Buffer.from([0xff]), Buffer.from(':"a"}')]);
    const b = (await handleApiEvent(event(`${T}GetApplication`, broken.toString('base64'), true), env.deps)) as Answer;
    expect(b.statusCode).toBe(400);
    expect(type(b)).toBe('SerializationException');
    await stillServes();
  });

  it.each(['1e400', '-1e400', '1.5', '"1"'])('minimumHealthyHosts value %s is refused', async (n) => {
    const a = await raw(
      `${T}CreateDeploymentConfig`,
      `{"deploymentConfigName":"n-${n.replace(/\W/g, '')}","computePlatform":"Server","minimumHealthyHosts":{"type":"HOST_COUNT","value":${n}}}`,
    );
    expect(a.statusCode).toBe(400);
    expect(type(a)).toBe('InvalidMinimumHealthyHostValueException');
  });

  it('minimumHealthyHosts value -0 is 0 (a valid HOST_COUNT), stored as 0', async () => {
    const config = { deploymentConfigName: 'minus-zero', computePlatform: 'Server' };
    const a = await raw(
      `${T}CreateDeploymentConfig`,
      `{"deploymentConfigName":"minus-zero","computePlatform":"Server","minimumHealthyHosts":{"type":"HOST_COUNT","value":-0}}`,
    );
    expect(a.statusCode).toBe(200);
    const got = await call('GetDeploymentConfig', { deploymentConfigName: config.deploymentConfigName });
    expect(got.body).toContain('"value":0');
  });
});

describe('hook callbacks', () => {
  const hook = (body: string) =>
    handleHookCallback(
      {
        resource: '/hooks',
        headers: { 'X-Amz-Target': `${T}PutLifecycleEventHookExecutionStatus` },
        body,
      },
      env.deps,
    ) as Promise<Answer>;

  it('garbage bodies and guessed ids are 4xx, and change nothing', async () => {
    const before = JSON.stringify(await env.deps.deployments.list?.('shop', 'prod'));
    const bodies = [
      '',
      'not json',
      '[]',
      'null',
      '{"deploymentId":42}',
      '{"deploymentId":"d-AAAAAAAAA"}',
      '{"deploymentId":"d-AAAAAAAAA","lifecycleEventHookExecutionId":"guess","status":"Succeeded"}',
      `{"deploymentId":"d-AAAAAAAAA","lifecycleEventHookExecutionId":"${'f'.repeat(64)}","status":"Failed"}`,
      '{"deploymentId":"__proto__","lifecycleEventHookExecutionId":"constructor","status":"Succeeded"}',
      '{"deploymentId":"d-AAAAAAAAA","lifecycleEventHookExecutionId":"x","status":"Exploded"}',
      '{"__proto__":{"status":"Succeeded"},"deploymentId":"d-AAAAAAAAA"}',
      '['.repeat(100_000),
    ];
    for (const body of bodies) {
      const a = await hook(body);
      expect(a.statusCode, body.slice(0, 60)).toBeGreaterThanOrEqual(400);
      expect(a.statusCode, body.slice(0, 60)).toBeLessThan(500);
    }
    expect(JSON.stringify(await env.deps.deployments.list?.('shop', 'prod'))).toBe(before);
    expect(polluted().status).toBeUndefined();
  });
});

describe('__proto__ keys in maps', () => {
  it('a hook configuration keyed __proto__ is refused, naming the field', async () => {
    const a = await raw(
      `${T}UpdateDeploymentGroup`,
      '{"applicationName":"shop","currentDeploymentGroupName":"prod","hookConfiguration":{"__proto__":{"timeoutSeconds":5}}}',
    );
    expect(a.statusCode).toBe(400);
    expect(JSON.parse(a.body).message).toContain('hookConfiguration.__proto__');
    const group = await call('GetDeploymentGroup', { applicationName: 'shop', deploymentGroupName: 'prod' });
    expect(JSON.parse(group.body).deploymentGroupInfo.cutover.hookConfiguration).toBeUndefined();
  });
});
