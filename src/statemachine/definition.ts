/**
 * The deployment state machine, built in TypeScript (docs/adr/0010-generated-state-machine.md).
 * `npm run generate` writes it to statemachines/deployment.asl.json, the one file serverless.yml and
 * the local runtime load; a test fails when the file differs from what this builds.
 *
 * The machine routes; tasks decide. Every task that ends a piece of work returns where to go next
 * (`$.next`, see src/domain/lifecycle.ts), and the Route state dispatches on it: one hook block,
 * one action block and one traffic loop serve every stage of every platform. Retry and Catch
 * policies are defined once, below. JSONPath only (the local interpreter ignores JSONata).
 */
import { ERROR_NAMES, STATES_ALL, STATES_TIMEOUT, type ErrorName } from '../domain/errors.js';
import { NEXT_KINDS, type NextKind } from '../domain/lifecycle.js';
import type { StateMachineTaskName } from '../tasks/task.js';

type State = Record<string, unknown>;
type Retrier = {
  ErrorEquals: string[];
  IntervalSeconds: number;
  MaxAttempts: number;
  BackoffRate: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL';
};

/** Lambda's own failures to invoke a function (throttling, a service error): always retried. */
const LAMBDA_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];
const DEPENDENCY_UNAVAILABLE: ErrorName = 'DependencyUnavailableError';

/** The retry policies: every Task uses one of these. */
export const RETRY = {
  /** A step of the deployment: a few quick tries, then the failure goes to Rollback. */
  step: [
    { ErrorEquals: LAMBDA_ERRORS, IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 },
    {
      ErrorEquals: [DEPENDENCY_UNAVAILABLE],
      IntervalSeconds: 1,
      MaxAttempts: 6,
      BackoffRate: 2,
      JitterStrategy: 'FULL',
    },
  ],
  /**
   * Work that must not give up while traffic may be split or a committed deployment is not complete
   * (Rollback, RecordOutcome, Complete): backoff up to a minute, for about an hour. Rollback's own
   * deadline (CUTOVER_ROLLBACK_DEADLINE_SECONDS, at most 3000 s) ends it before these run out: it
   * throws DependencyUnavailableError until then and reports ROLLBACK_FAILED after.
   */
  persistent: [
    { ErrorEquals: LAMBDA_ERRORS, IntervalSeconds: 1, MaxAttempts: 60, BackoffRate: 2, MaxDelaySeconds: 60 },
    {
      ErrorEquals: [DEPENDENCY_UNAVAILABLE],
      IntervalSeconds: 1,
      MaxAttempts: 70,
      BackoffRate: 2,
      MaxDelaySeconds: 60,
      JitterStrategy: 'FULL',
    },
    // An attempt that hung (a call that never answered) is tried again, not taken as the answer.
    { ErrorEquals: [STATES_TIMEOUT], IntervalSeconds: 5, MaxAttempts: 10, BackoffRate: 2, MaxDelaySeconds: 60 },
  ],
} as const satisfies Record<string, Retrier[]>;

const toRollback = { ErrorEquals: [STATES_ALL], ResultPath: '$.failure', Next: 'Rollback' };
const onTimeout = (next: string, resultPath: string | null = null) => ({
  ErrorEquals: [STATES_TIMEOUT],
  ResultPath: resultPath,
  Next: next,
});

/** How long a task may run before Step Functions gives up on it (hooks are invoked synchronously). */
const TASK_TIMEOUT = 120;

const fn = (task: StateMachineTaskName) => ({ 'Fn::GetAtt': [task, 'Arn'] });

interface TaskOptions {
  comment: string;
  parameters: Record<string, unknown>;
  resultPath?: string | null;
  next: string;
  retry?: readonly Retrier[];
  catches?: unknown[];
  timeoutSeconds?: number;
}

function task(run: StateMachineTaskName, o: TaskOptions): State {
  return {
    Type: 'Task',
    Comment: o.comment,
    Resource: fn(run),
    Parameters: o.parameters,
    ...(o.resultPath !== undefined ? { ResultPath: o.resultPath } : {}),
    TimeoutSeconds: o.timeoutSeconds ?? TASK_TIMEOUT,
    Retry: o.retry ?? RETRY.step,
    ...((o.catches ?? [toRollback]).length ? { Catch: o.catches ?? [toRollback] } : {}),
    Next: o.next,
  };
}

