/**
 * Local mode as processes meet it: killed servers, stopped servers, a second process on the same
 * state folder, a reset, the demos beside the user's own runs. Real child processes; every wait is
 * a poll for a condition with a generous bound, never a timed assertion.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { describe, expect, it, vi } from 'vitest';
import { api, cutoverAsync, startCutover, startServer, waitFor } from '../support/cli.js';

// Real processes (a second or more each to start); allow for a loaded machine.
vi.setConfig({ testTimeout: 180_000 });

interface Routing {
  functionVersion: string;
  additionalVersionWeights: Record<string, number>;
}
/** checkout:live as world-state.json has it on disk now. */
function liveOnDisk(dir: string): Routing | undefined {
  const path = join(dir, '.cutover', 'world-state.json');
  if (!existsSync(path)) return undefined;
  const saved = JSON.parse(readFileSync(path, 'utf8')) as {
    functions: { name: string; aliases: Record<string, Routing> }[];
  };
  return saved.functions.find((f) => f.name === 'checkout')?.aliases.live;
}

async function initDir(prefix: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  expect((await cutoverAsync(['init'], dir)).code).toBe(0);
  return dir;
}

/** CreateDeployment of the init AppSpec with a bake far longer than any test: only a stop ends it. */
async function longDeployment(url: string, dir: string): Promise<string> {
  const { deploymentId } = await api<{ deploymentId: string }>(url, 'CreateDeployment', {
    applicationName: 'shop',
    deploymentGroupName: 'checkout-prod',
    deploymentConfigName: '10% 24h, 100%',
    revision: {
      revisionType: 'AppSpecContent',
      appSpecContent: { content: readFileSync(join(dir, 'appspec.yml'), 'utf8') },
    },
  });
  return deploymentId;
}

interface Info {
  status: string;
  errorInformation?: { code: string };
  cutover?: { targetWeight?: number };
}
const info = async (url: string, id: string) =>
  (await api<{ deploymentInfo: Info }>(url, 'GetDeployment', { deploymentId: id })).deploymentInfo;

const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;
const TERMINAL = ['Succeeded', 'Failed', 'Stopped'];

