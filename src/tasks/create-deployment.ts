/**
 * CreateDeployment: validate everything (AppSpec, configuration, group), take the group's lock,
 * record the deployment, start its execution. Bad input changes nothing: no lock, no record.
 */
import { z } from 'zod';
import { MAX_BUNDLE_BYTES, bundleTypeOf, type BundleType } from '../domain/bundle.js';
import type { DeploymentConfigSettings } from '../domain/deployment-config.js';
import { ApiError, DependencyRejectedError, InternalError, InvalidInputError } from '../domain/errors.js';
import { STRICT_HOOK_TARGETS, hookTargetProblems } from '../domain/hook-targets.js';
import { deploymentIdForExecution } from '../domain/ids.js';
import { attachHooks, initialLifecycleEvents } from '../domain/lifecycle.js';
import { revisionKey, sha256Hex } from '../domain/revisions.js';
import { endLifecycle, type ComputePlatform, type Deployment, type RevisionLocation } from '../domain/model.js';
import { DEFAULT_AUTO_ROLLBACK } from '../domain/outcome.js';
import { platformOf, predefinedDeploymentConfig } from '../platforms/index.js';
import { mutateDeployment, note, once } from './support.js';
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
  ignoreApplicationStopFailures: z.boolean().optional(),
  updateOutdatedInstancesOnly: z.boolean().optional(),
  fileExistsBehavior: z.enum(['DISALLOW', 'OVERWRITE', 'RETAIN']).optional(),
  creator: z.enum(['user', 'CodePipeline', 'S3']).default('user'),
});
export type CreateDeploymentInput = z.infer<typeof CreateDeploymentInput>;

/** The exception for a problem with each field (a Map: a field named like an Object.prototype key finds nothing). */
const FIELD_EXCEPTIONS = new Map<string, string>(
  Object.entries({
    applicationName: 'ApplicationNameRequiredException',
    deploymentGroupName: 'DeploymentGroupNameRequiredException',
    revision: 'RevisionRequiredException',
    description: 'InvalidDescriptionException',
    deploymentConfigName: 'InvalidDeploymentConfigNameException',
    autoRollbackConfiguration: 'InvalidAutoRollbackConfigException',
    ignoreApplicationStopFailures: 'InvalidIgnoreApplicationStopFailuresValueException',
    updateOutdatedInstancesOnly: 'InvalidUpdateOutdatedInstancesOnlyValueException',
    fileExistsBehavior: 'InvalidFileExistsBehaviorException',
  }),
);

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
    const content = appSpecOfObject(deps, obj.body, type, loc);
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

/** The AppSpec in an S3 object; a damaged bundle is refused naming the revision (bucket, key, version). */
function appSpecOfObject(
  deps: Pick<DepsFor<typeof RECORD_USES>, 'bundles'>,
  body: Uint8Array,
  type: BundleType,
  loc: { bucket: string; key: string; version?: string },
): string {
  try {
    return deps.bundles.appSpecOf(body, type);
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    const where = `s3://${loc.bucket}/${loc.key}${loc.version ? ` (version ${loc.version})` : ''}`;
    throw new InvalidInputError(
      e.issues.map((issue) => ({ ...issue, path: 'revision.s3Location', message: `${where}: ${issue.message}` })),
      e.exceptionName,
      undefined,
      { cause: e },
    );
  }
}

/**
 * Resolve a configuration name (predefined, custom, or written inline) to the configuration's settings, for a
 * group or a deployment of `computePlatform`.
 * @throws ApiError DeploymentConfigDoesNotExistException; InvalidDeploymentConfigNameException for another
 *   platform's configuration (or an unknown CodeDeployDefault. name); InvalidInputError for a bad inline one
 */
export async function resolveConfig(
  deps: { catalog: Pick<DepsFor<typeof RECORD_USES>['catalog'], 'getDeploymentConfig'> },
  name: string,
  computePlatform: ComputePlatform,
): Promise<{ name: string; settings: DeploymentConfigSettings }> {
  const inline = platformOf(computePlatform).deploymentConfigs.inline(name);
  if (inline) return inline;
  const config =
    predefinedDeploymentConfig(name) ??
    (name.startsWith('CodeDeployDefault.') ? undefined : await deps.catalog.getDeploymentConfig(name));
  if (!config && name.startsWith('CodeDeployDefault.')) {
    throw new ApiError(
      'InvalidDeploymentConfigNameException',
      `${name} is not a predefined ${computePlatform} deployment configuration`,
    );
  }
  if (!config)
    throw new ApiError('DeploymentConfigDoesNotExistException', `Deployment configuration ${name} does not exist`);
  if (config.computePlatform !== computePlatform) {
    throw new ApiError(
      'InvalidDeploymentConfigNameException',
      `Deployment configuration ${name} is for ${config.computePlatform}, not ${computePlatform}`,
    );
  }
  const { trafficRoutingConfig, minimumHealthyHosts, zonalConfig, waves } = config;
  return { name, settings: { trafficRoutingConfig, minimumHealthyHosts, zonalConfig, waves } };
}

