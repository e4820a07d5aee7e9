import {
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
  type CodePipelineClient,
} from '@aws-sdk/client-codepipeline';
import type { PipelineJobs } from '../../ports/index.js';
import { withAwsErrors } from './errors.js';

/** CodePipeline job results: `codepipeline:PutJobSuccessResult` / `PutJobFailureResult`. */
export class CodePipelineJobs implements PipelineJobs {
  constructor(private readonly client: CodePipelineClient) {}

  async succeed(
    jobId: string,
    r: { continuationToken?: string; summary?: string; externalExecutionId?: string },
  ): Promise<void> {
    await withAwsErrors(`PutJobSuccessResult ${jobId}`, () =>
      this.client.send(
        new PutJobSuccessResultCommand({
          jobId,
          ...(r.continuationToken ? { continuationToken: r.continuationToken } : {}),
          ...(r.summary || r.externalExecutionId
            ? {
                executionDetails: {
                  ...(r.summary ? { summary: r.summary.slice(0, 2048) } : {}),
                  ...(r.externalExecutionId ? { externalExecutionId: r.externalExecutionId } : {}),
                },
              }
            : {}),
        }),
      ),
    );
  }

  async fail(
    jobId: string,
    f: { type: 'JobFailed' | 'ConfigurationError'; message: string; externalExecutionId?: string },
  ): Promise<void> {
    await withAwsErrors(`PutJobFailureResult ${jobId}`, () =>
      this.client.send(
        new PutJobFailureResultCommand({
          jobId,
          failureDetails: {
            type: f.type,
            message: f.message.slice(0, 5000),
            ...(f.externalExecutionId ? { externalExecutionId: f.externalExecutionId } : {}),
          },
        }),
      ),
    );
  }
}
