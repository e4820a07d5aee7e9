/**
 * IAM-style policy evaluation for local mode (docs/adr/0024): statements of Allow/Deny over action and
 * resource patterns, matched as IAM matches them (`*` any run of characters, `?` one, case-insensitive
 * actions, case-sensitive resources; the request's values are literals, so a name containing `*` matches
 * only patterns that cover it). An explicit deny wins; no allow is a deny. Pure.
 */

export interface PolicyStatement {
  effect: 'Allow' | 'Deny';
  /** Principal ARN patterns this statement applies to; `*` (the default) also covers unsigned callers. */
  principals?: string[];
  actions: string[];
  resources: string[];
}

export interface Policy {
  statements: PolicyStatement[];
}

/** Every principal, every action, every resource: local mode's default. */
export const ALLOW_ALL: Policy = {
  statements: [{ effect: 'Allow', principals: ['*'], actions: ['*'], resources: ['*'] }],
};

/** Whether `value` matches the IAM pattern `pattern`, in linear time (no backtracking regex). */
export function matchesPattern(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  // Greedy wildcard matching with one backtrack point: O(|p|·|v|) worst case, no exponential blow-up.
  let i = 0;
  let j = 0;
  let star = -1;
  let mark = 0;
  while (j < v.length) {
    // A `*` in the pattern is always the wildcard (checked first: the value may hold a literal `*`).
    if (i < p.length && p[i] === '*') {
      star = i++;
      mark = j;
    } else if (i < p.length && (p[i] === '?' || p[i] === v[j])) {
      i++;
      j++;
    } else if (star !== -1) {
      i = star + 1;
      j = ++mark;
    } else return false;
  }
  while (i < p.length && p[i] === '*') i++;
  return i === p.length;
}

const appliesTo = (s: PolicyStatement, principal: string | undefined): boolean => {
  const principals = s.principals ?? ['*'];
  if (principals.includes('*')) return true;
  return principal !== undefined && principals.some((p) => matchesPattern(p, principal));
};

/** The decision for one action on one resource: 'allowed', 'explicitDeny' or 'implicitDeny' (IAM's words). */
export function evaluate(
  policy: Policy,
  principal: string | undefined,
  action: string,
  resource: string,
): 'allowed' | 'explicitDeny' | 'implicitDeny' {
  let allowed = false;
  for (const s of policy.statements) {
    if (!appliesTo(s, principal)) continue;
    if (!s.actions.some((a) => matchesPattern(a, action, true))) continue;
    if (!s.resources.some((r) => matchesPattern(r, resource))) continue;
    if (s.effect === 'Deny') return 'explicitDeny';
    allowed = true;
  }
  return allowed ? 'allowed' : 'implicitDeny';
}

/** Problems of a policy document (a local policy file), every one with its path. */
export function policyIssues(value: unknown): string[] {
  const issues: string[] = [];
  const statements = (value as { statements?: unknown } | null)?.statements;
  if (!Array.isArray(statements)) return ['statements: required, a list'];
  statements.forEach((s: unknown, k) => {
    const st = (s ?? {}) as Record<string, unknown>;
    if (st.effect !== 'Allow' && st.effect !== 'Deny') issues.push(`statements[${k}].effect: Allow or Deny`);
    for (const field of ['actions', 'resources'] as const)
      if (!Array.isArray(st[field]) || !(st[field] as unknown[]).every((x) => typeof x === 'string'))
        issues.push(`statements[${k}].${field}: required, a list of strings`);
    if (
      st.principals !== undefined &&
      (!Array.isArray(st.principals) || !st.principals.every((x: unknown) => typeof x === 'string'))
    )
      issues.push(`statements[${k}].principals: a list of strings`);
  });
  return issues;
}
