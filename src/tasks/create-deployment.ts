/**
 * CreateDeployment: validate everything (AppSpec, configuration, group), take the group's lock,
 * record the deployment, start its execution. Bad input changes nothing: no lock, no record.
 */
import { z } from 'zod';
import { MAX_BUNDLE_BYTES, bundleTypeOf, type BundleType } from '../domain/bundle.js';
import {
  isInlineStepList,
  plan,
  predefinedConfig,
  stepListConfig,
  type TrafficRoutingConfig,
} from '../domain/deployment-config.js';
import { ApiError, InvalidInputError } from '../domain/errors.js';
import { deploymentIdForExecution } from '../domain/ids.js';
import { attachHooks, initialLifecycleEvents } from '../domain/lifecycle.js';
import { revisionKey, sha256Hex } from '../domain/revisions.js';
import type { ComputePlatform, Deployment, RevisionLocation } from '../domain/model.js';
import { DEFAULT_AUTO_ROLLBACK } from '../domain/outcome.js';
import { platformOf } from '../platforms/index.js';
import { mutateDeployment, note } from './support.js';
import { defineTask, parseInput, type DepsFor } from './task.js';

const Content = z.object({ content: z.string().min(1, 'required'), sha256: z.string().optional() });
const Revision = z.discriminatedUnion('revisionType', [
  z.object({ revisionType: z.literal('AppSpecContent'), appSpecContent: Content }),
  z.object({ revisionType: z.literal('String'), string: Content }),
  z.object({
    revisionType: z.literal('S3'),
    s3Location: z.object({
      bucket: z.string().min(1),
      key: z.string().min(1),
      bundleType: z.string().optional(),
      version: z.string().optional(),
      eTag: z.string().optional(),
    }),
  }),
]);

