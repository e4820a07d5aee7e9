/**
 * The Authorizer of local mode: a policy document evaluated in memory (src/domain/policy.ts). The
 * default policy allows everything, so `cutover server` and the CLI keep working with no set-up; a
 * configurable one lets tests and users try their AWS policies' shape locally.
 */
import { evaluate, ALLOW_ALL, type Policy } from '../../domain/policy.js';
import type { AuthorizationDecision, AuthorizationRequest, Authorizer } from '../../ports/index.js';

export class PolicyAuthorizer implements Authorizer {
  constructor(private readonly policy: Policy = ALLOW_ALL) {}

  async authorize(r: AuthorizationRequest): Promise<AuthorizationDecision> {
    const decisions = r.resources.map((res) => [res, evaluate(this.policy, r.principal, r.action, res)] as const);
    const denied = decisions.filter(([, d]) => d !== 'allowed');
    if (!denied.length) return { allowed: true };
    const explicit = denied.some(([, d]) => d === 'explicitDeny');
    return {
      allowed: false,
      denied: denied.map(([res]) => res),
      reason: explicit
        ? 'with an explicit deny in the local policy'
        : 'because no statement of the local policy allows it',
    };
  }
}
