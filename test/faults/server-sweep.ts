/**
 * A fault at every port call of a Server deployment (issue #12, item 12): a OneAtATime deployment with
 * auto-rollback to two hosts running revision 1 is run once without faults to list its port calls (every
 * call of every task, API operation and host command, by caller, method and occurrence, as the seeded suite
 * names them: src/wiring/faults.ts); then once per call, with that call alone failing once. Every run must
 * end as a client and an operator can check: succeeded with every host on revision 2, or failed and rolled
 * back with every host on revision 1; nothing running or locked, every lifecycle event of every host
 * recorded once and closed, one terminal event published.
 *
 * The kind of each fault cycles through every kind that applies to the call (throttling, 5xx, timeout,
 * access denied, a spurious not-found, a lost response), so every call meets one.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { dispatch } from '../../src/api/operations.js';
import type { Deployment } from '../../src/domain/model.js';
import { isTerminal } from '../../src/domain/model.js';
import { DEPLOYMENT_DETAIL_TYPE } from '../../src/domain/notifications.js';
import { LOCAL_REVISION_BUCKET } from '../../src/local/s3.js';
import { TASKS } from '../../src/tasks/index.js';
import { FAULT_KINDS, faultError, kindsFor, type FaultKind } from '../../src/wiring/faults.js';
import type { CallDirective, Instrumentation, PortCall } from '../../src/wiring/instrument.js';
import { tgz } from '../agent/support.js';
import type { TestEnv } from '../support/local.js';
import { deployBundle, SERVER_APPSPEC, serverEnv } from '../support/server.js';
import { AgentHost, driveHosts } from '../support/server-faults.js';

export const REV1 = 'fleet/web-1.tgz';
export const REV2 = 'fleet/web-2.tgz';

/** Fails the call named `target` (`caller method#occurrence`) once, as `kind`; lists every call while armed. */
export class OneFault implements Instrumentation {
  private armed = false;
  private counts = new Map<string, number>();
  readonly calls: string[] = [];
  fired = false;
  lostPublish = false;

  constructor(
    private readonly target?: string,
    private readonly kind?: FaultKind,
  ) {}

  arm(): void {
    this.armed = true;
  }

  disarm(): void {
    this.armed = false;
  }

  onCall(call: PortCall): CallDirective | void {
    if (!this.armed || call.method.startsWith('platforms.')) return;
    const pair = `${call.caller} ${call.method}`;
    const n = this.counts.get(pair) ?? 0;
    this.counts.set(pair, n + 1);
    const key = `${pair}#${n}`;
    this.calls.push(key);
    if (key !== this.target || this.fired || !this.kind) return;
    this.fired = true;
    if (this.kind === 'lostResponse' && call.method === 'events.putEvents') this.lostPublish = true;
    const error = faultError(call.method, this.kind);
    if (this.kind === 'lostResponse') return { loseResponse: error };
    throw error;
  }
}

/** The fault kind of the `i`-th call of the sweep: the kinds that apply to its method, in turn. */
export function kindOf(key: string, i: number): FaultKind {
  const method = key.slice(key.indexOf(' ') + 1, key.lastIndexOf('#'));
  const kinds = kindsFor(method, FAULT_KINDS);
  return kinds[i % kinds.length]!;
}

export interface SweepRun {
  target?: string;
  kind?: FaultKind;
  fired: boolean;
  outcome: string;
  calls: string[];
  violations: string[];
}

const ended = (d: Deployment | undefined) => !!d && isTerminal(d.state.status);

