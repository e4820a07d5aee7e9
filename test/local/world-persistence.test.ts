/**
 * Local mode is crash-safe: every change to the simulated world is on disk, whole, before the
 * changing call returns (no save() or close() needed), and a crash while writing leaves the last
 * complete world.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimWorld, type SimWorldSpec } from '../../src/adapters/sim/world.js';
import { VirtualClock } from '../../src/local/clock.js';
import { writeFileAtomic } from '../../src/local/state-dir.js';
import { openSession, worldStatePath } from '../../src/wiring/session.js';

const LAMBDA_WORLD = resolve('examples/demo.world.yml');
const ECS_WORLD = resolve('examples/ecs.world.yml');
const onDisk = (stateDir: string) => JSON.parse(readFileSync(worldStatePath(stateDir), 'utf8')) as SimWorldSpec;
const alias = (spec: SimWorldSpec, fn: string, name: string) =>
  spec.functions!.find((f) => f.name === fn)!.aliases[name];

describe('SimWorld change notifications', () => {
  it('every change to what snapshot() covers notifies, before the call returns', () => {
    const world = new SimWorld(new VirtualClock('manual'), {
      ecs: {
        taskDefinitions: { 'web:1': { steadyAfterSeconds: 0 }, 'web:2': { steadyAfterSeconds: 0 } },
        loadBalancers: [
          {
            name: 'alb',
            targetGroups: ['blue', 'green'],
            listeners: [{ name: 'prod', port: 80, forwardTo: 'blue', rules: [{ priority: 1, forwardTo: 'blue' }] }],
          },
        ],
        services: [{ cluster: 'c', name: 's', taskDefinition: 'web:1', targetGroup: 'blue' }],
      },
    });
    world.addFunction('fn', { versions: { '1': {} }, aliases: { live: '1' } });
    const seen: string[] = [];
    world.onChange(() => seen.push(JSON.stringify(world.snapshot())));
    const changes: [string, () => void][] = [
      ['publish a version', () => world.publishVersion('fn', '2')],
      ['change an error rate', () => world.setErrorRate('fn', '2', 0.5)],
      [
        'shift an alias',
        () => world.updateAlias('fn', 'live', { functionVersion: '1', additionalVersionWeights: { '2': 0.1 } }),
      ],
      ['add a function', () => world.addFunction('other', { versions: { '1': {} }, aliases: { live: '1' } })],
      ['add an alarm', () => world.addAlarm({ name: 'a', functionName: 'fn', alias: 'live', threshold: 1 })],
      ['add a task definition', () => world.ecs.addTaskDefinition('web:3')],
    ];
    for (const [what, change] of changes) {
      const before = seen.length;
      change();
      expect(seen.length, what).toBe(before + 1);
      expect(seen.at(-1), what).toBe(JSON.stringify(world.snapshot()));
    }
    // ECS: create a task set, weight the listener and the rule, make it primary, delete the old one.
    const green = world.ecs.targetGroupArn('green');
    const blue = world.ecs.targetGroupArn('blue');
    const listener = world.ecs.listenerArn('alb/prod');
    const before = seen.length;
    const created = world.ecs.createTaskSet('c', 's', {
      taskDefinition: 'web:2',
      targetGroupArn: green,
      scalePercent: 100,
      externalId: 'd-1',
      containerName: 'web',
      containerPort: 80,
    } as Parameters<typeof world.ecs.createTaskSet>[2]);
    expect(seen.length).toBe(before + 1);
    expect(seen.at(-1)).toContain(created.id);
    world.ecs.modifyListener(listener, { [blue]: 90, [green]: 10 });
    expect(JSON.parse(seen.at(-1)!).ecs.loadBalancers[0].listeners[0].forward).toEqual({ blue: 90, green: 10 });
    world.ecs.modifyRule(world.ecs.describeRules(listener)[0]!.ruleArn!, { [green]: 1 });
    expect(JSON.parse(seen.at(-1)!).ecs.loadBalancers[0].listeners[0].rules[0].forward).toEqual({ green: 1 });
    world.ecs.updateServicePrimaryTaskSet('c', 's', created.id);
    const old = world.ecs.describeTaskSets('c', 's').find((t) => t.id !== created.id)!;
    world.ecs.deleteTaskSet('c', 's', old.id);
    expect(seen.length).toBe(before + 5);
    expect(JSON.parse(seen.at(-1)!).ecs.services[0].taskSets).toMatchObject([{ id: created.id, status: 'PRIMARY' }]);
    // Reading the world changes nothing.
    world.getAlias('fn', 'live');
    world.describeAlarms(['a']);
    world.ecs.describeTaskSets('c', 's');
    world.catchUp();
    expect(seen.length).toBe(before + 5);
  });
});

describe('a session persists the world on every change', () => {
  it('an alias shift is in world-state.json as soon as the call returns, without save() or close()', async () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'cutover-persist-')), 'state');
    const session = await openSession({ stateDir, speed: 60, worldFile: LAMBDA_WORLD });
    try {
      expect(existsSync(worldStatePath(stateDir))).toBe(false); // opening changes nothing
      session.world.updateAlias('checkout', 'live', { functionVersion: '1', additionalVersionWeights: { '2': 0.1 } });
      expect(alias(onDisk(stateDir), 'checkout', 'live')).toEqual({
        functionVersion: '1',
        additionalVersionWeights: { '2': 0.1 },
      });
      session.world.updateAlias('checkout', 'live', { functionVersion: '2', additionalVersionWeights: {} });
      expect(alias(onDisk(stateDir), 'checkout', 'live')).toEqual({
        functionVersion: '2',
        additionalVersionWeights: {},
      });
      expect(existsSync(`${worldStatePath(stateDir)}.tmp`)).toBe(false);
    } finally {
      await session.close();
    }
    // The next session starts from there.
    const again = await openSession({ stateDir, speed: 60, worldFile: LAMBDA_WORLD });
    try {
      expect(again.world.getAlias('checkout', 'live').functionVersion).toBe('2');
    } finally {
      await again.close();
    }
  });

  it('ECS task sets and listener weights are on disk as soon as they change', async () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'cutover-persist-ecs-')), 'state');
    const session = await openSession({ stateDir, speed: 60, worldFile: ECS_WORLD });
    try {
      const ecs = session.world.ecs;
      const listener = ecs.listenerArn('web-alb/prod');
      const green = ecs.targetGroupArn('web-green');
      const blue = ecs.targetGroupArn('web-blue');
      const created = ecs.createTaskSet('demo', 'web', {
        taskDefinition: 'web:2',
        targetGroupArn: green,
        scalePercent: 100,
        externalId: 'd-TEST',
        containerName: 'web',
        containerPort: 80,
      } as Parameters<typeof ecs.createTaskSet>[2]);
      expect(onDisk(stateDir).ecs!.services![0]!.taskSets!.map((t) => t.id)).toContain(created.id);
      ecs.modifyListener(listener, { [blue]: 90, [green]: 10 });
      const prod = onDisk(stateDir).ecs!.loadBalancers![0]!.listeners!.find((l) => l.name === 'prod')!;
      expect(prod.forward).toEqual({ 'web-blue': 90, 'web-green': 10 });
    } finally {
      await session.close();
    }
  });

  it('a crash between writing the .tmp file and the rename leaves the old world whole', async () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'cutover-persist-crash-')), 'state');
    const first = await openSession({ stateDir, speed: 60, worldFile: LAMBDA_WORLD });
    try {
      first.world.updateAlias('checkout', 'live', { functionVersion: '2', additionalVersionWeights: {} });
    } finally {
      await first.close();
    }
    const path = worldStatePath(stateDir);
    const good = readFileSync(path, 'utf8');
    // What a process killed in the middle of its next write leaves: half a new file beside the old.
    writeFileSync(`${path}.tmp`, good.slice(0, Math.floor(good.length / 2)));
    expect(readFileSync(path, 'utf8')).toBe(good);
    expect(() => JSON.parse(readFileSync(path, 'utf8'))).not.toThrow();

    const second = await openSession({ stateDir, speed: 60, worldFile: LAMBDA_WORLD });
    try {
      expect(second.world.getAlias('checkout', 'live').functionVersion).toBe('2'); // the old file, not the .tmp
      second.world.updateAlias('checkout', 'live', { functionVersion: '1', additionalVersionWeights: { '2': 0.5 } });
      expect(alias(onDisk(stateDir), 'checkout', 'live')).toEqual({
        functionVersion: '1',
        additionalVersionWeights: { '2': 0.5 },
      });
      expect(existsSync(`${path}.tmp`)).toBe(false); // the next write replaced the debris
    } finally {
      await second.close();
    }
  });

  it('writeFileAtomic replaces the file whole and leaves no .tmp', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-atomic-'));
    const path = join(dir, 'f.json');
    writeFileAtomic(path, '{"a":1}');
    writeFileAtomic(path, '{"a":2}');
    expect(readFileSync(path, 'utf8')).toBe('{"a":2}');
    expect(existsSync(`${path}.tmp`)).toBe(false);
  });
});
