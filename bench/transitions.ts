/**
 * State transitions of a 10-step linear deployment with both hooks, for a 1-minute and a 1-hour
 * bake per step, counted from the execution's event log (StateEntered events, what Standard
 * workflows bill). Target: ≤ 60, and the same count for both bake times. Time is compressed here:
 * the count does not depend on it. Also an ECS blue/green deployment (five hooks, a test listener,
 * the same 10-step linear shift), whose count grows only with the steady-state polls of Install
 * (every 15 s until the replacement task set is steady).
 *
 * Last, Server (EC2 in-place) OneAtATime deployments to 10, 100 and 1,000 scripted hosts
 * (bench/server-fleet.ts) that succeed every event: a wave per host, so the count grows with the hosts
 * (the traffic loop's liveness looks, about one a minute while a host runs), and the 1,000-host one must
 * stay under Step Functions' 25,000-event history. Also the wall time from a host's
 * PutHostCommandComplete answer to the PollHostCommand that returns its next event.
 *
 *   npx tsx bench/transitions.ts [--server-hosts 10,100,1000] [--event-seconds 5]
 */
import '../src/local/polyfill.js';
import { VirtualClock } from '../src/local/clock.js';
import { SimWorld } from '../src/adapters/sim/world.js';
import { TASKS } from '../src/tasks/index.js';
import { createLocalEnvironment } from '../src/wiring/local.js';
import { runServerDeployment, serverGroup, type ServerRun } from './server-fleet.js';
import { percentile, report, stringArg } from './support.js';

/** Issue #10: a 10-step Lambda linear deployment with two hooks in at most 40, ECS with five hooks in 50. */
const TARGET = 40;
const ECS_TARGET = 50;
// Virtual time that skips to the next timer: a 1-hour bake costs no wall time.
const clock = new VirtualClock('skip');
const world = new SimWorld(clock, {
  ecs: {
    taskDefinitions: { 'web:1': {}, 'web:2': { steadyAfterSeconds: 60 } },
    loadBalancers: [
      {
        name: 'alb',
        targetGroups: ['blue', 'green'],
        listeners: [
          { name: 'prod', port: 80, forwardTo: 'blue' },
          { name: 'test', port: 8080, forwardTo: 'blue' },
        ],
      },
    ],
    services: [{ cluster: 'c', name: 'web', taskDefinition: 'web:1', targetGroup: 'blue' }],
  },
});
world.addFunction('api', { versions: { '1': {}, '2': {}, '3': {} }, aliases: { live: '1' } });
const hook = async () => ({ status: 'Succeeded' });
world.registerHook('preHook', hook);
world.registerHook('postHook', hook);
const env = await createLocalEnvironment({ clock, world });
await TASKS.createApplication.run({ applicationName: 'bench' }, env.deps);
await TASKS.createDeploymentGroup.run({ applicationName: 'bench', deploymentGroupName: 'g' }, env.deps);

async function count(
  name: string,
  intervalMinutes: number,
  from: string,
  to: string,
): Promise<{ transitions: number; steps: number; states: Record<string, number> }> {
  await TASKS.createDeploymentConfig.run(
    {
      deploymentConfigName: name,
      trafficRoutingConfig: {
        type: 'TimeBasedLinear',
        timeBasedLinear: { linearPercentage: 10, linearInterval: intervalMinutes },
      },
    },
    env.deps,
  );
  const content = `version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties: { Name: api, Alias: live, CurrentVersion: "${from}", TargetVersion: "${to}" }\nHooks:\n  - BeforeAllowTraffic: preHook\n  - AfterAllowTraffic: postHook\n`;
  const { deploymentId } = (await TASKS.createDeployment.run(
    {
      applicationName: 'bench',
      deploymentGroupName: 'g',
      deploymentConfigName: name,
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content } },
    },
    env.deps,
  )) as { deploymentId: string };
  const execution = await env.runtime.wait(deploymentId);
  const d = await env.deps.deployments.get(deploymentId);
  if (execution.status !== 'SUCCEEDED' || d?.state.status !== 'Succeeded')
    throw new Error(`${name}: ${d?.state.status}: ${JSON.stringify(d?.state.errorInformation)}`);
  const entered = execution.events.filter((e) => e.type === 'StateEntered').map((e) => e.state!);
  const states: Record<string, number> = {};
  for (const s of entered) states[s] = (states[s] ?? 0) + 1;
  return { transitions: entered.length, steps: d.spec.plan!.steps.length, states };
}