/** One run: revision 1 without faults, then revision 2 with the one fault armed, then the checks. */
export async function sweepRun(target?: string, kind?: FaultKind): Promise<SweepRun> {
  const faults = new OneFault(target, kind);
  const { env: e, hosts: agents } = await serverEnv(
    { config: 'CodeDeployDefault.OneAtATime', autoRollback: true },
    { instrumentation: faults },
  );
  const hosts = agents.map((h, i) => new AgentHost(h, i, () => e.clock.now().getTime()));
  try {
    const first = await deployBundle(e, 1);
    if (!(await driveHosts(e, first, hosts)) || (await e.deps.deployments.get(first))?.state.status !== 'Succeeded')
      throw new Error('revision 1 did not deploy without faults');
    const put = await e.s3.client.send(
      new PutObjectCommand({
        Bucket: LOCAL_REVISION_BUCKET,
        Key: REV2,
        Body: tgz({ 'appspec.yml': SERVER_APPSPEC, 'app/index.html': '<h1>2</h1>' }),
      }),
    );
    const logFrom = e.world.log.length;
    faults.arm();
    const created = await e.work!.during(
      dispatch(
        'CreateDeployment',
        {
          applicationName: 'fleet',
          deploymentGroupName: 'web',
          revision: {
            revisionType: 'S3',
            s3Location: { bucket: LOCAL_REVISION_BUCKET, key: REV2, bundleType: 'tgz', eTag: put.ETag },
          },
        },
        e.deps,
        e.viewFor,
      ),
    );
    const id = 'error' in created ? undefined : (created.output as { deploymentId: string }).deploymentId;
    // The hosts run, and the reconciler passes every minute, as its schedule would.
    let finished = false;
    for (let minute = 0; minute < 240 && !finished; minute++) {
      finished = await driveHosts(e, id, hosts, undefined, 55);
      await e.run(TASKS.reconcile, {}).catch(() => undefined);
      if (finished) finished = await settled(e, id);
    }
    faults.disarm();
    const violations = await check(e, id, hosts, logFrom, faults, finished);
    const outcome = id ? String((await e.deps.deployments.get(id))?.state.status) : 'refused';
    return {
      ...(target ? { target } : {}),
      ...(kind ? { kind } : {}),
      fired: faults.fired,
      outcome,
      calls: faults.calls,
      violations,
    };
  } finally {
    await e.close();
  }
}

/** Every record of the group ended and the group free. */
async function settled(e: TestEnv, id: string | undefined): Promise<boolean> {
  const group = await e.deps.catalog.getDeploymentGroup('fleet', 'web');
  if (group?.activeDeploymentId) return false;
  for (const d of await records(e)) if (!ended(d)) return false;
  return id === undefined || ended(await e.deps.deployments.get(id));
}

async function records(e: TestEnv): Promise<Deployment[]> {
  const ids = await e.deps.deployments.list('fleet', 'web');
  return (await Promise.all(ids.map((x) => e.deps.deployments.get(x)))).filter((d): d is Deployment => !!d);
}

