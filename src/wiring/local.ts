/**
 * Composition root for local mode: the real ASL on aws-local-stepfunctions, the real DynamoDB
 * API on dynalite (in-process, loopback only), and a SimWorld behind the same ports where no
 * emulator exists. Nothing else in the code base knows it is running locally.
 */
import { DependencyUnavailableError } from '../domain/errors.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { S3RevisionSource, uploadRevision } from '../adapters/aws/s3-revision-source.js';
import { DynamoHostCommands } from '../adapters/aws/dynamodb-host-commands.js';
import { createDocumentClient, createDynamoStore } from '../adapters/aws/dynamodb-store.js';
import { createMemoryStore } from '../adapters/memory/store.js';
import { ensureTable } from '../adapters/aws/table.js';
import {
  SimAlarmSource,
  SimAutoScalingGroups,
  SimEc2Instances,
  SimEcsServices,
  SimEventPublisher,
  SimHookInvoker,
  SimLoadBalancers,
  SimPipelineJobs,
  SimTargetGroupTargets,
  SimTrafficRouter,
} from '../adapters/sim/adapters.js';
import {
  AllowedFunctionsHookInvoker,
  RoutingHookInvoker,
  WebhookHookInvoker,
  type WebhookInvokerOptions,
} from '../adapters/hook-invokers.js';
import { LocalHostCredentials } from '../adapters/sim/host-credentials.js';
import { ZlibBundles } from '../adapters/system/bundles.js';
import { RandomIds } from '../adapters/system/ids.js';
import { SimWorld, alarmStateChangeEvent } from '../adapters/sim/world.js';
import { VirtualClock, type WorkTracker } from '../local/clock.js';
import { localDynamoClient, localS3Client } from '../adapters/aws/local-clients.js';
import { startDynalite } from '../local/dynalite.js';
import { requireLocalMode } from '../local/optional-deps.js';
import { LocalStepFunctions, executionStatusChangeEvent } from '../local/runtime.js';
import { FileSecrets } from '../adapters/system/file-secrets.js';
import { S3_CREDENTIALS_FILE, startS3, stateDirS3Credentials, type LocalS3Credentials } from '../local/s3.js';
import type { HookTargetPolicy } from '../domain/hook-targets.js';
import { Platforms, type PlatformPorts } from '../platforms/index.js';
import { portsFor, type Instrumentation } from './instrument.js';
import type { Clock, IdSource, Logger } from '../ports/index.js';
import { TASKS } from '../tasks/index.js';
import type { Deps, Uses } from '../tasks/task.js';
import { PolicyAuthorizer } from '../adapters/memory/policy-authorizer.js';
import type { Policy } from '../domain/policy.js';

export interface LocalOptions {
  /** Time compression: 60 runs a 5-minute bake in 5 s. Default 60 (a paced virtual clock). */
  speed?: number;
  /** The clock; a VirtualClock also tracks the work that virtual time waits for. */
  clock?: Clock;
  /** Folder for the persisted store (dynalite); undefined keeps it in memory. */
  storeDir?: string;
  world?: SimWorld;
  log?: Logger;
  eventSource?: string;
  /** Observe every port call, or inject faults (tests, the fault bench). */
  instrumentation?: Instrumentation;
  /** New ids (default: random); tests may seed them. */
  ids?: IdSource;
  /** Port of the local S3 on 127.0.0.1; default a free one. */
  s3Port?: number;
  /** How long a rollback retries a target it cannot restore (virtual seconds; default 900). */
  rollbackDeadlineSeconds?: number;
  /**
   * The store: DynamoDB's API on dynalite (the default: the real adapter, as on AWS), or in memory
   * (the fault suite only, for its thousands of runs; contract-tested against dynalite).
   */
  store?: 'dynalite' | 'memory';
  /**
   * The Lambda hook functions deployments may name (patterns, `*` any run), as the stack's
   * hookFunctions on AWS; default any registered hook module.
   */
  hookFunctions?: readonly string[];
  /** How webhooks resolve names, their timeout, their signatures' clock (tests inject a resolver). */
  webhooks?: Omit<WebhookInvokerOptions, 'policy'>;
  /** Who may run which operation on what (docs/adr/0024); default: everyone everything. */
  policy?: Policy;
}

