/**
 * The `cutover` command line. Local mode (no AWS account): deployments run on the local
 * interpreter against the simulated world, with the store persisted under .cutover/.
 *
 * Exit codes: 0 success · 1 the deployment failed or was stopped · 2 bad usage or input · 3 internal error.
 */
import { chmodSync, existsSync, readFileSync, mkdirSync, mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dispatch } from '../api/operations.js';
import { LocalFileError, readLocalFile } from '../config/local-file.js';
import { ApiError, InvalidInputError, type Issue } from '../domain/errors.js';
import { describeRouting } from '../platforms/lambda/traffic.js';
import { isTerminal, type Deployment } from '../domain/model.js';
import { TASKS } from '../tasks/index.js';
import { CatalogUsageError, catalogCommand } from './catalog.js';
import { EXIT, SPECS, mainHelp } from './commands.js';
import { UsageError, closest, columns, commandHelp, parseCommand, type Values } from './options.js';
import { heartbeat, progressMs, progressText, type ProgressInfo } from './progress.js';
import { DEFAULT_ENDPOINT, callApi } from '../wiring/remote.js';
import { KEYS_HINT, listenForKeys } from './keys.js';
import { LOCAL_REVISION_BUCKET, S3_CREDENTIALS_FILE } from '../local/s3.js';
import { LocalModeUnavailableError } from '../local/optional-deps.js';
import { StateDirBusyError, liveOwner } from '../local/state-dir.js';
import { LABEL_WIDTH, c, clockText, listenerRouting, renderEntry, targetOf, watch } from './render.js';
import { openSession, type Session } from '../wiring/session.js';
import { runServerDemo } from './server-demo.js';
import { resetStateDir, type ResetPlan } from '../wiring/reset.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLES = join(ROOT, 'examples');
/**
 * A closed stdout (`cutover deploy … | head -1`) is not a reason to stop: what the command does
 * (a deployment running in this process) carries on to its end, silently, and the exit code still
 * says how it ended. Writes after the close are dropped; the EPIPE is not an error.
 */
const closed = { stdout: false, stderr: false };
for (const [name, stream] of [
  ['stdout', process.stdout],
  ['stderr', process.stderr],
] as const)
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') closed[name] = true;
    else throw e;
  });
const err = (s: string) => {
  if (!closed.stderr) process.stderr.write(`${s}\n`);
};
/** The JSON document of --output json (stdout). */
const outJson = (v: unknown) => {
  if (!closed.stdout) process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
};
/** Set by main for --output json. */
let jsonOutput = false;
/** demo, init, server, reset with --output json: their lines for people go to stderr, stdout has the JSON. */
let humanToStderr = false;
const out = (s = '') => {
  if (humanToStderr) err(s);
  else if (!closed.stdout) process.stdout.write(`${s}\n`);
};

/** The parsed options of a command, from the one table (commands.ts) its help is written from. */
function parse(command: string, args: string[]) {
  return parseCommand(SPECS.get(command)!, args);
}

const helpOf = (command: string) => commandHelp(SPECS.get(command)!);
const seeHelp = (command: string) => `Run 'cutover ${command} --help' for its options.`;

function speedOf(v: string | boolean | undefined): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 1_000_000)
    throw new UsageError(`--speed: must be a number from 0 (exclusive) to 1000000, got ${String(v)}`);
  return n;
}

/**
 * While a deployment runs in this process, Ctrl-C (or SIGTERM) stops it with rollback instead of
 * leaving traffic half-shifted: the same StopDeployment as the API's (recorded on the deployment, so
 * a stop that arrives between waits is acted on at the next step boundary). A second one quits.
 */
function stopOnInterrupt(session: Session, deploymentId: string): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    err(
      c.yellow(
        `\n${signal === 'SIGINT' ? 'Interrupted' : 'Terminated'}: stopping the deployment and rolling back (Ctrl-C again to quit at once)`,
      ),
    );
    // A deployment that has just ended cannot be stopped; that is fine, there is nothing to stop.
    session.run(TASKS.stopDeployment, { deploymentId, autoRollbackEnabled: true }).catch(() => undefined);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** The deployments running in this session: executions in flight and groups locked by one. */
async function runningDeployments(session: Session): Promise<Deployment[]> {
  const ids = new Set<string>();
  for (const [name, r] of session.runtime.executions) if (r.status === 'RUNNING') ids.add(name);
  for (const app of await session.deps.catalog.listApplications())
    for (const g of await session.deps.catalog.listDeploymentGroups(app.applicationName))
      if (g.activeDeploymentId) ids.add(g.activeDeploymentId);
  const running: Deployment[] = [];
  for (const id of ids) {
    const d = await session.deps.deployments.get(id);
    if (d && !isTerminal(d.state.status)) running.push(d);
  }
  return running;
}

/** How a stopped deployment ended, for one line. */
function stoppedText(d: Deployment): string {
  const rollback = d.state.rollbackInfo?.rollbackMessage;
  if (d.state.status === 'Succeeded') return 'Succeeded (it finished before the stop took effect)';
  if (rollback?.startsWith('Rolled back')) return `${d.state.status}, rolled back`;
  return `${d.state.status}${rollback ? ` (${rollback})` : ''}`;
}

/**
 * Stop every deployment running in this session with rollback (StopDeployment, as the API's), and
 * wait until each has ended and its execution is over, for at most `withinMs` of wall time.
 * Returns the ids that did not end in time.
 */
