/**
 * Local mode's host credentials: the local world issues each host (an agent process standing in for an
 * instance) its own access key and an unguessable secret, as IAM would, and the local API server checks each
 * request's SigV4 signature against them (src/local/sigv4-verifier.ts). The signing identity is the host's
 * principal: an EC2-like instance role session (`…:assumed-role/cutover-local-instance/i-…`), or an
 * on-premises IAM user, which RegisterOnPremisesInstance (`iamUserArn`) makes a known host. Secrets stay in
 * memory and are never logged; `toJSON` leaves them out.
 */
import { randomBytes } from 'node:crypto';

/** One host's credentials. `secretAccessKey` is a secret: hand it to that host's agent only. */
export interface HostCredential {
  hostId: string;
  kind: 'ec2' | 'onPremises';
  accessKeyId: string;
  secretAccessKey: string;
  /** The IAM ARN requests signed with this key are made as. */
  principalArn: string;
}

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

export class LocalHostCredentials {
  private readonly byKey = new Map<string, HostCredential>();

  constructor(private readonly accountId = '000000000000') {}

  /**
   * New credentials for `hostId` (earlier ones of that host stay valid until `revoke`). An id like `i-0abc…`
   * gets an EC2 instance role session; any other id an on-premises IAM user.
   */
  issue(hostId: string, kind: 'ec2' | 'onPremises' = INSTANCE_ID.test(hostId) ? 'ec2' : 'onPremises'): HostCredential {
    if (kind === 'ec2' && !INSTANCE_ID.test(hostId))
      throw new Error(`an EC2 host id looks like i-0123456789abcdef0, not ${hostId}`);
    const principalArn =
      kind === 'ec2'
        ? `arn:aws:sts::${this.accountId}:assumed-role/cutover-local-instance/${hostId}`
        : `arn:aws:iam::${this.accountId}:user/cutover-local/${hostId}`;
    const credential: HostCredential = {
      hostId,
      kind,
      accessKeyId: `AKIACUTOVER${randomBytes(6).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64url'),
      principalArn,
    };
    this.byKey.set(credential.accessKeyId, credential);
    return credential;
  }

  /** The credentials of an access key, or undefined for a key this world never issued. */
  lookup(accessKeyId: string): HostCredential | undefined {
    return this.byKey.get(accessKeyId);
  }

  /** Revoke every key of `hostId`. */
  revoke(hostId: string): void {
    for (const [key, c] of this.byKey) if (c.hostId === hostId) this.byKey.delete(key);
  }

  toJSON(): Record<string, unknown> {
    return { hosts: [...new Set([...this.byKey.values()].map((c) => c.hostId))] };
  }
}