describe('crash-safe local mode', () => {
  it('SIGKILL of the server after a traffic shift: the shift is on disk; a restart takes the folder over', async () => {
    const dir = await initDir('cutover-kill-');
    const server = await startServer(dir);
    const id = await longDeployment(server.url, dir);
    await waitFor('the 10% shift', async () => (await info(server.url, id)).cutover?.targetWeight === 10);
    // On disk while the server runs, without any save: the shift returned, so it is there.
    expect(liveOnDisk(dir)).toEqual({ functionVersion: '1', additionalVersionWeights: { '2': 0.1 } });
    server.process.kill('SIGKILL');
    expect(await server.exited).toBeNull();
    // Nothing got to clean up: the world file shows the shift, the owner file names a dead process.
    expect(liveOnDisk(dir)).toEqual({ functionVersion: '1', additionalVersionWeights: { '2': 0.1 } });
    expect(JSON.parse(readFileSync(join(dir, '.cutover', 'owner.json'), 'utf8'))).toMatchObject({
      pid: server.process.pid,
      command: 'server',
    });

    const again = await startServer(dir);
    expect(again.err()).toContain(
      `note: .cutover was held by 'cutover server' (pid ${server.process.pid}) that is no longer running; taking it over`,
    );
    expect(JSON.parse(readFileSync(join(dir, '.cutover', 'owner.json'), 'utf8'))).toMatchObject({
      pid: again.process.pid,
      api: again.url,
    });
    // The orphan is finished at the start (recorded, its group freed), and the world file is whole.
    expect(TERMINAL).toContain((await info(again.url, id)).status);
    expect(liveOnDisk(dir)).toBeDefined();
    again.process.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    expect(existsSync(join(dir, '.cutover', 'owner.json'))).toBe(false);
  });

  it('SIGTERM of the server during a bake stops the deployment with rollback, saves the world and exits 0', async () => {
    const dir = await initDir('cutover-term-');
    const server = await startServer(dir);
    const id = await longDeployment(server.url, dir);
    await waitFor('the 10% shift', async () => (await info(server.url, id)).cutover?.targetWeight === 10);
    expect(liveOnDisk(dir)).toEqual({ functionVersion: '1', additionalVersionWeights: { '2': 0.1 } });
    server.process.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.err()).toContain(`stopping ${id} (rolling back)…`);
    expect(server.err()).toContain(`stopped ${id}: Stopped, rolled back`);
    expect(liveOnDisk(dir)).toEqual({ functionVersion: '1', additionalVersionWeights: {} });
    expect(existsSync(join(dir, '.cutover', 'owner.json'))).toBe(false);
    // The record agrees with the world, and the group is free: the next deployment runs.
    const status = await cutoverAsync(['status', id, '--json'], dir);
    expect(status.code).toBe(1); // Stopped: 1, as through the API
    expect(JSON.parse(status.out).deploymentInfo).toMatchObject({
      status: 'Stopped',
      errorInformation: { code: 'MANUAL_STOP' },
    });
    const next = await cutoverAsync(
      ['deploy', '--application', 'shop', '--group', 'checkout-prod', '--appspec', 'appspec.yml', '--speed', '5000'],
      dir,
    );
    expect(next.code).toBe(0);
    expect(liveOnDisk(dir)).toEqual({ functionVersion: '2', additionalVersionWeights: {} });
  });

  it('a second signal while the server stops quits at once with 130', async () => {
    const dir = await initDir('cutover-twice-');
    // A BeforeAllowTraffic hook that holds the server's event loop until the test lets it go, so
    // both signals are pending when the server next looks.
    const holding = join(dir, 'holding');
    const release = join(dir, 'release');
    writeFileSync(
      join(dir, 'hooks', 'pre-traffic.mjs'),
      `import { existsSync, writeFileSync } from 'node:fs';
export function handler() {
  writeFileSync(${JSON.stringify(holding)}, '');
  const until = Date.now() + 120000;
  while (!existsSync(${JSON.stringify(release)}) && Date.now() < until);
  return { status: 'Succeeded' };
}
`,
    );
    const server = await startServer(dir);
    // The answer may never come (the hook may hold the server before it is sent, and the server quits).
    const created = longDeployment(server.url, dir).catch(() => undefined);
    await waitFor('the hook to hold the server', () => existsSync(holding));
    server.process.kill('SIGTERM');
    server.process.kill('SIGINT');
    writeFileSync(release, '');
    expect(await server.exited).toBe(130);
    expect(server.err()).toContain('while stopping: quitting at once');
    await created;
    expect(existsSync(join(dir, '.cutover', 'owner.json'))).toBe(false);
  });
});

