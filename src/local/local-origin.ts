/**
 * Who may talk to a local server (the API server, the local S3): the local user's tools, not the web pages
 * their browser shows. A page cannot set Host, so a request whose Host is not the address the server listens
 * on came through a name the attacker controls (DNS rebinding: `attacker.example` resolving to 127.0.0.1);
 * and a browser names the page that made a request in Origin, so a foreign Origin is a cross-site fetch or
 * form. The SDKs and the AWS CLI send the Host they connected to and no Origin, so they are not affected.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Names of the loopback interface a local client may use in Host. */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
/** Wildcard addresses: a server bound there (with --allow-remote) is reached under any of the machine's addresses. */
const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/i;

const bracketed = (host: string) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

/**
 * The `host:port` values a request may name in Host, for a server bound to `bindHost:port`: the loopback
 * names, and the bound address itself when it is a specific one.
 */
export function allowedHosts(bindHost: string, port: number): string[] {
  const names = new Set(LOOPBACK_NAMES);
  if (!WILDCARD.has(bindHost)) names.add(bracketed(bindHost).toLowerCase());
  return [...names].map((n) => `${n}:${port}`);
}

const single = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(',') : v);

/**
 * Why a request must be refused, or undefined when it comes from the local user: its Host is one of
 * `allowedHosts` (on a wildcard bind with `allowRemote`, also any IP literal with the port: an address, unlike
 * a name, cannot be rebound), and its Origin, when present, is `http://` + that same Host.
 */
export function foreignRequest(
  headers: IncomingHttpHeaders,
  bindHost: string,
  port: number,
  allowRemote = false,
): string | undefined {
  const host = single(headers.host)?.trim().toLowerCase();
  if (!host) return 'the request has no Host header';
  const allowed = allowedHosts(bindHost, port);
  let ok = allowed.includes(host);
  if (!ok && allowRemote && WILDCARD.has(bindHost)) {
    const i = host.lastIndexOf(':');
    const name = host.slice(0, i);
    ok = i > 0 && host.slice(i + 1) === String(port) && (IPV4.test(name) || IPV6.test(name));
  }
  if (!ok)
    return `the Host header ${JSON.stringify(host.slice(0, 100))} is not this server's address (${allowed.join(' or ')}): requests through other names (DNS rebinding) are refused`;
  const origin = single(headers.origin);
  if (origin !== undefined && origin.trim().toLowerCase() !== `http://${host}`)
    return `the Origin ${JSON.stringify(origin.slice(0, 100))} is not this server (http://${host}): requests from web pages are refused`;
  return undefined;
}
