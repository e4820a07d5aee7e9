/**
 * Crash tests (issue #11 item 8): `cutover server` and `cutover deploy` killed (SIGKILL) or stopped
 * (SIGTERM) during a bake, during a hook, right after a traffic shift and during a rollback, for
 * Lambda and ECS. After each: the history is intact, the record is terminal and agrees with the
 * world on disk (at the original, since nothing here may succeed), the group is free and the next
 * deployment succeeds. Real child processes on real state folders; every wait polls a condition.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { api, cutoverAsync, startCutover, startServer, waitFor, type Child } from '../support/cli.js';

vi.setConfig({ testTimeout: 240_000 });

type Platform = 'Lambda' | 'ECS';
type Moment = 'bake' | 'shift' | 'hook' | 'rollback';
type Runner = 'server' | 'deploy';
type Signal = 'SIGKILL' | 'SIGTERM';

const PLATFORM = {
  Lambda: {
    init: ['init'],
    group: 'checkout-prod',
    /** The hook that runs once production traffic is on the target (not yet committed). */
    lateHook: 'CodeDeployHook_postTraffic',
    canary: '10% 24h, 100%',
    fast: 'CodeDeployDefault.LambdaAllAtOnce',
  },
  ECS: {
    init: ['init', 'ecs'],
    group: 'web-prod',
    /** After the test listener moved to the replacement: the test route is what must go back. */
    lateHook: 'CodeDeployHook_afterAllowTestTraffic',
    canary: '10% 24h, 100%',
    fast: 'CodeDeployDefault.ECSAllAtOnce',
  },
} as const;

const HANG = `export const handler = async () => ({ status: 'InProgress', retryAfterSeconds: 600 });\n`;
const FAIL = `export const handler = async () => ({ status: 'Failed' });\n`;

/** Map `hook` to a module with `body` in the folder's world file. */
function setHook(dir: string, hook: string, file: string, body: string): void {
  writeFileSync(join(dir, 'hooks', file), body);
  const world = join(dir, 'cutover.world.yml');
  const text = readFileSync(world, 'utf8');
  const line = new RegExp(`^(\\s*${hook}:).*$`, 'm');
  expect(line.test(text), `${hook} in the world file`).toBe(true);
  writeFileSync(world, text.replace(line, `$1 ./hooks/${file}`));
}

interface Saved {
  functions?: {
    name: string;
    aliases: Record<string, { functionVersion: string; additionalVersionWeights: object }>;
  }[];
  ecs?: {
    loadBalancers: { listeners: { name: string; forward: Record<string, number> }[] }[];
    services: { taskSets: { status: string; taskDefinition: string; targetGroupArns: string[] }[] }[];
  };
}
const saved = (dir: string): Saved => JSON.parse(readFileSync(join(dir, '.cutover', 'world-state.json'), 'utf8'));

/** The world on disk runs `revision` (Lambda version, ECS task definition) and nothing else. */
function expectWorldAt(dir: string, platform: Platform, revision: string): void {
  const w = saved(dir);
  if (platform === 'Lambda') {
    const live = w.functions!.find((f) => f.name === 'checkout')!.aliases.live;
    expect(live, 'checkout:live').toEqual({ functionVersion: revision, additionalVersionWeights: {} });
    return;
  }
  const sets = w.ecs!.services[0]!.taskSets;
  expect(
    sets.map((t) => [t.status, t.taskDefinition]),
    'task sets',
  ).toEqual([['PRIMARY', revision]]);
  const tg = /targetgroup\/([^/]+)\//.exec(sets[0]!.targetGroupArns[0]!)![1]!;
  for (const l of w.ecs!.loadBalancers[0]!.listeners)
    expect(
      Object.entries(l.forward).filter(([, weight]) => weight > 0),
      `listener ${l.name}`,
    ).toEqual([[tg, 1]]);
}

/** Timeline event names seen so far, from the server's API or from a deploy's live output. */
async function eventsOf(child: Child, url: string | undefined, id: string | undefined): Promise<string[]> {
  if (!url) return [...child.out().matchAll(/^\s+\+\d\d:\d\d\s+(\w+)/gm)].map((m) => m[1]!);
  if (!id) return [];
  const { timeline } = await api<{ timeline: { event: string }[] }>(url, 'GetDeploymentTimeline', {
    deploymentId: id,
  });
  const { deploymentInfo } = await api<{ deploymentInfo: { cutover?: { waiting?: string } } }>(url, 'GetDeployment', {
    deploymentId: id,
  });
  // A deploy prints Baking lines while it bakes; the server's deployment says what it waits for.
  return [...timeline.map((e) => e.event), ...(deploymentInfo.cutover?.waiting === 'bake' ? ['Baking'] : [])];
}

