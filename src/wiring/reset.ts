/**
 * `cutover reset`: put a state folder's local world back to its world file by dropping what local
 * mode persisted there (the store, the local S3's uploads, webhook secrets, the world's state), as the folder's
 * owner: refused while another live process holds it.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SimWorldSpec } from '../adapters/sim/world.js';
import { LocalFileError } from '../config/local-file.js';
import { loadWorldFile } from '../config/world-file.js';
import { VirtualClock } from '../local/clock.js';
import { requireLocalMode } from '../local/optional-deps.js';
import { StateDirBusyError, StoreLockedError, claimStateDir, readOwner } from '../local/state-dir.js';
import { describeRouting, type AliasRouting } from '../platforms/lambda/traffic.js';
import { createLocalEnvironment } from './local.js';
import { readWorldState, worldFromFile, worldStatePath } from './session.js';

export interface ResetPlan {
  stateDir: string;
  /** Deployment records in the store (rollbacks included). */
  deployments: number;
  /** Applications in the store (those of the world file come back on the next run). */
  applications: string[];
  /** Revision objects uploaded to the local S3. */
  uploads: number;
  /** Each position that differs from the world file: `checkout:live: v2 100% (world file: v1 100%)`. */
  positions: string[];
  /** The world file the positions were compared with (none: not compared). */
  worldFile?: string;
  /** A persisted world exists (world-state.json). */
  worldState: boolean;
  /** The files and folders it removes (those that exist). */
  paths: string[];
  /** True once dropped. */
  dropped: boolean;
}

type Forward = { forward?: Record<string, number>; fixedResponse?: number };
type Ecs = NonNullable<SimWorldSpec['ecs']>;

const forwardText = (a: Forward): string =>
  a.forward
    ? Object.entries(a.forward)
        .filter(([, w]) => w > 0)
        .map(([tg, w]) => `${tg} ${w}`)
        .join(' / ') || 'no target group weighted'
    : `fixed response ${a.fixedResponse ?? 404}`;

const taskSetsText = (s: NonNullable<Ecs['services']>[number]): string =>
  (s.taskSets ?? [])
    .map((t) => `${t.taskDefinition} ${t.status} on ${t.targetGroupArns.map((a) => a.split('/')[1]).join(',')}`)
    .join(' + ') || 'no task set';

/** The positions (alias routings, task sets, listener and rule forwards) that differ between two snapshots. */
export function positionsDiffering(saved: SimWorldSpec, file: SimWorldSpec): string[] {
  const out: string[] = [];
  const differs = (what: string, now: string, then: string) => {
    if (now !== then) out.push(`${what}: ${now} (world file: ${then})`);
  };
  for (const f of saved.functions ?? []) {
    const base = file.functions?.find((b) => b.name === f.name);
    if (!base) continue;
    for (const [alias, r] of Object.entries(f.aliases)) {
      const b = base.aliases[alias];
      if (b === undefined || typeof r === 'string' || typeof b === 'string') continue;
      differs(`${f.name}:${alias}`, describeRouting(r), describeRouting(b as AliasRouting));
    }
  }
  for (const s of saved.ecs?.services ?? []) {
    const base = file.ecs?.services?.find((b) => b.cluster === s.cluster && b.name === s.name);
    if (base) differs(`${s.cluster}/${s.name}`, taskSetsText(s), taskSetsText(base));
  }
  for (const lb of saved.ecs?.loadBalancers ?? []) {
    const baseLb = file.ecs?.loadBalancers?.find((b) => b.name === lb.name);
    for (const l of lb.listeners ?? []) {
      const base = baseLb?.listeners?.find((b) => b.name === l.name);
      if (!base) continue;
      differs(`${lb.name}/${l.name}`, forwardText(l), forwardText(base));
      for (const r of l.rules ?? []) {
        const b = base.rules?.find((x) => x.priority === r.priority);
        if (b) differs(`${lb.name}/${l.name} rule ${r.priority}`, forwardText(r), forwardText(b));
      }
    }
  }
  return out;
}

function countObjects(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) n += countObjects(p);
    else if (name.endsWith('._S3rver_object')) n++;
  }
  return n;
}

/** Count what the store holds (it is opened, read and closed). */
async function storeContents(storeDir: string): Promise<{ deployments: number; applications: string[] }> {
  if (!existsSync(storeDir)) return { deployments: 0, applications: [] };
  const env = await createLocalEnvironment({ storeDir });
  try {
    const apps = await env.deps.catalog.listApplications();
    let deployments = 0;
    for (const app of apps)
      for (const g of await env.deps.catalog.listDeploymentGroups(app.applicationName))
        deployments += (await env.deps.deployments.list(app.applicationName, g.deploymentGroupName)).length;
    return { deployments, applications: apps.map((a) => a.applicationName) };
  } finally {
    await env.close();
  }
}

/**
 * Say what resetting `stateDir` drops and, with `apply`, drop it: the store (deployments,
 * applications, groups, configurations, revisions), the local S3's objects and the persisted
 * world. The owner file is kept while it runs; StateDirBusyError while a live process holds the folder.
 */
export async function resetStateDir(opts: {
  stateDir: string;
  worldFile?: string;
  apply: boolean;
  note: (message: string) => void;
}): Promise<ResetPlan> {
  const { stateDir } = opts;
  // Counting the store needs local mode's optional packages: refuse before claiming the folder.
  await requireLocalMode();
  const claim = await claimStateDir(stateDir, 'reset', opts.note);
  try {
    const storeDir = join(stateDir, 'store');
    const statePath = worldStatePath(stateDir);
    let contents: { deployments: number; applications: string[] };
    try {
      contents = await storeContents(storeDir);
    } catch (e) {
      if (e instanceof StoreLockedError) throw new StateDirBusyError(stateDir, await readOwner(stateDir));
      throw e;
    }
    const worldState = existsSync(statePath);
    let positions: string[] = [];
    if (worldState && opts.worldFile) {
      const file = worldFromFile(loadWorldFile(opts.worldFile), new VirtualClock({ pace: 1 }));
      // A damaged world state is what reset is for: it is dropped without a comparison.
      let saved: SimWorldSpec | undefined;
      try {
        saved = readWorldState(statePath);
      } catch (e) {
        if (!(e instanceof LocalFileError)) throw e;
        opts.note(`note: ${statePath} is damaged; it is dropped without comparing its positions`);
      }
      if (saved) positions = positionsDiffering(saved, file.snapshot());
    }
    const paths = [storeDir, join(stateDir, 's3'), join(stateDir, 'secrets'), statePath, `${statePath}.tmp`].filter(
      (p) => existsSync(p),
    );
    const plan: ResetPlan = {
      stateDir,
      ...contents,
      uploads: countObjects(join(stateDir, 's3')),
      positions,
      ...(opts.worldFile ? { worldFile: opts.worldFile } : {}),
      worldState,
      paths,
      dropped: false,
    };
    if (opts.apply) {
      for (const p of paths) rmSync(p, { recursive: true, force: true });
      plan.dropped = true;
    }
    return plan;
  } finally {
    claim.release();
  }
}
