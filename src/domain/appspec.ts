/**
 * What every AppSpec shares (YAML or JSON, `version`, the Hooks list); each platform reads its own
 * resources (src/platforms/<name>/appspec.ts). Keys are matched case-insensitively because AWS's own
 * material uses both `Resources`/`Name` and `resources`/`name`. Every problem is reported at once,
 * each with its path, e.g. `Resources[0].api.Properties.TargetVersion: required`.
 */
import { parseDocument as parseYamlDocument, YAMLParseError, type YAMLError } from 'yaml';
import { InvalidInputError, type Issue } from './errors.js';
import { isWebhookUrl } from './hook-targets.js';

/** AppSpec content larger than this is refused before parsing (input size limit). */
export const MAX_APPSPEC_BYTES = 64 * 1024;

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Find a key case-insensitively; returns the key as written and its value. */
export function field(obj: Obj, name: string): { key: string; value: unknown } | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) return { key: k, value: v };
  return undefined;
}

/** Parse YAML or JSON text into a plain value, or report where it is malformed (InvalidRevisionException). */
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
  const refuse = (messages: string[]) =>
    new InvalidInputError(
      messages.map((message) => ({ path: '', message })),
      'InvalidRevisionException',
    );
  let value: unknown;
  try {
    const doc = parseYamlDocument(text, { prettyErrors: true, strict: true, uniqueKeys: true });
    // Warnings too: an unresolved tag (CloudFormation's `!Ref`) would otherwise be read as its plain
    // text, and the deployment would fail later on a name the user never wrote.
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length) throw refuse(problems.map((p) => yamlProblem(what, p)));
    // Aliases are bounded (a "billion laughs" document expands exponentially).
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    if (e instanceof InvalidInputError) throw e;
    const msg =
      e instanceof YAMLParseError
        ? e.message.split('\n')[0]
        : e instanceof ReferenceError && e.message.toLowerCase().includes('alias')
          ? 'too many aliases: a document may expand at most 100 of them'
          : e instanceof RangeError
            ? 'nested too deeply'
            : 'it cannot be read';
    throw refuse([`${what} is not valid YAML (${msg})`]);
  }
  if (isCyclic(value)) throw refuse([`${what} is not valid YAML (an alias refers to a node that contains it)`]);
  return value;
}

function yamlProblem(what: string, p: YAMLError): string {
  const where = p.linePos ? ` at line ${p.linePos[0].line}, column ${p.linePos[0].col}` : '';
  if (p.code === 'TAG_RESOLVE_FAILED') {
    const after = p.message.indexOf('tag: ');
    const tag = after >= 0 ? p.message.slice(after + 5).split(' ')[0]! : 'tag';
    return `${what}: the YAML tag ${tag}${where} is not supported: an AppSpec is plain YAML (CloudFormation's intrinsic functions such as !Ref are not resolved); write the value itself`;
  }
  if (p.message.includes('call stack')) return `${what} is not valid YAML (nested too deeply${where})`;
  return `${what} is not valid YAML (${p.message.split('\n')[0]})`;
}

/** Whether a parsed value contains itself (an alias inside the node it names); iterative, any depth. */
function isCyclic(root: unknown): boolean {
  const onPath = new Set<object>();
  const stack: { node: object; children: unknown[]; i: number }[] = [];
  const enter = (v: unknown): boolean => {
    if (typeof v !== 'object' || v === null) return false;
    if (onPath.has(v)) return true;
    onPath.add(v);
    stack.push({ node: v, children: Array.isArray(v) ? v : Object.values(v), i: 0 });
    return false;
  };
  if (enter(root)) return true;
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    if (top.i >= top.children.length) {
      onPath.delete(top.node);
      stack.pop();
    } else if (enter(top.children[top.i++])) return true;
  }
  return false;
}

export const FUNCTION_NAME_RE = /^(arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[a-zA-Z0-9_-]{1,140}$/;

export function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

export function checkVersion(doc: Obj, issues: Issue[]): void {
  const version = field(doc, 'version');
  if (!version) issues.push({ path: 'version', message: 'required (must be 0.0)' });
  else if (!(version.value === 0 || version.value === '0.0')) {
    issues.push({ path: version.key, message: `must be 0.0, got ${JSON.stringify(version.value)}` });
  }
}

/** The Hooks list: each entry one lifecycle event of `events` naming a function (or webhook URL). */
export function parseHooks<E extends string>(
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
  // One entry per lifecycle event at most: a longer list is refused whole, not entry by entry.
  if (hooksField.value.length > events.length) {
    issues.push({
      path: hooksField.key,
      message: `has ${hooksField.value.length} entries; ${platform} has ${events.length} lifecycle events with hooks, one entry each`,
    });
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
    if (!name || !(FUNCTION_NAME_RE.test(name) || isWebhookUrl(name))) {
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

/**
 * The platform an AppSpec is written for, from its resources' types, so a Lambda AppSpec sent to
 * an ECS group is told so instead of failing on fields it never meant to have.
 */
export function appSpecPlatform(doc: unknown): 'Lambda' | 'ECS' | 'Server' | undefined {
  if (!isObj(doc)) return undefined;
  const resources = field(doc, 'Resources')?.value;
  if (Array.isArray(resources)) {
    // Only a resource that is wholly of a platform's kind (its Type and its typical properties)
    // counts: a half-mistyped one is better explained field by field.
    const kinds = resources.flatMap((r) =>
      isObj(r)
        ? Object.values(r).map((b) => {
            if (!isObj(b)) return undefined;
            const props = field(b, 'Properties')?.value;
            const has = (k: string) => isObj(props) && field(props, k) !== undefined;
            const type = field(b, 'Type')?.value;
            if (type === 'AWS::Lambda::Function' && has('Name') && has('Alias')) return 'Lambda' as const;
            if (type === 'AWS::ECS::Service' && has('TaskDefinition')) return 'ECS' as const;
            return undefined;
          })
        : [],
    );
    if (kinds.length && kinds.every((k) => k === 'Lambda')) return 'Lambda';
    if (kinds.length && kinds.every((k) => k === 'ECS')) return 'ECS';
  }
  if (field(doc, 'os') || field(doc, 'files') || field(doc, 'permissions')) return 'Server';
  return undefined;
}

/** Refuse an AppSpec written for another platform than the group's, naming both. */
export function requirePlatform(doc: unknown, platform: 'Lambda' | 'ECS' | 'Server'): void {
  const written = appSpecPlatform(doc);
  if (written && written !== platform) {
    throw new InvalidInputError(
      [
        {
          path: '',
          message: `this is ${written === 'ECS' ? 'an' : 'a'} ${written} AppSpec, but the deployment group deploys to ${platform}`,
        },
      ],
      'InvalidRevisionException',
      'Invalid AppSpec',
    );
  }
}
