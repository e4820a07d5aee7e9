/**
 * A local-mode session for the CLI: opens the local environment (store under .cutover/), builds
 * the SimWorld from a world file plus its persisted state, registers the user's hook modules and
 * creates or updates the file's applications and deployment groups.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SimWorld, type SimHookHandler, type SimWorldSpec } from '../adapters/sim/world.js';
import { parseWorldFile, type WorldFile } from '../config/world-file.js';
import { ApiError } from '../domain/errors.js';
import { TASKS } from '../tasks/index.js';
import type { AnyTask } from '../tasks/task.js';
import { VirtualClock } from '../local/clock.js';
import { startApiServer, type ApiServer } from '../local/server.js';
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
}

export interface Session extends LocalEnvironment {
  worldFile?: WorldFile;
  /** The CodeDeploy-compatible API of this session, on loopback. */
  api: ApiServer;
  /** Save alias positions and versions so the next run continues from here. */
  save(): void;
}

function worldFromFile(w: WorldFile, clock: VirtualClock): SimWorld {
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

/** Load a hook module and return its handler (`export const handler` or a default export). */
export async function loadHook(path: string): Promise<SimHookHandler> {
  if (!existsSync(path)) throw new Error(`hook module ${path} does not exist`);
  const mod = (await import(pathToFileURL(path).href)) as { handler?: unknown; default?: unknown };
  const handler =
    mod.handler ?? (typeof mod.default === 'function' ? mod.default : (mod.default as { handler?: unknown })?.handler);
  if (typeof handler !== 'function') throw new Error(`hook module ${path} exports no handler function`);
  return handler as SimHookHandler;
}

export async function openSession(opts: SessionOptions): Promise<Session> {
  // Waits run `speed` times faster than real time; work (hooks, tasks) at real speed, so a busy
  // machine slows a deployment down but cannot make a hook time out.
  const clock = new VirtualClock({ pace: opts.speed });
  let file = opts.world;
  let baseDir = opts.baseDir ?? process.cwd();
  if (!file && opts.worldFile) {
    file = parseWorldFile(readFileSync(opts.worldFile, 'utf8'));
    baseDir = dirname(resolve(opts.worldFile));
  }
  const world = file ? worldFromFile(file, clock) : new SimWorld(clock);
  const statePath = join(opts.stateDir, 'world-state.json');
  if (!opts.fresh && existsSync(statePath)) {
    // Persisted alias positions and versions win over the file (deployments moved them).
    const saved = JSON.parse(readFileSync(statePath, 'utf8')) as SimWorldSpec;
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
  const env = await createLocalEnvironment({
    clock,
    world,
    storeDir: join(opts.stateDir, 'store'),
    ...(opts.s3Port !== undefined ? { s3Port: opts.s3Port } : {}),
  });
  let api: ApiServer | undefined;
  try {
    api = await startApiServer(env.deps, {
      ...(opts.host ? { host: opts.host } : {}),
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.allowRemote ? { allowRemote: true } : {}),
      ...(opts.onRequest ? { onRequest: opts.onRequest } : {}),
      ...(env.work ? { work: env.work } : {}),
      viewFor: env.viewFor,
    });
    // Hook modules written for CodeDeploy call PutLifecycleEventHookExecutionStatus through the
    // SDK's CodeDeploy client: point it at this session (nothing in local mode talks to AWS).
    process.env.AWS_ENDPOINT_URL_CODEDEPLOY ??= api.url;
    process.env.AWS_REGION ??= 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
    for (const [name, modPath] of Object.entries(file?.hooks ?? {}))
      world.registerHook(name, await loadHook(resolve(baseDir, modPath)));
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
        };
        const exists = await env.deps.catalog.getDeploymentGroup(app.name, g.name);
        await env.run((exists ? TASKS.updateDeploymentGroup : TASKS.createDeploymentGroup) as AnyTask, input);
      }
    }
    await recoverOrphans(env, (m) => process.stderr.write(`${m}\n`));
  } catch (e) {
    await api?.close();
    await env.close();
    throw e;
  }
  const server = api;
  return {
    ...env,
    api: server,
    ...(file ? { worldFile: file } : {}),
    save: () => writeFileSync(statePath, JSON.stringify(world.snapshot(), null, 2)),
    close: async () => {
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
