/** `cutover proxy`'s connection to the deployed API: the re-signing proxy with the standard AWS credentials. */
import { startProxy, type ProxyRequestLog, type RunningProxy } from '../adapters/aws/codedeploy-proxy.js';
import { defaultCredentials, regionOf } from '../adapters/aws/sigv4.js';

export { PROXY_HOST } from '../adapters/aws/codedeploy-proxy.js';
export type { ProxyRequestLog, RunningProxy };

export interface OpenProxy {
  upstream: URL;
  /** --region; else the API's host name says, else AWS_REGION / AWS_DEFAULT_REGION. */
  region?: string;
  port: number;
  requireSignature?: boolean;
  onRequest?: (log: ProxyRequestLog) => void;
}

/**
 * Resolve the user's credentials once (so that a missing or expired login is reported at start, not on the
 * first request), then listen. Throws the credential chain's error, or EADDRINUSE.
 */
export async function openProxy(opts: OpenProxy): Promise<RunningProxy & { region: string }> {
  const region =
    opts.region ?? regionOf(opts.upstream.hostname, process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION);
  const credentials = defaultCredentials();
  if (typeof credentials === 'function') await credentials();
  const proxy = await startProxy({
    upstream: opts.upstream,
    region,
    credentials,
    port: opts.port,
    requireSignature: opts.requireSignature ?? false,
    ...(opts.onRequest ? { onRequest: opts.onRequest } : {}),
  });
  return { ...proxy, region };
}
