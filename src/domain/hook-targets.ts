/**
 * Which hook targets a deployment may name. Pure: the composition root (src/wiring) says what the
 * environment allows (a HookTargetPolicy); CreateDeployment refuses what can be refused from the
 * text alone, and the webhook invoker checks every address a name resolves to before it connects
 * (docs/adr/0022-hook-targets-safe-by-construction.md).
 */
import { ADDRESS_CLASS_NAMES, NEVER_REACHABLE, classifyAddress, type AddressClass } from './addresses.js';

/** What the environment lets hooks reach; chosen by the wiring, never by a task. */
export interface HookTargetPolicy {
  /**
   * Lambda functions the stack may invoke as hooks: name patterns (`*` matches any run of
   * characters), in the stack's own region and account, as the IAM role grants them
   * (serverless.yml `params.hookFunctions`). Undefined: any function (local mode: the hook
   * modules registered in the world).
   */
  functions?: readonly string[];
  /**
   * Webhooks may use plain http and reach loopback addresses, and only loopback over http (local
   * mode, where the user's receivers run on 127.0.0.1). False on AWS, where 127.0.0.1 is the
   * Lambda runtime API.
   */
  loopbackWebhooks: boolean;
}

/** The strictest policy: https to public addresses, any function. What an environment without one gets. */
export const STRICT_HOOK_TARGETS: HookTargetPolicy = { loopbackWebhooks: false };

/** Longest webhook URL accepted (an AppSpec hook entry). */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** A hook target that is a webhook: it starts with http:// or https:// (any case). */
export function isWebhookTarget(target: string): boolean {
  const head = target.slice(0, 8).toLowerCase();
  return head.startsWith('https://') || head.startsWith('http://');
}

/**
 * Whether `text` is written as a webhook URL (what an AppSpec hook entry may be): http(s), a host,
 * no whitespace, at most MAX_WEBHOOK_URL_LENGTH characters. Linear: no regular expression. Which
 * webhooks the environment lets through is checkWebhookUrl's question.
 */
export function isWebhookUrl(text: string): boolean {
  if (text.length > MAX_WEBHOOK_URL_LENGTH || !isWebhookTarget(text)) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) <= 0x20 || text.charCodeAt(i) === 0x7f) return false;
  try {
    return new URL(text).hostname !== '';
  } catch {
    return false;
  }
}

/** `host` as the URL parser writes it (lower case, punycode, IPv6 in brackets), or undefined if it is no host. */
export function normalizeHost(host: string): string | undefined {
  if (host.length === 0 || host.length > 253 + 2) return undefined;
  try {
    const u = new URL(`https://${host}/`);
    return u.hostname !== '' && u.host === u.hostname && u.pathname === '/' && !u.username ? u.hostname : undefined;
  } catch {
    return undefined;
  }
}

/** The hostname's address, without the brackets of an IPv6 literal. */
const bare = (hostname: string) =>
  hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;

/**
 * Why a webhook may not connect to an address of class `kind` for `hostname`, or undefined when it
 * may. The allow-list (the group's `webhookAllowedHosts`, normalized) opens private addresses for
 * the hosts it names; nothing opens metadata, link-local, unspecified, multicast or broadcast.
 */
export function addressRefusal(
  kind: AddressClass,
  hostname: string,
  policy: HookTargetPolicy,
  allowedHosts: readonly string[] = [],
): string | undefined {
  if (kind === 'public') return undefined;
  if (kind === 'loopback' && policy.loopbackWebhooks) return undefined;
  if (kind === 'private' && allowedHosts.includes(hostname)) return undefined;
  const name = ADDRESS_CLASS_NAMES[kind];
  if (NEVER_REACHABLE.has(kind)) return `${name} is never a webhook target`;
  if (kind === 'loopback') return `${name} is not a webhook target here`;
  return `${name} is a webhook target only when the deployment group's webhookAllowedHosts names ${hostname}`;
}

