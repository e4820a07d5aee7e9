/**
 * A local-mode session for the CLI: claims the state folder (one owner at a time), opens the local
 * environment (store under .cutover/), builds the SimWorld from a world file plus its persisted
 * state, registers the user's hook modules and creates or updates the file's applications and
 * deployment groups. Every change to the world is saved atomically before the change returns.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SimWorld, type SimHookHandler, type SimWorldSpec } from '../adapters/sim/world.js';
import { LocalFileError } from '../config/local-file.js';
import { loadWorldFile, type WorldFile } from '../config/world-file.js';
import { ApiError } from '../domain/errors.js';
import { TASKS } from '../tasks/index.js';
import type { AnyTask } from '../tasks/task.js';
import { VirtualClock } from '../local/clock.js';
import { startApiServer, type ApiServer } from '../local/server.js';
import { signerOf } from '../local/sigv4-verifier.js';
import { StateDirBusyError, StoreLockedError, claimStateDir, readOwner, writeFileAtomic } from '../local/state-dir.js';
import { requireLocalMode } from '../local/optional-deps.js';
import { LocalHosts, type LocalHost } from './local-hosts.js';
import { createLocalEnvironment, type LocalEnvironment } from './local.js';

export interface SessionOptions {
  /** Folder for persisted local state (store and world). Default `.cutover` in the cwd. */
  stateDir: string;
  speed: number;
  /** A world file to load (and sync into the store). */
  worldFile?: string;
  /** Or an already parsed world (the demo's), with hook modules resolved against `baseDir`. */
  world?: WorldFile;
  baseDir?: string;
  /** Start from the file only, ignoring persisted alias positions (the demo). */
  fresh?: boolean;
  /** Where the session's API listens (default 127.0.0.1 on a free port). */
  host?: string;
  port?: number;
  allowRemote?: boolean;
  onRequest?: (target: string, status: number, ms: number) => void;
  s3Port?: number;
  /** The command that holds the state folder, recorded in its owner.json (server, deploy, demo…). */
  command?: string;
  /** Told when a host's agent ends by itself (it is not restarted). */
  onHostExit?: (hostId: string, code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface Session extends LocalEnvironment {
  worldFile?: WorldFile;
  /** The world file's hosts, each a running `cutover agent` process (empty without hosts). */
  hosts: LocalHost[];
  /** The clock's speed: `speed`, or 1 with hosts (real agents run in real time). */
  speed: number;
  /** The CodeDeploy-compatible API of this session, on loopback. */
  api: ApiServer;
  /** Save alias positions and versions so the next run continues from here (also done on every change). */
  save(): void;
}

/** The world file as a SimWorld, before any persisted state. */
export function worldFromFile(w: WorldFile, clock: VirtualClock): SimWorld {
  const spec: SimWorldSpec = {
    functions: w.functions.map((f) => ({
      name: f.name,
      versions: f.versions,
      aliases: f.aliases,
      requestsPerSecond: f.requestsPerSecond,
    })),
    alarms: w.alarms.map(({ function: functionName, ...a }) => ({
      ...a,
      ...(functionName !== undefined ? { functionName } : {}),
    })),
    ...(w.ecs ? { ecs: w.ecs } : {}),
    ...(w.servers
      ? {
          servers: {
            instances: w.servers.hosts.map((h) => ({
              id: h.id,
              tags: h.tags,
              ...(h.availabilityZone ? { availabilityZone: h.availabilityZone } : {}),
            })),
            targetGroups: w.servers.targetGroups,
          },
        }
      : {}),
  };
  return new SimWorld(clock, spec);
}

type FileGroup = WorldFile['applications'][number]['deploymentGroups'][number];

/** A world-file ECS group's fields as CodeDeploy's CreateDeploymentGroup takes them (listener ARNs from the world). */
function ecsGroupFields(g: FileGroup, world: SimWorld): Record<string, unknown> {
  if (!g.ecsService) return {};
  const route = (ref: string) => ({ listenerArns: [world.listenerArn(ref)] });
  return {
    ecsServices: [{ clusterName: g.ecsService.cluster, serviceName: g.ecsService.service }],
    loadBalancerInfo: {
      targetGroupPairInfoList: [
        {
          targetGroups: (g.targetGroups ?? []).map((name) => ({ name })),
          ...(g.prodListener ? { prodTrafficRoute: route(g.prodListener) } : {}),
          ...(g.testListener ? { testTrafficRoute: route(g.testListener) } : {}),
        },
      ],
    },
    ...(g.blueGreenDeploymentConfiguration
      ? { blueGreenDeploymentConfiguration: g.blueGreenDeploymentConfiguration }
      : {}),
  };
}

/** A world-file Server group's fields as CodeDeploy's CreateDeploymentGroup takes them. */
function serverGroupFields(g: FileGroup): Record<string, unknown> {
  if (!g.ec2TagFilters && !g.loadBalancerTargetGroups) return {};
  return {
    serviceRoleArn: 'arn:aws:iam::000000000000:role/CodeDeploy',
    ...(g.ec2TagFilters ? { ec2TagFilters: g.ec2TagFilters } : {}),
    ...(g.loadBalancerTargetGroups?.length
      ? {
          deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
          loadBalancerInfo: { targetGroupInfoList: g.loadBalancerTargetGroups.map((name) => ({ name })) },
        }
      : {}),
  };
}

/**
 * Load a hook module and return its handler (`export const handler` or a default export). A
 * module that is missing, throws on import (a syntax error too) or exports no handler is a
 * LocalFileError naming the module and the world file's entry (`hooks.<name>`).
 */
export async function loadHook(path: string, entry?: { name: string; worldFile?: string }): Promise<SimHookHandler> {
  const where = entry ? `hooks.${entry.name}${entry.worldFile ? ` in ${entry.worldFile}` : ''}` : 'the hook module';
  if (!existsSync(path))
    throw new LocalFileError(
      path,
      `does not exist (${where})`,
      'fix the path (relative to the world file) or write the module',
    );
  if (statSync(path).isDirectory())
    throw new LocalFileError(
      path,
      `is a folder, not a hook module (${where})`,
      'name the module file (e.g. hooks/check.mjs)',
    );
  let mod: { handler?: unknown; default?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href)) as typeof mod;
  } catch (e) {
    throw new LocalFileError(
      path,
      `could not be loaded (${where}): ${(e as Error).message?.split('\n')[0] ?? String(e)}`,
      'fix the module (it must import without throwing)',
    );
  }
  const handler =
    mod.handler ?? (typeof mod.default === 'function' ? mod.default : (mod.default as { handler?: unknown })?.handler);
  if (typeof handler !== 'function')
    throw new LocalFileError(
      path,
      `exports no handler function (${where})`,
      'export one: export const handler = async (event) => { ... }',
    );
  return handler as SimHookHandler;
}

