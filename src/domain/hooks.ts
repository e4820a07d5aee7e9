/** Lifecycle hook rules: settings per event, what a hook's answer means, webhook signatures. Pure. */
import { createHmac } from 'node:crypto';
import { isWebhookTarget } from './hook-targets.js';
import type { DeploymentGroup } from './model.js';

export const DEFAULT_RETRY_AFTER_SECONDS = 30;
export const MAX_RETRY_AFTER_SECONDS = 3600;
export const SIGNATURE_HEADER = 'X-Cutover-Signature';

export function hookSettings(
  group: Pick<DeploymentGroup, 'hookTimeoutSeconds' | 'hookConfiguration'>,
  event: string,
): { timeoutSeconds: number; timeoutAction: 'rollback' | 'continue' } {
  const s = group.hookConfiguration?.[event];
  return {
    timeoutSeconds: Math.max(1, Math.round(s?.timeoutSeconds ?? group.hookTimeoutSeconds)),
    timeoutAction: s?.timeoutAction ?? 'rollback',
  };
}

export type HookAnswer = { status: 'Succeeded' | 'Failed' } | { status: 'InProgress'; retryAfterSeconds: number };

/**
 * What a hook's return value (or webhook response body) says. `undefined` when it says nothing
 * about status: a CodeDeploy-style hook that reports through PutLifecycleEventHookExecutionStatus.
 */
export function interpretHookAnswer(value: unknown): HookAnswer | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { status, retryAfterSeconds } = value as { status?: unknown; retryAfterSeconds?: unknown };
  if (status === 'Succeeded' || status === 'Failed') return { status };
  if (status === 'InProgress') {
    const n =
      typeof retryAfterSeconds === 'number' && Number.isFinite(retryAfterSeconds)
        ? Math.round(retryAfterSeconds)
        : DEFAULT_RETRY_AFTER_SECONDS;
    return { status: 'InProgress', retryAfterSeconds: Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, n)) };
  }
  return undefined;
}

export const isWebhook = isWebhookTarget;

/**
 * The X-Cutover-Signature value for a request sent at `unixSeconds`: `t=<unixSeconds>,v1=<hex
 * HMAC-SHA256 of "<unixSeconds>.<body>">`. The timestamp is signed with the body, so a receiver
 * that refuses old timestamps refuses replays (docs/hooks.md has the check and a verifier).
 */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const t = Math.floor(unixSeconds);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex')}`;
}

/** A hook target fit for logs and records: a webhook URL without its query string or credentials. */
export function describeHookTarget(target: string): string {
  if (!isWebhook(target)) return target;
  try {
    const u = new URL(target);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'webhook';
  }
}
