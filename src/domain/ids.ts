/** Identifiers. Hook execution ids are capabilities (they authorise a callback): 256 random bits. */
import { randomBytes, randomUUID } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** CodeDeploy-style deployment id: `d-` + 9 upper-case alphanumerics. */
export function newDeploymentId(): string {
  const bytes = randomBytes(9);
  let s = 'd-';
  for (const b of bytes) s += ALNUM[b % ALNUM.length];
  return s;
}

export const DEPLOYMENT_ID_RE = /^d-[A-Z0-9]{9}$/;

/** Unguessable lifecycle-hook execution id (256 bits, URL-safe). */
export function newHookExecutionId(): string {
  return randomBytes(32).toString('base64url');
}

export const newUuid = (): string => randomUUID();
