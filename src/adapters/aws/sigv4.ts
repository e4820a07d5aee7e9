/**
 * SigV4-signed HTTP for a remote Cutover API behind API Gateway (IAM authorisation): the CLI signs
 * for `execute-api` with the standard AWS credential chain (env, profile, SSO, instance role). The
 * Cutover agent signs its command calls the same way, and its S3 downloads for `s3`.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === 'string'
    ? d
    : d instanceof ArrayBuffer
      ? new Uint8Array(d)
      : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** SHA-256 for the signer, on node:crypto. */
export class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.h = secret ? createHmac('sha256', bytes(secret)) : createHash('sha256');
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

/** The region of an execute-api host (`<id>.execute-api.<region>.amazonaws.com`), else AWS_REGION's. */
export function regionOf(hostname: string, fallback: string | undefined): string {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(hostname)?.[1] ?? fallback ?? 'us-east-1';
}

export type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

/** The standard AWS credential chain (env, shared files, SSO, web identity, ECS, EC2 instance role). */
export const defaultCredentials = (): Credentials => defaultProvider();

/** One request to sign: any method, service and query; S3 requests are signed with an unsigned payload. */
export interface SignInput {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  region: string;
  service: string;
  credentials: Credentials;
}

/** The request's headers, signed (SigV4). */
export async function signRequest(input: SignInput): Promise<Record<string, string>> {
  const s3 = input.service === 's3';
  const signer = new SignatureV4({
    service: input.service,
    region: input.region,
    credentials: input.credentials,
    sha256: Sha256,
    // S3 paths are signed as sent (already encoded), every other service's are encoded once more.
    uriEscapePath: !s3,
  });
  const query: Record<string, string> = {};
  for (const [k, v] of input.url.searchParams) query[k] = v;
  const signed = await signer.sign({
    method: input.method,
    protocol: input.url.protocol,
    hostname: input.url.hostname,
    ...(input.url.port ? { port: Number(input.url.port) } : {}),
    path: input.url.pathname || '/',
    query,
    headers: {
      ...input.headers,
      host: input.url.host,
      ...(s3 ? { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } : {}),
    },
    ...(input.body !== undefined ? { body: input.body } : {}),
  });
  return signed.headers as Record<string, string>;
}

/** Headers to send, signed. `credentials` defaults to the standard AWS provider chain. */
export async function signedHeaders(
  url: URL,
  headers: Record<string, string>,
  body: string,
  region: string,
  credentials: ConstructorParameters<typeof SignatureV4>[0]['credentials'] = defaultProvider(),
): Promise<Record<string, string>> {
  const signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname || '/',
    query: {},
    headers: { ...headers, host: url.host },
    body,
  });
  return signed.headers as Record<string, string>;
}
