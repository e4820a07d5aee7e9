/**
 * `cutover proxy`: lets unchanged CodeDeploy clients (the AWS CLI, SDK scripts) use a deployed Cutover API,
 * which only accepts `execute-api` signatures. See src/adapters/aws/codedeploy-proxy.ts for what it checks.
 */
import { parseArgs } from 'node:util';
import { openProxy, PROXY_HOST, type ProxyRequestLog } from '../wiring/proxy.js';
import { c } from './render.js';

export const DEFAULT_PROXY_PORT = 4982;

export const PROXY_HELP = `Usage: cutover proxy [--endpoint URL] [--port N] [--region REGION] [--require-signature]

Serves CodeDeploy's API (AWS JSON 1.1) on ${PROXY_HOST} for clients that sign for 'codedeploy' (the AWS
CLI, the SDKs' CodeDeploy clients), and forwards each request to a deployed Cutover API, signed for
'execute-api' with your AWS credentials (the standard chain: environment, profile, SSO, instance role).
Scripts keep working as they are, with only the endpoint changed:
  aws deploy --endpoint-url http://${PROXY_HOST}:${DEFAULT_PROXY_PORT} list-applications
  AWS_ENDPOINT_URL_CODEDEPLOY=http://${PROXY_HOST}:${DEFAULT_PROXY_PORT} node my-script.mjs

It listens on ${PROXY_HOST} only, answers only requests whose Host is its own address and port, and
refuses requests from web pages (an Origin header), so that no browser tab can use your credentials.
Anyone who can open a connection on this machine can use it while it runs, unless --require-signature
is given. It logs one line per request (status, operation, time), never a header.

Options:
  --endpoint URL    The deployed API: https://<api-id>.execute-api.<region>.amazonaws.com/<stage>/
                    (default $CUTOVER_ENDPOINT; the stack's ServiceEndpoint output, which
                    'npx osls info --stage <stage>' prints as 'endpoint: POST - ...')
  --port N          Port to listen on (default ${DEFAULT_PROXY_PORT}; 0 picks a free one)
  --region REGION   Region to sign for (default: the one in the endpoint's host name, else $AWS_REGION)
  --require-signature
                    Serve only requests the client signed with the same access key as the proxy's
                    (clients using the same credentials do), so other users of this machine cannot
                    borrow your credentials. Refuses clients whose profile gives them other keys
                    (e.g. an assumed role the AWS CLI caches separately)

Ctrl-C stops it. Exit codes: 0 stopped, 2 bad usage, a missing login, or a busy port.`;

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/** The deployed API's URL, or the reason it is not one. */
export function upstreamOf(raw: string | undefined): URL | string {
  if (!raw) return '--endpoint: required (or set CUTOVER_ENDPOINT): the URL of the deployed Cutover API';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `--endpoint: not a URL: ${JSON.stringify(raw)}`;
  }
  // Over plain HTTP the signed requests and the answers could be read on the way; loopback is for tests.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.test(url.hostname)))
    return `--endpoint: must be https:// (got ${url.protocol}//${url.host})`;
  if (url.search || url.hash) return '--endpoint: must have no query or fragment';
  if (url.username || url.password) return '--endpoint: must not contain a user name or password';
  // The stack's ServiceEndpoint output has no trailing slash; the API's resource is the stage's root, `/`.
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

export async function proxyCommand(
  args: string[],
  io: { out: (s: string) => void; err: (s: string) => void; env: NodeJS.ProcessEnv },
): Promise<number> {
  const usage = (message: string) => (io.err(`cutover proxy: ${message}`), 2);
  let values: { endpoint?: string; port?: string; region?: string; 'require-signature'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        endpoint: { type: 'string' },
        port: { type: 'string', default: String(DEFAULT_PROXY_PORT) },
        region: { type: 'string' },
        'require-signature': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    return usage(`${(e as Error).message}\n\n${PROXY_HELP}`);
  }
  if (values.help) return (io.out(PROXY_HELP), 0);
  const upstream = upstreamOf(values.endpoint ?? io.env.CUTOVER_ENDPOINT);
  if (typeof upstream === 'string') return usage(upstream);
  const port = Number(values.port);
  if (!/^\d+$/.test(String(values.port)) || port > 65535)
    return usage(`--port: must be 0-65535, got ${String(values.port)}`);
  if (values.region !== undefined && !/^[a-z]{2}(-[a-z0-9]+)+-\d+$/.test(values.region))
    return usage(`--region: not a region name: ${JSON.stringify(values.region)}`);

  let proxy: Awaited<ReturnType<typeof openProxy>>;
  try {
    proxy = await openProxy({
      upstream,
      ...(values.region ? { region: values.region } : {}),
      port,
      requireSignature: Boolean(values['require-signature']),
      onRequest: (r: ProxyRequestLog) =>
        io.out(
          `  ${r.status < 400 ? c.green(String(r.status)) : c.red(String(r.status))}  ${r.target}  ${c.dim(`${r.ms.toFixed(0)} ms`)}${r.refused ? `  ${c.dim(`(proxy: ${r.refused})`)}` : ''}`,
        ),
    });
  } catch (e) {
    const { code, syscall } = e as NodeJS.ErrnoException;
    if (code === 'EADDRINUSE')
      return usage(
        `--port: ${PROXY_HOST}:${port} is in use (is a proxy already running?); use --port N, or 0 for a free one`,
      );
    if (syscall === 'listen') return usage(`--port: cannot listen on ${PROXY_HOST}:${port} (${code})`);
    // The credential chain's errors name the sources it tried; they contain no secret.
    return usage(`no usable AWS credentials to sign with: ${(e as Error).message}`);
  }
  io.out(
    `Cutover proxy on ${c.bold(proxy.url)} → ${upstream.href} (signing for execute-api in ${proxy.region} with your AWS credentials${values['require-signature'] ? '; only for clients that sign with the same access key' : ''})`,
  );
  io.out(c.dim(`  aws deploy --endpoint-url ${proxy.url} list-applications`));
  io.out(c.dim(`  SDK clients: endpoint ${proxy.url}, or AWS_ENDPOINT_URL_CODEDEPLOY=${proxy.url}`));
  io.out(c.dim('  Ctrl-C stops the proxy'));
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await proxy.close();
  io.err(`${signal}: proxy stopped`);
  return 0;
}
