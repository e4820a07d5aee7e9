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
  let canonical: string;
  try {
    canonical = [
      req.method.toUpperCase(),
      canonicalPath(path),
      canonicalQuery(query),
      names.map((n) => `${n}:${headerValue(headers[n])}\n`).join(''),
      signedNames,
      sha256(req.body),
    ].join('\n');
  } catch {
    // A malformed percent-escape in the path or query (decodeURIComponent throws).
    return refuse('the request URL has a malformed percent-encoding');
  }
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

/**
 * How an S3 request's payload is covered by its signature (x-amz-content-sha256): a SHA-256 the body must
 * have, none (UNSIGNED-PAYLOAD: header or presigned), or `aws-chunked` framing whose chunks each carry a
 * signature chained from the request's (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) or none
 * (STREAMING-UNSIGNED-PAYLOAD-TRAILER, checksummed in a trailer).
 */
export type S3Payload =
  | { kind: 'sha256'; hash: string }
  | { kind: 'unsigned' }
  | { kind: 'chunked'; signed: false; trailer: true }
  | { kind: 'chunked'; signed: true; trailer: boolean; chain: ChunkSigning };

/** What a chunk signature is computed from (the seed is the request's own signature). */
export interface ChunkSigning {
  key: Buffer;
  amzDate: string;
  scope: string;
  seed: string;
}

/** A refused S3 request: S3's error code, and why. */
export interface S3Refusal {
  ok: false;
  status: number;
  code: string;
  reason: string;
}
export type S3SignatureCheck = { ok: true; accessKeyId: string; payload: S3Payload } | S3Refusal;

const EMPTY_SHA256 = sha256('');
/** Longest validity of a presigned URL (S3: 7 days). */
const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;

/** The next signature of an `aws-chunked` body: over the previous one and this chunk's SHA-256. */
export function chunkSignature(c: ChunkSigning, previous: string, chunkSha256: string): string {
  const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', c.amzDate, c.scope, previous, EMPTY_SHA256, chunkSha256].join('\n');
  return hmac(c.key, toSign).toString('hex');
}

/** The trailer's signature (…-PAYLOAD-TRAILER): over the last chunk's signature and the trailer lines. */
export function trailerSignature(c: ChunkSigning, previous: string, trailerLines: string): string {
  const toSign = ['AWS4-HMAC-SHA256-TRAILER', c.amzDate, c.scope, previous, sha256(trailerLines)].join('\n');
  return hmac(c.key, toSign).toString('hex');
}

const equalHex = (a: string, b: string) => {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Split `a=b&c` into decoded pairs (throws URIError on a malformed escape). */
const queryPairs = (query: string): [string, string][] =>
  query
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const i = pair.indexOf('=');
      return [decodeURIComponent(i < 0 ? pair : pair.slice(0, i)), decodeURIComponent(i < 0 ? '' : pair.slice(i + 1))];
    });

const canonicalPairs = (pairs: [string, string][]) =>
  pairs
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');

/**
 * Check an S3 request's SigV4 signature, in the Authorization header or presigned in the query
 * (X-Amz-Signature), as S3 does: the path is signed as sent (encoded once, not again), the payload by the
 * x-amz-content-sha256 header. The body itself is not read here: a `sha256` payload must be compared with
 * the body's hash, and a `chunked` one's chunk signatures checked, by the caller as the body streams in.
 * Unsigned requests are refused (AccessDenied). Never throws.
 */
