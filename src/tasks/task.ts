/**
 * The task contract. A task parses its input (zod), calls ports and domain, and returns data. It
 * declares the port methods it uses; its `deps` type allows only those, and its Lambda function's
 * IAM role is derived from the same declaration (docs/adr/0011-ports-declared-per-task.md).
 * One name per thing: task name = serverless.yml function key = ASL Fn::GetAtt target.
 */
import * as z from 'zod/mini';
import { InvalidInputError } from '../domain/errors.js';
import type { Environment } from '../domain/notifications.js';
import type { TargetStrategy } from '../platforms/platform.js';
import type {
  AlarmSource,
  Authorizer,
  Bundles,
  IdSource,
  AlarmWatches,
  Catalog,
  Clock,
  Deployments,
  EventPublisher,
  ExecutionStarter,
  GroupLocks,
  HookExecutions,
  HookInvoker,
  Instances,
  HostCommands,
  Logger,
  PipelineJobs,
  RevisionSource,
  Secrets,
  TaskTokens,
  Timeline,
} from '../ports/index.js';
import { zodIssues } from '../config/issues.js';

/** Every port a task may use, by the name tasks know it by. */
export interface Ports {
  catalog: Catalog;
  deployments: Deployments;
  locks: GroupLocks;
  hookExecutions: HookExecutions;
  timeline: Timeline;
  alarmWatches: AlarmWatches;
  /** On-premises instances (RegisterOnPremisesInstance and friends). */
  instances: Instances;
  alarms: AlarmSource;
  hooks: HookInvoker;
  tokens: TaskTokens;
  executions: ExecutionStarter;
  events: EventPublisher;
  revisions: RevisionSource;
  pipeline: PipelineJobs;
  /** The strategy of each deployment's platform (src/platforms): tasks never name a platform. */
  platforms: TargetStrategy;
  /** In-place deployments' fleets, hosts and the commands their agents poll for. */
  hostCommands: HostCommands;
  /** Webhook signing secrets (Parameter Store on AWS): records keep only their references. */
  secrets: Secrets;
}
export type PortName = keyof Ports;

/** The port methods a task uses, by port. */
export type Uses = { readonly [P in PortName]?: readonly (keyof Ports[P] & string)[] };

/** What every task has besides ports: time, new ids, bundle reading, where it runs, a logger. */
export interface Context {
  clock: Clock;
  ids: IdSource;
  bundles: Bundles;
  env: Environment;
  log: Logger;
  /**
   * Per-operation authorisation of API requests (docs/adr/0024): set where the API is served (the api
   * function, the local server). Not a task port (no task uses it); without it every API request that a
   * transport did not authorise whole is denied.
   */
  authorizer?: Authorizer;
}

/** The deps of a task that uses `U`: only the declared methods of the declared ports. */
export type DepsFor<U extends Uses> = Context & PortsFor<U>;
/**
 * The declared ports of `U`, covariant: a task declaring more may call a helper that declares less
 * (DepsFor<A> is a DepsFor<B> when A is a B). Declared because the checker's own measurement of it
 * builds a union over every subset of ports (2^ports members: TS2590 past sixteen ports); its check of
 * the annotation fails the same way, hence the expect-error. tsc still checks every use against it.
 */
// @ts-expect-error TS2636: the annotation's own check cannot be computed (see above).
type PortsFor<out U extends Uses> = {
  [P in keyof U & PortName]: Pick<Ports[P], NonNullable<U[P]>[number] & keyof Ports[P]>;
};

/** Every port: what a composition root (src/wiring) assembles. */
export type Deps = Context & Ports;

/** Tasks the state machine calls (each is also a serverless.yml function). */
export const STATE_MACHINE_TASKS = [
  'recordDeployment',
  'prepareDeployment',
  'invokeHook',
  'hookTimedOut',
  'runAction',
  'shiftTraffic',
  'startWait',
  'finalizeDeployment',
  'completeDeployment',
  'rollbackDeployment',
  'recordOutcome',
] as const;
/** Tasks called from outside the state machine (API, CLI, triggers). */
export const API_TASKS = [
  'createApplication',
  'createDeploymentGroup',
  'updateDeploymentGroup',
  'createDeploymentConfig',
  'createDeployment',
  'putLifecycleEventHookExecutionStatus',
  'stopDeployment',
  'promoteDeployment',
  'pauseDeployment',
  'resumeDeployment',
  'approveDeployment',
  'continueDeployment',
] as const;
/** Tasks started by events (EventBridge rules and schedules, S3, CodePipeline); each is a serverless.yml function. */
export const EVENT_TASKS = ['alarmListener', 'executionEnded', 's3Trigger', 'codePipelineJob', 'reconcile'] as const;
export type StateMachineTaskName = (typeof STATE_MACHINE_TASKS)[number];
export type TaskName = StateMachineTaskName | (typeof API_TASKS)[number] | (typeof EVENT_TASKS)[number];

/**
 * A task's input schema: zod's, or zod/mini's on the engine's path (12 KB in a function's bundle
 * instead of 450 KB; the API and the creation path, whose schemas are large, use zod).
 */
export interface Schema<I> {
  safeParse(
    input: unknown,
  ):
    | { success: true; data: I }
    | { success: false; error: { issues: readonly { code: string; path: PropertyKey[]; message: string }[] } };
}

/** `{deploymentId}`: what most state machine tasks take. */
export const DeploymentIdInput = z.object({ deploymentId: z.string().check(z.minLength(1)) });

export interface Task<I = unknown, O = unknown, U extends Uses = Uses> {
  readonly name: TaskName;
  /** The port methods it calls (its IAM role is derived from them). */
  readonly uses: U;
  readonly schema: Schema<I>;
  run(input: unknown, deps: DepsFor<U>): Promise<O>;
}

/** A task whichever ports it uses, as a composition root runs it (with every port). */
export interface AnyTask {
  readonly name: TaskName;
  readonly uses: Uses;
  run(input: unknown, deps: Deps): Promise<unknown>;
}

/** Turn zod issues into our InvalidInputError (every issue with its path). */
export function parseInput<I>(schema: Schema<I>, input: unknown, exceptionName = 'InvalidInputException'): I {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new InvalidInputError(zodIssues(r.error.issues), exceptionName);
}

export function defineTask<const U extends Uses, I, O>(
  name: TaskName,
  uses: U,
  schema: Schema<I>,
  fn: (input: I, deps: DepsFor<U>) => Promise<O>,
): Task<I, O, U> {
  return { name, uses, schema, run: (input, deps) => fn(parseInput(schema, input), deps) };
}

/** The union of several declarations (a task that runs others' steps, or a function serving many tasks). */
export function unionOfUses(...all: Uses[]): Uses {
  const out: Record<string, Set<string>> = {};
  for (const u of all) {
    for (const [port, methods] of Object.entries(u)) {
      const set = (out[port] ??= new Set());
      for (const m of methods as readonly string[]) set.add(m);
    }
  }
  return Object.fromEntries(Object.entries(out).map(([p, s]) => [p, [...s].sort()])) as Uses;
}
