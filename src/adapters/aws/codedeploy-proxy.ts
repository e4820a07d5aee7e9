/**
 * `cutover proxy`: a loopback endpoint for CodeDeploy clients that cannot sign for API Gateway.
 *
 * The deployed Cutover API is a REST API with IAM authorisation, so it only accepts SigV4 signatures
 * for `execute-api`. The AWS CLI and the SDK's CodeDeploy client sign for `codedeploy`. This server
 * takes their JSON 1.1 requests on 127.0.0.1, drops whatever they signed, and sends each request on to
 * the API signed for `execute-api` with the user's own credentials (the standard chain), then streams
 * the answer back as it comes.
 *
 * Anything on the machine can reach a loopback port, browsers included, so a request is refused (403)
 * unless its Host header names this very address and port (DNS rebinding: a page on attacker.example
 * that resolves to 127.0.0.1 sends `Host: attacker.example:N`) and it carries no Origin other than our
 * own (a browser always sends one on a cross-site POST). Bodies larger than the API accepts are refused
 * (413) from the declared length, or as soon as the received bytes pass it. Nothing the proxy logs
 * contains a header, a credential or a signature.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  CODEDEPLOY_TARGET_PREFIX,
  CONTENT_TYPE,
  CUTOVER_TARGET_PREFIX,
  MAX_REQUEST_BYTES,
} from '../../api/json-protocol.js';
import { verifySigV4 } from '../../local/sigv4-verifier.js';
import { signRequest, type Credentials } from './sigv4.js';

/** What one request came to, for the log line (never headers, credentials or signatures). */
export interface ProxyRequestLog {
  /** The X-Amz-Target, or `(none)`. */
  target: string;
  status: number;
  ms: number;
  /** Why the proxy itself refused or failed the request (the upstream's answers have none). */
  refused?: string;
}

export interface ProxyOptions {
  /** The deployed API: `https://<api-id>.execute-api.<region>.amazonaws.com/<stage>/`. */
  upstream: URL;
  /** The region to sign for (the API's). */
  region: string;
  /** The signing credentials (a provider from the standard chain, or static ones). */
  credentials: Credentials;
  /** 0 picks a free port. */
  port: number;
  /** Defaults to the API's own limit (MAX_REQUEST_BYTES). */
  maxBodyBytes?: number;
  /** How long an upstream call may take before the client gets a 504. */
  timeoutMs?: number;
  /**
   * Serve only requests that the client signed (for any service) with the proxy's own access key, so that
   * other users of the machine, who do not hold that key's secret, cannot borrow it.
   */
  requireSignature?: boolean;
  onRequest?: (log: ProxyRequestLog) => void;
}

export interface RunningProxy {
  /** `http://127.0.0.1:N` */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The only address the proxy listens on. */
export const PROXY_HOST = '127.0.0.1';

/** Headers that belong to one connection (RFC 9110 §7.6.1) and are never passed on. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The client's headers that go on to the API. Everything else stays behind, above all what the client
 * signed with (authorization, x-amz-date, x-amz-security-token, x-amz-content-sha256) and its host.
 */
const FORWARDED = ['content-type', 'x-amz-target', 'accept', 'amz-sdk-invocation-id', 'amz-sdk-request'];

const TARGET_PREFIXES = [CODEDEPLOY_TARGET_PREFIX, CUTOVER_TARGET_PREFIX];

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** Is this a Host header (or Origin authority) that names the proxy itself? */
const isOwnAuthority = (authority: string, port: number) =>
  authority === `${PROXY_HOST}:${port}` || authority.toLowerCase() === `localhost:${port}`;

/** Why a request is refused before anything is read or sent, or undefined. */
function refusal(req: IncomingMessage, port: number, maxBody: number): [number, string, string] | undefined {
  const host = one(req.headers.host) ?? '';
  if (!isOwnAuthority(host, port))
    return [
      403,
      'AccessDeniedException',
      `the Host header must be ${PROXY_HOST}:${port} (got ${host ? JSON.stringify(host.slice(0, 100)) : 'none'}); the proxy only serves clients on this machine that call it by its address`,
    ];
  const origin = one(req.headers.origin);
  if (origin !== undefined && !(origin.startsWith('http://') && isOwnAuthority(origin.slice(7), port)))
    return [
      403,
      'AccessDeniedException',
      'requests from web pages (an Origin header) are refused: the proxy signs with your AWS credentials',
    ];
  if (req.method !== 'POST')
    return [405, 'MethodNotAllowed', `the proxy accepts POST / (CodeDeploy's JSON 1.1), not ${req.method}`];
  if ((req.url ?? '/') !== '/')
    return [404, 'NotFound', `the proxy serves POST / only, not ${JSON.stringify((req.url ?? '').slice(0, 100))}`];
  const target = one(req.headers['x-amz-target']) ?? '';
  if (!TARGET_PREFIXES.some((p) => target.startsWith(p)))
    return [
      400,
      'UnknownOperationException',
      `X-Amz-Target: expected ${TARGET_PREFIXES.map((p) => `${p}<Operation>`).join(' or ')}`,
    ];
  const declared = Number(one(req.headers['content-length']) ?? 0);
  if (declared > maxBody) return [413, 'RequestEntityTooLargeException', `Request body larger than ${maxBody} bytes`];
  return undefined;
}

function answer(res: ServerResponse, status: number, type: string, message: string): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify({ __type: type, message });
  res
    .writeHead(status, {
      'content-type': CONTENT_TYPE,
      'x-amzn-errortype': type,
      'content-length': String(Buffer.byteLength(body)),
      // The connection may still carry an unread body: do not keep it.
      connection: 'close',
    })
    .end(body);
}