async function stopAll(session: Session, withinMs: number): Promise<string[]> {
  const deadline = Date.now() + withinMs;
  const pending = new Set<string>();
  for (const d of await runningDeployments(session)) {
    err(`stopping ${d.deploymentId} (rolling back)…`);
    pending.add(d.deploymentId);
    session.run(TASKS.stopDeployment, { deploymentId: d.deploymentId, autoRollbackEnabled: true }).catch((e) => {
      // It ended on its own meanwhile: nothing to stop, the wait below sees how it ended.
      if (!(e instanceof ApiError && e.exceptionName === 'DeploymentAlreadyCompletedException'))
        err(`could not stop ${d.deploymentId}: ${(e as Error).message}`);
    });
  }
  while (pending.size > 0 && Date.now() < deadline) {
    for (const id of [...pending]) {
      const d = await session.deps.deployments.get(id);
      const executing = session.runtime.executions.get(id)?.status === 'RUNNING';
      if (d && isTerminal(d.state.status) && !executing) {
        err(`stopped ${id}: ${stoppedText(d)}`);
        pending.delete(id);
      }
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 50));
  }
  return [...pending];
}

async function runDeployment(
  session: Session,
  input: Record<string, unknown>,
  speed: number,
  live: boolean,
  progress = 30_000,
): Promise<Deployment> {
  const { deploymentId } = await session.run(TASKS.createDeployment, input);
  if (live) out(`  ${c.bold(deploymentId)} created${process.stdin.isTTY ? c.dim(`   (${KEYS_HINT})`) : ''}`);
  const release = stopOnInterrupt(session, deploymentId);
  const releaseKeys = live ? listenForKeys(session, deploymentId, (s) => out(c.cyan(`  » ${s}`))) : () => undefined;
  try {
    if (live) {
      const beat = heartbeat(
        out,
        async () => progressLine(await localApi(session)('GetDeployment', { deploymentId })),
        progress,
      );
      try {
        return await watch(session, deploymentId, beat.out, 60, speed);
      } finally {
        beat.stop();
      }
    }
    await session.runtime.wait(deploymentId);
    return (await session.deps.deployments.get(deploymentId))!;
  } finally {
    releaseKeys();
    release();
    session.save();
  }
}

/** An API to call operations on: a remote one, or this process's local store (the same operations). */
type Api = (operation: string, input: Record<string, unknown>) => Promise<Record<string, unknown>>;

const remoteApi =
  (endpoint: string): Api =>
  (operation, input) =>
    callApi(endpoint, operation, input);

/** The session's own operations, in process: what its API server would answer, with the same shapes. */
function localApi(session: Session): Api {
  return async (operation, input) => {
    const run = dispatch(operation, input, session.deps, session.viewFor);
    const r = await (session.work ? session.work.during(run) : run);
    if ('error' in r) throw new ApiError(r.error.__type, r.error.message);
    return r.output as Record<string, unknown>;
  };
}

/** A progress line (the timeline's columns) from GetDeployment's answer. */
const progressLine = (r: Record<string, unknown>) =>
  `  ${c.dim('     …')}  ${'Waiting'.padEnd(LABEL_WIDTH)} ${progressText(r.deploymentInfo as ProgressInfo)}`;

/**
 * A deployment as every command prints it with --output json (deploy and status, locally and
 * through an API): GetDeployment's deploymentInfo and GetDeploymentTimeline's entries. Neither
 * carries a hook execution id (the hook's credential): shapes.ts leaves it out, and this drops any
 * that an older server might still send.
 */
async function deploymentDocument(api: Api, deploymentId: string): Promise<Record<string, unknown>> {
  const { deploymentInfo } = await api('GetDeployment', { deploymentId });
  const { timeline } = await api('GetDeploymentTimeline', { deploymentId });
  return withoutHookExecutionIds({ deploymentInfo, timeline }) as Record<string, unknown>;
}

/** A copy without any lifecycleEventHookExecutionId / hookExecutionId field, at any depth. */
export function withoutHookExecutionIds(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutHookExecutionIds);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k]) => !/^(lifecycleEvent)?hookExecutionId$/i.test(k))
      .map(([k, x]) => [k, withoutHookExecutionIds(x)]),
  );
}

function summaryLine(d: Deployment, session: Session): string {
  const target = targetOf(d);
  const aliases = target.ecs
    ? target.ecs.prodListenerArns.map((arn) => listenerRouting(session, arn)).join(', ')
    : target.functions
        .map(
          (f) => `${f.functionName}:${f.alias} → ${describeRouting(session.world.getAlias(f.functionName, f.alias))}`,
        )
        .join(', ');
  const s = d.state;
  const took = s.completeTime ? clockText(Date.parse(s.completeTime) - Date.parse(d.spec.createTime)) : '?';
  const status = s.status === 'Succeeded' ? c.green(s.status) : c.red(s.status);
  return `${d.deploymentId}  ${status}${s.errorInformation ? ` (${s.errorInformation.code})` : ''}  in ${took} simulated  ·  ${aliases}`;
}

interface DemoRelease {
  title: string;
  content: string;
  expect: 'Succeeded' | 'Stopped';
  /** Did the world end where it should (the alias, or the service's task set and listener)? */
  check(session: Session): boolean;
}

/** The Lambda demo: checkout v1 → v2 (healthy) and v2 → v3 (35% errors, rolled back). */
function lambdaDemo(): { world: string; group: string; config: string; releases: DemoRelease[] } {
  const appSpec = readFileSync(join(EXAMPLES, 'appspec.yml'), 'utf8');
  const release = (title: string, from: string, to: string, expect: DemoRelease['expect']): DemoRelease => ({
    title,
    content: appSpec
      .replace('CurrentVersion: "1"', `CurrentVersion: "${from}"`)
      .replace('TargetVersion: "2"', `TargetVersion: "${to}"`),
    expect,
    check: (session) => {
      const alias = session.world.getAlias('checkout', 'live');
      return alias.functionVersion === '2' && Object.keys(alias.additionalVersionWeights).length === 0;
    },
  });
  return {
    world: 'demo.world.yml',
    group: 'checkout-prod',
    config: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
    releases: [
      release('Release 1: checkout v1 → v2 (healthy)', '1', '2', 'Succeeded'),
      release('Release 2: checkout v2 → v3 (35% of its requests fail)', '2', '3', 'Stopped'),
    ],
  };
}

