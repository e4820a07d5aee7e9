/**
 * Environment, parsed once at the edge. The only place that reads process.env (with src/wiring
 * passing it in); tasks receive typed values.
 */
import * as z from 'zod/mini';
import { InvalidInputError } from '../domain/errors.js';
import { zodIssues } from './issues.js';

const AwsEnvSchema = z.object({
  CUTOVER_TABLE: z.string().check(z.minLength(3, 'the DynamoDB table name is required')),
  CUTOVER_STATE_MACHINE_ARN: z.string().check(z.startsWith('arn:', 'must be the deployment state machine ARN')),
  CUTOVER_EVENT_SOURCE: z._default(z.string().check(z.minLength(1)), 'cutover'),
  CUTOVER_EVENT_BUS: z._default(z.string().check(z.minLength(1)), 'default'),
  CUTOVER_REVISION_PREFIX: z._default(z.string(), 'revisions'),
  AWS_REGION: z.string().check(z.minLength(1, 'AWS_REGION is set by Lambda')),
  // How long a rollback keeps retrying a target it cannot restore before it reports ROLLBACK_FAILED.
  // Capped below what the state machine's persistent retries last (about an hour).
  CUTOVER_ROLLBACK_DEADLINE_SECONDS: z._default(
    z.coerce
      .number()
      .check(
        z.int('must be a whole number of seconds'),
        z.gte(60, 'must be at least 60'),
        z.lte(3000, 'must be at most 3000'),
      ),
    900,
  ),
  // The stack's hookFunctions parameter: the Lambda functions its role may invoke as hooks
  // (comma-separated name patterns), so a hook outside them is refused with a clear error.
  CUTOVER_HOOK_FUNCTIONS: z._default(z.string(), 'CodeDeployHook_*'),
  // Where webhook secrets live in Parameter Store (the stack sets /cutover/<stage>/webhook-secrets; its
  // roles may touch only parameters under it) and the KMS key that encrypts them ('' or unset: aws/ssm).
  CUTOVER_SECRETS_PREFIX: z._default(
    z
      .string()
      .check(z.regex(/^(\/[A-Za-z0-9_.-]+)+$/, 'must be a parameter path such as /cutover/prod/webhook-secrets')),
    '/cutover/webhook-secrets',
  ),
  CUTOVER_SECRETS_KMS_KEY: z._default(z.string(), ''),
  CUTOVER_ACCOUNT_ID: z.optional(z.string().check(z.regex(/^\d{12}$/, 'must be the 12-digit account id'))),
});
export type AwsEnv = z.infer<typeof AwsEnvSchema>;

/** `a, b ,c` → ['a', 'b', 'c'] (the comma-separated name patterns of CUTOVER_HOOK_FUNCTIONS). */
export const patternList = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function parseAwsEnv(env: Record<string, string | undefined>): AwsEnv {
  const r = AwsEnvSchema.safeParse(env);
  if (r.success) return r.data;
  throw new InvalidInputError(zodIssues(r.error.issues), 'InvalidInputException', 'Invalid environment');
}
