/**
 * Lambda AppSpec parsing (YAML or JSON). Keys are matched case-insensitively because AWS's own
 * material uses both `Resources`/`Name` and `resources`/`name`. Every problem is reported at once,
 * each with its path, e.g. `Resources[0].api.Properties.TargetVersion: required`.
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { InvalidInputError, type Issue } from './errors.js';
import {
  ECS_HOOK_EVENTS,
  LAMBDA_HOOK_EVENTS,
  type EcsHookEvent,
  type EcsTarget,
  type FunctionTarget,
  type LambdaHookEvent,
} from './model.js';

/** AppSpec content larger than this is refused before parsing (input size limit). */
export const MAX_APPSPEC_BYTES = 64 * 1024;

export interface LambdaAppSpec {
  functions: FunctionTarget[];
  hooks: Partial<Record<LambdaHookEvent, string>>;
  /** True when every function already runs its target version: a successful no-op. */
  noop: boolean;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Find a key case-insensitively; returns the key as written and its value. */
function field(obj: Obj, name: string): { key: string; value: unknown } | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) return { key: k, value: v };
  return undefined;
}

/** Parse YAML or JSON text into a plain value, or report where it is malformed. */
export function parseDocument(text: string, what = 'AppSpec'): unknown {
  if (Buffer.byteLength(text, 'utf8') > MAX_APPSPEC_BYTES) {
    throw new InvalidInputError(
      [{ path: '', message: `${what} is larger than ${MAX_APPSPEC_BYTES} bytes` }],
      'InvalidRevisionException',
    );
  }
  const trimmed = text.trim();
  if (trimmed === '')
    throw new InvalidInputError([{ path: '', message: `${what} is empty` }], 'InvalidRevisionException');
  if (trimmed.startsWith('{')) {
    try {
      return JSON.parse(trimmed);
    } catch (e) {
      throw new InvalidInputError(
        [{ path: '', message: `${what} is not valid JSON (${(e as Error).message})` }],
        'InvalidRevisionException',
      );
    }
  }
  try {
    return parseYaml(text, { prettyErrors: true, strict: true, uniqueKeys: true });
  } catch (e) {
    const msg = e instanceof YAMLParseError ? e.message.split('\n')[0] : String(e);
    throw new InvalidInputError(
      [{ path: '', message: `${what} is not valid YAML (${msg})` }],
      'InvalidRevisionException',
    );
  }
}

