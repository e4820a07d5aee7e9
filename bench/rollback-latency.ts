/**
 * Rollback latency in local mode at real speed (the measured interval is not compressed):
 * N deployments, each with its own function, alarm and deployment group, baking a 30-minute canary;
 * mid-bake the alarm goes to ALARM. Measured: alarm state change → the Rollback state finished, i.e.
 * every alias back on its CurrentVersion at 100% and read back. Target: p99 ≤ 1 s.
 * With `--platform ecs`: N ECS services behind their own listener, each rolled back from a 10% canary
 * (production listener all on blue, blue PRIMARY again, the replacement task set deleted, read back).
 *
 *   npx tsx bench/rollback-latency.ts [--deployments 100] [--concurrency 10] [--platform lambda|ecs]
 */
import '../src/local/polyfill.js';
import { SystemClock } from '../src/adapters/system/clock.js';
import { SimWorld } from '../src/adapters/sim/world.js';
import { TASKS } from '../src/tasks/index.js';
import { createLocalEnvironment } from '../src/wiring/local.js';
import { intArg, percentile, report, stringArg } from './support.js';

const N = intArg('deployments', 100);
const CONCURRENCY = intArg('concurrency', 10);
const TARGET_P99_MS = 1000;
const PLATFORM = stringArg('platform', 'lambda');
if (!['lambda', 'ecs'].includes(PLATFORM)) throw new Error(`--platform: lambda or ecs, got ${PLATFORM}`);
const ECS = PLATFORM === 'ecs';

const clock = new SystemClock();
const world = new SimWorld(clock);
const env = await createLocalEnvironment({ clock, world });
const appSpec = (i: number) =>
  ECS
    ? `version: 0.0\nResources:\n  - svc:\n      Type: AWS::ECS::Service\n      Properties: { TaskDefinition: "web:2", LoadBalancerInfo: { ContainerName: web, ContainerPort: 80 } }\n`
    : `version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties: { Name: fn${i}, Alias: live, CurrentVersion: "1", TargetVersion: "2" }\n`;

await TASKS.createApplication.run({ applicationName: 'bench', computePlatform: ECS ? 'ECS' : 'Lambda' }, env.deps);
if (ECS) {
  world.ecs.addTaskDefinition('web:1', { steadyAfterSeconds: 0 });
  world.ecs.addTaskDefinition('web:2', { steadyAfterSeconds: 0 });
}
for (let i = 0; i < N; i++) {
  if (ECS) {
    world.ecs.addLoadBalancer({
      name: `lb${i}`,
      targetGroups: [`blue${i}`, `green${i}`],
      listeners: [{ name: 'prod', port: 80, forwardTo: `blue${i}`, requestsPerSecond: 10 }],
    });
    world.ecs.addService({ cluster: 'bench', name: `svc${i}`, taskDefinition: 'web:1', targetGroup: `blue${i}` });
    world.addAlarm({ name: `alarm${i}`, listener: `lb${i}/prod`, threshold: 50 });
  } else {
    world.addFunction(`fn${i}`, { versions: { '1': {}, '2': {} }, aliases: { live: '1' }, requestsPerSecond: 10 });
    world.addAlarm({ name: `alarm${i}`, functionName: `fn${i}`, alias: 'live', threshold: 50 });
  }
  await TASKS.createDeploymentGroup.run(
    {
      applicationName: 'bench',
      deploymentGroupName: `g${i}`,
      deploymentConfigName: ECS
        ? 'CodeDeployDefault.ECSCanary10Percent15Minutes'
        : 'CodeDeployDefault.LambdaCanary10Percent30Minutes',
      alarmConfiguration: { enabled: true, alarms: [{ name: `alarm${i}` }] },
      ...(ECS
        ? {
            ecsServices: [{ clusterName: 'bench', serviceName: `svc${i}` }],
            loadBalancerInfo: {
              targetGroupPairInfoList: [
                {
                  targetGroups: [{ name: `blue${i}` }, { name: `green${i}` }],
                  prodTrafficRoute: { listenerArns: [world.listenerArn(`lb${i}/prod`)] },
                },
              ],
            },
          }
        : {}),
    },
    env.deps,
  );
}

/** Is everything back where it was before deployment `i`? */
function restoredWorld(i: number): boolean {
  if (!ECS) {
    const alias = world.getAlias(`fn${i}`, 'live');
    return alias.functionVersion === '1' && Object.keys(alias.additionalVersionWeights).length === 0;
  }
  const sets = world.ecs.describeTaskSets('bench', `svc${i}`);
  const split = world.ecs.split(`lb${i}/prod`);
  return (
    sets.length === 1 &&
    sets[0]!.status === 'PRIMARY' &&
    sets[0]!.taskDefinition.endsWith('/web:1') &&
    split[`blue${i}`] === 100
  );
}

async function one(i: number): Promise<number> {
  const { deploymentId } = (await TASKS.createDeployment.run(
    {
      applicationName: 'bench',
      deploymentGroupName: `g${i}`,
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec(i) } },
    },
    env.deps,
  )) as { deploymentId: string };
  for (;;) {
    const d = await env.deps.deployments.get(deploymentId);
    if (d?.state.currentWait?.kind === 'bake') break;
    if (d && ['Succeeded', 'Failed', 'Stopped'].includes(d.state.status))
      throw new Error(`${deploymentId} ended ${d.state.status} before baking: ${d.state.errorInformation?.message}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const tripped = Date.now();
  world.forceAlarm(`alarm${i}`, 'ALARM');
  const execution = await env.runtime.wait(deploymentId);
  const restored = execution.events.find((e) => e.type === 'StateExited' && e.state === 'Rollback');
  const d = await env.deps.deployments.get(deploymentId);
  if (!restored || d?.state.status !== 'Stopped' || !restoredWorld(i))
    throw new Error(
      `${deploymentId}: not rolled back (status ${d?.state.status}, ${d?.state.errorInformation?.message})`,
    );
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
report(ECS ? 'rollback-latency-ecs' : 'rollback-latency', {
  description: ECS
    ? 'alarm state change → production listener all on blue, blue PRIMARY, replacement task set deleted, read back (Rollback state exited); local mode, real time'
    : 'alarm state change → every alias back at CurrentVersion 100%, read back (Rollback state exited); local mode, real time',
  computePlatform: ECS ? 'ECS' : 'Lambda',
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
