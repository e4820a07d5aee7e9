/**
 * What the AWS and simulated ECS/ELB adapters share: the errors for a missing service or listener,
 * and which forwards of a listener a weight change rewrites (and to what).
 */
import { NLB_PROTOCOLS, greenPercentOf, type ForwardWeights } from '../platforms/ecs/domain.js';
import { PreconditionFailedError } from '../domain/errors.js';
import type { ListenerForward, ListenerInfo } from '../platforms/ecs/ports.js';

/** ECS error names that mean the cluster or service is not there (ServiceNotActive: it was deleted). */
export const ECS_MISSING_ERRORS: ReadonlySet<string> = new Set([
  'ClusterNotFoundException',
  'ServiceNotFoundException',
  'ServiceNotActiveException',
]);

/** A cluster or service that does not exist: the group's configuration, not a dependency failure. */
export function missingEcsService(cluster: string, service: string, detail: string): PreconditionFailedError {
  return new PreconditionFailedError(
    `ECS service ${service} in cluster ${cluster} does not exist: ${detail}`,
    'INVALID_ECS_SERVICE',
  );
}

/** A listener that does not exist: the group's configuration, not a dependency failure. */
export function missingListener(listenerArn: string, detail: string): PreconditionFailedError {
  return new PreconditionFailedError(
    `ELB listener ${listenerArn} does not exist: ${detail}`,
    'ELASTIC_LOAD_BALANCING_INVALID',
  );
}

/** The weights in a forward that has no Weight field (a plain TargetGroupArn, or a Weight left out) are 1. */
export const DEFAULT_FORWARD_WEIGHT = 1;

/**
 * The forward to write on a listener: both target groups of the pair at `weights`. A Network Load
 * Balancer forwards to one target group only, so there it is the side that has weight; an NLB
 * cannot split traffic, and asking it to is refused here rather than by ELB.
 */
export function forwardToWrite(protocol: string, pair: [string, string], weights: ForwardWeights): ForwardWeights {
  const [blue, green] = pair;
  if (!(NLB_PROTOCOLS as readonly string[]).includes(protocol))
    return { [blue]: weights[blue] ?? 0, [green]: weights[green] ?? 0 };
  const on = pair.filter((arn) => (weights[arn] ?? 0) > 0);
  if (on.length > 1) {
    throw new PreconditionFailedError(
      `A ${protocol} listener (Network Load Balancer) forwards to one target group and cannot split traffic between ${blue} and ${green}; use an all-at-once deployment configuration`,
      'ELASTIC_LOAD_BALANCING_INVALID',
    );
  }
  return { [on[0] ?? blue]: DEFAULT_FORWARD_WEIGHT };
}

const sameWeights = (a: ForwardWeights, b: ForwardWeights) =>
  Object.keys({ ...a, ...b }).every((k) => (a[k] ?? 0) === (b[k] ?? 0));

/**
 * The forwards of `listener` that `setForward(pair, weights)` must rewrite, each with the weights
 * to write: those that send traffic only to the pair and do not already say the same. Forwards that
 * send traffic to other target groups are someone else's routing and are left alone.
 */
export function forwardsToRewrite(
  listener: ListenerInfo,
  pair: [string, string],
  weights: ForwardWeights,
): ListenerForward[] {
  const next = forwardToWrite(listener.protocol, pair, weights);
  // Ours: every target group it sends traffic to is in the pair (a forward that also feeds another
  // target group is someone else's split, and rewriting it would drop that target group).
  return listener.forwards
    .filter((f) => greenPercentOf(f.weights, pair[0], pair[1]) !== undefined && !sameWeights(f.weights, next))
    .map((f) => ({ ...(f.ruleArn ? { ruleArn: f.ruleArn } : {}), weights: next }));
}