/** The same linear shift for an ECS service, with all five hooks and a test listener. */
async function countEcs(): Promise<{ transitions: number; steadyPolls: number; withoutPolls: number }> {
  for (const e of ['BeforeInstall', 'AfterInstall', 'AfterAllowTestTraffic']) world.registerHook(e, hook);
  await TASKS.createApplication.run({ applicationName: 'bench-ecs', computePlatform: 'ECS' }, env.deps);
  await TASKS.createDeploymentConfig.run(
    {
      deploymentConfigName: 'EcsLinear10',
      computePlatform: 'ECS',
      trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 10, linearInterval: 1 } },
    },
    env.deps,
  );
  await TASKS.createDeploymentGroup.run(
    {
      applicationName: 'bench-ecs',
      deploymentGroupName: 'g',
      deploymentConfigName: 'EcsLinear10',
      ecsServices: [{ clusterName: 'c', serviceName: 'web' }],
      loadBalancerInfo: {
        targetGroupPairInfoList: [
          {
            targetGroups: [{ name: 'blue' }, { name: 'green' }],
            prodTrafficRoute: { listenerArns: [world.listenerArn('alb/prod')] },
            testTrafficRoute: { listenerArns: [world.listenerArn('alb/test')] },
          },
        ],
      },
    },
    env.deps,
  );
  const hooks = ['BeforeInstall', 'AfterInstall', 'AfterAllowTestTraffic'].map((e) => `  - ${e}: ${e}`).join('\n');
  const content = `version: 0.0\nResources:\n  - svc:\n      Type: AWS::ECS::Service\n      Properties: { TaskDefinition: "web:2", LoadBalancerInfo: { ContainerName: web, ContainerPort: 80 } }\nHooks:\n${hooks}\n  - BeforeAllowTraffic: preHook\n  - AfterAllowTraffic: postHook\n`;
  const { deploymentId } = (await TASKS.createDeployment.run(
    {
      applicationName: 'bench-ecs',
      deploymentGroupName: 'g',
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content } },
    },
    env.deps,
  )) as { deploymentId: string };
  const execution = await env.runtime.wait(deploymentId);
  const d = await env.deps.deployments.get(deploymentId);
  if (execution.status !== 'SUCCEEDED' || d?.state.status !== 'Succeeded')
    throw new Error(`ECS: ${d?.state.status}: ${JSON.stringify(d?.state.errorInformation)}`);
  const entered = execution.events.filter((e) => e.type === 'StateEntered').map((e) => e.state!);
  // Each look at a replacement task set that is not steady yet: AwaitAction → RunAction → Route.
  const steadyPolls = entered.filter((s) => s === 'AwaitAction').length;
  return { transitions: entered.length, steadyPolls, withoutPolls: entered.length - 3 * steadyPolls };
}

/** Step Functions' limit on a Standard execution's history. */
const HISTORY_LIMIT = 25_000;
/** The 1,000-host OneAtATime deployment: far below the limit (a third of it). */
const SERVER_HISTORY_TARGET = Math.floor(HISTORY_LIMIT / 3);

const stats = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const ms = (x: number) => Math.round(x * 100) / 100;
  return { samples: xs.length, medianMs: ms(percentile(sorted, 50)), p95Ms: ms(percentile(sorted, 95)) };
};

async function countServer(sizes: number[], eventSeconds: number) {
  const rows: Omit<ServerRun, 'nextEventMs' | 'nextHostMs'>[] = [];
  const nextEvent: number[] = [];
  const nextHost: number[] = [];
  for (const n of sizes) {
    const name = `fleet${n}`;
    const hosts = await serverGroup(env, world, name, n);
    const { nextEventMs, nextHostMs, ...row } = await runServerDeployment(env, clock, name, hosts, eventSeconds);
    if (row.status !== 'Succeeded') throw new Error(`Server OneAtATime to ${n} hosts: ${row.status}`);
    nextEvent.push(...nextEventMs);
    nextHost.push(...nextHostMs);
    rows.push(row);
    process.stderr.write(
      `server ${n} hosts: ${row.transitions} transitions, ${row.historyEvents} events, ${row.wallSeconds} s\n`,
    );
  }
  const largest = rows[rows.length - 1]!;
  return {
    description: `Server OneAtATime to scripted hosts succeeding every event (${eventSeconds} virtual s each), hosts not yet started left unpolled`,
    historyLimit: HISTORY_LIMIT,
    historyTarget: SERVER_HISTORY_TARGET,
    rows,
    completionToNextEvent: {
      description:
        "wall ms from a PutHostCommandComplete answer to the PollHostCommand returning the host's next event",
      ...stats(nextEvent),
    },
    completionToNextHost: {
      description: "wall ms from a host's last PutHostCommandComplete answer to the next host's first command",
      ...stats(nextHost),
    },
    meetsTarget: rows.every((r) => r.historyEvents < HISTORY_LIMIT) && largest.historyEvents <= SERVER_HISTORY_TARGET,
  };
}

const oneMinute = await count('Linear10Every1Minute', 1, '1', '2');
const oneHour = await count('Linear10Every60Minutes', 60, '2', '3');
const ecs = await countEcs();
const serverSizes = stringArg('server-hosts', '10,100,1000').split(',').map(Number);
const server = await countServer(serverSizes, Number(stringArg('event-seconds', '5')));
await env.close();
report('transitions', {
  description: 'StateEntered events of a 10-step linear deployment with BeforeAllowTraffic and AfterAllowTraffic hooks',
  oneMinuteBake: oneMinute,
  oneHourBake: oneHour,
  target: TARGET,
  sameForBothBakeTimes: oneMinute.transitions === oneHour.transitions,
  ecsBlueGreen: {
    description: 'ECS: the same linear shift with five hooks and a test listener; each steady-state poll adds 3',
    target: ECS_TARGET,
    ...ecs,
  },
  server,
  meetsTarget:
    server.meetsTarget &&
    oneMinute.transitions <= TARGET &&
    oneHour.transitions <= TARGET &&
    oneMinute.transitions === oneHour.transitions &&
    ecs.withoutPolls <= ECS_TARGET,
});
process.exit(0);
