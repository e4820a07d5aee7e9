/**
 * The `api` and `hookCallback` functions: CodeDeploy's JSON 1.1 protocol behind API Gateway, or
 * `{operation, input}` when invoked directly (src/api/gateway.ts).
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { handleApiEvent, type ApiEvent } from '../api/gateway.js';
import { handleHookCallback, type HookCallbackDeps } from '../api/hook-callback.js';
import type { putLifecycleEventHookExecutionStatus } from '../tasks/hooks.js';
import { allDeps, buildDeps, type FactoriesFor } from './aws.js';

type HookCallbackUses = typeof putLifecycleEventHookExecutionStatus.uses;

export function apiHandler() {
  return middy<ApiEvent, unknown, Error, Context>().handler(async (event, context) =>
    handleApiEvent(event, allDeps(context)),
  );
}

/** The `/hooks` route: PutLifecycleEventHookExecutionStatus only, with only the ports it uses. */
export function hookCallbackHandler(factories: FactoriesFor<HookCallbackUses>) {
  let deps: HookCallbackDeps | undefined;
  return middy<ApiEvent, unknown, Error, Context>().handler(async (event, context) =>
    handleHookCallback(event, (deps ??= buildDeps(factories, context))),
  );
}
