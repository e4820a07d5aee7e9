/**
 * SigV4-signed HTTP for a remote Cutover API behind API Gateway (IAM authorisation): the CLI signs
 * for `execute-api` with the standard AWS credential chain (env, profile, SSO, instance role).
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
