/**
 * The local API server: CodeDeploy's JSON 1.1 protocol over HTTP on loopback, backed by the
 * local environment, so the AWS CLI, the SDK's CodeDeploy client and hook functions can point
 * their endpoint at it. Binding anything but loopback needs an explicit opt-in. Only the local user's tools
 * are served: a Host other than the listening address (DNS rebinding) or a foreign Origin (a web page) gets
 * 403 AccessDeniedException (src/local/local-origin.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_REQUEST_BYTES, handleJson } from '../api/json-protocol.js';
import type { RequestContext } from '../api/operation.js';
import { dispatch } from '../api/operations.js';
import type { Deps, Uses } from '../tasks/task.js';
import type { WorkTracker } from './clock.js';
import { foreignRequest } from './local-origin.js';
import type { SignedRequest } from './sigv4-verifier.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
/** How long a refused request's connection drains before it is closed. */
const LINGER_MS = 2000;

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

export async function startApiServer(
  deps: Deps,
  opts: {
    host?: string;
    port?: number;
    allowRemote?: boolean;
    /** Virtual time waits while a request is handled (its effects happen "at once"). */
    work?: WorkTracker;
    /** Each operation sees only the ports it declares (LocalEnvironment.viewFor). */
    viewFor?: (caller: string, uses: Uses) => Deps;
    onRequest?: (target: string, status: number, ms: number) => void;
    /** Who signed a request (the local world's host credentials: LocalEnvironment.hostCredentials). */
    authenticate?: (req: SignedRequest) => RequestContext;
  } = {},
): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host) && !opts.allowRemote) {
    throw new Error(
      `refusing to listen on ${host}: the local API has no authentication; use 127.0.0.1, or --allow-remote if you mean it`,
    );
  }
  const json = { 'content-type': 'application/json' };
  let port = 0;
  const server: Server = createServer((req, res) => {
    const foreign = foreignRequest(req.headers, host, port, opts.allowRemote);
    if (foreign) {
      // Before reading the body: nothing a web page sends is parsed. The connection is not reused.
      res
        .writeHead(403, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-errortype': 'AccessDeniedException',
          connection: 'close',
        })
        .end(JSON.stringify({ __type: 'AccessDeniedException', message: `Access denied: ${foreign}` }));
      opts.onRequest?.('(refused: not the local user)', 403, 0);
      return;
    }
    // A client that goes away mid-request is not the server's problem.
    req.on('error', () => undefined);
    const respond = (status: number, headers: Record<string, string>, body: string) =>
      res.writeHead(status, headers).end(body);
    // Too large: answer at once and close, without reading (or waiting for) the rest of the body.
    // Node would otherwise drain what the client still sends before it could reuse the connection.
    let refused = false;
    const refuseTooLarge = () => {
      if (refused) return;
      refused = true;
      req.removeAllListeners('data');
      req.pause();
      res.shouldKeepAlive = false;
      res.writeHead(413, { ...json, connection: 'close', 'x-amzn-errortype': 'RequestEntityTooLargeException' }).end(
        JSON.stringify({
          __type: 'RequestEntityTooLargeException',
          message: `Request body larger than ${MAX_REQUEST_BYTES} bytes`,
        }),
        () => {
          // Half-close, and drop what still arrives for a moment: closing with unread bytes would send a
          // reset, and the client could lose the answer before reading it.
          const socket = req.socket;
          socket.end();
          socket.resume();
          setTimeout(() => socket.destroy(), LINGER_MS).unref();
        },
      );
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_REQUEST_BYTES) return refuseTooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // A chunked body (or one longer than it declared): refuse as soon as the bytes received pass the limit.
      if (size > MAX_REQUEST_BYTES) refuseTooLarge();
      else chunks.push(c);
    });
    req.on('end', () => {
      if (refused) return;
      if (req.method !== 'POST')
        return respond(405, json, JSON.stringify({ __type: 'MethodNotAllowed', message: 'Use POST /' }));
      const header = req.headers['x-amz-target'];
      const target = Array.isArray(header) ? header[0] : header;
      const started = performance.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const context = opts.authenticate?.({ method: req.method, url: req.url ?? '/', headers: req.headers, body });
      const handled = handleJson(target, body, (operation, input) =>
        dispatch(operation, input, deps, opts.viewFor, context ?? { refused: 'this server checks no signatures' }),
      );
      (opts.work ? opts.work.during(handled) : handled).then(
        (r) => {
          respond(r.status, r.headers, r.body);
          opts.onRequest?.(target ?? '(no target)', r.status, performance.now() - started);
        },
        () => respond(500, json, JSON.stringify({ __type: 'InternalFailure', message: 'An internal error occurred' })),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  port = bound.port;
  const address = bound.address;
  const shown = address.includes(':') ? `[${address}]` : address;
  return { url: `http://${shown}:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}