interface CallbackOptions {
  comment: string;
  payload: Record<string, unknown>;
  /** The wait's timeout (a path on the state input), or a fixed number of seconds. */
  timeout: string | number;
  resultPath: string | null;
  next: string;
  /** Where the wait's timeout goes; the rest fails to Rollback. */
  timedOut: ReturnType<typeof onTimeout>;
}

/** A callback: the task parks its token; a token completion or the state's timeout ends the wait. */
function callback(run: StateMachineTaskName, o: CallbackOptions): State {
  return {
    Type: 'Task',
    Comment: o.comment,
    Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
    Parameters: {
      FunctionName: fn(run),
      Payload: { 'deploymentId.$': '$.deploymentId', ...o.payload, 'taskToken.$': '$$.Task.Token' },
    },
    ...(typeof o.timeout === 'number' ? { TimeoutSeconds: o.timeout } : { TimeoutSecondsPath: o.timeout }),
    ResultPath: o.resultPath,
    Retry: RETRY.step,
    Catch: [o.timedOut, toRollback],
    Next: o.next,
  };
}

/** A named failure for a wait that ran out (its outcome then says what was not done in time). */
function timedOutFailure(error: ErrorName, cause: string, comment: string): State {
  return {
    Type: 'Pass',
    Comment: comment,
    Result: { Error: error, Cause: cause },
    ResultPath: '$.failure',
    Next: 'Rollback',
  };
}

const id = { 'deploymentId.$': '$.deploymentId' };

/** The state each route kind leads to. */
export const ROUTES: Record<NextKind, string> = {
  hook: 'RunHook',
  hookRetry: 'WaitToRetryHook',
  action: 'RunAction',
  await: 'AwaitAction',
  shift: 'ShiftTraffic',
  bake: 'Bake',
  pause: 'Paused',
  approve: 'AwaitApproval',
  settle: 'AwaitTraffic',
  finalize: 'Finalize',
  ended: 'AlreadyEnded',
};

