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

  it('with auto-rollback, a failed host is reported not restored (in-place rollback is not built yet): ROLLBACK_FAILED', async () => {
    const { env: e, hosts } = await serverEnv({ config: 'CodeDeployDefault.HalfAtATime', autoRollback: true });
    env = e;
    const id = await deployBundle(e);
    await runHosts(e, id, hosts, (_host, event) => (event === 'ValidateService' ? 'Failed' : 'Succeeded'));
    const d = await waitForEnd(e, id);
    expect(d.state.status).toBe('Failed');
    expect(d.state.errorInformation?.code).toBe('ROLLBACK_FAILED');
    expect(d.state.errorInformation?.message).toContain('in-place rollback');
  });
});
