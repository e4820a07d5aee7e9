/**
 * ECS blue/green in pure terms: task sets, target groups and the weighted forward actions of ELB
 * listeners. Weights on a listener are ELB integers (0..999); a percentage is written with one
 * decimal of precision (green = round(p × 10), blue = 1000 − green) and a side at 1000 is written
 * as weight 1 with the other side at 0.
 */

/** ELB forward weights by target group ARN. */
export type ForwardWeights = Record<string, number>;

/** The weights that put `percent` of a listener's traffic on the green target group. */
export function forwardWeightsFor(blueArn: string, greenArn: string, percent: number): ForwardWeights {
  const green = Math.min(1000, Math.max(0, Math.round(percent * 10)));
  if (green >= 1000) return { [blueArn]: 0, [greenArn]: 1 };
  if (green <= 0) return { [blueArn]: 1, [greenArn]: 0 };
  return { [blueArn]: 1000 - green, [greenArn]: green };
}

/**
 * The percent of traffic `weights` send to green, or undefined when they send traffic to a target
 * group that is neither blue nor green (someone else's routing: not ours to touch).
 */
export function greenPercentOf(weights: ForwardWeights, blueArn: string, greenArn: string): number | undefined {
  const entries = Object.entries(weights).filter(([, w]) => w > 0);
  if (entries.some(([arn]) => arn !== blueArn && arn !== greenArn)) return undefined;
  const total = entries.reduce((t, [, w]) => t + w, 0);
  if (total === 0) return undefined;
  return Math.round(((weights[greenArn] ?? 0) / total) * 1000) / 10;
}

/** True when two forward actions split traffic the same way (compared as percentages). */
export function sameSplit(a: ForwardWeights, b: ForwardWeights): boolean {
  const share = (w: ForwardWeights) => {
    const total = Object.values(w).reduce((t, x) => t + x, 0);
    return Object.fromEntries(
      Object.entries(w)
        .filter(([, x]) => x > 0)
        .map(([k, x]) => [k, total ? x / total : 0]),
    );
  };
  const sa = share(a);
  const sb = share(b);
  const keys = new Set([...Object.keys(sa), ...Object.keys(sb)]);
  return [...keys].every((k) => Math.abs((sa[k] ?? 0) - (sb[k] ?? 0)) < 1e-3);
}

/** Short text for a split, e.g. "web-blue 90% / web-green 10%" (target group names from ARNs). */
export function describeSplit(weights: ForwardWeights): string {
  const total = Object.values(weights).reduce((t, x) => t + x, 0) || 1;
  return Object.entries(weights)
    .filter(([, w]) => w > 0)
    .map(([arn, w]) => `${targetGroupName(arn)} ${Math.round((w / total) * 1000) / 10}%`)
    .join(' / ');
}

/** A target group's name from its ARN (…:targetgroup/<name>/<id>), or the input if it is a name. */
export function targetGroupName(arnOrName: string): string {
  const m = /:targetgroup\/([^/]+)\//.exec(arnOrName);
  return m ? m[1]! : arnOrName;
}

/** `family:revision` of a task definition ARN (or the input when it is already short). */
export function taskDefinitionShortName(arn: string): string {
  // indexOf, not /:task-definition\/(.+)$/: that pattern is quadratic on repeated markers and a newline.
  const marker = ':task-definition/';
  const at = arn.indexOf(marker);
  const rest = at < 0 ? '' : arn.slice(at + marker.length);
  return rest && !rest.includes('\n') ? rest : arn;
}

/** ELB listener protocols of a Network Load Balancer (weighted canary/linear needs an ALB). */
export const NLB_PROTOCOLS = ['TCP', 'TLS', 'UDP', 'TCP_UDP'] as const;
