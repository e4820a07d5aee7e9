/**
 * The Server (EC2/on-premises) AppSpec: `version`, `os`, `files`, `permissions`, `hooks` and
 * `file_exists_behavior`, read as CodeDeploy's agent reads them (application_specification.rb and
 * its helpers). Every problem is reported at once with its path (`hooks.ValidateService[0].timeout`);
 * what is accepted but probably not meant comes back as a warning with its path.
 *
 * YAML is read as YAML 1.1, as the agent's Ruby YAML does: an unquoted `mode: 0644` is the octal
 * number 420, so the agent applies mode "420" (r---w----), and `mode: 0755` is 493, which the agent
 * refuses. Cutover does the same and says what it read. Pure: no I/O.
 */
import { posix, win32 } from 'node:path';
import { isMap, isPair, isScalar, isSeq, parseDocument as parseYamlDocument, type Node as YamlNode } from 'yaml';
import { MAX_APPSPEC_BYTES, isObj, type Obj } from '../../domain/appspec.js';
import { InvalidInputError, type Issue } from '../../domain/errors.js';

/** Every lifecycle event of an in-place deployment, in CodeDeploy's order (traffic events need a load balancer). */
export const SERVER_LIFECYCLE_EVENTS = [
  'BeforeBlockTraffic',
  'BlockTraffic',
  'AfterBlockTraffic',
  'ApplicationStop',
  'DownloadBundle',
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'ApplicationStart',
  'ValidateService',
  'BeforeAllowTraffic',
  'AllowTraffic',
  'AfterAllowTraffic',
] as const;
export type ServerLifecycleEvent = (typeof SERVER_LIFECYCLE_EVENTS)[number];

/** The events that run AppSpec scripts. */
export const SERVER_HOOK_EVENTS = [
  'BeforeBlockTraffic',
  'AfterBlockTraffic',
  'ApplicationStop',
  'BeforeInstall',
  'AfterInstall',
  'ApplicationStart',
  'ValidateService',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
] as const;
export type ServerHookEvent = (typeof SERVER_HOOK_EVENTS)[number];

/** Events the agent runs itself (no scripts). */
export const AGENT_EVENTS = ['DownloadBundle', 'Install'] as const;
/** Events the engine runs (the load balancer), never sent to the agent. */
export const ENGINE_EVENTS = ['BlockTraffic', 'AllowTraffic'] as const;
/** What the agent is asked to run: every event but the engine's. */
export const AGENT_COMMANDS = SERVER_LIFECYCLE_EVENTS.filter(
  (e): e is Exclude<ServerLifecycleEvent, (typeof ENGINE_EVENTS)[number]> =>
    !(ENGINE_EVENTS as readonly string[]).includes(e),
);

/**
 * Which revision's AppSpec an event's scripts come from (hook_executor.rb): `current`, or the last
 * successful install when the current deployment has no archive yet (none: nothing to run), or
 * (blue/green rollbacks only) the most recent install.
 */
export type RevisionChoice = 'current' | 'lastSuccessful' | 'mostRecent';
export function revisionForEvent(
  event: ServerHookEvent,
  deployment: { creator?: string; type?: string } = {},
): RevisionChoice {
  const blueGreenRollback = deployment.creator === 'codeDeployRollback' && deployment.type === 'BLUE_GREEN';
  switch (event) {
    case 'BeforeBlockTraffic':
    case 'AfterBlockTraffic':
      return blueGreenRollback ? 'mostRecent' : 'lastSuccessful';
    case 'ApplicationStop':
      return 'lastSuccessful';
    case 'BeforeAllowTraffic':
    case 'AfterAllowTraffic':
      return blueGreenRollback ? 'lastSuccessful' : 'current';
    case 'BeforeInstall':
    case 'AfterInstall':
    case 'ApplicationStart':
    case 'ValidateService':
      return 'current';
  }
}

export type FileExistsBehavior = 'DISALLOW' | 'OVERWRITE' | 'RETAIN';
export const FILE_EXISTS_BEHAVIORS: readonly FileExistsBehavior[] = ['DISALLOW', 'OVERWRITE', 'RETAIN'];
/** A script's timeout when the AppSpec gives none, and the most it may be (seconds). */
export const DEFAULT_SCRIPT_TIMEOUT = 3600;
export const MAX_SCRIPT_TIMEOUT = 3600;

export interface ServerFile {
  /** Relative to the bundle root, normalised; '' is the whole bundle. */
  source: string;
  /** Absolute, normalised. */
  destination: string;
}

