/**
 * Lifecycle hooks. invokeHook starts the hook and parks the execution's task token under an
 * unguessable hook execution id; putLifecycleEventHookExecutionStatus (CodeDeploy's callback)
 * completes that token with where the deployment goes next. A hook that never reports fails at the
 * state's timeout. One hook block serves every lifecycle event of every platform.
 */
import * as z from 'zod/mini';
import {
  ApiError,
  DependencyUnavailableError,
  HookFailedError,
  HookTimedOutError,
  InternalError,
} from '../domain/errors.js';
import { hookExecutionIdHash } from '../domain/ids.js';
import { isWebhookTarget } from '../domain/hook-targets.js';
import { describeHookTarget, interpretHookAnswer, type HookAnswer } from '../domain/hooks.js';
import { afterStage, stageOf, type Next } from '../domain/lifecycle.js';
import { withLifecycle, type Deployment, type DeploymentGroup, type Stage } from '../domain/model.js';
import { platformOf } from '../platforms/index.js';
import { loadDeployment, loadGroup, mutateDeployment, note } from './support.js';
import { defineTask, type DepsFor } from './task.js';

type HookStage = Extract<Stage, { kind: 'hook' }>;

function hookStage(d: Deployment, event: string): HookStage {
  const stage = stageOf(d.spec, event);
  if (stage?.kind !== 'hook') throw new InternalError(`deployment ${d.deploymentId} has no ${event} hook`);
  return stage;
}

const REPORT_USES = {
  hookExecutions: ['get', 'complete'],
  deployments: ['get', 'update'],
  timeline: ['append'],
  tokens: ['succeed', 'fail'],
} as const;

const INVOKE_USES = {
  ...REPORT_USES,
  hookExecutions: ['put', 'get', 'complete'],
  catalog: ['getDeploymentGroup'],
  hooks: ['invoke'],
  secrets: ['get'],
} as const;

/**
 * The secret that signs a webhook's requests: read through the Secrets port by the group's reference (ADR 25),
 * or a record's own plain secret from before 0.2. None: the invoker refuses the webhook.
 */
async function webhookSecretOf(
  deps: Pick<DepsFor<typeof INVOKE_USES>, 'secrets'>,
  group: Pick<DeploymentGroup, 'webhookSecretRef' | 'webhookSecret'>,
): Promise<{ webhookSecret?: string }> {
  if (group.webhookSecretRef !== undefined) return { webhookSecret: await deps.secrets.get(group.webhookSecretRef) };
  return group.webhookSecret !== undefined ? { webhookSecret: group.webhookSecret } : {};
}

const InvokeHookInput = z.object({
  deploymentId: z.string().check(z.minLength(1)),
  lifecycleEventName: z.string().check(z.minLength(1)),
  taskToken: z.string().check(z.minLength(1)),
});

/**
 * Invoke the hook (again, after an InProgress answer) and park the task token under a fresh hook
 * execution id. A hook that returns its status completes the wait at once; one that returns
 * nothing reports later through PutLifecycleEventHookExecutionStatus.
 */
