/**
 * A local state folder (`.cutover/` by default): its files, written so that a crash at any moment
 * leaves each one whole, and its one owner. Only one process may use a state folder at a time
 * (dynalite keeps the store in LevelDB, which one process holds); `owner.json` says which one, so
 * another process can talk to it (a `cutover server`) or say clearly who holds the folder.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Write a file so that readers (and a restart after a crash) see the old content or the new, never
 * a part: write `<path>.tmp`, fsync it, rename it over `path`, fsync the folder.
 */
export function writeFileAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/** Make a rename in `dir` durable (folders cannot be opened for fsync everywhere, e.g. Windows). */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Not supported on this platform: the rename is still atomic, only its durability is the OS's.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** What `owner.json` says. */
export interface StateDirOwner {
  pid: number;
  /** The cutover command that holds the folder: server, deploy, demo, status, reset… */
  command: string;
  /** Its CodeDeploy-compatible API on loopback, once it listens (null before). */
  api: string | null;
  startedAt: string;
}

/** The state folder is held by another live process (or its store is locked by one). */
export class StateDirBusyError extends Error {
  constructor(
    readonly stateDir: string,
    /** Absent when the store is locked but no owner file says by whom. */
    readonly owner?: StateDirOwner,
  ) {
    super(
      owner
        ? `${stateDir} is in use by 'cutover ${owner.command}' (pid ${owner.pid}${owner.api ? `, API ${owner.api}` : ''}, since ${owner.startedAt})`
        : `${stateDir} is in use by another process (its store is locked)`,
    );
    this.name = 'StateDirBusyError';
  }
}

/** The LevelDB store under a state folder is held by another process. */
export class StoreLockedError extends Error {
  constructor(readonly path: string) {
    super(`the local store ${path} is locked by another process`);
    this.name = 'StoreLockedError';
  }
}

export const ownerPath = (stateDir: string): string => join(stateDir, 'owner.json');

/** Is a process with this pid running? (EPERM: it runs, as another user.) */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseOwner(text: string): StateDirOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<StateDirOwner>;
    if (typeof o.pid !== 'number' || typeof o.command !== 'string') return undefined;
    return {
      pid: o.pid,
      command: o.command,
      api: typeof o.api === 'string' ? o.api : null,
      startedAt: String(o.startedAt ?? ''),
    };
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The owner file of a state folder: absent (undefined), or what it says. A file that does not parse
 * yet is being written (it is created empty, then filled): look again for up to a second; after that
 * it is debris of a process that died in between, and reads as an owner with no live pid.
 */
export async function readOwner(stateDir: string): Promise<StateDirOwner | undefined> {
  for (let attempt = 0; ; attempt++) {
    let text: string;
    try {
      text = readFileSync(ownerPath(stateDir), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const owner = parseOwner(text);
    if (owner) return owner;
    if (attempt >= 20) return { pid: 0, command: 'unknown', api: null, startedAt: '' };
    await sleep(50);
  }
}

/** The live process that holds a state folder, if any (a stale owner file counts as none). */
export async function liveOwner(stateDir: string): Promise<StateDirOwner | undefined> {
  const owner = await readOwner(stateDir);
  return owner && isAlive(owner.pid) ? owner : undefined;
}

export interface StateDirClaim {
  /** Record the API this process serves (so other commands can go through it). */
  setApi(url: string): void;
  /** Give the folder up (idempotent; also done when the process exits). */
  release(): void;
}

/**
 * Become the one owner of a state folder: create `owner.json` exclusively (O_EXCL). An owner file
 * whose process no longer runs is taken over (`note` says so); a live one is a StateDirBusyError.
 */
export async function claimStateDir(
  stateDir: string,
  command: string,
  note: (message: string) => void,
): Promise<StateDirClaim> {
  mkdirSync(stateDir, { recursive: true });
  const path = ownerPath(stateDir);
  const me: StateDirOwner = { pid: process.pid, command, api: null, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = await readOwner(stateDir);
      if (!owner) continue; // given up in the meantime: try again
      if (isAlive(owner.pid)) throw new StateDirBusyError(stateDir, owner);
      note(
        `note: ${stateDir} was held by ${owner.pid ? `'cutover ${owner.command}' (pid ${owner.pid})` : 'a process'} that is no longer running; taking it over`,
      );
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      continue;
    }
    try {
      writeFileSync(fd, JSON.stringify(me));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.off('exit', release);
      // Remove the file only while it is still ours.
      try {
        if (parseOwner(readFileSync(path, 'utf8'))?.pid === process.pid) unlinkSync(path);
      } catch {
        // already gone
      }
    };
    process.on('exit', release);
    return {
      setApi: (url) => {
        if (!released) writeFileAtomic(path, JSON.stringify({ ...me, api: url }));
      },
      release,
    };
  }
  throw new StateDirBusyError(stateDir, await readOwner(stateDir));
}