/** One ACL entry, normalised as setfacl takes it: `[default:]user|group|mask|other:[name]:rwx`. */
export type AclEntry = string;

export interface ServerPermission {
  /** Absolute, normalised. */
  object: string;
  /** `**` (everything under object) or a `*`-glob over the names of object's immediate children. */
  pattern: string;
  except: string[];
  type: ('file' | 'directory')[];
  owner?: string;
  group?: string;
  /** 3 or 4 octal digits, as the agent keeps it (e.g. "644", "0644", "420"). */
  mode?: string;
  acls?: AclEntry[];
  /** SELinux context: the agent reads the user from `name`; `type` is required; `range` like s0-s1:c0.c3. */
  context?: { user?: string; type: string; range?: string };
}

export interface ServerScript {
  /** Relative to the bundle root, normalised. */
  location: string;
  /** Seconds, 1–3600 (default 3600). */
  timeout: number;
  runas?: string;
  /** Undocumented, honoured by CodeDeploy's agent: run through sudo. */
  sudo?: boolean;
}

export interface ServerAppSpec {
  version: 0;
  os: 'linux' | 'windows';
  files: ServerFile[];
  permissions: ServerPermission[];
  hooks: Partial<Record<ServerHookEvent, ServerScript[]>>;
  /** As written in the AppSpec (it takes precedence over the deployment's fileExistsBehavior). */
  fileExistsBehavior?: FileExistsBehavior;
}

export interface ParsedServerAppSpec {
  spec: ServerAppSpec;
  /** Accepted, but probably not what was meant (what YAML 1.1 read, ignored keys), each with its path. */
  warnings: Issue[];
}

const TOP_KEYS = ['version', 'os', 'files', 'permissions', 'hooks', 'file_exists_behavior'] as const;

/** How a scalar was written, by its path: YAML 1.1 reads some spellings as something else. */
interface Source {
  text: string;
  format?: string;
  quoted: boolean;
}

const fail = (issues: Issue[]) => new InvalidInputError(issues, 'InvalidRevisionException', 'Invalid AppSpec');

/** Parse and validate a Server AppSpec (YAML or JSON). Throws InvalidInputError listing every problem. */
export function parseServerAppSpec(text: string): ParsedServerAppSpec {
  if (Buffer.byteLength(text, 'utf8') > MAX_APPSPEC_BYTES)
    throw fail([{ path: '', message: `AppSpec is larger than ${MAX_APPSPEC_BYTES} bytes` }]);
  if (text.trim() === '') throw fail([{ path: '', message: 'AppSpec is empty' }]);
  const { doc, sources } = readDocument(text);
  const other = otherPlatform(doc);
  if (other)
    throw fail([
      {
        path: '',
        message: `this is ${other.name === 'ECS' ? 'an' : 'a'} ${other.name} AppSpec (${other.why}), but the deployment group deploys to Server (EC2/on-premises): a Server AppSpec has version, os, files and hooks`,
      },
    ]);
  if (!isObj(doc)) throw fail([{ path: '', message: 'must be a mapping with version, os, files and hooks' }]);
  return new Reader(doc, sources).read();
}

function readDocument(text: string): { doc: unknown; sources: Map<string, Source> } {
  const sources = new Map<string, Source>();
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      return { doc: JSON.parse(trimmed), sources };
    } catch (e) {
      throw fail([{ path: '', message: `AppSpec is not valid JSON (${(e as Error).message})` }]);
    }
  }
  const document = parseYamlDocument(text, { version: '1.1', uniqueKeys: true, prettyErrors: true });
  if (document.errors.length > 0)
    throw fail([{ path: '', message: `AppSpec is not valid YAML (${document.errors[0]!.message.split('\n')[0]})` }]);
  collectSources(document.contents, '', sources);
  try {
    return { doc: document.toJS({ maxAliasCount: 100 }), sources };
  } catch (e) {
    throw fail([{ path: '', message: `AppSpec is not valid YAML (${(e as Error).message})` }]);
  }
}

