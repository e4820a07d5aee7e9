/** How a Lambda alias must route for a given share of traffic on the target version. Pure. */

/** One Lambda function shifted by a deployment. */
export interface FunctionTarget {
  /** The AppSpec resource's logical name. */
  logicalName: string;
  functionName: string;
  alias: string;
  currentVersion: string;
  targetVersion: string;
}

/** The routing of a Lambda alias: its primary version plus extra versions and their weights (0..1). */
export interface AliasRouting {
  functionVersion: string;
  additionalVersionWeights: Record<string, number>;
}

const EPSILON = 1e-6;

/**
 * The alias routing that puts `weightPercent` of traffic on the target version.
 * 0 % → current version alone; 100 % → target version alone (no routing config, as CodeDeploy
 * leaves it); in between → current version primary with the target as additional version.
 */
export function routingFor(target: FunctionTarget, weightPercent: number): AliasRouting {
  if (target.currentVersion === target.targetVersion || weightPercent >= 100) {
    return { functionVersion: target.targetVersion, additionalVersionWeights: {} };
  }
  if (weightPercent <= 0) return { functionVersion: target.currentVersion, additionalVersionWeights: {} };
  return {
    functionVersion: target.currentVersion,
    additionalVersionWeights: { [target.targetVersion]: Math.round(weightPercent * 100) / 10000 },
  };
}

/** True when two routings send the same traffic to the same versions. */
export function sameRouting(a: AliasRouting, b: AliasRouting): boolean {
  const clean = (r: AliasRouting) =>
    Object.entries(r.additionalVersionWeights).filter(([v, w]) => w > EPSILON && v !== r.functionVersion);
  const ea = clean(a);
  const eb = clean(b);
  if (a.functionVersion !== b.functionVersion || ea.length !== eb.length) return false;
  return ea.every(([v, w]) => Math.abs((b.additionalVersionWeights[v] ?? 0) - w) < EPSILON);
}

/**
 * The percent of traffic the routing sends to the target version, or undefined when the alias
 * routes to some version that belongs to neither side of this deployment.
 */
export function targetWeightOf(target: FunctionTarget, r: AliasRouting): number | undefined {
  const extra = Object.entries(r.additionalVersionWeights).filter(([, w]) => w > EPSILON);
  if (r.functionVersion === target.targetVersion && extra.length === 0) return 100;
  if (r.functionVersion !== target.currentVersion) return undefined;
  if (extra.length === 0) return 0;
  if (extra.length === 1 && extra[0]![0] === target.targetVersion) return Math.round(extra[0]![1] * 10000) / 100;
  return undefined;
}

/** Short text for a routing, e.g. "v7 90% / v8 10%". */
export function describeRouting(r: AliasRouting): string {
  const extra = Object.entries(r.additionalVersionWeights).filter(([, w]) => w > EPSILON);
  const extraTotal = extra.reduce((t, [, w]) => t + w, 0);
  const pct = (w: number) => `${Math.round(w * 10000) / 100}%`;
  return [`v${r.functionVersion} ${pct(1 - extraTotal)}`, ...extra.map(([v, w]) => `v${v} ${pct(w)}`)].join(' / ');
}