/** What CreateDeployment reads and writes (RecordDeployment, the triggers and the API share it). */
const RECORD_USES = {
  catalog: ['getApplication', 'getDeploymentGroup', 'getDeploymentConfig', 'recordRevisionUse'],
  deployments: ['get', 'create', 'update', 'discard'],
  locks: ['acquire', 'release'],
  timeline: ['append'],
  revisions: ['get'],
} as const;

/**
 * Validate a CreateDeployment request against the store and the revision, record the deployment
 * (status Created) and take the group's lock. Nothing is written when anything is invalid; a
 * failure after the record is written ends it Failed and frees the group (see `abandon`).
 */
async function record(raw: unknown, deps: DepsFor<typeof RECORD_USES>, executionArn?: string) {
  let input: CreateDeploymentInput;
  try {
    input = parseInput(CreateDeploymentInput, raw);
  } catch (e) {
    if (e instanceof InvalidInputError) {
      const first = e.issues[0]?.path.split('.')[0] ?? '';
      throw new InvalidInputError(e.issues, FIELD_EXCEPTIONS.get(first) ?? 'InvalidInputException');
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
  const revisionType = (input.revision as RevisionLocation).revisionType;
  if (platform.revisionTypes && !platform.revisionTypes.includes(revisionType))
    throw new ApiError(
      'InvalidRevisionException',
      `revision.revisionType: ${app.computePlatform} deployments take ${platform.revisionTypes.join(' or ')} revisions (a bundle with the files and the AppSpec), not ${revisionType}`,
    );
  // CodeDeploy: "For Lambda deployments, false is expected" (so for ECS): only hosts can be up to date.
  if (input.updateOutdatedInstancesOnly && !platform.inPlace)
    throw new ApiError(
      'InvalidUpdateOutdatedInstancesOnlyValueException',
      `updateOutdatedInstancesOnly: applies to Server (EC2/on-premises) deployments; ${app.computePlatform} deployments take false`,
    );
  const { content, revision } = await revisionAppSpec(deps, input.revision as RevisionLocation);
  const planned = platform.planRevision(content, group);
  const config = await resolveConfig(
    deps,
    input.deploymentConfigName ?? group.deploymentConfigName ?? platform.defaultDeploymentConfig,
    app.computePlatform,
  );
  const steps = platform.deploymentConfigs.plan(config.settings);
  const lifecycle = attachHooks(planned.stages, planned.hooks, group);
  // A hook the stack may not run (a function outside hookFunctions, a webhook to a refused address)
  // is refused now rather than when the deployment reaches it, with traffic half shifted.
  const hookIssues = lifecycle.flatMap((s) =>
    s.kind === 'hook'
      ? hookTargetProblems(
          s.hook,
          deps.env.hookTargets ?? STRICT_HOOK_TARGETS,
          deps.env,
          group.webhookAllowedHosts,
        ).map((message) => ({ path: `Hooks.${s.name}`, message }))
      : [],
  );
  if (hookIssues.length) throw new InvalidInputError(hookIssues, 'InvalidRevisionException', 'Invalid AppSpec');

  const deploymentId = executionArn ? deploymentIdForExecution(executionArn) : deps.ids.deploymentId();
  const now = deps.clock.stamp().toISOString();
  // A retried RecordDeployment: this execution's deployment may be recorded already (and may have
  // been ended by a cleanup: then Prepare ends the execution quietly).
  const recorded = executionArn ? await deps.deployments.get(deploymentId) : undefined;
  if (recorded && recorded.state.executionArn !== executionArn)
    throw new InternalError(`deployment ${deploymentId} belongs to another execution`);
  if (recorded && recorded.state.status !== 'Created') return { deployment: recorded, input, now };

  const deployment: Deployment = recorded ?? {
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
      ...(input.ignoreApplicationStopFailures !== undefined
        ? { ignoreApplicationStopFailures: input.ignoreApplicationStopFailures }
        : {}),
      ...(input.updateOutdatedInstancesOnly !== undefined
        ? { updateOutdatedInstancesOnly: input.updateOutdatedInstancesOnly }
        : {}),
      ...(input.fileExistsBehavior ? { fileExistsBehavior: input.fileExistsBehavior } : {}),
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

  // The record first, then the lock: a lock then never names a missing record. A record whose lock
  // is refused is removed (as if never made); one left behind by a fault is ended by `abandon`, or
  // else by the reconciler (a Created deployment with no execution after a minute).
  if (!recorded) await createRecord(deps, deployment);
  const { applicationName, deploymentGroupName } = input;
  try {
    await deps.locks.acquire(applicationName, deploymentGroupName, deploymentId);
  } catch (e) {
    if (e instanceof ApiError) {
      // The group is busy (or gone): the request is refused and leaves nothing behind.
      await deps.deployments.discard(deploymentId).catch(() => undefined);
      throw e;
    }
    await abandon(deps, deployment, `the group's lock could not be taken (${(e as Error).message})`);
    throw e;
  }
  try {
    await once(deps, deployment, 'note:Created', () =>
      note(deps, deploymentId, 'Created', `Deployment created by ${input.creator} with ${config.name}`, {
        target: platform.summary(deployment),
      }),
    );
    await deps.catalog.recordRevisionUse(applicationName, revisionKey(revision), revision, deploymentGroupName, now);
  } catch (e) {
    await abandon(deps, deployment, `the deployment could not be recorded (${(e as Error).message})`);
    throw e;
  }
  return { deployment, input, now };
}

/** Write a new record; a lost response to an earlier attempt (the same record there already) is success. */
async function createRecord(deps: DepsFor<typeof RECORD_USES>, d: Deployment): Promise<void> {
  try {
    await deps.deployments.create(d);
  } catch (e) {
    const stored = await deps.deployments.get(d.deploymentId).catch(() => undefined);
    if (stored?.spec.createTime === d.spec.createTime && stored.state.status === 'Created') return;
    throw e;
  }
}

/** How many times `abandon` tries to end a create's record before it leaves it to the reconciler. */
const ABANDON_ATTEMPTS = 3;

/**
 * A create that could not finish: end the deployment Failed (nothing has moved: it never started)
 * and free the group. `ended` when it did; `running` when the deployment had moved on (its
 * execution started it, so it runs to an end); `unknown` when the record could not be ended (the
 * reconciler ends it within a minute, unless an execution runs it). Freeing the group and the note
 * are best effort: the reconciler finishes what is left.
 */
async function abandon(
  deps: DepsFor<typeof RECORD_USES>,
  d: Deployment,
  why: string,
): Promise<'ended' | 'running' | 'unknown'> {
  const now = deps.clock.stamp().toISOString();
  const message = `The deployment could not be started: ${why}`;
  let ended: Deployment | undefined;
  for (let attempt = 1; !ended; attempt++) {
    try {
      ended = await mutateDeployment(deps, d.deploymentId, (cur) =>
        cur.state.status === 'Created'
          ? {
              status: 'Failed',
              completeTime: now,
              errorInformation: { code: 'INTERNAL_ERROR', message },
              lifecycleEvents: endLifecycle(cur.state.lifecycleEvents, now),
            }
          : undefined,
      );
    } catch {
      if (attempt >= ABANDON_ATTEMPTS) return 'unknown';
    }
  }
  if (ended.state.status !== 'Failed' || ended.state.startTime) return 'running';
  try {
    await deps.locks.release(
      d.spec.applicationName,
      d.spec.deploymentGroupName,
      d.deploymentId,
      {
        status: 'Failed',
        createTime: d.spec.createTime,
        endTime: now,
      },
      d.spec.deploymentGroupId,
    );
    await once(deps, ended, 'note:Failed', () => note(deps, d.deploymentId, 'Failed', message));
  } catch {
    // The reconciler frees a group whose lock names an ended deployment.
  }
  return 'ended';
}

const CREATE_USES = {
  ...RECORD_USES,
  executions: ['start'],
} as const;

async function create(raw: unknown, deps: DepsFor<typeof CREATE_USES>): Promise<{ deploymentId: string }> {
  const { deployment } = await record(raw, deps);
  const { deploymentId } = deployment;
  let executionArn: string;
  try {
    executionArn = await deps.executions.start(deploymentId, { deploymentId });
  } catch (e) {
    // The start may have taken effect with its answer lost: the execution may be running. Ending
    // the deployment settles it either way: if the execution got there first (InProgress), the
    // deployment runs and this create succeeded; otherwise it is Failed and the execution, if any,
    // finds it ended and stops without changing anything.
    const abandoned = await abandon(deps, deployment, (e as Error).message);
    if (abandoned === 'running') return { deploymentId };
    // Not known to be ended, and the start may have taken effect (a timeout, or a 5xx after it was
    // applied): an execution may be running it. The client is given its id, not an error it would
    // act on: the deployment runs to an end, or the reconciler ends it (Failed) within a minute.
    if (abandoned === 'unknown' && !(e instanceof DependencyRejectedError)) return { deploymentId };
    throw e;
  }
  // The execution may already be writing the record: compare-and-set with retry.
  await mutateDeployment(deps, deploymentId, () => ({ executionArn })).catch(() => undefined);
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
