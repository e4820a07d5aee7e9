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
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiError, InvalidInputError } from '../domain/errors.js';
import { describeRouting } from '../platforms/lambda/traffic.js';
import { isTerminal, type Deployment } from '../domain/model.js';
import { TASKS } from '../tasks/index.js';
import { CatalogUsageError, catalogCommand } from './catalog.js';
import { DEFAULT_ENDPOINT, callApi } from '../wiring/remote.js';
import { KEYS_HINT, listenForKeys } from './keys.js';
import { LOCAL_REVISION_BUCKET, S3_CREDENTIALS_FILE } from '../local/s3.js';
import { StateDirBusyError, liveOwner } from '../local/state-dir.js';
import { c, clockText, listenerRouting, renderEntry, targetOf, watch } from './render.js';
import { openSession, type Session } from '../wiring/session.js';
import { runServerDemo } from './server-demo.js';
import { resetStateDir, type ResetPlan } from '../wiring/reset.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLES = join(ROOT, 'examples');
const out = (s = '') => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);

class UsageError extends Error {}

const COMMON = {
  'state-dir': { type: 'string', default: '.cutover' },
  speed: { type: 'string', default: '60' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const HELP: Record<string, string> = {
  main: `cutover — CodeDeploy-compatible deployments for AWS Lambda, on Step Functions.

Usage: cutover <command> [options]

Commands (local mode: no AWS account; time is compressed):
  demo       Deploy a healthy and a faulty release in a simulated AWS account and show both outcomes
  init       Write an example world file, AppSpec and hook modules to the current folder
  deploy     Deploy an AppSpec to a deployment group and follow it live
  status     Show a deployment's status, lifecycle events and timeline
  server     Serve the CodeDeploy-compatible API (JSON 1.1) locally for the AWS CLI and SDKs
  reset      Put the local world back to the world file: drop the state folder's store and world state

On an EC2 instance or on-premises server of a Server deployment group:
  agent      Run the Cutover agent: poll the engine, install revisions, run AppSpec hooks

One process holds a state folder (.cutover, or --state-dir) at a time. While 'cutover server' holds
it, status, list, deploy and the commands below go through that server; other commands exit 2.

Commands for a running 'cutover server' (--endpoint, $CUTOVER_ENDPOINT, the server holding the
state folder, or http://127.0.0.1:4980):
  app        Applications: create|get|list|delete
  group      Deployment groups: create|update|get|list|delete
  config     Deployment configurations: create|get|list|delete
  list       List a deployment group's deployments
  stop       Stop a deployment (with rollback unless --no-rollback)
  promote    Skip the remaining bakes and approvals; go to 100%
  pause      Hold at the current weight        resume    Continue a paused deployment
  approve    Approve the approval step a deployment waits on (also: continue)

Run 'cutover <command> --help' for a command's options.
Exit codes: 0 success, 1 deployment failed or stopped, 2 bad usage or input, 3 internal error.`,
  demo: `Usage: cutover demo [lambda|ecs|server] [--speed N] [--keep | --state-dir DIR]

lambda (default): two deployments of the 'checkout' function (alias live) in a simulated account
with CodeDeployDefault.LambdaCanary10Percent5Minutes: version 1 → 2 (healthy: succeeds) and then
2 → 3 (35% errors: the checkout-errors alarm trips and the deployment rolls back).
ecs: two blue/green deployments of the ECS service demo/web behind an ALB (prod and test listeners)
with CodeDeployDefault.ECSCanary10Percent5Minutes and all five ECS hooks: task definition web:1 →
web:2 (succeeds; the original task set is deleted after a 5-minute termination wait), then
web:2 → web:3 (35% errors: the web-5xx alarm trips; both listeners go back to blue and the
replacement task set is deleted).
server: in-place deployments to four real local hosts (one 'cutover agent' process each, its files
under the state folder's hosts/<id>/) behind a target group, with CodeDeployDefault.HalfAtATime:
revision 1, then 2 (succeeds: its files on every host, its scripts ran, ValidateService passed),
then 3, whose ValidateService fails on two hosts: the minimum of two healthy hosts stops it
(HEALTH_CONSTRAINTS) and the automatic rollback redeploys revision 2. Real time (real scripts).
Prints a live timeline and a summary; exits 0 when both end as expected. The demo runs in a fresh
temporary state folder of its own, removed at the end, so it never touches .cutover/.

Options:
  --speed N        Time compression (default 60: a 5-minute bake takes 5 s)
  --keep           Keep the temporary state folder (to inspect the deployments with 'cutover status')
  --state-dir DIR  Run in this state folder instead (kept)`,
  init: `Usage: cutover init [lambda|ecs|server] [--force]

lambda (default): writes cutover.world.yml (simulated functions, alarms, hooks, deployment
groups), appspec.yml and hooks/pre-traffic.mjs, hooks/post-traffic.mjs to the current folder.
Then: cutover deploy --application shop --group checkout-prod --appspec appspec.yml
ecs: writes cutover.world.yml (an ECS service behind a load balancer, task definitions, alarms,
a blue/green deployment group), appspec.yml (an ECS AppSpec) and hooks/ecs-check.mjs.
Then: cutover deploy --application shop --group web-prod --appspec appspec.yml
server: writes cutover.world.yml (four local hosts, each run as a real 'cutover agent' process by
'cutover server', a target group, application fleet with group web, HalfAtATime, auto-rollback) and
a bundle layout: bundle/appspec.yml (files to /srv/app, the five script hooks), bundle/app/ (the
files) and bundle/scripts/ (ApplicationStop, BeforeInstall, AfterInstall, ApplicationStart,
ValidateService). Then: cutover server, and upload a tgz of bundle/ (the next steps say how).
Existing files are kept unless --force is given.`,
  deploy: `Usage: cutover deploy --application NAME --group NAME --appspec FILE [options]

Creates a deployment (CodeDeploy CreateDeployment semantics) in local mode and follows it live.

Options:
  --application NAME   Application (created from the world file if it defines it)
  --group NAME         Deployment group
  --appspec FILE       AppSpec file (YAML or JSON)
  --config NAME        Deployment configuration: a CodeDeployDefault.Lambda* name, a custom one,
                       or a step list such as "1% 5m, 10% 10m, 50% 10m, 100%" (default: the group's)
  --description TEXT   Description (max 256 characters)
  --world FILE         World file (default ./cutover.world.yml)
  --speed N            Time compression (default 60)
  --state-dir DIR      Local state folder (default .cutover)
  --json               Print the final deployment as JSON instead of a live timeline
  --endpoint URL       Deploy through a running Cutover API ('cutover server') instead of in this process`,
  server: `Usage: cutover server [--port N] [--host ADDR] [--allow-remote] [--world FILE] [--speed N] [--state-dir DIR]

Serves CodeDeploy's API (AWS JSON 1.1, X-Amz-Target CodeDeploy_20141006.*; Cutover's extras under
Cutover_20261122.*) on 127.0.0.1, backed by local mode: deployments created through it run in this
process against the simulated world. Point the AWS CLI (--endpoint-url) or an SDK client (endpoint,
or AWS_ENDPOINT_URL_CODEDEPLOY) at it. Hook modules in the world file reach it automatically.

Options:
  --port N          Port (default 4980; 0 picks a free one)
  --s3-port N       Port of the local S3 for revision uploads (default 4981; 0 picks a free one)
  --host ADDR       Address (default 127.0.0.1); anything but loopback needs --allow-remote
  --allow-remote    Allow a non-loopback address (the local API has no authentication)
  --world FILE      World file (default ./cutover.world.yml, if it exists)
  --speed N         Time compression (default 60)
  --state-dir DIR   Local state folder (default .cutover)

The server holds the state folder: other commands on it (status, list, deploy, stop, …) go through
its API. SIGTERM or Ctrl-C stops every running deployment with rollback (waiting up to 10 s), saves
the world and exits 0 (1 if a deployment could not be stopped in time); a second signal quits at once.`,
  reset: `Usage: cutover reset [--yes] [--world FILE] [--state-dir DIR]

Puts the local world back to the world file: deletes the state folder's store (every deployment,
application and deployment group recorded there; the world file's are created again on the next
run), its local S3 uploads and its persisted world (alias, task set and listener positions).
Without --yes it prints what it would drop and exits 2. Refused (exit 2) while a process holds the
folder.

Options:
  --yes             Drop it
  --world FILE      World file to compare the positions with (default ./cutover.world.yml, if it exists)
  --state-dir DIR   Local state folder (default .cutover)`,
  list: `Usage: cutover list --application NAME --group NAME [--status STATUS] [--output json|table] [--endpoint URL]

Lists the group's deployments, newest first (CodeDeploy ListDeployments + BatchGetDeployments).`,
  stop: `Usage: cutover stop DEPLOYMENT_ID [--no-rollback] [--output json|table] [--endpoint URL]

Stops the deployment at once (CodeDeploy StopDeployment). Traffic goes back to CurrentVersion unless
--no-rollback, which leaves it where it is. The deployment ends Stopped (MANUAL_STOP).`,
  promote:
    'Usage: cutover promote DEPLOYMENT_ID [--output json|table] [--endpoint URL]\n\nSkips the remaining bakes and approvals and goes to 100% now; AfterAllowTraffic still runs.',
  pause:
    'Usage: cutover pause DEPLOYMENT_ID [--output json|table] [--endpoint URL]\n\nHolds the deployment at its current weight; the bake clock stops until resume.',
  resume:
    'Usage: cutover resume DEPLOYMENT_ID [--output json|table] [--endpoint URL]\n\nContinues a paused deployment with the bake time that was left.',
  approve:
    'Usage: cutover approve DEPLOYMENT_ID [--output json|table] [--endpoint URL]\n\nApproves the approval step the deployment is waiting on.',
  continue: `Usage: cutover continue DEPLOYMENT_ID [--wait-type READY_WAIT|TERMINATION_WAIT] [--output json|table] [--endpoint URL]

CodeDeploy ContinueDeployment. ECS: READY_WAIT (default) lets a deployment waiting as Ready
(STOP_DEPLOYMENT) move production traffic; TERMINATION_WAIT deletes the original task set now
instead of at the end of the termination wait. Lambda: approves the approval step it waits on.`,
  status: `Usage: cutover status DEPLOYMENT_ID [--json | --output json|table] [--state-dir DIR] [--world FILE]
       cutover status DEPLOYMENT_ID --endpoint URL [--watch] [--json | --output json|table]

Shows a deployment: status, error, lifecycle events and timeline. Without --endpoint it reads the
local store (with the world file, default ./cutover.world.yml if it exists, a deployment left
unfinished by an ended process is first rolled back from the world and recorded); with --endpoint
(or $CUTOVER_ENDPOINT) it asks a running Cutover API, and --watch follows the deployment until it
ends (exit 0 succeeded, 1 failed or stopped).`,
};

function parse<const O extends NonNullable<ParseArgsConfig['options']>>(command: string, args: string[], options: O) {
  try {
    const config = { args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true } as const;
    return parseArgs(config);
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${HELP[command]}`);
  }
}

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
): Promise<Deployment> {
  const { deploymentId } = await session.run(TASKS.createDeployment, input);
  if (live) out(`  ${c.bold(deploymentId)} created${process.stdin.isTTY ? c.dim(`   (${KEYS_HINT})`) : ''}`);
  const release = stopOnInterrupt(session, deploymentId);
  const releaseKeys = live ? listenForKeys(session, deploymentId, (s) => out(c.cyan(`  » ${s}`))) : () => undefined;
  try {
    if (live) return await watch(session, deploymentId, out, 60, speed);
    await session.runtime.wait(deploymentId);
    return (await session.deps.deployments.get(deploymentId))!;
  } finally {
    releaseKeys();
    release();
    session.save();
  }
}

/**
 * A deployment for --json: what was asked and where it is, without credentials (the task token, hook
 * execution ids) and without the hooks' targets (a webhook URL may carry a token).
 */
function deploymentJson(d: Deployment): Record<string, unknown> {
  const { currentWait: _token, lifecycleEvents, ...state } = d.state;
  const { lifecycle, ...spec } = d.spec;
  return {
    deploymentId: d.deploymentId,
    ...spec,
    stages: lifecycle.map((s) => ({ kind: s.kind, name: s.name })),
    ...state,
    waiting: d.state.currentWait?.kind,
    lifecycleEvents: lifecycleEvents.map(({ hookExecutionId: _id, ...e }) => e),
  };
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
  const { values, positionals } = parse('demo', args, { keep: { type: 'boolean', default: false } });
  if (values.help) return (out(HELP.demo), 0);
  const kind = positionals[0] ?? 'lambda';
  if (!['lambda', 'ecs', 'server'].includes(kind))
    throw new UsageError(`demo: lambda, ecs or server, got ${kind}\n\n${HELP.demo}`);
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
  const { values, positionals } = parse('init', args, { force: { type: 'boolean', default: false } });
  if (values.help) return (out(HELP.init), 0);
  const kind = positionals[0] ?? 'lambda';
  if (!['lambda', 'ecs', 'server'].includes(kind))
    throw new UsageError(`init: lambda, ecs or server, got ${kind}\n\n${HELP.init}`);
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
  for (const [from, to] of files) {
    if (existsSync(to) && !values.force) {
      out(`  kept    ${to} (exists; --force overwrites)`);
      continue;
    }
    mkdirSync(dirname(resolve(to)), { recursive: true });
    copyFileSync(join(EXAMPLES, from), to);
    if (to.endsWith('.sh')) chmodSync(to, 0o755);
    out(`  wrote   ${to}`);
  }
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
  const { values } = parse('deploy', args, {
    application: { type: 'string' },
    group: { type: 'string' },
    appspec: { type: 'string' },
    config: { type: 'string' },
    description: { type: 'string' },
    world: { type: 'string', default: 'cutover.world.yml' },
    json: { type: 'boolean', default: false },
    endpoint: { type: 'string' },
  });
  if (values.help) return (out(HELP.deploy), 0);
  const missing = ['application', 'group', 'appspec'].filter((k) => !values[k as keyof typeof values]);
  if (missing.length) throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(', ')}\n\n${HELP.deploy}`);
  const appspecPath = String(values.appspec);
  if (!existsSync(appspecPath)) throw new UsageError(`--appspec: ${appspecPath} does not exist`);
  const stateDir = String(values['state-dir']);
  const endpoint = await apiFor(values.endpoint, stateDir, { env: false });
  if (endpoint) {
    // Through a running API (e.g. 'cutover server', or the one holding the state folder): create
    // there, then follow it.
    const { deploymentId } = (await callApi(endpoint, 'CreateDeployment', {
      applicationName: values.application,
      deploymentGroupName: values.group,
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: readFileSync(appspecPath, 'utf8') } },
      ...(values.config ? { deploymentConfigName: values.config } : {}),
      ...(values.description ? { description: values.description } : {}),
    })) as { deploymentId: string };
    return followRemote(endpoint, deploymentId, true, Boolean(values.json));
  }
  const worldPath = String(values.world);
  if (!existsSync(worldPath))
    throw new UsageError(`--world: ${worldPath} does not exist (run 'cutover init' to write an example)`);
  const speed = speedOf(values.speed);
  const session = await openSession({ stateDir, speed, worldFile: worldPath, command: 'deploy' });
  try {
    const d = await runDeployment(
      session,
      {
        applicationName: values.application,
        deploymentGroupName: values.group,
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content: readFileSync(appspecPath, 'utf8') } },
        ...(values.config ? { deploymentConfigName: values.config } : {}),
        ...(values.description ? { description: values.description } : {}),
      },
      speed,
      !values.json,
    );
    if (values.json) out(JSON.stringify({ deploymentInfo: deploymentJson(d) }, null, 2));
    else out(`\n${summaryLine(d, session)}`);
    return d.state.status === 'Succeeded' ? 0 : 1;
  } finally {
    await session.close();
  }
}

