/**
 * The Authorizer on AWS (docs/adr/0024): IAM's own policy evaluation, through
 * iam:SimulatePrincipalPolicy on the caller's IAM user or role, so identity policies, permissions
 * boundaries and explicit denies decide as they would on CodeDeploy. An assumed-role session ARN
 * (`arn:aws:sts::<account>:assumed-role/<name>/<session>`) is simulated as its role, whose ARN (with its
 * path) iam:GetRole gives. Decisions are cached briefly per principal, action and resource, so a burst of
 * calls costs one simulation; a changed policy takes effect within `ttlMs`.
 */
import { GetRoleCommand, SimulatePrincipalPolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { AuthorizationDecision, AuthorizationRequest, Authorizer } from '../../ports/index.js';
import { mapAwsError } from './errors.js';

export interface IamAuthorizerOptions {
  /** This account: principals of other accounts cannot be simulated here and are denied. */
  accountId: string;
  /** How long a decision is reused (default 60 s). */
  ttlMs?: number;
  /** Decisions kept at most (default 2000; the oldest go first). */
  maxEntries?: number;
  /** Milliseconds now (injected so tests decide expiry, not the wall clock). */
  now?: () => number;
}

type Decision = 'allowed' | 'explicitDeny' | 'implicitDeny';

export class IamAuthorizer implements Authorizer {
  private readonly decisions = new Map<string, { decision: Decision; until: number }>();
  private readonly roles = new Map<string, { arn: string | undefined; until: number }>();
  private readonly ttl: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(
    private readonly iam: IAMClient,
    private readonly opts: IamAuthorizerOptions,
  ) {
    this.ttl = opts.ttlMs ?? 60_000;
    this.max = opts.maxEntries ?? 2000;
    this.now = opts.now ?? Date.now;
  }

  async authorize(r: AuthorizationRequest): Promise<AuthorizationDecision> {
    const deny = (reason: string): AuthorizationDecision => ({ allowed: false, denied: r.resources, reason });
    if (!r.principal) return deny('because the request was not signed');
    const parsed = parsePrincipal(r.principal);
    if (!parsed || parsed.accountId !== this.opts.accountId)
      return deny('because only IAM users and roles of this account can be authorised');
    // The account's root user is allowed everything in its account, as on CodeDeploy.
    if (parsed.kind === 'root') return { allowed: true };
    const arn = parsed.kind === 'role' ? await this.roleArn(parsed.name) : parsed.arn;
    if (!arn) return deny('because the role does not exist');

    const key = (res: string) => `${arn}\u0000${r.action}\u0000${res}\u0000${r.sourceIp ?? ''}`;
    const now = this.now();
    const results = new Map<string, Decision>();
    const ask: string[] = [];
    for (const res of r.resources) {
      const hit = this.decisions.get(key(res));
      if (hit && hit.until > now) results.set(res, hit.decision);
      else ask.push(res);
    }
    if (ask.length) {
      for (const [res, decision] of await this.simulate(arn, r.action, ask, r.sourceIp)) {
        results.set(res, decision);
        this.remember(key(res), decision, now);
      }
    }
    const denied = r.resources.filter((res) => results.get(res) !== 'allowed');
    if (!denied.length) return { allowed: true };
    const explicit = denied.some((res) => results.get(res) === 'explicitDeny');
    return {
      allowed: false,
      denied,
      reason: explicit
        ? 'with an explicit deny in an identity-based policy'
        : 'because no identity-based policy allows the action',
    };
  }

  private remember(key: string, decision: Decision, now: number): void {
    if (this.decisions.size >= this.max) this.decisions.delete(this.decisions.keys().next().value!);
    this.decisions.set(key, { decision, until: now + this.ttl });
  }

  /** The role's ARN with its path (an assumed-role ARN carries only the name); undefined if it does not exist. */
  private async roleArn(name: string): Promise<string | undefined> {
    const hit = this.roles.get(name);
    const now = this.now();
    if (hit && hit.until > now) return hit.arn;
    let arn: string | undefined;
    try {
      arn = (await this.iam.send(new GetRoleCommand({ RoleName: name }))).Role?.Arn;
    } catch (e) {
      if ((e as { name?: string }).name !== 'NoSuchEntityException') throw mapAwsError(e, `GetRole ${name}`);
    }
    this.roles.set(name, { arn, until: now + this.ttl });
    return arn;
  }

  private async simulate(
    arn: string,
    action: string,
    resources: string[],
    sourceIp: string | undefined,
  ): Promise<Map<string, Decision>> {
    const out = new Map<string, Decision>();
    let marker: string | undefined;
    do {
      let page;
      try {
        page = await this.iam.send(
          new SimulatePrincipalPolicyCommand({
            PolicySourceArn: arn,
            ActionNames: [action],
            ...(resources.includes('*') ? {} : { ResourceArns: resources }),
            ...(sourceIp
              ? {
                  ContextEntries: [
                    { ContextKeyName: 'aws:SourceIp', ContextKeyType: 'ip', ContextKeyValues: [sourceIp] },
                  ],
                }
              : {}),
            ...(marker ? { Marker: marker } : {}),
          }),
        );
      } catch (e) {
        // The principal went away between GetRole and now: denied, like any unknown principal.
        if ((e as { name?: string }).name === 'NoSuchEntityException') {
          for (const res of resources) out.set(res, 'implicitDeny');
          return out;
        }
        throw mapAwsError(e, `SimulatePrincipalPolicy ${arn} ${action}`);
      }
      for (const result of page.EvaluationResults ?? []) {
        const specific = result.ResourceSpecificResults ?? [];
        if (specific.length) {
          for (const s of specific)
            if (s.EvalResourceName) out.set(s.EvalResourceName, (s.EvalResourceDecision as Decision) ?? 'implicitDeny');
        } else {
          for (const res of resources)
            out.set(
              result.EvalResourceName && result.EvalResourceName !== '*' ? result.EvalResourceName : res,
              (result.EvalDecision as Decision) ?? 'implicitDeny',
            );
        }
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return out;
  }
}

type Principal =
  | { kind: 'root'; accountId: string }
  | { kind: 'user'; accountId: string; arn: string }
  | { kind: 'role'; accountId: string; name: string };

/** What API Gateway's identity.userArn names: a user, an assumed role's session, or the root user. */
export function parsePrincipal(arn: string): Principal | undefined {
  const m = /^arn:([a-z-]+):(iam|sts)::(\d{12}):(.+)$/.exec(arn);
  if (!m) return undefined;
  const [, , service, accountId, rest] = m as unknown as [string, string, string, string, string];
  if (service === 'iam' && rest === 'root') return { kind: 'root', accountId };
  if (service === 'iam' && rest.startsWith('user/')) return { kind: 'user', accountId, arn };
  if (service === 'iam' && rest.startsWith('role/')) return { kind: 'role', accountId, name: rest.split('/').pop()! };
  if (service === 'sts' && rest.startsWith('assumed-role/')) {
    const name = rest.split('/')[1];
    return name ? { kind: 'role', accountId, name } : undefined;
  }
  // Federated users and anything else: IAM cannot simulate them.
  return undefined;
}
