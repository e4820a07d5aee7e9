/**
 * The reference format every Secrets adapter shares: `<prefix>/<owner>:<version>`. Owners are deployment
 * group ids (uuids); anything else is refused before it reaches a store, so a reference cannot name a
 * parameter or file outside the store's own prefix.
 */
import { DependencyRejectedError, InternalError } from '../../domain/errors.js';

/** The one message for a secret that is not there: it names no parameter, path or value. */
export const SECRET_GONE = "the deployment group's webhook secret is gone; set webhookSecret on the group again";

const OWNER = /^[A-Za-z0-9-]{1,64}$/;
const VERSION = /^[1-9][0-9]{0,9}$/;

/** `owner` as a path segment; throws on anything but letters, digits and dashes (a uuid). */
export function checkedOwner(owner: string): string {
  if (!OWNER.test(owner)) throw new InternalError('a secret owner is a deployment group id');
  return owner;
}

/** The owner, name and version of `ref`; refuses a reference that is not under `prefix`. */
export function referenceOf(ref: string, prefix: string): { name: string; owner: string; version: number } {
  const colon = ref.lastIndexOf(':');
  const name = colon < 0 ? '' : ref.slice(0, colon);
  const owner = name.startsWith(`${prefix}/`) ? name.slice(prefix.length + 1) : '';
  const version = ref.slice(colon + 1);
  if (!OWNER.test(owner) || !VERSION.test(version))
    throw new DependencyRejectedError(SECRET_GONE, 'InvalidSecretReference');
  return { name, owner, version: Number(version) };
}