function collectSources(node: YamlNode | null | undefined | unknown, path: string, out: Map<string, Source>): void {
  if (isScalar(node)) {
    out.set(path, {
      text: String(node.source ?? node.value),
      ...(node.format ? { format: node.format } : {}),
      quoted: node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE',
    });
  } else if (isMap(node)) {
    for (const item of node.items) {
      if (!isPair(item)) continue;
      const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
      collectSources(item.value, path ? `${path}.${key}` : key, out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => collectSources(item, `${path}[${i}]`, out));
  }
}

/** A Lambda or ECS AppSpec sent to a Server group, and what gave it away. */
function otherPlatform(doc: unknown): { name: 'Lambda' | 'ECS' | 'Lambda or ECS'; why: string } | undefined {
  if (!isObj(doc)) return undefined;
  const resourcesKey = Object.keys(doc).find((k) => k.toLowerCase() === 'resources');
  if (resourcesKey === undefined) return undefined;
  const types = new Set<string>();
  const props = new Set<string>();
  const names = new Set<string>();
  const resources = doc[resourcesKey];
  for (const r of Array.isArray(resources) ? resources : [])
    for (const [name, body] of isObj(r) ? Object.entries(r) : []) {
      names.add(name);
      if (!isObj(body)) continue;
      for (const [k, v] of Object.entries(body)) {
        if (k.toLowerCase() === 'type' && typeof v === 'string') types.add(v);
        if (k.toLowerCase() === 'properties' && isObj(v)) for (const p of Object.keys(v)) props.add(p.toLowerCase());
      }
    }
  if (types.has('AWS::ECS::Service')) return { name: 'ECS', why: 'Resources with an AWS::ECS::Service' };
  if (types.has('AWS::Lambda::Function')) return { name: 'Lambda', why: 'Resources with an AWS::Lambda::Function' };
  if (names.has('TargetService') || props.has('taskdefinition'))
    return { name: 'ECS', why: 'Resources with a TargetService and its TaskDefinition' };
  if (props.has('alias') || props.has('targetversion'))
    return { name: 'Lambda', why: 'Resources with a function alias and versions' };
  const serverKeys = ['os', 'files', 'permissions'].some((k) => k in doc);
  if (!serverKeys) return { name: 'Lambda or ECS', why: `it has ${resourcesKey} and no os or files` };
  return undefined;
}

const SCRIPT_KEYS = ['location', 'timeout', 'runas', 'sudo'];
const FILE_KEYS = ['source', 'destination'];
const PERMISSION_KEYS = ['object', 'pattern', 'except', 'owner', 'group', 'mode', 'acls', 'context', 'type'];

class Reader {
  private readonly issues: Issue[] = [];
  private readonly warnings: Issue[] = [];
  /** Paths whose YAML 1.1 reading a field explained itself (no generic warning for them). */
  private readonly explained = new Set<string>();

  constructor(
    private readonly doc: Obj,
    private readonly sources: Map<string, Source>,
  ) {}

  read(): ParsedServerAppSpec {
    const doc = this.doc;
    for (const key of Object.keys(doc)) {
      if ((TOP_KEYS as readonly string[]).includes(key)) continue;
      const meant = TOP_KEYS.find((k) => k === key.toLowerCase());
      if (meant)
        this.issues.push({
          path: key,
          message: `Server AppSpec keys are lower case: write ${meant} (CodeDeploy's agent would ignore ${key})`,
        });
      else this.warnings.push({ path: key, message: 'not a Server AppSpec key; ignored' });
    }
    this.version(doc.version);
    const os = this.os(doc.os);
    const files = this.files(doc.files);
    const permissions = this.permissions(doc.permissions, os);
    const hooks = this.hooks(doc.hooks, os);
    const fileExistsBehavior = this.fileExistsBehavior(doc.file_exists_behavior);
    this.yaml11Warnings();
    if (this.issues.length > 0) throw fail(this.issues);
    return {
      spec: {
        version: 0,
        os: os ?? 'linux',
        files,
        permissions,
        hooks,
        ...(fileExistsBehavior ? { fileExistsBehavior } : {}),
      },
      warnings: this.warnings,
    };
  }

  private issue(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  /** What YAML 1.1 read differently from how it looks (octal, base 60, yes/no), where no field said so. */
  private yaml11Warnings(): void {
    for (const [path, s] of this.sources) {
      if (this.explained.has(path) || s.quoted) continue;
      const value = this.valueAt(path);
      if (s.format === 'OCT')
        this.warnings.push({
          path,
          message: `${s.text} was read as the YAML 1.1 octal number ${String(value)} (as CodeDeploy's agent reads it); if you meant ${s.text.replace(/^0+(?=\d)/, '')}, write it without the leading zero`,
        });
      else if (s.format === 'TIME')
        this.warnings.push({
          path,
          message: `${s.text} was read as the YAML 1.1 base-60 number ${String(value)} (as CodeDeploy's agent reads it); quote it if you meant the text`,
        });
      else if (typeof value === 'boolean' && !/^(true|false)$/i.test(s.text))
        this.warnings.push({
          path,
          message: `${s.text} was read as the YAML 1.1 boolean ${String(value)}; quote it if you meant the text`,
        });
    }
  }

  private valueAt(path: string): unknown {
    let v: unknown = this.doc;
    for (const part of path.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
      if (part.startsWith('[')) v = Array.isArray(v) ? v[Number(part.slice(1, -1))] : undefined;
      else v = isObj(v) ? v[part] : undefined;
    }
    return v;
  }

  /** A string field; a YAML 1.1 number or boolean where text was expected is named as what was read. */
  private text(value: unknown, path: string, what: string): string | undefined {
    if (typeof value === 'string') {
      const s = value.trim();
      if (s === '') this.issue(path, `must be a non-empty string (${what})`);
      return s === '' ? undefined : s;
    }
    const src = this.sources.get(path);
    this.explained.add(path);
    this.issue(
      path,
      value === undefined || value === null
        ? `required (${what})`
        : `must be a string (${what}), got ${src && src.text !== String(value) ? `${src.text}, which YAML 1.1 reads as ${JSON.stringify(value)}` : JSON.stringify(value)}; quote it`,
    );
    return undefined;
  }

  private unknownKeys(entry: Obj, known: readonly string[], at: string): void {
    for (const k of Object.keys(entry))
      if (!known.includes(k)) {
        const meant = known.find((n) => n === k.toLowerCase());
        if (meant) this.issue(`${at}.${k}`, `keys are lower case: write ${meant}`);
        else this.warnings.push({ path: `${at}.${k}`, message: `not one of ${known.join(', ')}; ignored` });
      }
  }

  private version(v: unknown): void {
    if (v === undefined || v === null) this.issue('version', 'required (must be 0.0)');
    else if (!(v === 0 || v === '0.0'))
      this.issue('version', `must be 0.0, got ${JSON.stringify(v)} (the only AppSpec version CodeDeploy knows)`);
  }

  private os(v: unknown): ServerAppSpec['os'] | undefined {
    if (v === 'linux' || v === 'windows') return v;
    if (v === undefined || v === null) this.issue('os', 'required (linux or windows)');
    else if (typeof v === 'string' && ['linux', 'windows'].includes(v.trim().toLowerCase()))
      this.issue('os', `must be written ${v.trim().toLowerCase()} (lower case), got ${JSON.stringify(v)}`);
    else this.issue('os', `must be linux or windows, got ${JSON.stringify(v)}`);
    return undefined;
  }

  private relative(value: unknown, path: string, what: string, os: ServerAppSpec['os'] | undefined) {
    const s = this.text(value, path, what);
    if (s === undefined) return undefined;
    if (s.includes('\0')) return (this.issue(path, 'must not contain a NUL character'), undefined);
    const slashed = os === 'windows' ? s.replace(/\\/g, '/') : s;
    const rel = posix.normalize(`/${slashed}`).slice(1).replace(/\/$/, '');
    // posix.normalize('/' + p) cannot climb above '/': compare with a normalisation that can.
    const climbing = posix.normalize(slashed.replace(/^\/+/, ''));
    if (climbing === '..' || climbing.startsWith('../')) {
      this.issue(path, `${JSON.stringify(s)} points outside the bundle`);
      return undefined;
    }
    return rel;
  }

  private absolute(value: unknown, path: string, what: string, os: ServerAppSpec['os'] | undefined) {
    const s = this.text(value, path, what);
    if (s === undefined) return undefined;
    if (s.includes('\0')) return (this.issue(path, 'must not contain a NUL character'), undefined);
    if (os === 'windows') {
      if (!win32.isAbsolute(s) || !/^[A-Za-z]:[\\/]|^\\\\/.test(s))
        return (this.issue(path, `must be an absolute path such as C:\\app, got ${JSON.stringify(s)}`), undefined);
      return win32.normalize(s).replace(/(?<=.)[\\]$/, '');
    }
    if (!s.startsWith('/'))
      return (this.issue(path, `must be an absolute path such as /srv/app, got ${JSON.stringify(s)}`), undefined);
    const n = posix.normalize(s);
    return n.length > 1 ? n.replace(/\/$/, '') : n;
  }

  private list(value: unknown, path: string, example: string): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.issue(path, `must be a list, e.g. ${example}`);
      return [];
    }
    return value;
  }

  private files(value: unknown): ServerFile[] {
    const files: ServerFile[] = [];
    const os = this.doc.os === 'windows' ? 'windows' : 'linux';
    this.list(value, 'files', '"- source: /\\n  destination: /srv/app"').forEach((entry, i) => {
      const at = `files[${i}]`;
      if (!isObj(entry)) return this.issue(at, 'must be a mapping with source and destination');
      this.unknownKeys(entry, FILE_KEYS, at);
      const source = this.relative(entry.source, `${at}.source`, 'a path in the bundle; / is all of it', os);
      const destination = this.absolute(entry.destination, `${at}.destination`, 'an absolute path on the host', os);
      if (source !== undefined && destination !== undefined) files.push({ source, destination });
    });
    return files;
  }

  private permissions(value: unknown, os: ServerAppSpec['os'] | undefined): ServerPermission[] {
    const list = this.list(value, 'permissions', '"- object: /srv/app\\n  mode: 755"');
    if (list.length > 0 && os === 'windows') {
      this.issue('permissions', 'permissions are supported for os: linux only (CodeDeploy refuses them on Windows)');
      return [];
    }
    const permissions: ServerPermission[] = [];
    list.forEach((entry, i) => {
      const at = `permissions[${i}]`;
      if (!isObj(entry)) return this.issue(at, 'must be a mapping with object and what to set');
      this.unknownKeys(entry, PERMISSION_KEYS, at);
      const before = this.issues.length;
      const object = this.absolute(
        entry.object,
        `${at}.object`,
        'the absolute path of an installed file or directory',
        'linux',
      );
      const pattern = this.pattern(entry.pattern, `${at}.pattern`);
      const except = this.globs(entry.except, `${at}.except`);
      const type = this.types(entry.type, `${at}.type`);
      const owner = entry.owner === undefined ? undefined : this.text(entry.owner, `${at}.owner`, 'a user name');
      const group = entry.group === undefined ? undefined : this.text(entry.group, `${at}.group`, 'a group name');
      const mode = entry.mode === undefined || entry.mode === null ? undefined : this.mode(entry.mode, `${at}.mode`);
      const acls = entry.acls === undefined || entry.acls === null ? undefined : this.acls(entry.acls, `${at}.acls`);
      const context =
        entry.context === undefined || entry.context === null
          ? undefined
          : this.context(entry.context, `${at}.context`);
      if (this.issues.length > before || object === undefined) return;
      permissions.push({
        object,
        pattern: pattern ?? '**',
        except,
        type,
        ...(owner !== undefined ? { owner } : {}),
        ...(group !== undefined ? { group } : {}),
        ...(mode !== undefined ? { mode } : {}),
        ...(acls !== undefined ? { acls } : {}),
        ...(context !== undefined ? { context } : {}),
      });
    });
    return permissions;
  }

  private glob(value: unknown, path: string): string | undefined {
    const s = this.text(value, path, 'a name pattern with * wildcards');
    if (s === undefined) return undefined;
    if (s.includes('/'))
      return (
        this.issue(
          path,
          `${JSON.stringify(s)} contains /: patterns match the names of the object's immediate children (only ** reaches deeper)`,
        ),
        undefined
      );
    return s;
  }

  private pattern(value: unknown, path: string): string | undefined {
    if (value === undefined || value === null || value === '**') return '**';
    return this.glob(value, path);
  }

  private globs(value: unknown, path: string): string[] {
    if (value === undefined || value === null) return [];
    if (typeof value === 'string') {
      this.warnings.push({ path, message: 'should be a list; read as a list of one pattern' });
      const g = this.glob(value, path);
      return g === undefined ? [] : [g];
    }
    return this.list(value, path, '[*.log, tmp]').flatMap((g, i) => {
      const s = this.glob(g, `${path}[${i}]`);
      return s === undefined ? [] : [s];
    });
  }

  private types(value: unknown, path: string): ('file' | 'directory')[] {
    if (value === undefined || value === null) return ['file', 'directory'];
    let list: unknown[];
    if (typeof value === 'string') {
      this.warnings.push({ path, message: 'should be a list; read as a list of one type' });
      list = [value];
    } else list = this.list(value, path, '[file, directory]');
    const types: ('file' | 'directory')[] = [];
    list.forEach((t, i) => {
      const at = typeof value === 'string' ? path : `${path}[${i}]`;
      if (t === 'file' || t === 'directory') {
        if (!types.includes(t)) types.push(t);
      } else this.issue(at, `must be file or directory, got ${JSON.stringify(t)}`);
    });
    if (Array.isArray(value) && value.length === 0) this.issue(path, 'must name file, directory or both');
    return types;
  }

  /** The agent's ModeInfo: the value's text, padded to 3 digits, at most 4 octal digits. */
  private mode(value: unknown, path: string): string | undefined {
    const src = this.sources.get(path);
    this.explained.add(path);
    let mode: string;
    if (typeof value === 'number') {
      if (!Number.isInteger(value) || value < 0)
        return (this.issue(path, `must be an octal mode such as 644 or "0755", got ${String(value)}`), undefined);
      mode = String(value);
    } else if (typeof value === 'string') mode = value.trim();
    else
      return (this.issue(path, `must be an octal mode such as 644 or "0755", got ${JSON.stringify(value)}`), undefined);
    const reread = src !== undefined && !src.quoted && src.format !== undefined && src.text !== mode;
    const readAs = reread
      ? `${src.text} is read as the YAML 1.1 ${src.format === 'OCT' ? 'octal' : src.format === 'HEX' ? 'hexadecimal' : 'base-60'} number ${mode}, and`
      : '';
    const meant = src?.text.replace(/^0+(?=\d{3})/, '');
    mode = mode.padStart(3, '0');
    const bad = [...mode].find((c) => c < '0' || c > '7');
    if (mode.length > 4 || bad !== undefined) {
      const what = mode.length > 4 ? 'has more than 4 digits' : `contains ${bad}, which is not an octal digit`;
      this.issue(
        path,
        reread
          ? `${readAs} ${mode} ${what} (CodeDeploy's agent fails the same way); quote it ("${src!.text}") or write ${meant}`
          : `${JSON.stringify(value)} is not a mode: it ${what} (modes are 1 to 4 octal digits, e.g. 644 or "0755")`,
      );
      return undefined;
    }
    if (reread)
      this.warnings.push({
        path,
        message: `${readAs} CodeDeploy's agent applies mode ${mode} (${symbolic(mode)}); Cutover does the same. Quote it ("${src!.text}") or write ${meant} for ${symbolic(meant!.padStart(3, '0'))}`,
      });
    return mode;
  }

  private acls(value: unknown, path: string): AclEntry[] | undefined {
    const entries = this.list(value, path, '["u:bob:rw", "d:g:dev:rx"]');
    const acls: AclEntry[] = [];
    entries.forEach((e, i) => {
      const at = `${path}[${i}]`;
      const s = this.text(e, at, 'an ACL entry such as u:bob:rw');
      if (s === undefined) return;
      const ace = parseAce(s);
      if ('error' in ace) this.issue(at, ace.error);
      else acls.push(ace.entry);
    });
    return acls;
  }

  private context(value: unknown, path: string): ServerPermission['context'] | undefined {
    if (!isObj(value)) return (this.issue(path, 'must be a mapping with type (and name, range)'), undefined);
    this.unknownKeys(value, ['name', 'user', 'type', 'range'], path);
    const type = this.text(value.type, `${path}.type`, 'an SELinux type such as httpd_sys_content_t');
    let user: string | undefined;
    if (value.name !== undefined) user = this.text(value.name, `${path}.name`, 'an SELinux user');
    if (value.user !== undefined) {
      if (value.name !== undefined) this.issue(`${path}.user`, 'give the SELinux user once, as name');
      else {
        user = this.text(value.user, `${path}.user`, 'an SELinux user');
        this.warnings.push({
          path: `${path}.user`,
          message: "CodeDeploy's agent reads the SELinux user from name and ignores user; Cutover reads either",
        });
      }
    }
    let range: string | undefined;
    if (value.range !== undefined) {
      const r = this.text(value.range, `${path}.range`, 'an SELinux range such as s0-s0:c0.c1023');
      if (r !== undefined) {
        const checked = checkRange(r);
        if (checked) this.issue(`${path}.range`, checked);
        else range = r;
      }
    }
    if (type === undefined) return undefined;
    return { type, ...(user !== undefined ? { user } : {}), ...(range !== undefined ? { range } : {}) };
  }

  private hooks(value: unknown, os: ServerAppSpec['os'] | undefined): ServerAppSpec['hooks'] {
    const hooks: ServerAppSpec['hooks'] = {};
    if (value === undefined || value === null) return hooks;
    if (!isObj(value)) {
      this.issue(
        'hooks',
        Array.isArray(value)
          ? 'must be a mapping of lifecycle events to scripts, e.g. "AfterInstall:\\n  - location: scripts/configure.sh" (a list of events is the Lambda and ECS form)'
          : 'must be a mapping of lifecycle events to lists of scripts',
      );
      return hooks;
    }
    for (const [name, scripts] of Object.entries(value)) {
      const at = `hooks.${name}`;
      const event = SERVER_HOOK_EVENTS.find((e) => e === name);
      if (!event) {
        const meant = SERVER_LIFECYCLE_EVENTS.find((e) => e.toLowerCase() === name.toLowerCase());
        if (meant && (AGENT_EVENTS as readonly string[]).includes(meant) && meant === name)
          this.issue(at, `${meant} is run by the agent itself and takes no scripts`);
        else if (meant && (ENGINE_EVENTS as readonly string[]).includes(meant) && meant === name)
          this.issue(at, `${meant} is done by the engine (the load balancer) and takes no scripts`);
        else if (meant) this.issue(at, `lifecycle event names are case-sensitive: write ${meant}`);
        else
          this.issue(
            at,
            `unknown lifecycle event; Server hooks are ${SERVER_HOOK_EVENTS.slice(0, -1).join(', ')} and ${SERVER_HOOK_EVENTS.at(-1)}`,
          );
        continue;
      }
      const list = this.list(scripts, at, '"- location: scripts/start.sh\\n  timeout: 300"');
      const parsed: ServerScript[] = [];
      list.forEach((entry, i) => {
        const sat = `${at}[${i}]`;
        if (!isObj(entry)) return this.issue(sat, 'must be a mapping with location (and timeout, runas)');
        this.unknownKeys(entry, SCRIPT_KEYS, sat);
        const before = this.issues.length;
        const location = this.relative(entry.location, `${sat}.location`, 'the script path in the bundle', os);
        if (location === '') this.issue(`${sat}.location`, 'must name a script, not the bundle root');
        const timeout = this.timeout(entry.timeout, `${sat}.timeout`);
        const runas =
          entry.runas === undefined || entry.runas === null
            ? undefined
            : this.text(entry.runas, `${sat}.runas`, 'a user name');
        if (runas !== undefined && os === 'windows')
          this.issue(`${sat}.runas`, 'runas is supported for os: linux only');
        if (runas !== undefined && !/^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/.test(runas))
          this.issue(`${sat}.runas`, `${JSON.stringify(runas)} is not a user name`);
        const sudo = entry.sudo;
        if (sudo !== undefined && sudo !== null && typeof sudo !== 'boolean')
          this.issue(`${sat}.sudo`, `must be true or false, got ${JSON.stringify(sudo)}`);
        if (this.issues.length > before || location === undefined || timeout === undefined) return;
        parsed.push({
          location,
          timeout,
          ...(runas !== undefined ? { runas } : {}),
          ...(sudo === true ? { sudo: true } : {}),
        });
      });
      const total = parsed.reduce((s, x) => s + x.timeout, 0);
      if (parsed.length > 1 && total > MAX_SCRIPT_TIMEOUT)
        this.warnings.push({
          path: at,
          message: `the timeouts of ${event}'s scripts add up to ${total} s, more than the ${MAX_SCRIPT_TIMEOUT} s an event may take`,
        });
      hooks[event] = parsed;
    }
    return hooks;
  }

  private timeout(value: unknown, path: string): number | undefined {
    if (value === undefined || value === null) return DEFAULT_SCRIPT_TIMEOUT;
    const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0 || n > MAX_SCRIPT_TIMEOUT) {
      this.explained.add(path);
      const src = this.sources.get(path);
      const read = src && !src.quoted && src.text !== String(value) ? ` (${src.text} is read as ${String(value)})` : '';
      this.issue(
        path,
        `must be a whole number of seconds from 1 to ${MAX_SCRIPT_TIMEOUT}, got ${JSON.stringify(value)}${read}`,
      );
      return undefined;
    }
    return n;
  }

  private fileExistsBehavior(value: unknown): FileExistsBehavior | undefined {
    if (value === undefined || value === null) return undefined;
    const s = typeof value === 'string' ? value.trim().toUpperCase() : undefined;
    if (s && (FILE_EXISTS_BEHAVIORS as readonly string[]).includes(s)) return s as FileExistsBehavior;
    this.issue('file_exists_behavior', `must be DISALLOW, OVERWRITE or RETAIN, got ${JSON.stringify(value)}`);
    return undefined;
  }
}

