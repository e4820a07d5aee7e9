/**
 * The ECS AppSpec: one AWS::ECS::Service resource (TaskDefinition, LoadBalancerInfo, PlatformVersion,
 * NetworkConfiguration, CapacityProviderStrategy) and the five ECS hooks. Every problem at once.
 */
import {
  asText,
  checkVersion,
  field,
  isObj,
  parseDocument,
  parseHooks,
  requirePlatform,
  type Obj,
} from '../../domain/appspec.js';
import { InvalidInputError, type Issue } from '../../domain/errors.js';
import type { EcsTarget, TaskSetFields } from './model.js';

/** ECS hooks, in the order they run. */
export const ECS_HOOK_EVENTS = [
  'BeforeInstall',
  'AfterInstall',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
] as const;
export type EcsHookEvent = (typeof ECS_HOOK_EVENTS)[number];

/** What an ECS AppSpec says: the service's new task definition and how to run it, and the hooks. */
export interface EcsAppSpec {
  target: TaskSetFields;
  hooks: Partial<Record<EcsHookEvent, string>>;
}

const TASK_DEFINITION_RE =
  /^(arn:aws[a-zA-Z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/)?[A-Za-z0-9_-]{1,255}:[1-9][0-9]*$/;
const CONTAINER_NAME_RE = /^[A-Za-z0-9_-]{1,255}$/;

/** Parse and validate an ECS AppSpec (one AWS::ECS::Service target). Throws InvalidInputError listing every problem. */
export function parseEcsAppSpec(text: string): EcsAppSpec {
  const doc = parseDocument(text);
  requirePlatform(doc, 'ECS');
  if (!isObj(doc)) {
    throw new InvalidInputError(
      [{ path: '', message: 'must be a mapping with version, Resources and Hooks' }],
      'InvalidRevisionException',
    );
  }
  const issues: Issue[] = [];
  checkVersion(doc, issues);
  let target: EcsAppSpec['target'] | undefined;
  const resources = field(doc, 'Resources');
  if (!resources) issues.push({ path: 'Resources', message: 'required (a list with one AWS::ECS::Service)' });
  else if (!Array.isArray(resources.value) || resources.value.length !== 1) {
    issues.push({
      path: resources.key,
      message: 'must be a list with exactly one resource (the AWS::ECS::Service to deploy)',
    });
  } else {
    target = ecsTarget(resources.value[0], `${resources.key}[0]`, issues);
  }
  const hooks = parseHooks(doc, ECS_HOOK_EVENTS, 'ECS', issues);
  if (issues.length > 0 || !target) throw new InvalidInputError(issues, 'InvalidRevisionException', 'Invalid AppSpec');
  return { target, hooks };
}

function ecsTarget(entry: unknown, at: string, issues: Issue[]): EcsAppSpec['target'] | undefined {
  if (!isObj(entry) || Object.keys(entry).length !== 1) {
    issues.push({
      path: at,
      message: 'must be a mapping with exactly one logical name, e.g. "- TargetService: {Type, Properties}"',
    });
    return undefined;
  }
  const [logicalName, body] = Object.entries(entry)[0] as [string, unknown];
  const rat = `${at}.${logicalName}`;
  if (!isObj(body)) {
    issues.push({ path: rat, message: 'must be a mapping with Type and Properties' });
    return undefined;
  }
  const type = field(body, 'Type');
  if (!type) issues.push({ path: `${rat}.Type`, message: 'required (AWS::ECS::Service)' });
  else if (type.value !== 'AWS::ECS::Service')
    issues.push({
      path: `${rat}.${type.key}`,
      message: `must be AWS::ECS::Service, got ${JSON.stringify(type.value)}`,
    });
  const props = field(body, 'Properties');
  if (!props || !isObj(props.value)) {
    issues.push({ path: `${rat}.Properties`, message: props ? 'must be a mapping' : 'required' });
    return undefined;
  }
  const pat = `${rat}.${props.key}`;
  const p = props.value;
  const before = issues.length;

  const td = field(p, 'TaskDefinition');
  const taskDefinition = td ? asText(td.value) : undefined;
  if (!td) issues.push({ path: `${pat}.TaskDefinition`, message: 'required (a task definition ARN)' });
  else if (!taskDefinition || !TASK_DEFINITION_RE.test(taskDefinition)) {
    issues.push({
      path: `${pat}.${td.key}`,
      message: `${JSON.stringify(td.value)} is not a task definition ARN (arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>) or family:revision`,
    });
  }

  let containerName: string | undefined;
  let containerPort: number | undefined;
  const lb = field(p, 'LoadBalancerInfo');
  if (!lb) issues.push({ path: `${pat}.LoadBalancerInfo`, message: 'required (ContainerName and ContainerPort)' });
  else if (!isObj(lb.value))
    issues.push({ path: `${pat}.${lb.key}`, message: 'must be a mapping with ContainerName and ContainerPort' });
  else {
    const lat = `${pat}.${lb.key}`;
    const cn = field(lb.value, 'ContainerName');
    containerName = cn ? asText(cn.value) : undefined;
    if (!cn) issues.push({ path: `${lat}.ContainerName`, message: 'required' });
    else if (!containerName || !CONTAINER_NAME_RE.test(containerName))
      issues.push({ path: `${lat}.${cn.key}`, message: 'must be a container name from the task definition' });
    const cp = field(lb.value, 'ContainerPort');
    containerPort =
      typeof cp?.value === 'number'
        ? cp.value
        : typeof cp?.value === 'string' && /^\d+$/.test(cp.value)
          ? Number(cp.value)
          : undefined;
    if (!cp) issues.push({ path: `${lat}.ContainerPort`, message: 'required' });
    else if (
      containerPort === undefined ||
      !Number.isInteger(containerPort) ||
      containerPort < 1 ||
      containerPort > 65535
    ) {
      issues.push({
        path: `${lat}.${cp.key}`,
        message: `must be a port number 1-65535, got ${JSON.stringify(cp.value)}`,
      });
    }
  }

  const pv = field(p, 'PlatformVersion');
  const platformVersion = pv ? asText(pv.value) : undefined;
  if (pv && !platformVersion)
    issues.push({ path: `${pat}.${pv.key}`, message: 'must be a Fargate platform version such as LATEST or 1.4.0' });

  const networkConfiguration = ecsNetwork(p, pat, issues);
  const capacityProviderStrategy = ecsCapacity(p, pat, issues);
  if (issues.length > before || !taskDefinition || !containerName || containerPort === undefined) return undefined;
  return {
    taskDefinition,
    containerName,
    containerPort,
    ...(platformVersion ? { platformVersion } : {}),
    ...(networkConfiguration ? { networkConfiguration } : {}),
    ...(capacityProviderStrategy ? { capacityProviderStrategy } : {}),
  };
}

function stringList(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.map(asText);
  return out.every((x): x is string => typeof x === 'string' && x !== '') ? out : undefined;
}

function ecsNetwork(p: Obj, pat: string, issues: Issue[]): EcsTarget['networkConfiguration'] {
  const nc = field(p, 'NetworkConfiguration');
  if (!nc) return undefined;
  const nat = `${pat}.${nc.key}`;
  const awsvpc = isObj(nc.value) ? field(nc.value, 'AwsvpcConfiguration') : undefined;
  if (!awsvpc || !isObj(awsvpc.value)) {
    issues.push({
      path: awsvpc ? `${nat}.${awsvpc.key}` : `${nat}.AwsvpcConfiguration`,
      message: 'required: a mapping with Subnets, SecurityGroups and AssignPublicIp',
    });
    return undefined;
  }
  const vat = `${nat}.${awsvpc.key}`;
  const v = awsvpc.value;
  const sn = field(v, 'Subnets');
  const subnets = sn ? stringList(sn.value) : undefined;
  if (!subnets || subnets.length === 0 || subnets.length > 16)
    issues.push({ path: `${vat}.${sn?.key ?? 'Subnets'}`, message: 'required: a list of 1-16 subnet ids' });
  const sg = field(v, 'SecurityGroups');
  const securityGroups = sg ? stringList(sg.value) : undefined;
  if (sg && (!securityGroups || securityGroups.length > 5))
    issues.push({ path: `${vat}.${sg.key}`, message: 'must be a list of at most 5 security group ids' });
  const ip = field(v, 'AssignPublicIp');
  const assignPublicIp = ip ? asText(ip.value) : undefined;
  if (ip && assignPublicIp !== 'ENABLED' && assignPublicIp !== 'DISABLED')
    issues.push({ path: `${vat}.${ip.key}`, message: `must be ENABLED or DISABLED, got ${JSON.stringify(ip.value)}` });
  if (!subnets) return undefined;
  return {
    awsvpcConfiguration: {
      subnets,
      ...(securityGroups ? { securityGroups } : {}),
      ...(assignPublicIp === 'ENABLED' || assignPublicIp === 'DISABLED' ? { assignPublicIp } : {}),
    },
  };
}

function ecsCapacity(p: Obj, pat: string, issues: Issue[]): EcsTarget['capacityProviderStrategy'] {
  const cps = field(p, 'CapacityProviderStrategy');
  if (!cps) return undefined;
  const cat = `${pat}.${cps.key}`;
  if (!Array.isArray(cps.value) || cps.value.length === 0 || cps.value.length > 20) {
    issues.push({ path: cat, message: 'must be a list of 1-20 {CapacityProvider, Base, Weight}' });
    return undefined;
  }
  const out: NonNullable<EcsTarget['capacityProviderStrategy']> = [];
  let withBase = 0;
  cps.value.forEach((e, i) => {
    const at = `${cat}[${i}]`;
    if (!isObj(e))
      return void issues.push({ path: at, message: 'must be a mapping with CapacityProvider, Base and Weight' });
    const cp = field(e, 'CapacityProvider');
    const name = cp ? asText(cp.value) : undefined;
    if (!name) issues.push({ path: `${at}.CapacityProvider`, message: 'required (e.g. FARGATE or FARGATE_SPOT)' });
    const num = (key: string, max: number): number | undefined => {
      const f = field(e, key);
      if (!f) return undefined;
      if (typeof f.value !== 'number' || !Number.isInteger(f.value) || f.value < 0 || f.value > max) {
        issues.push({ path: `${at}.${f.key}`, message: `must be an integer 0-${max}` });
        return undefined;
      }
      return f.value;
    };
    const base = num('Base', 100000);
    const weight = num('Weight', 1000);
    if (base) withBase++;
    if (name)
      out.push({
        capacityProvider: name,
        ...(base !== undefined ? { base } : {}),
        ...(weight !== undefined ? { weight } : {}),
      });
  });
  if (withBase > 1) issues.push({ path: cat, message: 'only one capacity provider may set a Base' });
  return out;
}
