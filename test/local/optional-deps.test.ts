/**
 * Local mode's emulators are optional dependencies (security issue #14): without them (as after
 * `npm install --omit=optional`, simulated by a resolve hook in the child process) a local-mode
 * command fails with exit code 2 and says what to install; everything else still works.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  LOCAL_MODE_PACKAGES,
  LocalModeUnavailableError,
  loadLocalModePackage,
  requireLocalMode,
} from '../../src/local/optional-deps.js';
import { BIN, type Run } from '../support/cli.js';

const HOOK = resolve('test/support/without-local-mode.mjs');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `node --import without-local-mode.mjs <args>` in a fresh folder (or `cwd`). */
function withoutLocalMode(args: string[], hide?: string, at?: string): Promise<Run & { cwd: string }> {
  const cwd = at ?? mkdtempSync(join(tmpdir(), 'cutover-optional-'));
  if (!at) dirs.push(cwd);
  return new Promise((done) => {
    const p = spawn(process.execPath, ['--import', HOOK, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', ...(hide ? { CUTOVER_HIDE_PACKAGES: hide } : {}) },
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('exit', (code) => done({ code, out, err, cwd }));
  });
}

describe('loadLocalModePackage', () => {
  it('loads each installed package (the installs tests run on have them)', async () => {
    expect(typeof (await loadLocalModePackage('dynalite')).default).toBe('function');
    expect(typeof (await loadLocalModePackage('level')).Level).toBe('function');
    expect(typeof (await loadLocalModePackage('aws-local-stepfunctions')).StateMachine).toBe('function');
    await expect(requireLocalMode()).resolves.toBeUndefined();
  });

  it('refuses a name that is not one of local mode’s packages', async () => {
    await expect(loadLocalModePackage('zod' as never)).rejects.toThrow(TypeError);
  });

  it('names the missing package(s) and the fix', () => {
    const one = new LocalModeUnavailableError(['level']);
    expect(one.message).toBe(
      "local mode needs the package level, which is not installed: run 'npm install --include=optional' (or reinstall without --omit=optional)",
    );
    expect(new LocalModeUnavailableError([...LOCAL_MODE_PACKAGES]).message).toContain(
      'packages aws-local-stepfunctions, dynalite, level, which are not installed',
    );
  });

  it('a package that does not resolve is a LocalModeUnavailableError naming it (in a child process)', async () => {
    const script = `
      const { loadLocalModePackage, requireLocalMode } = await import(${JSON.stringify(resolve('src/local/optional-deps.ts'))});
      const names = async (f) => { try { await f(); return 'loaded'; } catch (e) { return e.name + ':' + (e.packages ?? []).join(','); } };
      console.log(JSON.stringify({
        level: await names(() => loadLocalModePackage('level')),
        dynalite: await names(() => loadLocalModePackage('dynalite')),
        all: await names(() => requireLocalMode()),
      }));`;
    const r = await withoutLocalMode(['--import', 'tsx', '--input-type=module', '-e', script], 'level', process.cwd());
    expect(r.err).toBe('');
    expect(JSON.parse(r.out)).toEqual({
      level: 'LocalModeUnavailableError:level',
      dynalite: 'loaded',
      all: 'LocalModeUnavailableError:level',
    });
  }, 120_000);
});

describe('the CLI without local mode’s packages', () => {
  it('cutover demo exits 2 naming the packages and --include=optional, with no stack trace', async () => {
    const r = await withoutLocalMode([BIN, 'demo']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      "cutover demo: local mode needs the packages aws-local-stepfunctions, dynalite, level, which are not installed: run 'npm install --include=optional'",
    );
    expect(r.err).not.toMatch(/\n\s+at /);
    // It failed before claiming the state folder.
    expect(existsSync(join(r.cwd, '.cutover'))).toBe(false);
  }, 120_000);

  it('--output json carries the code LocalModeUnavailable', async () => {
    const r = await withoutLocalMode([BIN, 'demo', '--output', 'json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).error).toMatchObject({ code: 'LocalModeUnavailable', exitCode: 2 });
  }, 120_000);

  it('cutover reset exits 2 too, before claiming the state folder', async () => {
    const r = await withoutLocalMode([BIN, 'reset']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('local mode needs the packages aws-local-stepfunctions, dynalite, level');
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(existsSync(join(r.cwd, '.cutover'))).toBe(false);
  }, 120_000);

  it('cutover proxy --help still works (the proxy does not need local mode)', async () => {
    const r = await withoutLocalMode([BIN, 'proxy', '--help']);
    expect(r.code).toBe(0);
    expect(r.err).not.toContain('optional');
  }, 120_000);

  it('cutover --help still works', async () => {
    const r = await withoutLocalMode([BIN, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: cutover');
  }, 120_000);

  it('a command against an API endpoint still works (nothing listens: exit 4, not 2)', async () => {
    const r = await withoutLocalMode([
      BIN,
      'list',
      '--application',
      'app',
      '--group',
      'group',
      '--endpoint',
      'http://127.0.0.1:9',
    ]);
    expect(r.code).toBe(4);
    expect(r.err).not.toContain('optional');
  }, 120_000);
});
