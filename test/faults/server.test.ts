/**
 * The fault suite for Server (EC2/on-premises in-place) deployments (issue #12, item 12): a host that dies
 * mid-event, a completion whose answer is lost, and a fault at every port call of a deployment
 * (./server-sweep.ts). Two tagged hosts (test/support/server.ts) driven as agents are
 * (test/support/server-faults.ts), on virtual time only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Instrumentation, PortCall } from '../../src/wiring/instrument.js';
import { faultError } from '../../src/wiring/faults.js';
import type { TestEnv } from '../support/local.js';
import { eventBridgeStates } from '../support/local.js';
import { deployBundle, SERVER_HOSTS, serverEnv, type ServerGroupOptions } from '../support/server.js';
import { AgentHost, driveHosts, type Outcome } from '../support/server-faults.js';

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const REV1 = 'fleet/web-1.tgz';
const REV2 = 'fleet/web-2.tgz';

async function fleet(
  opts: ServerGroupOptions,
  instrumentation?: Instrumentation,
): Promise<{ e: TestEnv; hosts: AgentHost[] }> {
  const { env: e, hosts } = await serverEnv(opts, instrumentation ? { instrumentation } : {});
  env = e;
  return { e, hosts: hosts.map((h, i) => new AgentHost(h, i, () => e.clock.now().getTime())) };
}

/** Deploy revision `n` and drive the hosts until it (and a rollback) ended; its record. */
async function deploy(e: TestEnv, hosts: AgentHost[], n: number, outcome?: Outcome) {
  const id = await deployBundle(e, n);
  expect(await driveHosts(e, id, hosts, outcome)).toBe(true);
  return (await e.deps.deployments.get(id))!;
}

/** Every lifecycle event of every host record once, none left open. */
async function eventsOnce(e: TestEnv, id: string): Promise<void> {
  for (const h of await e.deps.hostCommands.listHosts(id)) {
    const names = h.lifecycleEvents.map((x) => x.lifecycleEventName);
    expect(new Set(names).size, `${h.hostId}: ${names.join(', ')}`).toBe(names.length);
    expect(h.lifecycleEvents.filter((x) => x.status === 'InProgress' || x.status === 'Pending')).toEqual([]);
  }
}

/** The `nth` host (from 0) to reach `event` of revision `key` dies in it (stops polling and heartbeating). */
function diesAt(event: string, key: string, nth = 0): { outcome: Outcome; host: () => number | undefined } {
  const reached: number[] = [];
  let dying: number | undefined;
  return {
    outcome: (host, ev, dep) => {
      if (dep.key !== key || ev !== event) return 'Succeeded';
      if (!reached.includes(host)) reached.push(host);
      if (reached.length === nth + 1 && dying === undefined) dying = host;
      return host === dying ? 'Dies' : 'Succeeded';
    },
    host: () => dying,
  };
}

describe('a host that dies mid-event (issue #12)', () => {
  it('fails its event at the liveness deadline, saying so; with auto-rollback it gets the earlier revision back', async () => {
    const { e, hosts } = await fleet({ config: 'CodeDeployDefault.OneAtATime', autoRollback: true });
    expect((await deploy(e, hosts, 1)).state.status).toBe('Succeeded');
    const dies = diesAt('AfterInstall', REV2);
    const d = await deploy(e, hosts, 2, dies.outcome);
    const dead = dies.host()!;
    expect(dead).toBeDefined();
    expect(d.state.status).toBe('Failed');
    expect(d.state.errorInformation?.code, JSON.stringify(d.state.errorInformation)).toBe('HEALTH_CONSTRAINTS');
    const record = (await e.deps.hostCommands.listHosts(d.deploymentId)).find((h) => h.hostId === SERVER_HOSTS[dead])!;
    const event = record.lifecycleEvents.find((x) => x.lifecycleEventName === 'AfterInstall')!;
    expect(event.status).toBe('Failed');
    expect(event.diagnostics?.message).toMatch(/stopped answering/);
    // At the liveness deadline (a minute of silence), not at the event's hour.
    const failedAfter = (Date.parse(event.endTime!) - Date.parse(event.startTime!)) / 1000;
    expect(failedAfter).toBeLessThan(180);
    await eventsOnce(e, d.deploymentId);
    // The rollback redeployed revision 1 to the host that ran revision 2 once its agent came back.
    const rollback = (await e.deps.deployments.get(d.state.rollbackInfo!.rollbackDeploymentId!))!;
    expect(rollback.state.status).toBe('Succeeded');
    expect(hosts.map((h) => h.installed)).toEqual([REV1, REV1]);
    const redeployed = await e.deps.hostCommands.listHosts(rollback.deploymentId);
    expect(redeployed.map((h) => [h.hostId, h.status])).toEqual([[SERVER_HOSTS[dead], 'Succeeded']]);
    await eventsOnce(e, rollback.deploymentId);
    expect((await e.deps.timeline.list(d.deploymentId)).map((t) => t.event)).toContain('RolledBack');
    expect(await lockOf(e)).toBeUndefined();
  });

  it('OneAtATime: the last host dying does not fail the deployment (CodeDeploy lets the last host fail)', async () => {
    const { e, hosts } = await fleet({ config: 'CodeDeployDefault.OneAtATime' });
    const dies = diesAt('ApplicationStart', REV2, 1);
    const d = await deploy(e, hosts, 2, dies.outcome);
    const dead = dies.host()!;
    expect(d.state.status, JSON.stringify(d.state.errorInformation)).toBe('Succeeded');
    const records = await e.deps.hostCommands.listHosts(d.deploymentId);
    expect(Object.fromEntries(records.map((h) => [h.hostId, h.status]))).toEqual({
      [SERVER_HOSTS[dead]!]: 'Failed',
      [SERVER_HOSTS[1 - dead]!]: 'Succeeded',
    });
    const event = records
      .find((h) => h.hostId === SERVER_HOSTS[dead])!
      .lifecycleEvents.find((x) => x.lifecycleEventName === 'ApplicationStart')!;
    expect(event.diagnostics?.message).toMatch(/stopped answering/);
    await eventsOnce(e, d.deploymentId);
    expect(hosts[1 - dead]!.installed).toBe(REV2);
    expect(eventBridgeStates(e.world).filter((s) => s === 'SUCCESS')).toHaveLength(1);
  });
});

