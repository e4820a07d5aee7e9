/**
 * A Server (EC2 in-place) deployment to `hosts` simulated instances for bench/transitions.ts: tagged
 * instances in the SimWorld, a Server application and group, a bundle in the local S3, and one scripted
 * agent per host (test/support/host-agent.ts, straight to the API's dispatcher as the host's signed
 * principal) that succeeds every event, each event taking `eventSeconds` of virtual time.
 *
 * The hosts are driven in the fleet's deployment order (read once from the stored plan): the host whose
 * turn it is polls as an agent does (every `NextPollInSeconds` until it is given a command, then at once
 * after each completion); the hosts waiting their turn are not polled (their polls are reads of their own
 * queue entries: they change neither the fleet nor the execution, only the wall time of the benchmark).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { LOCAL_REVISION_BUCKET } from '../src/local/s3.js';
import type { VirtualClock } from '../src/local/clock.js';
import { TASKS } from '../src/tasks/index.js';
import type { SimWorld } from '../src/adapters/sim/world.js';
import type { LocalEnvironment } from '../src/wiring/local.js';
import { tgz } from '../test/agent/support.js';
import { dispatchTransport, ScriptedHost } from '../test/support/host-agent.js';

const APPSPEC = 'version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /srv/app\n';

export interface ServerRun {
  hosts: number;
  status: string;
  transitions: number;
  historyEvents: number;
  /** States entered by name (the traffic loop's, Prepare's, ...). */
  states: Record<string, number>;
  /** Lifecycle events the hosts ran. */
  events: number;
  virtualSeconds: number;
  wallSeconds: number;
  /** Wall ms from a PutHostCommandComplete answer to the PollHostCommand that returned the host's next event. */
  nextEventMs: number[];
  /** The same from a host's last event to the next host's first one (the scheduler's start). */
  nextHostMs: number[];
}

const ended = (s: string | undefined) => s === 'Succeeded' || s === 'Failed' || s === 'Stopped';

/** Add `count` instances tagged `Role=<group>` and a Server app and group deploying to them OneAtATime. */
export async function serverGroup(
  env: LocalEnvironment,
  world: SimWorld,
  name: string,
  count: number,
): Promise<ScriptedHost[]> {
  // EC2 instance ids (17 hex digits): the group's size, then the host's index.
  const ids = Array.from(
    { length: count },
    (_, i) => `i-0${count.toString(16).padStart(5, '0')}${i.toString(16).padStart(11, '0')}`,
  );
  for (const [i, id] of ids.entries())
    world.servers.addInstance({ id, tags: { Role: name }, availabilityZone: `local-${'abc'[i % 3]}` });
  await TASKS.createApplication.run({ applicationName: name, computePlatform: 'Server' }, env.deps);
  await TASKS.createDeploymentGroup.run(
    {
      applicationName: name,
      deploymentGroupName: 'g',
      serviceRoleArn: 'arn:aws:iam::000000000000:role/CodeDeploy',
      deploymentConfigName: 'CodeDeployDefault.OneAtATime',
      ec2TagFilters: [{ Key: 'Role', Value: name, Type: 'KEY_AND_VALUE' }],
    },
    env.deps,
  );
  return ids.map((id) => {
    const credential = env.hostCredentials.issue(id);
    return new ScriptedHost(
      dispatchTransport(env, { caller: { arn: credential.principalArn } }),
      `arn:aws:ec2:local:000000000000:instance/${id}`,
    );
  });
}

/** Deploy a bundle to the group `name` and drive its hosts until the deployment ends. */
export async function runServerDeployment(
  env: LocalEnvironment,
  clock: VirtualClock,
  name: string,
  hosts: ScriptedHost[],
  eventSeconds: number,
): Promise<ServerRun> {
  const wallStart = performance.now();
  const virtualStart = clock.now().getTime();
  const key = `${name}/app-2.tgz`;
  const put = await env.s3.client.send(
    new PutObjectCommand({
      Bucket: LOCAL_REVISION_BUCKET,
      Key: key,
      Body: tgz({ 'appspec.yml': APPSPEC, 'app/index.html': '<h1>2</h1>' }),
    }),
  );
  const { deploymentId } = (await TASKS.createDeployment.run(
    {
      applicationName: name,
      deploymentGroupName: 'g',
      revision: {
        revisionType: 'S3',
        s3Location: { bucket: LOCAL_REVISION_BUCKET, key, bundleType: 'tgz', eTag: put.ETag },
      },
    },
    env.deps,
  )) as { deploymentId: string };
  const byId = new Map(hosts.map((h) => [h.hostIdentifier.replace(/^.*instance\//, ''), h]));
  const status = async () => (await env.deps.deployments.get(deploymentId))?.state.status;

  // The deployment order, once the fleet is planned.
  let order: string[] = [];
  for (let i = 0; i < 1000 && !order.length; i++) {
    const fleet = await env.deps.hostCommands.getFleet(deploymentId);
    if (fleet) order = (fleet.plan as { hosts: { id: string }[] }).hosts.map((h) => h.id);
    else if (ended(await status())) break;
    else await clock.sleep(1);
  }

  const nextEventMs: number[] = [];
  const nextHostMs: number[] = [];
  let events = 0;
  let lastCompleted: number | undefined;
  for (const [n, hostId] of order.entries()) {
    if (n > 0 && n % 100 === 0) process.stderr.write(`  ${name}: ${n} of ${order.length} hosts done\n`);
    const host = byId.get(hostId)!;
    let first = true;
    for (;;) {
      let release = clock.hold();
      let wait = 0;
      try {
        const { HostCommand: c, NextPollInSeconds } = await host.poll();
        if (!c) {
          if (!first || ended(await status())) break;
          wait = NextPollInSeconds;
        } else {
          if (lastCompleted !== undefined) (first ? nextHostMs : nextEventMs).push(performance.now() - lastCompleted);
          lastCompleted = undefined;
          first = false;
          await host.specification(c.DeploymentExecutionId);
          if ((await host.ack(c.HostCommandIdentifier)) !== 'InProgress') continue;
          await host.update(c.HostCommandIdentifier);
          release();
          await clock.sleep(eventSeconds);
          release = clock.hold();
          await host.complete(c.HostCommandIdentifier, 'Succeeded');
          lastCompleted = performance.now();
          events++;
        }
      } finally {
        release();
      }
      if (wait) await clock.sleep(wait);
    }
  }
  const execution = await env.runtime.wait(deploymentId);
  const d = await env.deps.deployments.get(deploymentId);
  const entered = execution.events.filter((e) => e.type === 'StateEntered').map((e) => e.state!);
  const states: Record<string, number> = {};
  for (const s of entered) states[s] = (states[s] ?? 0) + 1;
  return {
    hosts: hosts.length,
    status: String(d?.state.status),
    transitions: entered.length,
    historyEvents: execution.events.length,
    states,
    events,
    virtualSeconds: Math.round((clock.now().getTime() - virtualStart) / 1000),
    wallSeconds: Math.round((performance.now() - wallStart) / 100) / 10,
    nextEventMs,
    nextHostMs,
  };
}
