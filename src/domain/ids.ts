/**
 * Identifiers' rules. New ids are random and come through the IdSource port
 * (src/adapters/system/ids.ts); what is derived from data is here. Pure.
 */
import { createHash } from 'node:crypto';

export const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A CodeDeploy-style deployment id from 9 bytes: `d-` + 9 upper-case alphanumerics. */
export function deploymentIdOf(bytes: Uint8Array): string {
  let s = 'd-';
  for (const b of bytes.subarray(0, 9)) s += ALNUM[b % ALNUM.length];
  return s;
}

/**
 * What is stored of a hook execution id: its sha256 (hex). The id is a bearer credential (it completes the
 * hook's wait), so the table and the deployment record keep only this, and a report is matched by it.
 */
export function hookExecutionIdHash(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

export const DEPLOYMENT_ID_RE = /^d-[A-Z0-9]{9}$/;

/**
 * The deployment id of an execution started with a CreateDeployment request (not named after a
 * deployment): derived from the execution ARN, so a retried RecordDeployment finds the same
 * deployment and an execution status event leads back to it.
 */
export function deploymentIdForExecution(executionArn: string): string {
  return deploymentIdOf(createHash('sha256').update(executionArn).digest());
}

/**
 * The id of the rollback deployment of `deploymentId`: derived, so a rollback that runs twice (a
 * retry, or a recovery after a crash) finds the record it made instead of making a second one.
 */
export function rollbackIdFor(deploymentId: string): string {
  return deploymentIdOf(createHash('sha256').update(`rollback:${deploymentId}`).digest());
}
