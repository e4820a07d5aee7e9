/** Identifiers. Hook execution ids are capabilities (they authorise a callback): 256 random bits. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** CodeDeploy-style deployment id: `d-` + 9 upper-case alphanumerics. */
export function newDeploymentId(): string {
  const bytes = randomBytes(9);
  let s = 'd-';
  for (const b of bytes) s += ALNUM[b % ALNUM.length];
  return s;
}

export const DEPLOYMENT_ID_RE = /^d-[A-Z0-9]{9}$/;

/**
 * The deployment id of an execution started with a CreateDeployment request (not named after a
 * deployment): derived from the execution ARN, so a retried RecordDeployment finds the same
 * deployment and an execution status event leads back to it.
 */
export function deploymentIdForExecution(executionArn: string): string {
  const bytes = createHash('sha256').update(executionArn).digest();
  let s = 'd-';
  for (const b of bytes.subarray(0, 9)) s += ALNUM[b % ALNUM.length];
  return s;
}

/** Unguessable lifecycle-hook execution id (256 bits, URL-safe). */
export function newHookExecutionId(): string {
  return randomBytes(32).toString('base64url');
}

export const newUuid = (): string => randomUUID();