/** What world-state.json holds: the world's moving parts, and the virtual time they were saved at. */
type SavedWorld = SimWorldSpec & { clockAt?: string };

/** The persisted world of a state folder (written on every change to the world). */
export const worldStatePath = (stateDir: string): string => join(stateDir, 'world-state.json');

/**
 * A state folder's persisted world. Damaged (not JSON, not an object: an edit, a full disk) it is a
 * LocalFileError: the positions it held are unknown, and guessing them could move real traffic
 * twice; `cutover reset` puts the world back to the world file.
 */
export function readWorldState(statePath: string): SimWorldSpec & { clockAt?: string } {
  let saved: unknown;
  try {
    saved = JSON.parse(readFileSync(statePath, 'utf8'));
  } catch (e) {
    throw new LocalFileError(
      statePath,
      `is damaged: not the JSON local mode writes (${(e as Error).message})`,
      "run 'cutover reset --yes' to put the world back to the world file (it drops the folder's deployments), or restore the file",
    );
  }
  const ok = (v: unknown) => v === undefined || Array.isArray(v);
  const spec = saved as SimWorldSpec | null;
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec) || !ok(spec.functions))
    throw new LocalFileError(
      statePath,
      'is damaged: not the world state local mode writes',
      "run 'cutover reset --yes' to put the world back to the world file (it drops the folder's deployments), or restore the file",
    );
  return spec;
}

/**
 * Open a session on a state folder, as its one owner (StateDirBusyError if a live process holds it).
 * Every change to the world is written to `world-state.json` atomically before the changing call
 * returns, so a crash never forgets a traffic shift that was made, nor invents one.
 */