/** What must have happened before the signal is sent. */
const REACHED: Record<Moment, (events: string[]) => boolean> = {
  bake: (e) => e.includes('Baking'),
  shift: (e) => e.includes('TrafficShifted'),
  hook: (e) => e.filter((x) => x === 'HookStarted').length >= (e.includes('TestTrafficAllowed') ? 1 : 2),
  rollback: (e) => e.includes('RollbackStarted'),
};

async function crash(platform: Platform, runner: Runner, signal: Signal, moment: Moment): Promise<void> {
  const p = PLATFORM[platform];
  const dir = mkdtempSync(join(tmpdir(), `cutover-crash-${platform}-${moment}-`));
  expect((await cutoverAsync([...p.init], dir)).code).toBe(0);
  if (moment === 'hook') setHook(dir, p.lateHook, 'hang.mjs', HANG);
  if (moment === 'rollback') setHook(dir, p.lateHook, 'fail.mjs', FAIL);
  const appspec = readFileSync(join(dir, 'appspec.yml'), 'utf8');
  // Bakes long enough that only the signal ends them; hooks and rollbacks as fast as they go.
  const config = moment === 'bake' || moment === 'shift' ? p.canary : p.fast;

  let child: Child;
  let url: string | undefined;
  let id: string | undefined;
  if (runner === 'server') {
    const server = await startServer(dir, ['--speed', '2000']);
    child = server;
    url = server.url;
    ({ deploymentId: id } = await api<{ deploymentId: string }>(url, 'CreateDeployment', {
      applicationName: 'shop',
      deploymentGroupName: p.group,
      deploymentConfigName: config,
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appspec } },
    }));
  } else {
    child = startCutover(
      ['deploy', '--application', 'shop', '--group', p.group, '--appspec', 'appspec.yml', '--config', config],
      dir,
    );
    id = await waitFor('the deployment to be created', () => /(d-[A-Z0-9]{9}) created/.exec(child.out())?.[1]);
  }
  await waitFor(`${moment} in ${id}`, async () => REACHED[moment](await eventsOf(child, url, id)), 120_000);
  child.process.kill(signal);
  await child.exited;

  // The next command on the folder finds what the killed process left and settles it.
  const shown = await cutoverAsync(['status', id, '--json'], dir);
  expect(shown.code, shown.err).not.toBe(3);
  const { deploymentInfo: d, timeline } = JSON.parse(shown.out) as {
    deploymentInfo: { status: string; rollbackInfo?: { rollbackDeploymentId?: string } };
    timeline: { event: string }[];
  };
  expect(['Failed', 'Stopped'], `${id} ended ${d.status}`).toContain(d.status);
  const events = timeline.map((e) => e.event);
  expect(events.slice(0, 2), 'history from the start').toEqual(['Created', 'Started']);
  expect(events, 'history to the end').toContain(d.status);
  expect(events).toContain(moment === 'hook' || moment === 'rollback' ? 'HookStarted' : 'TrafficShifted');
  const original = platform === 'Lambda' ? '1' : 'web:1';
  expectWorldAt(dir, platform, original);
  const rb = d.rollbackInfo?.rollbackDeploymentId;
  if (rb) {
    const rolled = JSON.parse((await cutoverAsync(['status', rb, '--json'], dir)).out) as {
      deploymentInfo: { status: string };
    };
    expect(rolled.deploymentInfo.status, 'the rollback record').toBe('Succeeded');
  }

  // The group is free and the world as the records say: the same revision deploys again.
  if (moment === 'hook')
    setHook(dir, p.lateHook, 'ok.mjs', `export const handler = async () => ({ status: 'Succeeded' });\n`);
  if (moment === 'rollback')
    setHook(dir, p.lateHook, 'ok.mjs', `export const handler = async () => ({ status: 'Succeeded' });\n`);
  const next = await cutoverAsync(
    [
      'deploy',
      '--application',
      'shop',
      '--group',
      p.group,
      '--appspec',
      'appspec.yml',
      '--config',
      p.fast,
      '--speed',
      '5000',
    ],
    dir,
  );
  expect(next.code, next.out + next.err).toBe(0);
  expectWorldAt(dir, platform, platform === 'Lambda' ? '2' : 'web:2');
}

const CASES: [Platform, Runner, Signal, Moment][] = [];
for (const platform of ['Lambda', 'ECS'] as const)
  for (const runner of ['server', 'deploy'] as const)
    for (const signal of ['SIGKILL', 'SIGTERM'] as const)
      for (const moment of ['bake', 'shift', 'hook', 'rollback'] as const)
        // ECS: the moments where its world differs most (test route moved; green primary, rollback).
        if (platform === 'Lambda' || moment === 'hook' || moment === 'rollback')
          CASES.push([platform, runner, signal, moment]);

describe('crash tests: a killed or stopped process leaves nothing half-applied', () => {
  for (const [platform, runner, signal, moment] of CASES)
    it(`${platform}: ${signal} of cutover ${runner} ${moment === 'shift' ? 'right after a traffic shift' : `during a ${moment}`}`, () =>
      crash(platform, runner, signal, moment));
});
