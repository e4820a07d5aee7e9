/**
 * Lifecycle hooks. invokeHook starts the hook and parks the execution's task token under an
 * unguessable hook execution id; putLifecycleEventHookExecutionStatus (CodeDeploy's callback)
 * completes that token. A hook that never reports fails at the state's timeout.
 */
import { z } from 'zod';
import { ApiError, DependencyUnavailableError, HookFailedError, HookTimedOutError } from '../domain/errors.js';
import { describeHookTarget, hookSettings, interpretHookAnswer, type HookAnswer } from '../domain/hooks.js';
import { newHookExecutionId } from '../domain/ids.js';
import { ECS_HOOK_EVENTS, withLifecycle, type Deployment, type HookEvent } from '../domain/model.js';
import { loadDeployment, loadGroup, mutateDeployment, note } from './support.js';
import { defineTask, type Deps } from './task.js';

const InvokeHookInput = z.object({
  deploymentId: z.string().min(1),
  lifecycleEventName: z.enum(ECS_HOOK_EVENTS),
  taskToken: z.string().min(1),
});

/**
 * Invoke the hook (again, after an InProgress answer) and park the task token under a fresh hook
 * execution id. A hook that returns its status completes the wait at once; one that returns
 * nothing reports later through PutLifecycleEventHookExecutionStatus.
 */
async function invoke(
  input: z.infer<typeof InvokeHookInput>,
  deps: Deps,
): Promise<{ hookExecutionId?: string; skipped: boolean }> {
  const event: HookEvent = input.lifecycleEventName;
  const d = await loadDeployment(deps, input.deploymentId);
  const fn = d.hooks[event];
  const now = deps.clock.now().toISOString();
  if (!fn) {
    await mutateDeployment(deps, d.deploymentId, (cur) => ({
      lifecycleEvents: withLifecycle(cur.lifecycleEvents, event, { status: 'Skipped', startTime: now, endTime: now }),
    }));
    await deps.tokens.succeed(input.taskToken, { status: 'Skipped' });
    return { skipped: true };
  }
  const group = await loadGroup(deps, d);
  const previous = d.lifecycleEvents.find((e) => e.lifecycleEventName === event);
  const retry = previous?.status === 'InProgress' && previous.hookExecutionId !== undefined;
  // The hook's timeout covers every attempt: an InProgress answer does not extend it.
  if (retry && previous.startTime) {
    const deadline = Date.parse(previous.startTime) + hookSettings(group, event).timeoutSeconds * 1000;
    if (deps.clock.now().getTime() >= deadline) {
      await deps.tokens.succeed(input.taskToken, await timedOut(deps, d.deploymentId, event));
      return { skipped: false };
    }
    await deps.store.completeHookExecution(previous.hookExecutionId!, 'Failed'); // superseded by this attempt
  }

  const hookExecutionId = newHookExecutionId();
  const shown = describeHookTarget(fn); // a webhook URL may carry a token in its query string
  await deps.store.putHookExecution({
    hookExecutionId,
    deploymentId: d.deploymentId,
    lifecycleEventName: event,
    taskToken: input.taskToken,
    status: 'InProgress',
  });
  await mutateDeployment(deps, d.deploymentId, (cur) => ({
    lifecycleEvents: withLifecycle(cur.lifecycleEvents, event, {
      status: 'InProgress',
      ...(retry ? {} : { startTime: now }),
      hookFunction: shown,
      hookExecutionId,
    }),
    currentWait: { kind: 'hook', token: input.taskToken, lifecycleEventName: event, since: now },
  }));
  await note(deps, d.deploymentId, 'HookStarted', `${event} hook ${shown} ${retry ? 'invoked again' : 'invoked'}`, {
    lifecycleEventName: event,
    hookFunction: shown,
  });
  let answer;
  try {
    answer = interpretHookAnswer(
      await deps.hooks.invoke(
        fn,
        {
          DeploymentId: d.deploymentId,
          LifecycleEventHookExecutionId: hookExecutionId,
          // Beyond CodeDeploy's two keys: what the hook would otherwise have to look up.
          ApplicationName: d.applicationName,
          DeploymentGroupName: d.deploymentGroupName,
          LifecycleEventName: event,
          ...hookContext(d),
        },
        group.webhookSecret ? { webhookSecret: group.webhookSecret } : {},
      ),
    );
  } catch (e) {
    if (e instanceof DependencyUnavailableError) throw e; // throttled: the state machine retries
    const message = `${event} hook ${shown} could not be run: ${(e as Error).message.replace(fn, shown)}`;
    if (await deps.store.completeHookExecution(hookExecutionId, 'Failed')) {
      await mutateDeployment(deps, d.deploymentId, (cur) => ({
        lifecycleEvents: withLifecycle(cur.lifecycleEvents, event, {
          status: 'Failed',
          endTime: deps.clock.now().toISOString(),
          diagnostics: { errorCode: 'UnknownError', message },
        }),
      }));
    }
    throw new HookFailedError(message);
  }
  if (answer) await answered(deps, hookExecutionId, answer);
  return { hookExecutionId, skipped: false };
}

/** What the hook would otherwise have to look up: the functions, or the ECS service and task sets. */
function hookContext(d: Deployment): Record<string, unknown> {
  const e = d.ecs;
  if (!e)
    return {
      Functions: d.functions.map((f) => ({
        FunctionName: f.functionName,
        Alias: f.alias,
        CurrentVersion: f.currentVersion,
        TargetVersion: f.targetVersion,
      })),
    };
  return {
    EcsService: {
      Cluster: e.clusterName,
      Service: e.serviceName,
      TaskDefinition: e.taskDefinition,
      ...(e.blueTaskSetId ? { OriginalTaskSet: e.blueTaskSetId } : {}),
      ...(e.greenTaskSetId ? { ReplacementTaskSet: e.greenTaskSetId } : {}),
      ...(e.greenTargetGroupArn ? { ReplacementTargetGroupArn: e.greenTargetGroupArn } : {}),
      ...(e.testListenerArns?.[0] ? { TestListenerArn: e.testListenerArns[0] } : {}),
      ...(e.prodListenerArns?.[0] ? { ProdListenerArn: e.prodListenerArns[0] } : {}),
    },
  };
}