/** The body, or undefined once it passed `max` bytes (the caller answers 413; the rest is not read). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.pause();
        resolve(undefined);
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The upstream's response headers without the hop-by-hop ones (and those its Connection header names). */
export function endToEndHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const kept: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && !named.has(k)) kept[k] = v;
  return kept;
}

/** Start the proxy on 127.0.0.1. Rejects when the port is taken (EADDRINUSE). */
export async function startProxy(opts: ProxyOptions): Promise<RunningProxy> {
  const maxBody = opts.maxBodyBytes ?? MAX_REQUEST_BYTES;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const upstream = opts.upstream;
  const send = upstream.protocol === 'https:' ? httpsRequest : httpRequest;
  let port = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const target = one(req.headers['x-amz-target']) || '(none)';
    const log = (status: number, refused?: string) =>
      opts.onRequest?.({ target, status, ms: performance.now() - started, ...(refused ? { refused } : {}) });
    const fail = (status: number, type: string, message: string) => {
      answer(res, status, type, message);
      log(status, message);
    };
    const refused = refusal(req, port, maxBody);
    if (refused) return fail(...refused);
    const received = await readBody(req, maxBody);
    if (!received) return fail(413, 'RequestEntityTooLargeException', `Request body larger than ${maxBody} bytes`);
    // Signed and sent as the same string, so the signature covers exactly the bytes that go out.
    const body = received.toString('utf8');

    if (opts.requireSignature) {
      let own: { accessKeyId: string; secretAccessKey: string };
      try {
        own = typeof opts.credentials === 'function' ? await opts.credentials() : opts.credentials;
      } catch (e) {
        return fail(500, 'CredentialsProviderError', `no usable AWS credentials (${(e as Error).message})`);
      }
      const check = verifySigV4(
        { method: 'POST', url: req.url ?? '/', headers: req.headers, body },
        (id) => (id === own.accessKeyId ? own.secretAccessKey : undefined),
        { services: ['codedeploy', 'execute-api'] },
      );
      if (!check.signed || !check.ok) {
        // The verifier names an unknown key; the log line must not.
        const why = !check.signed
          ? 'the request is not signed'
          : check.reason.includes('is not one this engine issued')
            ? "it is signed with another access key than the proxy's"
            : check.reason;
        return fail(403, 'AccessDeniedException', `--require-signature: ${why}`);
      }
    }
    const headers: Record<string, string> = {};
    for (const name of FORWARDED) {
      const v = one(req.headers[name]);
      if (v !== undefined) headers[name] = v;
    }
    headers['content-type'] ??= CONTENT_TYPE;
    let signed: Record<string, string>;
    try {
      signed = await signRequest({
        method: 'POST',
        url: upstream,
        headers,
        body,
        region: opts.region,
        service: 'execute-api',
        credentials: opts.credentials,
      });
    } catch (e) {
      // The credential chain's message says which sources it tried; it holds no secret.
      return fail(
        500,
        'CredentialsProviderError',
        `cannot sign the request: no usable AWS credentials (${(e as Error).message})`,
      );
    }
    const out = send(
      upstream,
      {
        method: 'POST',
        headers: { ...signed, 'content-length': String(Buffer.byteLength(body)) },
        timeout: timeoutMs,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, endToEndHeaders(up.headers));
        up.pipe(res);
        up.on('end', () => log(up.statusCode ?? 502));
        up.on('error', () => res.destroy());
      },
    );
    out.on('timeout', () => out.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    out.on('error', (e) => {
      const timedOut = e.message.startsWith('no answer');
      fail(
        timedOut ? 504 : 502,
        timedOut ? 'GatewayTimeout' : 'BadGateway',
        `cannot reach ${upstream.host} (${(e as NodeJS.ErrnoException).code ?? e.message})`,
      );
    });
    res.on('close', () => {
      // The client went away: stop the upstream call too.
      if (!res.writableFinished) out.destroy();
    });
    out.end(body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => answer(res, 500, 'InternalFailure', `proxy error: ${(e as Error).message}`));
  });
  // A slow or stuck client must not hold a connection for ever.
  server.requestTimeout = timeoutMs + 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, PROXY_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${PROXY_HOST}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