async function invoke(
  input: z.infer<typeof InvokeHookInput>,
  deps: DepsFor<typeof INVOKE_USES>,
): Promise<Record<string, never>> {
  const event = input.lifecycleEventName;
  const d = await loadDeployment(deps, input.deploymentId);
  const stage = hookStage(d, event);
  // Measured on the clock's time (a deadline); the lifecycle event's startTime is a stamp (ADR 20).
  const now = deps.clock.now();
  const group = await loadGroup(deps, d);
  const previous = d.state.lifecycleEvents.find((e) => e.lifecycleEventName === event);
  const retry = previous?.status === 'InProgress' && previous.hookExecutionIdHash !== undefined;
  // The hook's timeout covers every attempt: an InProgress answer does not extend it.
  if (retry && (previous.timeoutAt || previous.startTime)) {
    const deadline = previous.timeoutAt
      ? Date.parse(previous.timeoutAt)
      : Date.parse(previous.startTime!) + stage.timeoutSeconds * 1000;
    if (now.getTime() >= deadline) {
      await deps.tokens.succeed(input.taskToken, await timedOut(deps, d.deploymentId, event));
      return {};
    }
    await deps.hookExecutions.complete(previous.hookExecutionIdHash!, 'Failed'); // superseded by this attempt
  }

  // The id goes to the hook only; what is stored, here and on the deployment, is its hash.
  const hookExecutionId = deps.ids.hookExecutionId();
  const idHash = hookExecutionIdHash(hookExecutionId);
  const shown = describeHookTarget(stage.hook); // a webhook URL may carry a token in its query string
  await deps.hookExecutions.put({
    idHash,
    deploymentId: d.deploymentId,
    lifecycleEventName: event,
    taskToken: input.taskToken,
    status: 'InProgress',
  });
  const current = await mutateDeployment(deps, d.deploymentId, (cur) => ({
    lifecycleEvents: withLifecycle(cur.state.lifecycleEvents, event, {
      status: 'InProgress',
      ...(retry
        ? {}
        : {
            startTime: deps.clock.stamp().toISOString(),
            timeoutAt: new Date(now.getTime() + stage.timeoutSeconds * 1000).toISOString(),
          }),
      hookFunction: shown,
      hookExecutionIdHash: idHash,
    }),
    currentWait: { kind: 'hook', token: input.taskToken, lifecycleEventName: event, since: now.toISOString() },
  }));
  await note(deps, d.deploymentId, 'HookStarted', `${event} hook ${shown} ${retry ? 'invoked again' : 'invoked'}`, {
    lifecycleEventName: event,
    hookFunction: shown,
  });
  let answer;
  try {
    answer = interpretHookAnswer(
      await deps.hooks.invoke(
        stage.hook,
        {
          DeploymentId: d.deploymentId,
          LifecycleEventHookExecutionId: hookExecutionId,
          // Beyond CodeDeploy's two keys: what the hook would otherwise have to look up.
          ApplicationName: d.spec.applicationName,
          DeploymentGroupName: d.spec.deploymentGroupName,
          LifecycleEventName: event,
          ...platformOf(d.spec.computePlatform).hookContext(current),
        },
        {
          ...(isWebhookTarget(stage.hook) ? await webhookSecretOf(deps, group) : {}),
          ...(group.webhookAllowedHosts ? { webhookAllowedHosts: group.webhookAllowedHosts } : {}),
        },
      ),
    );
  } catch (e) {
    if (e instanceof DependencyUnavailableError) throw e; // throttled: the state machine retries
    const message = `${event} hook ${shown} could not be run: ${(e as Error).message.replace(stage.hook, shown)}`;
    if (await deps.hookExecutions.complete(idHash, 'Failed')) {
      await mutateDeployment(deps, d.deploymentId, (cur) => ({
        lifecycleEvents: withLifecycle(cur.state.lifecycleEvents, event, {
          status: 'Failed',
          endTime: deps.clock.stamp().toISOString(),
          diagnostics: { errorCode: 'UnknownError', message },
        }),
      }));
    }
    throw new HookFailedError(message, { cause: e });
  }
  if (answer) await answered(deps, hookExecutionId, answer, stage);
  // Not the id: what a task returns is kept in the execution's history.
  return {};
}

/** A hook's own answer (return value or webhook body) completes its wait like a callback would. */
async function answered(
  deps: DepsFor<typeof REPORT_USES>,
  hookExecutionId: string,
  answer: HookAnswer,
  stage: HookStage,
): Promise<void> {
  const h = await deps.hookExecutions.get(hookExecutionIdHash(hookExecutionId));
  if (!h || h.status !== 'InProgress') return; // it already reported through the callback
  if (answer.status === 'InProgress') {
    const d = await loadDeployment(deps, h.deploymentId);
    const started = d.state.lifecycleEvents.find((e) => e.lifecycleEventName === stage.name);
    const deadline = started?.timeoutAt
      ? Date.parse(started.timeoutAt)
      : started?.startTime
        ? Date.parse(started.startTime) + stage.timeoutSeconds * 1000
        : undefined;
    const left =
      deadline === undefined ? stage.timeoutSeconds : Math.ceil((deadline - deps.clock.now().getTime()) / 1000);
    await note(
      deps,
      h.deploymentId,
      'HookInProgress',
      `${h.lifecycleEventName} hook is still working; invoking it again in ${answer.retryAfterSeconds} s`,
    );
    const next: Next = {
      kind: 'hookRetry',
      event: stage.name,
      retryAfterSeconds: answer.retryAfterSeconds,
      timeoutSeconds: Math.max(1, left - answer.retryAfterSeconds),
    };
    await deps.tokens.succeed(h.taskToken, next);
    return;
  }
  await report(
    { deploymentId: h.deploymentId, lifecycleEventHookExecutionId: hookExecutionId, status: answer.status },
    deps,
  ).catch((e: unknown) => {
    // Completed concurrently (a late callback, a stop): the first answer stands.
    if (!(e instanceof ApiError && e.exceptionName === 'LifecycleEventAlreadyCompletedException')) throw e;
  });
}

export const invokeHook = defineTask('invokeHook', INVOKE_USES, InvokeHookInput, invoke);

const TIMED_OUT_USES = {
  deployments: ['get', 'update'],
  hookExecutions: ['complete'],
  timeline: ['append'],
} as const;

/**
 * The hook did not report before its timeout: record it and refuse late reports; then continue or
 * fail with HookTimedOutError, per the group's timeout action for this lifecycle event.
 */
