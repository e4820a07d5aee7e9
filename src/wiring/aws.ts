/**
 * Composition root for AWS Lambda: SDK v3 adapters, built once per container. Every function in
 * functions/ is `lambdaHandler(task)`.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createAwsClients } from '../adapters/aws/clients.js';
import { CloudWatchAlarmSource } from '../adapters/aws/cloudwatch-alarm-source.js';
import { DynamoDeploymentStore, createDocumentClient } from '../adapters/aws/dynamodb-store.js';
import { EcsTaskSetServices } from '../adapters/aws/ecs-services.js';
import { EventBridgeSnsPublisher } from '../adapters/aws/event-publisher.js';
import { LambdaHookInvoker } from '../adapters/aws/lambda-hook-invoker.js';
import { LambdaAliasTrafficRouter } from '../adapters/aws/lambda-traffic-router.js';
import { ElbListenerRouter } from '../adapters/aws/load-balancers.js';
import { S3RevisionSource } from '../adapters/aws/s3-revision-source.js';
import { CodePipelineJobs } from '../adapters/aws/codepipeline-jobs.js';
import { StepFunctionsExecutionStarter, StepFunctionsTaskTokens } from '../adapters/aws/step-functions.js';
import { SystemClock } from '../adapters/system/clock.js';
import { RoutingHookInvoker } from '../adapters/hook-invokers.js';
import { handleApiEvent, type ApiEvent } from '../api/gateway.js';
import { parseAwsEnv } from '../config/env.js';
import type { Logger } from '../ports/index.js';
import type { Deps, Task } from '../tasks/task.js';

/** JSON lines for CloudWatch Logs. Callers never pass tokens or secrets. */
export const jsonLogger: Logger = {
  info: (message, data) => console.log(JSON.stringify({ level: 'INFO', message, ...data })),
  warn: (message, data) => console.warn(JSON.stringify({ level: 'WARN', message, ...data })),
  error: (message, data) => console.error(JSON.stringify({ level: 'ERROR', message, ...data })),
};

let cached: Deps | undefined;

/** Build the AWS dependencies once per container; the account id comes from the function's ARN. */
export function awsDeps(
  context?: Pick<Context, 'invokedFunctionArn'>,
  env: Record<string, string | undefined> = process.env,
): Deps {
  if (cached) return cached;
  const cfg = parseAwsEnv(env);
  const clients = createAwsClients(cfg.AWS_REGION);
  const accountId = cfg.CUTOVER_ACCOUNT_ID ?? context?.invokedFunctionArn?.split(':')[4] ?? '000000000000';
  cached = {
    store: new DynamoDeploymentStore(createDocumentClient(clients.dynamodb), cfg.CUTOVER_TABLE),
    router: new LambdaAliasTrafficRouter(clients.lambda),
    ecs: new EcsTaskSetServices(clients.ecs),
    elb: new ElbListenerRouter(clients.elb),
    alarms: new CloudWatchAlarmSource(clients.cloudwatch),
    hooks: new RoutingHookInvoker(new LambdaHookInvoker(clients.lambda)),
    tokens: new StepFunctionsTaskTokens(clients.sfn),
    executions: new StepFunctionsExecutionStarter(clients.sfn, cfg.CUTOVER_STATE_MACHINE_ARN),
    events: new EventBridgeSnsPublisher(clients.eventbridge, clients.sns, cfg.CUTOVER_EVENT_BUS),
    revisions: new S3RevisionSource(clients.s3),
    pipeline: new CodePipelineJobs(clients.codepipeline),
    clock: new SystemClock(),
    env: {
      region: cfg.AWS_REGION,
      accountId,
      eventSource: cfg.CUTOVER_EVENT_SOURCE,
      revisionPrefix: cfg.CUTOVER_REVISION_PREFIX,
    },
    log: jsonLogger,
  };
  return cached;
}

/**
 * A Lambda handler for a task. Errors keep their `name`, which Lambda reports as errorType and
 * Step Functions matches in Retry/Catch.
 */
export function lambdaHandler<I, O>(task: Task<I, O>) {
  return middy<unknown, O, Error, Context>().handler(async (event, context) => task.run(event, awsDeps(context)));
}

/**
 * The `api` function: CodeDeploy's JSON 1.1 protocol behind API Gateway, or `{operation, input}`
 * when invoked directly (see src/api/gateway.ts).
 */
export function apiHandler() {
  return middy<ApiEvent, unknown, Error, Context>().handler(async (event, context) =>
    handleApiEvent(event, awsDeps(context)),
  );
}
