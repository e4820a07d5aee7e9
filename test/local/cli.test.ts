/** The CLI as a user drives it: real processes, local mode, a temporary state folder. */
import { spawn, spawnSync } from 'node:child_process';
import { CodeDeployClient, CreateDeploymentCommand, waitUntilDeploymentSuccessful } from '@aws-sdk/client-codedeploy';
import { readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

// Each test starts real CLI processes (a second or so each); allow for a loaded CI machine.
vi.setConfig({ testTimeout: 120_000 });

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

/** Like cutover(), without blocking the event loop (a server in this process's child must keep answering). */
function cutoverAsync(args: string[], cwd: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('cutover CLI (local mode)', () => {
  it('--help lists the commands; every command has --help; unknown commands exit 2', () => {
    const main = cutover(['--help']);
    expect(main.code).toBe(0);
    for (const cmd of [
      'demo',
      'init',
      'deploy',
      'status',
      'server',
      'reset',
      'app',
      'group',
      'config',
      'list',
      'stop',
      'promote',
      'pause',
      'resume',
      'approve',
      'continue',
    ]) {
      expect(main.out).toContain(cmd);
      const sub = cutover([cmd, '--help']);
      expect(sub.code).toBe(0);
      expect(sub.out).toMatch(new RegExp(`Usage: cutover ${cmd}`));
    }
    const bad = cutover(['deploi']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("unknown command 'deploi'");
  }, 90_000); // spawns a process per command: slow on a busy machine

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

  it('demo ecs: blue/green through all five hooks succeeds, the faulty task definition rolls back to blue, exit 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-demo-ecs-'));
    const r = cutover(['demo', 'ecs', '--speed', '2000', '--state-dir', join(dir, 'state')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/✓ d-[A-Z0-9]{9}\s+Succeeded .*web-alb\/prod web-green 100%/);
    expect(r.out).toMatch(/✓ d-[A-Z0-9]{9}\s+Stopped \(ALARM_ACTIVE\).*web-alb\/prod web-green 100%/);
    for (const hook of [
      'BeforeInstall',
      'AfterInstall',
      'AfterAllowTestTraffic',
      'BeforeAllowTraffic',
      'AfterAllowTraffic',
    ])
      expect(r.out).toContain(`${hook} hook reported Succeeded`);
    expect(r.out).toMatch(/Rolled back: demo:web: all traffic on web-green .* replacement ecs-svc\/\d+ deleted/);
    expect(cutover(['demo', 'fargate']).code).toBe(2);
  });

  it('init ecs, then deploy the ECS AppSpec it wrote: blue/green succeeds; a task definition that never becomes steady fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-init-ecs-'));
    const init = cutover(['init', 'ecs'], dir);
    expect(init.code).toBe(0);
    expect(init.out).toContain('cutover deploy --application shop --group web-prod --appspec appspec.yml');
    const args = [
      'deploy',
      '--application',
      'shop',
      '--group',
      'web-prod',
      '--appspec',
      'appspec.yml',
      '--speed',
      '5000',
    ];
    const ok = cutover(args, dir);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(
      /Succeeded +Deployment succeeded: demo:web runs web:2[\s\S]*Completed +demo:web runs web:2; original task set ecs-svc\/\d+ deleted/,
    );
    writeFileSync(
      join(dir, 'appspec.yml'),
      readFileSync(join(dir, 'appspec.yml'), 'utf8').replace('task-definition/web:2', 'task-definition/web:4'),
    );
    const stuck = cutover(args, dir);
    expect(stuck.code).toBe(1);
    expect(stuck.out).toMatch(/Failed \(ECS_UPDATE_ERROR\).*web-alb\/prod web-green 100%/);
  });

  it('init, deploy, status, and a second deploy that no longer matches the world', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-cli-'));
    expect(cutover(['init'], dir).code).toBe(0);
    const args = [
      'deploy',
      '--application',
      'shop',
      '--group',
      'checkout-prod',
      '--appspec',
      'appspec.yml',
      '--speed',
      '600',
    ];
    const first = cutover(args, dir);
    expect(first.code).toBe(0);
    const id = /(d-[A-Z0-9]{9})\s+Succeeded/.exec(first.out)?.[1];
    expect(id).toBeDefined();

    const status = cutover(['status', id!, '--json'], dir);
    expect(status.code).toBe(0);
    const info = JSON.parse(status.out) as {
      deploymentInfo: { status: string; functions: unknown[] };
      timeline: unknown[];
    };
    expect(info.deploymentInfo.status).toBe('Succeeded');
    expect(info.timeline.length).toBeGreaterThan(3);

    // The alias now runs version 2, so an AppSpec saying CurrentVersion 1 must fail before traffic moves.
    const second = cutover(args, dir);
    expect(second.code).toBe(1);
    expect(second.out).toMatch(/Failed \(INVALID_LAMBDA_CONFIGURATION\).*checkout:live → v2 100%/);
  });

  it('a deployment left unfinished by a killed process is settled from the world, recorded Failed, its group freed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-orphan-'));
    expect(cutover(['init'], dir).code).toBe(0);
    const args = ['deploy', '--application', 'shop', '--group', 'checkout-prod', '--appspec', 'appspec.yml'];
    const first = spawn(process.execPath, [BIN, ...args, '--config', '10% 24h, 100%'], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    first.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise<void>((resolve) => first.stdout.on('data', () => /TrafficShifted/.test(out) && resolve()));
    const orphan = /(d-[A-Z0-9]{9}) created/.exec(out)![1];
    first.kill('SIGKILL');
    await new Promise((r) => first.on('exit', r));
    // The world remembers the 10% shift: it was saved when it was made.
    const saved = JSON.parse(readFileSync(join(dir, '.cutover', 'world-state.json'), 'utf8'));
    expect(saved.functions[0].aliases.live).toEqual({ functionVersion: '1', additionalVersionWeights: { '2': 0.1 } });
    const second = await cutoverAsync([...args, '--speed', '3000'], dir);
    expect(second.err).toContain(`${orphan} was left unfinished by an earlier run`);
    // The orphan's shift was rolled back from the world when it was found, so the next deployment,
    // from version 1 again, succeeds.
    expect(second.code).toBe(0);
    const status = JSON.parse((await cutoverAsync(['status', orphan!, '--json'], dir)).out);
    expect(status.deploymentInfo).toMatchObject({
      status: 'Failed',
      errorInformation: { code: 'INTERNAL_ERROR' },
      rollbackInfo: { rollbackMessage: expect.stringMatching(/^Rolled back: checkout:live/) },
    });
  });

  it('commands for a server say clearly when none is running', () => {
    const r = cutover(['promote', 'd-AAAAAAAAA', '--endpoint', 'http://127.0.0.1:9']);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9 .*is 'cutover server' running\?/);
  });

  it('bad input: missing options and an invalid AppSpec exit 2 with every problem and no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-bad-'));
    expect(cutover(['init'], dir).code).toBe(0);
    const missing = cutover(['deploy', '--application', 'shop'], dir);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('missing --group, --appspec');
    writeFileSync(
      join(dir, 'bad.yml'),
      'version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: checkout\n        Alias: live\n',
    );
    const bad = cutover(['deploy', '--application', 'shop', '--group', 'checkout-prod', '--appspec', 'bad.yml'], dir);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('InvalidRevisionException');
    expect(bad.err).toContain('Resources[0].fn.Properties.CurrentVersion: required');
    expect(bad.err).toContain('Resources[0].fn.Properties.TargetVersion: required');
    expect(bad.err).not.toMatch(/\n\s+at /);
  });
});