describe('one owner per state folder', () => {
  it('while a server holds the folder, status, list, deploy and stop go through it; a second server exits 2', async () => {
    const dir = await initDir('cutover-owner-server-');
    const server = await startServer(dir);
    try {
      const id = await longDeployment(server.url, dir);
      const using = `using the cutover server at ${server.url} (pid ${server.process.pid}) that holds .cutover`;
      const status = await cutoverAsync(['status', id], dir);
      expect(status.code).toBe(0);
      expect(status.err.trim()).toBe(using);
      expect(status.out).toContain(id);
      const list = await cutoverAsync(
        ['list', '--application', 'shop', '--group', 'checkout-prod', '--output', 'json'],
        dir,
      );
      expect(list.code).toBe(0);
      expect(list.err.trim()).toBe(using);
      expect(JSON.parse(list.out).deployments.map((d: { deploymentId: string }) => d.deploymentId)).toEqual([id]);
      // The group is busy with the long deployment: deploy reaches the server, which says so.
      const busy = await cutoverAsync(
        ['deploy', '--application', 'shop', '--group', 'checkout-prod', '--appspec', 'appspec.yml'],
        dir,
      );
      expect(busy.code).toBe(2);
      expect(busy.err).toContain(using);
      expect(busy.err).toContain('DeploymentLimitExceededException');
      const stop = await cutoverAsync(['stop', id], dir);
      expect(stop.code).toBe(0);
      expect(stop.out).toContain(`${id}: stop requested`);
      await waitFor('the stop', async () => (await info(server.url, id)).status === 'Stopped');
      const deployed = await cutoverAsync(
        [
          'deploy',
          '--application',
          'shop',
          '--group',
          'checkout-prod',
          '--appspec',
          'appspec.yml',
          '--config',
          'CodeDeployDefault.LambdaAllAtOnce',
        ],
        dir,
      );
      expect(deployed.code).toBe(0);
      expect(deployed.out).toContain('status Succeeded, 100% on target');
      // Commands that need the folder itself are refused, in one line, without a stack trace.
      const second = await cutoverAsync(['server', '--port', '0', '--s3-port', '0'], dir);
      expect(second.code).toBe(2);
      expect(second.err.trim().split('\n')).toHaveLength(1);
      expect(second.err).toContain(
        `cutover server: .cutover is in use by 'cutover server' (pid ${server.process.pid}, API ${server.url},`,
      );
      expect(second.err).not.toMatch(/\n\s+at |Database is closed/);
      const reset = await cutoverAsync(['reset', '--yes'], dir);
      expect(reset.code).toBe(2);
      expect(reset.err).toContain(`is in use by 'cutover server' (pid ${server.process.pid}`);
      // The demos run in folders of their own: a server on .cutover does not bother them.
      const demo = await cutoverAsync(['demo', '--speed', '3000'], dir);
      expect(demo.code).toBe(0);
    } finally {
      server.process.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
  });

  it('while a deploy (not a server) holds the folder, other commands exit 2 naming its pid, command and address', async () => {
    const dir = await initDir('cutover-owner-deploy-');
    const deploy = startCutover(
      [
        'deploy',
        '--application',
        'shop',
        '--group',
        'checkout-prod',
        '--appspec',
        'appspec.yml',
        '--config',
        '10% 24h, 100%',
      ],
      dir,
    );
    await waitFor('the 10% shift', () => /TrafficShifted/.test(deploy.out()));
    const owner = JSON.parse(readFileSync(join(dir, '.cutover', 'owner.json'), 'utf8')) as { pid: number; api: string };
    expect(owner).toMatchObject({
      pid: deploy.process.pid,
      command: 'deploy',
      api: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    });
    const id = /(d-[A-Z0-9]{9}) created/.exec(deploy.out())![1]!;
    for (const args of [
      ['status', id],
      ['list', '--application', 'shop', '--group', 'checkout-prod'],
      ['stop', id],
      ['server'],
      ['reset'],
    ]) {
      const r = await cutoverAsync(args, dir);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.err).toContain(
        `cutover ${args[0]}: .cutover is in use by 'cutover deploy' (pid ${deploy.process.pid}, API ${owner.api},`,
      );
    }
    // Ctrl-C of the deploy stops it with rollback, as before.
    deploy.process.kill('SIGINT');
    expect(await deploy.exited).toBe(1);
    expect(deploy.out()).toMatch(/Stopped \(MANUAL_STOP\).*checkout:live → v1 100%/);
    expect(liveOnDisk(dir)).toEqual({ functionVersion: '1', additionalVersionWeights: {} });
    expect(existsSync(join(dir, '.cutover', 'owner.json'))).toBe(false);
  });

  it('a stale owner is taken over; a store locked by an unknown process is exit 2, not a stack trace', async () => {
    const dir = await initDir('cutover-owner-stale-');
    mkdirSync(join(dir, '.cutover'));
    const pid = deadPid();
    writeFileSync(
      join(dir, '.cutover', 'owner.json'),
      JSON.stringify({ pid, command: 'server', api: 'http://127.0.0.1:9', startedAt: '2026-01-01T00:00:00.000Z' }),
    );
    const args = [
      'deploy',
      '--application',
      'shop',
      '--group',
      'checkout-prod',
      '--appspec',
      'appspec.yml',
      '--speed',
      '5000',
    ];
    const deployed = await cutoverAsync(args, dir);
    expect(deployed.err.trim()).toBe(
      `note: .cutover was held by 'cutover server' (pid ${pid}) that is no longer running; taking it over`,
    );
    expect(deployed.code).toBe(0);
    expect(existsSync(join(dir, '.cutover', 'owner.json'))).toBe(false);

    // Another program holds the LevelDB store (no owner file): the lock is noticed before dynalite trips on it.
    const db = new Level(join(dir, '.cutover', 'store'));
    await db.open();
    try {
      const r = await cutoverAsync(['status', 'd-AAAAAAAAA'], dir);
      expect(r.code).toBe(2);
      expect(r.err.trim()).toBe(
        'cutover status: .cutover is in use by another process (its store is locked); wait for it to end or stop it, or use --state-dir for another folder',
      );
      expect(existsSync(join(dir, '.cutover', 'owner.json'))).toBe(false);
    } finally {
      await db.close();
    }
  });
});