export interface ParsedWebhook {
  url: URL;
  /** The host to resolve (an IPv6 literal without brackets). */
  host: string;
  /** The class of the host when it is an IP literal. */
  literal?: AddressClass;
}

/**
 * Parse a webhook URL and refuse what its text alone shows: not http(s), http where it is not
 * allowed, credentials in it, an address literal of a refused class. Returns the problems (empty
 * when it may be tried; the resolved addresses are checked again when it is invoked).
 */
export function checkWebhookUrl(
  target: string,
  policy: HookTargetPolicy,
  allowedHosts: readonly string[] = [],
): { parsed?: ParsedWebhook; problems: string[] } {
  if (target.length > MAX_WEBHOOK_URL_LENGTH)
    return { problems: [`a webhook URL has at most ${MAX_WEBHOOK_URL_LENGTH} characters`] };
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return { problems: ['is not a valid URL'] };
  }
  const problems: string[] = [];
  if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push('a webhook URL must start with https://');
  if (url.username || url.password)
    problems.push('a webhook URL may not carry credentials (requests are signed with webhookSecret)');
  if (url.hostname === '') problems.push('a webhook URL needs a host');
  const host = bare(url.hostname);
  const literal = classifyAddress(host);
  if (url.protocol === 'http:') {
    if (!policy.loopbackWebhooks) problems.push('webhooks must use https://');
    // A name is checked when it is resolved: every address must be loopback then.
    else if (literal !== undefined && literal !== 'loopback')
      problems.push('plain http:// is allowed only to a loopback address (127.0.0.1, [::1] or localhost)');
  }
  if (literal) {
    const why = addressRefusal(literal, url.hostname, policy, allowedHosts);
    if (why) problems.push(`${url.hostname}: ${why}`);
  }
  return problems.length ? { problems } : { parsed: { url, host, ...(literal ? { literal } : {}) }, problems };
}

/**
 * Whether `name` matches `pattern`, where `*` matches any run of characters (IAM's wildcard). The
 * classic greedy match with one backtrack point: at most len(name) × len(pattern) steps.
 */
export function globMatch(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let mark = 0;
  while (n < name.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === name[n]) {
      p++;
      n++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = n;
    } else if (star >= 0) {
      p = star + 1;
      n = ++mark;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * Why the stack may not invoke the Lambda hook `target` (a name or ARN), or undefined when it may:
 * an ARN in another region or account, or a name no `functions` pattern matches.
 */
export function functionRefusal(
  target: string,
  policy: HookTargetPolicy,
  env: { region: string; accountId: string },
): string | undefined {
  if (!policy.functions) return undefined;
  let name = target;
  if (target.startsWith('arn:')) {
    const parts = target.split(':'); // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
    if (parts.length < 7 || parts[2] !== 'lambda' || parts[5] !== 'function') return 'is not a Lambda function ARN';
    if (parts[3] !== env.region || parts[4] !== env.accountId)
      return `is in ${parts[3]}/${parts[4]}, but this stack invokes hooks in ${env.region}/${env.accountId} only`;
    name = parts[6]!;
  }
  if (policy.functions.some((p) => globMatch(p, name))) return undefined;
  const allowed = policy.functions.length ? policy.functions.join(', ') : '(none)';
  return `${name} is not a function this stack may invoke as a hook (hookFunctions: ${allowed}); name it to match, or add it to the stack's hookFunctions parameter`;
}

/** Why the stack may not run `target` as a hook, or undefined: the webhook or the function rules. */
export function hookTargetProblems(
  target: string,
  policy: HookTargetPolicy,
  env: { region: string; accountId: string },
  allowedHosts: readonly string[] = [],
): string[] {
  if (isWebhookTarget(target)) return checkWebhookUrl(target, policy, allowedHosts).problems;
  const why = functionRefusal(target, policy, env);
  return why ? [why] : [];
}