/** The ECS demo: service web from task definition web:1 to web:2 (healthy), then web:3 (35% errors, rolled back). */
function ecsDemo(): { world: string; group: string; config: string; releases: DemoRelease[] } {
  const appSpec = readFileSync(join(EXAMPLES, 'ecs-appspec.yml'), 'utf8');
  const release = (title: string, to: string, expect: DemoRelease['expect']): DemoRelease => ({
    title,
    content: appSpec.replace('task-definition/web:2', `task-definition/web:${to}`),
    expect,
    check: (session) => {
      const sets = session.world.ecs.describeTaskSets('demo', 'web');
      const prod = Object.entries(session.world.ecs.split('web-alb/prod')).filter(([, w]) => w > 0);
      const greenSide =
        sets.length === 1 && sets[0]!.status === 'PRIMARY' && sets[0]!.taskDefinition.endsWith('/web:2');
      return (
        greenSide &&
        prod.length === 1 &&
        prod[0]![1] === 100 &&
        sets[0]!.targetGroupArns.some((a) => a.includes(`/${prod[0]![0]}/`))
      );
    },
  });
  return {
    world: 'ecs.world.yml',
    group: 'web-prod',
    config: 'CodeDeployDefault.ECSCanary10Percent5Minutes',
    releases: [
      release('Release 1: service web, web:1 → web:2 (healthy)', '2', 'Succeeded'),
      release('Release 2: web:2 → web:3 (35% of its requests fail)', '3', 'Stopped'),
    ],
  };
}

