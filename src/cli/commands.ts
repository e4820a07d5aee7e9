/**
 * Every `cutover` command and its options: the parser reads this table and the help is written
 * from it, so the two cannot disagree.
 */
import type { CommandSpec, OptionSpec } from './options.js';

/** The exit codes, the same for every command, locally and through an API. */
export const EXIT = {
  /** The command did what it was asked (a deployment it followed succeeded). */
  ok: 0,
  /** A deployment it created or followed ended Failed or Stopped. */
  deploymentFailed: 1,
  /** Bad usage or input: an option, a file, an API's refusal, a busy state folder or port. */
  usage: 2,
  /** A bug in Cutover (please report it, with CUTOVER_DEBUG=1 for the stack). */
  internal: 3,
  /** The API could not be reached (nothing listens there, a timeout, a gateway that answers 502-504). */
  unreachable: 4,
} as const;

export const EXIT_CODES_HELP = `Exit codes (the same locally and through an API):
  0  success
  1  the deployment failed or was stopped (deploy, status, status --watch)
  2  bad usage or input: an unknown option, a missing or broken file (AppSpec, world file, hook
     module, the state folder's world-state.json), an API's refusal (e.g. DeploymentDoesNotExist),
     a state folder held by another process, a port already in use, local mode's optional
     packages not installed (npm install --include=optional)
  3  internal error (a bug: run again with CUTOVER_DEBUG=1 to see the stack, and report it)
  4  cannot reach the API (--endpoint, $CUTOVER_ENDPOINT or the default http://127.0.0.1:4980)
With --output json (or --json) an error is also printed on stdout as
  {"error": {"code": "...", "message": "...", "exitCode": N, "issues": [{"path", "message"}]}}`;

const STATE_DIR: OptionSpec = { type: 'string', arg: 'DIR', default: '.cutover', help: 'Local state folder' };
const SPEED: OptionSpec = {
  type: 'string',
  arg: 'N',
  default: '60',
  help: 'Time compression (60: a 5-minute bake takes 5 s)',
};
const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'Show this help' };
const OUTPUT: OptionSpec = {
  type: 'string',
  arg: 'json|table',
  default: 'table',
  help: 'json: one JSON document on stdout (errors too); table: for people',
};
const JSON_ALIAS: OptionSpec = { type: 'boolean', help: 'Same as --output json' };
const ENDPOINT: OptionSpec = {
  type: 'string',
  arg: 'URL',
  help: "A Cutover API (default: $CUTOVER_ENDPOINT, else the 'cutover server' holding the state folder)",
};
const API_ENDPOINT: OptionSpec = {
  ...ENDPOINT,
  help: "A Cutover API (default: $CUTOVER_ENDPOINT, the 'cutover server' holding the state folder, or http://127.0.0.1:4980)",
};
const WORLD: OptionSpec = { type: 'string', arg: 'FILE', default: 'cutover.world.yml', help: 'World file' };
const PROGRESS: OptionSpec = {
  type: 'string',
  arg: 'SECONDS',
  default: '30',
  help: 'While nothing else is printed, a progress line this often (wall time)',
};

/** stop, promote, pause, resume, approve, continue. */
function control(name: string, summary: string, about: string, extra: Record<string, OptionSpec> = {}): CommandSpec {
  return {
    name,
    summary,
    usage: ['DEPLOYMENT_ID [options]'],
    about,
    options: { ...extra, output: OUTPUT, endpoint: API_ENDPOINT, 'state-dir': STATE_DIR, help: HELP },
    positionals: 1,
    section: 'api',
  };
}

const CATALOG_COMMON = { output: OUTPUT, endpoint: API_ENDPOINT, 'state-dir': STATE_DIR, help: HELP };

