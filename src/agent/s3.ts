/**
 * Downloading a revision from S3 to `bundle.tar`: one signed GetObject (with the version when the
 * deployment names one), streamed to disk, bounded in size and time. Checked as CodeDeploy checks it
 * (the response's ETag against the deployment's, quotes stripped) and more: the byte count against
 * Content-Length (and the deployment's Size when given), and the content's MD5 against a
 * single-part ETag. Transient failures (network, 5xx, throttling) are retried three times.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { signRequest, type Credentials } from '../adapters/aws/sigv4.js';

export interface S3Object {
  bucket: string;
  key: string;
  version?: string;
  etag?: string;
  size?: number;
}

export interface S3Options {
  region: string;
  /** Path-style endpoint (e.g. a local S3 at http://127.0.0.1:4981); default the region's AWS endpoint. */
  endpoint?: string;
  credentials?: Credentials;
  /** Largest object accepted. */
  maxBytes: number;
  /** The whole download's deadline, and the longest silence between two chunks. */
  timeoutMs: number;
  idleTimeoutMs: number;
  retries?: number;
  /** Between retries (tests pass 0). */
  retryDelayMs?: number;
}

export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

const encodeKey = (key: string) =>
  key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');

/** The object's URL: path-style on an endpoint, else virtual-hosted (path-style for names with dots). */
export function objectUrl(o: S3Object, opts: Pick<S3Options, 'region' | 'endpoint'>): URL {
  let url: URL;
  if (opts.endpoint) {
    const base = opts.endpoint.replace(/\/+$/, '');
    url = new URL(`${base}/${encodeURIComponent(o.bucket)}/${encodeKey(o.key)}`);
  } else {
    const suffix = opts.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
    url = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(o.bucket)
      ? new URL(`https://${o.bucket}.s3.${opts.region}.${suffix}/${encodeKey(o.key)}`)
      : new URL(`https://s3.${opts.region}.${suffix}/${encodeURIComponent(o.bucket)}/${encodeKey(o.key)}`);
  }
  if (o.version) url.searchParams.set('versionId', o.version);
  return url;
}

const unquote = (etag: string) => etag.replace(/"/g, '');
export const sizeText = (n: number) =>
  n >= 1024 ** 2
    ? `${Math.round((n / 1024 ** 2) * 10) / 10} MiB`
    : n >= 1024
      ? `${Math.round((n / 1024) * 10) / 10} KiB`
      : `${n} bytes`;
const mib = sizeText;

/** Download `o` to `file` (replaced). Throws DownloadError with the reason. */
export async function downloadS3Object(o: S3Object, file: string, opts: S3Options): Promise<{ bytes: number }> {
  if (o.size !== undefined && o.size > opts.maxBytes)
    throw new DownloadError(
      `the revision s3://${o.bucket}/${o.key} is ${mib(o.size)}, more than the ${mib(opts.maxBytes)} this agent accepts (--max-bundle-mb)`,
      false,
    );
  const attempts = (opts.retries ?? 3) + 1;
  let last: DownloadError | undefined;
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, (opts.retryDelayMs ?? 2000) * 2 ** (i - 1)));
    try {
      return await attempt(o, file, opts);
    } catch (e) {
      last = e instanceof DownloadError ? e : new DownloadError((e as Error).message, true);
      if (!last.retryable) break;
    }
  }
  throw last!;
}

async function attempt(o: S3Object, file: string, opts: S3Options): Promise<{ bytes: number }> {
  const url = objectUrl(o, opts);
  const where = `s3://${o.bucket}/${o.key}${o.version ? ` (version ${o.version})` : ''}`;
  let headers: Record<string, string> = {};
  if (opts.credentials)
    headers = await signRequest({
      method: 'GET',
      url,
      headers,
      region: opts.region,
      service: 's3',
      credentials: opts.credentials,
    });
  const abort = new AbortController();
  const overall = setTimeout(
    () => abort.abort(new DownloadError(`downloading ${where} took more than ${opts.timeoutMs / 1000} s`, true)),
    opts.timeoutMs,
  );
  let idle: NodeJS.Timeout | undefined;
  const quiet = () => {
    clearTimeout(idle);
    idle = setTimeout(
      () => abort.abort(new DownloadError(`downloading ${where}: no data for ${opts.idleTimeoutMs / 1000} s`, true)),
      opts.idleTimeoutMs,
    );
  };
  let fd: number | undefined;
  try {
    quiet();
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: abort.signal });
    } catch (e) {
      throw abort.signal.aborted
        ? abort.signal.reason
        : new DownloadError(`cannot reach S3 for ${where} (${(e as Error).message})`, true);
    }
    if (!res.ok) {
      const body = (await res.text().catch(() => '')).slice(0, 2048);
      const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
      const message = /<Message>([^<]+)<\/Message>/.exec(body)?.[1];
      throw new DownloadError(
        `S3 refused GetObject for ${where}: HTTP ${res.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`,
        res.status >= 500 || res.status === 429 || code === 'SlowDown' || code === 'RequestTimeout',
      );
    }
    const etag = res.headers.get('etag') ?? '';
    if (o.etag !== undefined && unquote(o.etag) !== unquote(etag))
      throw new DownloadError(
        `Expected deployment artifact bundle etag ${o.etag} but was actually ${etag || '(none)'}`,
        false,
      );
    const lengthHeader = res.headers.get('content-length');
    const length = lengthHeader === null ? undefined : Number(lengthHeader);
    if (length !== undefined && length > opts.maxBytes)
      throw new DownloadError(
        `the revision ${where} is ${mib(length)}, more than the ${mib(opts.maxBytes)} this agent accepts (--max-bundle-mb)`,
        false,
      );
    if (length !== undefined && o.size !== undefined && length !== o.size)
      throw new DownloadError(`the revision ${where} is ${length} bytes, not the ${o.size} the deployment says`, false);
    const md5 = createHash('md5');
    let bytes = 0;
    fd = openSync(file, 'w', 0o600);
    try {
      if (res.body)
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          quiet();
          bytes += chunk.length;
          if (bytes > opts.maxBytes)
            throw new DownloadError(
              `the revision ${where} is more than the ${mib(opts.maxBytes)} this agent accepts (--max-bundle-mb)`,
              false,
            );
          md5.update(chunk);
          writeSync(fd, chunk);
        }
    } catch (e) {
      if (e instanceof DownloadError || abort.signal.aborted) throw e;
      throw new DownloadError(
        `the download of ${where} broke off after ${bytes}${length !== undefined ? ` of its ${length}` : ''} bytes (${(e as Error).message})`,
        true,
      );
    }
    closeSync(fd);
    fd = undefined;
    if (length !== undefined && bytes !== length)
      throw new DownloadError(`the download of ${where} ended after ${bytes} of its ${length} bytes`, true);
    if (o.size !== undefined && bytes !== o.size)
      throw new DownloadError(`the revision ${where} is ${bytes} bytes, not the ${o.size} the deployment says`, false);
    // A single-part upload's ETag is the MD5 of its content (multipart ETags end in -<parts>).
    const plain = unquote(etag);
    if (/^[0-9a-f]{32}$/i.test(plain) && md5.digest('hex') !== plain.toLowerCase())
      throw new DownloadError(`the download of ${where} does not match its ETag ${plain} (corrupted in transit)`, true);
    return { bytes };
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(file);
    } catch {
      // nothing written yet
    }
    if (abort.signal.aborted && abort.signal.reason instanceof DownloadError) throw abort.signal.reason;
    throw e;
  } finally {
    clearTimeout(overall);
    clearTimeout(idle);
  }
}
