/**
 * The CLI behaves the same everywhere (issue #13): exit codes, JSON errors, local files, a closed
 * pipe, progress lines, list without a server. Real processes; nothing decided by wall-clock time.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { BIN, cutoverAsync, startCutover, waitFor } from '../support/cli.js';

vi.setConfig({ testTimeout: 120_000 });

async function initDir(prefix: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  expect((await cutoverAsync(['init'], dir)).code).toBe(0);
  return dir;
}
const DEPLOY = ['deploy', '--application', 'shop', '--group', 'checkout-prod', '--appspec', 'appspec.yml'];

describe('cutover CLI behaviour', () => {
  it('bad local files exit 2 naming the file, with a JSON error on stdout for --output json', async () => {
    const dir = await initDir('cutover-files-');
    const asDir = await cutoverAsync(
      ['deploy', '--application', 'shop', '--group', 'checkout-prod', '--appspec', 'hooks', '--output', 'json'],
      dir,
    );
    expect(asDir.code).toBe(2);
    expect(JSON.parse(asDir.out)).toEqual({
      error: { code: 'LocalFileError', message: expect.stringContaining('hooks: is a folder'), exitCode: 2 },
    });
    const world = readFileSync(join(dir, 'cutover.world.yml'), 'utf8');
    // A missing hook module, one that throws on import, one without a handler.
    for (const [module, text, says] of [
      ['hooks/missing.mjs', undefined, 'does not exist (hooks.CodeDeployHook_preTraffic'],
      [
        'hooks/throws.mjs',
        "throw new Error('boom at import');\n",
        'could not be loaded (hooks.CodeDeployHook_preTraffic',
      ],
      ['hooks/empty.mjs', 'export const nothing = 1;\n', 'exports no handler function'],
    ] as const) {
      if (text) writeFileSync(join(dir, module), text);
      writeFileSync(join(dir, 'cutover.world.yml'), world.replace('hooks/pre-traffic.mjs', module));
      const r = await cutoverAsync(DEPLOY, dir);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain(module);
      expect(r.err).toContain(says);
      expect(r.err).not.toMatch(/internal error|\n\s+at /);
    }
    // A world file with several mistakes: all of them, with their paths.
    writeFileSync(
      join(dir, 'cutover.world.yml'),
      `${world}\nextra: 1\n`.replace('applications:', 'applications:\n  - name: shop\n  - name: shop'),
    );
    const bad = await cutoverAsync(DEPLOY, dir);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('cutover.world.yml: ');
    expect(bad.err).toContain('unknown field extra');
    expect(bad.err).toMatch(/applications\.1\.name: a second application named shop/);
    // A damaged world-state.json: exit 2, and reset is the way out.
    writeFileSync(join(dir, 'cutover.world.yml'), world);
    mkdirSync(join(dir, '.cutover'), { recursive: true });
    writeFileSync(join(dir, '.cutover', 'world-state.json'), '{"functions": [');
    const corrupt = await cutoverAsync(DEPLOY, dir);
    expect(corrupt.code).toBe(2);
    expect(corrupt.err).toContain('world-state.json: is damaged');
    expect(corrupt.err).toContain('cutover reset --yes');
    expect((await cutoverAsync(['reset', '--yes'], dir)).code).toBe(0);
    expect((await cutoverAsync([...DEPLOY, '--speed', '5000'], dir)).code).toBe(0);
  });

  it('a typo exits 2 with "did you mean"; an unreachable API exits 4 (deploy honours CUTOVER_ENDPOINT)', async () => {
    const dir = await initDir('cutover-usage-');
    const typo = await cutoverAsync(['list', '--aplication', 'shop', '--output', 'json'], dir);
    expect(typo.code).toBe(2);
    expect(typo.err).toContain('did you mean --application?');
    expect(JSON.parse(typo.out).error.code).toBe('UsageError');
    const far = await cutoverAsync([...DEPLOY, '--output', 'json'], dir, { CUTOVER_ENDPOINT: 'http://127.0.0.1:9' });
    expect(far.code).toBe(4);
    expect(JSON.parse(far.out).error).toMatchObject({ code: 'EndpointUnreachable', exitCode: 4 });
    for (const cmd of [
      ['status', 'd-AAAAAAAAA'],
      ['list', '--application', 'a', '--group', 'g'],
      ['app', 'list'],
    ])
      expect((await cutoverAsync(cmd, dir, { CUTOVER_ENDPOINT: 'http://127.0.0.1:9' })).code, cmd[0]).toBe(4);
  });

  it('progress lines during a long bake, a Stopped deployment exits 1 in status, list works without a server', async () => {
    const dir = await initDir('cutover-progress-');
    const child = startCutover([...DEPLOY, '--config', '10% 24h, 100%', '--progress', '0.05'], dir);
    // Lines appear while the bake lasts: that is what is asserted, not when.
    await waitFor(
      'progress lines',
      () =>
        child
          .out()
          .split('\n')
          .filter((l) => /Waiting +baking, 10% on target/.test(l)).length >= 2,
    );
    const id = /(d-[A-Z0-9]{9}) created/.exec(child.out())![1]!;
    child.process.kill('SIGINT');
    expect(await child.exited).toBe(1);
    const status = await cutoverAsync(['status', id], dir);
    expect(status.code).toBe(1);
    expect(status.out).toContain('status Stopped (MANUAL_STOP');
    const listed = await cutoverAsync(['list', '--application', 'shop', '--group', 'checkout-prod'], dir);
    expect(listed.code, listed.err).toBe(0);
    expect(listed.out).toMatch(new RegExp(`^${id}  Stopped `, 'm'));
    const json = JSON.parse(
      (await cutoverAsync(['list', '--application', 'shop', '--group', 'checkout-prod', '--output', 'json'], dir)).out,
    );
    expect(json.deployments.map((d: { status: string }) => d.status)).toContain('Stopped');
    expect(JSON.stringify(json)).not.toMatch(/hookExecutionId/i);
  });

  it('a closed pipe ends the output quietly; the deployment runs to its end', async () => {
    const dir = await initDir('cutover-pipe-');
    const p = spawn(process.execPath, [BIN, ...DEPLOY, '--speed', '600'], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let err = '';
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    // `| head -1`: read the first line, then close the pipe.
    const first = await new Promise<string>((resolve) => p.stdout.once('data', (c: Buffer) => resolve(c.toString())));
    p.stdout.destroy();
    const code = await new Promise<number | null>((r) => p.on('exit', r));
    expect(first).toContain('created');
    expect(err).not.toMatch(/EPIPE|\n\s+at /);
    expect(code).toBe(0);
    const id = /(d-[A-Z0-9]{9})/.exec(first)![1]!;
    const shown = JSON.parse((await cutoverAsync(['status', id, '--output', 'json'], dir)).out);
    expect(shown.deploymentInfo.status).toBe('Succeeded');
  });
});
