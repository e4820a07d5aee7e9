/**
 * The deployment specification an agent fetches with GetDeploymentSpecification: CodeDeploy's fields, as the
 * CodeDeploy agent parses them (DeploymentSpecification in the agent's source; the shapes shared with the
 * Cutover agent are in ../agent-protocol.ts, docs/adr/0015), in a TEXT/JSON envelope (the
 * agent accepts TEXT/JSON as well as the PKCS7/JSON AWS signs; Cutover's engine is not AWS and cannot sign as
 * it). Pure.
 */
import { PreconditionFailedError } from '../../../domain/errors.js';
import type { DeploymentSpec } from '../../../domain/model.js';
import { MAX_ENVELOPE_PAYLOAD, type DeploymentSpecificationDocument } from '../agent-protocol.js';
import { AGENT_LIFECYCLE_EVENTS } from './lifecycle.js';

export type FileExistsBehavior = 'DISALLOW' | 'OVERWRITE' | 'RETAIN';

/** CodeDeploy's DeploymentExecutionId shape (`^[^/]+/[^/]+/[^/]+/.+$`, at most 129 characters). */
export function deploymentExecutionIdOf(region: string, deploymentId: string): string {
  return `cutover/${region || 'local'}/${deploymentId}/in-place`;
}

/** The deployment id in a DeploymentExecutionId this engine issued, or undefined. Never throws. */
export function deploymentIdOfExecution(executionId: string): string | undefined {
  const m = /^cutover\/[^/]+\/([^/]+)\/in-place$/.exec(executionId);
  return m?.[1];
}

/** The creators the agent knows (it uses the value to pick the revision of rollback hooks). */
const CREATORS: Record<string, string> = { user: 'user', codeDeployRollback: 'codeDeployRollback' };

type BundleType = 'tar' | 'tgz' | 'zip';
function bundleTypeOf(key: string, given: string | undefined): BundleType {
  if (given === 'tar' || given === 'tgz' || given === 'zip') return given;
  if (/\.zip$/i.test(key)) return 'zip';
  if (/\.(tgz|tar\.gz)$/i.test(key)) return 'tgz';
  return 'tar';
}

/**
 * The TEXT/JSON payload for a deployment: ids and names, who created it, the S3 revision (bucket, key, bundle
 * type, ETag and version when known), the deployment's file_exists_behavior (the agent lets an AppSpec's own
 * value win over it), and the events the agent may be told to run.
 * @throws PreconditionFailedError when the revision is not in S3, or the payload would exceed 8192 characters
 */
export function deploymentSpecification(
  deploymentId: string,
  spec: Pick<DeploymentSpec, 'applicationName' | 'deploymentGroupName' | 'deploymentGroupId' | 'creator' | 'revision'>,
  options: { fileExistsBehavior?: FileExistsBehavior } = {},
): string {
  const r = spec.revision;
  if (r.revisionType !== 'S3') {
    throw new PreconditionFailedError(
      `An in-place deployment installs a bundle from S3; revision type ${r.revisionType} has no bundle for the agent to download`,
    );
  }
  const s3 = r.s3Location;
  const document: DeploymentSpecificationDocument = {
    DeploymentId: deploymentId,
    DeploymentGroupId: spec.deploymentGroupId,
    DeploymentGroupName: spec.deploymentGroupName,
    ApplicationName: spec.applicationName,
    DeploymentCreator: CREATORS[spec.creator] ?? 'user',
    DeploymentType: 'IN_PLACE',
    Revision: {
      RevisionType: 'S3',
      S3Revision: {
        Bucket: s3.bucket,
        Key: s3.key,
        BundleType: bundleTypeOf(s3.key, s3.bundleType),
        ...(s3.eTag ? { ETag: s3.eTag } : {}),
        ...(s3.version ? { Version: s3.version } : {}),
      },
    },
    ...(options.fileExistsBehavior
      ? { AgentActionOverrides: { AgentOverrides: { FileExistsBehavior: options.fileExistsBehavior } } }
      : {}),
    AllPossibleLifecycleEvents: [...AGENT_LIFECYCLE_EVENTS],
  };
  const payload = JSON.stringify(document);
  if (payload.length > MAX_ENVELOPE_PAYLOAD) {
    throw new PreconditionFailedError(
      `The deployment specification would be ${payload.length} characters, more than the agent protocol's ${MAX_ENVELOPE_PAYLOAD}`,
    );
  }
  return payload;
}
