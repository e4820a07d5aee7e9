/**
 * S3 uploads start deployments: an object created under `<prefix>/<application>/<group>/` that is a
 * bare AppSpec or a bundle becomes a CreateDeployment (creator `S3`). Object metadata may name a
 * deployment configuration (`deployment-config`) and a `description`. An upload that cannot become
 * a deployment is recorded as a Failed deployment with the reason, and its failure is published:
 * it never disappears silently.
 */
import { z } from 'zod';
import { bundleTypeOf, MAX_BUNDLE_BYTES } from '../domain/bundle.js';
import { ApiError, InvalidInputError } from '../domain/errors.js';
import type { Deployment, RevisionLocation } from '../domain/model.js';
import { DEFAULT_AUTO_ROLLBACK } from '../domain/outcome.js';
import { revisionTarget } from '../domain/revisions.js';
import { createDeployment } from './create-deployment.js';
import { note, publishState } from './support.js';
import { defineTask, type DepsFor } from './task.js';

const S3Event = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      s3: z.object({
        bucket: z.object({ name: z.string() }),
        object: z.object({ key: z.string(), eTag: z.string().optional(), versionId: z.string().optional() }),
      }),
    }),
  ),
});

type Outcome = { key: string; deploymentId?: string; ignored?: string; failed?: string };

const USES = {
  ...createDeployment.uses,
  catalog: [...createDeployment.uses.catalog, 'getApplication'],
  events: ['putEvents', 'publish'],
} as const;
type TriggerDeps = DepsFor<typeof USES>;

async function onUpload(event: z.infer<typeof S3Event>, deps: TriggerDeps): Promise<{ results: Outcome[] }> {
  const prefix = deps.env.revisionPrefix ?? 'revisions';
  const results: Outcome[] = [];
  for (const r of event.Records) {
    // S3 URL-encodes keys in notifications, with + for spaces.
    const key = decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '));
    const target = revisionTarget(key, prefix);
    if (!r.eventName.startsWith('ObjectCreated') || !target || !bundleTypeOf(key)) {
      const why = !target
        ? `not under ${prefix}/<application>/<deploymentGroup>/`
        : !bundleTypeOf(key)
          ? 'not an AppSpec or bundle (.yaml, .yml, .json, .zip, .tar, .tgz)'
          : r.eventName;
      deps.log.info('S3 upload ignored', { key, why });
      results.push({ key, ignored: why });
      continue;
    }
    const revision: RevisionLocation = {
      revisionType: 'S3',
      s3Location: {
        bucket: r.s3.bucket.name,
        key,
        ...(r.s3.object.versionId ? { version: r.s3.object.versionId } : {}),
        ...(r.s3.object.eTag ? { eTag: r.s3.object.eTag } : {}),
      },
    };
    try {
      const metadata = (await deps.revisions.get(r.s3.bucket.name, key, r.s3.object.versionId, MAX_BUNDLE_BYTES))
        .metadata;
      // Only the object's own metadata keys (never an Object.prototype member).
      const meta = (name: string) => (Object.hasOwn(metadata, name) ? metadata[name] : undefined);
      const config = meta('deployment-config');
      const description = meta('description');
      const { deploymentId } = await createDeployment.run(
        {
          ...target,
          revision,
          creator: 'S3',
          ...(config ? { deploymentConfigName: config } : {}),
          ...(description ? { description: description.slice(0, 256) } : {}),
        },
        deps,
      );
      results.push({ key, deploymentId });
    } catch (e) {
      if (!(e instanceof InvalidInputError || e instanceof ApiError)) throw e; // AWS trouble: let the event be retried
      results.push({ key, failed: e.message, ...(await recordRejected(deps, target, revision, e)) });
    }
  }
  return { results };
}

/** Record an upload that could not start as a Failed deployment, and publish the failure. */
async function recordRejected(
  deps: TriggerDeps,
  target: { applicationName: string; deploymentGroupName: string },
  revision: RevisionLocation,
  e: InvalidInputError | ApiError,
): Promise<{ deploymentId?: string }> {
  const group = await deps.catalog.getDeploymentGroup(target.applicationName, target.deploymentGroupName);
  const app = await deps.catalog.getApplication(target.applicationName);
  if (!group || !app) {
    deps.log.error('S3 upload for an unknown deployment group', { ...target, error: e.message });
    return {};
  }
  const now = deps.clock.stamp().toISOString();
  const code =
    e instanceof ApiError && e.exceptionName === 'DeploymentLimitExceededException'
      ? 'RESOURCE_LIMIT_EXCEEDED'
      : e instanceof ApiError && e.exceptionName === 'RevisionDoesNotExistException'
        ? 'REVISION_MISSING'
        : 'INVALID_REVISION';
  const message = `${e.exceptionName}: ${e.message}`.slice(0, 1000);
  const d: Deployment = {
    deploymentId: deps.ids.deploymentId(),
    spec: {
      ...target,
      deploymentGroupId: group.deploymentGroupId,
      deploymentConfigName: group.deploymentConfigName,
      computePlatform: app.computePlatform,
      creator: 'S3',
      revision,
      createTime: now,
      autoRollbackConfiguration: group.autoRollbackConfiguration ?? DEFAULT_AUTO_ROLLBACK,
      // Nothing was read from the revision: no target, no stages.
      target: undefined,
      lifecycle: [],
      plan: { steps: [], totalBakeSeconds: 0 },
    },
    state: {
      status: 'Failed',
      completeTime: now,
      errorInformation: { code, message },
      targetWeight: 0,
      lifecycleEvents: [],
      outcomePublished: true,
      version: 1,
    },
  };
  await deps.deployments.create(d);
  await note(deps, d.deploymentId, 'Failed', `The upload could not start a deployment: ${message}`);
  await publishState(deps, d, group, 'FAILURE', ['DeploymentFailure']);
  return { deploymentId: d.deploymentId };
}

export const s3Trigger = defineTask('s3Trigger', USES, S3Event, onUpload);