/** The fields of GetDeployment's `deploymentInfo` that `status --endpoint` prints. */
interface RemoteDeployment {
  status: string;
  applicationName: string;
  deploymentGroupName: string;
  deploymentConfigName: string;
  createTime: number | string;
  errorInformation?: { code: string; message: string };
  cutover?: { targetWeight?: number };
}

/**
 * Follow a deployment through the API until it ends (or print it once): new timeline entries as
 * they appear. Returns the exit code: 0 succeeded, 1 failed or stopped (or still running, once).
 */
async function followRemote(endpoint: string, id: string, watch: boolean, json: boolean): Promise<number> {
  let printed = 0;
  for (;;) {
    const { deploymentInfo: d } = (await callApi(endpoint, 'GetDeployment', { deploymentId: id })) as {
      deploymentInfo: RemoteDeployment;
    };
    const { timeline } = (await callApi(endpoint, 'GetDeploymentTimeline', { deploymentId: id })) as {
      timeline: { at: string; event: string; message: string }[];
    };
    const done = ['Succeeded', 'Failed', 'Stopped'].includes(d.status);
    if (json) {
      if (done || !watch) out(JSON.stringify({ deploymentInfo: d, timeline }, null, 2));
    } else {
      if (printed === 0) out(`${c.bold(id)}  ${d.applicationName}/${d.deploymentGroupName}  ${d.deploymentConfigName}`);
      const t0 = Number(d.createTime) * 1000;
      for (const e of timeline.slice(printed)) out(renderEntry(t0, e));
      printed = timeline.length;
      if (done || !watch) {
        const weight = d.cutover?.targetWeight;
        out(
          `  status ${d.status === 'Succeeded' ? c.green(d.status) : d.status}${d.errorInformation ? ` (${d.errorInformation.code}: ${d.errorInformation.message})` : ''}${weight !== undefined ? `, ${weight}% on target` : ''}`,
        );
      }
    }
    if (done) return d.status === 'Succeeded' ? 0 : 1;
    if (!watch) return 0;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function status(args: string[]): Promise<number> {
  const { values, positionals } = parse('status', args, {
    json: { type: 'boolean', default: false },
    output: { type: 'string' },
    endpoint: { type: 'string' },
    watch: { type: 'boolean', default: false },
    world: { type: 'string', default: 'cutover.world.yml' },
  });
  if (values.help) return (out(HELP.status), 0);
  if (values.output !== undefined && !['json', 'table'].includes(String(values.output)))
    throw new UsageError(`--output: json or table, got ${String(values.output)}`);
  if (values.output === 'json') values.json = true;
  const id = positionals[0];
  if (!id) throw new UsageError(`missing DEPLOYMENT_ID\n\n${HELP.status}`);
  const stateDir = String(values['state-dir']);
  const endpoint = values.watch ? await endpointOf(values.endpoint, stateDir) : await apiFor(values.endpoint, stateDir);
  if (endpoint) return followRemote(endpoint, id, Boolean(values.watch), Boolean(values.json));
  // With the world file, a deployment an ended process left unfinished is settled first (rolled
  // back from the world), so what is shown is where it really ended.
  const worldPath = String(values.world);
  const session = await openSession({
    stateDir,
    speed: 1,
    command: 'status',
    ...(existsSync(worldPath) ? { worldFile: worldPath } : {}),
  });
  try {
    const d = await session.deps.deployments.get(id);
    if (!d) throw new ApiError('DeploymentDoesNotExistException', `Deployment ${id} does not exist in ${stateDir}`);
    const timeline = await session.deps.timeline.list(id);
    if (values.json) {
      out(JSON.stringify({ deploymentInfo: deploymentJson(d), timeline }, null, 2));
      return 0;
    }
    const s = d.state;
    out(
      `${c.bold(d.deploymentId)}  ${d.spec.applicationName}/${d.spec.deploymentGroupName}  ${s.status === 'Succeeded' ? c.green(s.status) : s.status}`,
    );
    out(`  config     ${d.spec.deploymentConfigName}   creator ${d.spec.creator}   created ${d.spec.createTime}`);
    for (const f of targetOf(d).functions)
      out(`  function   ${f.functionName}:${f.alias} ${f.currentVersion} → ${f.targetVersion}`);
    if (s.errorInformation) out(`  error      ${c.red(s.errorInformation.code)}: ${s.errorInformation.message}`);
    if (s.rollbackInfo) out(`  rollback   ${JSON.stringify(s.rollbackInfo)}`);
    out('  lifecycle  ' + s.lifecycleEvents.map((e) => `${e.lifecycleEventName}=${e.status}`).join('  '));
    out('  timeline');
    const t0 = Date.parse(d.spec.createTime);
    for (const e of timeline) out(renderEntry(t0, e));
    return 0;
  } finally {
    await session.close();
  }
}

/** A path as a shell word (single-quoted unless it is plain). */
const shellPath = (p: string) => (/^[\w./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`);

async function server(args: string[]): Promise<number> {
  const { values } = parse('server', args, {
    port: { type: 'string', default: '4980' },
    's3-port': { type: 'string', default: '4981' },
    host: { type: 'string', default: '127.0.0.1' },
    'allow-remote': { type: 'boolean', default: false },
    world: { type: 'string', default: 'cutover.world.yml' },
  });
  if (values.help) return (out(HELP.server), 0);
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
  });
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
  const { values } = parse('reset', args, {
    yes: { type: 'boolean', default: false },
    world: { type: 'string', default: 'cutover.world.yml' },
  });
  if (values.help) return (out(HELP.reset), 0);
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
    const { values, positionals } = parse(command, args, {
      endpoint: { type: 'string' },
      'no-rollback': { type: 'boolean', default: false },
      output: { type: 'string', default: 'table' },
      'wait-type': { type: 'string' },
    });
    if (values.help) return (out(HELP[command]), 0);
    const id = positionals[0];
    if (!id) throw new UsageError(`missing DEPLOYMENT_ID\n\n${HELP[command]}`);
    if (values['no-rollback'] && command !== 'stop') throw new UsageError('--no-rollback applies to stop only');
    const waitType = values['wait-type'] === undefined ? 'READY_WAIT' : String(values['wait-type']);
    if (values['wait-type'] !== undefined && command !== 'continue')
      throw new UsageError('--wait-type applies to continue only');
    if (!['READY_WAIT', 'TERMINATION_WAIT'].includes(waitType))
      throw new UsageError(`--wait-type: READY_WAIT or TERMINATION_WAIT, got ${waitType}`);
    const input: Record<string, unknown> = {
      deploymentId: id,
      ...(command === 'stop' ? { autoRollbackEnabled: !values['no-rollback'] } : {}),
      ...(command === 'continue' ? { deploymentWaitType: waitType } : {}),
    };
    if (!['json', 'table'].includes(String(values.output)))
      throw new UsageError(`--output: json or table, got ${String(values.output)}`);
    const r = await callApi(await endpointOf(values.endpoint, values['state-dir']), operation, input);
    out(
      values.output === 'json'
        ? JSON.stringify({ deploymentId: id, ...r }, null, 2)
        : `${id}: ${done}${r.statusMessage ? ` (${String(r.statusMessage)})` : ''}`,
    );
    return 0;
  };
}

async function list(args: string[]): Promise<number> {
  const { values } = parse('list', args, {
    application: { type: 'string' },
    group: { type: 'string' },
    status: { type: 'string' },
    output: { type: 'string', default: 'table' },
    endpoint: { type: 'string' },
  });
  if (values.help) return (out(HELP.list), 0);
  const missing = ['application', 'group'].filter((k) => !values[k as keyof typeof values]);
  if (missing.length) throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(', ')}\n\n${HELP.list}`);
  if (!['json', 'table'].includes(String(values.output)))
    throw new UsageError(`--output: json or table, got ${String(values.output)}`);
  const endpoint = await endpointOf(values.endpoint, values['state-dir']);
  const ids: string[] = [];
  let nextToken: unknown;
  do {
    const page = await callApi(endpoint, 'ListDeployments', {
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
      ...(((await callApi(endpoint, 'BatchGetDeployments', { deploymentIds: ids.slice(i, i + 25) }))
        .deploymentsInfo as Record<string, unknown>[]) ?? []),
    );
  infos.sort((a, b) => Number(b.createTime) - Number(a.createTime));
  if (values.output === 'json') return (out(JSON.stringify({ deployments: infos }, null, 2)), 0);
  out(`${'DEPLOYMENT'.padEnd(13)} ${'STATUS'.padEnd(10)} ${'CREATED (UTC)'.padEnd(20)} ${'CONFIG'.padEnd(40)} ERROR`);
  for (const d of infos) {
    const created = new Date(Number(d.createTime) * 1000).toISOString().slice(0, 19).replace('T', ' ');
    const error = (d.errorInformation as { code?: string } | undefined)?.code ?? '';
    out(
      `${String(d.deploymentId).padEnd(13)} ${String(d.status).padEnd(10)} ${created.padEnd(20)} ${String(d.deploymentConfigName).padEnd(40)} ${error}`,
    );
  }
  return 0;
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
};

async function catalog(kind: 'app' | 'group' | 'config', args: string[]): Promise<number> {
  try {
    return await catalogCommand(kind, args, endpointOf, out);
  } catch (e) {
    if (e instanceof CatalogUsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
      throw new UsageError((e as Error).message);
    throw e;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    out(HELP.main);
    return command ? 0 : 2;
  }
  if (command === '--version') {
    out((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    return 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    err(`cutover: unknown command '${command}'\n\n${HELP.main}`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (e) {
    if (e instanceof UsageError) err(`cutover ${command}: ${e.message}`);
    else if (e instanceof StateDirBusyError) err(`cutover ${command}: ${busyMessage(e)}`);
    else if (e instanceof InvalidInputError)
      err(
        `cutover ${command}: ${e.exceptionName}: ${e.issues.length > 1 ? `\n  ${e.issues.map((i) => `${i.path || '(input)'}: ${i.message}`).join('\n  ')}` : e.message}`,
      );
    else if (e instanceof ApiError) err(`cutover ${command}: ${e.exceptionName}: ${e.message}`);
    else {
      err(`cutover ${command}: internal error: ${(e as Error).message}`);
      if (process.env.CUTOVER_DEBUG) err((e as Error).stack ?? '');
      return 3;
    }
    return 2;
  }
}
