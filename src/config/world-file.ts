/**
 * The local world file (cutover.world.yml): the simulated functions, ECS services and load
 * balancers, alarms and hook modules that local mode deploys into, and the applications/deployment
 * groups to create in the local store.
 *
 * `servers` declares the hosts of Server (EC2/on-premises in-place) deployments:
 *
 * ```yaml
 * servers:
 *   hosts:                     # each one a real `cutover agent` process on this machine
 *     - id: i-0000000000000001 # a simulated EC2 instance: its agent signs as its instance role session
 *       tags: { Role: web, Name: web-1 }
 *   targetGroups:              # simulated ELB target groups; their health check asks the host's agent
 *     - name: web-tg
 *       targets: [i-0000000000000001]
 * applications:
 *   - name: fleet
 *     computePlatform: Server
 *     deploymentGroups:
 *       - name: web
 *         ec2TagFilters: [{ Key: Role, Value: web, Type: KEY_AND_VALUE }]
 *         loadBalancerTargetGroups: [web-tg]   # WITH_TRAFFIC_CONTROL: BlockTraffic/AllowTraffic
 * ```
 *
 * `cutover server`, `cutover demo server` and `deploy` start one agent per host (its own credentials,
 * its own root and filesystem under `<state folder>/hosts/<id>/`, the AppSpec's absolute destinations
 * installed under that filesystem: `--destination-root`), stop them on exit, and restart none. A
 * session with hosts runs on real time (`--speed` is 1): real scripts take real time, and the fleet's
 * deadlines must not pass faster than they do.
 */
import { z } from 'zod';
import { parseDocument } from '../domain/appspec.js';
import { NLB_PROTOCOLS } from '../platforms/ecs/domain.js';
import { InvalidInputError, type Issue } from '../domain/errors.js';
import { zodIssues } from './issues.js';
import { LocalFileError, readLocalFile } from './local-file.js';

const Version = z.strictObject({ errorRate: z.number().min(0, 'must be 0..1').max(1, 'must be 0..1').default(0) });
const Fn = z.strictObject({
  name: z.string().min(1),
  versions: z.record(z.string().regex(/^[1-9][0-9]*$/, 'version numbers only'), Version.default({ errorRate: 0 })),
  aliases: z.record(z.string().min(1), z.string().regex(/^[1-9][0-9]*$/, 'must name a version')),
  requestsPerSecond: z.number().positive().default(50),
});
const TaskDefinition = z.strictObject({
  errorRate: z.number().min(0, 'must be 0..1').max(1, 'must be 0..1').default(0),
  steadyAfterSeconds: z
    .union([z.number().min(0), z.literal('never')], { message: 'seconds (a number) or never' })
    .default(20),
});
const NAME = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9-]+$/, 'letters, digits and - only');
const Listener = z.strictObject({
  name: NAME,
  port: z.number().int().min(1).max(65535),
  protocol: z.enum(['HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP', 'TCP_UDP']).optional(),
  /** The target group its default action forwards to. */
  forwardTo: z.string().min(1),
  requestsPerSecond: z.number().min(0).default(10),
});
const LoadBalancer = z.strictObject({
  name: NAME,
  type: z.enum(['application', 'network']).default('application'),
  targetGroups: z.array(NAME).default([]),
  listeners: z.array(Listener).default([]),
});
const Service = z.strictObject({
  cluster: z.string().min(1),
  name: z.string().min(1),
  desiredCount: z.number().int().min(0).default(1),
  /** Its first (PRIMARY, steady) task set: this task definition on this target group. */
  taskDefinition: z.string().min(1),
  targetGroup: z.string().min(1),
  deploymentController: z.enum(['EXTERNAL', 'ECS', 'CODE_DEPLOY']).default('EXTERNAL'),
});
const Ecs = z.strictObject({
  taskDefinitions: z
    .record(
      z.string().regex(/^[A-Za-z0-9_-]+:[1-9][0-9]*$/, 'must be family:revision, e.g. web:2'),
      TaskDefinition.default({ errorRate: 0, steadyAfterSeconds: 20 }),
    )
    .default({}),
  loadBalancers: z.array(LoadBalancer).default([]),
  services: z.array(Service).default([]),
});
const Alarm = z
  .object({
    name: z.string().min(1),
    /**
     * What it watches: a Lambda alias (function and alias), a target group, or a listener
     * (`<loadBalancer>/<listener>`).
     */
    function: z.string().min(1).optional(),
    alias: z.string().min(1).optional(),
    targetGroup: z.string().min(1).optional(),
    listener: z.string().min(1).optional(),
    metric: z.enum(['ErrorRate', 'Errors']).default('ErrorRate'),
    threshold: z.number(),
    periodSeconds: z.number().int().min(10).default(60),
    evaluationPeriods: z.number().int().min(1).default(1),
  })
  .check((ctx) => {
    const a = ctx.value;
    const sources = [
      a.function !== undefined || a.alias !== undefined,
      a.targetGroup !== undefined,
      a.listener !== undefined,
    ].filter(Boolean).length;
    if (sources !== 1)
      ctx.issues.push({ code: 'custom', input: a, message: 'needs one of: function and alias, targetGroup, listener' });
    else if ((a.function === undefined) !== (a.alias === undefined))
      ctx.issues.push({
        code: 'custom',
        input: a,
        path: [a.function === undefined ? 'function' : 'alias'],
        message: 'required with ' + (a.function === undefined ? 'alias' : 'function'),
      });
  });
