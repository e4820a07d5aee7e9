/** One owner per state folder: owner.json created exclusively, stale owners taken over, live ones refused. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateDirBusyError, claimStateDir, liveOwner, ownerPath, readOwner } from '../../src/local/state-dir.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'cutover-owner-')), 'state');
/** The pid of a process that has ended. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

describe('state folder ownership', () => {
  it('the first claim writes owner.json; a second is refused naming the owner; release removes it', async () => {
    const dir = fresh();
    const notes: string[] = [];
    const claim = await claimStateDir(dir, 'server', (m) => notes.push(m));
    claim.setApi('http://127.0.0.1:4980');
    expect(JSON.parse(readFileSync(ownerPath(dir), 'utf8'))).toMatchObject({
      pid: process.pid,
      command: 'server',
      api: 'http://127.0.0.1:4980',
      startedAt: expect.any(String),
    });
    expect(await liveOwner(dir)).toMatchObject({ pid: process.pid, command: 'server' });
    const second = await claimStateDir(dir, 'deploy', (m) => notes.push(m)).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(StateDirBusyError);
    expect((second as StateDirBusyError).message).toContain(`'cutover server' (pid ${process.pid}`);
    expect((second as StateDirBusyError).message).toContain('API http://127.0.0.1:4980');
    claim.release();
    expect(existsSync(ownerPath(dir))).toBe(false);
    expect(await liveOwner(dir)).toBeUndefined();
    claim.release(); // idempotent
    expect(notes).toEqual([]);
  });

  it('an owner whose process has ended is taken over, with one line saying so', async () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    const pid = deadPid();
    writeFileSync(ownerPath(dir), JSON.stringify({ pid, command: 'deploy', api: null, startedAt: 'then' }));
    expect(await liveOwner(dir)).toBeUndefined();
    const notes: string[] = [];
    const claim = await claimStateDir(dir, 'status', (m) => notes.push(m));
    expect(notes).toEqual([
      `note: ${dir} was held by 'cutover deploy' (pid ${pid}) that is no longer running; taking it over`,
    ]);
    expect(await readOwner(dir)).toMatchObject({ pid: process.pid, command: 'status', api: null });
    claim.release();
  });

  it('an owner file left empty by a process that died while creating it is taken over', async () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    writeFileSync(ownerPath(dir), '');
    const notes: string[] = [];
    const claim = await claimStateDir(dir, 'deploy', (m) => notes.push(m));
    expect(notes).toEqual([`note: ${dir} was held by a process that is no longer running; taking it over`]);
    claim.release();
  });

  it('a release does not remove an owner file that is no longer ours', async () => {
    const dir = fresh();
    const claim = await claimStateDir(dir, 'deploy', () => undefined);
    const other = { pid: deadPid(), command: 'server', api: null, startedAt: 'x' };
    writeFileSync(ownerPath(dir), JSON.stringify(other));
    claim.release();
    expect(JSON.parse(readFileSync(ownerPath(dir), 'utf8'))).toEqual(other);
  });
});
