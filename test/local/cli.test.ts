/** The CLI as a user drives it: real processes, local mode, a temporary state folder. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = resolve('bin/cutover.js');
function cutover(args: string[], cwd = process.cwd()) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('cutover CLI (local mode)', () => {
  it('--help lists the commands; every command has --help; unknown commands exit 2', () => {
    const main = cutover(['--help']);
    expect(main.code).toBe(0);
    for (const cmd of ['demo', 'init', 'deploy', 'status']) {
      expect(main.out).toContain(cmd);
      const sub = cutover([cmd, '--help']);
      expect(sub.code).toBe(0);
      expect(sub.out).toMatch(new RegExp(`Usage: cutover ${cmd}`));
    }
    const bad = cutover(['deploi']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("unknown command 'deploi'");
  });

  it('demo: the healthy release succeeds, the faulty one rolls back, exit 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-demo-'));
    const r = cutover(['demo', '--speed', '1000', '--state-dir', join(dir, 'state')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/✓ d-[A-Z0-9]{9}\s+Succeeded .*checkout:live → v2 100%/);
    expect(r.out).toMatch(/✓ d-[A-Z0-9]{9}\s+Stopped \(ALARM_ACTIVE\).*checkout:live → v2 100%/);
    expect(r.out).toContain('checkout-errors: OK → ALARM');
    expect(r.out).toContain('Rolled back');
  });

  it('init, deploy, status, and a second deploy that no longer matches the world', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-cli-'));
    expect(cutover(['init'], dir).code).toBe(0);
    const args = ['deploy', '--application', 'shop', '--group', 'checkout-prod', '--appspec', 'appspec.yml', '--speed', '600'];
    const first = cutover(args, dir);
    expect(first.code).toBe(0);
    const id = /(d-[A-Z0-9]{9})\s+Succeeded/.exec(first.out)?.[1];
    expect(id).toBeDefined();

    const status = cutover(['status', id!, '--json'], dir);
    expect(status.code).toBe(0);
    const info = JSON.parse(status.out) as { deploymentInfo: { status: string; functions: unknown[] }; timeline: unknown[] };
    expect(info.deploymentInfo.status).toBe('Succeeded');
    expect(info.timeline.length).toBeGreaterThan(3);

    // The alias now runs version 2, so an AppSpec saying CurrentVersion 1 must fail before traffic moves.
    const second = cutover(args, dir);
    expect(second.code).toBe(1);
    expect(second.out).toMatch(/Failed \(INVALID_LAMBDA_CONFIGURATION\).*checkout:live → v2 100%/);
  });

  it('bad input: missing options and an invalid AppSpec exit 2 with every problem and no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-bad-'));
    expect(cutover(['init'], dir).code).toBe(0);
    const missing = cutover(['deploy', '--application', 'shop'], dir);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('missing --group, --appspec');
    writeFileSync(join(dir, 'bad.yml'), 'version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: checkout\n        Alias: live\n');
    const bad = cutover(['deploy', '--application', 'shop', '--group', 'checkout-prod', '--appspec', 'bad.yml'], dir);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('InvalidRevisionException');
    expect(bad.err).toContain('Resources[0].fn.Properties.CurrentVersion: required');
    expect(bad.err).toContain('Resources[0].fn.Properties.TargetVersion: required');
    expect(bad.err).not.toMatch(/\n\s+at /);
  });
});
