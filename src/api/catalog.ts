/**
 * CodeDeploy's catalog operations (applications, groups, configurations, revisions, targets) over
 * the store, with CodeDeploy's exception names. Thin: validation, then one store call each.
 */
import { PREDEFINED_ECS_CONFIGS, PREDEFINED_LAMBDA_CONFIGS, predefinedConfig } from '../domain/deployment-config.js';
import { targetGroupName } from '../domain/ecs.js';
import { ApiError } from '../domain/errors.js';
import type { Environment } from '../domain/notifications.js';
import type { Deployment, RevisionLocation } from '../domain/model.js';
import { revisionKey, sha256Hex } from '../domain/revisions.js';
import { TASKS } from '../tasks/index.js';
import type { Deps } from '../tasks/task.js';
import { applicationInfo, epochSeconds } from './shapes.js';

type Input = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const need = (i: Input, field: string, exception: string): string => {
  const v = str(i[field]);
  if (!v) throw new ApiError(exception, `${field} is required`);
  return v;
};

async function mustApp(d: Deps, name: string) {
  const app = await d.store.getApplication(name);
  if (!app) throw new ApiError('ApplicationDoesNotExistException', `Application ${name} does not exist`);
  return app;
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

/** The fields every deployment target shares (CodeDeploy's LambdaTarget / ECSTarget). */
function targetCommon(d: Deployment, targetId: string, targetArn: string) {
  const allow = d.lifecycleEvents.find((e) => e.lifecycleEventName === 'AllowTraffic');
  return {
    deploymentId: d.deploymentId,
    targetId,
    targetArn,
    status:
      d.status === 'Succeeded'
        ? 'Succeeded'
        : d.status === 'Failed'
          ? 'Failed'
          : d.status === 'Stopped'
            ? 'Skipped'
            : d.status === 'Created'
              ? 'Pending'
              : d.status === 'Ready'
                ? 'Ready'
                : 'InProgress',
    lastUpdatedAt: epochSeconds(d.completeTime ?? allow?.endTime ?? allow?.startTime ?? d.startTime ?? d.createTime),
    lifecycleEvents: d.lifecycleEvents.map((e) => ({
      lifecycleEventName: e.lifecycleEventName,
      status: e.status,
      startTime: epochSeconds(e.startTime),
      endTime: epochSeconds(e.endTime),
      ...(e.diagnostics ? { diagnostics: { errorCode: e.diagnostics.errorCode, message: e.diagnostics.message } } : {}),
    })),
  };
}

/** The targets of a deployment by id: `<function>:<alias>` (Lambda) or `<cluster>:<service>` (ECS). */
function targetsOf(d: Deployment, env: Environment): Map<string, Record<string, unknown>> {
  const e = d.ecs;
  if (e) {
    const id = `${e.clusterName}:${e.serviceName}`;
    const label = (
      color: 'Blue' | 'Green',
      taskSet: string | undefined,
      targetGroupArn: string | undefined,
      weight: number,
    ) =>
      taskSet
        ? [
            {
              identifer: taskSet,
              status: color === 'Green' && d.status === 'Succeeded' ? 'PRIMARY' : 'ACTIVE',
              trafficWeight: weight,
              targetGroup: { name: targetGroupName(targetGroupArn ?? '') },
              taskSetLabel: color,
            },
          ]
        : [];
    return new Map([
      [
        id,
        {
          deploymentTargetType: 'ECSTarget',
          ecsTarget: {
            ...targetCommon(
              d,
              id,
              `arn:aws:ecs:${env.region}:${env.accountId}:service/${e.clusterName}/${e.serviceName}`,
            ),
            taskSetsInfo: [
              ...label('Blue', e.blueTaskSetId, e.blueTargetGroupArn, 100 - d.targetWeight),
              ...label('Green', e.greenTaskSetId, e.greenTargetGroupArn, d.targetWeight),
            ],
          },
        },
      ],
    ]);
  }
  return new Map(d.functions.map((f) => [`${f.functionName}:${f.alias}`, lambdaTarget(d, f)]));
}

function lambdaTarget(d: Deployment, f: Deployment['functions'][number]) {
  return {
    deploymentTargetType: 'LambdaTarget',
    lambdaTarget: {
      ...targetCommon(d, `${f.functionName}:${f.alias}`, f.functionName),
      lambdaFunctionInfo: {
        functionName: f.functionName,
        functionAlias: f.alias,
        currentVersion: f.currentVersion,
        targetVersion: f.targetVersion,
        // Percent of the alias's traffic on the target version, as the deployment last set it.
        targetVersionWeight: d.targetWeight,
      },
    },
  };
}

export const CATALOG: Record<string, (i: Input, d: Deps) => Promise<unknown>> = {
  ListApplications: async (_i, d) => ({
    applications: (await d.store.listApplications()).map((a) => a.applicationName).sort(),
  }),
  BatchGetApplications: async (i, d) => {
    const names = Array.isArray(i.applicationNames) ? i.applicationNames.map(str) : [];
    if (names.length > 100) throw new ApiError('BatchLimitExceededException', 'At most 100 application names per call');
    const apps = await Promise.all(names.map((n) => d.store.getApplication(n)));
    const missing = names.filter((_, k) => !apps[k]);
    if (missing.length)
      throw new ApiError('ApplicationDoesNotExistException', `Application ${missing.join(', ')} does not exist`);
    return { applicationsInfo: apps.map((a) => applicationInfo(a!)) };
  },
  UpdateApplication: async (i, d) => {
    const name = need(i, 'applicationName', 'ApplicationNameRequiredException');
    const app = await mustApp(d, name);
    const next = str(i.newApplicationName);
    if (!next || next === name) return {};
    if (await d.store.getApplication(next))
      throw new ApiError('ApplicationAlreadyExistsException', `Application ${next} already exists`);
    if ((await d.store.listDeploymentGroups(name)).length) {
      throw new ApiError(
        'InvalidOperationException',
        `Renaming an application that has deployment groups is not supported yet; ${name} has some`,
      );
    }
    await d.store.createApplication({ ...app, applicationName: next });
    await d.store.deleteApplication(name);
    return {};
  },
  DeleteApplication: async (i, d) => {
    await d.store.deleteApplication(need(i, 'applicationName', 'ApplicationNameRequiredException'));
    return {};
  },
  ListDeploymentGroups: async (i, d) => {
    const app = need(i, 'applicationName', 'ApplicationNameRequiredException');
    await mustApp(d, app);
    return {
      applicationName: app,
      deploymentGroups: (await d.store.listDeploymentGroups(app)).map((g) => g.deploymentGroupName).sort(),
    };
  },
  DeleteDeploymentGroup: async (i, d) => {
    await d.store.deleteDeploymentGroup(
      need(i, 'applicationName', 'ApplicationNameRequiredException'),
      need(i, 'deploymentGroupName', 'DeploymentGroupNameRequiredException'),
    );
    return { hooksNotCleanedUp: [] };
  },
  ListDeploymentConfigs: async (_i, d) => ({
    deploymentConfigsList: [
      ...Object.keys(PREDEFINED_LAMBDA_CONFIGS),
      ...Object.keys(PREDEFINED_ECS_CONFIGS),
      ...(await d.store.listDeploymentConfigs()).map((c) => c.deploymentConfigName).sort(),
    ],
  }),
  DeleteDeploymentConfig: async (i, d) => {
    const name = need(i, 'deploymentConfigName', 'DeploymentConfigNameRequiredException');
    if (predefinedConfig(name) || name.startsWith('CodeDeployDefault.'))
      throw new ApiError('InvalidOperationException', `${name} is predefined and cannot be deleted`);
    for (const app of await d.store.listApplications()) {
      const user = (await d.store.listDeploymentGroups(app.applicationName)).find(
        (g) => g.deploymentConfigName === name,
      );
      if (user)
        throw new ApiError(
          'DeploymentConfigInUseException',
          `${name} is used by deployment group ${app.applicationName}/${user.deploymentGroupName}`,
        );
    }
    await d.store.deleteDeploymentConfig(name);
    return {};
  },
  ContinueDeployment: async (i, d) => {
    // ECS: the ready or termination wait; Lambda (no such waits): the approval step it waits on.
    await TASKS.continueDeployment.run(
      { deploymentId: i.deploymentId, ...(i.deploymentWaitType ? { deploymentWaitType: i.deploymentWaitType } : {}) },
      d,
    );
    return {};
  },
  ListDeploymentTargets: async (i, d) => {
    const dep = await d.store.getDeployment(need(i, 'deploymentId', 'DeploymentIdRequiredException'));
    if (!dep) throw new ApiError('DeploymentDoesNotExistException', `Deployment ${str(i.deploymentId)} does not exist`);
    return { targetIds: [...targetsOf(dep, d.env).keys()] };
  },
  BatchGetDeploymentTargets: async (i, d) => {
    const dep = await d.store.getDeployment(need(i, 'deploymentId', 'DeploymentIdRequiredException'));
    if (!dep) throw new ApiError('DeploymentDoesNotExistException', `Deployment ${str(i.deploymentId)} does not exist`);
    const ids = Array.isArray(i.targetIds) ? i.targetIds.map(str) : [];
    if (ids.length > 25) throw new ApiError('BatchLimitExceededException', 'At most 25 target ids per call');
    const all = targetsOf(dep, d.env);
    const targets = ids.map((id) => {
      const t = all.get(id);
      if (!t)
        throw new ApiError(
          'DeploymentTargetDoesNotExistException',
          `No target ${id} in deployment ${dep.deploymentId}`,
        );
      return t;
    });
    return { deploymentTargets: targets };
  },
  RegisterApplicationRevision: async (i, d) => {
    const app = need(i, 'applicationName', 'ApplicationNameRequiredException');
    await mustApp(d, app);
    const description = i.description === undefined ? undefined : str(i.description);
    if (description !== undefined && description.length > 256)
      throw new ApiError('DescriptionTooLongException', 'description is longer than 256 characters');
    const revision = normalizeRevision(i.revision);
    await d.store.registerRevision(app, revisionKey(revision), revision, description, d.clock.now().toISOString());
    return {};
  },
  GetApplicationRevision: async (i, d) => {
    const app = need(i, 'applicationName', 'ApplicationNameRequiredException');
    await mustApp(d, app);
    const revision = normalizeRevision(i.revision);
    const stored = await d.store.getRevision(app, revisionKey(revision));
    if (!stored) throw new ApiError('RevisionDoesNotExistException', 'No such revision for this application');
    return {
      applicationName: app,
      revision: stored.revision,
      revisionInfo: {
        description: stored.description,
        deploymentGroups: stored.deploymentGroups,
        firstUsedTime: epochSeconds(stored.firstUsedTime),
        lastUsedTime: epochSeconds(stored.lastUsedTime),
        registerTime: epochSeconds(stored.registerTime),
      },
    };
  },
  ListApplicationRevisions: async (i, d) => {
    const app = need(i, 'applicationName', 'ApplicationNameRequiredException');
    await mustApp(d, app);
    const sortBy = str(i.sortBy) as 'registerTime' | 'firstUsedTime' | 'lastUsedTime' | '';
    const descending = i.sortOrder === 'descending';
    let list = await d.store.listRevisions(app);
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
  },
};
