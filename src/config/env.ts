/**
 * Environment, parsed once at the edge. The only place that reads process.env (with src/wiring
 * passing it in); tasks receive typed values.
 */
import { z } from 'zod';
import { InvalidInputError } from '../domain/errors.js';

const AwsEnvSchema = z.object({
  CUTOVER_TABLE: z.string().min(3, 'the DynamoDB table name is required'),
  CUTOVER_STATE_MACHINE_ARN: z.string().startsWith('arn:', 'must be the deployment state machine ARN'),
  CUTOVER_EVENT_SOURCE: z.string().min(1).default('cutover'),
  CUTOVER_EVENT_BUS: z.string().min(1).default('default'),
  CUTOVER_REVISION_PREFIX: z.string().default('revisions'),
  AWS_REGION: z.string().min(1, 'AWS_REGION is set by Lambda'),
  CUTOVER_ACCOUNT_ID: z
    .string()
    .regex(/^\d{12}$/, 'must be the 12-digit account id')
    .optional(),
});
export type AwsEnv = z.infer<typeof AwsEnvSchema>;

export function parseAwsEnv(env: Record<string, string | undefined>): AwsEnv {
  const r = AwsEnvSchema.safeParse(env);
  if (r.success) return r.data;
  throw new InvalidInputError(
    r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
    'InvalidInputException',
    'Invalid environment',
  );
}
