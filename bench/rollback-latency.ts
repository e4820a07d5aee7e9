/**
 * Rollback latency in local mode at real speed (the measured interval is not compressed):
 * N deployments, each with its own function, alarm and deployment group, baking a 30-minute canary;
 * mid-bake the alarm goes to ALARM. Measured: alarm state change → the Rollback state finished, i.e.
 * every alias back on its CurrentVersion at 100% and read back. Target: p99 ≤ 1 s.
 *
 *   npx tsx bench/rollback-latency.ts [--deployments 100] [--concurrency 10]
 */
import '../src/local/polyfill.js';
import { SystemClock } from '../src/adapters/sim/clock.js';
import { SimWorld } from '../src/adapters/sim/world.js';
import { TASKS } from '../src/tasks/index.js';
import { createLocalEnvironment } from '../src/wiring/local.js';
import { intArg, percentile, report } from './support.js';

const N = intArg('deployments', 100);
const CONCURRENCY = intArg('concurrency', 10);
const TARGET_P99_MS = 1000;

const clock = new SystemClock();
const world = new SimWorld(clock);
const env = await createLocalEnvironment({ clock, world, retryIntervalMs: 50 });
const appSpec = (fn: string) =>
  `version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties: { Name: ${fn}, Alias: live, CurrentVersion: "1", TargetVersion: "2" }\n`;

await TASKS.createApplication.run({ applicationName: 'bench' }, env.deps);
for (let i = 0; i < N; i++) {
  world.addFunction(`fn${i}`, { versions: { '1': {}, '2': {} }, aliases: { live: '1' }, requestsPerSecond: 10 });
  world.addAlarm({ name: `alarm${i}`, functionName: `fn${i}`, alias: 'live', threshold: 50 });
  await TASKS.createDeploymentGroup.run(
    {
      applicationName: 'bench',
      deploymentGroupName: `g${i}`,
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes',
      alarmConfiguration: { enabled: true, alarms: [{ name: `alarm${i}` }] },
    },
    env.deps,
  );
}

async function one(i: number): Promise<number> {
  const { deploymentId } = (await TASKS.createDeployment.run(
    { applicationName: 'bench', deploymentGroupName: `g${i}`, revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec(`fn${i}`) } } },
    env.deps,
  )) as { deploymentId: string };
  for (;;) {
    const d = await env.deps.store.getDeployment(deploymentId);
    if (d?.currentWait?.kind === 'bake') break;
    if (d && ['Succeeded', 'Failed', 'Stopped'].includes(d.status)) throw new Error(`${deploymentId} ended ${d.status} before baking`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const tripped = Date.now();
  world.forceAlarm(`alarm${i}`, 'ALARM');
  const execution = await env.runtime.wait(deploymentId);
  const restored = execution.events.find((e) => e.type === 'StateExited' && e.state === 'Rollback');
  const d = await env.deps.store.getDeployment(deploymentId);
  const alias = world.getAlias(`fn${i}`, 'live');
  if (!restored || d?.status !== 'Stopped' || alias.functionVersion !== '1' || Object.keys(alias.additionalVersionWeights).length) {
    throw new Error(`${deploymentId}: not rolled back (status ${d?.status}, alias ${JSON.stringify(alias)})`);
  }
  return restored.timestamp - tripped;
}

const latencies: number[] = [];
const started = Date.now();
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < N) latencies.push(await one(next++));
  }),
);
const wall = Date.now() - started;
await env.close();
latencies.sort((a, b) => a - b);
const p99 = percentile(latencies, 99);
report('rollback-latency', {
  description: 'alarm state change → every alias back at CurrentVersion 100%, read back (Rollback state exited); local mode, real time',
  deployments: N,
  concurrency: CONCURRENCY,
  unit: 'ms',
  p50: percentile(latencies, 50),
  p90: percentile(latencies, 90),
  p99,
  max: latencies.at(-1),
  min: latencies[0],
  wallMs: wall,
  targetP99: TARGET_P99_MS,
  meetsTarget: p99 <= TARGET_P99_MS,
});
process.exit(0);
