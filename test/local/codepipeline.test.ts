/**
 * The CodePipeline job worker: the real task and local mode (the local S3 holds the input artifact), with
 * the CodePipeline API mocked (aws-sdk-client-mock) and checked for what CodePipeline receives.
 */
import {
  CodePipelineClient,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CodePipelineJobs } from '../../src/adapters/aws/codepipeline-jobs.js';
import { LOCAL_REVISION_BUCKET } from '../../src/local/s3.js';
import { TASKS } from '../../src/tasks/index.js';
import type { Deps } from '../../src/tasks/task.js';
import { zip } from '../support/archives.js';
import { appSpec, testEnv, type TestEnv } from '../support/local.js';

const codepipeline = mockClient(CodePipelineClient);
let env: TestEnv;
let deps: Deps;
beforeAll(async () => {
  env = await testEnv({ deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes' });
  deps = {
    ...env.deps,
    pipeline: new CodePipelineJobs(new CodePipelineClient({ region: 'us-east-1', maxAttempts: 1 })),
  };
});
afterAll(async () => env.close());
beforeEach(() => {
  codepipeline.reset();
  codepipeline.on(PutJobSuccessResultCommand).resolves({});
  codepipeline.on(PutJobFailureResultCommand).resolves({});
});

const job = (id: string, data: Record<string, unknown>) => ({
  'CodePipeline.job': { id, accountId: '111122223333', data },
});
const start = (id: string, userParameters: string, objectKey = 'pipeline/SourceArtifact/abc123') =>
  TASKS.codePipelineJob.run(
    job(id, {
      actionConfiguration: {
        configuration: { FunctionName: 'cutover-codePipelineJob', UserParameters: userParameters },
      },
      inputArtifacts: [
        {
          name: 'SourceArtifact',
          location: { type: 'S3', s3Location: { bucketName: LOCAL_REVISION_BUCKET, objectKey } },
        },
      ],
    }),
    deps,
  );
const cont = (id: string, token: string) => TASKS.codePipelineJob.run(job(id, { continuationToken: token }), deps);

describe('CodePipeline job worker', () => {
  it('starts a deployment from the input artifact, continues while it runs, succeeds when it succeeds', async () => {
    await env.s3.client.send(
      new PutObjectCommand({
        Bucket: LOCAL_REVISION_BUCKET,
        Key: 'pipeline/SourceArtifact/abc123',
        Body: zip({ 'appspec.yml': appSpec() }),
      }),
    );
    const first = await start('job-1', JSON.stringify({ applicationName: 'shop', deploymentGroupName: 'prod' }));
    expect(first.result).toBe('continuing');
    const id = first.deploymentId!;
    expect(codepipeline.commandCalls(PutJobSuccessResultCommand)[0]!.args[0].input).toMatchObject({
      jobId: 'job-1',
      continuationToken: id,
    });
    expect((await env.deps.deployments.get(id))?.spec.creator).toBe('CodePipeline');

    expect((await cont('job-2', id)).result).toBe('continuing');
    expect(codepipeline.commandCalls(PutJobSuccessResultCommand)[1]!.args[0].input).toMatchObject({
      jobId: 'job-2',
      continuationToken: id,
    });

    await TASKS.promoteDeployment.run({ deploymentId: id }, env.deps);
    expect((await env.finish(id)).deployment.state.status).toBe('Succeeded');
    expect((await cont('job-3', id)).result).toBe('succeeded');
    const last = codepipeline.commandCalls(PutJobSuccessResultCommand)[2]!.args[0].input;
    expect(last).toMatchObject({
      jobId: 'job-3',
      executionDetails: { summary: `Deployment ${id} succeeded`, externalExecutionId: id },
    });
    expect(last.continuationToken).toBeUndefined();
  });

  it('a deployment that fails is reported with its error', async () => {
    await env.s3.client.send(
      new PutObjectCommand({
        Bucket: LOCAL_REVISION_BUCKET,
        Key: 'pipeline/SourceArtifact/def456',
        Body: zip({ 'appspec.yml': appSpec({ functions: [['api', '2', '1']] }) }),
      }),
    );
    const first = await start(
      'job-4',
      JSON.stringify({ applicationName: 'shop', deploymentGroupName: 'prod' }),
      'pipeline/SourceArtifact/def456',
    );
    await TASKS.stopDeployment.run({ deploymentId: first.deploymentId }, env.deps);
    await env.finish(first.deploymentId!);
    expect((await cont('job-5', first.deploymentId!)).result).toBe('failed');
    expect(codepipeline.commandCalls(PutJobFailureResultCommand)[0]!.args[0].input).toMatchObject({
      jobId: 'job-5',
      failureDetails: { type: 'JobFailed', message: expect.stringContaining('MANUAL_STOP') },
    });
  });

  it('bad UserParameters or a bad artifact fail the job with the reason, starting nothing', async () => {
    const before = await env.deps.deployments.list('shop', 'prod');
    expect((await start('job-6', 'not json')).result).toBe('failed');
    expect((await start('job-7', JSON.stringify({ applicationName: 'shop' }))).result).toBe('failed');
    expect(
      (
        await start(
          'job-8',
          JSON.stringify({ applicationName: 'shop', deploymentGroupName: 'prod' }),
          'pipeline/SourceArtifact/missing',
        )
      ).result,
    ).toBe('failed');
    const failures = codepipeline.commandCalls(PutJobFailureResultCommand).map((c) => c.args[0].input.failureDetails);
    expect(failures[0]).toMatchObject({
      type: 'ConfigurationError',
      message: expect.stringContaining('UserParameters: must be JSON'),
    });
    expect(failures[1]).toMatchObject({
      type: 'ConfigurationError',
      message: expect.stringContaining('UserParameters.deploymentGroupName'),
    });
    expect(failures[2]).toMatchObject({
      type: 'JobFailed',
      message: expect.stringContaining('RevisionDoesNotExistException'),
    });
    expect(await env.deps.deployments.list('shop', 'prod')).toEqual(before);
  });
});
