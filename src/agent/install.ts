/**
 * The Install event, as CodeDeploy's agent does it (installer.rb, install_instruction.rb):
 *
 * 1. Delete what the previous Install created: every path of `<dg-id>-cleanup`, last first
 *    (directories only when empty; a line cut short by a crash is skipped), then the file.
 * 2. Plan the copies from `files`: a directory source copies its contents recursively (missing
 *    directories are made), a file source lands in destination/<its name>; missing ancestors of a
 *    destination are made. A destination that exists (and was not the previous Install's, since
 *    that was just deleted) follows file_exists_behavior: DISALLOW fails before anything is
 *    copied, OVERWRITE copies over it (and records it for the next cleanup), RETAIN keeps it
 *    (not recorded). Two sources for one destination fail.
 * 3. Plan `permissions`, only on what this Install copies or makes: an installed file object gets
 *    its own permission (pattern must be ** and no except); a directory object's matching
 *    installed files and directories below it (never the object itself) get theirs, in order mode,
 *    ACL, SELinux context, owner/group. A path given permissions twice fails.
 * 4. Write the plan to `<dg-id>-install.json`, then run it, recording each created path in the new
 *    `<dg-id>-cleanup` before it is created. Copies keep modes and times; links are recreated.
 */
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmdirSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { FileExistsBehavior, ServerAppSpec, ServerPermission } from '../platforms/server/appspec.js';
import type { Layout } from './layout.js';
import type { AgentLog } from './log.js';
import { matchesExcept, matchesPattern } from './permissions.js';

export type Instruction =
  | { type: 'copy'; source: string; destination: string; overwrite?: boolean }
  | { type: 'mkdir'; directory: string }
  | { type: 'chmod'; mode: string; file: string }
  | { type: 'setfacl'; acl: string[]; file: string }
  | { type: 'semanage'; context: { user: string | null; role: null; type: string; range: string | null }; file: string }
  | { type: 'chown'; owner: string | null; group: string | null; file: string };

/** What the host provides to apply owners, ACLs and SELinux contexts (system tools, replaceable in tests). */
export interface HostTools {
  uid(): number;
  /** uid of a user name, gid of a group name (NSS-aware: getent). */
  userId(name: string): number | undefined;
  groupId(name: string): number | undefined;
  run(command: string, args: string[]): void;
}

export const systemTools: HostTools = {
  uid: () => process.getuid?.() ?? -1,
  userId: (name) => getent('passwd', name),
  groupId: (name) => getent('group', name),
  run: (command, args) => {
    try {
      execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: Buffer; status?: number };
      if (err.code === 'ENOENT') throw new Error(`${command} is not installed on this host`, { cause: e });
      throw new Error(
        `${command} ${args.join(' ')} failed${err.status !== undefined ? ` with exit code ${err.status}` : ''}: ${String(err.stderr ?? err.message).trim()}`,
        { cause: e },
      );
    }
  },
};

function getent(db: 'passwd' | 'group', name: string): number | undefined {
  let line: string | undefined;
  try {
    line = execFileSync('getent', [db, name], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).toString();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
    // No getent: the local files.
    try {
      line = readFileSync(`/etc/${db}`, 'utf8')
        .split('\n')
        .find((l) => l.split(':')[0] === name);
    } catch {
      return undefined;
    }
  }
  const id = Number(line?.split(':')[2]);
  return Number.isInteger(id) ? id : undefined;
}

const lstat = (p: string): Stats | undefined => {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
};
/** Ruby's File.exist? (follows links: a dangling link does not exist). */
const exists = (p: string) => existsSync(p);
const isDirectory = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

class Plan {
  readonly instructions: Instruction[] = [];
  readonly copies = new Map<string, string>();
  readonly mkdirs = new Set<string>();
  private readonly permissionTargets = new Set<string>();

  copy(source: string, destination: string, overwrite: boolean): void {
    const prior = this.copies.get(destination);
    if (prior !== undefined)
      throw new Error(
        `The deployment failed because the application specification file specifies two source files named ${source} and ${prior} for the same destination (${destination}). Remove one of the source file paths from the AppSpec file, and then try again.`,
      );
    if (this.mkdirs.has(destination))
      throw new Error(
        `The deployment failed because the application specification file calls for installing the file ${source}, but a file with that name already exists at the location (${destination}). Update your AppSpec file or directory structure, and then try again.`,
      );
    this.instructions.push({ type: 'copy', source, destination, ...(overwrite ? { overwrite: true } : {}) });
    this.copies.set(destination, source);
  }

