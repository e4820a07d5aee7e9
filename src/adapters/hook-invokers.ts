/**
 * Webhook hooks (real HTTP in both modes) and the router that sends each hook target to the right
 * invoker: http(s) URLs to webhooks, everything else to Lambda (or the SimWorld locally).
 */
import { DependencyRejectedError, DependencyUnavailableError } from '../domain/errors.js';
import { SIGNATURE_HEADER, describeHookTarget, isWebhook, signBody } from '../domain/hooks.js';
import type { HookInvoker, HookPayload } from '../ports/index.js';

/** Largest webhook response we read (input size limit). */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs the hook payload as JSON, signed with HMAC-SHA256 of the body under the group's secret
 * (header X-Cutover-Signature: sha256=<hex>). A 2xx answer's JSON body is the hook's answer.
 */
export class WebhookHookInvoker implements HookInvoker {
  constructor(private readonly timeoutMs = 10_000) {}

  async invoke(target: string, payload: HookPayload, options?: { webhookSecret?: string }): Promise<unknown> {
    const url = describeHookTarget(target); // what errors may show
    if (!options?.webhookSecret)
      throw new DependencyRejectedError(
        `webhook ${url}: the deployment group has no webhookSecret to sign requests with`,
      );
    const body = JSON.stringify(payload);
    let res: Response;
    try {
      res = await fetch(target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signBody(options.webhookSecret, body),
          'user-agent': 'cutover-hooks',
        },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new DependencyUnavailableError(`webhook ${url}: ${(e as Error).message}`);
    }
    const text = (await res.text()).slice(0, MAX_RESPONSE_BYTES);
    if (res.status >= 500 || res.status === 429)
      throw new DependencyUnavailableError(`webhook ${url} answered ${res.status}`);
    if (res.status < 200 || res.status >= 300)
      throw new DependencyRejectedError(`webhook ${url} answered ${res.status}: ${text.slice(0, 200)}`);
    try {
      return text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Sends webhook URLs to the webhook invoker and function names to the function invoker. */
export class RoutingHookInvoker implements HookInvoker {
  constructor(
    private readonly functions: HookInvoker,
    private readonly webhooks: HookInvoker = new WebhookHookInvoker(),
  ) {}
  invoke(target: string, payload: HookPayload, options?: { webhookSecret?: string }): Promise<unknown> {
    return (isWebhook(target) ? this.webhooks : this.functions).invoke(target, payload, options);
  }
}