async function demo(args: string[]): Promise<number> {
  const { values, positionals } = parse('demo', args);
  if (values.help) return (out(helpOf('demo')), 0);
  const kind = positionals[0] ?? 'lambda';
  if (!['lambda', 'ecs', 'server'].includes(kind))
    throw new UsageError(`demo: lambda, ecs or server, got ${kind}\n\n${seeHelp('demo')}`);
  const speed = speedOf(values.speed);
  if (kind === 'server') return serverDemo(args, Boolean(values.keep), values['state-dir']);
  const plan = kind === 'ecs' ? ecsDemo() : lambdaDemo();
  out(
    c.bold(
      `Cutover demo (${kind === 'ecs' ? 'ECS blue/green' : 'Lambda'}) — local mode: real state machine, simulated AWS account`,
    ),
  );
  out(
    c.dim(
      `time runs ${speed}× faster (a 5-minute bake takes ${((300 / speed) * 1).toFixed(1)} s); nothing here touches AWS\n`,
    ),
  );
  // A fresh state folder of its own (unless one is named), so the demo never meets the user's
  // .cutover/ (or a server holding it) nor their applications.
  const named = args.some((a) => a === '--state-dir' || a.startsWith('--state-dir='));
  if (named && values.keep) throw new UsageError('--keep and --state-dir exclude each other (a named folder is kept)');
  const stateDir = named ? String(values['state-dir']) : mkdtempSync(join(tmpdir(), 'cutover-demo-'));
  const kept = named || values.keep;
  const cleanup = () => {
    if (!kept) rmSync(stateDir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  let session: Session;
  try {
    session = await openSession({
      stateDir,
      speed,
      worldFile: join(EXAMPLES, plan.world),
      fresh: true,
      command: 'demo',
    });
  } catch (e) {
    cleanup();
    process.off('exit', cleanup);
    throw e;
  }
  try {
    const results: { ok: boolean; line: string }[] = [];
    for (const r of plan.releases) {
      out(c.bold(`${r.title} with ${plan.config}`));
      const d = await runDeployment(
        session,
        {
          applicationName: 'shop',
          deploymentGroupName: plan.group,
          revision: { revisionType: 'AppSpecContent', appSpecContent: { content: r.content } },
        },
        speed,
        true,
      );
      results.push({ ok: d.state.status === r.expect && r.check(session), line: summaryLine(d, session) });
      out();
    }
    out(c.bold('Summary'));
    for (const r of results) out(`  ${r.ok ? c.green('✓') : c.red('✗')} ${r.line}`);
    const all = results.every((r) => r.ok);
    if (jsonOutput)
      outJson({
        demo: kind,
        asExpected: all,
        deployments: results.map((r) => ({ asExpected: r.ok, summary: r.line })),
      });
    out(
      all
        ? c.green('\nBoth deployments ended as expected: the healthy release shipped, the faulty one rolled back.')
        : c.red('\nA deployment did not end as expected.'),
    );
    out(
      c.dim(
        kept
          ? `Inspect them with: cutover status <deployment-id> --state-dir ${stateDir}`
          : 'The demo ran in a temporary state folder, now removed (--keep keeps it to inspect the deployments).',
      ),
    );
    return all ? 0 : 1;
  } finally {
    await session.close();
    cleanup();
    process.off('exit', cleanup);
  }
}

/** A fresh temporary state folder (removed at the end unless kept), or the one named. */
function demoStateDir(args: string[], keep: boolean, named: string | boolean | undefined) {
  const isNamed = args.some((a) => a === '--state-dir' || a.startsWith('--state-dir='));
  if (isNamed && keep) throw new UsageError('--keep and --state-dir exclude each other (a named folder is kept)');
  const stateDir = isNamed ? String(named) : mkdtempSync(join(tmpdir(), 'cutover-demo-'));
  const kept = isNamed || keep;
  return { stateDir, kept, cleanup: () => (kept ? undefined : rmSync(stateDir, { recursive: true, force: true })) };
}

/** `cutover demo server`: four real local hosts, HalfAtATime; revision 2 ships, revision 3 rolls back to 2. */
async function serverDemo(args: string[], keep: boolean, named: string | boolean | undefined): Promise<number> {
  const started = Date.now();
  out(c.bold('Cutover demo (EC2/on-premises in place) — local mode: real state machine, four real agents'));
  out(
    c.dim(
      'each host is a `cutover agent` process with its own credentials and folders; time runs at real speed (real scripts run in real time); nothing here touches AWS\n',
    ),
  );
  const { stateDir, kept, cleanup } = demoStateDir(args, keep, named);
  process.on('exit', cleanup);
  let session: Session;
  try {
    session = await openSession({
      stateDir,
      speed: 1,
      worldFile: join(EXAMPLES, 'server', 'server.world.yml'),
      fresh: true,
      command: 'demo',
      onHostExit: (id, code, signal) =>
        err(`host ${id}: its agent ended (${signal ?? `exit code ${code}`}); it is not restarted`),
    });
  } catch (e) {
    cleanup();
    process.off('exit', cleanup);
    throw e;
  }
  try {
    out(
      c.dim(
        `hosts: ${session.hosts.map((h) => `${h.id} (pid ${h.pid})`).join(', ')}\n  agent logs: ${join(stateDir, 'hosts', '<id>', 'agent.log')}\n`,
      ),
    );
    const [one, two] = session.hosts.map((h) => h.id);
    const config = 'CodeDeployDefault.HalfAtATime';
    const results = await runServerDemo(
      session,
      join(EXAMPLES, 'server', 'bundle'),
      [
        { title: `Revision 1 to four empty hosts with ${config}`, revision: 1, brokenOn: [], expect: 'Succeeded' },
        { title: `Revision 2 (healthy) with ${config}`, revision: 2, brokenOn: [], expect: 'Succeeded' },
        {
          title: `Revision 3: its ValidateService fails on ${one} and ${two}`,
          revision: 3,
          brokenOn: [one!, two!],
          expect: 'Failed',
        },
      ],
      out,
    );
    out(c.bold('Summary'));
    for (const r of results) out(`  ${r.ok ? c.green('✓') : c.red('✗')} ${r.line}`);
    const all = results.every((r) => r.ok);
    out(
      all
        ? c.green(
            '\nAll ended as expected: revision 2 shipped to every host; revision 3 stopped at the minimum (HEALTH_CONSTRAINTS) and was rolled back to revision 2.',
          )
        : c.red('\nA deployment did not end as expected.'),
    );
    out(c.dim(`wall time ${((Date.now() - started) / 1000).toFixed(1)} s`));
    out(
      c.dim(
        kept
          ? `Inspect them with: cutover status <deployment-id> --state-dir ${stateDir} (host files under ${join(stateDir, 'hosts')})`
          : 'The demo ran in a temporary state folder, now removed (--keep keeps it to inspect the deployments and hosts).',
      ),
    );
    return all ? 0 : 1;
  } finally {
    await session.close();
    cleanup();
    process.off('exit', cleanup);
  }
}

async function init(args: string[]): Promise<number> {
  const { values, positionals } = parse('init', args);
  if (values.help) return (out(helpOf('init')), 0);
  const kind = positionals[0] ?? 'lambda';
  if (!['lambda', 'ecs', 'server'].includes(kind))
    throw new UsageError(`init: lambda, ecs or server, got ${kind}\n\n${seeHelp('init')}`);
  const serverBundle = (rel: string): [string, string] => [join('server', 'bundle', rel), join('bundle', rel)];
  const files: [string, string][] =
    kind === 'server'
      ? [
          [join('server', 'server.world.yml'), 'cutover.world.yml'],
          serverBundle('appspec.yml'),
          serverBundle(join('app', 'index.html')),
          serverBundle(join('app', 'version')),
          ...['application-stop', 'before-install', 'after-install', 'application-start', 'validate-service'].map((n) =>
            serverBundle(join('scripts', `${n}.sh`)),
          ),
        ]
      : kind === 'ecs'
        ? [
            ['ecs.world.yml', 'cutover.world.yml'],
            ['ecs-appspec.yml', 'appspec.yml'],
            ['hooks/ecs-check.mjs', 'hooks/ecs-check.mjs'],
          ]
        : [
            ['demo.world.yml', 'cutover.world.yml'],
            ['appspec.yml', 'appspec.yml'],
            ['init/pre-traffic.mjs', 'hooks/pre-traffic.mjs'],
            ['hooks/post-traffic.mjs', 'hooks/post-traffic.mjs'],
          ];
  const done: { path: string; action: 'wrote' | 'kept' }[] = [];
  for (const [from, to] of files) {
    if (existsSync(to) && !values.force) {
      out(`  kept    ${to} (exists; --force overwrites)`);
      done.push({ path: to, action: 'kept' });
      continue;
    }
    mkdirSync(dirname(resolve(to)), { recursive: true });
    copyFileSync(join(EXAMPLES, from), to);
    if (to.endsWith('.sh')) chmodSync(to, 0o755);
    out(`  wrote   ${to}`);
    done.push({ path: to, action: 'wrote' });
  }
  if (jsonOutput) outJson({ files: done });
  if (kind === 'server') {
    out(`
Next:
  cutover server      # the local API and S3, and the world's four hosts: one 'cutover agent' each,
                      # files under .cutover/hosts/<id>/ (fs/ is the host's /, agent.log its output)
Then, in another terminal, ship revision 1 (edit bundle/app/, then ship it again):
  (cd bundle && tar czf ../fleet-1.tgz .)
  env $(cat .cutover/s3.env) aws --endpoint-url http://127.0.0.1:4981 \\
    s3 cp fleet-1.tgz s3://${LOCAL_REVISION_BUCKET}/fleet-1.tgz
  aws deploy --endpoint-url http://127.0.0.1:4980 create-deployment --application-name fleet \\
    --deployment-group-name web --s3-location bucket=${LOCAL_REVISION_BUCKET},key=fleet-1.tgz,bundleType=tgz
  cutover status <deployment-id>
Or watch it all happen first: cutover demo server`);
    return 0;
  }
  out(
    `\nNext: cutover deploy --application shop --group ${kind === 'ecs' ? 'web-prod' : 'checkout-prod'} --appspec appspec.yml`,
  );
  return 0;
}

async function deploy(args: string[]): Promise<number> {
  const { values } = parse('deploy', args);
  if (values.help) return (out(helpOf('deploy')), 0);
  const missing = ['application', 'group', 'appspec'].filter((k) => !values[k]);
  if (missing.length)
    throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(', ')}\n\n${seeHelp('deploy')}`);
  const json = values.output === 'json';
  const progress = progressMs(values.progress);
  const appspecPath = String(values.appspec);
  const content = readLocalFile(
    appspecPath,
    'an AppSpec file',
    'give the AppSpec file (YAML or JSON), e.g. --appspec appspec.yml',
  );
  const stateDir = String(values['state-dir']);
  const input = {
    applicationName: values.application,
    deploymentGroupName: values.group,
    revision: { revisionType: 'AppSpecContent', appSpecContent: { content } },
    ...(values.config ? { deploymentConfigName: values.config } : {}),
    ...(values.description ? { description: values.description } : {}),
  };
  const endpoint = await apiFor(values.endpoint, stateDir);
  if (endpoint) {
    // Through a running API (--endpoint, $CUTOVER_ENDPOINT, or the server holding the state folder):
    // create there, then follow it.
    const api = remoteApi(endpoint);
    const { deploymentId } = (await api('CreateDeployment', input)) as { deploymentId: string };
    return follow(api, deploymentId, { watch: true, json, progress });
  }
  const worldPath = String(values.world);
  if (!existsSync(worldPath))
    throw new UsageError(`--world: ${worldPath} does not exist (run 'cutover init' to write an example)`);
  const speed = speedOf(values.speed);
  const session = await openSession({ stateDir, speed, worldFile: worldPath, command: 'deploy' });
  try {
    const d = await runDeployment(session, input, speed, !json, progress);
    if (json) out(JSON.stringify(await deploymentDocument(localApi(session), d.deploymentId), null, 2));
    else out(`\n${summaryLine(d, session)}`);
    return d.state.status === 'Succeeded' ? EXIT.ok : EXIT.deploymentFailed;
  } finally {
    await session.close();
  }
}

/** The fields of GetDeployment's `deploymentInfo` that the CLI prints. */
interface RemoteDeployment {
  deploymentId: string;
  status: string;
  applicationName: string;
  deploymentGroupName: string;
  deploymentConfigName: string;
  createTime: number | string;
  creator?: string;
  errorInformation?: { code: string; message: string };
  rollbackInfo?: Record<string, unknown>;
  cutover?: { targetWeight?: number; lifecycleEvents?: { lifecycleEventName: string; status: string }[] };
}

const ENDED = ['Succeeded', 'Failed', 'Stopped'];
/** How a deployment's status exits: 1 failed or stopped; 0 succeeded or still going. */
const exitOf = (status: string) => (status === 'Failed' || status === 'Stopped' ? EXIT.deploymentFailed : EXIT.ok);

/**
 * Print a deployment (once, or following it until it ends: new timeline entries as they appear,
 * a progress line while nothing happens), the same from the local store or through an API.
 * Returns the exit code: 0 succeeded (or still running, once), 1 failed or stopped.
 */
async function follow(
  api: Api,
  id: string,
  opts: { watch: boolean; json: boolean; progress: number },
): Promise<number> {
  const beat = opts.watch
    ? heartbeat(out, async () => progressLine(await api('GetDeployment', { deploymentId: id })), opts.progress)
    : { out, stop: () => undefined };
  let printed = 0;
  try {
    for (;;) {
      const doc = await deploymentDocument(api, id);
      const d = doc.deploymentInfo as RemoteDeployment;
      const timeline = doc.timeline as { at: string; event: string; message: string }[];
      const done = ENDED.includes(d.status);
      if (opts.json) {
        if (done || !opts.watch) out(JSON.stringify(doc, null, 2));
      } else {
        if (printed === 0) {
          beat.out(`${c.bold(id)}  ${d.applicationName}/${d.deploymentGroupName}  ${d.deploymentConfigName}`);
          if (!opts.watch) {
            beat.out(
              `  creator    ${d.creator ?? '-'}   created ${new Date(Number(d.createTime) * 1000).toISOString()}`,
            );
            const events = d.cutover?.lifecycleEvents ?? [];
            if (events.length)
              beat.out('  lifecycle  ' + events.map((e) => `${e.lifecycleEventName}=${e.status}`).join('  '));
          }
        }
        const t0 = Number(d.createTime) * 1000;
        for (const e of timeline.slice(printed)) beat.out(renderEntry(t0, e));
        printed = timeline.length;
        if (done || !opts.watch) {
          const weight = d.cutover?.targetWeight;
          beat.out(
            `  status ${d.status === 'Succeeded' ? c.green(d.status) : d.status}${d.errorInformation ? ` (${d.errorInformation.code}: ${d.errorInformation.message})` : ''}${weight !== undefined ? `, ${weight}% on target` : ''}`,
          );
          if (!opts.watch && d.rollbackInfo) beat.out(`  rollback   ${JSON.stringify(d.rollbackInfo)}`);
        }
      }
      if (done || !opts.watch) return exitOf(d.status);
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    beat.stop();
  }
}

async function status(args: string[]): Promise<number> {
  const { values, positionals } = parse('status', args);
  if (values.help) return (out(helpOf('status')), 0);
  const id = positionals[0];
  if (!id) throw new UsageError(`missing DEPLOYMENT_ID\n\n${seeHelp('status')}`);
  const opts = { watch: Boolean(values.watch), json: values.output === 'json', progress: progressMs(values.progress) };
  const stateDir = String(values['state-dir']);
  // --watch follows through an API (a local deployment runs in the process that holds the folder).
  const endpoint = opts.watch ? await endpointOf(values.endpoint, stateDir) : await apiFor(values.endpoint, stateDir);
  if (endpoint) return follow(remoteApi(endpoint), id, opts);
  // With the world file, a deployment an ended process left unfinished is settled first (rolled
  // back from the world), so what is shown is where it really ended.
  const session = await localSession(stateDir, String(values.world), 'status');
  try {
    return await follow(localApi(session), id, opts);
  } finally {
    await session.close();
  }
}

/** A session on the local store for a command that reads it (status, list), with the world file if it exists. */
function localSession(stateDir: string, worldPath: string, command: string): Promise<Session> {
  return openSession({ stateDir, speed: 1, command, ...(existsSync(worldPath) ? { worldFile: worldPath } : {}) });
}

/** A path as a shell word (single-quoted unless it is plain). */
const shellPath = (p: string) => (/^[\w./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`);

async function server(args: string[]): Promise<number> {
  const { values } = parse('server', args);
  if (values.help) return (out(helpOf('server')), 0);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port: must be 0-65535, got ${String(values.port)}`);
  const s3Port = Number(values['s3-port']);
  if (!Number.isInteger(s3Port) || s3Port < 0 || s3Port > 65535)
    throw new UsageError(`--s3-port: must be 0-65535, got ${String(values['s3-port'])}`);
  const worldPath = String(values.world);
  const session = await openSession({
    stateDir: String(values['state-dir']),
    speed: speedOf(values.speed),
    ...(existsSync(worldPath) ? { worldFile: worldPath } : {}),
    host: String(values.host),
    port,
    s3Port,
    allowRemote: Boolean(values['allow-remote']),
    command: 'server',
    onRequest: (target, status, ms) =>
      out(
        `  ${status < 400 ? c.green(String(status)) : c.red(String(status))}  ${target}  ${c.dim(`${ms.toFixed(0)} ms`)}`,
      ),
  }).catch((e: NodeJS.ErrnoException & { port?: number; address?: string }) => {
    // A busy port is the user's to change: say which option names it (exit 2, not an internal error).
    if (e.code !== 'EADDRINUSE') throw e;
    const flag = e.port === s3Port ? '--s3-port' : '--port';
    throw new UsageError(
      `${flag} ${e.port ?? ''}: ${e.address ?? '127.0.0.1'}:${e.port ?? '?'} is already in use (another 'cutover server'?); choose another with ${flag} N, or ${flag} 0 for a free one`,
    );
  });
  if (jsonOutput) outJson({ api: session.api.url, s3: session.s3.endpoint, stateDir: String(values['state-dir']) });
  out(
    `Cutover local API on ${c.bold(session.api.url)} (CodeDeploy JSON 1.1${existsSync(worldPath) ? `, world ${worldPath}` : ', empty world'})`,
  );
  out(
    c.dim(
      `  aws deploy --endpoint-url ${session.api.url} list-deployments --application-name APP --deployment-group-name GROUP`,
    ),
  );
  out(c.dim(`  SDK clients: endpoint ${session.api.url}, or AWS_ENDPOINT_URL_CODEDEPLOY=${session.api.url}`));
  out(
    `Local S3 on ${c.bold(session.s3.endpoint)}: uploads to s3://${LOCAL_REVISION_BUCKET}/revisions/<application>/<deploymentGroup>/ start deployments`,
  );
  out(
    c.dim(
      `  env $(cat ${shellPath(join(String(values['state-dir']), S3_CREDENTIALS_FILE))}) aws --endpoint-url ${session.s3.endpoint} s3 cp bundle.zip s3://${LOCAL_REVISION_BUCKET}/revisions/APP/GROUP/v2.zip`,
    ),
  );
  out(
    c.dim(
      '  (a bare appspec.yaml/.json, or a .zip/.tar/.tgz with appspec.yml at its root; metadata deployment-config and description are honoured)',
    ),
  );
  out(c.dim('  Ctrl-C stops the server (running deployments are stopped and rolled back first)'));
  // One handler for good (removing it would hand the next signal to the default action): the
  // first signal stops the server, a second one while it stops quits at once.
  let stopping = false;
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (s: NodeJS.Signals) => {
      if (stopping) {
        err(`${s} while stopping: quitting at once; deployments still running are left as they are`);
        process.exit(130);
      }
      stopping = true;
      resolve(s);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  err(`${signal}: stopping the server (${signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'} again quits at once)`);
  const left = await stopAll(session, STOP_WITHIN_MS);
  if (left.length)
    err(
      `could not stop ${left.join(', ')} within ${STOP_WITHIN_MS / 1000} s; left as ${left.length > 1 ? 'they are' : 'it is'} (the next start finds ${left.length > 1 ? 'them' : 'it'} unfinished)`,
    );
  // Every change is on disk already; this is the last word. (Without a world file the world is
  // empty: saving it would erase the positions a run with the file persisted.)
  if (session.worldFile) session.save();
  await session.close();
  // Whatever is still running (a deployment that would not stop) must not keep the process alive.
  setTimeout(() => process.exit(left.length ? 1 : 0), 1000).unref();
  return left.length ? 1 : 0;
}

/** How long a stopping server waits for its deployments to end (wall time). */
const STOP_WITHIN_MS = 10_000;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** What a reset drops, one item a line. */
function resetLines(plan: ResetPlan): string[] {
  const lines = [
    `${plural(plan.deployments, 'deployment')} and ${plural(plan.applications.length, 'application')}${plan.applications.length ? ` (${plan.applications.join(', ')})` : ''} in the local store, with their groups, configurations and revisions`,
  ];
  if (plan.uploads) lines.push(`${plural(plan.uploads, 'uploaded revision')} in the local S3`);
  if (!plan.worldState) lines.push('no world positions (none were persisted: the world is as the world file says)');
  else if (!plan.worldFile) lines.push('the persisted world (no world file to compare its positions with)');
  else if (!plan.positions.length) lines.push(`the persisted world (its positions are those of ${plan.worldFile})`);
  else {
    lines.push(`these positions, back to ${plan.worldFile}:`);
    for (const p of plan.positions) lines.push(`  ${p}`);
  }
  return lines;
}

async function reset(args: string[]): Promise<number> {
  const { values } = parse('reset', args);
  if (values.help) return (out(helpOf('reset')), 0);
  const stateDir = String(values['state-dir']);
  const worldPath = String(values.world);
  const named = args.some((a) => a === '--world' || a.startsWith('--world='));
  if (named && !existsSync(worldPath)) throw new UsageError(`--world: ${worldPath} does not exist`);
  const plan = await resetStateDir({
    stateDir,
    ...(existsSync(worldPath) ? { worldFile: worldPath } : {}),
    apply: Boolean(values.yes),
    note: err,
  });
  if (jsonOutput) outJson({ reset: plan });
  if (!plan.paths.length) return (out(`Nothing to reset in ${stateDir}.`), 0);
  out(
    plan.dropped
      ? `Reset ${stateDir}: the world is back to the world file. Dropped:`
      : `Resetting ${stateDir} puts the world back to the world file. It drops:`,
  );
  for (const l of resetLines(plan)) out(`  ${l}`);
  if (plan.dropped) return 0;
  err(`cutover reset: nothing was dropped; pass --yes to drop it`);
  return 2;
}

let announced = false;

/**
 * The API a command that can talk to one should use: --endpoint, $CUTOVER_ENDPOINT, or the API of
 * the 'cutover server' that holds the state folder (said once on stderr). Undefined when no live
 * process holds the folder; a live owner that is not a server is a StateDirBusyError (exit 2).
 * `deploy` has never read $CUTOVER_ENDPOINT (it deploys locally unless told otherwise): `env: false`.
 */
async function apiFor(explicit: unknown, stateDir: string, { env = true } = {}): Promise<string | undefined> {
  if (explicit !== undefined) return String(explicit);
  if (env && process.env.CUTOVER_ENDPOINT) return process.env.CUTOVER_ENDPOINT;
  let owner = await liveOwner(stateDir);
  // A server that is starting has claimed the folder but does not listen yet: give it a moment.
  for (let i = 0; i < 100 && owner?.command === 'server' && !owner.api; i++) {
    await new Promise((r) => setTimeout(r, 100));
    owner = await liveOwner(stateDir);
  }
  if (!owner) return undefined;
  if (owner.command !== 'server' || !owner.api) throw new StateDirBusyError(stateDir, owner);
  if (!announced) err(`using the cutover server at ${owner.api} (pid ${owner.pid}) that holds ${stateDir}`);
  announced = true;
  return owner.api;
}

/** The API for commands that only talk to one: as apiFor, else the default local server's address. */
const endpointOf = async (explicit: unknown, stateDir: unknown = '.cutover'): Promise<string> =>
  (await apiFor(explicit, String(stateDir))) ?? DEFAULT_ENDPOINT;

/** One line for exit 2 when another live process holds the state folder. */
function busyMessage(e: StateDirBusyError): string {
  return e.owner?.command === 'server'
    ? `${e.message}; status, list, deploy and the controls go through it; stop it first for anything else, or use --state-dir for another folder`
    : `${e.message}; wait for it to end or stop it, or use --state-dir for another folder`;
}

/** stop, promote, pause, resume, approve, continue: one API call on one deployment. */
function control(command: string, operation: string, done: string) {
  return async (args: string[]): Promise<number> => {
    const { values, positionals } = parse(command, args);
    if (values.help) return (out(helpOf(command)), 0);
    const id = positionals[0];
    if (!id) throw new UsageError(`missing DEPLOYMENT_ID\n\n${seeHelp(command)}`);
    const waitType = String(values['wait-type'] ?? 'READY_WAIT');
    if (!['READY_WAIT', 'TERMINATION_WAIT'].includes(waitType))
      throw new UsageError(`--wait-type: READY_WAIT or TERMINATION_WAIT, got ${waitType}`);
    const input: Record<string, unknown> = {
      deploymentId: id,
      ...(command === 'stop' ? { autoRollbackEnabled: !values['no-rollback'] } : {}),
      ...(command === 'continue' ? { deploymentWaitType: waitType } : {}),
    };
    const r = await callApi(await endpointOf(values.endpoint, values['state-dir']), operation, input);
    out(
      values.output === 'json'
        ? JSON.stringify({ deploymentId: id, ...r }, null, 2)
        : `${id}: ${done}${r.statusMessage ? ` (${String(r.statusMessage)})` : ''}`,
    );
    return EXIT.ok;
  };
}

/** A group's deployments through `api`, newest first (ListDeployments and BatchGetDeployments). */
async function listDeployments(api: Api, values: Values): Promise<Record<string, unknown>[]> {
  const ids: string[] = [];
  let nextToken: unknown;
  do {
    const page = await api('ListDeployments', {
      applicationName: values.application,
      deploymentGroupName: values.group,
      ...(values.status ? { includeOnlyStatuses: [values.status] } : {}),
      ...(nextToken ? { nextToken } : {}),
    });
    ids.push(...((page.deployments as string[]) ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const infos: Record<string, unknown>[] = [];
  for (let i = 0; i < ids.length; i += 25)
    infos.push(
      ...(((await api('BatchGetDeployments', { deploymentIds: ids.slice(i, i + 25) })).deploymentsInfo as Record<
        string,
        unknown
      >[]) ?? []),
    );
  return infos.sort((a, b) => Number(b.createTime) - Number(a.createTime));
}

async function list(args: string[]): Promise<number> {
  const { values } = parse('list', args);
  if (values.help) return (out(helpOf('list')), 0);
  const missing = ['application', 'group'].filter((k) => !values[k]);
  if (missing.length) throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(', ')}\n\n${seeHelp('list')}`);
  const stateDir = String(values['state-dir']);
  const endpoint = await apiFor(values.endpoint, stateDir);
  let infos: Record<string, unknown>[];
  if (endpoint) infos = await listDeployments(remoteApi(endpoint), values);
  else {
    // No API: the local store (no server needed), as status reads it.
    const session = await localSession(stateDir, 'cutover.world.yml', 'list');
    try {
      infos = await listDeployments(localApi(session), values);
    } finally {
      await session.close();
    }
  }
  infos = infos.map((d) => withoutHookExecutionIds(d) as Record<string, unknown>);
  if (values.output === 'json') return (out(JSON.stringify({ deployments: infos }, null, 2)), EXIT.ok);
  const rows = infos.map((d) => [
    String(d.deploymentId),
    String(d.status),
    new Date(Number(d.createTime) * 1000).toISOString().slice(0, 19).replace('T', ' '),
    String(d.deploymentConfigName),
    (d.errorInformation as { code?: string } | undefined)?.code ?? '',
  ]);
  for (const l of columns([['DEPLOYMENT', 'STATUS', 'CREATED (UTC)', 'CONFIG', 'ERROR'], ...rows])) out(l);
  return EXIT.ok;
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  demo,
  init,
  deploy,
  status,
  server,
  reset,
  list,
  stop: control('stop', 'StopDeployment', 'stop requested'),
  promote: control('promote', 'PromoteDeployment', 'promote requested'),
  pause: control('pause', 'PauseDeployment', 'pause requested'),
  resume: control('resume', 'ResumeDeployment', 'resume requested'),
  approve: control('approve', 'ApproveDeployment', 'approved'),
  continue: control('continue', 'ContinueDeployment', 'continued'),
  app: (args) => catalog('app', args),
  group: (args) => catalog('group', args),
  config: (args) => catalog('config', args),
  // The agent is its own program (src/agent, also bundled alone): loaded only when asked for.
  agent: async (args) => (await import('../agent/main.js')).runAgent(args),
  // Parses its own options (src/cli/proxy.ts), as the agent does.
  proxy: async (args) => (await import('./proxy.js')).proxyCommand(args, { out, err, env: process.env }),
};

async function catalog(kind: 'app' | 'group' | 'config', args: string[]): Promise<number> {
  const { values, positionals } = parse(kind, args);
  if (values.help) return (out(helpOf(kind)), EXIT.ok);
  try {
    return await catalogCommand(kind, values, positionals, endpointOf, out);
  } catch (e) {
    if (e instanceof CatalogUsageError) throw new UsageError(e.message);
    throw e;
  }
}

/** What an error means for the user: its exit code, a stable code for --output json, the message. */
export function classify(e: unknown): { exitCode: number; code: string; message: string; issues?: readonly Issue[] } {
  if (e instanceof UsageError) return { exitCode: EXIT.usage, code: 'UsageError', message: e.message };
  if (e instanceof LocalModeUnavailableError)
    return { exitCode: EXIT.usage, code: 'LocalModeUnavailable', message: e.message };
  if (e instanceof StateDirBusyError) return { exitCode: EXIT.usage, code: 'StateDirBusy', message: busyMessage(e) };
  if (e instanceof LocalFileError)
    return { exitCode: EXIT.usage, code: 'LocalFileError', message: e.message, issues: e.issues };
  if (e instanceof InvalidInputError)
    return {
      exitCode: EXIT.usage,
      code: e.exceptionName,
      message: `${e.exceptionName}: ${e.issues.length > 1 ? `\n  ${e.issues.map((i) => `${i.path || '(input)'}: ${i.message}`).join('\n  ')}` : e.message}`,
      issues: e.issues,
    };
  if (e instanceof ApiError) {
    // Nothing answered, or a gateway in front of the API could not reach it.
    if (e.exceptionName === 'EndpointUnreachable' || /^HTTP50[234]$/.test(e.exceptionName))
      return { exitCode: EXIT.unreachable, code: 'EndpointUnreachable', message: e.message };
    // The server's own bug (an operation that failed inside it) is an internal error too.
    if (e.exceptionName === 'InternalFailure')
      return { exitCode: EXIT.internal, code: 'InternalFailure', message: `${e.exceptionName}: ${e.message}` };
    return { exitCode: EXIT.usage, code: e.exceptionName, message: `${e.exceptionName}: ${e.message}` };
  }
  const errno = e as NodeJS.ErrnoException & { port?: number; address?: string };
  if (errno?.code === 'EADDRINUSE')
    return {
      exitCode: EXIT.usage,
      code: 'AddressInUse',
      message: `${errno.address ?? '127.0.0.1'}:${errno.port ?? '?'} is already in use (another 'cutover server'?): choose another port, or 0 for a free one`,
    };
  return {
    exitCode: EXIT.internal,
    code: 'InternalError',
    message: `internal error: ${(e as Error)?.message ?? String(e)}`,
  };
}

/** Whether the arguments ask for JSON (known before parsing, so a parse error is JSON too). */
const wantsJson = (args: string[]) =>
  args.some((a, i) => a === '--json' || a === '--output=json' || (a === '--output' && args[i + 1] === 'json'));

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    out(mainHelp());
    return command ? EXIT.ok : EXIT.usage;
  }
  if (command === '--version') {
    out((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    return EXIT.ok;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  jsonOutput = command !== 'agent' && command !== 'proxy' && wantsJson(rest);
  humanToStderr = jsonOutput && ['demo', 'init', 'server', 'reset'].includes(command);
  if (!run) {
    const guess = closest(command, Object.keys(COMMANDS));
    return fail(command, {
      exitCode: EXIT.usage,
      code: 'UsageError',
      message: `unknown command '${command}'${guess ? ` (did you mean ${guess}?)` : ''}; 'cutover --help' lists them`,
    });
  }
  try {
    return await run(rest);
  } catch (e) {
    const failure = classify(e);
    if (failure.exitCode === EXIT.internal && process.env.CUTOVER_DEBUG) err((e as Error).stack ?? '');
    return fail(command, failure);
  }
}

function fail(command: string, f: ReturnType<typeof classify>): number {
  err(`cutover ${command}: ${f.message}`);
  // What a half-opened session left behind (a store, a socket) must not keep a failed command alive.
  setTimeout(() => process.exit(f.exitCode), 1000).unref();
  if (jsonOutput)
    outJson({
      error: {
        code: f.code,
        message: f.message,
        exitCode: f.exitCode,
        ...(f.issues?.length ? { issues: f.issues.map((i) => ({ path: i.path, message: i.message })) } : {}),
      },
    });
  return f.exitCode;
}
