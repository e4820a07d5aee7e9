/**
 * Local mode's SigV4 check (src/local/sigv4-verifier.ts) against the AWS SDK's own signer: what it signs is
 * accepted; a changed body, a claimed payload hash, an old signature, a changed signed header are not.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { PolicyAuthorizer } from '../../src/adapters/memory/policy-authorizer.js';
import { ALLOW_ALL } from '../../src/domain/policy.js';
import { describe, expect, it } from 'vitest';
import { Sha256 } from '../../src/adapters/aws/sigv4.js';
import { verifySigV4, type SignedRequest } from '../../src/local/sigv4-verifier.js';

const KEY = { accessKeyId: 'AKIACUTOVERTEST01', secretAccessKey: 'a-secret-only-this-test-knows' };
const secretOf = (k: string) => (k === KEY.accessKeyId ? KEY.secretAccessKey : undefined);
const NOW = new Date('2026-06-01T12:00:00Z');

async function signed(
  body: string,
  opts: { service?: string; query?: Record<string, string>; extra?: Record<string, string>; at?: Date } = {},
): Promise<SignedRequest> {
  const signer = new SignatureV4({
    service: opts.service ?? 'codedeploy-commands',
    region: 'us-east-1',
    credentials: KEY,
    sha256: Sha256,
  });
  const r = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 4321,
      path: '/',
      query: opts.query ?? {},
      headers: {
        host: '127.0.0.1:4321',
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'CodeDeployCommandService_v20141006.PollHostCommand',
        ...opts.extra,
      },
      body,
    },
    { signingDate: opts.at ?? NOW },
  );
  const query = new URLSearchParams(opts.query ?? {}).toString();
  return { method: 'POST', url: `/${query ? `?${query}` : ''}`, headers: r.headers, body };
}

describe('SigV4 as the local server checks it', () => {
  it('accepts what the SDK signed, for the command service and for execute-api; with a query string too', async () => {
    const body = '{"HostIdentifier":"arn:aws:ec2:us-east-1:111122223333:instance/i-0abc12345"}';
    expect(verifySigV4(await signed(body), secretOf, { now: NOW })).toMatchObject({
      signed: true,
      ok: true,
      accessKeyId: KEY.accessKeyId,
      service: 'codedeploy-commands',
    });
    expect(verifySigV4(await signed(body, { service: 'execute-api' }), secretOf, { now: NOW })).toMatchObject({
      ok: true,
    });
    const q = await signed(body, { query: { b: 'two words', a: '1' } });
    expect(verifySigV4(q, secretOf, { now: NOW })).toMatchObject({ ok: true });
    expect(verifySigV4({ ...q, headers: { 'x-amz-date': 'x' }, body }, secretOf)).toEqual({ signed: false });
  });

  it('refuses a changed body, a claimed payload hash, an old signature, a key it did not issue, a signed header changed', async () => {
    const body = '{"HostIdentifier":"a"}';
    const req = await signed(body);
    const reason = (r: SignedRequest, now = NOW) => {
      const c = verifySigV4(r, secretOf, { now });
      return c.signed && !c.ok ? c.reason : 'accepted';
    };
    expect(reason({ ...req, body: '{"HostIdentifier":"b"}' })).toMatch(/does not match/);
    const claimed = await signed(body, { extra: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    expect(reason(claimed)).toMatch(/does not match/);
    expect(reason(req, new Date(NOW.getTime() + 16 * 60_000))).toMatch(/expired/);
    expect(
      reason({
        ...req,
        headers: { ...req.headers, 'x-amz-target': 'CodeDeployCommandService_v20141006.PutHostCommandComplete' },
      }),
    ).toMatch(/does not match/);
    const other = await signed(body);
    other.headers.authorization = String(other.headers.authorization).replace(KEY.accessKeyId, 'AKIAOTHER');
    expect(reason(other)).toMatch(/not one this engine issued/);
    expect(reason(await signed(body, { service: 'codedeploy' }))).toMatch(/signed for codedeploy/);
  });
});

describe("API Gateway's IAM identity", () => {
  it('becomes the caller of the command operations; without it they are refused', async () => {
    const { handleApiEvent } = await import('../../src/api/gateway.js');
    const { MemoryHostCommands } = await import('../support/fleet-memory.js');
    const deps = {
      hostCommands: new MemoryHostCommands(),
      instances: { byIamArn: async () => undefined },
      clock: { now: () => NOW, stamp: () => NOW },
      // Every operation is authorized (ADR 24); the command operations also check the host.
      authorizer: new PolicyAuthorizer(ALLOW_ALL),
      env: { region: 'us-east-1', accountId: '111122223333' },
      ids: { uuid: () => '0' },
      log: { info() {}, warn() {}, error() {} },
    } as never;
    const event = (identity?: { userArn: string; accountId: string }) => ({
      resource: '/',
      headers: { 'X-Amz-Target': 'CodeDeployCommandService_v20141006.PollHostCommand' },
      body: JSON.stringify({ HostIdentifier: 'arn:aws:ec2:us-east-1:111122223333:instance/i-0abc12345' }),
      ...(identity ? { requestContext: { identity } } : {}),
    });
    const signed = (await handleApiEvent(
      event({ userArn: 'arn:aws:sts::111122223333:assumed-role/web/i-0abc12345', accountId: '111122223333' }),
      deps,
    )) as { statusCode: number; body: string };
    expect(signed.statusCode).toBe(200);
    expect(JSON.parse(signed.body)).toEqual({ NextPollInSeconds: expect.any(Number) });
    const anonymous = (await handleApiEvent(event(), deps)) as { statusCode: number; body: string };
    expect(anonymous.statusCode).toBe(400);
    expect(JSON.parse(anonymous.body)).toMatchObject({ __type: 'AccessDeniedException' });
    const otherHost = (await handleApiEvent(
      event({ userArn: 'arn:aws:sts::111122223333:assumed-role/web/i-0def67890', accountId: '111122223333' }),
      deps,
    )) as { body: string };
    expect(JSON.parse(otherHost.body)).toMatchObject({ __type: 'AccessDeniedException' });
  });
});
