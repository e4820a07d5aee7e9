/**
 * `cutover demo server`: in-place deployments to four real local hosts (one `cutover agent` process each)
 * with CodeDeployDefault.HalfAtATime, behind a simulated target group. Revision 1 goes out first (the
 * hosts start empty), revision 2 succeeds (its files on every host, its scripts ran, ValidateService
 * passed), and revision 3 fails ValidateService on two hosts: with half of the four kept healthy, the
 * minimum stops it (HEALTH_CONSTRAINTS) and the automatic rollback redeploys revision 2. A live timeline
 * prints one line per host event (plain lines: readable in CI logs too).
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isTerminal, type Deployment } from '../domain/model.js';
import type { HostRecord } from '../ports/host-commands.js';
import { LOCAL_REVISION_BUCKET } from '../local/s3.js';
import { TASKS } from '../tasks/index.js';
import type { Session } from '../wiring/session.js';
import { c } from './render.js';

/** A world file's folder of a bundle as a tgz, with `extra` files added or replaced (modes kept). */
export function tgzOfDirectory(dir: string, extra: Record<string, string> = {}): Buffer {
  const entries: { name: string; data: Buffer; mode: number }[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (st.isFile()) {
        const rel = relative(dir, path);
        if (!(rel in extra)) entries.push({ name: rel, data: readFileSync(path), mode: st.mode & 0o777 });
      }
    }
  };
  walk(dir);
  for (const [name, content] of Object.entries(extra))
    entries.push({ name, data: Buffer.from(content), mode: name.endsWith('.sh') ? 0o755 : 0o644 });
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(tarHeader(e.name, e.data.length, e.mode), e.data, Buffer.alloc((512 - (e.data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

function tarHeader(name: string, size: number, mode: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`bundle path too long for this writer: ${name}`);
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(`${mode.toString(8).padStart(7, '0')}\0`, 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write(
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, '0')}\0`,
    136,
  );
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write('        ', 148);
  let sum = 0;
  for (const x of h) sum += x;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

export interface ServerRelease {
  title: string;
  revision: number;
  /** Hosts (instance ids) whose ValidateService fails. */
  brokenOn: string[];
  expect: 'Succeeded' | 'Failed';
}

/** Upload a revision of the bundle and create a deployment of it to fleet/web. */
async function deployRevision(session: Session, bundleDir: string, r: ServerRelease): Promise<string> {
  const key = `fleet/web-${r.revision}.tgz`;
  const body = tgzOfDirectory(bundleDir, {
    'app/version': `${r.revision}\n`,
    'app/index.html': `<!doctype html>\n<h1>fleet: revision ${r.revision}</h1>\n`,
    ...(r.brokenOn.length ? { 'broken-hosts': `${r.brokenOn.join('\n')}\n` } : {}),
  });
  const eTag = await session.s3.upload(LOCAL_REVISION_BUCKET, key, body);
  const { deploymentId } = (await session.run(TASKS.createDeployment, {
    applicationName: 'fleet',
    deploymentGroupName: 'web',
    description: r.title,
    revision: {
      revisionType: 'S3',
      s3Location: { bucket: LOCAL_REVISION_BUCKET, key, bundleType: 'tgz', eTag },
    },
  })) as { deploymentId: string };
  return deploymentId;
}

/**
 * Follow a deployment (and the rollback it starts) until both ended, printing one line per host event as
 * it starts and ends, and each deployment's status changes. Bounded (`boundMs` of wall time).
 */
async function follow(
  session: Session,
  id: string,
  names: Map<string, string>,
  started: number,
  out: (s: string) => void,
  boundMs = 180_000,
): Promise<{ deployment: Deployment; rollback?: Deployment }> {
  const seen = new Map<string, string>();
  const statuses = new Map<string, string>();
  const t = () => c.dim(`+${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`);
  const until = Date.now() + boundMs;
  const watched = [id];
  for (;;) {
    for (const dep of watched) {
      const d = await session.deps.deployments.get(dep);
      if (!d) continue;
      if (statuses.get(dep) !== d.state.status) {
        statuses.set(dep, d.state.status);
        const what = dep === id ? 'deployment' : 'rollback';
        const status =
          d.state.status === 'Succeeded'
            ? c.green(d.state.status)
            : isTerminal(d.state.status)
              ? c.red(d.state.status)
              : d.state.status;
        out(
          `${t()}  ${what} ${dep} ${status}${d.state.errorInformation ? ` (${d.state.errorInformation.code}): ${d.state.errorInformation.message}` : ''}`,
        );
      }
      const r = d.state.rollbackInfo?.rollbackDeploymentId;
      if (dep === id && r && !watched.includes(r)) watched.push(r);
      for (const h of await session.deps.hostCommands.listHosts(dep))
        printHost(h, dep === id ? '' : 'rollback ', seen, names, t, out);
    }
    const ds = await Promise.all(watched.map((w) => session.deps.deployments.get(w)));
    if (ds.every((d) => d && isTerminal(d.state.status))) {
      const [deployment, rollback] = ds as Deployment[];
      return { deployment: deployment!, ...(rollback ? { rollback } : {}) };
    }
    if (Date.now() > until) throw new Error(`${id} did not end within ${boundMs / 1000} s`);
    await new Promise((res) => setTimeout(res, 150));
  }
}

function printHost(
  h: HostRecord,
  prefix: string,
  seen: Map<string, string>,
  names: Map<string, string>,
  t: () => string,
  out: (s: string) => void,
): void {
  const who = `${names.get(h.hostId) ?? h.hostId}`.padEnd(6);
  // A host the deployment never reached: one line, not one per event.
  if (h.lifecycleEvents.length > 0 && h.lifecycleEvents.every((e) => e.status === 'Skipped')) {
    const key = `${h.deploymentId}/${h.hostId}/*`;
    if (!seen.has(key)) {
      seen.set(key, 'Skipped');
      out(
        `${t()}  ${prefix}${who} ${h.hostId}  ${c.dim(`Skipped (all ${h.lifecycleEvents.length} events: not deployed to)`)}`,
      );
    }
    return;
  }
  for (const e of h.lifecycleEvents) {
    if (e.status === 'Pending') continue;
    const key = `${h.deploymentId}/${h.hostId}/${e.lifecycleEventName}`;
    const shown = e.status === 'InProgress' ? 'InProgress' : e.status;
    if (seen.get(key) === shown) continue;
    // An event that started and ended between two looks shows its end only.
    seen.set(key, shown);
    const status =
      e.status === 'Succeeded'
        ? c.green('Succeeded')
        : e.status === 'InProgress'
          ? 'started'
          : e.status === 'Skipped'
            ? c.dim('Skipped')
            : c.red(e.status);
    const why =
      e.status === 'Failed' && e.diagnostics
        ? ` (${e.diagnostics.errorCode}: ${e.diagnostics.message}${tailLine(e.diagnostics.logTail)})`
        : '';
    out(`${t()}  ${prefix}${who} ${h.hostId}  ${e.lifecycleEventName.padEnd(18)} ${status}${why}`);
  }
}

/** The last non-empty line of a log tail, quoted. */
function tailLine(tail: string): string {
  const last = tail
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1);
  return last ? ` — ${JSON.stringify(last)}` : '';
}

/** What is on a host after a deployment: the installed and the running version. */
function hostState(session: Session, id: string): { installed?: string; running?: string } {
  const host = session.hosts.find((h) => h.id === id);
  if (!host) return {};
  const read = (p: string) =>
    existsSync(join(host.fs, p)) ? readFileSync(join(host.fs, p), 'utf8').trim() : undefined;
  const installed = read('srv/app/version');
  const running = read('var/run/app/started');
  return { ...(installed ? { installed } : {}), ...(running ? { running } : {}) };
}

/**
 * Run the releases; returns whether each ended as expected (its status, and every host installed and
 * running the revision expected: the release's own, or revision 2 after the rollback).
 */
export async function runServerDemo(
  session: Session,
  bundleDir: string,
  releases: ServerRelease[],
  out: (s: string) => void,
): Promise<{ ok: boolean; line: string }[]> {
  const names = new Map(
    (session.worldFile?.servers?.hosts ?? []).map((h) => [h.id, h.tags.Name ?? h.id] as [string, string]),
  );
  const results: { ok: boolean; line: string }[] = [];
  let lastGood: number | undefined;
  for (const r of releases) {
    out(c.bold(`${r.title}`));
    const started = Date.now();
    const id = await deployRevision(session, bundleDir, r);
    const { deployment, rollback } = await follow(session, id, names, started, out);
    const wall = ((Date.now() - started) / 1000).toFixed(1);
    if (deployment.state.status === 'Succeeded') lastGood = r.revision;
    const want = String(deployment.state.status === 'Succeeded' ? r.revision : (lastGood ?? ''));
    const hosts = [...names.keys()].map((h) => ({ id: h, ...hostState(session, h) }));
    const everywhere = hosts.every((h) => h.installed === want && h.running === want);
    const rolledBack = r.expect === 'Failed' ? rollback?.state.status === 'Succeeded' : true;
    const ok = deployment.state.status === r.expect && everywhere && rolledBack;
    const code = deployment.state.errorInformation ? ` (${deployment.state.errorInformation.code})` : '';
    const status =
      deployment.state.status === 'Succeeded' ? c.green(deployment.state.status) : c.red(deployment.state.status);
    results.push({
      ok,
      line:
        `revision ${r.revision}: ${deployment.deploymentId} ${status}${code}` +
        (rollback ? `, rollback ${rollback.deploymentId} ${rollback.state.status}` : '') +
        ` in ${wall} s · hosts run ${[...new Set(hosts.map((h) => h.running ?? 'nothing'))].map((v) => `revision ${v}`).join(', ')}`,
    });
    out(
      c.dim(
        `  every host: ${hosts.map((h) => `${names.get(h.id)} installed ${h.installed ?? '-'} running ${h.running ?? '-'}`).join(' · ')}`,
      ),
    );
    out('');
  }
  return results;
}
