/**
 * In-place traffic control for one host (CodeDeploy's BlockTraffic and AllowTraffic lifecycle
 * events): BlockTraffic deregisters the instance from every target group of the deployment group
 * and is done once ELB reports it drained; AllowTraffic registers it and is done once every target
 * group reports it healthy. Both are read back from ELB, never assumed, and both are idempotent, so
 * the fleet calls them again until they are done or their deadline passes.
 */
import type { TargetGroupTargets, TargetHealthState } from './ports.js';

/** Where a traffic event of one host stands. */
export type TrafficProgress =
  | { done: true; observed: Record<string, TargetHealthState> }
  | { done: false; observed: Record<string, TargetHealthState>; retryAfterSeconds: number }
  | { done: false; failed: string; observed: Record<string, TargetHealthState> };

/** How often to look again while ELB drains a target or runs its health checks. */
const LOOK_AGAIN_SECONDS = 5;

/** The health of `instanceId` in each target group (by ARN). */
async function observe(
  targets: TargetGroupTargets,
  groupArns: string[],
  instanceId: string,
): Promise<Record<string, TargetHealthState>> {
  const out: Record<string, TargetHealthState> = {};
  for (const arn of groupArns) out[arn] = (await targets.health(arn, [instanceId]))[instanceId] ?? 'unused';
  return out;
}

/** BlockTraffic: take the host out of its target groups and wait for draining to end. */
export async function blockTraffic(
  targets: TargetGroupTargets,
  groupArns: string[],
  instanceId: string,
): Promise<TrafficProgress> {
  for (const arn of groupArns) await targets.deregister(arn, instanceId);
  const observed = await observe(targets, groupArns, instanceId);
  const drained = Object.values(observed).every((s) => s === 'unused');
  return drained ? { done: true, observed } : { done: false, observed, retryAfterSeconds: LOOK_AGAIN_SECONDS };
}

/**
 * AllowTraffic: put the host in its target groups and wait until every one reports it healthy.
 * `pastDeadline` (the event's time is up) turns a host that is still not healthy into a failure
 * that says where each target group stands.
 */
export async function allowTraffic(
  targets: TargetGroupTargets,
  groupArns: string[],
  instanceId: string,
  pastDeadline: boolean,
): Promise<TrafficProgress> {
  for (const arn of groupArns) await targets.register(arn, instanceId);
  const observed = await observe(targets, groupArns, instanceId);
  if (Object.values(observed).every((s) => s === 'healthy')) return { done: true, observed };
  if (pastDeadline)
    return {
      done: false,
      observed,
      failed: `${instanceId} did not become healthy in its target groups before the AllowTraffic deadline (${Object.entries(
        observed,
      )
        .map(([arn, s]) => `${targetGroupName(arn)}: ${s}`)
        .join(', ')})`,
    };
  return { done: false, observed, retryAfterSeconds: LOOK_AGAIN_SECONDS };
}

/** A target group's name from its ARN (`…:targetgroup/<name>/<id>`). */
export function targetGroupName(arn: string): string {
  return /:targetgroup\/([^/]+)\//.exec(arn)?.[1] ?? arn;
}
