// Types of verify-webhook.mjs (for TypeScript receivers and Cutover's own tests).
export declare const DEFAULT_TOLERANCE_SECONDS: number;
export declare function verifyCutoverSignature(
  secret: string,
  header: string | undefined,
  rawBody: string | Buffer,
  options?: { toleranceSeconds?: number; nowSeconds?: number },
): { ok: true; timestamp: number } | { ok: false; reason: string };
