/**
 * The task contract. A task parses its input (zod), calls ports and domain, and returns data.
 * One name per thing: task name = serverless.yml function key = ASL Fn::GetAtt target.
 */
import { z } from 'zod';
import { InvalidInputError } from '../domain/errors.js';
import type { Environment } from '../domain/notifications.js';
import type {
  AlarmSource,
  Clock,
  DeploymentStore,
  EcsServices,
  LoadBalancers,
  EventPublisher,
  ExecutionStarter,
  PipelineJobs,
  RevisionSource,
  HookInvoker,
  Logger,
  TaskTokens,
  TrafficRouter,
} from '../ports/index.js';

/** Everything a task may touch, assembled by a composition root (src/wiring). */
export interface Deps {
  store: DeploymentStore;
  router: TrafficRouter;
  ecs: EcsServices;
  elb: LoadBalancers;
  alarms: AlarmSource;
  hooks: HookInvoker;
  tokens: TaskTokens;
  executions: ExecutionStarter;
  events: EventPublisher;
  revisions: RevisionSource;
  pipeline: PipelineJobs;
  clock: Clock;
  env: Environment;
  log: Logger;
}

/** Tasks the state machine calls (each is also a serverless.yml function). */
export const STATE_MACHINE_TASKS = [
  'recordDeployment',
  'prepareDeployment',
  'invokeHook',
  'installTaskSet',
  'allowTestTraffic',
  'hookTimedOut',
  'shiftTraffic',
  'startWait',
  'finalizeDeployment',
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
/** Tasks started by events (an EventBridge rule); each is also a serverless.yml function. */
export const EVENT_TASKS = ['alarmListener', 'executionEnded', 's3Trigger', 'codePipelineJob'] as const;
export type StateMachineTaskName = (typeof STATE_MACHINE_TASKS)[number];
export type TaskName = StateMachineTaskName | (typeof API_TASKS)[number] | (typeof EVENT_TASKS)[number];

export interface Task<I, O> {
  readonly name: TaskName;
  readonly schema: z.ZodType<I>;
  run(input: unknown, deps: Deps): Promise<O>;
}

/** Turn zod issues into our InvalidInputError (every issue with its path). */
export function parseInput<I>(schema: z.ZodType<I>, input: unknown, exceptionName = 'InvalidInputException'): I {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new InvalidInputError(
    r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
    exceptionName,
  );
}

export function defineTask<I, O>(
  name: TaskName,
  schema: z.ZodType<I>,
  fn: (input: I, deps: Deps) => Promise<O>,
): Task<I, O> {
  return {
    name,
    schema,
    run: (input, deps) => fn(parseInput(schema, input), deps),
  };
}