export const COMMAND_SPECS: CommandSpec[] = [
  {
    name: 'demo',
    summary: 'Deploy a healthy and a faulty release in a simulated AWS account and show both outcomes',
    usage: ['[lambda|ecs|server] [options]'],
    about: `lambda (default): two deployments of the 'checkout' function (alias live) in a simulated account
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
temporary state folder of its own, removed at the end, so it never touches .cutover/.`,
    options: {
      speed: SPEED,
      keep: {
        type: 'boolean',
        help: "Keep the temporary state folder (to inspect the deployments with 'cutover status')",
      },
      'state-dir': { ...STATE_DIR, default: undefined, help: 'Run in this state folder instead (kept)' },
      output: { ...OUTPUT, help: 'json: the summary as one JSON document (no live timeline)' },
      progress: PROGRESS,
      help: HELP,
    },
    positionals: 1,
    section: 'local',
  },
  {
    name: 'init',
    summary: 'Write an example world file, AppSpec and hook modules to the current folder',
    usage: ['[lambda|ecs|server] [--force]'],
    about: `lambda (default): writes cutover.world.yml (simulated functions, alarms, hooks, deployment
groups), appspec.yml and hooks/pre-traffic.mjs, hooks/post-traffic.mjs to the current folder.
Then: cutover deploy --application shop --group checkout-prod --appspec appspec.yml
ecs: writes cutover.world.yml (an ECS service behind a load balancer, task definitions, alarms,
a blue/green deployment group), appspec.yml (an ECS AppSpec) and hooks/ecs-check.mjs.
Then: cutover deploy --application shop --group web-prod --appspec appspec.yml
server: writes cutover.world.yml (four local hosts, each run as a real 'cutover agent' process by
'cutover server', a target group, application fleet with group web, HalfAtATime, auto-rollback) and
a bundle layout: bundle/appspec.yml (files to /srv/app, the five script hooks), bundle/app/ (the
files) and bundle/scripts/ (ApplicationStop, BeforeInstall, AfterInstall, ApplicationStart,
ValidateService). Then: cutover server, and upload a tgz of bundle/ (the next steps say how).`,
    options: {
      force: { type: 'boolean', help: 'Overwrite existing files (without it they are kept)' },
      output: { ...OUTPUT, help: 'json: the files written and kept' },
      help: HELP,
    },
    positionals: 1,
    section: 'local',
  },
  {
    name: 'deploy',
    summary: 'Deploy an AppSpec to a deployment group and follow it live',
    usage: ['--application NAME --group NAME --appspec FILE [options]'],
    about: `Creates a deployment (CodeDeploy CreateDeployment semantics) and follows it until it ends: through
the API of --endpoint, $CUTOVER_ENDPOINT or the 'cutover server' holding the state folder, else in
this process in local mode (the simulated world of the world file). Exit 0 succeeded, 1 failed or
stopped.`,
    options: {
      application: { type: 'string', arg: 'NAME', help: 'Application (created from the world file if it defines it)' },
      group: { type: 'string', arg: 'NAME', help: 'Deployment group' },
      appspec: { type: 'string', arg: 'FILE', help: 'AppSpec file (YAML or JSON)' },
      config: {
        type: 'string',
        arg: 'NAME',
        help: 'Deployment configuration: a CodeDeployDefault.* name, a custom one, or a step list such as "10% 5m, 100%" (default: the group\'s)',
      },
      description: { type: 'string', arg: 'TEXT', help: 'Description (max 256 characters)' },
      world: WORLD,
      speed: SPEED,
      'state-dir': STATE_DIR,
      output: { ...OUTPUT, help: 'json: the final deployment as JSON (the shape of status) instead of a timeline' },
      json: JSON_ALIAS,
      endpoint: ENDPOINT,
      progress: PROGRESS,
      help: HELP,
    },
    positionals: 0,
    section: 'local',
  },
  {
    name: 'status',
    summary: "Show a deployment's status, lifecycle events and timeline",
    usage: ['DEPLOYMENT_ID [options]'],
    about: `Shows a deployment: status, error, lifecycle events and timeline, through the API of --endpoint,
$CUTOVER_ENDPOINT or the 'cutover server' holding the state folder, else from the local store (with
the world file, if it exists, a deployment left unfinished by an ended process is first rolled back
from the world and recorded). --watch follows it until it ends. Exit 0 succeeded or in progress,
1 failed or stopped.`,
    options: {
      watch: { type: 'boolean', help: 'Follow the deployment until it ends' },
      output: OUTPUT,
      json: JSON_ALIAS,
      endpoint: ENDPOINT,
      world: WORLD,
      'state-dir': STATE_DIR,
      progress: PROGRESS,
      help: HELP,
    },
    positionals: 1,
    section: 'local',
  },
  {
    name: 'server',
    summary: 'Serve the CodeDeploy-compatible API (JSON 1.1) locally for the AWS CLI and SDKs',
    usage: ['[options]'],
    about: `Serves CodeDeploy's API (AWS JSON 1.1, X-Amz-Target CodeDeploy_20141006.*; Cutover's extras under
Cutover_20261122.*) on 127.0.0.1, backed by local mode: deployments created through it run in this
process against the simulated world. Point the AWS CLI (--endpoint-url) or an SDK client (endpoint,
or AWS_ENDPOINT_URL_CODEDEPLOY) at it. Hook modules in the world file reach it automatically.`,
    options: {
      port: { type: 'string', arg: 'N', default: '4980', help: 'Port (0 picks a free one)' },
      's3-port': {
        type: 'string',
        arg: 'N',
        default: '4981',
        help: 'Port of the local S3 for revision uploads (0 picks a free one)',
      },
      host: {
        type: 'string',
        arg: 'ADDR',
        default: '127.0.0.1',
        help: 'Address; anything but loopback needs --allow-remote',
      },
      'allow-remote': { type: 'boolean', help: 'Allow a non-loopback address (the local API has no authentication)' },
      world: { ...WORLD, help: 'World file (used if it exists)' },
      speed: SPEED,
      'state-dir': STATE_DIR,
      output: { ...OUTPUT, help: 'json: one JSON object a line (started, each request, stopped)' },
      help: HELP,
    },
    notes: `The server holds the state folder: other commands on it (status, list, deploy, stop, …) go through
its API. SIGTERM or Ctrl-C stops every running deployment with rollback (waiting up to 10 s), saves
the world and exits 0 (1 if a deployment could not be stopped in time); a second signal quits at once.
A port already in use exits 2 with the port's option named.`,
    positionals: 0,
    section: 'local',
  },
  {
    name: 'reset',
    summary: "Put the local world back to the world file: drop the state folder's store and world state",
    usage: ['[--yes] [--world FILE] [--state-dir DIR]'],
    about: `Puts the local world back to the world file: deletes the state folder's store (every deployment,
application and deployment group recorded there; the world file's are created again on the next
run), its local S3 uploads and its persisted world (alias, task set and listener positions), also
when world-state.json is damaged. Without --yes it prints what it would drop and exits 2. Refused
(exit 2) while a process holds the folder.`,
    options: {
      yes: { type: 'boolean', help: 'Drop it' },
      world: { ...WORLD, help: 'World file to compare the positions with (used if it exists)' },
      'state-dir': STATE_DIR,
      output: { ...OUTPUT, help: 'json: what is (or would be) dropped' },
      help: HELP,
    },
    positionals: 0,
    section: 'local',
  },
  {
    name: 'agent',
    summary: 'Run the Cutover agent: poll the engine, install revisions, run AppSpec hooks',
    usage: ['[options]   (cutover agent --help lists them)'],
    options: {},
    positionals: 0,
    section: 'host',
  },
  {
    name: 'proxy',
    summary: 'A loopback endpoint that re-signs AWS CLI and SDK CodeDeploy requests for a Cutover API on AWS',
    usage: ['[--endpoint URL] [--port N] [--region R] [--require-signature]   (cutover proxy --help)'],
    options: {},
    positionals: 0,
    section: 'api',
  },
  {
    name: 'app',
    summary: 'Applications: create|get|list|delete',
    usage: ['create|get|list|delete [NAME] [options]'],
    about: 'Applications (CodeDeploy CreateApplication, GetApplication, ListApplications, DeleteApplication).',
    options: {
      platform: { type: 'string', arg: 'Lambda|ECS', default: 'Lambda', help: 'create: the compute platform' },
      ...CATALOG_COMMON,
    },
    positionals: 2,
    section: 'api',
  },
  {
    name: 'group',
    summary: 'Deployment groups: create|update|get|list|delete',
    usage: ['create|update|get|list|delete --application NAME [--group NAME] [options]'],
    about:
      "Deployment groups. create and update take the group options; ECS groups (the application's platform is ECS) the ECS ones.",
    options: {
      application: { type: 'string', arg: 'NAME', help: 'Application' },
      group: { type: 'string', arg: 'NAME', help: 'Deployment group (all actions but list)' },
      config: {
        type: 'string',
        arg: 'NAME',
        help: 'Deployment configuration (default: CodeDeployDefault.LambdaAllAtOnce or ECSAllAtOnce)',
      },
      alarms: { type: 'string', arg: 'A,B', help: 'CloudWatch alarms to watch (enables alarm checks)' },
      'ignore-firing-alarms': {
        type: 'boolean',
        help: 'Baseline mode ignoreAlarmsAlreadyFiring (default failOnAlarmAtStart)',
      },
      'hook-timeout': { type: 'string', arg: 'SECONDS', help: 'Lifecycle hook timeout (default 3600)' },
      'no-auto-rollback': { type: 'boolean', help: 'Leave traffic where it is on failure (default: roll back)' },
      'ecs-service': {
        type: 'string',
        arg: 'CLUSTER/SERVICE',
        help: 'ECS: the service (its deployment controller must be EXTERNAL)',
      },
      'target-groups': { type: 'string', arg: 'BLUE,GREEN', help: 'ECS: the two target groups that take turns' },
      'prod-listener': { type: 'string', arg: 'ARN', help: 'ECS: production listener' },
      'test-listener': { type: 'string', arg: 'ARN', help: 'ECS: test listener (optional)' },
      'ready-wait': {
        type: 'string',
        arg: 'MINUTES',
        help: "ECS: STOP_DEPLOYMENT: wait for 'cutover continue' before production traffic moves",
      },
      'termination-wait': {
        type: 'string',
        arg: 'MINUTES',
        help: 'ECS: keep the original task set this long after success (TERMINATE)',
      },
      'keep-original': { type: 'boolean', help: 'ECS: KEEP_ALIVE: never delete the original task set' },
      ...CATALOG_COMMON,
    },
    positionals: 1,
    section: 'api',
  },
  {
    name: 'config',
    summary: 'Deployment configurations: create|get|list|delete',
    usage: ['create|get|list|delete [NAME] [options]'],
    about: `Deployment configurations: CodeDeploy's TimeBasedCanary / TimeBasedLinear / AllAtOnce, or a
Cutover step list. 'list' includes the predefined CodeDeployDefault.Lambda* and ECS* configurations.
create takes exactly one of --steps, --canary, --linear, --all-at-once.`,
    options: {
      steps: { type: 'string', arg: '"1% 5m, 10% 10m, 100%"', help: 'A Cutover step list' },
      canary: { type: 'string', arg: 'P:MIN', help: 'TimeBasedCanary: P percent, then the rest after MIN minutes' },
      linear: { type: 'string', arg: 'P:MIN', help: 'TimeBasedLinear: P percent more every MIN minutes' },
      'all-at-once': { type: 'boolean', help: 'AllAtOnce' },
      platform: { type: 'string', arg: 'Lambda|ECS', default: 'Lambda', help: 'create: the compute platform' },
      ...CATALOG_COMMON,
    },
    positionals: 2,
    section: 'api',
  },
  {
    name: 'list',
    summary: "List a deployment group's deployments",
    usage: ['--application NAME --group NAME [options]'],
    about: `Lists the group's deployments, newest first (CodeDeploy ListDeployments + BatchGetDeployments),
through the API of --endpoint, $CUTOVER_ENDPOINT or the 'cutover server' holding the state folder,
else from the local store (no server needed).`,
    options: {
      application: { type: 'string', arg: 'NAME', help: 'Application' },
      group: { type: 'string', arg: 'NAME', help: 'Deployment group' },
      status: {
        type: 'string',
        arg: 'STATUS',
        help: 'Only deployments with this status (Succeeded, Failed, Stopped, InProgress, …)',
      },
      output: OUTPUT,
      endpoint: ENDPOINT,
      'state-dir': STATE_DIR,
      help: HELP,
    },
    positionals: 0,
    section: 'api',
  },
  control(
    'stop',
    'Stop a deployment (with rollback unless --no-rollback)',
    `Stops the deployment at once (CodeDeploy StopDeployment). Traffic goes back to CurrentVersion unless
--no-rollback, which leaves it where it is. The deployment ends Stopped (MANUAL_STOP).`,
    { 'no-rollback': { type: 'boolean', help: 'Leave traffic where it is' } },
  ),
  control(
    'promote',
    'Skip the remaining bakes and approvals; go to 100%',
    'Skips the remaining bakes and approvals and goes to 100% now; AfterAllowTraffic still runs.',
  ),
  control(
    'pause',
    'Hold at the current weight',
    'Holds the deployment at its current weight; the bake clock stops until resume.',
  ),
  control('resume', 'Continue a paused deployment', 'Continues a paused deployment with the bake time that was left.'),
  control(
    'approve',
    'Approve the approval step a deployment waits on (also: continue)',
    'Approves the approval step the deployment is waiting on.',
  ),
  control(
    'continue',
    'CodeDeploy ContinueDeployment (ECS ready or termination wait; Lambda approval)',
    `CodeDeploy ContinueDeployment. ECS: READY_WAIT (default) lets a deployment waiting as Ready
(STOP_DEPLOYMENT) move production traffic; TERMINATION_WAIT deletes the original task set now
instead of at the end of the termination wait. Lambda: approves the approval step it waits on.`,
    {
      'wait-type': {
        type: 'string',
        arg: 'READY_WAIT|TERMINATION_WAIT',
        default: 'READY_WAIT',
        help: 'Which wait to end',
      },
    },
  ),
];

