/**
 * The `api` function: CodeDeploy's JSON 1.1 protocol behind API Gateway, or `{operation, input}`
 * when invoked directly (src/api/gateway.ts). The `/hooks` route is aws-hook-callback.ts.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { handleApiEvent, type ApiEvent } from '../api/gateway.js';
import { allDeps } from './aws.js';

export function apiHandler() {
  return middy<ApiEvent, unknown, Error, Context>().handler(async (event, context) =>
    handleApiEvent(event, allDeps(context)),
  );
}
