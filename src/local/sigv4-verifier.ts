/**
 * Local mode's check of AWS Signature Version 4 (what API Gateway's IAM authorisation does on AWS): the local
 * API server recomputes a request's signature with the secret of the access key it names, and only then knows
 * who is calling. Agents sign for `codedeploy-commands` (CodeDeploy's command service; `-secure` with its auth
 * policy) or `execute-api` (API Gateway). Header signatures only (no presigned query strings).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** A request as the server received it. */
export interface SignedRequest {
  method: string;
  /** Path and query, as on the request line. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** The outcome: unsigned (no Authorization header), signed by a known key, or refused and why. */
export type SignatureCheck =
  | { signed: false }
  | { signed: true; ok: true; accessKeyId: string; service: string; region: string }
  | { signed: true; ok: false; reason: string };

/** Services whose signatures the local server accepts for the host command operations. */
export const HOST_SIGNING_SERVICES: readonly string[] = [
  'codedeploy-commands',
  'codedeploy-commands-secure',
  'execute-api',
];
/** How far a request's signing time may be from the server's (AWS: 15 minutes). */
export const MAX_SKEW_SECONDS = 15 * 60;

const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding, as SigV4 wants it. */
const encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function canonicalPath(path: string): string {
  if (!path || path === '/') return '/';
  // Non-S3 services sign the path with each segment encoded once more (the SDK's default, uriEscapePath).
  return path
    .split('/')
    .map((seg) => encode(seg))
    .join('/');
}

function canonicalQuery(query: string): string {
  if (!query) return '';
  return query
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const i = pair.indexOf('=');
      const k = decodeURIComponent(i < 0 ? pair : pair.slice(0, i));
      const v = i < 0 ? '' : decodeURIComponent(pair.slice(i + 1).replace(/\+/g, ' '));
      return [encode(k), encode(v)] as const;
    })
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

const headerValue = (v: string | string[] | undefined) =>
  (Array.isArray(v) ? v.join(',') : (v ?? '')).trim().replace(/\s+/g, ' ');

/** `20260601T120000Z` as a Date, or undefined. */
function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

/**
 * Check a request's SigV4 signature with `secretOf(accessKeyId)`. The payload is hashed here (a claimed
 * x-amz-content-sha256 that differs, or UNSIGNED-PAYLOAD, does not match). Never throws.
 */
export function verifySigV4(
  req: SignedRequest,
  secretOf: (accessKeyId: string) => string | undefined,
  opts: { services?: readonly string[]; now?: Date; maxSkewSeconds?: number } = {},
): SignatureCheck {
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const auth = headerValue(headers.authorization);
  if (!auth) return { signed: false };
  const refuse = (reason: string): SignatureCheck => ({ signed: true, ok: false, reason });
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) return refuse('the Authorization header is not an AWS4-HMAC-SHA256 signature');
  const [, accessKeyId, day, region, service, signedNames, signature] = m as unknown as string[];
  const services = opts.services ?? HOST_SIGNING_SERVICES;
  if (!services.includes(service!)) return refuse(`the request is signed for ${service}, not ${services.join(' or ')}`);
  const secret = secretOf(accessKeyId!);
  if (!secret) return refuse(`the access key ${accessKeyId} is not one this engine issued`);
  const amzDate = headerValue(headers['x-amz-date']);
  const signedAt = parseAmzDate(amzDate);
  if (!signedAt || amzDate.slice(0, 8) !== day)
    return refuse('x-amz-date is missing or does not match the credential scope');
  const skew = Math.abs((opts.now ?? new Date()).getTime() - signedAt.getTime()) / 1000;
  if (skew > (opts.maxSkewSeconds ?? MAX_SKEW_SECONDS))
    return refuse('the signature has expired (or the clocks differ too much)');
  const names = signedNames!.split(';');
  if (!names.includes('host')) return refuse('the signature does not cover the host header');
  const [path, query = ''] = req.url.split('?', 2) as [string, string?];
  const canonical = [
    req.method.toUpperCase(),
    canonicalPath(path),
    canonicalQuery(query),
    names.map((n) => `${n}:${headerValue(headers[n])}\n`).join(''),
    signedNames,
    sha256(req.body),
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day!), region!), service!), 'aws4_request');
  const expected = Buffer.from(hmac(key, toSign).toString('hex'), 'utf8');
  const given = Buffer.from(signature!, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return refuse('the request signature we calculated does not match the signature provided');
  return { signed: true, ok: true, accessKeyId: accessKeyId!, service: service!, region: region! };
}

/** Who signed a request, for the API's request context: the principal of a known key whose signature matches. */
export function signerOf(
  req: SignedRequest,
  credentials: { lookup(accessKeyId: string): { secretAccessKey: string; principalArn: string } | undefined },
  opts: { now?: Date } = {},
): { caller?: { arn: string; accountId?: string }; refused?: string } {
  const check = verifySigV4(req, (key) => credentials.lookup(key)?.secretAccessKey, opts);
  if (!check.signed) return { refused: 'the request was not signed' };
  if (!check.ok) return { refused: check.reason };
  const principalArn = credentials.lookup(check.accessKeyId)!.principalArn;
  const accountId = /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(principalArn)?.[1];
  return { caller: { arn: principalArn, ...(accountId ? { accountId } : {}) } };
}
