import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { DependencyRejectedError } from '../../domain/errors.js';
import type { Secrets } from '../../ports/index.js';
import { mapAwsError } from './errors.js';
import { checkedOwner, referenceOf, SECRET_GONE } from '../system/secret-refs.js';

/** References are immutable (name and version), so a value read once is the value for good. */
const CACHE_LIMIT = 256;

/**
 * Secrets as SSM Parameter Store SecureStrings, one parameter per owner under `prefix` (the stack's
 * `/cutover/<stage>/webhook-secrets`), encrypted with `keyId` or, without one, the account's aws/ssm key.
 * A reference is the parameter's name and version (`<name>:<version>`): each put is a new version, and
 * GetParameter reads exactly the version a record names (docs/adr/0025-webhook-secrets-in-parameter-store.md).
 */
export class SsmSecrets implements Secrets {
  private readonly cache = new Map<string, string>();

  constructor(
    private readonly client: SSMClient,
    private readonly prefix: string,
    private readonly keyId?: string,
  ) {}

  async put(owner: string, value: string): Promise<string> {
    const name = `${this.prefix}/${checkedOwner(owner)}`;
    try {
      const res = await this.client.send(
        new PutParameterCommand({
          Name: name,
          Value: value,
          Type: 'SecureString',
          Overwrite: true,
          Tier: 'Standard',
          ...(this.keyId ? { KeyId: this.keyId } : {}),
          Description: 'Cutover: a deployment group webhook signing secret',
        }),
      );
      if (res.Version === undefined) throw new DependencyRejectedError(`PutParameter ${name}: no version returned`);
      return `${name}:${res.Version}`;
    } catch (err) {
      throw mapAwsError(err, `PutParameter ${name}`);
    }
  }

  async get(ref: string): Promise<string> {
    const known = this.cache.get(ref);
    if (known !== undefined) return known;
    const { name } = referenceOf(ref, this.prefix);
    try {
      const res = await this.client.send(new GetParameterCommand({ Name: ref, WithDecryption: true }));
      const value = res.Parameter?.Value;
      if (value === undefined) throw new DependencyRejectedError(SECRET_GONE, 'ParameterNotFound');
      if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(ref, value);
      return value;
    } catch (err) {
      const e = err as { name?: string };
      // Gone: the group (and its parameter) was deleted, or the version aged out of the 100 SSM keeps.
      if (e.name === 'ParameterNotFound' || e.name === 'ParameterVersionNotFound')
        throw new DependencyRejectedError(SECRET_GONE, e.name);
      throw mapAwsError(err, `GetParameter ${name}`);
    }
  }

  async remove(owner: string): Promise<void> {
    const name = `${this.prefix}/${checkedOwner(owner)}`;
    for (const ref of [...this.cache.keys()]) if (ref.startsWith(`${name}:`)) this.cache.delete(ref);
    try {
      await this.client.send(new DeleteParameterCommand({ Name: name }));
    } catch (err) {
      if ((err as { name?: string }).name === 'ParameterNotFound') return;
      throw mapAwsError(err, `DeleteParameter ${name}`);
    }
  }
}