export async function openSession(opts: SessionOptions): Promise<Session> {
  // Before the state folder is claimed (or created): without local mode's optional packages there is no session.
  await requireLocalMode();
  const note = (m: string) => process.stderr.write(`${m}\n`);
  const claim = await claimStateDir(opts.stateDir, opts.command ?? 'session', note);
  let session: Session;
  try {
    session = await open(opts);
  } catch (e) {
    claim.release();
    // Another process holds the store without an owner file saying so (or took it in a race).
    if (e instanceof StoreLockedError) throw new StateDirBusyError(opts.stateDir, await readOwner(opts.stateDir));
    throw e;
  }
  claim.setApi(session.api.url);
  return {
    ...session,
    close: async () => {
      try {
        await session.close();
      } finally {
        claim.release();
      }
    },
  };
}

async function open(opts: SessionOptions): Promise<Session> {
  // Waits run `speed` times faster than real time; work (hooks, tasks) at real speed, so a busy
  // machine slows a deployment down but cannot make a hook time out.
  let file = opts.world;
  let baseDir = opts.baseDir ?? process.cwd();
  if (!file && opts.worldFile) {
    file = loadWorldFile(opts.worldFile);
    baseDir = dirname(resolve(opts.worldFile));
  }
  // Real hosts run real scripts in real time: with hosts, time is not compressed, so no host deadline
  // (start, liveness, event timeout) passes faster than the agents' work does.
  const hostSpecs = file?.servers?.hosts ?? [];
  const speed = hostSpecs.length > 0 ? 1 : opts.speed;
  // Waits are measured on virtual time, which runs ahead of the wall clock while they are compressed;
  // records carry wall-clock stamps (docs/adr/0020-wall-clock-records.md).
  const clock = new VirtualClock({ pace: speed });
  const statePath = worldStatePath(opts.stateDir);
  const saved = !opts.fresh && existsSync(statePath) ? (readWorldState(statePath) as SavedWorld) : undefined;
  // Virtual time never goes back: the world's saved times (task sets, alarms) were measured on the last
  // session's virtual clock, which may be ahead of the wall clock. Continue from where it stopped, before
  // the world is built, so nothing in it reads as "in the future" (a false alarm, a task set not yet steady).
  const clockAt = saved?.clockAt ? Date.parse(saved.clockAt) : NaN;
  if (Number.isFinite(clockAt)) clock.catchUp(new Date(clockAt));
  const world = file ? worldFromFile(file, clock) : new SimWorld(clock);
  if (saved) {
    // Persisted alias positions and versions win over the file (deployments moved them).
    for (const f of saved.functions ?? []) {
      const cur = world.functions.get(f.name);
      if (!cur) continue;
      for (const [v, s] of Object.entries(f.versions))
        cur.versions[v] = { errorRate: cur.versions[v]?.errorRate ?? s.errorRate ?? 0 };
      for (const [a, r] of Object.entries(f.aliases)) if (typeof r !== 'string') cur.aliases[a] = r;
    }
    // Task sets and listener weights too (deployments moved them); task definitions stay as in the file.
    if (saved.ecs) world.ecs.restore(saved.ecs);
  }
  mkdirSync(opts.stateDir, { recursive: true });
  // From here on, every change to the world is saved before the changing call returns.
  const save = () =>
    writeFileAtomic(
      statePath,
      JSON.stringify({ ...world.snapshot(), clockAt: clock.now().toISOString() } satisfies SavedWorld, null, 2),
    );
  const stopSaving = world.onChange(save);
  const env = await createLocalEnvironment({
    clock,
    world,
    storeDir: join(opts.stateDir, 'store'),
    ...(opts.s3Port !== undefined ? { s3Port: opts.s3Port } : {}),
  });
  let api: ApiServer | undefined;
  let localHosts: LocalHosts | undefined;
  try {
    api = await startApiServer(env.deps, {
      ...(opts.host ? { host: opts.host } : {}),
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.allowRemote ? { allowRemote: true } : {}),
      ...(opts.onRequest ? { onRequest: opts.onRequest } : {}),
      ...(env.work ? { work: env.work } : {}),
      viewFor: env.viewFor,
      // Agents sign with the credentials the local world issued them: that signature is who they are.
      authenticate: (req) => signerOf(req, env.hostCredentials),
    });
    // Hook modules written for CodeDeploy call PutLifecycleEventHookExecutionStatus through the
    // SDK's CodeDeploy client: point it at this session (nothing in local mode talks to AWS).
    process.env.AWS_ENDPOINT_URL_CODEDEPLOY ??= api.url;
    process.env.AWS_REGION ??= 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
    for (const [name, modPath] of Object.entries(file?.hooks ?? {}))
      world.registerHook(
        name,
        await loadHook(resolve(baseDir, modPath), { name, ...(opts.worldFile ? { worldFile: opts.worldFile } : {}) }),
      );
    for (const app of file?.applications ?? []) {
      await ignoreExists(
        env.run(TASKS.createApplication, { applicationName: app.name, computePlatform: app.computePlatform }),
      );
      for (const g of app.deploymentGroups) {
        const input = {
          applicationName: app.name,
          deploymentGroupName: g.name,
          ...(g.deploymentConfigName ? { deploymentConfigName: g.deploymentConfigName } : {}),
          alarmConfiguration: {
            enabled: g.alarms.length > 0,
            ignorePollAlarmFailure: g.ignorePollAlarmFailure,
            alarms: g.alarms.map((name) => ({ name })),
            ...(g.baselineMode ? { baselineMode: g.baselineMode } : {}),
          },
          ...(g.hookTimeoutSeconds ? { hookTimeoutSeconds: g.hookTimeoutSeconds } : {}),
          ...(g.autoRollbackConfiguration ? { autoRollbackConfiguration: g.autoRollbackConfiguration } : {}),
          ...(g.triggerConfigurations ? { triggerConfigurations: g.triggerConfigurations } : {}),
          ...ecsGroupFields(g, world),
          ...serverGroupFields(g),
        };
        const exists = await env.deps.catalog.getDeploymentGroup(app.name, g.name);
        await env.run((exists ? TASKS.updateDeploymentGroup : TASKS.createDeploymentGroup) as AnyTask, input);
      }
    }
    // No metrics for the time between sessions: no alarm reads a gap.
    world.skipTo(clock.now());
    // Only with a world to read back: without its world file a session cannot tell where traffic is.
    if (file) await recoverOrphans(env, (m) => process.stderr.write(`${m}\n`));
    if (hostSpecs.length > 0) {
      localHosts = new LocalHosts({
        stateDir: opts.stateDir,
        endpoint: api.url,
        s3Endpoint: env.s3.endpoint,
        ...(opts.onHostExit ? { onExit: opts.onHostExit } : {}),
      });
      const running = localHosts;
      const declared = new Set(hostSpecs.map((h) => h.id));
      // The target groups' health checks reach the host: healthy while its agent runs.
      world.servers.setProbe((id) => (declared.has(id) ? running.alive(id) : true));
      running.start(hostSpecs.map((h) => ({ id: h.id, credential: env.hostCredentials.issue(h.id, 'ec2') })));
    }
  } catch (e) {
    await localHosts?.stop();
    await api?.close();
    await env.close();
    throw e;
  }
  const server = api;
  const agents = localHosts;
  return {
    ...env,
    api: server,
    ...(file ? { worldFile: file } : {}),
    hosts: agents?.hosts ?? [],
    speed,
    save,
    close: async () => {
      // The virtual time reached, too, so the next session continues from it.
      save();
      stopSaving();
      // The agents first, while the API still answers their last completions.
      await agents?.stop();
      await server.close();
      await env.close();
    },
  };
}

/**
 * Local executions live in the process that started them, and this process owns the state folder:
 * a deployment nothing drives was left by a process that ended (killed, crashed). The reconciler
 * (as on AWS, with no grace period: no execution of that process survives it) rolls each back from
 * the world as it is and records it, finishes rollbacks left open, and frees the groups.
 */
async function recoverOrphans(env: LocalEnvironment, warn: (m: string) => void): Promise<void> {
  const { actions } = await env.run(TASKS.reconcile, { graceSeconds: 0 });
  for (const a of actions)
    warn(
      a.action === 'retryLater'
        ? `warning: ${a.deploymentId} was left unfinished by an earlier run (${a.group}) and could not be settled yet: ${a.message}`
        : `note: ${a.deploymentId} was left unfinished by an earlier run (${a.group}): ${a.message}`,
    );
}

async function ignoreExists(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof ApiError && e.exceptionName.endsWith('AlreadyExistsException'))) throw e;
  }
}