  mkdir(directory: string): void {
    if (this.copies.has(directory))
      throw new Error(
        `The deployment failed because the application specification file includes an mkdir command more than once for the same destination path (${directory}) from (${this.copies.get(directory)}). Update the files section of the AppSpec file, and then try again.`,
      );
    if (!this.mkdirs.has(directory)) this.instructions.push({ type: 'mkdir', directory });
    this.mkdirs.add(directory);
  }

  permissions(object: string, p: ServerPermission): void {
    if (this.permissionTargets.has(object))
      throw new Error(
        `The deployment failed because the permissions setting for (${object}) is specified more than once in the application specification file. Update the files section of the AppSpec file, and then try again.`,
      );
    this.permissionTargets.add(object);
    if (p.mode !== undefined) this.instructions.push({ type: 'chmod', mode: p.mode, file: object });
    if (p.acls !== undefined) this.instructions.push({ type: 'setfacl', acl: p.acls, file: object });
    if (p.context !== undefined)
      this.instructions.push({
        type: 'semanage',
        context: { user: p.context.user ?? null, role: null, type: p.context.type, range: p.context.range ?? null },
        file: object,
      });
    if (p.owner !== undefined || p.group !== undefined)
      this.instructions.push({ type: 'chown', owner: p.owner ?? null, group: p.group ?? null, file: object });
  }
}

export interface InstallResult {
  instructions: Instruction[];
  /** Permission objects under which nothing was installed (CodeDeploy ignores them silently). */
  unmatchedPermissions: string[];
}

export class Installer {
  constructor(
    private readonly layout: Layout,
    private readonly log: AgentLog,
    private readonly tools: HostTools = systemTools,
  ) {}

  install(groupId: string, archiveDir: string, spec: ServerAppSpec, behavior: FileExistsBehavior): InstallResult {
    mkdirSync(this.layout.instructionsDir, { recursive: true });
    const cleanupFile = this.layout.cleanupFile(groupId);
    if (exists(cleanupFile)) {
      this.cleanup(readFileSync(cleanupFile, 'utf8'));
      unlinkSync(cleanupFile);
    }
    const { plan, unmatched } = this.plan(archiveDir, spec, behavior);
    writeFileSync(this.layout.installFile(groupId), JSON.stringify({ instructions: plan.instructions }));
    writeFileSync(cleanupFile, '');
    for (const i of plan.instructions) this.execute(i, cleanupFile);
    return { instructions: plan.instructions, unmatchedPermissions: unmatched };
  }

  /** Remove the previous Install's paths, last first; a path already gone is fine, a non-empty directory stays. */
  private cleanup(contents: string): void {
    if (contents === '') return;
    const lines = contents.split('\n');
    lines.pop(); // after the last newline: empty, or a line the crash cut short
    for (const line of lines.reverse()) {
      if (line.startsWith('semanage\0')) {
        const file = line.slice('semanage\0'.length).trim();
        try {
          this.tools.run('semanage', ['fcontext', '-d', file]);
        } catch (e) {
          this.log.warn(`cleanup: ${(e as Error).message}`);
        }
        continue;
      }
      const path = line.trim();
      if (path === '') continue;
      const st = lstat(path);
      if (!st) continue;
      if (st.isDirectory()) {
        try {
          rmdirSync(path);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
          this.log.info(`cleanup: kept ${path}: it holds files the previous install did not create`);
        }
      } else unlinkSync(path);
    }
  }