const AutoRollback = z.object({
  enabled: z.boolean(),
  events: z.array(z.enum(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'])).default([]),
});

export const CreateDeploymentInput = z.object({
  applicationName: z.string().min(1, 'required').max(100),
  deploymentGroupName: z.string().min(1, 'required').max(100),
  revision: Revision,
  deploymentConfigName: z.string().min(1).max(200).optional(),
  description: z.string().max(256, 'at most 256 characters').optional(),
  autoRollbackConfiguration: AutoRollback.optional(),
  creator: z.enum(['user', 'CodePipeline', 'S3']).default('user'),
});
export type CreateDeploymentInput = z.infer<typeof CreateDeploymentInput>;

const REQUIRED_EXCEPTIONS: Record<string, string> = {
  applicationName: 'ApplicationNameRequiredException',
  deploymentGroupName: 'DeploymentGroupNameRequiredException',
  revision: 'RevisionRequiredException',
  description: 'InvalidDescriptionException',
  deploymentConfigName: 'InvalidDeploymentConfigNameException',
  autoRollbackConfiguration: 'InvalidAutoRollbackConfigException',
};

/**
 * The AppSpec text of a revision: inline content (checking a given sha256), or an S3 object (a bare
 * AppSpec or a zip/tar/tgz bundle, checking a given eTag). Returns the revision as recorded, with
 * the S3 object's eTag, version and bundle type filled in.
 */
export async function revisionAppSpec(
  deps: Pick<DepsFor<typeof RECORD_USES>, 'revisions' | 'bundles'>,
  revision: RevisionLocation,
): Promise<{ content: string; revision: RevisionLocation }> {
  if (revision.revisionType === 'S3') {
    const loc = revision.s3Location;
    const type = (BUNDLE_TYPES as readonly string[]).includes(loc.bundleType ?? '')
      ? (loc.bundleType as BundleType)
      : bundleTypeOf(loc.key);
    if (!type) {
      throw new InvalidInputError(
        [
          {
            path: 'revision.s3Location.bundleType',
            message: `cannot tell the bundle type of ${loc.key}; give bundleType (${BUNDLE_TYPES.join(', ')}) or a key ending in .yaml, .yml, .json, .zip, .tar, .tar.gz or .tgz`,
          },
        ],
        'InvalidRevisionException',
      );
    }
    const obj = await deps.revisions.get(loc.bucket, loc.key, loc.version, MAX_BUNDLE_BYTES);
    if (loc.eTag && obj.eTag && loc.eTag.replace(/"/g, '') !== obj.eTag) {
      throw new InvalidInputError(
        [{ path: 'revision.s3Location.eTag', message: `does not match the object's ETag (${obj.eTag})` }],
        'InvalidRevisionException',
      );
    }
    const content = deps.bundles.appSpecOf(obj.body, type);
    return {
      content,
      revision: {
        revisionType: 'S3',
        s3Location: {
          ...loc,
          bundleType: type,
          ...(obj.eTag ? { eTag: obj.eTag } : {}),
          ...(obj.versionId ? { version: obj.versionId } : {}),
        },
      },
    };
  }
  const c = revision.revisionType === 'AppSpecContent' ? revision.appSpecContent : revision.string;
  const field = revision.revisionType === 'AppSpecContent' ? 'appSpecContent' : 'string';
  if (c.sha256 && c.sha256.toLowerCase() !== sha256Hex(c.content)) {
    throw new InvalidInputError(
      [{ path: `revision.${field}.sha256`, message: 'does not match the SHA-256 of content' }],
      'InvalidRevisionException',
    );
  }
  return {
    content: c.content,
    revision: {
      ...revision,
      [field]: { content: c.content, sha256: c.sha256 ?? sha256Hex(c.content) },
    } as RevisionLocation,
  };
}

const BUNDLE_TYPES = ['YAML', 'JSON', 'zip', 'tar', 'tgz'] as const;

/** Resolve a configuration name (predefined, custom, or an inline step list) to its routing config. */
export async function resolveConfig(
  deps: { catalog: Pick<DepsFor<typeof RECORD_USES>['catalog'], 'getDeploymentConfig'> },
  name: string,
  platform: ComputePlatform,
): Promise<{ name: string; trafficRoutingConfig: TrafficRoutingConfig }> {
  if (isInlineStepList(name)) return { name: 'Cutover.StepList', trafficRoutingConfig: stepListConfig(name) };
  const config =
    predefinedConfig(name) ??
    (name.startsWith('CodeDeployDefault.') ? undefined : await deps.catalog.getDeploymentConfig(name));
  if (!config && name.startsWith('CodeDeployDefault.')) {
    throw new ApiError(
      'InvalidDeploymentConfigNameException',
      `${name} is not a predefined ${platform} deployment configuration`,
    );
  }
  if (!config)
    throw new ApiError('DeploymentConfigDoesNotExistException', `Deployment configuration ${name} does not exist`);
  if (config.computePlatform !== platform) {
    throw new ApiError(
      'InvalidDeploymentConfigNameException',
      `Deployment configuration ${name} is for ${config.computePlatform}, not ${platform}`,
    );
  }
  return { name, trafficRoutingConfig: config.trafficRoutingConfig };
}

/** What CreateDeployment reads and writes (RecordDeployment, the triggers and the API share it). */
const RECORD_USES = {
  catalog: ['getApplication', 'getDeploymentGroup', 'getDeploymentConfig', 'recordRevisionUse'],
  deployments: ['get', 'create'],
  locks: ['acquire', 'release'],
  timeline: ['append'],
  revisions: ['get'],
} as const;

/**
 * Validate a CreateDeployment request against the store and the revision, take the group's lock and
 * record the deployment (status Created). Nothing is written when anything is invalid.
 */
async function record(raw: unknown, deps: DepsFor<typeof RECORD_USES>, executionArn?: string) {
  let input: CreateDeploymentInput;
  try {
    input = parseInput(CreateDeploymentInput, raw);
  } catch (e) {
    if (e instanceof InvalidInputError) {
      const first = e.issues[0]?.path.split('.')[0] ?? '';
      throw new InvalidInputError(e.issues, REQUIRED_EXCEPTIONS[first] ?? 'InvalidInputException');
    }
    throw e;
  }

  // Everything that can be checked without the world is checked before anything is written.
  const app = await deps.catalog.getApplication(input.applicationName);
  if (!app)
    throw new ApiError('ApplicationDoesNotExistException', `Application ${input.applicationName} does not exist`);
  const group = await deps.catalog.getDeploymentGroup(input.applicationName, input.deploymentGroupName);
  if (!group) {
    throw new ApiError(
      'DeploymentGroupDoesNotExistException',
      `Deployment group ${input.deploymentGroupName} does not exist in application ${input.applicationName}`,
    );
  }
  const platform = platformOf(app.computePlatform);
  const { content, revision } = await revisionAppSpec(deps, input.revision as RevisionLocation);
  const planned = platform.planRevision(content, group);
  const config = await resolveConfig(
    deps,
    input.deploymentConfigName ?? group.deploymentConfigName ?? platform.defaultDeploymentConfig,
    app.computePlatform,
  );
  const steps = plan(config.trafficRoutingConfig);
  const lifecycle = attachHooks(planned.stages, planned.hooks, group);

  const deploymentId = executionArn ? deploymentIdForExecution(executionArn) : deps.ids.deploymentId();
  const now = deps.clock.now().toISOString();
  if (executionArn) {
    // A retried RecordDeployment: the deployment of this execution is already recorded.
    const recorded = await deps.deployments.get(deploymentId);
    if (recorded?.state.executionArn === executionArn) return { deployment: recorded, input, now };
  }

  const deployment: Deployment = {
    deploymentId,
    spec: {
      applicationName: input.applicationName,
      deploymentGroupName: input.deploymentGroupName,
      deploymentGroupId: group.deploymentGroupId,
      deploymentConfigName: config.name,
      computePlatform: app.computePlatform,
      creator: input.creator,
      ...(input.description ? { description: input.description } : {}),
      revision,
      createTime: now,
      autoRollbackConfiguration:
        input.autoRollbackConfiguration ?? group.autoRollbackConfiguration ?? DEFAULT_AUTO_ROLLBACK,
      target: planned.target,
      lifecycle,
      plan: steps,
    },
    state: {
      status: 'Created',
      targetWeight: 0,
      lifecycleEvents: initialLifecycleEvents(platform.lifecycleEvents, lifecycle),
      ...(executionArn ? { executionArn } : {}),
      version: 1,
    },
  };

  await deps.locks.acquire(input.applicationName, input.deploymentGroupName, deploymentId);
  try {
    await deps.deployments.create(deployment);
  } catch (e) {
    await deps.locks.release(input.applicationName, input.deploymentGroupName, deploymentId, {
      status: 'Failed',
      createTime: now,
    });
    throw e;
  }
  await note(deps, deploymentId, 'Created', `Deployment created by ${input.creator} with ${config.name}`, {
    target: platform.summary(deployment),
  });
  await deps.catalog.recordRevisionUse(
    input.applicationName,
    revisionKey(revision),
    revision,
    input.deploymentGroupName,
    now,
  );
  return { deployment, input, now };
}

const CREATE_USES = {
  ...RECORD_USES,
  deployments: ['get', 'create', 'update'],
  executions: ['start'],
} as const;

async function create(raw: unknown, deps: DepsFor<typeof CREATE_USES>): Promise<{ deploymentId: string }> {
  const { deployment, input, now } = await record(raw, deps);
  const { deploymentId } = deployment;
  let executionArn: string;
  try {
    executionArn = await deps.executions.start(deploymentId, { deploymentId });
  } catch (e) {
    // The execution never started: nothing moved. Record why, and free the group.
    const message = `The deployment could not be started: ${(e as Error).message}`;
    await deps.deployments.update(deploymentId, deployment.state.version, {
      status: 'Failed',
      completeTime: deps.clock.now().toISOString(),
      errorInformation: { code: 'INTERNAL_ERROR', message },
    });
    await note(deps, deploymentId, 'Failed', message);
    await deps.locks.release(input.applicationName, input.deploymentGroupName, deploymentId, {
      status: 'Failed',
      createTime: now,
    });
    throw e;
  }
  // The execution may already be writing the record: compare-and-set with retry.
  await mutateDeployment(deps, deploymentId, () => ({ executionArn }));
  return { deploymentId };
}

/** CreateDeployment (CodeDeploy's input shape). Returns `{deploymentId}`. */
export const createDeployment = defineTask('createDeployment', CREATE_USES, z.unknown(), create);

/**
 * The state machine's first state when an execution is started with a CreateDeployment request
 * instead of a deployment id (e.g. CodePipeline's native Step Functions action): record the
 * deployment for this very execution, then continue with Prepare.
 */
export const recordDeployment = defineTask(
  'recordDeployment',
  RECORD_USES,
  z.object({ request: z.unknown(), executionArn: z.string().min(1) }),
  async ({ request, executionArn }, deps) => {
    const { deployment } = await record(
      { ...(request as object), creator: (request as { creator?: string })?.creator ?? 'user' },
      deps,
      executionArn,
    );
    return { deploymentId: deployment.deploymentId };
  },
);

/** Record a deployment without starting it (S3 uploads record invalid ones as Failed; see s3-trigger). */
export { record as recordDeploymentRequest, RECORD_USES };
