/**
 * The deployment specification of a command (GetDeploymentSpecification's GenericEnvelope), read as
 * CodeDeploy's agent reads it (deployment_specification.rb). Cutover's engine sends TEXT/JSON; the
 * PKCS7/JSON that AWS's own service signs is refused with the reason.
 */
import { FILE_EXISTS_BEHAVIORS, type FileExistsBehavior } from '../platforms/server/appspec.js';
import {
  SPEC_FORMAT,
  type DeploymentSpecificationDocument,
  type Envelope,
} from '../platforms/server/agent-protocol.js';
import { safeName } from './layout.js';

export type BundleType = 'tar' | 'tgz' | 'zip';

export type Revision =
  | { type: 'S3'; bucket: string; key: string; bundleType: BundleType; version?: string; etag?: string; size?: number }
  | { type: 'GitHub'; account: string; repository: string; commitId: string }
  | { type: 'Local File'; location: string; bundleType: BundleType }
  | { type: 'Local Directory'; location: string };

export interface DeploymentSpec {
  deploymentId: string;
  groupId: string;
  groupName: string;
  applicationName: string;
  creator: string;
  type: string;
  appSpecFilename?: string;
  revision: Revision;
  /** From AgentActionOverrides (the deployment's fileExistsBehavior); the AppSpec's own value wins over it. */
  fileExistsBehavior?: FileExistsBehavior;
}

const BUNDLE_TYPES: readonly string[] = ['tar', 'tgz', 'zip'];
const set = (v: unknown): v is string => typeof v === 'string' && v !== '';

export function parseDeploymentSpec(envelope: Envelope | undefined): DeploymentSpec {
  if (!envelope) throw new Error('Provided deployment spec was nil');
  if (envelope.Format === 'PKCS7/JSON')
    throw new Error(
      'The deployment specification is PKCS7/JSON, signed by AWS CodeDeploy: this agent works with a Cutover engine, which sends TEXT/JSON',
    );
  if (envelope.Format !== SPEC_FORMAT)
    throw new Error(`Unsupported DeploymentSpecification format: ${String(envelope.Format)}`);
  let data: unknown;
  try {
    data = JSON.parse(envelope.Payload);
  } catch (e) {
    throw new Error(`The deployment specification is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof data !== 'object' || data === null) throw new Error('The deployment specification is not a JSON object');
  const d = data as Partial<DeploymentSpecificationDocument>;
  for (const k of ['DeploymentId', 'DeploymentGroupId', 'DeploymentGroupName', 'ApplicationName'] as const)
    if (!set(d[k])) throw new Error(`Deployment Spec has no ${k}`);
  // arn:aws:codedeploy:us-east-1:123412341234:deployment/<id>
  const deploymentId = d.DeploymentId!.startsWith('arn:')
    ? (d.DeploymentId!.split(':').slice(5).join(':').split('/')[1] ?? '')
    : d.DeploymentId!;
  safeName(deploymentId, 'deployment id');
  safeName(d.DeploymentGroupId!, 'deployment group id');
  const r = d.Revision;
  if (!r) throw new Error('Must specify a revison');
  if (!set(r.RevisionType)) throw new Error('Must specify a revision source');
  let revision: Revision;
  switch (r.RevisionType) {
    case 'S3': {
      const s = r.S3Revision;
      if (!s || !set(s.Bucket) || !set(s.Key) || !set(s.BundleType))
        throw new Error('S3Revision in Deployment Spec must specify Bucket, Key and BundleType');
      if (!BUNDLE_TYPES.includes(s.BundleType)) throw new Error('BundleType in S3Revision must be tar, tgz or zip');
      if (s.Size !== undefined && !(Number.isSafeInteger(s.Size) && s.Size >= 0))
        throw new Error('Size in S3Revision must be a whole number of bytes');
      revision = {
        type: 'S3',
        bucket: s.Bucket,
        key: s.Key,
        bundleType: s.BundleType,
        ...(set(s.Version) ? { version: s.Version } : {}),
        ...(set(s.ETag) ? { etag: s.ETag } : {}),
        ...(s.Size !== undefined ? { size: s.Size } : {}),
      };
      break;
    }
    case 'GitHub': {
      const g = r.GitHubRevision;
      if (!g || !set(g.Account) || !set(g.Repository) || !set(g.CommitId))
        throw new Error('GitHubRevision in Deployment Spec must specify Account, Repository and CommitId');
      revision = { type: 'GitHub', account: g.Account, repository: g.Repository, commitId: g.CommitId };
      break;
    }
    case 'Local File':
    case 'Local Directory': {
      const l = r.LocalRevision;
      if (!l || !set(l.Location)) throw new Error('LocalRevision in Deployment Spec must specify Location');
      if (r.RevisionType === 'Local Directory') revision = { type: 'Local Directory', location: l.Location };
      else {
        if (!BUNDLE_TYPES.includes(l.BundleType))
          throw new Error('BundleType in LocalRevision must be tar, tgz or zip');
        revision = { type: 'Local File', location: l.Location, bundleType: l.BundleType as BundleType };
      }
      break;
    }
    default:
      throw new Error('Exactly one of S3Revision, GitHubRevision, or LocalRevision must be specified');
  }
  const feb = d.AgentActionOverrides?.AgentOverrides?.FileExistsBehavior;
  let fileExistsBehavior: FileExistsBehavior | undefined;
  if (set(feb)) {
    const upper = feb.toUpperCase();
    if (!(FILE_EXISTS_BEHAVIORS as readonly string[]).includes(upper))
      throw new Error(
        `The deployment failed because an invalid option was specified for fileExistsBehavior: ${feb}. Valid options include OVERWRITE, RETAIN, and DISALLOW.`,
      );
    fileExistsBehavior = upper as FileExistsBehavior;
  }
  return {
    deploymentId,
    groupId: d.DeploymentGroupId!,
    groupName: d.DeploymentGroupName!,
    applicationName: d.ApplicationName!,
    creator: set(d.DeploymentCreator) ? d.DeploymentCreator : 'user',
    type: set(d.DeploymentType) ? d.DeploymentType : 'IN_PLACE',
    ...(set(d.AppSpecFilename) ? { appSpecFilename: d.AppSpecFilename } : {}),
    revision,
    ...(fileExistsBehavior ? { fileExistsBehavior } : {}),
  };
}

/** The variables CodeDeploy gives every script of a deployment (hook_executor.rb, command_executor.rb). */
export function scriptEnvironment(spec: DeploymentSpec, event: string): Record<string, string> {
  const env: Record<string, string> = {
    LIFECYCLE_EVENT: event,
    DEPLOYMENT_ID: spec.deploymentId,
    APPLICATION_NAME: spec.applicationName,
    DEPLOYMENT_GROUP_NAME: spec.groupName,
    DEPLOYMENT_GROUP_ID: spec.groupId,
  };
  const r = spec.revision;
  if (r.type === 'S3') {
    env.BUNDLE_BUCKET = r.bucket;
    env.BUNDLE_KEY = r.key;
    if (r.version) env.BUNDLE_VERSION = r.version;
    if (r.etag) env.BUNDLE_ETAG = r.etag;
  } else if (r.type === 'GitHub') env.BUNDLE_COMMIT = r.commitId;
  return env;
}
