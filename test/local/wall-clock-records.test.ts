/**
 * Records carry wall-clock dates; waits and deadlines are measured on virtual time
 * (docs/adr/0020-wall-clock-records.md). Compression changes how long a wait takes, not the date on a
 * record.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CodeDeployClient,
  CreateDeploymentCommand,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/local/clock.js';
import { openSession } from '../../src/wiring/session.js';
import { createLocalEnvironment } from '../../src/wiring/local.js';
import { TASKS } from '../../src/tasks/index.js';
import { appSpec, standardWorld, withDeployments } from '../support/local.js';

const WORLD = {
  functions: [{ name: 'api', versions: { '1': { errorRate: 0 }, '2': { errorRate: 0 } }, aliases: { live: '1' } }],
  alarms: [],
  hooks: {},
  applications: [
    {
      name: 'shop',
      computePlatform: 'Lambda',
      deploymentGroups: [
        { name: 'prod', deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes', alarms: [] },
      ],
    },
  ],
};

describe('dates on records are wall-clock dates', () => {
  it('a deployment created through the local server is stamped with the wall clock, and createTimeRange finds it', async () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'cutover-wall-')), 'state');
    // The default speed: a 5-minute bake takes 5 s, virtual time runs ahead of the wall clock.
    const session = await openSession({ stateDir, speed: 60, world: WORLD as never, baseDir: process.cwd() });
    const client = new CodeDeployClient({
      endpoint: session.api.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    try {
      const { deploymentId } = await client.send(
        new CreateDeploymentCommand({
          applicationName: 'shop',
          deploymentGroupName: 'prod',
          revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec() } },
        }),
      );
      const { deploymentInfo } = await client.send(new GetDeploymentCommand({ deploymentId }));
      const created = deploymentInfo!.createTime!.getTime();
      expect(Math.abs(created - Date.now())).toBeLessThan(5_000);
      const range = (fromMs: number, toMs: number) =>
        client.send(
          new ListDeploymentsCommand({
            applicationName: 'shop',
            deploymentGroupName: 'prod',
            createTimeRange: { start: new Date(fromMs), end: new Date(toMs) },
          }),
        );
      expect((await range(Date.now() - 60_000, Date.now() + 60_000)).deployments).toContain(deploymentId);
      // An hour ahead (where a virtual createTime would have been) finds nothing.
      expect((await range(Date.now() + 3_600_000, Date.now() + 7_200_000)).deployments).toEqual([]);
      await client.send(new StopDeploymentCommand({ deploymentId }));
    } finally {
      client.destroy();
      await session.close();
    }
  });

  it('no wait or deadline is measured from a stamp: with stamps frozen years back, a deployment runs the same', async () => {
    // Stamps from a source that never moves, far from virtual time: if any bake, hook timeout or
    // deadline were read off a record's date, the deployment would end differently (or never).
    const frozen = new Date('2001-02-03T04:05:06Z');
    const clock = new VirtualClock('manual', new Date('2026-06-01T12:00:00Z'), () => frozen);
    const env = await createLocalEnvironment({ clock, world: standardWorld(clock) });
    try {
      await TASKS.createApplication.run({ applicationName: 'shop' }, env.deps);
      await TASKS.createDeploymentGroup.run(
        {
          applicationName: 'shop',
          deploymentGroupName: 'prod',
          deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
          alarmConfiguration: { enabled: false, alarms: [], ignorePollAlarmFailure: false },
          hookTimeoutSeconds: 600,
        },
        env.deps,
      );
      const t = withDeployments(env, clock, 'shop', 'prod');
      // A canary with its 5-minute bake: succeeds after 5 virtual minutes.
      const started = clock.now().getTime();
      const ok = await t.deploy(appSpec());
      expect(ok.deployment.state.status).toBe('Succeeded');
      expect((clock.now().getTime() - started) / 1000).toBeGreaterThanOrEqual(300);
      expect(ok.deployment.spec.createTime).toBe(frozen.toISOString());
      expect(ok.deployment.state.completeTime).toBe(frozen.toISOString());
      expect(ok.timeline.every((e) => e.at === frozen.toISOString())).toBe(true);
      // A hook that never reports times out after its 600 virtual seconds, and the deployment fails.
      env.world.registerHook('silent', async () => undefined);
      const before = clock.now().getTime();
      const timedOut = await t.deploy(appSpec({ functions: [['api', '2', '1']], before: 'silent' }));
      expect(timedOut.deployment.state.status).toBe('Failed');
      expect(timedOut.deployment.state.lifecycleEvents).toContainEqual(
        expect.objectContaining({ lifecycleEventName: 'BeforeAllowTraffic', status: 'Failed' }),
      );
      expect((clock.now().getTime() - before) / 1000).toBeGreaterThanOrEqual(600);
    } finally {
      await env.close();
    }
  });
});

describe('virtual time never goes back across sessions', () => {
  const ECS_WORLD = resolve('examples/ecs.world.yml');
  const ecsAppSpec = (taskDefinition: string) =>
    readFileSync(resolve('examples/ecs-appspec.yml'), 'utf8').replace('web:2', taskDefinition);
  /** Deploy through a session and wait (on real time: the session's clock is paced) for the end. */
  async function deployIn(stateDir: string, taskDefinition: string) {
    const session = await openSession({ stateDir, speed: 2000, worldFile: ECS_WORLD });
    try {
      const { deploymentId } = (await session.run(TASKS.createDeployment, {
        applicationName: 'shop',
        deploymentGroupName: 'web-prod',
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content: ecsAppSpec(taskDefinition) } },
      })) as { deploymentId: string };
      for (;;) {
        const d = (await session.deps.deployments.get(deploymentId))!;
        if (['Succeeded', 'Failed', 'Stopped'].includes(d.state.status) && d.state.outcomePublished) return d;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await session.close();
    }
  }

  it('two back-to-back ECS deployments in one state folder, each in a new session, both succeed (no false alarm)', async () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'cutover-ecs-again-')), 'state');
    const first = await deployIn(stateDir, 'web:2');
    expect(first.state).toMatchObject({ status: 'Succeeded' });
    const saved = JSON.parse(readFileSync(join(stateDir, 'world-state.json'), 'utf8')) as { clockAt: string };
    const second = await deployIn(stateDir, 'web:1');
    expect(second.state.errorInformation).toBeUndefined();
    expect(second.state).toMatchObject({ status: 'Succeeded' });
    // The second session continued virtual time from where the first stopped.
    expect(
      Date.parse((JSON.parse(readFileSync(join(stateDir, 'world-state.json'), 'utf8')) as { clockAt: string }).clockAt),
    ).toBeGreaterThan(Date.parse(saved.clockAt));
  });
});