const INSTANCE_ID = z.string().regex(/^i-[0-9a-f]{8,17}$/, 'an EC2 instance id such as i-0000000000000001');
const Host = z.strictObject({
  id: INSTANCE_ID,
  tags: z.record(z.string().min(1), z.string()).default({}),
  availabilityZone: z.string().min(1).optional(),
});
const InstanceTargetGroup = z.strictObject({
  name: NAME,
  /** Seconds a newly registered host is `initial` before its health check counts. */
  healthyAfterSeconds: z.number().min(0).default(2),
  /** Seconds a deregistered host is `draining`. */
  deregistrationDelaySeconds: z.number().min(0).default(1),
  /** Hosts registered at the start. */
  targets: z.array(INSTANCE_ID).default([]),
});
const Servers = z.strictObject({
  hosts: z.array(Host).default([]),
  targetGroups: z.array(InstanceTargetGroup).default([]),
});
const TagFilter = z.strictObject({
  Key: z.string().optional(),
  Value: z.string().optional(),
  Type: z.enum(['KEY_ONLY', 'VALUE_ONLY', 'KEY_AND_VALUE']).optional(),
});
const Group = z.strictObject({
  name: z.string().min(1),
  deploymentConfigName: z.string().optional(),
  alarms: z.array(z.string()).default([]),
  ignorePollAlarmFailure: z.boolean().default(false),
  baselineMode: z.enum(['failOnAlarmAtStart', 'ignoreAlarmsAlreadyFiring']).optional(),
  hookTimeoutSeconds: z.number().int().positive().optional(),
  autoRollbackConfiguration: z.strictObject({ enabled: z.boolean(), events: z.array(z.string()) }).optional(),
  triggerConfigurations: z.array(z.unknown()).optional(),
  // ECS groups: the service, its blue/green target groups and the listeners that route to them.
  ecsService: z.strictObject({ cluster: z.string().min(1), service: z.string().min(1) }).optional(),
  targetGroups: z
    .tuple([z.string().min(1), z.string().min(1)], { message: 'two target groups: [blue, green]' })
    .optional(),
  /** `<loadBalancer>/<listener>`. */
  prodListener: z.string().min(1).optional(),
  testListener: z.string().min(1).optional(),
  // Server groups: which hosts (any filter matches), and the target groups they leave and rejoin.
  ec2TagFilters: z.array(TagFilter).optional(),
  loadBalancerTargetGroups: z.array(NAME).optional(),
  blueGreenDeploymentConfiguration: z
    .object({
      terminateBlueInstancesOnDeploymentSuccess: z
        .object({
          action: z.enum(['TERMINATE', 'KEEP_ALIVE']),
          terminationWaitTimeInMinutes: z.number().int().min(0).optional(),
        })
        .optional(),
      deploymentReadyOption: z
        .object({
          actionOnTimeout: z.enum(['CONTINUE_DEPLOYMENT', 'STOP_DEPLOYMENT']),
          waitTimeInMinutes: z.number().int().min(0).optional(),
        })
        .optional(),
    })
    .optional(),
});
const Application = z
  .object({
    name: z.string().min(1),
    computePlatform: z.enum(['Lambda', 'ECS', 'Server']).optional(),
    deploymentGroups: z.array(Group).default([]),
  })
  // Default: ECS when any of its groups deploys an ECS service.
  .transform((a) => ({
    ...a,
    computePlatform:
      a.computePlatform ??
      (a.deploymentGroups.some((g) => g.ecsService)
        ? 'ECS'
        : a.deploymentGroups.some((g) => g.ec2TagFilters)
          ? 'Server'
          : 'Lambda'),
  }));