/** Loses the answer of matching calls: `lose(n)` says for the n-th (from 0) whether its answer is lost. */
class LostAnswers implements Instrumentation {
  private seen = 0;
  lost = 0;
  constructor(
    private readonly caller: string,
    private readonly method: string,
    private readonly lose: (n: number) => boolean,
  ) {}
  onCall(call: PortCall) {
    if (call.caller !== this.caller || call.method !== this.method) return;
    if (!this.lose(this.seen++)) return;
    this.lost++;
    return { loseResponse: faultError(call.method, 'lostResponse') };
  }
}

async function lockOf(e: TestEnv) {
  return (await e.deps.catalog.getDeploymentGroup('fleet', 'web'))?.activeDeploymentId;
}

describe('a lost PutHostCommandComplete answer (issue #12)', () => {
  // The engine recorded the result (and whatever the method wrote), the host got an error and completes
  // again: recorded once, the host moves on, no event runs or is recorded twice.
  for (const [method, lose, what] of [
    ['hostCommands.updateCommand', (n: number) => n % 2 === 0, 'every completion, once each'],
    ['hostCommands.updateHost', (n: number) => n === 0, 'the first host record write'],
    ['hostCommands.putCommand', (n: number) => n === 0, "the first next event's queue write"],
    ['hostCommands.updateFleet', (n: number) => n === 0, "the first host's end on the fleet"],
    ['tokens.succeed', (n: number) => n === 0, 'the wake-up'],
  ] as const) {
    it(`${method} (${what}): recorded exactly once, the hosts move on`, async () => {
      const faults = new LostAnswers('api.PutHostCommandComplete', method, lose);
      const { e, hosts } = await fleet({ config: 'CodeDeployDefault.OneAtATime' }, faults);
      const d = await deploy(e, hosts, 2);
      expect(faults.lost).toBeGreaterThan(0);
      expect(d.state.status, JSON.stringify(d.state.errorInformation)).toBe('Succeeded');
      expect(hosts.flatMap((h) => h.errors).filter((x) => x.startsWith('PutHostCommandComplete'))).toHaveLength(
        faults.lost,
      );
      const records = await e.deps.hostCommands.listHosts(d.deploymentId);
      expect(records.map((h) => h.status)).toEqual(['Succeeded', 'Succeeded']);
      for (const h of records) expect(h.lifecycleEvents.every((x) => x.status === 'Succeeded')).toBe(true);
      await eventsOnce(e, d.deploymentId);
      // Each host ran each of its events once.
      for (const h of hosts) {
        const events = h.ran.filter((r) => r.deploymentId === d.deploymentId).map((r) => r.event);
        expect(events).toEqual(records[0]!.lifecycleEvents.map((x) => x.lifecycleEventName));
      }
      expect(hosts.map((h) => h.installed)).toEqual([REV2, REV2]);
      expect(eventBridgeStates(e.world).filter((s) => s === 'SUCCESS')).toHaveLength(1);
      expect(await lockOf(e)).toBeUndefined();
    });
  }
});
