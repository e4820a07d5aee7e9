/**
 * Lambda AppSpec parsing (YAML or JSON). Keys are matched case-insensitively because AWS's own
 * material uses both `Resources`/`Name` and `resources`/`name`. Every problem is reported at once,
 * each with its path, e.g. `Resources[0].api.Properties.TargetVersion: required`.
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { InvalidInputError, type Issue } from './errors.js';
import { LAMBDA_HOOK_EVENTS, type FunctionTarget, type LambdaHookEvent } from './model.js';

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
  if (trimmed === '') throw new InvalidInputError([{ path: '', message: `${what} is empty` }], 'InvalidRevisionException');
  if (trimmed.startsWith('{')) {
    try {
      return JSON.parse(trimmed);
    } catch (e) {
      throw new InvalidInputError([{ path: '', message: `${what} is not valid JSON (${(e as Error).message})` }], 'InvalidRevisionException');
    }
  }
  try {
    return parseYaml(text, { prettyErrors: true, strict: true, uniqueKeys: true });
  } catch (e) {
    const msg = e instanceof YAMLParseError ? e.message.split('\n')[0] : String(e);
    throw new InvalidInputError([{ path: '', message: `${what} is not valid YAML (${msg})` }], 'InvalidRevisionException');
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

/** Parse and validate a Lambda AppSpec. Throws InvalidInputError listing every problem. */
export function parseLambdaAppSpec(text: string): LambdaAppSpec {
  const doc = parseDocument(text);
  const issues: Issue[] = [];
  if (!isObj(doc)) {
    throw new InvalidInputError([{ path: '', message: 'must be a mapping with version, Resources and Hooks' }], 'InvalidRevisionException');
  }

  const version = field(doc, 'version');
  if (!version) issues.push({ path: 'version', message: 'required (must be 0.0)' });
  else if (!(version.value === 0 || version.value === '0.0')) {
    issues.push({ path: version.key, message: `must be 0.0, got ${JSON.stringify(version.value)}` });
  }

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
        issues.push({ path: at, message: 'must be a mapping with exactly one logical name, e.g. "- myFunction: {Type, Properties}"' });
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
        issues.push({ path: `${rat}.${type.key}`, message: `must be AWS::Lambda::Function, got ${JSON.stringify(type.value)}` });
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
      const currentVersion = read('CurrentVersion', VERSION_RE, 'a published version number ($LATEST cannot be weighted)');
      const targetVersion = read('TargetVersion', VERSION_RE, 'a published version number ($LATEST cannot be weighted)');
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

  const hooks: Partial<Record<LambdaHookEvent, string>> = {};
  const hooksField = field(doc, 'Hooks');
  if (hooksField && hooksField.value !== null) {
    if (!Array.isArray(hooksField.value)) {
      issues.push({ path: hooksField.key, message: 'must be a list like "- BeforeAllowTraffic: MyHookFunction"' });
    } else {
      hooksField.value.forEach((entry, i) => {
        const at = `${hooksField.key}[${i}]`;
        if (!isObj(entry) || Object.keys(entry).length !== 1) {
          issues.push({ path: at, message: 'must be a mapping with exactly one lifecycle event' });
          return;
        }
        const [rawName, fn] = Object.entries(entry)[0] as [string, unknown];
        const event = LAMBDA_HOOK_EVENTS.find((e) => e.toLowerCase() === rawName.toLowerCase());
        if (!event) {
          issues.push({ path: `${at}.${rawName}`, message: `unknown lifecycle event; Lambda hooks are ${LAMBDA_HOOK_EVENTS.join(' and ')}` });
          return;
        }
        const name = asText(fn);
        if (!name || !(FUNCTION_NAME_RE.test(name) || WEBHOOK_RE.test(name))) {
          issues.push({ path: `${at}.${rawName}`, message: 'must be the name or ARN of the hook function, or an http(s) webhook URL' });
          return;
        }
        if (hooks[event]) {
          issues.push({ path: `${at}.${rawName}`, message: `${event} is given more than once` });
          return;
        }
        hooks[event] = name;
      });
    }
  }

  if (issues.length > 0) throw new InvalidInputError(issues, 'InvalidRevisionException', 'Invalid AppSpec');
  return { functions, hooks, noop: functions.every((f) => f.currentVersion === f.targetVersion) };
}