describe('cutover reset', () => {
  it('says what it drops and exits 2 without --yes; with --yes the world is back to the world file', async () => {
    const dir = await initDir('cutover-reset-');
    const args = [
      'deploy',
      '--application',
      'shop',
      '--group',
      'checkout-prod',
      '--appspec',
      'appspec.yml',
      '--speed',
      '5000',
    ];
    expect((await cutoverAsync(args, dir)).code).toBe(0);
    expect(liveOnDisk(dir)).toEqual({ functionVersion: '2', additionalVersionWeights: {} });

    const dry = await cutoverAsync(['reset'], dir);
    expect(dry.code).toBe(2);
    expect(dry.err).toContain('pass --yes');
    expect(dry.out).toContain('1 deployment and 1 application (shop) in the local store');
    expect(dry.out).toContain('checkout:live: v2 100% (world file: v1 100%)');
    expect(liveOnDisk(dir)).toEqual({ functionVersion: '2', additionalVersionWeights: {} }); // nothing dropped

    const done = await cutoverAsync(['reset', '--yes'], dir);
    expect(done.code).toBe(0);
    expect(done.out).toContain('checkout:live: v2 100% (world file: v1 100%)');
    // The folder's local S3 keys stay: scripts that upload with them keep working after a reset.
    expect(readdirSync(join(dir, '.cutover'))).toEqual(['s3.env']);
    expect(await cutoverAsync(['reset'], dir)).toMatchObject({ code: 0, out: 'Nothing to reset in .cutover.\n' });
    // The same AppSpec (1 → 2) deploys again: the world is as the file says.
    expect((await cutoverAsync(args, dir)).code).toBe(0);
    expect((await cutoverAsync(['reset', '--help'], dir)).out).toContain('Usage: cutover reset');
  });
});

describe('the demos run in a state folder of their own', () => {
  it('demo, demo again, init + deploy, demo ecs: in one folder, in any order, each works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-demos-'));
    // The demos' temporary folders go here, so the test sees that they are removed.
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    const env = { TMPDIR: tmp, TMP: tmp, TEMP: tmp };
    const demo = await cutoverAsync(['demo', '--speed', '3000'], dir, env);
    expect(demo.code).toBe(0);
    expect(demo.err).toBe('');
    expect((await cutoverAsync(['demo', '--speed', '3000'], dir, env)).code).toBe(0);
    expect(existsSync(join(dir, '.cutover'))).toBe(false);
    expect((await cutoverAsync(['init'], dir, env)).code).toBe(0);
    const deploy = await cutoverAsync(
      ['deploy', '--application', 'shop', '--group', 'checkout-prod', '--appspec', 'appspec.yml', '--speed', '5000'],
      dir,
      env,
    );
    expect(deploy.code).toBe(0);
    const ecs = await cutoverAsync(['demo', 'ecs', '--speed', '3000'], dir, env);
    expect(ecs.code).toBe(0);
    expect((await cutoverAsync(['demo', '--speed', '3000'], dir, env)).code).toBe(0);
    expect(readdirSync(tmp).filter((f) => f.startsWith('cutover-demo-'))).toEqual([]);
    // The user's own world is where their deploy left it.
    expect(liveOnDisk(dir)).toEqual({ functionVersion: '2', additionalVersionWeights: {} });
    // --keep keeps the folder, and says where it is.
    const kept = await cutoverAsync(['demo', '--speed', '3000', '--keep'], dir, env);
    expect(kept.code).toBe(0);
    const keptDir = /--state-dir (\S+)/.exec(kept.out)?.[1];
    expect(keptDir && existsSync(join(keptDir, 'world-state.json'))).toBe(true);
  });
});
