/**
 * The agent's client for CodeDeploy's host command API on a Cutover engine: AWS JSON 1.1 over HTTP
 * (`POST /`, `X-Amz-Target: CodeDeployCommandService_v20141006.<Operation>`), signed with SigV4 for
 * `execute-api` with the host's own credentials (the engine takes the host's identity from the
 * signature, docs/adr/0015). A loopback endpoint (local mode) is not signed unless asked. Every call
 * is bounded in time and in the size of its answer.
 */
import { regionOf, signRequest, type Credentials } from '../adapters/aws/sigv4.js';
import {
  COMMAND_CONTENT_TYPE,
  COMMAND_TARGET_PREFIX,
  type CommandOperation,
  type GetDeploymentSpecificationInput,
  type GetDeploymentSpecificationOutput,
  type PollHostCommandInput,
  type PollHostCommandOutput,
  type PostHostCommandUpdateInput,
  type PostHostCommandUpdateOutput,
  type PutHostCommandAcknowledgementInput,
  type PutHostCommandAcknowledgementOutput,
  type PutHostCommandCompleteInput,
} from '../platforms/server/agent-protocol.js';

export class CommandApiError extends Error {
  override readonly name = 'CommandApiError';
  constructor(
    readonly operation: string,
    /** The `__type` of the error answer, or EndpointUnreachable / Timeout / HTTP<status>. */
    readonly type: string,
    message: string,
    readonly status: number | undefined,
  ) {
    super(`${operation}: ${type}: ${message}`);
  }
  /** Worth trying again: the network, a timeout, throttling, a server fault. */
  get retryable(): boolean {
    return this.status === undefined || this.status >= 500 || this.status === 429 || /Throttl/i.test(this.type);
  }
}

export interface CommandClientOptions {
  endpoint: string;
  /** `auto`: sign unless the endpoint is on loopback. */
  sign: 'auto' | 'always' | 'never';
  region?: string;
  credentials?: Credentials;
  timeoutMs?: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const MAX_ANSWER_BYTES = 1024 * 1024;

export class CommandClient {
  private readonly url: URL;
  private readonly signs: boolean;

  constructor(private readonly opts: CommandClientOptions) {
    this.url = new URL(opts.endpoint);
    this.signs = opts.sign === 'always' || (opts.sign === 'auto' && !LOOPBACK.has(this.url.hostname));
    if (this.signs && !opts.credentials) throw new Error('signing the command API needs credentials');
  }

  pollHostCommand(input: PollHostCommandInput): Promise<PollHostCommandOutput> {
    return this.call('PollHostCommand', input);
  }
  getDeploymentSpecification(input: GetDeploymentSpecificationInput): Promise<GetDeploymentSpecificationOutput> {
    return this.call('GetDeploymentSpecification', input);
  }
  putHostCommandAcknowledgement(
    input: PutHostCommandAcknowledgementInput,
  ): Promise<PutHostCommandAcknowledgementOutput> {
    return this.call('PutHostCommandAcknowledgement', input);
  }
  postHostCommandUpdate(input: PostHostCommandUpdateInput): Promise<PostHostCommandUpdateOutput> {
    return this.call('PostHostCommandUpdate', input);
  }
  async putHostCommandComplete(input: PutHostCommandCompleteInput): Promise<void> {
    await this.call('PutHostCommandComplete', input);
  }

  async call<T>(operation: CommandOperation, input: object): Promise<T> {
    const body = JSON.stringify(input);
    let headers: Record<string, string> = {
      'content-type': COMMAND_CONTENT_TYPE,
      'x-amz-target': `${COMMAND_TARGET_PREFIX}${operation}`,
    };
    if (this.signs)
      headers = await signRequest({
        method: 'POST',
        url: this.url,
        headers,
        body,
        region: regionOf(this.url.hostname, this.opts.region),
        service: 'execute-api',
        credentials: this.opts.credentials!,
      });
    const timeoutMs = this.opts.timeoutMs ?? 30_000;
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
      text = await readBounded(res, operation);
    } catch (e) {
      const err = e as Error;
      if (err.name === 'TimeoutError')
        throw new CommandApiError(
          operation,
          'Timeout',
          `no answer from ${this.url.origin} within ${timeoutMs / 1000} s`,
          undefined,
        );
      if (err instanceof CommandApiError) throw err;
      throw new CommandApiError(
        operation,
        'EndpointUnreachable',
        `cannot reach ${this.url.origin} (${(err.cause as Error | undefined)?.message ?? err.message})`,
        undefined,
      );
    }
    let answer: Record<string, unknown> = {};
    if (text.trim() !== '') {
      try {
        answer = JSON.parse(text) as Record<string, unknown>;
      } catch {
        if (res.ok)
          throw new CommandApiError(operation, 'SerializationException', 'the answer is not JSON', res.status);
      }
    }
    if (!res.ok) {
      const type = String(answer.__type ?? res.headers.get('x-amzn-errortype') ?? `HTTP${res.status}`)
        .replace(/^.*#/, '')
        .split(':')[0]!;
      throw new CommandApiError(
        operation,
        type,
        String(answer.message ?? answer.Message ?? res.statusText),
        res.status,
      );
    }
    return answer as T;
  }
}

async function readBounded(res: Response, operation: string): Promise<string> {
  const tooLarge = () =>
    new CommandApiError(
      operation,
      'ResponseTooLarge',
      `the answer is larger than ${MAX_ANSWER_BYTES} bytes`,
      res.status,
    );
  if (Number(res.headers.get('content-length') ?? 0) > MAX_ANSWER_BYTES) throw tooLarge();
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
