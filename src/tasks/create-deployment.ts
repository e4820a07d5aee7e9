/**
 * CreateDeployment: validate everything (AppSpec, configuration, group), take the group's lock,
 * record the deployment, start its execution. Bad input changes nothing: no lock, no record.
 */
import { z } from 'zod';
import { parseEcsAppSpec, parseLambdaAppSpec } from '../domain/appspec.js';
import { MAX_BUNDLE_BYTES, appSpecFromBundle, bundleTypeOf, type BundleType } from '../domain/bundle.js';
import {
  DEFAULT_ECS_CONFIG,
  DEFAULT_LAMBDA_CONFIG,
  isInlineStepList,
  plan,
  predefinedConfig,
  stepListConfig,
  type TrafficRoutingConfig,
} from '../domain/deployment-config.js';
import { ApiError, InvalidInputError } from '../domain/errors.js';
import { deploymentIdForExecution, newDeploymentId } from '../domain/ids.js';
import { revisionKey, sha256Hex } from '../domain/revisions.js';
import {
  ECS_LIFECYCLE,
  LAMBDA_LIFECYCLE,
  type ComputePlatform,
  type Deployment,
  type DeploymentGroup,
  type RevisionLocation,
} from '../domain/model.js';
import { DEFAULT_AUTO_ROLLBACK } from '../domain/outcome.js';
import { mutateDeployment, note } from './support.js';
import { defineTask, parseInput, type Deps } from './task.js';

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
  deps: Deps,
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
    const content = appSpecFromBundle(obj.body, type);
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
  deps: Deps,
  name: string,
  platform: ComputePlatform,
): Promise<{ name: string; trafficRoutingConfig: TrafficRoutingConfig }> {
  if (isInlineStepList(name)) return { name: 'Cutover.StepList', trafficRoutingConfig: stepListConfig(name) };
  const config =
    predefinedConfig(name) ??
    (name.startsWith('CodeDeployDefault.') ? undefined : await deps.store.getDeploymentConfig(name));
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

/** What a deployment shifts, from its AppSpec: Lambda aliases, or an ECS service (from the group). */
function targetOf(
  platform: ComputePlatform,
  content: string,
  group: DeploymentGroup,
): Pick<Deployment, 'functions' | 'hooks' | 'ecs'> {
  if (platform !== 'ECS') {
    const appSpec = parseLambdaAppSpec(content);
    return { functions: appSpec.functions, hooks: appSpec.hooks };
  }
  const appSpec = parseEcsAppSpec(content);
  const svc = group.ecsServices?.[0];
  const pair = group.loadBalancerInfo?.targetGroupPairInfoList[0];
  if (!svc || !pair)
    throw new ApiError(
      'InvalidDeploymentGroupNameException',
      `Deployment group ${group.deploymentGroupName} has no ECS service or target group pair`,
    );
  const hooks = { ...appSpec.hooks };
  // CodeDeploy ignores AfterAllowTestTraffic when the group has no test listener.
  if (!pair.testTrafficRoute) delete hooks.AfterAllowTestTraffic;
  return {
    functions: [],
    hooks,
    ecs: {
      clusterName: svc.clusterName,
      serviceName: svc.serviceName,
      ...appSpec.target,
      prodListenerArns: pair.prodTrafficRoute.listenerArns,
      ...(pair.testTrafficRoute ? { testListenerArns: pair.testTrafficRoute.listenerArns } : {}),
    },
  };
}

/**
 * Validate a CreateDeployment request against the store and the revision, take the group's lock and
 * record the deployment (status Created). Nothing is written when anything is invalid.
 */
async function record(raw: unknown, deps: Deps, executionArn?: string) {
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
  const app = await deps.store.getApplication(input.applicationName);
  if (!app)
    throw new ApiError('ApplicationDoesNotExistException', `Application ${input.applicationName} does not exist`);
  const group = await deps.store.getDeploymentGroup(input.applicationName, input.deploymentGroupName);
  if (!group) {
    throw new ApiError(
      'DeploymentGroupDoesNotExistException',
      `Deployment group ${input.deploymentGroupName} does not exist in application ${input.applicationName}`,
    );
  }
  const { content, revision } = await revisionAppSpec(deps, input.revision as RevisionLocation);
  const platform = app.computePlatform;
  const target = targetOf(platform, content, group);
  const config = await resolveConfig(
    deps,
    input.deploymentConfigName ??
      group.deploymentConfigName ??
      (platform === 'ECS' ? DEFAULT_ECS_CONFIG : DEFAULT_LAMBDA_CONFIG),
    platform,
  );
  const steps = plan(config.trafficRoutingConfig);

  const deploymentId = executionArn ? deploymentIdForExecution(executionArn) : newDeploymentId();
  const now = deps.clock.now().toISOString();
  if (executionArn) {
    // A retried RecordDeployment: the deployment of this execution is already recorded.
    const recorded = await deps.store.getDeployment(deploymentId);
    if (recorded?.executionArn === executionArn) return { deployment: recorded, input, now };
  }

  const deployment: Deployment = {
    deploymentId,
    applicationName: input.applicationName,
    deploymentGroupName: input.deploymentGroupName,
    deploymentGroupId: group.deploymentGroupId,
    deploymentConfigName: config.name,
    computePlatform: platform,
    status: 'Created',
    creator: input.creator,
    ...(input.description ? { description: input.description } : {}),
    revision,
    createTime: now,
    autoRollbackConfiguration:
      input.autoRollbackConfiguration ?? group.autoRollbackConfiguration ?? DEFAULT_AUTO_ROLLBACK,
    ...target,
    plan: steps,
    targetWeight: 0,
    lifecycleEvents: (platform === 'ECS' ? ECS_LIFECYCLE : LAMBDA_LIFECYCLE).map((name) => ({
      lifecycleEventName: name,
      status: 'Pending' as const,
    })),
    ...(executionArn ? { executionArn } : {}),
    version: 1,
  };

  await deps.store.lockGroup(input.applicationName, input.deploymentGroupName, deploymentId);
  try {
    await deps.store.createDeployment(deployment);
  } catch (e) {
    await deps.store.releaseGroup(input.applicationName, input.deploymentGroupName, deploymentId, {
      status: 'Failed',
      createTime: now,
    });
    throw e;
  }
  await note(deps, deploymentId, 'Created', `Deployment created by ${input.creator} with ${config.name}`, {
    ...(target.ecs
      ? { service: `${target.ecs.clusterName}:${target.ecs.serviceName}`, taskDefinition: target.ecs.taskDefinition }
      : {
          functions: target.functions.map((f) => `${f.functionName}:${f.alias} ${f.currentVersion}→${f.targetVersion}`),
        }),
  });
  await deps.store.recordRevisionUse(
    input.applicationName,
    revisionKey(revision),
    revision,
    input.deploymentGroupName,
    now,
  );
  return { deployment, input, now };
}

async function create(raw: unknown, deps: Deps): Promise<{ deploymentId: string }> {
  const { deployment, input, now } = await record(raw, deps);
  const { deploymentId } = deployment;
  let executionArn: string;
  try {
    executionArn = await deps.executions.start(deploymentId, { deploymentId });
  } catch (e) {
    // The execution never started: nothing moved. Record why, and free the group.
    const message = `The deployment could not be started: ${(e as Error).message}`;
    await deps.store.updateDeployment(deploymentId, deployment.version, {
      status: 'Failed',
      completeTime: deps.clock.now().toISOString(),
      errorInformation: { code: 'INTERNAL_ERROR', message },
    });
    await note(deps, deploymentId, 'Failed', message);
    await deps.store.releaseGroup(input.applicationName, input.deploymentGroupName, deploymentId, {
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
export const createDeployment = defineTask('createDeployment', z.unknown(), create);

/**
 * The state machine's first state when an execution is started with a CreateDeployment request
 * instead of a deployment id (e.g. CodePipeline's native Step Functions action): record the
 * deployment for this very execution, then continue with Prepare.
 */
export const recordDeployment = defineTask(
  'recordDeployment',
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
