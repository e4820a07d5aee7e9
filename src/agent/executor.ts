/**
 * What one host command does (command_executor.rb): DownloadBundle (prune old revisions, fetch,
 * unpack, record the most recent install), Install (installer, then record the last successful
 * install), or a hook event's scripts, taken from the revision CodeDeploy takes them from
 * (ApplicationStop and the block-traffic events from the last successful install while this
 * deployment has no archive yet; none installed yet: nothing to run).
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidInputError, formatIssues } from '../domain/errors.js';
import {
  SERVER_HOOK_EVENTS,
  appSpecCandidates,
  parseServerAppSpec,
  revisionForEvent,
  type ServerAppSpec,
  type ServerHookEvent,
} from '../platforms/server/appspec.js';
import { BundleRefusedError, stripSingleTopDirectory, unpackBundle, type UnpackLimits } from './archive.js';
import { Installer, type HostTools } from './install.js';
import { Layout } from './layout.js';
import type { AgentLog } from './log.js';
import { lastSuccessfulDir, mostRecentDir, pruneRevisions } from './retention.js';
import { downloadS3Object, type S3Options } from './s3.js';
import { EventLog, runScripts } from './scripts.js';
import { scriptEnvironment, type DeploymentSpec } from './spec.js';

export interface ExecutorOptions {
  layout: Layout;
  log: AgentLog;
  maxRevisions: number;
  s3: S3Options;
  unpack: UnpackLimits;
  /** The environment every script starts from (the agent's, without its credentials unless configured). */
  baseEnv: Record<string, string>;
  uid: number;
  cwd: string;
  killGraceMs: number;
  tools?: HostTools;
  /**
   * Install absolute destinations (and permissions objects) under this directory: `/srv/app` goes to
   * `<destinationRoot>/srv/app` (several agents standing in for hosts on one machine).
   */
  destinationRoot?: string;
}

/** What is running now, for heartbeats. */
export interface Progress {
  script?: string;
  deadline?: Date;
  tail?: () => string;
}

const isHookEvent = (name: string): name is ServerHookEvent => (SERVER_HOOK_EVENTS as readonly string[]).includes(name);

export class CommandExecutor {
  private readonly installer: Installer;

  constructor(private readonly o: ExecutorOptions) {
    this.installer = new Installer(o.layout, o.log, o.tools);
  }

  private dirOf(spec: DeploymentSpec): string {
    return this.o.layout.deploymentDir(spec.groupId, spec.deploymentId);
  }

  /** CodeDeploy's IsCommandNoop: DownloadBundle and Install never are; a hook is when it has no scripts to run. */
  isNoop(command: string, spec: DeploymentSpec): boolean {
    if (command === 'DownloadBundle' || command === 'Install') return false;
    if (!isHookEvent(command)) return true;
    const root = this.hookRoot(command, spec);
    if (root === undefined) return true;
    return (this.appSpec(Layout.archiveDir(root), spec).hooks[command] ?? []).length === 0;
  }

  /** Run the command; resolves with the log tail, or throws (ScriptError for a script's failure). */
  async execute(command: string, spec: DeploymentSpec, progress: Progress = {}): Promise<string> {
    const dir = this.dirOf(spec);
    mkdirSync(dir, { recursive: true });
    if (command === 'DownloadBundle') {
      await this.downloadBundle(spec, dir);
      return '';
    }
    if (command === 'Install') {
      this.install(spec, dir);
      return '';
    }
    if (!isHookEvent(command)) throw new Error(`Unsupported command type: ${command}.`);
    return this.hook(command, spec, dir, progress);
  }