export const WorldFileSchema = z.strictObject({
  functions: z.array(Fn).default([]),
  alarms: z.array(Alarm).default([]),
  /** Hook function name → path of a JS/TS module (relative to the world file) exporting `handler`. */
  hooks: z.record(z.string(), z.string()).default({}),
  ecs: Ecs.optional(),
  /** Hosts (real local agents) and instance target groups for Server deployments. */
  servers: Servers.optional(),
  applications: z.array(Application).default([]),
});
export type WorldFile = z.infer<typeof WorldFileSchema>;

/**
 * Names that must be unique in their list (a second one would silently replace or shadow the
 * first), checked on the document as written, so they are reported with the schema's problems.
 */
function duplicateIssues(doc: unknown): Issue[] {
  const issues: Issue[] = [];
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  const field = (v: unknown, k: string): unknown =>
    v !== null && typeof v === 'object' && Object.hasOwn(v, k) ? (v as Record<string, unknown>)[k] : undefined;
  const unique = (
    items: unknown[],
    at: string,
    what: string,
    key: (x: unknown) => unknown = (x) => field(x, 'name'),
  ) => {
    const first = new Map<string, number>();
    items.forEach((x, i) => {
      const k = key(x);
      if (typeof k !== 'string') return;
      const j = first.get(k);
      if (j === undefined) first.set(k, i);
      else issues.push({ path: `${at}.${i}.name`, message: `a second ${what} named ${k} (the first is ${at}.${j})` });
    });
  };
  unique(list(field(doc, 'functions')), 'functions', 'function');
  unique(list(field(doc, 'alarms')), 'alarms', 'alarm');
  const apps = list(field(doc, 'applications'));
  unique(apps, 'applications', 'application');
  apps.forEach((a, i) =>
    unique(list(field(a, 'deploymentGroups')), `applications.${i}.deploymentGroups`, 'deployment group'),
  );
  const ecs = field(doc, 'ecs');
  list(field(ecs, 'loadBalancers')).forEach((lb, i) =>
    unique(list(field(lb, 'listeners')), `ecs.loadBalancers.${i}.listeners`, 'listener'),
  );
  unique(list(field(field(doc, 'servers'), 'targetGroups')), 'servers.targetGroups', 'target group');
  return issues;
}

