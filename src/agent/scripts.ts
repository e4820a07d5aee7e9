/**
 * Running one lifecycle event's scripts as CodeDeploy's agent runs them (hook_executor.rb,
 * linux_util.rb): in AppSpec order, each in a new process group with stdin closed, `su <runas> -c`
 * for runas, stdout and stderr logged line by line as `[stdout]…` / `[stderr]…` to
 * `<deployment>/logs/scripts.log` (and the deployments log). One deadline per script covers its exit
 * and the closing of both outputs: past it the process group gets SIGTERM, then SIGKILL.
 *
 *   missing → 1 ScriptMissing · not executable and chmod +x fails → 2 ScriptNotExecutable ·
 *   still running at the deadline → 3 ScriptTimedOut · non-zero exit → 4 ScriptFailed ·
 *   exited, but a child still holds stdout/stderr at the deadline → 6 OutputsLeftOpen
 */
import { spawn } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ServerScript } from '../platforms/server/appspec.js';
import { AGENT_ERROR_CODES, ScriptError, ScriptLog } from './diagnostics.js';

/** Where an event's output goes: scripts.log, the deployments log, and the tail kept for diagnostics. */
export class EventLog {
  readonly tail = new ScriptLog();
  private readonly fd: number;
  private readonly allFd: number | undefined;

  constructor(
    scriptLogFile: string,
    private readonly deploymentId: string,
    deploymentsLogFile?: string,
  ) {
    mkdirSync(dirname(scriptLogFile), { recursive: true });
    this.fd = openSync(scriptLogFile, 'a', 0o640);
    if (deploymentsLogFile) {
      mkdirSync(dirname(deploymentsLogFile), { recursive: true });
      this.allFd = openSync(deploymentsLogFile, 'a', 0o640);
    }
  }

  /** One entry (ending in a newline), as the agent writes it: `YYYY-MM-DD HH:MM:SS <entry>`. */
  write(entry: string): void {
    this.tail.append(entry);
    writeSync(this.fd, `${stamp(new Date())} ${entry}`);
    if (this.allFd !== undefined)
      writeSync(this.allFd, `${new Date().toISOString()} [${this.deploymentId}]${entry.trimEnd()}\n`);
  }

  close(): void {
    closeSync(this.fd);
    if (this.allFd !== undefined) closeSync(this.allFd);
  }
}