async function timedOut(deps: DepsFor<typeof TIMED_OUT_USES>, deploymentId: string, event: string): Promise<Next> {
  const d = await loadDeployment(deps, deploymentId);
  const { timeoutSeconds, timeoutAction } = hookStage(d, event);
  const lifecycle = d.state.lifecycleEvents.find((e) => e.lifecycleEventName === event);
  if (lifecycle?.hookExecutionIdHash) await deps.hookExecutions.complete(lifecycle.hookExecutionIdHash, 'Failed');
  const message = `The ${event} hook did not report a status (PutLifecycleEventHookExecutionStatus) within ${timeoutSeconds} s`;
  await mutateDeployment(deps, deploymentId, (cur) => ({
    lifecycleEvents: withLifecycle(cur.state.lifecycleEvents, event, {
      status: 'Failed',
      endTime: deps.clock.stamp().toISOString(),
      diagnostics: { errorCode: 'ScriptTimedOut', message },
    }),
    currentWait: undefined,
  }));
  const rollback = timeoutAction === 'rollback';
  await note(
    deps,
    deploymentId,
    'HookTimedOut',
    `${message}; ${rollback ? 'rolling back' : 'continuing'} (timeoutAction: ${timeoutAction})`,
  );
  if (rollback) throw new HookTimedOutError(message);
  return afterStage(d.spec, event);
}

export const hookTimedOut = defineTask(
  'hookTimedOut',
  TIMED_OUT_USES,
  z.object({ deploymentId: z.string().check(z.minLength(1)), lifecycleEventName: z.string().check(z.minLength(1)) }),
  (input, deps) => timedOut(deps, input.deploymentId, input.lifecycleEventName),
);

const StatusInput = z.object({
  deploymentId: z.optional(z.string()),
  lifecycleEventHookExecutionId: z.optional(z.string()),
  status: z.optional(z.string()),
});

async function report(
  input: z.infer<typeof StatusInput>,
  deps: DepsFor<typeof REPORT_USES>,
): Promise<{ lifecycleEventHookExecutionId: string }> {
  if (!input.deploymentId) throw new ApiError('DeploymentIdRequiredException', 'deploymentId is required');
  if (!input.lifecycleEventHookExecutionId) {
    throw new ApiError('InvalidLifecycleEventHookExecutionIdException', 'lifecycleEventHookExecutionId is required');
  }
  if (input.status !== 'Succeeded' && input.status !== 'Failed') {
    throw new ApiError(
      'InvalidLifecycleEventHookExecutionStatusException',
      `status must be Succeeded or Failed, got ${JSON.stringify(input.status ?? null)}`,
    );
  }
  const status = input.status;
  // Compared by hash: the table holds only hashes of ids.
  const h = await deps.hookExecutions.get(hookExecutionIdHash(input.lifecycleEventHookExecutionId));
  // An unknown id and an id of another deployment look the same to the caller: the id is the credential.
  if (!h || h.deploymentId !== input.deploymentId) {
    throw new ApiError(
      'InvalidLifecycleEventHookExecutionIdException',
      'No such lifecycle event hook execution for this deployment',
    );
  }
  // A lifecycle event that already ended (timed out, or the deployment stopped) takes no report.
  const d = await loadDeployment(deps, h.deploymentId);
  const event = d.state.lifecycleEvents.find((e) => e.lifecycleEventName === h.lifecycleEventName);
  const alreadyCompleted = new ApiError(
    'LifecycleEventAlreadyCompletedException',
    `The ${h.lifecycleEventName} lifecycle event has already completed`,
  );
  if (event?.status !== 'InProgress' || event.hookExecutionIdHash !== h.idHash) throw alreadyCompleted;
  if (!(await deps.hookExecutions.complete(h.idHash, status))) throw alreadyCompleted;
  const now = deps.clock.stamp().toISOString();
  const setStatus = (st: 'Succeeded' | 'Failed', message?: string) =>
    mutateDeployment(deps, h.deploymentId, (cur) => ({
      lifecycleEvents: withLifecycle(cur.state.lifecycleEvents, h.lifecycleEventName, {
        status: st,
        endTime: now,
        ...(message ? { diagnostics: { errorCode: 'ScriptFailed', message } } : {}),
      }),
      ...(cur.state.currentWait?.token === h.taskToken ? { currentWait: undefined } : {}),
    }));
  // Record first, then release the execution, so the record is never behind the state machine.
  await setStatus(status, status === 'Failed' ? 'The hook reported Failed' : undefined);
  await note(deps, h.deploymentId, 'HookReported', `${h.lifecycleEventName} hook reported ${status}`, {
    lifecycleEventName: h.lifecycleEventName,
    status,
  });
  const delivered =
    status === 'Succeeded'
      ? await deps.tokens.succeed(h.taskToken, afterStage(d.spec, h.lifecycleEventName))
      : await deps.tokens.fail(h.taskToken, 'HookFailedError', `The ${h.lifecycleEventName} hook reported Failed`);
  if (!delivered) {
    await setStatus('Failed', 'The report arrived after the lifecycle event had timed out');
    throw alreadyCompleted;
  }
  return { lifecycleEventHookExecutionId: input.lifecycleEventHookExecutionId };
}

/** CodeDeploy's PutLifecycleEventHookExecutionStatus. */
export const putLifecycleEventHookExecutionStatus = defineTask(
  'putLifecycleEventHookExecutionStatus',
  REPORT_USES,
  StatusInput,
  report,
);
