/**
 * Lifecycle as data: a deployment carries its ordered stages (hooks, engine actions, the traffic
 * loop), and the state machine routes on one descriptor, `Next`, that the tasks compute from them.
 * The ASL has one block per kind, used for every stage of every platform. Pure.
 */
import type { DeploymentGroup, DeploymentSpec, LifecycleEvent, Stage, WaitKind } from './model.js';
import { hookSettings } from './hooks.js';

/**
 * Where the state machine goes next (`$.next`; the Route state switches on `kind`). Every task that
 * ends a piece of work returns one; callbacks (hooks, waits) are completed with one.
 */
export type Next =
  /** Run a lifecycle hook; the wait's timeout is the hook's. */
  | { kind: 'hook'; event: string; timeoutSeconds: number }
  /** The hook answered InProgress: invoke it again after `retryAfterSeconds` (`timeoutSeconds` left). */
  | { kind: 'hookRetry'; event: string; timeoutSeconds: number; retryAfterSeconds: number }
  /** Run (or run again) an engine action of the platform. */
  | { kind: 'action'; action: string }
  /** The action is not done: wait `seconds` (or until a request ends the wait), then run it again. */
  | { kind: 'await'; action: string; wait: WaitKind; seconds: number }
  /** Cross the next step boundary of the traffic loop. */
  | { kind: 'shift' }
  /** Bake at the current weight. */
  | { kind: 'bake'; seconds: number }
  /** Held by an operator (PauseDeployment) for at most `seconds`. */
  | { kind: 'pause'; seconds: number }
  /** Wait for an operator's approval for at most `seconds`. */
  | { kind: 'approve'; seconds: number }
  /** The world does not show the weight yet (not an error): look again after `seconds`. */
  | { kind: 'settle'; seconds: number }
  /** Every stage is done: commit the deployment. */
  | { kind: 'finalize' }
  /** The deployment ended before its execution began (a create that failed recorded it): stop quietly. */
  | { kind: 'ended' };

export type NextKind = Next['kind'];
/** Every kind the Route state dispatches on (the ASL builder checks it has a branch for each). */
export const NEXT_KINDS: readonly NextKind[] = [
  'hook',
  'hookRetry',
  'action',
  'await',
  'shift',
  'bake',
  'pause',
  'approve',
  'settle',
  'finalize',
  'ended',
];

/** The route into `stage` (past the last stage: finalize). */
export function enter(stage: Stage | undefined): Next {
  if (!stage) return { kind: 'finalize' };
  switch (stage.kind) {
    case 'hook':
      return { kind: 'hook', event: stage.name, timeoutSeconds: stage.timeoutSeconds };
    case 'action':
      return { kind: 'action', action: stage.name };
    case 'traffic':
      return { kind: 'shift' };
  }
}

/** The route into the deployment's first stage. */
export const firstStage = (spec: Pick<DeploymentSpec, 'lifecycle'>): Next => enter(spec.lifecycle[0]);

/** The route after the stage named `name` has ended. */
export function afterStage(spec: Pick<DeploymentSpec, 'lifecycle'>, name: string): Next {
  const i = spec.lifecycle.findIndex((s) => s.name === name);
  return enter(i < 0 ? undefined : spec.lifecycle[i + 1]);
}

/** The stage named `name`, if the deployment has it. */
export const stageOf = (spec: Pick<DeploymentSpec, 'lifecycle'>, name: string): Stage | undefined =>
  spec.lifecycle.find((s) => s.name === name);

/**
 * The lifecycle events a new deployment records: every event of the platform, in order, Pending
 * when a stage of the deployment runs it and Skipped when none does (a hook without a function,
 * test traffic without a test listener).
 */
export function initialLifecycleEvents(events: readonly string[], stages: readonly Stage[]): LifecycleEvent[] {
  const runs = new Set(stages.filter((s) => s.kind !== 'action' || s.lifecycleEvent).map((s) => s.name));
  return events.map((name) => ({ lifecycleEventName: name, status: runs.has(name) ? 'Pending' : 'Skipped' }));
}

/** A stage as a platform declares it, before a deployment's hooks are attached. */
export type StageTemplate =
  | { kind: 'hook'; name: string }
  | { kind: 'action'; name: string; lifecycleEvent: boolean }
  | { kind: 'traffic'; name: string };

/**
 * A deployment's stages: the platform's, with each hook stage given its function and the group's
 * timeout settings; a hook stage without a function is left out (its event is Skipped).
 */
export function attachHooks(
  templates: readonly StageTemplate[],
  hooks: Partial<Record<string, string>>,
  group: Pick<DeploymentGroup, 'hookTimeoutSeconds' | 'hookConfiguration'>,
): Stage[] {
  return templates.flatMap((t): Stage[] => {
    if (t.kind !== 'hook') return [t];
    const hook = hooks[t.name];
    if (!hook) return [];
    return [{ kind: 'hook', name: t.name, hook, ...hookSettings(group, t.name) }];
  });
}