const two = (n: number) => String(n).padStart(2, '0');
/** Ruby's `Time.now.to_s[0..-7]`: local time without the zone. */
function stamp(d: Date): string {
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

export interface RunContext {
  /** The revision's deployment-archive directory the locations are relative to. */
  archiveDir: string;
  /** The scripts' environment (the agent's, without its credentials, plus CodeDeploy's variables). */
  env: Record<string, string>;
  log: EventLog;
  /** The agent's uid (runas needs root). */
  uid: number;
  /** Working directory of the scripts (CodeDeploy's agent: its own). */
  cwd: string;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** What is running now, for the heartbeat. */
  onScript?: (location: string, deadline: Date) => void;
  /** How a script is made executable (tests make it fail). */
  chmod?: (path: string, mode: number) => void;
}

const prefix = (s: ServerScript) =>
  `Script at specified location: ${s.location}${s.runas ? ` run as user ${s.runas}` : ''}`;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The event's scripts, in order; throws ScriptError at the first that fails. */
export async function runScripts(event: string, scripts: readonly ServerScript[], ctx: RunContext): Promise<void> {
  if (scripts.length === 0) return;
  ctx.log.write(`LifecycleEvent - ${event}\n`);
  for (const script of scripts) {
    const path = resolve(ctx.archiveDir, script.location);
    if (!existsSync(path))
      throw new ScriptError(
        AGENT_ERROR_CODES.ScriptMissing,
        script.location,
        `Script does not exist at specified location: ${path}`,
        ctx.log.tail.text(),
      );
    if (!executable(path)) {
      try {
        (ctx.chmod ?? chmodSync)(path, statSync(path).mode | 0o111);
        if (!executable(path)) throw new Error('still not executable');
      } catch {
        throw new ScriptError(
          AGENT_ERROR_CODES.ScriptNotExecutable,
          script.location,
          `Unable to set script at specified location: ${script.location} as executable`,
          ctx.log.tail.text(),
        );
      }
    }
    ctx.log.write(`Script - ${script.location}\n`);
    await runScript(script, path, ctx);
  }
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    // root may "execute" anything; a script needs an x bit for exec to work.
    return (statSync(path).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function command(script: ServerScript, path: string): [string, string[]] {
  if (script.runas && script.sudo) return ['sudo', ['su', script.runas, '-c', quote(path)]];
  if (script.runas) return ['su', [script.runas, '-c', quote(path)]];
  if (script.sudo) return ['sudo', [path]];
  return [path, []];
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}

async function runScript(script: ServerScript, path: string, ctx: RunContext): Promise<void> {
  const fail = (code: (typeof AGENT_ERROR_CODES)[keyof typeof AGENT_ERROR_CODES], message: string) =>
    new ScriptError(code, script.location, message, ctx.log.tail.text());
  if (script.runas && !script.sudo && ctx.uid !== 0)
    throw fail(
      AGENT_ERROR_CODES.ScriptFailed,
      `${prefix(script)} cannot run: runas needs the agent to run as root (su), and it runs as uid ${ctx.uid}. Run the agent as root, or remove runas`,
    );
  const deadline = Date.now() + script.timeout * 1000;
  ctx.onScript?.(script.location, new Date(deadline));
  const [cmd, args] = command(script, path);
  const child = spawn(cmd, args, {
    cwd: ctx.cwd,
    env: ctx.env,
    detached: true, // its own process group (setsid), so the whole group can be signalled
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = (stream: NodeJS.ReadableStream, tag: string) =>
    new Promise<void>((done) => {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        partial += chunk;
        let nl: number;
        while ((nl = partial.indexOf('\n')) >= 0) {
          ctx.log.write(`[${tag}]${partial.slice(0, nl + 1)}`);
          partial = partial.slice(nl + 1);
        }
        // A line without an end is logged in pieces rather than held without bound.
        if (partial.length > 64 * 1024) {
          ctx.log.write(`[${tag}]${partial}\n`);
          partial = '';
        }
      });
      const end = () => {
        if (partial) ctx.log.write(`[${tag}]${partial}\n`);
        partial = '';
        done();
      };
      stream.on('close', end);
      stream.on('error', end);
    });
  const stdoutClosed = lines(child.stdout, 'stdout');
  const stderrClosed = lines(child.stderr, 'stderr');
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: Error }>((done) => {
    child.once('exit', (code, signal) => done({ code, signal }));
    child.once('error', (error) => done({ error }));
  });
  let timer: NodeJS.Timeout | undefined;
  const until = <T>(p: Promise<T>): Promise<T | 'timeout'> =>
    Promise.race([
      p,
      new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), Math.max(0, deadline - Date.now()));
      }),
    ]).finally(() => clearTimeout(timer));
  const stop = async () => {
    if (child.pid === undefined) return;
    killGroup(child.pid, 'SIGTERM');
    const gone = await Promise.race([
      Promise.all([exited, stdoutClosed, stderrClosed]).then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), ctx.killGraceMs)),
    ]);
    if (!gone) killGroup(child.pid, 'SIGKILL');
  };

  const result = await until(exited);
  if (result === 'timeout') {
    await stop();
    throw fail(
      AGENT_ERROR_CODES.ScriptTimedOut,
      `Script at specified location: ${script.location} failed to complete in ${script.timeout} seconds`,
    );
  }
  if ('error' in result) {
    child.stdout.destroy();
    child.stderr.destroy();
    const code = (result.error as NodeJS.ErrnoException).code ?? result.error.name;
    throw fail(
      AGENT_ERROR_CODES.ScriptFailed,
      `${prefix(script)} failed with error ${code} with message ${result.error.message}`,
    );
  }
  for (const [closed, name] of [
    [stdoutClosed, 'STDOUT'],
    [stderrClosed, 'STDERR'],
  ] as const) {
    if ((await until(closed)) === 'timeout') {
      // The script exited but something it started still holds the pipe: stop the group and let go.
      await stop();
      child.stdout.destroy();
      child.stderr.destroy();
      throw fail(
        AGENT_ERROR_CODES.OutputsLeftOpen,
        `Script at specified location: ${script.location} failed to close ${name}`,
      );
    }
  }
  if (result.code !== 0)
    throw fail(
      AGENT_ERROR_CODES.ScriptFailed,
      result.signal
        ? `${prefix(script)} failed with signal ${result.signal}`
        : `${prefix(script)} failed with exit code ${String(result.code)}`,
    );
}