export function buildDefinition(): Record<string, unknown> {
  const States: Record<string, State> = {
    HasDeployment: {
      Type: 'Choice',
      Comment:
        'Started with a deployment id (by CreateDeployment), or with a CreateDeployment request (e.g. CodePipeline’s native Step Functions action)?',
      Choices: [{ Variable: '$.deploymentId', IsPresent: true, Next: 'Prepare' }],
      Default: 'RecordDeployment',
    },
    RecordDeployment: task('recordDeployment', {
      comment:
        'Validate the request and record the deployment for this execution (group lock taken). An invalid request ends the execution; nothing was changed.',
      parameters: { 'request.$': '$', 'executionArn.$': '$$.Execution.Id' },
      resultPath: undefined,
      next: 'Prepare',
      // Before a deployment is recorded there is nothing to roll back: an invalid request just fails.
      catches: [{ ErrorEquals: [STATES_ALL], ResultPath: '$.failure', Next: 'RequestRejected' }],
    }),
    RequestRejected: {
      Type: 'Fail',
      Comment: 'The CreateDeployment request was invalid or the group was busy; see this state’s input for the error.',
      Error: 'DeploymentRequestRejected',
      Cause: 'The request did not create a deployment (invalid input, unknown group, or another deployment active)',
    },
    Prepare: task('prepareDeployment', {
      comment:
        'Check the world before anything changes (the platform’s targets, the alarms), mark InProgress, route to the first stage.',
      parameters: id,
      resultPath: '$.next',
      next: 'Route',
    }),
    Route: {
      Type: 'Choice',
      Comment: 'Go where the last task said: a hook, an engine action, the traffic loop, a wait, or the end.',
      Choices: NEXT_KINDS.map((k) => ({ Variable: '$.next.kind', StringEquals: k, Next: ROUTES[k] })),
      Default: 'UnknownRoute',
    },
    AlreadyEnded: {
      Type: 'Succeed',
      Comment:
        'The deployment was ended before this execution began (its CreateDeployment failed after recording it, and recorded it Failed): nothing was changed, nothing to do.',
    },
    UnknownRoute: timedOutFailure(
      'InternalError',
      'A task returned a route the state machine does not know',
      'A bug: no state for this route. Roll back rather than stop with traffic where it is.',
    ),

    // ---- the hook block: every lifecycle hook of every platform --------------------------------
    RunHook: callback('invokeHook', {
      comment:
        'Invoke the lifecycle hook $.next.event; it reports through PutLifecycleEventHookExecutionStatus or returns its status, and its answer says where to go next. The wait’s timeout is the hook’s.',
      payload: { 'lifecycleEventName.$': '$.next.event' },
      timeout: '$.next.timeoutSeconds',
      resultPath: '$.next',
      next: 'Route',
      timedOut: onTimeout('HookTimedOut'),
    }),
    HookTimedOut: task('hookTimedOut', {
      comment:
        'The hook did not report in time: record it, then continue or fail (HookTimedOutError) per the group’s timeout action.',
      parameters: { ...id, 'lifecycleEventName.$': '$.next.event' },
      resultPath: '$.next',
      next: 'Route',
    }),
    WaitToRetryHook: callback('startWait', {
      comment:
        'The hook answered InProgress: wait its retryAfterSeconds (a callback whose timeout ends it, so alarms and stops still interrupt it), then invoke it again.',
      payload: { kind: 'hookRetry', 'seconds.$': '$.next.retryAfterSeconds' },
      timeout: '$.next.retryAfterSeconds',
      resultPath: null,
      next: 'RunHook',
      timedOut: onTimeout('RunHook'),
    }),

    // ---- the action block: engine actions of a platform's lifecycle (Install, test traffic, ...) --
    RunAction: task('runAction', {
      comment:
        'Run the engine action $.next.action of the platform (e.g. installing a replacement); route on when it is done, or wait and run it again.',
      parameters: { ...id, 'action.$': '$.next.action' },
      resultPath: '$.next',
      next: 'Route',
    }),
    AwaitAction: callback('startWait', {
      comment:
        'The action is not done yet (a task set becoming steady, a wait for ContinueDeployment): wait, then run it again. A stop or an alarm ends the wait.',
      payload: { 'kind.$': '$.next.wait', 'seconds.$': '$.next.seconds' },
      timeout: '$.next.seconds',
      resultPath: null,
      next: 'RunAction',
      timedOut: onTimeout('RunAction'),
    }),

    // ---- the traffic loop --------------------------------------------------------------------
    ShiftTraffic: task('shiftTraffic', {
      comment:
        'Decide from the record: keep baking, stay paused, wait for an approval, or cross a step boundary (alarms read, every target moved to the next weight and read back).',
      parameters: id,
      resultPath: '$.next',
      next: 'Route',
    }),
    Bake: callback('startWait', {
      comment:
        'Wait at this weight. The timeout is the bake time and ends the wait normally; an alarm, a stop, a promote or a pause completes the token early.',
      payload: { kind: 'bake', 'seconds.$': '$.next.seconds' },
      timeout: '$.next.seconds',
      resultPath: null,
      next: 'ShiftTraffic',
      timedOut: onTimeout('ShiftTraffic'),
    }),
    AwaitTraffic: callback('startWait', {
      comment: 'The targets do not show the new weight yet (not an error): look again after a while.',
      payload: { kind: 'settle', 'seconds.$': '$.next.seconds' },
      timeout: '$.next.seconds',
      resultPath: null,
      next: 'ShiftTraffic',
      timedOut: onTimeout('ShiftTraffic'),
    }),
    Paused: callback('startWait', {
      comment: 'Held at the current weight until resumed (or promoted, stopped, or an alarm). Gives up after 7 days.',
      payload: { kind: 'pause', 'seconds.$': '$.next.seconds' },
      timeout: '$.next.seconds',
      resultPath: null,
      next: 'ShiftTraffic',
      timedOut: onTimeout('PauseTimedOut', '$.failure'),
    }),
    AwaitApproval: callback('startWait', {
      comment: 'An approval step: wait for an operator’s approval; its timeout fails the deployment.',
      payload: { kind: 'approval', 'seconds.$': '$.next.seconds' },
      timeout: '$.next.seconds',
      resultPath: null,
      next: 'ShiftTraffic',
      timedOut: onTimeout('ApprovalTimedOut', '$.failure'),
    }),
    PauseTimedOut: timedOutFailure(
      'PauseTimedOutError',
      'The deployment stayed paused for 7 days without being resumed',
      'A pause that was never resumed.',
    ),
    ApprovalTimedOut: timedOutFailure(
      'ApprovalTimedOutError',
      'The approval step was not approved before its timeout',
      'Name the timeout so the outcome says the approval never came.',
    ),

    // ---- the end -----------------------------------------------------------------------------
    Finalize: task('finalizeDeployment', {
      comment:
        'The commit point: a last alarm check, then Succeeded is recorded. A failure before the record rolls back; after it, nothing does.',
      parameters: id,
      resultPath: '$.outcome',
      next: 'Complete',
    }),
    Complete: task('completeDeployment', {
      comment:
        'After the commit point: the platform’s clean-up (e.g. removing the original), the alarm index, the lock, the outcome events. Retried, never rolled back.',
      parameters: id,
      resultPath: '$.completed',
      next: 'Deployed',
      retry: RETRY.persistent,
      // No Catch: nothing here may lead to Rollback. If it still fails, the execution fails, and
      // executionEnded (on Step Functions' status event) completes the deployment.
      catches: [],
    }),
    Deployed: { Type: 'Succeed' },
    Rollback: task('rollbackDeployment', {
      comment:
        'Decide from the failure, the group’s auto-rollback configuration and the world; put every target back on the original and read it back. Never after the commit point.',
      parameters: { ...id, 'failure.$': '$.failure' },
      resultPath: '$.rollback',
      next: 'RecordOutcome',
      retry: RETRY.persistent,
      timeoutSeconds: 300,
      catches: [{ ErrorEquals: [STATES_ALL], ResultPath: '$.rollback', Next: 'RecordOutcome' }],
    }),
    RecordOutcome: task('recordOutcome', {
      comment:
        'Record Failed or Stopped with the error code, link the rollback, release the group, publish the outcome (or complete a deployment that had committed).',
      parameters: { ...id, 'failure.$': '$.failure', 'rollback.$': '$.rollback' },
      resultPath: '$.outcome',
      next: 'DeploymentFailed',
      retry: RETRY.persistent,
      catches: [{ ErrorEquals: [STATES_ALL], ResultPath: '$.outcomeFailure', Next: 'DeploymentFailed' }],
    }),
    DeploymentFailed: {
      Type: 'Fail',
      Comment:
        'Static on purpose: a path that does not resolve would turn this into States.Runtime. The deployment record holds errorInformation.',
      Error: 'DeploymentFailed',
      Cause: 'The deployment failed or was stopped; see its errorInformation and rollbackInfo',
    },
  };
  return {
    Comment:
      'Cutover: one deployment = one execution. Generated by src/statemachine/definition.ts (npm run generate): do not edit. The machine only routes; every decision is made by a task (src/tasks) from the deployment record. Input: {"deploymentId": "d-XXXXXXXXX"}, or a CreateDeployment request ({applicationName, deploymentGroupName, revision, ...}).',
    StartAt: 'HasDeployment',
    // 53 hours: a ready wait (up to 2 days) plus a termination wait and the deployment itself.
    TimeoutSeconds: 190800,
    States,
  };
}

/** The definition as the committed file holds it. */
export function definitionText(): string {
  return `${JSON.stringify(buildDefinition(), null, 2)}\n`;
}

/** Error names the definition uses: all of them must be in the contract (checked by a test). */
export const DEFINITION_ERRORS: readonly string[] = [...ERROR_NAMES, STATES_ALL, STATES_TIMEOUT];
