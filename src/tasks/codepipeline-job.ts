/**
 * The job worker of a CodePipeline "AWS Lambda" invoke action. The first invocation starts a
 * deployment from the input artifact (a zip with appspec.yml at its root, or a bare AppSpec) and
 * `UserParameters` JSON ({"applicationName", "deploymentGroupName", "deploymentConfigName"?,
 * "description"?}), then answers with a continuationToken (the deployment id). Each later
 * invocation reports progress the same way until the deployment ends: PutJobSuccessResult, or
 * PutJobFailureResult with the deployment's error.
 */
import { z } from 'zod';
import { ApiError, InvalidInputError } from '../domain/errors.js';
import { isTerminal } from '../domain/model.js';
import { createDeployment } from './create-deployment.js';
import { defineTask, type DepsFor } from './task.js';
import { zodIssues } from '../config/issues.js';

const JobEvent = z.object({
  'CodePipeline.job': z.object({
    id: z.string().min(1),
    data: z.object({
      actionConfiguration: z.object({ configuration: z.record(z.string(), z.string()).optional() }).optional(),
      inputArtifacts: z
        .array(
          z.object({
            name: z.string().optional(),
            location: z.object({
              type: z.string(),
              s3Location: z.object({ bucketName: z.string(), objectKey: z.string() }),
            }),
          }),
        )
        .default([]),
      continuationToken: z.string().optional(),
    }),
  }),
});

const UserParameters = z.object({
  applicationName: z.string().min(1),
  deploymentGroupName: z.string().min(1),
  deploymentConfigName: z.string().optional(),
  description: z.string().max(256).optional(),
});

const USES = { ...createDeployment.uses, pipeline: ['succeed', 'fail'] } as const;

async function work(
  event: z.infer<typeof JobEvent>,
  deps: DepsFor<typeof USES>,
): Promise<{ jobId: string; deploymentId?: string; result: 'continuing' | 'succeeded' | 'failed' }> {
  const job = event['CodePipeline.job'];
  const jobId = job.id;

  // A later invocation: report on the deployment we started.
  if (job.data.continuationToken) {
    const deploymentId = job.data.continuationToken;
    const d = await deps.deployments.get(deploymentId);
    if (!d) {
      await deps.pipeline.fail(jobId, { type: 'JobFailed', message: `Deployment ${deploymentId} no longer exists` });
      return { jobId, deploymentId, result: 'failed' };
    }
    if (!isTerminal(d.state.status)) {
      await deps.pipeline.succeed(jobId, {
        continuationToken: deploymentId,
        summary: `Deployment ${deploymentId} is ${d.state.status} (${d.state.targetWeight}% on the target)`,
        externalExecutionId: deploymentId,
      });
      return { jobId, deploymentId, result: 'continuing' };
    }
    if (d.state.status === 'Succeeded') {
      await deps.pipeline.succeed(jobId, {
        summary: `Deployment ${deploymentId} succeeded`,
        externalExecutionId: deploymentId,
      });
      return { jobId, deploymentId, result: 'succeeded' };
    }
    const info = d.state.errorInformation;
    const error = info ? `${info.code}: ${info.message}` : d.state.status;
    await deps.pipeline.fail(jobId, {
      type: 'JobFailed',
      message: `Deployment ${deploymentId} ${d.state.status.toLowerCase()}: ${error}`,
      externalExecutionId: deploymentId,
    });
    return { jobId, deploymentId, result: 'failed' };
  }

  // The first invocation: start the deployment.
  try {
    let params: unknown;
    const raw = job.data.actionConfiguration?.configuration?.UserParameters;
    try {
      params = JSON.parse(raw ?? '');
    } catch {
      throw new InvalidInputError([
        { path: 'UserParameters', message: 'must be JSON like {"applicationName": "A", "deploymentGroupName": "G"}' },
      ]);
    }
    const p = UserParameters.safeParse(params);
    if (!p.success) throw new InvalidInputError(zodIssues(p.error.issues, 'UserParameters'));
    const artifact = job.data.inputArtifacts[0];
    if (!artifact || artifact.location.type !== 'S3')
      throw new InvalidInputError([
        { path: 'inputArtifacts', message: 'exactly one S3 input artifact (the revision) is required' },
      ]);
    const key = artifact.location.s3Location.objectKey;
    const { deploymentId } = await createDeployment.run(
      {
        applicationName: p.data.applicationName,
        deploymentGroupName: p.data.deploymentGroupName,
        // Pipeline artifacts are zip files whatever their key says.
        revision: {
          revisionType: 'S3',
          s3Location: {
            bucket: artifact.location.s3Location.bucketName,
            key,
            bundleType: /\.(ya?ml|json)$/i.test(key) ? (/\.json$/i.test(key) ? 'JSON' : 'YAML') : 'zip',
          },
        },
        creator: 'CodePipeline',
        ...(p.data.deploymentConfigName ? { deploymentConfigName: p.data.deploymentConfigName } : {}),
        ...(p.data.description ? { description: p.data.description } : {}),
      },
      deps,
    );
    await deps.pipeline.succeed(jobId, {
      continuationToken: deploymentId,
      summary: `Started deployment ${deploymentId}`,
      externalExecutionId: deploymentId,
    });
    return { jobId, deploymentId, result: 'continuing' };
  } catch (e) {
    // AWS trouble: rethrown so that CodePipeline retries the invocation.
    if (!(e instanceof InvalidInputError || e instanceof ApiError)) throw e;
    await deps.pipeline.fail(jobId, {
      type:
        e instanceof InvalidInputError && e.issues.some((i) => i.path.startsWith('UserParameters'))
          ? 'ConfigurationError'
          : 'JobFailed',
      message: `${e.exceptionName}: ${e.message}`,
    });
    return { jobId, result: 'failed' };
  }
}

export const codePipelineJob = defineTask('codePipelineJob', USES, JobEvent, work);
