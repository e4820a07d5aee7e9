/**
 * A Server deployment's targets and instances through the official SDK client (CodeDeploy's shapes and
 * exception names), GetDeployment's overview counted from the hosts, and the hosts' instance events
 * (EventBridge and SNS triggers) read from the simulated world: once per host and transition, a rollback's
 * hosts included. Scripted hosts answer through the agents' command API; virtual time only.
 */
import {
  BatchGetDeploymentInstancesCommand,
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  GetDeploymentCommand,
  GetDeploymentInstanceCommand,
  GetDeploymentTargetCommand,
  ListDeploymentInstancesCommand,
  ListDeploymentTargetsCommand,
} from '@aws-sdk/client-codedeploy';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/local/server.js';
import { TASKS } from '../../src/tasks/index.js';
import type { ScriptedHost } from '../support/host-agent.js';
import { waitForEnd, type TestEnv } from '../support/local.js';
import { deployBundle, runHosts, SERVER_HOSTS, serverEnv } from '../support/server.js';

let env: TestEnv | undefined;
let server: ApiServer | undefined;
let client: CodeDeployClient | undefined;
afterEach(async () => {
  client?.destroy();
  await server?.close();
  await env?.close();
  env = server = client = undefined;
});

const TOPIC = 'arn:aws:sns:local:000000000000:hosts';

/** A Server environment with instance triggers on the group, and an SDK client on the local API server. */
async function setup(opts: { autoRollback?: boolean } = {}) {
  const { env: e, hosts } = await serverEnv({ config: 'CodeDeployDefault.HalfAtATime', ...opts });
  env = e;
  // The group as created, with instance triggers (UpdateDeploymentGroup replaces every setting it is given).
  const group = (await e.deps.catalog.getDeploymentGroup('fleet', 'web'))!;
  await TASKS.updateDeploymentGroup.run(
    {
      ...group,
      triggerConfigurations: [
        {
          triggerName: 'hosts',
          triggerTargetArn: TOPIC,
          triggerEvents: ['InstanceStart', 'InstanceSuccess', 'InstanceFailure'],
        },
      ],
    },
    e.deps,
  );
  server = await startApiServer(e.deps, { work: e.clock, viewFor: e.viewFor });
  client = new CodeDeployClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return { e, hosts, client };
}

const FAILED_DIAGNOSTICS = {
  error_code: 4,
  script_name: 'scripts/check.sh',
  message: 'Script at specified location: scripts/check.sh run as user root failed with exit code 1',
  log: '[stderr]health check failed: 503',
};

/** Drive the hosts until `id` (and its rollback) ends; the first host to run ValidateService of `failKey` fails it. */
async function drive(e: TestEnv, id: string, hosts: ScriptedHost[], failKey?: string) {
  let failing: ScriptedHost | undefined;
  for (let i = 0; i < 2000; i++) {
    const d = await e.deps.deployments.get(id);
    const rb = d?.state.rollbackInfo?.rollbackDeploymentId;
    const r = rb ? await e.deps.deployments.get(rb) : undefined;
    const ended = (s?: string) => s === 'Succeeded' || s === 'Failed' || s === 'Stopped';
    if (ended(d?.state.status) && (!r || ended(r.state.status))) return;
    for (const h of hosts) {
      for (let k = 0; k < 30; k++) {
        const { HostCommand: c } = await h.poll();
        if (!c) break;
        const spec = await h.specification(c.DeploymentExecutionId);
        if ((await h.ack(c.HostCommandIdentifier)) !== 'InProgress') continue;
        const key = String((spec.Revision as { S3Revision?: { Key?: string } }).S3Revision?.Key);
        const fails =
          failKey !== undefined && key.includes(failKey) && c.CommandName === 'ValidateService' && (failing ?? h) === h;
        if (fails) failing = h;
        await h.complete(
          c.HostCommandIdentifier,
          fails ? 'Failed' : 'Succeeded',
          fails ? FAILED_DIAGNOSTICS : undefined,
        );
      }
    }
    await e.elapse(5);
  }
}

