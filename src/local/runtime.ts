/**
 * The local Step Functions runtime: our actual ASL file on aws-local-stepfunctions, with every
 * Task bound to the same src/tasks code that runs in Lambda.
 *
 * aws-local-stepfunctions has no `.waitForTaskToken` support, a single static `$$.Task.Token`,
 * and evaluates `TimeoutSecondsPath` after `Parameters` (AWS evaluates it on the state input). So
 * this runtime implements callbacks itself: each wait gets a fresh unguessable token in a registry
 * (SendTaskSuccess/Failure complete it), and the state's timeout, evaluated from the state input,
 * runs on the injected Clock (compressed in local mode). See docs/adr/0003-local-runtime.md.
 */
import './polyfill.js';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { StateMachine, StateMachineDefinition } from 'aws-local-stepfunctions';
import { DependencyRejectedError } from '../domain/errors.js';
import type { Clock, ExecutionStarter, ExecutionStatus, Logger, TaskTokens } from '../ports/index.js';
import type { Deps, Task, TaskName } from '../tasks/task.js';
import type { WorkTracker } from './clock.js';
import { loadLocalModePackage } from './optional-deps.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
/** The parts of an ASL state the runtime reads or rewrites; the interpreter validates the rest. */
export interface StateDef {
  Type?: string;
  Resource?: unknown;
  Parameters?: { FunctionName?: unknown; Payload?: unknown; [field: string]: unknown };
  Retry?: Retrier[];
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  [field: string]: unknown;
}
/** One retrier of a state's `Retry` (the fields the runtime implements). */
export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
}

/** A state machine definition as read from `statemachines/`. */
export interface MachineDef {
  States: Record<string, StateDef>;
  [field: string]: unknown;
}

export const DEFINITION_PATH = new URL('../../statemachines/deployment.asl.json', import.meta.url);
const TOKEN_SENTINEL = '__cutover_local_task_token__';
const TIMEOUT_FIELD = '__cutoverTimeoutSeconds';
const EXECUTION_FIELD = '__cutoverExecution';
/** Under setTimeout's 2^31-1 ms ceiling; the real timeout runs on our Clock. */
const INTERPRETER_TIMEOUT = 2_000_000;

export function loadDefinition(path: URL | string = DEFINITION_PATH): MachineDef {
  return JSON.parse(readFileSync(path, 'utf8')) as MachineDef;
}

/** The task a Task state runs: `{"Fn::GetAtt": [name, "Arn"]}` as Resource or as Parameters.FunctionName. */
export function boundTaskName(state: StateDef): string | undefined {
  const getAtt = (v: unknown): string | undefined => {
    const ga = (v as { 'Fn::GetAtt'?: unknown })?.['Fn::GetAtt'];
    return Array.isArray(ga) && typeof ga[0] === 'string' ? ga[0] : undefined;
  };
  return getAtt(state.Resource) ?? getAtt(state.Parameters?.FunctionName);
}

const isCallback = (state: StateDef): boolean =>
  typeof state.Resource === 'string' && state.Resource.endsWith('.waitForTaskToken');

function replaceSentinel(value: unknown, token: string): unknown {
  if (value === TOKEN_SENTINEL) return token;
  if (Array.isArray(value)) return value.map((v) => replaceSentinel(v, token));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceSentinel(v, token)]));
  }
  return value;
}

/** The execution a Task state's input belongs to (the runtime adds the field to every Task's parameters). */
function executionOf(input: Json): string | undefined {
  const direct = (input as Record<string, unknown> | null)?.[EXECUTION_FIELD];
  const payload = (input as { Payload?: Record<string, unknown> } | null)?.Payload?.[EXECUTION_FIELD];
  const name = direct ?? payload;
  return typeof name === 'string' ? name : undefined;
}

/** Step Functions' ErrorEquals: States.ALL matches any error, States.TaskFailed any but a timeout. */
function errorMatches(pattern: string, name: string): boolean {
  if (pattern === 'States.ALL') return true;
  if (pattern === 'States.TaskFailed') return name !== 'States.Timeout';
  return pattern === name;
}

/** Error objects the interpreter turns into `{Error: name, Cause: message}`. */
function namedError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

export interface ExecutionRecord {
  name: string;
  arn: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  startDate: Date;
  stopDate?: Date;
  output?: unknown;
  error?: string;
  cause?: string;
  /** The interpreter's event log (StateEntered, StateExited, StateRetried, ...). */
  events: { type: string; state?: string; error?: string; timestamp: number }[];
  done: Promise<ExecutionRecord>;
}

