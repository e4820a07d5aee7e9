/**
 * Instance-level outcomes: each host of an in-place deployment (a rollback's too) is published when it starts
 * (its first lifecycle event started), and when it succeeds or fails (a host stopped after it started fails),
 * to EventBridge (`CodeDeploy Instance State-change Notification`) and to the group's SNS triggers
 * (InstanceStart, InstanceSuccess, InstanceFailure), once per host and transition.
 *
 * Once, and crash-safe, with the host record as the ledger (`HostRecord.notices`): a transition is claimed by
 * a compare-and-set on the record, published, then marked published. Whoever claims it publishes it; a claim
 * older than NOTICE_GRACE_SECONDS and still not marked (its publisher crashed, or its publish failed) may be
 * claimed again by the fleet's sweep (progress, stop). The completion that moves a host on publishes after
 * its next command is queued and the next hosts started, so a host never waits for a publish.
 */
import { InternalError } from '../../../domain/errors.js';
import type { TriggerEventType } from '../../../domain/model.js';
import {
  instanceEventBridgeEntry,
  instanceTriggerMessages,
  type InstanceReport,
} from '../../../domain/notifications.js';
import type { Clock, Deployments, EventPublisher } from '../../../ports/index.js';
import type { HostCommands, HostRecord, InstanceTransition } from '../../../ports/host-commands.js';
import type { Catalog } from '../../../ports/store.js';

/** How long a claimed transition belongs to its claimer before the sweep may publish it instead. */
export const NOTICE_GRACE_SECONDS = 60;

const TRIGGER: Record<InstanceTransition, TriggerEventType> = {
  START: 'InstanceStart',
  SUCCESS: 'InstanceSuccess',
  FAILURE: 'InstanceFailure',
};

/** Publishes one transition of one host. */
export interface InstanceNotices {
  /** @throws DependencyUnavailableError, DependencyRejectedError from EventBridge, SNS or the store */
  publish(deploymentId: string, host: HostRecord, transition: InstanceTransition): Promise<void>;
}

/** What publishing reads and calls: the deployment, its group's triggers, EventBridge and SNS. */
export interface NoticePorts {
  deployments: Pick<Deployments, 'get'>;
  configs: Pick<Catalog, 'getDeploymentGroup'>;
  events: Pick<EventPublisher, 'putEvents' | 'publish'>;
  clock: Pick<Clock, 'now'>;
  env: { region: string; accountId: string; eventSource?: string };
}

/** The port methods publishing uses, by port (for a caller's declaration). */
export const NOTICE_USES = {
  deployments: ['get'],
  configs: ['getDeploymentGroup'],
  events: ['putEvents', 'publish'],
} as const;

/** A host record as the notification builders take it. */
export function instanceReport(h: HostRecord): InstanceReport {
  return {
    targetId: h.hostId,
    kind: h.targetArn?.startsWith('arn:aws:codedeploy:') ? 'OnPremises' : 'EC2',
    status: h.status,
    lastUpdatedAt: h.lastUpdatedAt,
    lifecycleEvents: h.lifecycleEvents.map((e) => ({
      lifecycleEventName: e.lifecycleEventName,
      status: e.status,
      ...(e.startTime ? { startTime: e.startTime } : {}),
      ...(e.endTime ? { endTime: e.endTime } : {}),
    })),
  };
}

/** CodeDeploy's shapes, from the deployment and its group as stored. */
export function instanceNotices(ports: NoticePorts): InstanceNotices {
  const env = { eventSource: 'cutover', ...ports.env };
  return {
    async publish(deploymentId, host, transition) {
      const d = await ports.deployments.get(deploymentId);
      if (!d) throw new InternalError(`deployment ${deploymentId} has no record: its hosts cannot be published`);
      const report = instanceReport(host);
      await ports.events.putEvents([instanceEventBridgeEntry(env, d, report, transition, ports.clock.now())]);
      const group = await ports.configs.getDeploymentGroup(
        d.spec.applicationName,
        d.spec.deploymentGroupName,
        d.spec.deploymentGroupId,
      );
      if (!group) return;
      for (const m of instanceTriggerMessages(env, group, d, TRIGGER[transition], report))
        await ports.events.publish(m);
    },
  };
}

