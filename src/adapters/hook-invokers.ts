/**
 * Webhook hooks (real HTTP in both modes) and the router that sends each hook target to the right
 * invoker: http(s) URLs to webhooks, everything else to Lambda (or the SimWorld locally).
 *
 * A webhook is an outbound request whose URL someone else wrote, from inside the engine's network,
 * so it is safe by construction (docs/adr/0022-hook-targets-safe-by-construction.md): the name is
 * resolved once, every address it resolves to is checked, and the connection is pinned to the
 * checked addresses (a custom `lookup`, so a DNS answer that changes between the check and the
 * connect is never asked for); redirects are not followed; a refused answer's body is never read
 * into anything a caller sees, and a 2xx answer is read up to a bound.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { DependencyRejectedError, DependencyUnavailableError } from '../domain/errors.js';
import { classifyAddress } from '../domain/addresses.js';
import { addressRefusal, checkWebhookUrl, functionRefusal, type HookTargetPolicy } from '../domain/hook-targets.js';
import { SIGNATURE_HEADER, describeHookTarget, isWebhook, signWebhook } from '../domain/hooks.js';
import type { HookInvocationOptions, HookInvoker, HookPayload } from '../ports/index.js';

/** Largest 2xx webhook answer read (its JSON is the hook's answer); larger ones fail the hook. */
export const MAX_WEBHOOK_ANSWER_BYTES = 16 * 1024;

/** One resolved address, as dns.lookup({all: true}) gives it. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (tests inject their own). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system resolver (getaddrinfo, as Node's own connections use), every address in its order. */
export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

export interface WebhookInvokerOptions {
  /** What webhooks may reach here (the wiring's decision: loopback only locally). */
  policy: HookTargetPolicy;
  resolve?: Resolver;
  /** Per request: connect, send and read the answer. Default 10 s. */
  timeoutMs?: number;
  /** Wall-clock milliseconds for the signature's timestamp (receivers compare it with their clock). */
  now?: () => number;
  /** Extra trusted CAs for https (tests with a self-signed receiver). */
  ca?: string | Buffer;
}

/** What a connection error may show: its code, never a message that could carry the peer's words. */
const errorCode = (e: unknown): string =>
  (e as NodeJS.ErrnoException | undefined)?.code ?? (e as Error | undefined)?.name ?? 'Error';

/**
 * POSTs the hook payload as JSON, signed with the group's `webhookSecret`: header
 * `X-Cutover-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. A 2xx answer's JSON
 * body is the hook's answer. 5xx and 429 reject with DependencyUnavailableError (retried), every
 * other refusal with DependencyRejectedError carrying only the status code or the reason.
 */
export class WebhookHookInvoker implements HookInvoker {
  private readonly resolve: Resolver;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly options: WebhookInvokerOptions) {
    this.resolve = options.resolve ?? systemResolver;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  async invoke(target: string, payload: HookPayload, options?: HookInvocationOptions): Promise<unknown> {
    const shown = describeHookTarget(target); // what errors may show
    const refuse = (why: string) => new DependencyRejectedError(`webhook ${shown}: ${why}`);
    const allowed = options?.webhookAllowedHosts ?? [];
    const { parsed, problems } = checkWebhookUrl(target, this.options.policy, allowed);
    if (!parsed) throw refuse(problems.join('; '));
    if (!options?.webhookSecret) throw refuse('the deployment group has no webhookSecret to sign requests with');
    const { url, host } = parsed;

    // Resolve once; every address must pass; the connection may use only these.
    let addresses: ResolvedAddress[];
    if (isIP(host)) addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
    else {
      try {
        addresses = await this.resolve(host);
      } catch (e) {
        throw new DependencyUnavailableError(`webhook ${shown}: ${url.hostname} did not resolve (${errorCode(e)})`);
      }
      if (addresses.length === 0) throw refuse(`${url.hostname} has no address`);
    }
    for (const a of addresses) {
      const kind = classifyAddress(a.address) ?? 'unspecified'; // what is not an address goes nowhere
      const why = addressRefusal(kind, url.hostname, this.options.policy, allowed);
      if (why) throw refuse(`${url.hostname} resolves to ${a.address}: ${why}`);
      if (url.protocol === 'http:' && kind !== 'loopback')
        throw refuse(`plain http:// is allowed only to loopback, and ${url.hostname} resolves to ${a.address}`);
    }
    const lookup: LookupFunction = (_hostname, opts, callback) => {
      const cb = callback as (err: Error | null, address: string | ResolvedAddress[], family?: number) => void;
      if (opts.all) cb(null, addresses);
      else cb(null, addresses[0]!.address, addresses[0]!.family);
    };

    const body = JSON.stringify(payload);
    const signature = signWebhook(options.webhookSecret, body, this.now() / 1000);
    const { status, text } = await this.post(url, body, signature, lookup).catch((e: unknown) => {
      if (e instanceof DependencyRejectedError) throw e;
      throw new DependencyUnavailableError(`webhook ${shown}: the request failed (${errorCode(e)})`);
    });
    if (status >= 300 && status < 400) throw refuse(`answered ${status}; redirects are not followed`);
    if (status >= 500 || status === 429) throw new DependencyUnavailableError(`webhook ${shown} answered ${status}`);
    if (status < 200 || status >= 300) throw refuse(`answered ${status}`);
    if (text === undefined) throw refuse(`answered with more than ${MAX_WEBHOOK_ANSWER_BYTES} bytes`);
    try {
      return text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * One POST, no redirects (node:http follows none). Resolves with the status and, for a 2xx,
   * the body (undefined when it is larger than the bound); other bodies are never read.
   */
  private post(
    url: URL,
    body: string,
    signature: string,
    lookup: LookupFunction,
  ): Promise<{ status: number; text?: string }> {
    const send = url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = send(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          [SIGNATURE_HEADER]: signature,
          'user-agent': 'cutover-hooks',
        },
        lookup,
        agent: false,
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(this.options.ca ? { ca: this.options.ca } : {}),
      });
      req.on('error', reject);
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          resolve({ status });
          res.destroy(); // the body is not read: nothing of it can reach a record
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_WEBHOOK_ANSWER_BYTES) {
            resolve({ status }); // first: destroying emits 'aborted' at once
            res.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => resolve({ status, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('aborted')));
      });
      req.end(body);
    });
  }
}

/**
 * Refuses Lambda hooks the stack may not invoke (HookTargetPolicy.functions, the stack's
 * hookFunctions) with a clear error instead of Lambda's AccessDenied, then invokes the others.
 */
export class AllowedFunctionsHookInvoker implements HookInvoker {
  constructor(
    private readonly functions: HookInvoker,
    private readonly policy: HookTargetPolicy,
    private readonly env: { region: string; accountId: string },
  ) {}
  invoke(target: string, payload: HookPayload, options?: HookInvocationOptions): Promise<unknown> {
    const why = functionRefusal(target, this.policy, this.env);
    if (why) return Promise.reject(new DependencyRejectedError(`hook function ${target}: ${why}`));
    return this.functions.invoke(target, payload, options);
  }
}

/** Sends webhook URLs to the webhook invoker and function names to the function invoker. */
export class RoutingHookInvoker implements HookInvoker {
  constructor(
    private readonly functions: HookInvoker,
    private readonly webhooks: HookInvoker,
  ) {}
  invoke(target: string, payload: HookPayload, options?: HookInvocationOptions): Promise<unknown> {
    return (isWebhook(target) ? this.webhooks : this.functions).invoke(target, payload, options);
  }
}