export interface LocalEnvironment {
  deps: Deps;
  /** The local S3's endpoint and credentials, for uploads of revisions. */
  s3: {
    endpoint: string;
    /** The keys it accepts for writes (this state folder's, from `s3.env`; random without a folder). */
    credentials: LocalS3Credentials;
    client: ReturnType<typeof localS3Client>;
    onEvent(listener: (event: unknown) => void): void;
    /** Uploads a bundle through the S3 API, as `aws s3 cp` would; returns its ETag. */
    upload(bucket: string, key: string, body: Uint8Array): Promise<string>;
  };
  world: SimWorld;
  /** The credentials the local world issues to hosts (agents); the local server checks signatures with them. */
  hostCredentials: LocalHostCredentials;
  runtime: LocalStepFunctions;
  clock: Clock;
  /** Present on virtual time: what the local API server and CLI controls hold the clock with. */
  work?: WorkTracker;
  /**
   * Run a task (or API operation) as it runs in local mode: with only the ports it declares, holding
   * virtual time while it runs. What the CLI and the API server call tasks with.
   */
  run<O>(task: { name: string; uses: Uses; run(input: unknown, deps: Deps): Promise<O> }, input: unknown): Promise<O>;
  /** The ports a caller declaring `uses` sees (only those). */
  viewFor(caller: string, uses: Uses): Deps;
  close(): Promise<void>;
}

export const TABLE_NAME = 'cutover';
/** How often an event's function is tried again after a failure (Lambda's asynchronous retries, and more). */
const ASYNC_RETRIES = 5;
/**
 * A function that says "not yet" (DependencyUnavailableError: a rollback under way, hosts redeploying the
 * earlier revision) is tried for as long as the state machine's persistent retries would (70 tries, at most a
 * minute apart): on AWS the minute reconciler takes over; locally no reconciler runs until the next session.
 */
const ASYNC_RETRIES_NOT_YET = 70;

/** What the simulated world logs (the CLI renders it). */
export type { SimLogEntry, SimWorld } from '../adapters/sim/world.js';

/** A logger that writes nothing (the CLI prints its own timeline). */
export const quietLogger: Logger = { info() {}, warn() {}, error() {} };

type StorePorts = Pick<
  Deps,
  'catalog' | 'deployments' | 'locks' | 'hookExecutions' | 'timeline' | 'alarmWatches' | 'instances'
>;

/**
 * The store's ports on dynalite (persisted in `storeDir` when given); with `store: 'memory'`, the
 * deployment store's ports in memory instead. The Server fleet's tables (instances, host commands)
 * stay on dynalite either way: the fault suite, the memory store's one user, deploys no servers.
 */
async function openStore(
  opts: LocalOptions,
): Promise<{ store: StorePorts; doc: ReturnType<typeof createDocumentClient>; closeStore(): Promise<void> }> {
  if (opts.store === 'memory' && opts.storeDir) throw new Error('an in-memory store cannot be kept in a state folder');
  const dynamo = await startDynalite(opts.storeDir ? { path: opts.storeDir } : {});
  const client = localDynamoClient(dynamo.endpoint);
  await ensureTable(client, TABLE_NAME);
  const doc = createDocumentClient(client);
  const dynamoStore = createDynamoStore(doc, TABLE_NAME);
  const store: StorePorts = opts.store === 'memory' ? { ...dynamoStore, ...createMemoryStore() } : dynamoStore;
  return {
    store,
    doc,
    closeStore: async () => {
      client.destroy();
      await dynamo.close();
    },
  };
}