/** `rwxr-xr-x` for "755" (the last three digits of a mode). */
export function symbolic(mode: string): string {
  return [...mode.slice(-3)]
    .map((d) => {
      const n = Number(d);
      return `${n & 4 ? 'r' : '-'}${n & 2 ? 'w' : '-'}${n & 1 ? 'x' : '-'}`;
    })
    .join('');
}

/**
 * One ACL entry, checked and normalised as the agent's AceInfo does it: `[d[efault]:][u|g|m|o]:[name]:perms`
 * where perms is one octal digit or letters of rwx-. The base entries (user, group, other without a
 * name) are refused: mode sets them. Returns the normalised entry, or why it is invalid.
 */
export function parseAce(ace: string): { entry: AclEntry } | { error: string } {
  const invalid = `invalid ACL entry ${JSON.stringify(ace)} (expected [d:][u|g|m|o]:[name]:rwx)`;
  const parts = ace.split(':').reverse();
  if (parts.length < 2 || parts.length > 4) return { error: invalid };
  let isDefault = false;
  let type: string | undefined;
  let name = '';
  const isD = (s: string | undefined) => s === 'd' || s === 'default';
  if (parts.length === 4) {
    if (!isD(parts[3])) return { error: invalid };
    isDefault = true;
  }
  if (parts.length >= 3) {
    const p = parts[2]!;
    if (isD(p)) {
      if (isDefault) return { error: invalid };
      isDefault = true;
    } else if (p === 'm' || p === 'mask') type = 'mask';
    else if (p === 'o' || p === 'other') type = 'other';
    else if (p === 'g' || p === 'group') type = 'group';
    else if (p === 'u' || p === 'user') type = 'user';
    else return { error: invalid };
  }
  const p1 = parts[1]!;
  if (p1 === 'm' || p1 === 'mask') {
    if (type === undefined) type = 'mask';
    else name = 'mask';
  } else if (p1 === 'o' || p1 === 'other') {
    if (type === undefined) type = 'other';
    else name = 'other';
  } else {
    type ??= 'user';
    name = p1;
  }
  if ((type === 'mask' || type === 'other') && name !== '') return { error: invalid };
  if (!isDefault && type !== 'mask' && name === '')
    return { error: `ACL entry ${JSON.stringify(ace)} sets a base entry: use mode for the owner, group and others` };
  const perms = parts[0]!;
  let r = false;
  let w = false;
  let x = false;
  if (/^[0-7]$/.test(perms)) {
    const n = Number(perms);
    r = (n & 4) !== 0;
    w = (n & 2) !== 0;
    x = (n & 1) !== 0;
  } else {
    for (const c of perms) {
      if (c === 'r') r = true;
      else if (c === 'w') w = true;
      else if (c === 'x') x = true;
      else if (c !== '-')
        return { error: `ACL entry ${JSON.stringify(ace)} contains ${JSON.stringify(c)}, which is not r, w, x or -` };
    }
  }
  return { entry: `${isDefault ? 'default:' : ''}${type}:${name}:${r ? 'r' : '-'}${w ? 'w' : '-'}${x ? 'x' : '-'}` };
}