  private plan(archiveDir: string, spec: ServerAppSpec, behavior: FileExistsBehavior) {
    const plan = new Plan();
    for (const f of spec.files) {
      const source = f.source === '' ? archiveDir : join(archiveDir, f.source);
      const st = lstat(source);
      if (!st)
        throw new Error(
          `The deployment failed because the files section of the AppSpec file names ${f.source}, which is not in the revision`,
        );
      if (st.isDirectory()) {
        this.ancestors(plan, f.destination);
        this.directoryCopy(plan, source, f.destination, behavior);
      } else {
        const destination = join(f.destination, basename(source));
        this.ancestors(plan, destination);
        this.normalCopy(plan, source, destination, behavior);
      }
    }
    const unmatched: string[] = [];
    for (const p of spec.permissions) {
      const object = resolve(p.object);
      if (plan.copies.has(object)) {
        if (!p.type.includes('file')) continue;
        if (p.pattern !== '**')
          throw new Error(
            `The deployment failed because the application specification file includes an object (${object}) with an invalid pattern (${p.pattern}), such as a pattern for a file applied to a directory. Correct the permissions section of the AppSpec file, and then try again.`,
          );
        if (p.except.length > 0)
          throw new Error(
            `The deployment failed because the except parameter for a pattern in the permissions section (${JSON.stringify(p.except)}) for the object named ${object} contains an invalid format. Update the AppSpec file, and then try again.`,
          );
        noDefaultAcl(p);
        plan.permissions(object, p);
      } else if (plan.mkdirs.has(object) || isDirectory(object)) {
        const matches: string[] = [];
        const match = (path: string) =>
          matchesPattern(path, p.object, p.pattern) && !matchesExcept(path, p.object, p.except);
        if (p.type.includes('file'))
          for (const path of plan.copies.keys())
            if (match(path)) {
              noDefaultAcl(p);
              matches.push(path);
            }
        if (p.type.includes('directory')) for (const path of plan.mkdirs) if (match(path)) matches.push(path);
        for (const m of matches) plan.permissions(m, p);
        if (matches.length === 0) unmatched.push(object);
      } else unmatched.push(object);
    }
    for (const u of unmatched)
      this.log.info(`permissions for ${u}: nothing this install created is there; nothing set`);
    return { plan, unmatched };
  }

  private ancestors(plan: Plan, destination: string): void {
    const missing: string[] = [];
    let parent = dirname(destination);
    while (!exists(parent) && parent !== '.' && parent !== '/') {
      missing.unshift(parent);
      parent = dirname(parent);
    }
    for (const d of missing) plan.mkdir(d);
  }

  private directoryCopy(plan: Plan, source: string, destination: string, behavior: FileExistsBehavior): void {
    if (!isDirectory(destination)) plan.mkdir(destination);
    for (const entry of readdirSync(source).sort()) {
      const from = join(source, entry);
      const to = join(destination, entry);
      if (lstatSync(from).isDirectory()) this.directoryCopy(plan, from, to, behavior);
      else this.normalCopy(plan, from, to, behavior);
    }
  }

  private normalCopy(plan: Plan, source: string, destination: string, behavior: FileExistsBehavior): void {
    // A link at the destination counts as existing even when it dangles: nothing is written through it.
    if (!lstat(destination)) return plan.copy(source, destination, false);
    switch (behavior) {
      case 'DISALLOW':
        throw new Error(
          `The deployment failed because a specified file already exists at this location: ${destination}`,
        );
      case 'OVERWRITE':
        return plan.copy(source, destination, true);
      case 'RETAIN':
        return;
    }
  }