export function verifyS3Request(
  req: { method: string; url: string; headers: Record<string, string | string[] | undefined> },
  secretOf: (accessKeyId: string) => string | undefined,
  opts: { now?: Date; maxSkewSeconds?: number } = {},
): S3SignatureCheck {
  const refuse = (status: number, code: string, reason: string): S3Refusal => ({ ok: false, status, code, reason });
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const [path, query = ''] = req.url.split('?', 2) as [string, string?];
  let pairs: [string, string][];
  let segments: string[];
  try {
    pairs = queryPairs(query);
    segments = path.split('/').map((seg) => decodeURIComponent(seg));
  } catch {
    return refuse(400, 'InvalidURI', 'Couldn\u2019t parse the specified URI (a malformed percent-encoding)');
  }
  const param = (name: string) => pairs.find(([k]) => k === name)?.[1];
  const auth = headerValue(headers.authorization);
  const presigned = param('X-Amz-Signature') !== undefined;
  if (!auth && !presigned)
    return refuse(
      403,
      'AccessDenied',
      'Anonymous requests are refused: sign the request (SigV4) with the local S3 credentials',
    );
  if (auth && presigned) return refuse(400, 'InvalidArgument', 'Only one auth mechanism allowed');
  let credential: string, signedNames: string, signature: string, amzDate: string;
  if (auth) {
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^\s,]+),\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m)
      return refuse(
        400,
        'AuthorizationHeaderMalformed',
        'The Authorization header is not an AWS4-HMAC-SHA256 signature',
      );
    [, credential, signedNames, signature] = m as unknown as [string, string, string, string];
    amzDate = headerValue(headers['x-amz-date']);
  } else {
    if (param('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256')
      return refuse(400, 'AuthorizationQueryParametersError', 'X-Amz-Algorithm must be AWS4-HMAC-SHA256');
    credential = param('X-Amz-Credential') ?? '';
    signedNames = param('X-Amz-SignedHeaders') ?? '';
    signature = param('X-Amz-Signature') ?? '';
    amzDate = param('X-Amz-Date') ?? '';
    if (!/^[0-9a-f]{64}$/.test(signature) || !/^[a-z0-9;_.-]+$/.test(signedNames))
      return refuse(400, 'AuthorizationQueryParametersError', 'X-Amz-Signature or X-Amz-SignedHeaders is malformed');
  }
  const scopeParts = credential.split('/');
  if (scopeParts.length !== 5 || scopeParts[4] !== 'aws4_request' || !/^\d{8}$/.test(scopeParts[1]!))
    return refuse(
      400,
      'AuthorizationHeaderMalformed',
      'The credential scope is not <key>/<date>/<region>/s3/aws4_request',
    );
  const [accessKeyId, day, region, service] = scopeParts as [string, string, string, string];
  if (service !== 's3')
    return refuse(400, 'AuthorizationHeaderMalformed', `The request is signed for ${service}, not s3`);
  const secret = secretOf(accessKeyId);
  if (!secret)
    return refuse(
      403,
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records (use the local S3 credentials)',
    );
  const signedAt = parseAmzDate(amzDate);
  if (!signedAt || amzDate.slice(0, 8) !== day)
    return refuse(403, 'AccessDenied', 'x-amz-date is missing or does not match the credential scope');
  const now = (opts.now ?? new Date()).getTime();
  if (presigned) {
    const expires = Number(param('X-Amz-Expires'));
    if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGNED_SECONDS)
      return refuse(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires must be between 1 and 604800 seconds');
    if (now > signedAt.getTime() + expires * 1000) return refuse(403, 'AccessDenied', 'Request has expired');
    if (signedAt.getTime() - now > (opts.maxSkewSeconds ?? MAX_SKEW_SECONDS) * 1000)
      return refuse(
        403,
        'RequestTimeTooSkewed',
        'The difference between the request time and the current time is too large',
      );
  } else if (Math.abs(now - signedAt.getTime()) / 1000 > (opts.maxSkewSeconds ?? MAX_SKEW_SECONDS))
    return refuse(
      403,
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large',
    );
  const names = signedNames.split(';');
  if (!names.includes('host')) return refuse(403, 'AccessDenied', 'The signature does not cover the host header');
  const claimed = presigned ? 'UNSIGNED-PAYLOAD' : headerValue(headers['x-amz-content-sha256']);
  let payload: S3Payload;
  if (/^[0-9a-f]{64}$/.test(claimed)) payload = { kind: 'sha256', hash: claimed };
  else if (claimed === 'UNSIGNED-PAYLOAD') payload = { kind: 'unsigned' };
  else if (claimed === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER')
    payload = { kind: 'chunked', signed: false, trailer: true };
  else if (claimed === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' || claimed === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER')
    payload = { kind: 'chunked', signed: true, trailer: claimed.endsWith('TRAILER'), chain: undefined as never };
  else
    return refuse(
      400,
      claimed ? 'InvalidArgument' : 'InvalidRequest',
      claimed
        ? `x-amz-content-sha256 ${JSON.stringify(claimed.slice(0, 80))} is not a supported value`
        : 'Missing required header for this request: x-amz-content-sha256',
    );
  const scope = `${day}/${region}/s3/aws4_request`;
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), 's3'), 'aws4_request');
  const headerBlock = names.map((n) => `${n}:${headerValue(headers[n])}\n`).join('');
  const queryText = canonicalPairs(pairs.filter(([k]) => !(presigned && k === 'X-Amz-Signature')));
  // S3 signs the path encoded once: as the client sent it, which for the SDKs and the CLI is the strict
  // RFC 3986 encoding of the key; a client that escapes differently still matches on the path as sent.
  const paths = [...new Set([segments.map((seg) => encode(seg)).join('/') || '/', path || '/'])];
  const matches = paths.some((p) => {
    const canonical = [req.method.toUpperCase(), p, queryText, headerBlock, signedNames, claimed].join('\n');
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
    return equalHex(hmac(key, toSign).toString('hex'), signature);
  });
  if (!matches)
    return refuse(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  if (payload.kind === 'chunked' && payload.signed) payload.chain = { key, amzDate, scope, seed: signature };
  return { ok: true, accessKeyId, payload };
}