const errorName = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'no error';
  } catch (err) {
    return (err as Error).name;
  }
};

/** The instance events the world received: `<deploymentId> <instanceId> <state>` (EventBridge), sorted. */
const instanceEvents = (e: TestEnv) =>
  e.world.log
    .filter(
      (l) => l.kind === 'EventBridge' && l.detail['detail-type'] === 'CodeDeploy Instance State-change Notification',
    )
    .map((l) => {
      const d = l.detail.detail as { deploymentId: string; instanceId: string; state: string };
      return `${d.deploymentId} ${d.instanceId} ${d.state}`;
    })
    .sort();
/** The instance trigger messages: `<deploymentId> <instanceId> <instanceStatus>`, sorted. */
const instanceMessages = (e: TestEnv) =>
  e.world.log
    .filter((l) => l.kind === 'SNS' && l.detail.topicArn === TOPIC)
    .map((l) => {
      const m = l.detail.message as { deploymentId: string; instanceId: string; instanceStatus: string };
      return `${m.deploymentId} ${m.instanceId} ${m.instanceStatus}`;
    })
    .sort();
const arn = (id: string) => `arn:aws:ec2:local:000000000000:instance/${id}`;

describe('Server deployment targets and instance outcomes', () => {
  it('a failed host: targets, instances, overview and diagnostics in CodeDeploy’s shapes; its events once', async () => {
    const { e, hosts, client: c } = await setup();
    const id = await deployBundle(e, 2);
    await drive(e, id, hosts, 'web-2');
    expect((await waitForEnd(e, id)).state.status).toBe('Failed');
    const records = await e.deps.hostCommands.listHosts(id);
    const failed = records.find((h) => h.status === 'Failed')!.hostId;
    const other = SERVER_HOSTS.find((h) => h !== failed)!;
    const otherStatus = records.find((h) => h.hostId === other)!.status;

    const { targetIds } = await c.send(new ListDeploymentTargetsCommand({ deploymentId: id }));
    expect(targetIds).toEqual(SERVER_HOSTS);
    const onlyFailed = await c.send(
      new ListDeploymentTargetsCommand({ deploymentId: id, targetFilters: { TargetStatus: ['Failed'] } }),
    );
    expect(onlyFailed.targetIds).toEqual([failed]);

    const { deploymentTargets } = await c.send(
      new BatchGetDeploymentTargetsCommand({ deploymentId: id, targetIds: [failed, other] }),
    );
    expect(
      deploymentTargets?.map((t) => [t.deploymentTargetType, t.instanceTarget?.targetId, t.instanceTarget?.status]),
    ).toEqual([
      ['InstanceTarget', failed, 'Failed'],
      ['InstanceTarget', other, otherStatus],
    ]);
    const t = deploymentTargets![0]!.instanceTarget!;
    expect(t.targetArn).toBe(arn(failed));
    expect(t.lastUpdatedAt).toBeInstanceOf(Date);
    const validate = t.lifecycleEvents!.find((x) => x.lifecycleEventName === 'ValidateService')!;
    expect(validate).toMatchObject({
      status: 'Failed',
      diagnostics: {
        errorCode: 'ScriptFailed',
        scriptName: 'scripts/check.sh',
        message: FAILED_DIAGNOSTICS.message,
        logTail: FAILED_DIAGNOSTICS.log,
      },
    });
    expect(validate.startTime).toBeInstanceOf(Date);
    expect(validate.endTime).toBeInstanceOf(Date);
    expect(t.lifecycleEvents!.find((x) => x.lifecycleEventName === 'ApplicationStart')?.status).toBe('Succeeded');

    const one = await c.send(new GetDeploymentTargetCommand({ deploymentId: id, targetId: failed }));
    expect(one.deploymentTarget?.instanceTarget).toEqual(t);

    // The deprecated instance operations: bare ids listed, the ARN in the summary.
    const listed = await c.send(
      new ListDeploymentInstancesCommand({ deploymentId: id, instanceStatusFilter: ['Failed'] }),
    );
    expect(listed.instancesList).toEqual([failed]);
    const inst = await c.send(new GetDeploymentInstanceCommand({ deploymentId: id, instanceId: failed }));
    expect(inst.instanceSummary).toMatchObject({ deploymentId: id, instanceId: arn(failed), status: 'Failed' });
    expect(inst.instanceSummary?.lifecycleEvents).toEqual(t.lifecycleEvents);
    const batch = await c.send(
      new BatchGetDeploymentInstancesCommand({ deploymentId: id, instanceIds: [failed, 'i-0ffffffffffffffff'] }),
    );
    expect(batch.instancesSummary?.map((s) => s.instanceId)).toEqual([arn(failed)]);
    expect(batch.errorMessage).toMatch(/i-0ffffffffffffffff/);

    const { deploymentInfo } = await c.send(new GetDeploymentCommand({ deploymentId: id }));
    const expected = { Pending: 0, InProgress: 0, Succeeded: 0, Failed: 0, Skipped: 0, Ready: 0 };
    expected.Failed++;
    expected[otherStatus as keyof typeof expected]++;
    expect(deploymentInfo?.deploymentOverview).toEqual(expected);

    // Errors, by CodeDeploy's names.
    expect(await errorName(c.send(new ListDeploymentTargetsCommand({ deploymentId: '' })))).toBe(
      'DeploymentIdRequiredException',
    );
    expect(await errorName(c.send(new ListDeploymentTargetsCommand({ deploymentId: 'not-an-id' })))).toBe(
      'InvalidDeploymentIdException',
    );
    expect(await errorName(c.send(new ListDeploymentTargetsCommand({ deploymentId: 'd-NOSUCHONE' })))).toBe(
      'DeploymentDoesNotExistException',
    );
    // CodeDeploy's model gives ListDeploymentTargets no InvalidTargetFilterNameException: a filter name
    // outside the enum is answered with the filters' modelled exception, and the message names the key.
    expect(
      await errorName(
        c.send(new ListDeploymentTargetsCommand({ deploymentId: id, targetFilters: { Colour: ['x'] } as never })),
      ),
    ).toBe('InvalidInstanceStatusException');
    expect(
      await errorName(
        c.send(
          new ListDeploymentTargetsCommand({
            deploymentId: id,
            targetFilters: { TargetStatus: ['Sleeping' as never] },
          }),
        ),
      ),
    ).toBe('InvalidInstanceStatusException');
    expect(
      await errorName(
        c.send(
          new ListDeploymentTargetsCommand({ deploymentId: id, targetFilters: { ServerInstanceLabel: ['Blue'] } }),
        ),
      ),
    ).toBe('InvalidDeploymentInstanceTypeException');
    const many = Array.from({ length: 26 }, (_, k) => `i-${String(k).padStart(17, '0')}`);
    expect(await errorName(c.send(new BatchGetDeploymentTargetsCommand({ deploymentId: id, targetIds: many })))).toBe(
      'DeploymentTargetListSizeExceededException',
    );
    expect(await errorName(c.send(new BatchGetDeploymentTargetsCommand({ deploymentId: id, targetIds: [] })))).toBe(
      'DeploymentTargetIdRequiredException',
    );
    expect(
      await errorName(
        c.send(new BatchGetDeploymentTargetsCommand({ deploymentId: id, targetIds: ['i-0ffffffffffffffff'] })),
      ),
    ).toBe('DeploymentTargetDoesNotExistException');
    expect(
      await errorName(c.send(new GetDeploymentTargetCommand({ deploymentId: id, targetId: 'i-0ffffffffffffffff' }))),
    ).toBe('DeploymentTargetDoesNotExistException');
    expect(await errorName(c.send(new GetDeploymentTargetCommand({ deploymentId: id, targetId: '' })))).toBe(
      'DeploymentTargetIdRequiredException',
    );
    expect(
      await errorName(
        c.send(new GetDeploymentInstanceCommand({ deploymentId: id, instanceId: 'i-0ffffffffffffffff' })),
      ),
    ).toBe('InstanceDoesNotExistException');
    expect(
      await errorName(c.send(new BatchGetDeploymentInstancesCommand({ deploymentId: id, instanceIds: many }))),
    ).toBe('BatchLimitExceededException');
    expect(await errorName(c.send(new BatchGetDeploymentInstancesCommand({ deploymentId: id, instanceIds: [] })))).toBe(
      'InstanceIdRequiredException',
    );

    // Instance events: the failed host started and failed; the other too if it started, once each.
    const started = records.filter((h) => h.lifecycleEvents.some((x) => x.startTime && !x.notStarted));
    const want = started.flatMap((h) => [
      `${id} ${h.hostId} START`,
      `${id} ${h.hostId} ${h.status === 'Succeeded' ? 'SUCCESS' : 'FAILURE'}`,
    ]);
    expect(instanceEvents(e)).toEqual(want.sort());
    expect(instanceMessages(e)).toEqual(
      started.flatMap((h) => [`${id} ${arn(h.hostId)} InProgress`, `${id} ${arn(h.hostId)} ${h.status}`]).sort(),
    );
    expect(instanceEvents(e)).toContain(`${id} ${failed} FAILURE`);
  });

  it('a rollback’s hosts are published too, each transition once; its targets are its own', async () => {
    const { e, hosts, client: c } = await setup({ autoRollback: true });
    const first = await deployBundle(e, 1);
    await runHosts(e, first, hosts);
    const f = await waitForEnd(e, first);
    expect(f.state.status, JSON.stringify(f.state.errorInformation)).toBe('Succeeded');
    const id = await deployBundle(e, 2);
    await drive(e, id, hosts, 'web-2');
    const d = await waitForEnd(e, id);
    const rollback = d.state.rollbackInfo!.rollbackDeploymentId!;
    expect((await waitForEnd(e, rollback)).state.status).toBe('Succeeded');
    // Later sweeps (another wake, a retry) publish nothing again.
    await e.elapse(600);

    const rbHosts = await e.deps.hostCommands.listHosts(rollback);
    expect(rbHosts.length).toBeGreaterThan(0);
    const events = instanceEvents(e);
    for (const h of SERVER_HOSTS) {
      expect(events.filter((x) => x === `${first} ${h} START`)).toHaveLength(1);
      expect(events.filter((x) => x === `${first} ${h} SUCCESS`)).toHaveLength(1);
    }
    for (const h of rbHosts) {
      expect(h.status).toBe('Succeeded');
      expect(events.filter((x) => x === `${rollback} ${h.hostId} START`)).toHaveLength(1);
      expect(events.filter((x) => x === `${rollback} ${h.hostId} SUCCESS`)).toHaveLength(1);
    }
    // No event twice, anywhere.
    expect(new Set(events).size).toBe(events.length);
    const messages = instanceMessages(e);
    expect(new Set(messages).size).toBe(messages.length);
    for (const h of rbHosts) expect(messages).toContain(`${rollback} ${arn(h.hostId)} Succeeded`);

    const { targetIds } = await c.send(new ListDeploymentTargetsCommand({ deploymentId: rollback }));
    expect(targetIds).toEqual(rbHosts.map((h) => h.hostId));
    const { deploymentInfo } = await c.send(new GetDeploymentCommand({ deploymentId: rollback }));
    expect(deploymentInfo?.deploymentOverview?.Succeeded).toBe(rbHosts.length);
  });
});