const VERSION_RE = /^[1-9][0-9]{0,9}$/;
const FUNCTION_NAME_RE = /^(arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[a-zA-Z0-9_-]{1,140}$/;
const WEBHOOK_RE = /^https?:\/\/[^\s/?#]+[^\s]*$/i;
const ALIAS_RE = /^(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}$/;

function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function checkVersion(doc: Obj, issues: Issue[]): void {
  const version = field(doc, 'version');
  if (!version) issues.push({ path: 'version', message: 'required (must be 0.0)' });
  else if (!(version.value === 0 || version.value === '0.0')) {
    issues.push({ path: version.key, message: `must be 0.0, got ${JSON.stringify(version.value)}` });
  }
}

/** The Hooks list: each entry one lifecycle event of `events` naming a function (or webhook URL). */
function parseHooks<E extends string>(
  doc: Obj,
  events: readonly E[],
  platform: string,
  issues: Issue[],
): Partial<Record<E, string>> {
  const hooks: Partial<Record<E, string>> = {};
  const hooksField = field(doc, 'Hooks');
  if (!hooksField || hooksField.value === null) return hooks;
  if (!Array.isArray(hooksField.value)) {
    issues.push({ path: hooksField.key, message: `must be a list like "- ${events[0]}: MyHookFunction"` });
    return hooks;
  }
  hooksField.value.forEach((entry, i) => {
    const at = `${hooksField.key}[${i}]`;
    if (!isObj(entry) || Object.keys(entry).length !== 1) {
      issues.push({ path: at, message: 'must be a mapping with exactly one lifecycle event' });
      return;
    }
    const [rawName, fn] = Object.entries(entry)[0] as [string, unknown];
    const event = events.find((e) => e.toLowerCase() === rawName.toLowerCase());
    if (!event) {
      issues.push({
        path: `${at}.${rawName}`,
        message: `unknown lifecycle event; ${platform} hooks are ${events.slice(0, -1).join(', ')} and ${events.at(-1)}`,
      });
      return;
    }
    const name = asText(fn);
    if (!name || !(FUNCTION_NAME_RE.test(name) || WEBHOOK_RE.test(name))) {
      issues.push({
        path: `${at}.${rawName}`,
        message: 'must be the name or ARN of the hook function, or an http(s) webhook URL',
      });
      return;
    }
    if (hooks[event]) {
      issues.push({ path: `${at}.${rawName}`, message: `${event} is given more than once` });
      return;
    }
    hooks[event] = name;
  });
  return hooks;
}

/** Parse and validate a Lambda AppSpec. Throws InvalidInputError listing every problem. */
export function parseLambdaAppSpec(text: string): LambdaAppSpec {
  const doc = parseDocument(text);
  const issues: Issue[] = [];
  if (!isObj(doc)) {
    throw new InvalidInputError(
      [{ path: '', message: 'must be a mapping with version, Resources and Hooks' }],
      'InvalidRevisionException',
    );
  }

  checkVersion(doc, issues);

  const functions: FunctionTarget[] = [];
  const resources = field(doc, 'Resources');
  if (!resources) issues.push({ path: 'Resources', message: 'required (a list with one AWS::Lambda::Function)' });
  else if (!Array.isArray(resources.value) || resources.value.length === 0) {
    issues.push({ path: resources.key, message: 'must be a non-empty list of resources' });
  } else {
    const seen = new Map<string, string>();
    resources.value.forEach((entry, i) => {
      const at = `${resources.key}[${i}]`;
      if (!isObj(entry) || Object.keys(entry).length !== 1) {
        issues.push({
          path: at,
          message: 'must be a mapping with exactly one logical name, e.g. "- myFunction: {Type, Properties}"',
        });
        return;
      }
      const [logicalName, body] = Object.entries(entry)[0] as [string, unknown];
      const rat = `${at}.${logicalName}`;
      if (!isObj(body)) {
        issues.push({ path: rat, message: 'must be a mapping with Type and Properties' });
        return;
      }
      const type = field(body, 'Type');
      if (!type) issues.push({ path: `${rat}.Type`, message: 'required (AWS::Lambda::Function)' });
      else if (type.value !== 'AWS::Lambda::Function') {
        issues.push({
          path: `${rat}.${type.key}`,
          message: `must be AWS::Lambda::Function, got ${JSON.stringify(type.value)}`,
        });
      }
      const props = field(body, 'Properties');
      if (!props || !isObj(props.value)) {
        issues.push({ path: `${rat}.Properties`, message: props ? 'must be a mapping' : 'required' });
        return;
      }
      const pat = `${rat}.${props.key}`;
      const p = props.value;
      const read = (name: string, re: RegExp, hint: string): string | undefined => {
        const f = field(p, name);
        if (!f) {
          issues.push({ path: `${pat}.${name}`, message: 'required' });
          return undefined;
        }
        const s = asText(f.value);
        if (s === undefined || s === '') {
          issues.push({ path: `${pat}.${f.key}`, message: `must be a non-empty string (${hint})` });
          return undefined;
        }
        if (!re.test(s)) {
          issues.push({ path: `${pat}.${f.key}`, message: `${JSON.stringify(s)} is not ${hint}` });
          return undefined;
        }
        return s;
      };
      const functionName = read('Name', FUNCTION_NAME_RE, 'a Lambda function name or ARN');
      const alias = read('Alias', ALIAS_RE, 'a Lambda alias name');
      const currentVersion = read(
        'CurrentVersion',
        VERSION_RE,
        'a published version number ($LATEST cannot be weighted)',
      );
      const targetVersion = read(
        'TargetVersion',
        VERSION_RE,
        'a published version number ($LATEST cannot be weighted)',
      );
      if (functionName && alias) {
        const key = `${functionName}:${alias}`;
        const other = seen.get(key);
        if (other) issues.push({ path: rat, message: `shifts the same alias as ${other} (${key})` });
        else seen.set(key, rat);
      }
      if (functionName && alias && currentVersion && targetVersion) {
        functions.push({ logicalName, functionName, alias, currentVersion, targetVersion });
      }
    });
  }

  const hooks = parseHooks(doc, LAMBDA_HOOK_EVENTS, 'Lambda', issues);

  if (issues.length > 0) throw new InvalidInputError(issues, 'InvalidRevisionException', 'Invalid AppSpec');
  return { functions, hooks, noop: functions.every((f) => f.currentVersion === f.targetVersion) };
}

/** What an ECS AppSpec says: the service's new task definition and how to run it, and the hooks. */
export interface EcsAppSpec {
  target: Pick<
    EcsTarget,
    | 'taskDefinition'
    | 'containerName'
    | 'containerPort'
    | 'platformVersion'
    | 'networkConfiguration'
    | 'capacityProviderStrategy'
  >;
  hooks: Partial<Record<EcsHookEvent, string>>;
}

const TASK_DEFINITION_RE =
  /^(arn:aws[a-zA-Z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/)?[A-Za-z0-9_-]{1,255}:[1-9][0-9]*$/;
const CONTAINER_NAME_RE = /^[A-Za-z0-9_-]{1,255}$/;

/** Parse and validate an ECS AppSpec (one AWS::ECS::Service target). Throws InvalidInputError listing every problem. */
export function parseEcsAppSpec(text: string): EcsAppSpec {
  const doc = parseDocument(text);
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
