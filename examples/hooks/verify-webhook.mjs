// Receiver-side check of Cutover's webhook signature (docs/hooks.md). Copy it into your receiver;
// it needs only node:crypto. Cutover sends
//
//   X-Cutover-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" under webhookSecret>
//
// Verify against the raw body bytes as received (before any JSON parsing), refuse a timestamp
// outside the window (default 5 minutes either way) so a captured request cannot be replayed later,
// and, to refuse a replay inside the window too, remember the LifecycleEventHookExecutionId of each
// request you accepted for as long as the window (every invocation has a fresh one).
import { createHmac, timingSafeEqual } from 'node:crypto';

export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * @param {string} secret the deployment group's webhookSecret
 * @param {string | undefined} header the X-Cutover-Signature header
 * @param {string | Buffer} rawBody the request body exactly as received
 * @param {{ toleranceSeconds?: number, nowSeconds?: number }} [options]
 * @returns {{ ok: true, timestamp: number } | { ok: false, reason: string }}
 */
export function verifyCutoverSignature(secret, header, rawBody, options = {}) {
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (typeof header !== 'string' || header.length > 512) return { ok: false, reason: 'no signature' };
  let t;
  const v1 = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') t = value;
    else if (key === 'v1') v1.push(value);
  }
  if (t === undefined || !/^\d{1,12}$/.test(t) || v1.length === 0) return { ok: false, reason: 'malformed signature' };
  const timestamp = Number(t);
  if (Math.abs(now - timestamp) > tolerance) return { ok: false, reason: 'timestamp outside the window (replay?)' };
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  const expected = createHmac('sha256', secret)
    .update(Buffer.concat([Buffer.from(`${t}.`, 'utf8'), body]))
    .digest();
  const match = v1.some((hex) => {
    if (!/^[0-9a-f]{64}$/.test(hex)) return false;
    return timingSafeEqual(Buffer.from(hex, 'hex'), expected);
  });
  return match ? { ok: true, timestamp } : { ok: false, reason: 'signature does not match' };
}
