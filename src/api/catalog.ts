/**
 * CodeDeploy's catalog operations (applications, groups, configurations, revisions) over
 * the store, with CodeDeploy's exception names. Thin: validation, then one store call each.
 */
import { ApiError } from '../domain/errors.js';
import { nameProblem } from '../domain/names.js';
import type { DeploymentGroup, RevisionLocation } from '../domain/model.js';
import { revisionKey, sha256Hex } from '../domain/revisions.js';
import { PREDEFINED_DEPLOYMENT_CONFIG_NAMES, predefinedDeploymentConfig } from '../platforms/index.js';
import type { Catalog, Logger, Secrets, StoredRevision } from '../ports/index.js';
import { TASKS } from '../tasks/index.js';
import { operation, str, type Input, type Operation } from './operation.js';
import { applicationInfo, epochSeconds } from './shapes.js';

const need = (i: Input, field: string, exception: string): string => {
  const v = str(i[field]);
  if (!v) throw new ApiError(exception, `${field} is required`);
  return v;
};

async function mustApp(d: { catalog: Pick<Catalog, 'getApplication'> }, name: string) {
  const app = await d.catalog.getApplication(name);
  if (!app) throw new ApiError('ApplicationDoesNotExistException', `Application ${name} does not exist`);
  return app;
}

/**
 * Remove the webhook secrets of deleted groups. After the records: a record never names a secret that is gone
 * while it exists. A secret that cannot be removed now is logged (by group id, never its value) and left; the
 * deletion the caller asked for has happened.
 */
async function forgetSecrets(
  d: { secrets: Pick<Secrets, 'remove'>; log: Logger },
  groups: readonly DeploymentGroup[],
): Promise<void> {
  for (const g of groups) {
    if (g.webhookSecretRef === undefined) continue;
    try {
      await d.secrets.remove(g.deploymentGroupId);
    } catch (e) {
      d.log.warn('the webhook secret of a deleted deployment group could not be removed', {
        deploymentGroupId: g.deploymentGroupId,
        error: (e as Error).name,
      });
    }
  }
}

/** Revisions as stored: content revisions get their sha256 filled in, so the key is stable. */
function normalizeRevision(r: unknown): RevisionLocation {
  const rev = r as RevisionLocation | undefined;
  if (!rev || typeof rev !== 'object') throw new ApiError('RevisionRequiredException', 'revision is required');
  if (rev.revisionType === 'AppSpecContent' && typeof rev.appSpecContent?.content === 'string') {
    return {
      revisionType: 'AppSpecContent',
      appSpecContent: {
        content: rev.appSpecContent.content,
        sha256: rev.appSpecContent.sha256 ?? sha256Hex(rev.appSpecContent.content),
      },
    };
  }
  if (rev.revisionType === 'String' && typeof rev.string?.content === 'string') {
    return {
      revisionType: 'String',
      string: { content: rev.string.content, sha256: rev.string.sha256 ?? sha256Hex(rev.string.content) },
    };
  }
  if (rev.revisionType === 'S3' && rev.s3Location?.bucket && rev.s3Location.key) return rev;
  throw new ApiError(
    'InvalidRevisionException',
    'revision must be AppSpecContent {content}, String {content} or S3 {bucket, key}',
  );
}

