/**
 * Server (in-place) deployments in a local test environment: tagged simulated EC2 instances, a Server
 * application and group, a bundle in the local S3, and scripted hosts answering the agents' command API
 * as their signed principals.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { LOCAL_REVISION_BUCKET } from '../../src/local/s3.js';
import { TASKS } from '../../src/tasks/index.js';
import { tgz } from '../agent/support.js';
import { dispatchTransport, ScriptedHost } from './host-agent.js';
import { testEnv, type TestEnv, type TestLocalOptions } from './local.js';

export const SERVER_APPSPEC = [
  'version: 0.0',
  'os: linux',
  'files:',
  '  - source: app',
  '    destination: /srv/app',
  '',
].join('\n');
export const SERVER_HOSTS = ['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2'];

export interface ServerGroupOptions {
  /** A predefined configuration, or the name of a custom one to create (HOST_COUNT 1). */
  config: string;
  autoRollback?: boolean;
  /** Hosts leave and rejoin this target group (deploymentStyle WITH_TRAFFIC_CONTROL). */
  targetGroup?: string;
}

/** A local environment with two tagged instances (and one the tags leave out), a Server app and group. */
export async function serverEnv(
  opts: ServerGroupOptions,
  local: TestLocalOptions = {},
): Promise<{ env: TestEnv; hosts: ScriptedHost[] }> {
  const e = await testEnv({}, undefined, local);
  // The second instance is also in the group's Auto Scaling group (selected once).
  for (const [i, id] of SERVER_HOSTS.entries())
    e.world.servers.addInstance({
      id,
      tags: { Role: 'web' },
      availabilityZone: `local-${i % 2 ? 'b' : 'a'}`,
      ...(i === 1 ? { autoScalingGroup: 'web-asg' } : {}),
    });
  e.world.servers.addInstance({ id: 'i-0bbbbbbbbbbbbbbb1', tags: { Role: 'db' } });
  if (opts.targetGroup)
    e.world.servers.addTargetGroup({ name: opts.targetGroup, targets: SERVER_HOSTS, healthyAfterSeconds: 10 });
  await TASKS.createApplication.run({ applicationName: 'fleet', computePlatform: 'Server' }, e.deps);
  if (!opts.config.startsWith('CodeDeployDefault.'))
    await TASKS.createDeploymentConfig.run(
      { deploymentConfigName: opts.config, minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 } },
      e.deps,
    );
  await TASKS.createDeploymentGroup.run(
    {
      applicationName: 'fleet',
      deploymentGroupName: 'web',
      serviceRoleArn: 'arn:aws:iam::000000000000:role/CodeDeploy',
      deploymentConfigName: opts.config,
      ec2TagFilters: [{ Key: 'Role', Value: 'web', Type: 'KEY_AND_VALUE' }],
      autoScalingGroups: ['web-asg'],
      // No registered on-premises instance has this tag: none is selected.
      onPremisesInstanceTagFilters: [{ Key: 'Role', Value: 'web', Type: 'KEY_AND_VALUE' }],
      autoRollbackConfiguration: opts.autoRollback
        ? { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST'] }
        : { enabled: false, events: [] },
      ...(opts.targetGroup
        ? {
            deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
            loadBalancerInfo: { targetGroupInfoList: [{ name: opts.targetGroup }] },
          }
        : {}),
    },
    e.deps,
  );
  const hosts = SERVER_HOSTS.map((id) => {
    const credential = e.hostCredentials.issue(id);
    return new ScriptedHost(
      dispatchTransport(e, { caller: { arn: credential.principalArn } }),
      `arn:aws:ec2:local:000000000000:instance/${id}`,
    );
  });
  return { env: e, hosts };
}

/** Upload revision `n` (a bundle) and create a deployment of it to fleet/web; returns its id. */
export async function deployBundle(e: TestEnv, n = 2, extra: Record<string, unknown> = {}): Promise<string> {
  const key = `fleet/web-${n}.tgz`;
  const put = await e.s3.client.send(
    new PutObjectCommand({
      Bucket: LOCAL_REVISION_BUCKET,
      Key: key,
      Body: tgz({ 'appspec.yml': SERVER_APPSPEC, 'app/index.html': `<h1>${n}</h1>` }),
    }),
  );
  const { deploymentId } = (await e.run(TASKS.createDeployment, {
    applicationName: 'fleet',
    deploymentGroupName: 'web',
    revision: {
      revisionType: 'S3',
      s3Location: { bucket: LOCAL_REVISION_BUCKET, key, bundleType: 'tgz', eTag: put.ETag },
    },
    ...extra,
  })) as { deploymentId: string };
  return deploymentId;
}

const ended = (s: string) => ['Succeeded', 'Failed', 'Stopped'].includes(s);

/**
 * Hosts as agents are: each polls every 5 (virtual) seconds and runs what it is given, until the
 * deployment ends (bounded: a deployment that never ends fails the caller's next assertion).
 */
export async function runHosts(
  e: TestEnv,
  id: string,
  hosts: ScriptedHost[],
  outcome?: (
    host: number,
    event: string,
    deployment: { id: string; key: string; creator: string },
  ) => 'Succeeded' | 'Failed',
): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const d = await e.deps.deployments.get(id);
    // A rollback deployment (in-place: the hosts redeploy the earlier revision) ends with its trigger.
    const rollback = d?.state.rollbackInfo?.rollbackDeploymentId;
    const r = rollback ? await e.deps.deployments.get(rollback) : undefined;
    if (d && ended(d.state.status) && (!r || ended(r.state.status))) return;
    for (const [n, h] of hosts.entries()) await h.runAll((ev, dep) => outcome?.(n, ev, dep) ?? 'Succeeded');
    await e.elapse(5);
  }
}