/** Parse a world file's text; every problem is reported with its path, all at once. */
export function parseWorldFile(text: string): WorldFile {
  const doc = parseDocument(text, 'World file');
  // reportInput: a wrong value ("alarms: nope") is "must be a list", not "required".
  const r = WorldFileSchema.safeParse(doc, { reportInput: true });
  const duplicates = duplicateIssues(doc);
  if (!r.success) {
    throw new InvalidInputError(
      [...zodIssues(r.error.issues), ...duplicates],
      'InvalidInputException',
      'Invalid world file',
    );
  }
  const issues: Issue[] = [...duplicates];
  const fnNames = new Set(r.data.functions.map((f) => f.name));
  for (const [i, f] of r.data.functions.entries()) {
    for (const [alias, v] of Object.entries(f.aliases)) {
      if (!(v in f.versions))
        issues.push({ path: `functions.${i}.aliases.${alias}`, message: `version ${v} is not in versions` });
    }
  }
  const ecs = r.data.ecs;
  const targetGroups = new Set(ecs?.loadBalancers.flatMap((lb) => lb.targetGroups) ?? []);
  const listeners = new Set(ecs?.loadBalancers.flatMap((lb) => lb.listeners.map((l) => `${lb.name}/${l.name}`)) ?? []);
  const services = new Set(ecs?.services.map((s) => `${s.cluster}/${s.name}`) ?? []);
  const checkTargetGroup = (path: string, name: string) => {
    if (!targetGroups.has(name))
      issues.push({ path, message: `no target group named ${name} in ecs.loadBalancers[].targetGroups` });
  };
  const checkListener = (path: string, ref: string) => {
    if (!listeners.has(ref))
      issues.push({ path, message: `no listener ${ref} (write <loadBalancer>/<listener> of ecs.loadBalancers)` });
  };
  if (ecs) ecsIssues(ecs, issues, checkTargetGroup);
  const servers = r.data.servers;
  const hostIds = new Set<string>();
  for (const [i, h] of (servers?.hosts ?? []).entries()) {
    if (hostIds.has(h.id)) issues.push({ path: `servers.hosts.${i}.id`, message: `a second host ${h.id}` });
    hostIds.add(h.id);
  }
  const instanceGroups = new Set(servers?.targetGroups.map((g) => g.name) ?? []);
  for (const [i, g] of (servers?.targetGroups ?? []).entries())
    for (const [j, t] of g.targets.entries())
      if (!hostIds.has(t))
        issues.push({ path: `servers.targetGroups.${i}.targets.${j}`, message: `no host ${t} in servers.hosts` });
  for (const [i, a] of r.data.alarms.entries()) {
    if (a.function !== undefined && !fnNames.has(a.function))
      issues.push({ path: `alarms.${i}.function`, message: `no function named ${a.function}` });
    if (a.targetGroup !== undefined) checkTargetGroup(`alarms.${i}.targetGroup`, a.targetGroup);
    if (a.listener !== undefined) checkListener(`alarms.${i}.listener`, a.listener);
  }
  for (const [i, app] of r.data.applications.entries()) {
    for (const [j, g] of app.deploymentGroups.entries()) {
      const at = `applications.${i}.deploymentGroups.${j}`;
      for (const [k, tg] of (g.loadBalancerTargetGroups ?? []).entries())
        if (!instanceGroups.has(tg))
          issues.push({
            path: `${at}.loadBalancerTargetGroups.${k}`,
            message: `no target group named ${tg} in servers.targetGroups`,
          });
      if ((g.ec2TagFilters || g.loadBalancerTargetGroups) && app.computePlatform !== 'Server')
        issues.push({
          path: `${at}.ec2TagFilters`,
          message: `application ${app.name} is ${app.computePlatform}; a group of hosts needs computePlatform Server`,
        });
      const ecsFields = (
        ['targetGroups', 'prodListener', 'testListener', 'blueGreenDeploymentConfiguration'] as const
      ).filter((k) => g[k] !== undefined);
      if (!g.ecsService) {
        for (const k of ecsFields)
          issues.push({ path: `${at}.${k}`, message: 'applies to ECS groups only (give the group an ecsService)' });
        continue;
      }
      if (app.computePlatform !== 'ECS')
        issues.push({
          path: `${at}.ecsService`,
          message: `application ${app.name} is ${app.computePlatform}; an ECS group needs computePlatform ECS`,
        });
      if (!services.has(`${g.ecsService.cluster}/${g.ecsService.service}`)) {
        issues.push({
          path: `${at}.ecsService`,
          message: `no service ${g.ecsService.service} in cluster ${g.ecsService.cluster} in ecs.services`,
        });
      }
      if (!g.targetGroups)
        issues.push({ path: `${at}.targetGroups`, message: 'required for an ECS group: [blue, green]' });
      else g.targetGroups.forEach((tg, k) => checkTargetGroup(`${at}.targetGroups.${k}`, tg));
      if (!g.prodListener)
        issues.push({ path: `${at}.prodListener`, message: 'required for an ECS group: <loadBalancer>/<listener>' });
      else checkListener(`${at}.prodListener`, g.prodListener);
      if (g.testListener !== undefined) checkListener(`${at}.testListener`, g.testListener);
    }
  }
  if (issues.length) throw new InvalidInputError(issues, 'InvalidInputException', 'Invalid world file');
  return r.data;
}

