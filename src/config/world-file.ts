/**
 * The local world file (cutover.world.yml): the simulated functions, alarms and hook modules that
 * local mode deploys into, and the applications/deployment groups to create in the local store.
 */
import { z } from 'zod';
import { parseDocument } from '../domain/appspec.js';
import { InvalidInputError } from '../domain/errors.js';

const Version = z.object({ errorRate: z.number().min(0, 'must be 0..1').max(1, 'must be 0..1').default(0) });
const Fn = z.object({
  name: z.string().min(1),
  versions: z.record(z.string().regex(/^[1-9][0-9]*$/, 'version numbers only'), Version.default({ errorRate: 0 })),
  aliases: z.record(z.string().min(1), z.string().regex(/^[1-9][0-9]*$/, 'must name a version')),
  requestsPerSecond: z.number().positive().default(50),
});
const Alarm = z.object({
  name: z.string().min(1),
  function: z.string().min(1),
  alias: z.string().min(1),
  metric: z.enum(['ErrorRate', 'Errors']).default('ErrorRate'),
  threshold: z.number(),
  periodSeconds: z.number().int().min(10).default(60),
  evaluationPeriods: z.number().int().min(1).default(1),
});
const Group = z.object({
  name: z.string().min(1),
  deploymentConfigName: z.string().optional(),
  alarms: z.array(z.string()).default([]),
  ignorePollAlarmFailure: z.boolean().default(false),
  baselineMode: z.enum(['failOnAlarmAtStart', 'ignoreAlarmsAlreadyFiring']).optional(),
  hookTimeoutSeconds: z.number().int().positive().optional(),
  autoRollbackConfiguration: z.object({ enabled: z.boolean(), events: z.array(z.string()) }).optional(),
  triggerConfigurations: z.array(z.unknown()).optional(),
});
export const WorldFileSchema = z.object({
  functions: z.array(Fn).default([]),
  alarms: z.array(Alarm).default([]),
  /** Hook function name → path of a JS/TS module (relative to the world file) exporting `handler`. */
  hooks: z.record(z.string(), z.string()).default({}),
  applications: z.array(z.object({ name: z.string().min(1), deploymentGroups: z.array(Group).default([]) })).default([]),
});
export type WorldFile = z.infer<typeof WorldFileSchema>;

/** Parse a world file's text; every problem is reported with its path. */
export function parseWorldFile(text: string): WorldFile {
  const doc = parseDocument(text, 'World file');
  const r = WorldFileSchema.safeParse(doc);
  if (!r.success) {
    throw new InvalidInputError(
      r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
      'InvalidInputException',
      'Invalid world file',
    );
  }
  const issues = [];
  const fnNames = new Set(r.data.functions.map((f) => f.name));
  for (const [i, f] of r.data.functions.entries()) {
    for (const [alias, v] of Object.entries(f.aliases)) {
      if (!(v in f.versions)) issues.push({ path: `functions.${i}.aliases.${alias}`, message: `version ${v} is not in versions` });
    }
  }
  for (const [i, a] of r.data.alarms.entries()) {
    if (!fnNames.has(a.function)) issues.push({ path: `alarms.${i}.function`, message: `no function named ${a.function}` });
  }
  if (issues.length) throw new InvalidInputError(issues, 'InvalidInputException', 'Invalid world file');
  return r.data;
}
