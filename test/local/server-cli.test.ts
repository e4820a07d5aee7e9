/**
 * The CLI's Server commands as a user runs them: `cutover demo server` (four real agent processes, real
 * time) and `cutover init server`. Generous bounds: a loaded machine makes them slower, never different.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWorldFile } from '../../src/config/world-file.js';
import { parseServerAppSpec } from '../../src/platforms/server/appspec.js';

const BIN = resolve('bin/cutover.js');

function cutover(args: string[], cwd = process.cwd()) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Run without blocking this process's event loop (the demo's agents are its children, not ours). */
function cutoverAsync(args: string[], cwd: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('exit', (code) => done({ code, out, err }));
  });
}

describe('cutover demo server and init server', () => {
  it('demo server: revision 2 ships to four real hosts; revision 3 stops at the minimum and rolls back to 2; exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-demo-server-'));
    try {
      const state = join(dir, 'state');
      const r = await cutoverAsync(['demo', 'server', '--state-dir', state], dir);
      expect(r.code, `${r.out}\n${r.err}`).toBe(0);
      // A live per-host timeline: one line per host event.
      expect(r.out).toMatch(/web-1 +i-0000000000000001 +DownloadBundle +Succeeded/);
      expect(r.out).toMatch(/web-4 +i-0000000000000004 +ValidateService +Succeeded/);
      expect(r.out).toMatch(/web-1 +i-0000000000000001 +ValidateService +Failed \(ScriptFailed: .*health check failed/);
      expect(r.out).toMatch(/rollback web-1 +i-0000000000000001 +Install +Succeeded/);
      // The summary.
      expect(r.out).toMatch(/✓ revision 2: d-\w+ Succeeded/);
      expect(r.out).toMatch(
        /✓ revision 3: d-\w+ Failed \(HEALTH_CONSTRAINTS\), rollback d-\w+ Succeeded .* hosts run revision 2$/m,
      );
      expect(r.out).toContain('All ended as expected');
      // The hosts' own files: revision 2 installed, and every agent's log.
      for (const n of [1, 2, 3, 4]) {
        const host = join(state, 'hosts', `i-000000000000000${n}`);
        expect(readFileSync(join(host, 'fs', 'srv', 'app', 'version'), 'utf8')).toBe('2\n');
        expect(readFileSync(join(host, 'fs', 'var', 'log', 'app-deploy.log'), 'utf8')).toContain('ValidateService');
        expect(readFileSync(join(host, 'agent.log'), 'utf8')).toContain('stopped');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('init server: a world file with hosts, an AppSpec, the five scripts and a bundle layout; the world loads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-init-server-'));
    try {
      const r = cutover(['init', 'server'], dir);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain('Next:');
      expect(r.out).toContain('cutover server');
      const world = parseWorldFile(readFileSync(join(dir, 'cutover.world.yml'), 'utf8'));
      expect(world.servers?.hosts).toHaveLength(4);
      expect(world.applications[0]).toMatchObject({ name: 'fleet', computePlatform: 'Server' });
      const appSpec = parseServerAppSpec(readFileSync(join(dir, 'bundle', 'appspec.yml'), 'utf8')).spec;
      expect(Object.keys(appSpec.hooks).sort()).toEqual(
        ['AfterInstall', 'ApplicationStart', 'ApplicationStop', 'BeforeInstall', 'ValidateService'].sort(),
      );
      for (const scripts of Object.values(appSpec.hooks))
        for (const s of scripts ?? []) {
          const path = join(dir, 'bundle', s.location);
          expect(existsSync(path), s.location).toBe(true);
          expect(statSync(path).mode & 0o111).not.toBe(0);
        }
      expect(existsSync(join(dir, 'bundle', 'app', 'index.html'))).toBe(true);
      // Existing files are kept.
      expect(cutover(['init', 'server'], dir).out).toContain('kept    cutover.world.yml');
      expect(cutover(['init', 'server', '--help'], dir).out).toContain('server: writes cutover.world.yml');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