/** An SELinux range `s<n>[-s<n>][:c<n>[.c<n>](,c<n>[.c<n>])*]`, checked as RangeInfo does; undefined if valid. */
export function checkRange(range: string): string | undefined {
  const bad = (why: string) => `invalid SELinux range ${JSON.stringify(range)}: ${why}`;
  const two = (s: string, sep: string): string[] | undefined => {
    const parts = s.includes(sep) ? [s.slice(0, s.indexOf(sep)), s.slice(s.indexOf(sep) + 1)] : [s];
    return parts.every((p) => p !== '') ? parts : undefined;
  };
  const level = (s: string | undefined, letter: 's' | 'c'): number | undefined =>
    s && new RegExp(`^${letter}\\d+$`).test(s) ? Number(s.slice(1)) : undefined;
  const parts = two(range, ':');
  if (!parts) return bad('empty part');
  const sens = two(parts[0]!, '-');
  if (!sens) return bad('empty sensitivity');
  const low = level(sens[0], 's');
  const high = sens.length === 2 ? level(sens[1], 's') : low;
  if (low === undefined || high === undefined) return bad('sensitivities are s0, s1, …');
  if (high < low) return bad('the high sensitivity is below the low one');
  if (parts.length === 2) {
    const seen = new Set<number>();
    for (const part of parts[1]!.split(',')) {
      const ends = two(part, '.');
      if (!ends) return bad('empty category');
      const a = level(ends[0], 'c');
      const b = ends.length === 2 ? level(ends[1], 'c') : a;
      if (a === undefined || b === undefined || a > 1023 || b > 1023) return bad('categories are c0 … c1023');
      if (b < a) return bad(`category range ${part} goes down`);
      for (let c = a; c <= b; c++) {
        if (seen.has(c)) return bad('duplicate categories');
        seen.add(c);
      }
    }
  }
  return undefined;
}

/** The AppSpec of a bundle by CodeDeploy's rule: AppSpecFilename, else appspec.yaml, else appspec.yml. */
export function appSpecCandidates(appSpecFilename?: string): string[] {
  return [...new Set([...(appSpecFilename ? [appSpecFilename] : []), 'appspec.yaml', 'appspec.yml'])];
}