/** The ECS section's own cross-references: task definitions and target groups its services and listeners name. */
function ecsIssues(
  ecs: z.infer<typeof Ecs>,
  issues: Issue[],
  checkTargetGroup: (path: string, name: string) => void,
): void {
  const lbNames = new Set<string>();
  for (const [i, lb] of ecs.loadBalancers.entries()) {
    if (lbNames.has(lb.name))
      issues.push({ path: `ecs.loadBalancers.${i}.name`, message: `a second load balancer named ${lb.name}` });
    lbNames.add(lb.name);
    for (const [j, l] of lb.listeners.entries()) {
      if (!lb.targetGroups.includes(l.forwardTo))
        issues.push({
          path: `ecs.loadBalancers.${i}.listeners.${j}.forwardTo`,
          message: `no target group named ${l.forwardTo} in this load balancer's targetGroups`,
        });
      const nlbProtocol = (NLB_PROTOCOLS as readonly string[]).includes(l.protocol ?? '');
      if (lb.type === 'application' && nlbProtocol)
        issues.push({
          path: `ecs.loadBalancers.${i}.listeners.${j}.protocol`,
          message: 'an application load balancer listens on HTTP or HTTPS',
        });
      if (lb.type === 'network' && l.protocol !== undefined && !nlbProtocol)
        issues.push({
          path: `ecs.loadBalancers.${i}.listeners.${j}.protocol`,
          message: 'a network load balancer listens on TCP, TLS, UDP or TCP_UDP',
        });
    }
  }
  const seen = new Set<string>();
  for (const [i, s] of ecs.services.entries()) {
    const key = `${s.cluster}/${s.name}`;
    if (seen.has(key))
      issues.push({ path: `ecs.services.${i}.name`, message: `a second service ${s.name} in cluster ${s.cluster}` });
    seen.add(key);
    if (!(s.taskDefinition in ecs.taskDefinitions))
      issues.push({
        path: `ecs.services.${i}.taskDefinition`,
        message: `no task definition ${s.taskDefinition} in ecs.taskDefinitions`,
      });
    checkTargetGroup(`ecs.services.${i}.targetGroup`, s.targetGroup);
  }
}

/** Read and parse a world file: a LocalFileError names the file and lists every problem in it. */
export function loadWorldFile(path: string): WorldFile {
  const text = readLocalFile(path, 'a world file', "run 'cutover init' to write an example");
  try {
    return parseWorldFile(text);
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    throw new LocalFileError(
      path,
      `${e.issues.length === 1 ? 'a problem' : `${e.issues.length} problems`} in this world file`,
      'fix them and run the command again',
      e.issues,
    );
  }
}
