/**
 * Composition root for AWS Lambda: each port's SDK v3 adapter, built once per container and only
 * for the ports the function's task declares. Every function in functions/ is generated as
 * `lambdaHandler(task, { <its ports> })`, so a function's bundle holds only the adapters it uses.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createAwsClients, type AwsClients } from '../adapters/aws/clients.js';
import { CloudWatchAlarmSource } from '../adapters/aws/cloudwatch-alarm-source.js';
import { CodePipelineJobs } from '../adapters/aws/codepipeline-jobs.js';
import {
  DynamoAlarmWatches,
  DynamoCatalog,
  DynamoDeployments,
  DynamoGroupLocks,
  DynamoHookExecutions,
  DynamoInstances,
  DynamoTimeline,
  createDocumentClient,
} from '../adapters/aws/dynamodb-store.js';
import { DynamoHostCommands } from '../adapters/aws/dynamodb-host-commands.js';
import { EcsTaskSetServices } from '../adapters/aws/ecs-services.js';
import { EventBridgeSnsPublisher } from '../adapters/aws/event-publisher.js';
import { IamAuthorizer } from '../adapters/aws/iam-authorizer.js';
import { LambdaHookInvoker } from '../adapters/aws/lambda-hook-invoker.js';
import { LambdaAliasTrafficRouter } from '../adapters/aws/lambda-traffic-router.js';
import { ElbListenerRouter } from '../adapters/aws/load-balancers.js';
import { S3RevisionSource } from '../adapters/aws/s3-revision-source.js';
import { SsmSecrets } from '../adapters/aws/ssm-secrets.js';
import { AwsAutoScalingGroups, Ec2TaggedInstances, ElbInstanceTargets } from '../adapters/aws/server-hosts.js';
import { StepFunctionsExecutionStarter, StepFunctionsTaskTokens } from '../adapters/aws/step-functions.js';
import { AllowedFunctionsHookInvoker, RoutingHookInvoker, WebhookHookInvoker } from '../adapters/hook-invokers.js';
import { ZlibBundles } from '../adapters/system/bundles.js';
import { SystemClock } from '../adapters/system/clock.js';
import { RandomIds } from '../adapters/system/ids.js';
import { parseAwsEnv, patternList, type AwsEnv } from '../config/env.js';
import type { HookTargetPolicy } from '../domain/hook-targets.js';
import { Platforms } from '../platforms/index.js';
import type { Logger } from '../ports/index.js';
import type { Context as TaskContext, Deps, DepsFor, PortName, Ports, Task, Uses } from '../tasks/task.js';

/** JSON lines for CloudWatch Logs. Callers never pass tokens or secrets. */
export const jsonLogger: Logger = {
  info: (message, data) => console.log(JSON.stringify({ level: 'INFO', message, ...data })),
  warn: (message, data) => console.warn(JSON.stringify({ level: 'WARN', message, ...data })),
  error: (message, data) => console.error(JSON.stringify({ level: 'ERROR', message, ...data })),
};

/** What every adapter of a container is built from. */
export interface AwsContext {
  cfg: AwsEnv;
  clients: AwsClients;
  doc(): ReturnType<typeof createDocumentClient>;
}

/** Builds one port's adapter. */
export type PortFactory<P extends PortName> = (c: AwsContext) => Ports[P];

export const catalog: PortFactory<'catalog'> = (c) => new DynamoCatalog(c.doc(), c.cfg.CUTOVER_TABLE);
export const deployments: PortFactory<'deployments'> = (c) => new DynamoDeployments(c.doc(), c.cfg.CUTOVER_TABLE);
export const locks: PortFactory<'locks'> = (c) => new DynamoGroupLocks(c.doc(), c.cfg.CUTOVER_TABLE);
export const hookExecutions: PortFactory<'hookExecutions'> = (c) =>
  new DynamoHookExecutions(c.doc(), c.cfg.CUTOVER_TABLE);
export const timeline: PortFactory<'timeline'> = (c) => new DynamoTimeline(c.doc(), c.cfg.CUTOVER_TABLE);
export const alarmWatches: PortFactory<'alarmWatches'> = (c) => new DynamoAlarmWatches(c.doc(), c.cfg.CUTOVER_TABLE);
export const instances: PortFactory<'instances'> = (c) => new DynamoInstances(c.doc(), c.cfg.CUTOVER_TABLE);
export const alarms: PortFactory<'alarms'> = (c) => new CloudWatchAlarmSource(c.clients.cloudwatch);
/** On AWS: https webhooks to public addresses; the hook functions the role may invoke. */
const hookTargets = (cfg: AwsEnv): HookTargetPolicy => ({
  functions: patternList(cfg.CUTOVER_HOOK_FUNCTIONS),
  loopbackWebhooks: false,
});
export const hooks: PortFactory<'hooks'> = (c) =>
  new RoutingHookInvoker(
    new AllowedFunctionsHookInvoker(new LambdaHookInvoker(c.clients.lambda), hookTargets(c.cfg), {
      region: c.cfg.AWS_REGION,
      accountId: c.cfg.CUTOVER_ACCOUNT_ID ?? '000000000000',
    }),
    new WebhookHookInvoker({ policy: hookTargets(c.cfg) }),
  );
export const tokens: PortFactory<'tokens'> = (c) => new StepFunctionsTaskTokens(c.clients.sfn);
export const executions: PortFactory<'executions'> = (c) =>
  new StepFunctionsExecutionStarter(c.clients.sfn, c.cfg.CUTOVER_STATE_MACHINE_ARN);