async function check(
  e: TestEnv,
  id: string | undefined,
  hosts: AgentHost[],
  logFrom: number,
  faults: OneFault,
  finished: boolean,
): Promise<string[]> {
  const v: string[] = [];
  if (!finished) v.push('not ended after 4 virtual hours');
  const all = await records(e);
  const isRollback = (d: Deployment) => d.spec.creator === 'codeDeployRollback';
  const keyOf = (d: Deployment) => (d.spec.revision as { s3Location?: { key?: string } } | undefined)?.s3Location?.key;
  const mains = all.filter((d) => !isRollback(d) && keyOf(d) === REV2);
  for (const d of all) if (!ended(d)) v.push(`${d.deploymentId} is still ${d.state.status}`);
  for (const [name, x] of e.runtime.executions) if (x.status === 'RUNNING') v.push(`the execution ${name} still runs`);
  const group = await e.deps.catalog.getDeploymentGroup('fleet', 'web');
  if (group?.activeDeploymentId) v.push(`the group is locked by ${group.activeDeploymentId}`);
  const installed = hosts.map((h) => h.installed);
  const d = id ? mains.find((x) => x.deploymentId === id) : undefined;
  if (id && !d) v.push(`CreateDeployment answered ${id}, which has no record`);
  for (const x of mains)
    if (x.deploymentId !== id && (x.state.startTime || x.state.status === 'Succeeded'))
      v.push(`${x.deploymentId}, of a CreateDeployment that answered ${id ?? 'an error'}, ran (${x.state.status})`);

  if (d?.state.status === 'Succeeded') {
    if (installed.some((k) => k !== REV2)) v.push(`Succeeded, but the hosts have ${installed.join(', ')}`);
    const hs = await e.deps.hostCommands.listHosts(d.deploymentId);
    if (hs.some((h) => h.status !== 'Succeeded'))
      v.push(`Succeeded with hosts ${hs.map((h) => `${h.hostId} ${h.status}`).join(', ')}`);
    if (group?.lastSuccessfulDeployment?.deploymentId !== d.deploymentId)
      v.push("Succeeded, but it is not the group's last successful deployment");
  } else {
    if (installed.some((k) => k !== REV1))
      v.push(
        `${d ? `${d.state.status} (${d.state.errorInformation?.code})` : 'refused'}, but the hosts have ${installed.join(', ')}`,
      );
    if (d && !d.state.errorInformation) v.push(`${d.state.status} without errorInformation`);
    if (d?.state.errorInformation?.code === 'ROLLBACK_FAILED')
      v.push(`ROLLBACK_FAILED: ${d.state.errorInformation.message}`);
    const rbId = d?.state.rollbackInfo?.rollbackDeploymentId;
    const rb = rbId ? all.find((x) => x.deploymentId === rbId) : undefined;
    if (rbId && !rb) v.push(`the rollback ${rbId} has no record`);
    if (rb && rb.state.status !== 'Succeeded' && installed.every((k) => k === REV1))
      v.push(`the rollback is ${rb.state.status} though every host is back on revision 1`);
  }

  // Every host record of the run's deployments: each event once, none left open, as the hosts ran them.
  for (const x of all.filter(
    (r) => r.deploymentId === id || r.state.rollbackInfo?.rollbackTriggeringDeploymentId === id,
  )) {
    if (!id) break;
    const open = x.state.lifecycleEvents.filter((l) => l.status === 'InProgress' || l.status === 'Pending');
    if (open.length)
      v.push(
        `${x.deploymentId} is ${x.state.status} with lifecycle events ${open.map((l) => l.lifecycleEventName).join(', ')} open`,
      );
    for (const h of await e.deps.hostCommands.listHosts(x.deploymentId)) {
      const names = h.lifecycleEvents.map((l) => l.lifecycleEventName);
      if (new Set(names).size !== names.length) v.push(`${x.deploymentId} ${h.hostId}: events ${names.join(', ')}`);
      const openEvents = h.lifecycleEvents.filter((l) => l.status === 'InProgress' || l.status === 'Pending');
      if (openEvents.length || !['Succeeded', 'Failed', 'Skipped'].includes(h.status))
        v.push(
          `${x.deploymentId} ${h.hostId} is ${h.status} with ${openEvents.map((l) => `${l.lifecycleEventName} ${l.status}`).join(', ') || 'no open event'}`,
        );
      const agent = hosts.find((a) => a.agent.hostIdentifier.endsWith(`/${h.hostId}`));
      const ran = agent?.ran.filter((r) => r.deploymentId === x.deploymentId).map((r) => r.event) ?? [];
      if (new Set(ran).size !== ran.length) v.push(`${x.deploymentId} ${h.hostId} ran ${ran.join(', ')}`);
    }
    if ((await e.deps.timeline.list(x.deploymentId)).length === 0)
      v.push(`${isRollback(x) ? 'the rollback ' : ''}${x.deploymentId} (${x.state.status}) has no timeline`);
  }

  // One terminal event for the deployment (a publish whose answer was lost may be repeated).
  if (d) {
    const expected = { Succeeded: 'SUCCESS', Failed: 'FAILURE', Stopped: 'STOP' }[d.state.status as string];
    const states = e.world.log
      .slice(logFrom)
      // The deployment's own events: each host's instance events carry the same states.
      .filter((x) => x.kind === 'EventBridge' && x.detail['detail-type'] === DEPLOYMENT_DETAIL_TYPE)
      .map((x) => x.detail.detail as { deploymentId?: string; state?: string })
      .filter((x) => x.deploymentId === d.deploymentId && ['SUCCESS', 'FAILURE', 'STOP'].includes(String(x.state)))
      .map((x) => String(x.state));
    const lost = faults.lostPublish ? 1 : 0;
    if (expected && !states.includes(expected))
      v.push(`${d.state.status} but published ${states.join(', ') || 'no terminal event'}`);
    if (states.some((s) => s !== expected)) v.push(`${d.state.status} but published ${states.join(', ')}`);
    if (states.length > 1 + lost) v.push(`published ${states.length} terminal events`);
  }
  return v;
}
