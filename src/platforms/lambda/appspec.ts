/**
 * The Lambda AppSpec: AWS::Lambda::Function resources (Name, Alias, CurrentVersion, TargetVersion)
 * and the BeforeAllowTraffic / AfterAllowTraffic hooks. Every problem at once, with its path.
 */
import {
  FUNCTION_NAME_RE,
  asText,
  checkVersion,
  field,
  isObj,
  parseDocument,
  parseHooks,
  requirePlatform,
} from '../../domain/appspec.js';
import { InvalidInputError, type Issue } from '../../domain/errors.js';
import type { FunctionTarget } from './traffic.js';

const VERSION_RE = /^[1-9][0-9]{0,9}$/;
const ALIAS_RE = /^(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}$/;

/** The lifecycle events that take a Lambda hook. */
export const LAMBDA_HOOK_EVENTS = ['BeforeAllowTraffic', 'AfterAllowTraffic'] as const;
export type LambdaHookEvent = (typeof LAMBDA_HOOK_EVENTS)[number];

export interface LambdaAppSpec {
  functions: FunctionTarget[];
  hooks: Partial<Record<LambdaHookEvent, string>>;
  /** True when every function already runs its target version: a successful no-op. */
  noop: boolean;
}

/** Parse and validate a Lambda AppSpec. Throws InvalidInputError listing every problem. */
export function parseLambdaAppSpec(text: string): LambdaAppSpec {
  const doc = parseDocument(text);
  requirePlatform(doc, 'Lambda');
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
