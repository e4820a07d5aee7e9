/**
 * Local hosts: one real `cutover agent` child process per host the world file declares
 * (`servers.hosts`), standing in for an EC2 instance on this machine. Each has its own host id, its
 * own credentials from the local world (SigV4-signed calls, as on AWS), its own agent root and its own
 * filesystem root (the agent's `--destination-root`: the AppSpec's `/srv/app` lands in
 * `<stateDir>/hosts/<id>/fs/srv/app`, nothing outside the state folder is touched), and a log file
 * (`<stateDir>/hosts/<id>/agent.log`, the agent's and its scripts' stdout and stderr).
 *
 * Each agent runs in a process group of its own; `stop` sends the group SIGTERM (the agent lets running
 * events end), then SIGKILL after a grace period, so no agent and no script it started outlives the
 * session. An agent that exits by itself is reported (`onExit`) and not restarted: its host then stops
 * answering, as a stopped instance would, and its health check fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostCredential } from '../adapters/sim/host-credentials.js';

/** The CLI's entry point: `node bin/cutover.js agent …`. */
const CUTOVER_BIN = fileURLToPath(new URL('../../bin/cutover.js', import.meta.url));

export interface LocalHostSpec {
  /** The instance id (i-…): the agent's host identity. */
  id: string;
  credential: HostCredential;
}

export interface LocalHostsOptions {
  /** Host folders go under `<stateDir>/hosts/<id>/`. */
  stateDir: string;
  /** The local API (the engine) and S3. */
  endpoint: string;
  s3Endpoint: string;
  /** Region the agents sign for. */
  region?: string;
  /** Seconds between polls at most (default 0.5: an event is picked up at once). */
  pollSeconds?: number;
  /** Heartbeat interval (default 2 s). */
  heartbeatSeconds?: number;
  /** Told when an agent ends by itself (it is not restarted). */
  onExit?: (hostId: string, code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface LocalHost {
  id: string;
  /** The agent's root (deployment-root: revisions, instructions, logs). */
  root: string;
  /** The host's filesystem: where absolute destinations are installed. */
  fs: string;
  /** The agent's and its scripts' output. */
  log: string;
  pid: number | undefined;
}

interface Running {
  host: LocalHost;
  child: ChildProcess;
  exited: Promise<void>;
  alive: boolean;
}

export class LocalHosts {
  private readonly running = new Map<string, Running>();
  private stopping = false;

  constructor(private readonly o: LocalHostsOptions) {}

  /** The folders of a host (made if missing). */
  static dirs(stateDir: string, id: string): Omit<LocalHost, 'pid'> {
    const base = join(stateDir, 'hosts', id);
    return { id, root: join(base, 'root'), fs: join(base, 'fs'), log: join(base, 'agent.log') };
  }

  /** Start one agent per host. */
  start(hosts: LocalHostSpec[]): LocalHost[] {
    return hosts.map((h) => this.startOne(h));
  }

  private startOne(h: LocalHostSpec): LocalHost {
    const dirs = LocalHosts.dirs(this.o.stateDir, h.id);
    mkdirSync(dirs.root, { recursive: true });
    mkdirSync(dirs.fs, { recursive: true });
    const out = openSync(dirs.log, 'a');
    const poll = String(this.o.pollSeconds ?? 0.5);
    const child = spawn(
      process.execPath,
      [
        CUTOVER_BIN,
        'agent',
        '--endpoint',
        this.o.endpoint,
        '--s3-endpoint',
        this.o.s3Endpoint,
        '--host-id',
        `arn:aws:ec2:local:000000000000:instance/${h.id}`,
        '--root',
        dirs.root,
        '--destination-root',
        dirs.fs,
        '--poll-seconds',
        poll,
        '--max-poll-seconds',
        poll,
        '--heartbeat-seconds',
        String(this.o.heartbeatSeconds ?? 2),
        // The engine knows a host by its signature; the local S3 lets a host read with the same keys.
        '--sign',
        'always',
        '--s3-sign',
        'always',
        '--region',
        this.o.region ?? 'us-east-1',
      ],
      {
        // A process group of its own: stop() signals the agent and every script it started.
        detached: true,
        stdio: ['ignore', out, out],
        cwd: dirs.fs,
        env: {
          ...scrubbed(process.env),
          AWS_ACCESS_KEY_ID: h.credential.accessKeyId,
          AWS_SECRET_ACCESS_KEY: h.credential.secretAccessKey,
          // Which local host a script runs on (an instance would know its own name).
          CUTOVER_LOCAL_HOST: h.id,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      },
    );
    closeSync(out);
    const host: LocalHost = { ...dirs, pid: child.pid };
    const r: Running = { host, child, alive: true, exited: Promise.resolve() };
    r.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        r.alive = false;
        if (!this.stopping) this.o.onExit?.(h.id, code, signal);
        resolve();
      });
      child.once('error', () => {
        r.alive = false;
        resolve();
      });
    });
    this.running.set(h.id, r);
    return host;
  }

  /** Is the host's agent running (what the target group's health check sees)? */
  alive(id: string): boolean {
    return this.running.get(id)?.alive ?? false;
  }

  get hosts(): LocalHost[] {
    return [...this.running.values()].map((r) => r.host);
  }

  /** SIGTERM to every agent's process group, SIGKILL to what is left after `graceMs`; resolves when all ended. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    const all = [...this.running.values()];
    for (const r of all) signalGroup(r, 'SIGTERM');
    const timer = setTimeout(() => {
      for (const r of all) signalGroup(r, 'SIGKILL');
    }, graceMs);
    await Promise.all(all.map((r) => r.exited));
    clearTimeout(timer);
    // Scripts an agent started in their own groups end with it (the agent stops them); any left in the
    // agent's group are killed now.
    for (const r of all) signalGroup(r, 'SIGKILL', true);
  }
}

function signalGroup(r: Running, signal: NodeJS.Signals, evenIfExited = false): void {
  const pid = r.child.pid;
  if (pid === undefined || (!r.alive && !evenIfExited)) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** The session's environment without AWS credentials or agent settings (the agent gets its own). */
function scrubbed(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || k.startsWith('CUTOVER_AGENT_') || /^AWS_/.test(k)) continue;
    out[k] = v;
  }
  return out;
}