export const SPECS: ReadonlyMap<string, CommandSpec> = new Map(COMMAND_SPECS.map((s) => [s.name, s]));

/** `cutover --help`, from the table. */
export function mainHelp(): string {
  const width = Math.max(...COMMAND_SPECS.map((c) => c.name.length));
  const section = (s: CommandSpec['section']) =>
    COMMAND_SPECS.filter((c) => c.section === s).map((c) => `  ${c.name.padEnd(width)}   ${c.summary}`);
  return [
    'cutover — CodeDeploy-compatible deployments for AWS Lambda, ECS and servers, on Step Functions.',
    '',
    'Usage: cutover <command> [options]',
    '',
    'Commands (local mode: no AWS account; time is compressed):',
    ...section('local'),
    '',
    'On an EC2 instance or on-premises server of a Server deployment group:',
    ...section('host'),
    '',
    "One process holds a state folder (.cutover, or --state-dir) at a time. While 'cutover server' holds",
    'it, status, list, deploy and the commands below go through that server; other commands exit 2.',
    '',
    "Commands for a Cutover API ('cutover server' or a deployed one):",
    ...section('api'),
    '',
    'The commands that talk to an API (deploy, status, list and those above) take --endpoint URL, else',
    "$CUTOVER_ENDPOINT, else the 'cutover server' holding the state folder; deploy, status and list work",
    'on the local state folder when none is given. demo, init, server and reset are local only.',
    '',
    "Run 'cutover <command> --help' for a command's options.",
    '',
    EXIT_CODES_HELP,
  ].join('\n');
}
