/**
 * Server (EC2/on-premises in-place) deployments end to end on the real state machine: CreateDeployment
 * with an S3 bundle, Prepare resolving the group's instances from the simulated EC2 world by tag, the
 * fleet handing hosts their lifecycle events a wave at a time, scripted hosts answering through the
 * agents' command API (as signed callers), and the outcome read back from the record, the hosts and the
 * target groups. Virtual time only: the hosts are driven between the clock's steps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TestEnv } from '../support/local.js';
import { waitForEnd } from '../support/local.js';
import { deployBundle, runHosts, SERVER_HOSTS, serverEnv } from '../support/server.js';

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe('Server deployments on the real state machine', () => {
  it('OneAtATime: both tagged hosts run every event, one after the other; the deployment succeeds', async () => {
    const { env: e, hosts } = await serverEnv({ config: 'CodeDeployDefault.OneAtATime' });
    env = e;
    const id = await deployBundle(e);
    await runHosts(e, id, hosts);
    const d = await waitForEnd(e, id);
    expect(d.state.status, JSON.stringify(d.state.errorInformation)).toBe('Succeeded');
    const records = await e.deps.hostCommands.listHosts(id);
    expect(records.map((h) => [h.hostId, h.status]).sort()).toEqual(SERVER_HOSTS.map((h) => [h, 'Succeeded']));
    for (const h of records)
      expect(h.lifecycleEvents.map((x) => x.status)).toEqual(h.lifecycleEvents.map(() => 'Succeeded'));
    expect(records.find((h) => h.hostId === 'i-0bbbbbbbbbbbbbbb1')).toBeUndefined();
    const timeline = await e.deps.timeline.list(id);
    expect(timeline.map((t) => t.event)).toContain('HostsStarted');
  });

  it('with traffic control, each host leaves its target group and rejoins it healthy', async () => {
    const { env: e, hosts } = await serverEnv({ config: 'CodeDeployDefault.AllAtOnce', targetGroup: 'web-tg' });
    env = e;
    const id = await deployBundle(e);
    await runHosts(e, id, hosts);
    const d = await waitForEnd(e, id);
    expect(d.state.status, JSON.stringify(d.state.errorInformation)).toBe('Succeeded');
    const records = await e.deps.hostCommands.listHosts(id);
    for (const h of records)
      expect(
        h.lifecycleEvents
          .filter((x) => ['BlockTraffic', 'AllowTraffic'].includes(x.lifecycleEventName))
          .map((x) => [x.lifecycleEventName, x.status]),
      ).toEqual([
        ['BlockTraffic', 'Succeeded'],
        ['AllowTraffic', 'Succeeded'],
      ]);
    expect(e.world.servers.registered('web-tg').sort()).toEqual(SERVER_HOSTS);
    const moves = e.world.log.filter((l) => l.kind === 'Target').map((l) => `${l.detail.instanceId} ${l.detail.event}`);
    expect(moves.sort()).toEqual(SERVER_HOSTS.flatMap((h) => [`${h} deregistered`, `${h} registered`]).sort());
  });

  it('HalfAtATime: a host failing ValidateService leaves fewer than the minimum healthy: Failed, HEALTH_CONSTRAINTS', async () => {
    const { env: e, hosts } = await serverEnv({ config: 'CodeDeployDefault.HalfAtATime' });
    env = e;
    const id = await deployBundle(e);
    await runHosts(e, id, hosts, (_host, event) => (event === 'ValidateService' ? 'Failed' : 'Succeeded'));
    const d = await waitForEnd(e, id);
    expect(d.state.status).toBe('Failed');
    expect(d.state.errorInformation?.code).toBe('HEALTH_CONSTRAINTS');
    expect(d.state.errorInformation?.message).not.toMatch(/^\[/);
    const records = await e.deps.hostCommands.listHosts(id);
    expect(records.filter((h) => h.status === 'Failed')).toHaveLength(1);
  });

  it('with auto-rollback, the host that ran the failed revision gets the last successful one back (codeDeployRollback)', async () => {
    const { env: e, hosts } = await serverEnv({ config: 'CodeDeployDefault.HalfAtATime', autoRollback: true });
    env = e;
    const first = await deployBundle(e, 1);
    await runHosts(e, first, hosts);
    expect((await waitForEnd(e, first)).state.status).toBe('Succeeded');

    // Revision 2 fails ValidateService on the first host that runs it; the other never starts (the minimum).
    let failing: number | undefined;
    const id = await deployBundle(e, 2);
    await runHosts(e, id, hosts, (host, event, dep) => {
      if (dep.key !== 'fleet/web-2.tgz' || event !== 'ValidateService') return 'Succeeded';
      failing ??= host;
      return host === failing ? 'Failed' : 'Succeeded';
    });
    const d = await waitForEnd(e, id);
    expect(d.state.status).toBe('Failed');
    expect(d.state.errorInformation?.code).toBe('HEALTH_CONSTRAINTS');
    const rollbackId = d.state.rollbackInfo?.rollbackDeploymentId;
    expect(rollbackId).toBeDefined();
    const r = (await e.deps.deployments.get(rollbackId!))!;
    expect(r.spec.creator).toBe('codeDeployRollback');
    expect(r.state.rollbackInfo?.rollbackTriggeringDeploymentId).toBe(id);
    expect(r.spec.revision).toMatchObject({ s3Location: { key: 'fleet/web-1.tgz' } });
    expect(r.state.status).toBe('Succeeded');
    // The world: every host has revision 1's files again; only the attempted host was redeployed.
    expect(hosts.map((h) => h.installed)).toEqual(['fleet/web-1.tgz', 'fleet/web-1.tgz']);
    const redeployed = await e.deps.hostCommands.listHosts(rollbackId!);
    expect(redeployed.map((h) => [h.hostId, h.status])).toEqual([[SERVER_HOSTS[failing!], 'Succeeded']]);
    const timeline = (await e.deps.timeline.list(id)).map((t) => t.event);
    expect(timeline).toContain('RolledBack');
  });

  it('with no earlier successful revision there is nothing to redeploy: ROLLBACK_FAILED naming the host', async () => {
    const { env: e, hosts } = await serverEnv({ config: 'CodeDeployDefault.HalfAtATime', autoRollback: true });
    env = e;
    const id = await deployBundle(e);
    await runHosts(e, id, hosts, (_host, event) => (event === 'ValidateService' ? 'Failed' : 'Succeeded'));
    const d = await waitForEnd(e, id);
    expect(d.state.status).toBe('Failed');
    expect(d.state.errorInformation?.code).toBe('ROLLBACK_FAILED');
    expect(d.state.errorInformation?.message).toContain('no earlier successful revision');
    expect(d.state.errorInformation?.message).toMatch(/i-0aaaaaaaaaaaaaaa[12]/);
  });

  it('a rollback whose redeploy fails ends ROLLBACK_FAILED with the host and the event that failed', async () => {
    const { env: e, hosts } = await serverEnv({ config: 'CodeDeployDefault.HalfAtATime', autoRollback: true });
    env = e;
    const first = await deployBundle(e, 1);
    await runHosts(e, first, hosts);
    const id = await deployBundle(e, 2);
    // Revision 2 fails; so does revision 1's ValidateService when it is redeployed (the host is broken).
    await runHosts(e, id, hosts, (_host, event, dep) =>
      event === 'ValidateService' && dep.id !== first ? 'Failed' : 'Succeeded',
    );
    const d = await waitForEnd(e, id);
    expect(d.state.status).toBe('Failed');
    expect(d.state.errorInformation?.code).toBe('ROLLBACK_FAILED');
    expect(d.state.errorInformation?.message).toContain('at ValidateService');
    const r = (await e.deps.deployments.get(d.state.rollbackInfo!.rollbackDeploymentId!))!;
    expect(r.state.status).toBe('Failed');
  });

  it('updateOutdatedInstancesOnly: hosts already on the revision are left alone; none outdated is a success', async () => {
    const { env: e, hosts } = await serverEnv({ config: 'CodeDeployDefault.OneAtATime' });
    env = e;
    const first = await deployBundle(e, 1);
    await runHosts(e, first, hosts);
    expect((await waitForEnd(e, first)).state.status).toBe('Succeeded');
    const again = await deployBundle(e, 1, { updateOutdatedInstancesOnly: true });
    await runHosts(e, again, hosts, () => {
      throw new Error('no host should be given an event');
    });
    const d = await waitForEnd(e, again);
    expect(d.state.status, JSON.stringify(d.state.errorInformation)).toBe('Succeeded');
    expect(await e.deps.hostCommands.listHosts(again)).toEqual([]);
    expect(d.state.facts).toMatchObject({ upToDate: SERVER_HOSTS });
  });

  it('ignoreApplicationStopFailures: a broken ApplicationStop does not fail the hosts', async () => {
    const { env: e, hosts } = await serverEnv({ config: 'CodeDeployDefault.AllAtOnce' });
    env = e;
    const id = await deployBundle(e, 2, { ignoreApplicationStopFailures: true });
    await runHosts(e, id, hosts, (_h, event) => (event === 'ApplicationStop' ? 'Failed' : 'Succeeded'));
    const d = await waitForEnd(e, id);
    expect(d.state.status, JSON.stringify(d.state.errorInformation)).toBe('Succeeded');
    expect(hosts.map((h) => h.installed)).toEqual(['fleet/web-2.tgz', 'fleet/web-2.tgz']);
  });
});
