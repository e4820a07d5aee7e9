/**
 * The `hookCallback` function: the `/hooks` route, PutLifecycleEventHookExecutionStatus only. Kept
 * apart from aws-api.ts so that its bundle holds only the callback task and the ports it uses (the
 * API's operation table pulls in every task).
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ApiEvent } from '../api/gateway.js';
import { handleHookCallback, type HookCallbackDeps } from '../api/hook-callback.js';
import type { putLifecycleEventHookExecutionStatus } from '../tasks/hooks.js';
import { buildDeps, type FactoriesFor } from './aws.js';

type HookCallbackUses = typeof putLifecycleEventHookExecutionStatus.uses;

/** The handler, over the factories of only the ports the callback uses. */
export function hookCallbackHandler(factories: FactoriesFor<HookCallbackUses>) {
  let deps: HookCallbackDeps | undefined;
  return middy<ApiEvent, unknown, Error, Context>().handler(async (event, context) =>
    handleHookCallback(event, (deps ??= buildDeps(factories, context))),
  );
}