export const CATALOG: Record<string, Operation> = {
  ListApplications: operation({ catalog: ['listApplications'] }, async (_i, d) => ({
    applications: (await d.catalog.listApplications()).map((a) => a.applicationName).sort(),
  })),
  BatchGetApplications: operation({ catalog: ['getApplication'] }, async (i, d) => {
    const names = Array.isArray(i.applicationNames) ? i.applicationNames.map(str) : [];
    if (names.length > 100) throw new ApiError('BatchLimitExceededException', 'At most 100 application names per call');
    const apps = await Promise.all(names.map((n) => d.catalog.getApplication(n)));
    const missing = names.filter((_, k) => !apps[k]);
    if (missing.length)
      throw new ApiError('ApplicationDoesNotExistException', `Application ${missing.join(', ')} does not exist`);
    return { applicationsInfo: apps.map((a) => applicationInfo(a!)) };
  }),
  // A rename takes the application's groups, revisions and tags along; deployments keep their ids and records.
  UpdateApplication: operation({ catalog: ['renameApplication'] }, async (i, d) => {
    const name = need(i, 'applicationName', 'ApplicationNameRequiredException');
    const next = i.newApplicationName === undefined || i.newApplicationName === null ? name : str(i.newApplicationName);
    const problem = nameProblem(next);
    if (problem)
      throw new ApiError(
        'InvalidApplicationNameException',
        `newApplicationName ${JSON.stringify(next.slice(0, 120))}: ${problem}`,
      );
    // The same name: only whether the application exists (ApplicationDoesNotExistException).
    await d.catalog.renameApplication(name, next);
    return {};
  }),
  DeleteApplication: operation(
    { catalog: ['listDeploymentGroups', 'deleteApplication'], secrets: ['remove'] },
    async (i, d) => {
      const app = need(i, 'applicationName', 'ApplicationNameRequiredException');
      const groups = await d.catalog.listDeploymentGroups(app);
      await d.catalog.deleteApplication(app);
      await forgetSecrets(d, groups);
      return {};
    },
  ),
  ListDeploymentGroups: operation({ catalog: ['getApplication', 'listDeploymentGroups'] }, async (i, d) => {
    const app = need(i, 'applicationName', 'ApplicationNameRequiredException');
    await mustApp(d, app);
    return {
      applicationName: app,
      deploymentGroups: (await d.catalog.listDeploymentGroups(app)).map((g) => g.deploymentGroupName).sort(),
    };
  }),
  DeleteDeploymentGroup: operation(
    { catalog: ['getDeploymentGroup', 'deleteDeploymentGroup'], secrets: ['remove'] },
    async (i, d) => {
      const app = need(i, 'applicationName', 'ApplicationNameRequiredException');
      const name = need(i, 'deploymentGroupName', 'DeploymentGroupNameRequiredException');
      const group = await d.catalog.getDeploymentGroup(app, name);
      await d.catalog.deleteDeploymentGroup(app, name);
      await forgetSecrets(d, group ? [group] : []);
      return { hooksNotCleanedUp: [] };
    },
  ),
  ListDeploymentConfigs: operation({ catalog: ['listDeploymentConfigs'] }, async (_i, d) => ({
    deploymentConfigsList: [
      ...PREDEFINED_DEPLOYMENT_CONFIG_NAMES,
      ...(await d.catalog.listDeploymentConfigs()).map((c) => c.deploymentConfigName).sort(),
    ],
  })),
  DeleteDeploymentConfig: operation(
    { catalog: ['listApplications', 'listDeploymentGroups', 'deleteDeploymentConfig'] },
    async (i, d) => {
      const name = need(i, 'deploymentConfigName', 'DeploymentConfigNameRequiredException');
      if (predefinedDeploymentConfig(name) || name.startsWith('CodeDeployDefault.'))
        throw new ApiError('InvalidOperationException', `${name} is predefined and cannot be deleted`);
      for (const app of await d.catalog.listApplications()) {
        const user = (await d.catalog.listDeploymentGroups(app.applicationName)).find(
          (g) => g.deploymentConfigName === name,
        );
        if (user)
          throw new ApiError(
            'DeploymentConfigInUseException',
            `${name} is used by deployment group ${app.applicationName}/${user.deploymentGroupName}`,
          );
      }
      await d.catalog.deleteDeploymentConfig(name);
      return {};
    },
  ),
  // The ready or termination wait, or the approval step a deployment waits on.
  ContinueDeployment: {
    uses: TASKS.continueDeployment.uses,
    run: async (i, d) => {
      await TASKS.continueDeployment.run(
        { deploymentId: i.deploymentId, ...(i.deploymentWaitType ? { deploymentWaitType: i.deploymentWaitType } : {}) },
        d,
      );
      return {};
    },
  },
  RegisterApplicationRevision: operation({ catalog: ['getApplication', 'registerRevision'] }, async (i, d) => {
    const app = need(i, 'applicationName', 'ApplicationNameRequiredException');
    await mustApp(d, app);
    const description = i.description === undefined ? undefined : str(i.description);
    if (description !== undefined && description.length > 256)
      throw new ApiError('DescriptionTooLongException', 'description is longer than 256 characters');
    const revision = normalizeRevision(i.revision);
    await d.catalog.registerRevision(app, revisionKey(revision), revision, description, d.clock.stamp().toISOString());
    return {};
  }),
  GetApplicationRevision: operation({ catalog: ['getApplication', 'getRevision'] }, async (i, d) => {
    const app = need(i, 'applicationName', 'ApplicationNameRequiredException');
    await mustApp(d, app);
    const revision = normalizeRevision(i.revision);
    const stored = await d.catalog.getRevision(app, revisionKey(revision));
    if (!stored) throw new ApiError('RevisionDoesNotExistException', 'No such revision for this application');
    return { applicationName: app, revision: stored.revision, revisionInfo: genericRevisionInfo(stored) };
  }),
  BatchGetApplicationRevisions: operation({ catalog: ['getApplication', 'getRevision'] }, async (i, d) => {
    const app = need(i, 'applicationName', 'ApplicationNameRequiredException');
    const given = Array.isArray(i.revisions) ? i.revisions : [];
    if (!given.length) throw new ApiError('RevisionRequiredException', 'revisions: at least one revision');
    if (given.length > 25) throw new ApiError('BatchLimitExceededException', 'revisions: at most 25 per call');
    await mustApp(d, app);
    const revisions = given.map((r, k) => {
      try {
        return normalizeRevision(r);
      } catch (e) {
        if (e instanceof ApiError) throw new ApiError(e.exceptionName, `revisions[${k}]: ${e.message}`);
        throw e;
      }
    });
    const stored = await Promise.all(revisions.map((r) => d.catalog.getRevision(app, revisionKey(r))));
    const missing = revisions.filter((_, k) => !stored[k]).length;
    return {
      applicationName: app,
      revisions: revisions.map((r, k) => ({
        revisionLocation: stored[k]?.revision ?? r,
        ...(stored[k] ? { genericRevisionInfo: genericRevisionInfo(stored[k]) } : {}),
      })),
      // CodeDeploy answers every revision asked for and says here how many it does not know.
      ...(missing ? { errorMessage: `${missing} of the revisions are not registered for ${app}` } : {}),
    };
  }),
  ListApplicationRevisions: operation({ catalog: ['getApplication', 'listRevisions'] }, async (i, d) => {
    const app = need(i, 'applicationName', 'ApplicationNameRequiredException');
    await mustApp(d, app);
    const sortBy = str(i.sortBy) as 'registerTime' | 'firstUsedTime' | 'lastUsedTime' | '';
    const descending = i.sortOrder === 'descending';
    let list = await d.catalog.listRevisions(app);
    if (i.deployed === 'include') list = list.filter((r) => r.firstUsedTime);
    if (i.deployed === 'exclude') list = list.filter((r) => !r.firstUsedTime);
    if (i.s3Bucket)
      list = list.filter((r) => r.revision.revisionType === 'S3' && r.revision.s3Location.bucket === i.s3Bucket);
    if (i.s3KeyPrefix)
      list = list.filter(
        (r) => r.revision.revisionType === 'S3' && r.revision.s3Location.key.startsWith(str(i.s3KeyPrefix)),
      );
    if (sortBy) list.sort((a, b) => (a[sortBy] ?? '').localeCompare(b[sortBy] ?? '') * (descending ? -1 : 1));
    // Content is not listed (as GetDeployment): fetch it with GetApplicationRevision.
    return {
      revisions: list.map((r) =>
        r.revision.revisionType === 'S3'
          ? r.revision
          : {
              ...r.revision,
              ...(r.revision.revisionType === 'AppSpecContent'
                ? { appSpecContent: { sha256: r.revision.appSpecContent.sha256 } }
                : { string: { sha256: r.revision.string.sha256 } }),
            },
      ),
    };
  }),
};

/** CodeDeploy's GenericRevisionInfo of a stored revision (times in epoch seconds). */
function genericRevisionInfo(stored: StoredRevision): Record<string, unknown> {
  return {
    description: stored.description,
    deploymentGroups: stored.deploymentGroups,
    firstUsedTime: epochSeconds(stored.firstUsedTime),
    lastUsedTime: epochSeconds(stored.lastUsedTime),
    registerTime: epochSeconds(stored.registerTime),
  };
}