  private async downloadBundle(spec: DeploymentSpec, dir: string): Promise<void> {
    const { layout, log } = this.o;
    for (const gone of pruneRevisions(layout, spec.groupId, dir, this.o.maxRevisions))
      log.info(`removed old revision ${gone} (max_revisions ${this.o.maxRevisions})`);
    const archive = Layout.archiveDir(dir);
    const bundle = Layout.bundleFile(dir);
    const r = spec.revision;
    let type: 'tar' | 'tgz' | 'zip' | 'directory';
    switch (r.type) {
      case 'S3':
        log.info(
          `downloading s3://${r.bucket}/${r.key}${r.version ? ` version ${r.version}` : ''} for ${spec.deploymentId}`,
        );
        await downloadS3Object(
          { bucket: r.bucket, key: r.key, version: r.version, etag: r.etag, size: r.size },
          bundle,
          this.o.s3,
        );
        type = r.bundleType;
        break;
      case 'GitHub':
        throw new Error('GitHub revisions are not supported by the Cutover agent; deploy the revision from S3');
      case 'Local File':
        copyFileSync(r.location, bundle);
        type = r.bundleType;
        break;
      case 'Local Directory':
        rmSync(archive, { recursive: true, force: true });
        cpSync(r.location, archive, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
        type = 'directory';
        break;
    }
    if (type !== 'directory') {
      rmSync(archive, { recursive: true, force: true });
      try {
        await unpackBundle(bundle, type, archive, this.o.unpack);
      } catch (e) {
        rmSync(archive, { recursive: true, force: true });
        if (e instanceof BundleRefusedError) throw new Error(`The revision was refused: ${e.message}`, { cause: e });
        throw e;
      }
      const stripped = stripSingleTopDirectory(archive);
      if (stripped) log.info(`the revision's files are in its top directory ${stripped}: that is the bundle root`);
    }
    mkdirSync(layout.instructionsDir, { recursive: true });
    writeFileSync(layout.mostRecentInstallFile(spec.groupId), dir);
  }

  private install(spec: DeploymentSpec, dir: string): void {
    const archive = Layout.archiveDir(dir);
    const appSpec = this.appSpec(archive, spec);
    const behavior = appSpec.fileExistsBehavior ?? spec.fileExistsBehavior ?? 'DISALLOW';
    const result = this.installer.install(spec.groupId, archive, appSpec, behavior);
    this.o.log.info(
      `installed ${spec.deploymentId}: ${result.instructions.length} instructions (file_exists_behavior ${behavior})`,
    );
    writeFileSync(this.o.layout.lastSuccessfulInstallFile(spec.groupId), dir);
  }

  /** The deployment directory whose revision a hook runs from, or undefined (nothing installed yet). */
  private hookRoot(event: ServerHookEvent, spec: DeploymentSpec): string | undefined {
    const current = this.dirOf(spec);
    const choice = revisionForEvent(event, { creator: spec.creator, type: spec.type });
    if (choice === 'current' || existsSync(Layout.archiveDir(current))) return current;
    return choice === 'lastSuccessful'
      ? lastSuccessfulDir(this.o.layout, spec.groupId)
      : mostRecentDir(this.o.layout, spec.groupId);
  }

  private async hook(event: ServerHookEvent, spec: DeploymentSpec, dir: string, progress: Progress): Promise<string> {
    const root = this.hookRoot(event, spec);
    if (root === undefined) {
      this.o.log.info(`${event} of ${spec.deploymentId}: no earlier install in group ${spec.groupId}; nothing to run`);
      return '';
    }
    const archiveDir = Layout.archiveDir(root);
    const scripts = this.appSpec(archiveDir, spec).hooks[event] ?? [];
    if (scripts.length === 0) return '';
    const log = new EventLog(Layout.scriptLog(dir), spec.deploymentId, this.o.layout.deploymentsLog);
    progress.tail = () => log.tail.text();
    try {
      await runScripts(event, scripts, {
        archiveDir,
        env: { ...this.o.baseEnv, ...scriptEnvironment(spec, event) },
        log,
        uid: this.o.uid,
        cwd: this.o.cwd,
        killGraceMs: this.o.killGraceMs,
        onScript: (script, deadline) => {
          progress.script = script;
          progress.deadline = deadline;
        },
      });
      return log.tail.text();
    } finally {
      log.close();
    }
  }

  /** The revision's AppSpec, read as the agent reads it (AppSpecFilename, then appspec.yaml, then appspec.yml). */
  private appSpec(archiveDir: string, spec: DeploymentSpec): ServerAppSpec {
    const names = appSpecCandidates(spec.appSpecFilename);
    const name = names.find((n) => existsSync(join(archiveDir, n)));
    if (name === undefined) {
      const expected = names.at(-1)!;
      throw new Error(
        `The Cutover agent did not find an AppSpec file within the unpacked revision directory at revision-relative path "${expected}". The revision was unpacked to directory "${archiveDir}", and the AppSpec file was expected but not found at path "${join(archiveDir, expected)}".`,
      );
    }
    let parsed: ReturnType<typeof parseServerAppSpec>;
    try {
      parsed = parseServerAppSpec(readFileSync(join(archiveDir, name), 'utf8'));
    } catch (e) {
      if (e instanceof InvalidInputError)
        throw new Error(`The AppSpec file ${name} is invalid: ${formatIssues(e.issues)}`, { cause: e });
      throw e;
    }
    for (const w of parsed.warnings) this.o.log.warn(`${name}: ${w.path}: ${w.message}`);
    if (parsed.spec.os !== 'linux')
      throw new Error(
        `The AppSpec file ${name} is for os: ${parsed.spec.os}, and this host runs ${process.platform}: the Cutover agent installs and runs hooks for os: linux only`,
      );
    return this.o.destinationRoot ? underRoot(parsed.spec, this.o.destinationRoot) : parsed.spec;
  }
}

/** The AppSpec with its absolute destinations and permissions objects moved under `root`. */
export function underRoot(spec: ServerAppSpec, root: string): ServerAppSpec {
  const under = (path: string) => join(root, path);
  return {
    ...spec,
    files: spec.files.map((f) => ({ ...f, destination: under(f.destination) })),
    permissions: spec.permissions.map((p) => ({ ...p, object: under(p.object) })),
  };
}