/** The transitions a host record has reached, in order, each with when it happened. Pure. */
export function transitionsOf(h: HostRecord): { transition: InstanceTransition; at: string }[] {
  const first = h.lifecycleEvents.find((e) => e.startTime && !e.notStarted);
  if (!first?.startTime) return [];
  const out: { transition: InstanceTransition; at: string }[] = [{ transition: 'START', at: first.startTime }];
  const at = h.endTime ?? h.lastUpdatedAt;
  if (h.status === 'Succeeded') out.push({ transition: 'SUCCESS', at });
  else if (h.status === 'Failed' || h.status === 'Skipped' || h.status === 'Unknown')
    out.push({ transition: 'FAILURE', at });
  return out;
}

type NoticeDeps = {
  hostCommands: Pick<HostCommands, 'getHost' | 'updateHost'>;
  clock: Pick<Clock, 'now'>;
  notices?: InstanceNotices;
};

const MAX_RACES = 25;

/**
 * Claim one transition of a host by compare-and-set: only if nobody published it and nobody claimed it (or,
 * with `takeOver`, the claim is older than the grace period). Returns the record as claimed, or undefined.
 */
async function claim(
  deps: NoticeDeps,
  deploymentId: string,
  hostId: string,
  transition: InstanceTransition,
  takeOver: boolean,
): Promise<HostRecord | undefined> {
  for (let attempt = 0; ; attempt++) {
    const h = await deps.hostCommands.getHost(deploymentId, hostId);
    if (!h) return undefined;
    const mark = h.notices?.[transition];
    const now = deps.clock.now();
    if (mark?.publishedAt) return undefined;
    if (mark && (!takeOver || Date.parse(mark.claimedAt) + NOTICE_GRACE_SECONDS * 1000 > now.getTime()))
      return undefined;
    try {
      return await deps.hostCommands.updateHost(deploymentId, hostId, h.version, {
        notices: { ...h.notices, [transition]: { claimedAt: now.toISOString() } },
      });
    } catch (e) {
      if (!(e instanceof InternalError) || attempt >= MAX_RACES) throw e;
    }
  }
}

/** Mark a claimed transition published (by compare-and-set; a lost race is tried again). */
async function markPublished(deps: NoticeDeps, deploymentId: string, hostId: string, t: InstanceTransition) {
  for (let attempt = 0; ; attempt++) {
    const h = await deps.hostCommands.getHost(deploymentId, hostId);
    const mark = h?.notices?.[t];
    if (!h || !mark || mark.publishedAt) return;
    try {
      await deps.hostCommands.updateHost(deploymentId, hostId, h.version, {
        notices: { ...h.notices, [t]: { ...mark, publishedAt: deps.clock.now().toISOString() } },
      });
      return;
    } catch (e) {
      if (!(e instanceof InternalError) || attempt >= MAX_RACES) throw e;
    }
  }
}

/**
 * Publish what the host reached and nobody published, in order (START before its end). `sweep`: also take
 * over claims older than the grace period. A failed publish leaves its claim for the sweep and is not thrown
 * (a host's progress never waits on a notification); the answer says whether every transition is published.
 */
export async function notifyHost(
  deps: NoticeDeps,
  deploymentId: string,
  hostId: string,
  opts: { sweep: boolean },
): Promise<{ settled: boolean }> {
  const notices = deps.notices;
  if (!notices) return { settled: true };
  const h = await deps.hostCommands.getHost(deploymentId, hostId);
  if (!h) return { settled: true };
  let settled = true;
  for (const { transition } of transitionsOf(h)) {
    if (h.notices?.[transition]?.publishedAt) continue;
    const mine = await claim(deps, deploymentId, hostId, transition, opts.sweep);
    if (!mine) {
      const now = await deps.hostCommands.getHost(deploymentId, hostId);
      if (!now?.notices?.[transition]?.publishedAt) settled = false;
      // Someone else is publishing it: what comes after it waits, so the order holds.
      break;
    }
    try {
      await notices.publish(deploymentId, mine, transition);
    } catch {
      settled = false;
      break;
    }
    await markPublished(deps, deploymentId, hostId, transition);
  }
  return { settled };
}