export interface LocalRuntimeOptions {
  clock: Clock;
  log: Logger;
  definition?: MachineDef;
  /** Tasks by name; defaults to every task in src/tasks. */
  tasks: Record<string, Task<unknown, unknown>>;
  /**
   * Virtual time's work tracker: an execution holds the clock except while it is parked in a
   * callback wait, so a wait's timeout never fires while the execution could still be working.
   */
  work?: WorkTracker;
}

/** Executes the deployment state machine locally and implements TaskTokens + ExecutionStarter for it. */
export class LocalStepFunctions implements TaskTokens, ExecutionStarter {
  private readonly pending = new Map<
    string,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; execution: string }
  >();
  /** Per running execution: the release of its hold on the clock, absent while it is parked. */
  private readonly holds = new Map<string, (() => void) | undefined>();
  readonly executions = new Map<string, ExecutionRecord>();
  private readonly aborts = new Map<string, () => void>();
  private readonly endListeners: ((r: ExecutionRecord) => void)[] = [];
  private readonly definition: MachineDef;
  private readonly machine: StateMachine;
  private readonly handlers: Record<string, (input: Json) => Promise<Json>>;
  private depsFor?: (task: Task<unknown, unknown>) => Deps;

  /**
   * The runtime on the interpreter, loaded here: aws-local-stepfunctions is an optional dependency
   * (src/local/optional-deps.ts), so creating a runtime is asynchronous.
   */
  static async create(opts: LocalRuntimeOptions): Promise<LocalStepFunctions> {
    const { StateMachine } = await loadLocalModePackage('aws-local-stepfunctions');
    return new LocalStepFunctions(opts, StateMachine);
  }

  private constructor(
    private readonly opts: LocalRuntimeOptions,
    Interpreter: typeof StateMachine,
  ) {
    const original = opts.definition ?? loadDefinition();
    this.definition = structuredClone(original);
    const unbound: string[] = [];
    this.handlers = {};
    for (const [stateName, state] of Object.entries(this.definition.States)) {
      if (state.Type !== 'Task') continue;
      const taskName = boundTaskName(state);
      const task = taskName ? opts.tasks[taskName] : undefined;
      if (!task) {
        unbound.push(`${stateName} (${taskName ? `task "${taskName}" does not exist` : 'Resource names no task'})`);
        continue;
      }
      // The runtime implements Retry itself, on the clock (the interpreter's retries wait in real time).
      const retriers = state.Retry ?? [];
      delete state.Retry;
      const run = isCallback(state) ? this.callbackHandler(stateName, state, task) : this.directHandler(state, task);
      this.handlers[stateName] = this.retrying(stateName, retriers, run);
    }
    if (unbound.length) throw new Error(`Refusing to start: Task state(s) not bound to a task: ${unbound.join(', ')}`);
    this.machine = new Interpreter(this.definition as unknown as StateMachineDefinition, {
      validationOptions: { checkArn: false, checkPaths: true },
    });
  }

  /** Give the runtime each task's dependencies (they include the runtime itself). */
  attach(depsFor: (task: Task<unknown, unknown>) => Deps): void {
    this.depsFor = depsFor;
  }

  private requireDeps(task: Task<unknown, unknown>): Deps {
    if (!this.depsFor) throw new Error('LocalStepFunctions: attach(depsFor) before starting executions');
    return this.depsFor(task);
  }

  private directHandler(state: StateDef, task: Task<unknown, unknown>) {
    state.Parameters = { ...state.Parameters, [`${EXECUTION_FIELD}.$`]: '$$.Execution.Name' };
    return async (input: Json): Promise<Json> => {
      const { [EXECUTION_FIELD]: _execution, ...rest } = input as Record<string, unknown>;
      return (await task.run(rest, this.requireDeps(task))) as Json;
    };
  }

  /**
   * A state's Retry policy, as Step Functions applies it, with its intervals on the runtime's clock:
   * the first retrier whose ErrorEquals matches the error decides, each retrier counts its own
   * attempts, the delay is IntervalSeconds × BackoffRate^attempt capped at MaxDelaySeconds (no
   * jitter: local runs stay deterministic). While it waits the execution does not hold virtual
   * time, so a policy that retries for half an hour costs no wall time in tests.
   */
  private retrying(stateName: string, retriers: Retrier[], run: (input: Json) => Promise<Json>) {
    // An execution that is stopped (StopExecution, a timeout) stops awaiting its running task: the task's
    // later failure is then nobody's to handle, and must not surface as an unhandled rejection of the
    // process. The interpreter still gets the failure whenever it does await it.
    const attempt = async (input: Json): Promise<Json> => {
      const execution = executionOf(input);
      const attempts = retriers.map(() => 0);
      for (;;) {
        try {
          return await run(input);
        } catch (e) {
          const name = (e as Error).name;
          const i = retriers.findIndex((r) => r.ErrorEquals.some((m) => errorMatches(m, name)));
          const r = retriers[i];
          if (!r || attempts[i]! >= (r.MaxAttempts ?? 3)) throw e;
          const delay = Math.min(
            (r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** attempts[i]!,
            r.MaxDelaySeconds ?? Number.POSITIVE_INFINITY,
          );
          attempts[i]!++;
          // As the interpreter would have logged it (tests and benches read the event log).
          this.executions.get(execution ?? '')?.events.push({
            type: 'StateRetried',
            state: stateName,
            error: name,
            timestamp: Date.now(),
          });
          if (execution) this.park(execution);
          try {
            await this.opts.clock.sleep(delay);
          } finally {
            if (execution) this.unpark(execution);
          }
        }
      }
    };
    return (input: Json): Promise<Json> => {
      const p = attempt(input);
      p.catch(() => undefined);
      return p;
    };
  }

  /**
   * A `.waitForTaskToken` state. Moves its timeout into the payload (evaluated on the state input,
   * as AWS does) and replaces the interpreter's static token with a fresh one per wait.
   */
  private callbackHandler(stateName: string, state: StateDef, task: Task<unknown, unknown>) {
    const payload = (state.Parameters?.Payload ?? {}) as Record<string, unknown>;
    payload[`${EXECUTION_FIELD}.$`] = '$$.Execution.Name';
    if (state.TimeoutSecondsPath) payload[`${TIMEOUT_FIELD}.$`] = state.TimeoutSecondsPath;
    else payload[TIMEOUT_FIELD] = state.TimeoutSeconds ?? 99_999_999;
    state.Parameters = { ...state.Parameters, Payload: payload };
    delete state.TimeoutSecondsPath;
    state.TimeoutSeconds = INTERPRETER_TIMEOUT;

    return async (input: Json): Promise<Json> => {
      const raw = { ...((input as { Payload?: Record<string, unknown> }).Payload ?? {}) };
      const timeoutSeconds = Number(raw[TIMEOUT_FIELD]);
      const execution = String(raw[EXECUTION_FIELD]);
      delete raw[TIMEOUT_FIELD];
      delete raw[EXECUTION_FIELD];
      if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) {
        throw namedError(
          'States.Runtime',
          `${stateName}: timeout must be a positive integer, got ${String(timeoutSeconds)}`,
        );
      }
      const token = randomBytes(32).toString('base64url');
      const waiting = new Promise<unknown>((resolve, reject) =>
        this.pending.set(token, { resolve, reject, execution }),
      );
      const abort = new AbortController();
      // As on AWS, the timeout runs from the moment the state starts, whatever the invoked task does.
      const timeout = this.opts.clock.sleep(timeoutSeconds, abort.signal).then(() => {
        throw namedError('States.Timeout', `${stateName} timed out after ${timeoutSeconds} s`);
      });
      timeout.catch(() => undefined);
      try {
        // The task's own failure fails the state; otherwise the first of token and timeout wins.
        // Once the task has parked the token, the execution only waits: it stops holding the clock.
        const invoked = task.run(replaceSentinel(raw, token), this.requireDeps(task)).then(() => {
          if (this.pending.has(token)) this.park(execution);
          return new Promise<never>(() => undefined);
        });
        return (await Promise.race([waiting, timeout, invoked])) as Json;
      } finally {
        this.unpark(execution);
        abort.abort();
        this.pending.delete(token);
      }
    };
  }

  /** The execution waits for a token or a timeout: virtual time may pass. */
  private park(execution: string): void {
    this.holds.get(execution)?.();
    if (this.holds.has(execution)) this.holds.set(execution, undefined);
  }

  /** The execution runs again (a token completed, a timeout fired): virtual time waits for it. */
  private unpark(execution: string): void {
    if (this.holds.has(execution) && !this.holds.get(execution)) this.holds.set(execution, this.opts.work?.hold());
  }

  // ---- TaskTokens ---------------------------------------------------------------------------

  async succeed(token: string, output: unknown): Promise<boolean> {
    const p = this.pending.get(token);
    if (!p) return false;
    this.pending.delete(token);
    this.unpark(p.execution);
    p.resolve(output ?? {});
    return true;
  }

  async fail(token: string, error: string, cause: string): Promise<boolean> {
    const p = this.pending.get(token);
    if (!p) return false;
    this.pending.delete(token);
    this.unpark(p.execution);
    p.reject(namedError(error, cause));
    return true;
  }

  // ---- ExecutionStarter ---------------------------------------------------------------------

  async start(name: string, input: Record<string, unknown>): Promise<string> {
    const arn = `arn:aws:states:local:000000000000:execution:cutover-deployment:${name}`;
    const existing = this.executions.get(name);
    // As Step Functions: the same name while it runs is the same execution; after it ended, refused.
    if (existing?.status === 'RUNNING') return existing.arn;
    if (existing)
      throw new DependencyRejectedError(`Execution Already Exists: '${existing.arn}'`, 'ExecutionAlreadyExists');
    const startDate = this.opts.clock.now();
    // A new execution runs until its first wait: virtual time waits for it.
    this.holds.set(name, this.opts.work?.hold());
    const execution = this.machine.run(input as Json, {
      overrides: { taskResourceLocalHandlers: this.handlers },
      context: {
        Execution: { Id: arn, Name: name, StartTime: startDate.toISOString(), Input: input as Json },
        StateMachine: {
          Id: 'arn:aws:states:local:000000000000:stateMachine:cutover-deployment',
          Name: 'cutover-deployment',
        },
        Task: { Token: TOKEN_SENTINEL },
      },
    });
    const record: ExecutionRecord = { name, arn, status: 'RUNNING', startDate, events: [], done: undefined as never };
    const collect = (async () => {
      for await (const e of execution.eventLogs) {
        const state = (e as { state?: { name?: string } }).state?.name;
        const error = (e as { Error?: string }).Error;
        record.events.push({
          type: e.type,
          ...(state ? { state } : {}),
          ...(error ? { error } : {}),
          timestamp: e.timestamp,
        });
      }
    })().catch(() => undefined);
    record.done = execution.result
      .then(
        (output) => Object.assign(record, { status: 'SUCCEEDED' as const, output, stopDate: this.opts.clock.now() }),
        (e: unknown) => {
          const err = e as { name?: string; message?: string; cause?: { name?: string; message?: string } };
          if (err.name === 'ExecutionAbortedError')
            return Object.assign(record, { status: 'ABORTED' as const, stopDate: this.opts.clock.now() });
          this.opts.log.warn(`execution ${name} failed`, { error: err.cause?.name ?? err.name });
          return Object.assign(record, {
            status: 'FAILED' as const,
            error: err.cause?.name ?? err.name ?? 'Error',
            cause: err.cause?.message ?? err.message ?? '',
            stopDate: this.opts.clock.now(),
          });
        },
      )
      .then(async (r) => {
        await collect;
        this.aborts.delete(name);
        this.holds.get(name)?.();
        this.holds.delete(name);
        for (const l of this.endListeners) l(r);
        return r;
      });
    this.executions.set(name, record);
    this.aborts.set(name, execution.abort);
    return arn;
  }

  async describe(name: string): Promise<ExecutionStatus | undefined> {
    return this.executions.get(name)?.status;
  }

  /** StopExecution: the execution ends ABORTED wherever it is (its state machine records nothing). */
  abort(name: string): boolean {
    const stop = this.aborts.get(name);
    stop?.();
    return stop !== undefined;
  }

  /** Called when an execution ends (as EventBridge's Step Functions Execution Status Change would). */
  onEnd(listener: (r: ExecutionRecord) => void): void {
    this.endListeners.push(listener);
  }

  /** Resolves when the execution ends. */
  async wait(name: string): Promise<ExecutionRecord> {
    const e = this.executions.get(name);
    if (!e) throw new Error(`no local execution ${name}`);
    return e.done;
  }

  /** Number of waits currently parked (for diagnostics). */
  get waiting(): number {
    return this.pending.size;
  }
}

export type { TaskName };

/** The EventBridge event Step Functions emits when an execution ends, for a local execution record. */
export function executionStatusChangeEvent(r: ExecutionRecord): Record<string, unknown> {
  return {
    version: '0',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: '000000000000',
    region: 'local',
    time: (r.stopDate ?? new Date()).toISOString(),
    resources: [r.arn],
    detail: {
      executionArn: r.arn,
      stateMachineArn: 'arn:aws:states:local:000000000000:stateMachine:cutover-deployment',
      name: r.name,
      status: r.status,
      startDate: r.startDate.getTime(),
      stopDate: r.stopDate?.getTime() ?? null,
      error: r.error ?? null,
      cause: r.cause ?? null,
    },
  };
}