  private execute(i: Instruction, cleanupFile: string): void {
    const record = (line: string) => appendFileSync(cleanupFile, `${line}\n`);
    switch (i.type) {
      case 'copy': {
        const existing = lstat(i.destination);
        if (existing && !i.overwrite)
          throw new Error(
            `The deployment failed because a specified file already exists at this location: ${i.destination}.`,
          );
        if (existing?.isDirectory())
          throw new Error(`The deployment failed because a directory exists where a file goes: ${i.destination}.`);
        record(i.destination);
        if (existing) unlinkSync(i.destination);
        copy(i.source, i.destination, this.tools.uid() === 0);
        return;
      }
      case 'mkdir':
        if (lstat(i.directory))
          throw new Error(
            `The deployment failed because a specified file already exists at this location: ${i.directory}.`,
          );
        mkdirSync(i.directory);
        record(i.directory);
        return;
      case 'chmod':
        chmodSync(i.file, parseInt(i.mode, 8));
        return;
      case 'chown': {
        const uid = i.owner === null ? -1 : this.tools.userId(i.owner);
        const gid = i.group === null ? -1 : this.tools.groupId(i.group);
        if (uid === undefined)
          throw new Error(
            `The deployment failed because the owner ${i.owner} set on ${i.file} is not a user on this host`,
          );
        if (gid === undefined)
          throw new Error(
            `The deployment failed because the group ${i.group} set on ${i.file} is not a group on this host`,
          );
        try {
          chownSync(i.file, uid, gid);
        } catch (e) {
          throw new Error(
            `The deployment failed because the owner of ${i.file} could not be set (${(e as Error).message})${this.tools.uid() === 0 ? '' : '; owners can be set only when the agent runs as root'}`,
            { cause: e },
          );
        }
        return;
      }
      case 'setfacl': {
        const acl = fullAcl(i.acl, statSync(i.file).mode);
        try {
          this.tools.run('setfacl', ['--set', acl.join(','), i.file]);
        } catch (e) {
          throw new Error(
            `The deployment failed because of a problem with the acls permission settings in the application specification file for this object: ${i.file}. ${(e as Error).message}`,
            { cause: e },
          );
        }
        return;
      }
      case 'semanage': {
        const object = realpathSync(i.file);
        const args = [
          'fcontext',
          '-a',
          ...(i.context.user ? ['-s', i.context.user] : []),
          '-t',
          i.context.type,
          ...(i.context.range ? ['-r', i.context.range] : []),
          object,
        ];
        try {
          this.tools.run('semanage', args);
          this.tools.run('restorecon', ['-v', object]);
        } catch (e) {
          throw new Error(
            `The deployment failed because the application specification file contains an error in the settings for the context parameter. ${(e as Error).message}`,
            { cause: e },
          );
        }
        record(`semanage\0${object}`);
        return;
      }
    }
  }
}

function noDefaultAcl(p: ServerPermission): void {
  if (p.acls?.some((a) => a.startsWith('default:')))
    throw new Error(
      'The deployment failed because the -d parameter has been specified to apply an acl setting to a file. This parameter is supported for directories only. Update the AppSpec file, and then try again.',
    );
}

/** A copy that keeps the mode and times (and, as root, the owner) of its source; a link stays a link. */
function copy(source: string, destination: string, root: boolean): void {
  const st = lstatSync(source);
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(source), destination);
    return;
  }
  copyFileSync(source, destination);
  chmodSync(destination, st.mode & 0o7777);
  utimesSync(destination, st.atime, st.mtime);
  if (root) chownSync(destination, st.uid, st.gid);
}

const rwx = (digit: number) => `${digit & 4 ? 'r' : '-'}${digit & 2 ? 'w' : '-'}${digit & 1 ? 'x' : '-'}`;

/** The agent's get_full_acl: the entries given plus the base entries from the file's mode (and masks). */
export function fullAcl(entries: readonly string[], mode: number): string[] {
  const u = (mode >> 6) & 7;
  const g = (mode >> 3) & 7;
  const o = mode & 7;
  const acl = [...entries, `user::${rwx(u)}`, `group::${rwx(g)}`, `other::${rwx(o)}`];
  const access = entries.filter((e) => !e.startsWith('default:'));
  const defaults = entries.filter((e) => e.startsWith('default:')).map((e) => e.slice('default:'.length));
  if (access.some((e) => /^(user|group):[^:]+:/.test(e)) && !access.some((e) => e.startsWith('mask:')))
    acl.push(`mask::${rwx(g)}`);
  if (defaults.length > 0) {
    if (!defaults.some((e) => e.startsWith('user::'))) acl.push(`default:user::${rwx(u)}`);
    const defaultGroup = defaults.find((e) => e.startsWith('group::'));
    if (!defaultGroup) acl.push(`default:group::${rwx(g)}`);
    if (!defaults.some((e) => e.startsWith('other:'))) acl.push(`default:other::${rwx(o)}`);
    if (defaults.some((e) => /^(user|group):[^:]+:/.test(e)) && !defaults.some((e) => e.startsWith('mask:')))
      acl.push(`default:mask::${defaultGroup ? defaultGroup.slice('group::'.length) : rwx(g)}`);
  }
  return acl;
}