/** A hook's own answer (return value or webhook body) completes its wait like a callback would. */
async function answered(deps: Deps, hookExecutionId: string, answer: HookAnswer): Promise<void> {
  const h = await deps.store.getHookExecution(hookExecutionId);
  if (!h || h.status !== 'InProgress') return; // it already reported through the callback
  if (answer.status === 'InProgress') {
    await note(
      deps,
      h.deploymentId,
      'HookInProgress',
      `${h.lifecycleEventName} hook is still working; invoking it again in ${answer.retryAfterSeconds} s`,
    );
    await deps.tokens.succeed(h.taskToken, answer);
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

export const invokeHook = defineTask('invokeHook', InvokeHookInput, invoke);

/**
 * The hook did not report before its timeout: record it and refuse late reports; then continue or
 * fail with HookTimedOutError, per the group's timeout action for this lifecycle event.
 */
async function timedOut(deps: Deps, deploymentId: string, event: HookEvent): Promise<{ status: 'TimedOut' }> {
  const d = await loadDeployment(deps, deploymentId);
  const group = await loadGroup(deps, d);
  const { timeoutSeconds, timeoutAction } = hookSettings(group, event);
  const lifecycle = d.lifecycleEvents.find((e) => e.lifecycleEventName === event);
  if (lifecycle?.hookExecutionId) await deps.store.completeHookExecution(lifecycle.hookExecutionId, 'Failed');
  const message = `The ${event} hook did not report a status (PutLifecycleEventHookExecutionStatus) within ${timeoutSeconds} s`;
  await mutateDeployment(deps, deploymentId, (cur) => ({
    lifecycleEvents: withLifecycle(cur.lifecycleEvents, event, {
      status: 'Failed',
      endTime: deps.clock.now().toISOString(),
      diagnostics: { errorCode: 'ScriptTimedOut', message },
    }),
    currentWait: undefined,
  }));
  if (timeoutAction === 'rollback') throw new HookTimedOutError(message);
  await note(deps, deploymentId, 'HookTimedOut', `${message}; continuing (timeoutAction: continue)`);
  return { status: 'TimedOut' };
}

export const hookTimedOut = defineTask(
  'hookTimedOut',
  z.object({ deploymentId: z.string().min(1), lifecycleEventName: z.enum(ECS_HOOK_EVENTS) }),
  (input, deps) => timedOut(deps, input.deploymentId, input.lifecycleEventName),
);

const StatusInput = z.object({
  deploymentId: z.string().optional(),
  lifecycleEventHookExecutionId: z.string().optional(),
  status: z.string().optional(),
});

async function report(
  input: z.infer<typeof StatusInput>,
  deps: Deps,
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
  const h = await deps.store.getHookExecution(input.lifecycleEventHookExecutionId);
  // An unknown id and an id of another deployment look the same to the caller: the id is the credential.
  if (!h || h.deploymentId !== input.deploymentId) {
    throw new ApiError(
      'InvalidLifecycleEventHookExecutionIdException',
      'No such lifecycle event hook execution for this deployment',
    );
  }
  // A lifecycle event that already ended (timed out, or the deployment stopped) takes no report.
  const d = await loadDeployment(deps, h.deploymentId);
  const event = d.lifecycleEvents.find((e) => e.lifecycleEventName === h.lifecycleEventName);
  const alreadyCompleted = new ApiError(
    'LifecycleEventAlreadyCompletedException',
    `The ${h.lifecycleEventName} lifecycle event has already completed`,
  );
  if (event?.status !== 'InProgress' || event.hookExecutionId !== h.hookExecutionId) throw alreadyCompleted;
  if (!(await deps.store.completeHookExecution(h.hookExecutionId, status))) throw alreadyCompleted;
  const now = deps.clock.now().toISOString();
  const setStatus = (st: 'Succeeded' | 'Failed', message?: string) =>
    mutateDeployment(deps, h.deploymentId, (cur) => ({
      lifecycleEvents: withLifecycle(cur.lifecycleEvents, h.lifecycleEventName, {
        status: st,
        endTime: now,
        ...(message ? { diagnostics: { errorCode: 'ScriptFailed', message } } : {}),
      }),
      ...(cur.currentWait?.token === h.taskToken ? { currentWait: undefined } : {}),
    }));
  // Record first, then release the execution, so the record is never behind the state machine.
  await setStatus(status, status === 'Failed' ? 'The hook reported Failed' : undefined);
  await note(deps, h.deploymentId, 'HookReported', `${h.lifecycleEventName} hook reported ${status}`, {
    lifecycleEventName: h.lifecycleEventName,
    status,
  });
  const delivered =
    status === 'Succeeded'
      ? await deps.tokens.succeed(h.taskToken, { status })
      : await deps.tokens.fail(h.taskToken, 'HookFailedError', `The ${h.lifecycleEventName} hook reported Failed`);
  if (!delivered) {
    await setStatus('Failed', 'The report arrived after the lifecycle event had timed out');
    throw alreadyCompleted;
  }
  return { lifecycleEventHookExecutionId: h.hookExecutionId };
}

/** CodeDeploy's PutLifecycleEventHookExecutionStatus. */
export const putLifecycleEventHookExecutionStatus = defineTask(
  'putLifecycleEventHookExecutionStatus',
  StatusInput,
  report,
);