describe('cutover server', () => {
  it('serves the CodeDeploy API on loopback; a deployment through the SDK runs in the server; Ctrl-C stops it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-server-'));
    expect(cutover(['init'], dir).code).toBe(0);
    const child = spawn(process.execPath, [BIN, 'server', '--port', '0', '--s3-port', '0', '--speed', '2000'], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no URL in: ${output}`)), 20_000);
      child.stdout.on('data', () => {
        const m = /Cutover local API on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (!m) return;
        clearTimeout(t);
        resolve(m[1]!);
      });
    });
    const client = new CodeDeployClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    try {
      const { deploymentId } = await client.send(
        new CreateDeploymentCommand({
          applicationName: 'shop',
          deploymentGroupName: 'checkout-prod',
          deploymentConfigName: '10% 24h, 100%', // far longer than the test: only a promote ends it
          revision: {
            revisionType: 'AppSpecContent',
            appSpecContent: { content: readFileSync(join(dir, 'appspec.yml'), 'utf8') },
          },
        }),
      );
      // Controls from another terminal, through the server.
      const promote = await cutoverAsync(['promote', deploymentId!, '--endpoint', url], dir);
      expect(promote).toMatchObject({ code: 0 });
      const r = await waitUntilDeploymentSuccessful(
        { client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
        { deploymentId },
      );
      expect(r.state).toBe('SUCCESS');
      expect(output).toMatch(/200 {2}CodeDeploy_20141006.CreateDeployment/);
      const listed = await cutoverAsync(
        ['list', '--application', 'shop', '--group', 'checkout-prod', '--output', 'json', '--endpoint', url],
        dir,
      );
      expect(
        JSON.parse(listed.out).deployments.map((d: { deploymentId: string; status: string }) => [
          d.deploymentId,
          d.status,
        ]),
      ).toEqual([[deploymentId, 'Succeeded']]);
      const late = await cutoverAsync(['stop', deploymentId!, '--endpoint', url], dir);
      expect(late.code).toBe(2);
      expect(late.err).toContain('DeploymentAlreadyCompletedException');

      // Catalog commands through the server.
      const run = (...args: string[]) => cutoverAsync([...args, '--endpoint', url], dir);
      expect((await run('config', 'create', 'Careful', '--steps', '5% 1m, 100%')).code).toBe(0);
      expect((await run('app', 'create', 'tools')).code).toBe(0);
      expect(
        (
          await run(
            'group',
            'create',
            '--application',
            'tools',
            '--group',
            'g1',
            '--config',
            'Careful',
            '--alarms',
            'checkout-errors',
            '--ignore-firing-alarms',
          )
        ).code,
      ).toBe(0);
      const group = JSON.parse(
        (await run('group', 'get', '--application', 'tools', '--group', 'g1', '--output', 'json')).out,
      );
      expect(group.deploymentGroupInfo).toMatchObject({
        deploymentConfigName: 'Careful',
        alarmConfiguration: {
          enabled: true,
          alarms: [{ name: 'checkout-errors' }],
          baselineMode: 'ignoreAlarmsAlreadyFiring',
        },
      });
      expect((await run('app', 'list')).out).toMatch(/^tools$/m);
      expect((await run('config', 'list')).out).toContain('CodeDeployDefault.LambdaCanary10Percent5Minutes');
      const inUse = await run('config', 'delete', 'Careful');
      expect(inUse.code).toBe(2);
      expect(inUse.err).toContain('DeploymentConfigInUseException');
      // deploy --endpoint: created in the server, followed from here until it ends.
      writeFileSync(
        join(dir, 'back.yml'),
        readFileSync(join(dir, 'appspec.yml'), 'utf8')
          .replace('CurrentVersion: "1"', 'CurrentVersion: "X"')
          .replace('TargetVersion: "2"', 'TargetVersion: "1"')
          .replace('CurrentVersion: "X"', 'CurrentVersion: "2"'),
      );
      const back = await run(
        'deploy',
        '--application',
        'shop',
        '--group',
        'checkout-prod',
        '--appspec',
        'back.yml',
        '--config',
        'CodeDeployDefault.LambdaAllAtOnce',
      );
      expect(back.code).toBe(0);
      expect(back.out).toMatch(/TrafficShifted +Step 1\/1: 100% on target/);
      expect(back.out).toContain('status Succeeded, 100% on target');
      const backId = /^(d-[A-Z0-9]{9}) /m.exec(back.out)?.[1];
      const remote = JSON.parse((await run('status', backId!, '--json')).out);
      expect(remote.deploymentInfo).toMatchObject({ status: 'Succeeded', creator: 'user' });
      expect(remote.timeline.map((t: { event: string }) => t.event)).toContain('Succeeded');
      // ECS applications and groups from flags (CodeDeploy's ECS group fields).
      expect((await run('app', 'create', 'containers', '--platform', 'ECS')).code).toBe(0);
      const listener = (id: string) =>
        `arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/web-alb/0123456789abcdef/${id}`;
      const ecsFlags = [
        '--application',
        'containers',
        '--group',
        'web',
        '--ecs-service',
        'demo/web',
        '--target-groups',
        'web-blue,web-green',
        '--prod-listener',
        listener('aaaaaaaaaaaaaaaa'),
      ];
      expect(
        (
          await run(
            'group',
            'create',
            ...ecsFlags,
            '--test-listener',
            listener('bbbbbbbbbbbbbbbb'),
            '--ready-wait',
            '30',
            '--termination-wait',
            '60',
          )
        ).code,
      ).toBe(0);
      const ecsGroup = JSON.parse(
        (await run('group', 'get', '--application', 'containers', '--group', 'web', '--output', 'json')).out,
      ).deploymentGroupInfo;
      expect(ecsGroup).toMatchObject({
        computePlatform: 'ECS',
        deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
        ecsServices: [{ clusterName: 'demo', serviceName: 'web' }],
        blueGreenDeploymentConfiguration: {
          deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 30 },
          terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 60 },
        },
      });
      const badService = await run(
        'group',
        'create',
        ...ecsFlags.slice(0, 4),
        '--group',
        'web2',
        '--ecs-service',
        'web',
      );
      expect(badService.code).toBe(2);
      expect(badService.err).toContain('--ecs-service: expected CLUSTER/SERVICE');
      const taken = await run('group', 'create', ...ecsFlags.map((f) => (f === 'web' ? 'web3' : f)));
      expect(taken.code).toBe(2);
      expect(taken.err).toContain('ECSServiceMappingLimitExceededException');
      const badFlags = await run('config', 'create', 'X', '--canary', '10', '--linear', '10:1');
      expect(badFlags.code).toBe(2);
      expect(badFlags.err).toContain('exactly one of --steps, --canary, --linear, --all-at-once');
    } finally {
      client.destroy();
      child.kill('SIGINT');
    }
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(0);
  }, 120_000); // a server plus ~30 CLI processes: slow on a busy machine
});