export const events: PortFactory<'events'> = (c) =>
  new EventBridgeSnsPublisher(c.clients.eventbridge, c.clients.sns, c.cfg.CUTOVER_EVENT_BUS);
export const revisions: PortFactory<'revisions'> = (c) => new S3RevisionSource(c.clients.s3);
export const pipeline: PortFactory<'pipeline'> = (c) => new CodePipelineJobs(c.clients.codepipeline);
export const hostCommands: PortFactory<'hostCommands'> = (c) => new DynamoHostCommands(c.doc(), c.cfg.CUTOVER_TABLE);
export const secrets: PortFactory<'secrets'> = (c) =>
  new SsmSecrets(c.clients.ssm, c.cfg.CUTOVER_SECRETS_PREFIX, c.cfg.CUTOVER_SECRETS_KMS_KEY || undefined);
export const platforms: PortFactory<'platforms'> = (c) =>
  new Platforms({
    Lambda: { aliases: new LambdaAliasTrafficRouter(c.clients.lambda) },
    ECS: { services: new EcsTaskSetServices(c.clients.ecs), loadBalancers: new ElbListenerRouter(c.clients.elb) },
    Server: {
      ec2: new Ec2TaggedInstances(c.clients.ec2),
      autoScaling: new AwsAutoScalingGroups(c.clients.autoScaling),
      targetGroups: new ElbInstanceTargets(c.clients.elb),
      hostCommands: hostCommands(c),
      instances: instances(c),
      configs: catalog(c),
      deployments: deployments(c),
      events: events(c),
      clock: new SystemClock(),
      ids: new RandomIds(),
      env: {
        region: c.cfg.AWS_REGION,
        accountId: c.cfg.CUTOVER_ACCOUNT_ID ?? '000000000000',
        eventSource: c.cfg.CUTOVER_EVENT_SOURCE,
      },
    },
  });

/** The factories a task needs: one per port it declares. */
export type FactoriesFor<U extends Uses> = { [P in keyof U & PortName]: PortFactory<P> };

let context: AwsContext | undefined;

/** The container's clients and configuration, built once; the account id comes from the function's ARN. */
function containerContext(env: Record<string, string | undefined>): AwsContext {
  if (context) return context;
  const cfg = parseAwsEnv(env);
  const clients = createAwsClients(cfg.AWS_REGION);
  let doc: ReturnType<typeof createDocumentClient> | undefined;
  context = { cfg, clients, doc: () => (doc ??= createDocumentClient(clients.dynamodb)) };
  return context;
}

function taskContext(c: AwsContext, lambda?: Pick<Context, 'invokedFunctionArn'>): TaskContext {
  const accountId = c.cfg.CUTOVER_ACCOUNT_ID ?? lambda?.invokedFunctionArn?.split(':')[4] ?? '000000000000';
  return {
    clock: new SystemClock(),
    ids: new RandomIds(),
    bundles: new ZlibBundles(),
    env: {
      region: c.cfg.AWS_REGION,
      accountId,
      eventSource: c.cfg.CUTOVER_EVENT_SOURCE,
      revisionPrefix: c.cfg.CUTOVER_REVISION_PREFIX,
      rollbackDeadlineSeconds: c.cfg.CUTOVER_ROLLBACK_DEADLINE_SECONDS,
      hookTargets: hookTargets(c.cfg),
    },
    log: jsonLogger,
  };
}

/** Build the deps of a function from its factories (once per container). */
export function buildDeps<U extends Uses>(
  factories: FactoriesFor<U>,
  lambda?: Pick<Context, 'invokedFunctionArn'>,
  env: Record<string, string | undefined> = process.env,
): DepsFor<U> {
  const c = containerContext(env);
  const ports = Object.fromEntries(
    Object.entries(factories).map(([name, make]) => [name, (make as PortFactory<PortName>)(c)]),
  );
  return { ...taskContext(c, lambda), ...ports } as DepsFor<U>;
}

/**
 * A Lambda handler for a task, with the adapters of the ports it declares. Errors keep their
 * `name`, which Lambda reports as errorType and Step Functions matches in Retry/Catch.
 */
export function lambdaHandler<I, O, const U extends Uses>(task: Task<I, O, U>, factories: FactoriesFor<U>) {
  let deps: DepsFor<U> | undefined;
  return middy<unknown, O, Error, Context>().handler(async (event, lambda) =>
    task.run(event, (deps ??= buildDeps(factories, lambda))),
  );
}

/** Every port's factory (the `api` function serves every operation). */
export const ALL_PORTS: FactoriesFor<Required<{ [P in PortName]: readonly [] }>> = {
  catalog,
  deployments,
  locks,
  hookExecutions,
  timeline,
  alarmWatches,
  instances,
  alarms,
  hooks,
  tokens,
  executions,
  events,
  revisions,
  pipeline,
  platforms,
  hostCommands,
  secrets,
};

/** All ports, for the API (which serves every operation). */
export function allDeps(lambda?: Pick<Context, 'invokedFunctionArn'>): Deps {
  const deps = buildDeps(ALL_PORTS, lambda) as unknown as Deps;
  // IAM decides who may run each operation (docs/adr/0024): the api function's role may simulate.
  return {
    ...deps,
    authorizer: (authorizer ??= new IamAuthorizer(context!.clients.iam, { accountId: deps.env.accountId })),
  };
}
let authorizer: IamAuthorizer | undefined;