export async function createLocalEnvironment(opts: LocalOptions = {}): Promise<LocalEnvironment> {
  // The emulators are optional dependencies: one error naming every missing one, before anything starts.
  await requireLocalMode();
  const clock = opts.clock ?? new VirtualClock({ pace: opts.speed ?? 60 });
  // Virtual time waits for work in progress (executions, hooks, triggers, API requests); real time cannot.
  const work: WorkTracker | undefined = clock instanceof VirtualClock ? clock : undefined;
  const tracked = <T>(p: Promise<T>): Promise<T> => (work ? work.during(p) : p);
  const log = opts.log ?? quietLogger;
  if (opts.storeDir) mkdirSync(opts.storeDir, { recursive: true });
  const { store, doc, closeStore } = await openStore(opts);
  const hostCredentials = new LocalHostCredentials();
  // S3 is real too: Cutover's local S3 on loopback, read through the same adapter as on AWS. Its keys are
  // the state folder's (s3.env beside the store, random on first use); hosts may read with their own.
  const s3 = await startS3({
    ...(opts.storeDir
      ? {
          directory: join(opts.storeDir, '..', 's3'),
          credentials: stateDirS3Credentials(join(opts.storeDir, '..', S3_CREDENTIALS_FILE)),
        }
      : {}),
    ...(opts.s3Port !== undefined ? { port: opts.s3Port } : {}),
    readers: (key) => hostCredentials.lookup(key)?.secretAccessKey,
  });
  const s3Client = localS3Client(s3.endpoint, s3.credentials);
  const world = opts.world ?? new SimWorld(clock);
  const runtime = await LocalStepFunctions.create({
    clock,
    log,
    tasks: TASKS,
    ...(work ? { work } : {}),
  });
  // Hooks report through the same task the API serves (PutLifecycleEventHookExecutionStatus).
  const report = (input: unknown) => run(TASKS.putLifecycleEventHookExecutionStatus, input);
  const hostCommands = new DynamoHostCommands(doc, TABLE_NAME);
  const ids = opts.ids ?? new RandomIds();
  const events = new SimEventPublisher(world);
  const platformPorts: PlatformPorts = {
    Lambda: { aliases: new SimTrafficRouter(world) },
    ECS: { services: new SimEcsServices(world), loadBalancers: new SimLoadBalancers(world) },
    Server: {
      ec2: new SimEc2Instances(world),
      autoScaling: new SimAutoScalingGroups(world),
      targetGroups: new SimTargetGroupTargets(world),
      hostCommands,
      instances: store.instances,
      configs: store.catalog,
      deployments: store.deployments,
      events,
      clock,
      ids,
      env: { region: 'local', accountId: '000000000000', eventSource: opts.eventSource ?? 'cutover' },
    },
  };
  // Local mode: the user's webhook receivers run on this machine, so plain http to loopback is
  // allowed; any registered hook module may run. Everything else is refused as on AWS.
  const hookTargets: HookTargetPolicy = {
    loopbackWebhooks: true,
    ...(opts.hookFunctions ? { functions: opts.hookFunctions } : {}),
  };
  const deps: Deps = {
    ...store,
    hostCommands,
    // Beside the store, private to the user (0700/0600); in memory for a session without a state folder.
    secrets: new FileSecrets(opts.storeDir ? join(opts.storeDir, '..', 'secrets') : undefined),
    platforms: new Platforms(platformPorts),
    alarms: new SimAlarmSource(world),
    hooks: new RoutingHookInvoker(
      new AllowedFunctionsHookInvoker(new SimHookInvoker(world, report, log), hookTargets, {
        region: 'local',
        accountId: '000000000000',
      }),
      new WebhookHookInvoker({ policy: hookTargets, ...(opts.webhooks ?? {}) }),
    ),
    tokens: runtime,
    executions: runtime,
    events,
    revisions: new S3RevisionSource(s3Client),
    pipeline: new SimPipelineJobs(world),
    // Allow-all unless a policy is given: the same authorisation step as on AWS, with a local policy.
    authorizer: new PolicyAuthorizer(opts.policy),
    clock,
    ids,
    bundles: new ZlibBundles(),
    env: {
      region: 'local',
      accountId: '000000000000',
      eventSource: opts.eventSource ?? 'cutover',
      revisionPrefix: 'revisions',
      hookTargets,
      ...(opts.rollbackDeadlineSeconds !== undefined ? { rollbackDeadlineSeconds: opts.rollbackDeadlineSeconds } : {}),
    },
    log,
  };
  // Each task sees only the port methods it declares (as its IAM role would let it on AWS).
  const views = new Map<string, Deps>();
  const viewFor = (caller: string, uses: Uses): Deps => {
    let view = views.get(caller);
    if (!view) views.set(caller, (view = portsFor(caller, uses, deps, platformPorts, opts.instrumentation)));
    return view;
  };
  const run = <O>(task: { name: string; uses: Uses; run(input: unknown, deps: Deps): Promise<O> }, input: unknown) =>
    tracked(task.run(input, viewFor(task.name, task.uses)));
  runtime.attach((task) => viewFor(task.name, task.uses));

  // Events invoke their functions asynchronously, as Lambda does for EventBridge: a failure is
  // tried again (Lambda: twice, then the on-failure queue; here a few times with backoff on the
  // clock), and what still fails is logged, as the queue would keep it. The reconciler, when the
  // next session opens, settles whatever is left.
  const onEvent = (task: Parameters<typeof run>[0], event: unknown, what: string) => {
    const attempt = async (): Promise<void> => {
      for (let i = 0; ; i++) {
        try {
          await run(task, event);
          return;
        } catch (err) {
          const notYet = err instanceof DependencyUnavailableError;
          if (i >= (notYet ? ASYNC_RETRIES_NOT_YET : ASYNC_RETRIES)) throw err;
          await clock.sleep(Math.min(60, 2 ** i));
        }
      }
    };
    attempt().catch((err: unknown) => log.error(`${what} failed`, { error: (err as Error).message }));
  };
  // Step Functions' execution status events drive the same task as on AWS (an execution stopped or
  // failed before it recorded its deployment's outcome).
  runtime.onEnd((r) => {
    if (r.status === 'SUCCEEDED') return;
    onEvent(TASKS.executionEnded, executionStatusChangeEvent(r), 'executionEnded');
  });
  // Alarms in the SimWorld change state as simulated time passes (every 10 simulated seconds), and
  // each change to ALARM goes, as CloudWatch's EventBridge event, to the same alarm listener task.
  world.onLog((e) => {
    if (e.kind !== 'Alarm' || e.detail.state !== 'ALARM') return;
    onEvent(TASKS.alarmListener, alarmStateChangeEvent(e), 'alarm listener');
  });
  // Uploads to the local S3 drive the same S3 trigger task as S3 event notifications on AWS.
  s3.onEvent((event) => {
    run(TASKS.s3Trigger, event).catch((err: unknown) =>
      log.error('S3 trigger failed', { error: (err as Error).message }),
    );
  });
  // The world's metrics and alarms move on every 10 simulated seconds: on virtual time as background
  // ticks (they never make time pass by themselves), on real time every 10 s.
  let stopTicks: () => void;
  if (clock instanceof VirtualClock) stopTicks = clock.every(10, () => world.catchUp());
  else {
    const ticker = setInterval(() => world.catchUp(), 10_000);
    ticker.unref();
    stopTicks = () => clearInterval(ticker);
  }

  return {
    deps,
    run,
    viewFor,
    world,
    hostCredentials,
    runtime,
    clock,
    ...(work ? { work } : {}),
    s3: {
      endpoint: s3.endpoint,
      credentials: s3.credentials,
      client: s3Client,
      onEvent: s3.onEvent,
      upload: (bucket, key, body) => uploadRevision(s3Client, bucket, key, body),
    },
    close: async () => {
      stopTicks();
      s3Client.destroy();
      await s3.close();
      await closeStore();
    },
  };
}
