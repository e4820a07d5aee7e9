/**
 * The agent against a tiny engine and a tiny S3 on 127.0.0.1 speaking the real shapes: the command
 * API's JSON 1.1 (poll → spec → ack → updates → complete, every request asserted), whole
 * deployments on real directories in CodeDeploy's layout, ApplicationStop from the last successful
 * revision, diagnostics with the log tail, heartbeats, an agent killed mid-event reported "failed
 * after restart", and the refusals of DownloadBundle.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent, nextPollDelay } from '../../src/agent/agent.js';
import { DEFAULT_UNPACK_LIMITS } from '../../src/agent/archive.js';
import { scriptBaseEnv } from '../../src/agent/config.js';
import { CommandExecutor } from '../../src/agent/executor.js';
import { Layout } from '../../src/agent/layout.js';
import { memoryLog } from '../../src/agent/log.js';
import { CommandApiError, CommandClient } from '../../src/agent/protocol.js';
import { downloadS3Object } from '../../src/agent/s3.js';
import { parseDeploymentSpec } from '../../src/agent/spec.js';
import { CommandTracker } from '../../src/agent/tracker.js';
import { diagnosticsOf, type HostCommand } from '../../src/platforms/server/agent-protocol.js';
import { fakeEngine, fakeS3, specEnvelope, tempDir, tgz } from './support.js';

let t: ReturnType<typeof tempDir>;
const closers: (() => Promise<void> | void)[] = [];
beforeEach(() => (t = tempDir()));
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  t.cleanup();
});

const GROUP = 'dg-1111';

/** Wait (a bounded while) for what the agent does right after the engine heard from it. */
async function eventually(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  return check();
}
const appspec = (r: string) => `version: 0.0
os: linux
files:
  - source: app
    destination: DEST
hooks:
  ApplicationStop:
    - location: scripts/stop.sh
  BeforeInstall:
    - location: scripts/record.sh
  ApplicationStart:
    - location: scripts/record.sh
  ValidateService:
    - location: scripts/validate.sh
      timeout: 30
# ${r}
`;
function bundle(r: string, dest: string, marks: string, validate = 'exit 0', validateSleep = 0): Buffer {
  return tgz([
    { name: 'appspec.yml', content: appspec(r).replace('DEST', dest) },
    { name: 'app/index.html', content: `<h1>${r}</h1>` },
    { name: 'scripts/stop.sh', mode: 0o755, content: `#!/bin/sh\necho "stop ${r}" >> ${marks}\n` },
    {
      name: 'scripts/record.sh',
      mode: 0o755,
      content: `#!/bin/sh\necho "$LIFECYCLE_EVENT ${r} $DEPLOYMENT_ID $DEPLOYMENT_GROUP_NAME $BUNDLE_KEY" >> ${marks}\n`,
    },
    {
      name: 'scripts/validate.sh',
      mode: 0o755,
      content: `#!/bin/sh\necho "validating ${r}"\nsleep ${validateSleep}\n${validate}\n`,
    },
  ]);
}

const EVENTS = [
  'ApplicationStop',
  'DownloadBundle',
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'ApplicationStart',
  'ValidateService',
];

/** An engine that hands this host one command at a time, and records what it is told. */
async function engine(specs: Record<string, ReturnType<typeof specEnvelope>>) {
  const queue: HostCommand[] = [];
  let busy: string | undefined;
  const completes: { id: string; status: string; diagnostics: ReturnType<typeof diagnosticsOf> }[] = [];
  const waiters: (() => void)[] = [];
  let ackStatus: (id: string) => string = () => 'InProgress';
  const e = await fakeEngine((op, body) => {
    switch (op) {
      case 'PollHostCommand': {
        if (busy || queue.length === 0) return { body: { NextPollInSeconds: 0.2 } };
        const c = queue.shift()!;
        if (c.HostIdentifier === 'host-1') busy = c.HostCommandIdentifier;
        return { body: { HostCommand: c, NextPollInSeconds: 0.2 } };
      }
      case 'GetDeploymentSpecification':
        return {
          body: {
            DeploymentSystem: 'CodeDeploy',
            DeploymentSpecification: { GenericEnvelope: specs[String(body.DeploymentExecutionId)] },
          },
        };
      case 'PutHostCommandAcknowledgement': {
        const status = ackStatus(String(body.HostCommandIdentifier));
        if (status === 'Succeeded' || status === 'Failed') busy = undefined;
        return { body: { CommandStatus: status } };
      }
      case 'PostHostCommandUpdate':
        return { body: {} };
      case 'PutHostCommandComplete': {
        const id = String(body.HostCommandIdentifier);
        if (busy === id) busy = undefined;
        completes.push({
          id,
          status: String(body.CommandStatus),
          diagnostics: diagnosticsOf(body.Diagnostics as { Format: string; Payload: string }),
        });
        for (const w of waiters.splice(0)) w();
        return { body: {} };
      }
      default:
        return { status: 400, body: { __type: 'UnknownOperationException', message: op } };
    }
  });
  closers.push(e.close);
  return {
    ...e,
    completes,
    send(...commands: HostCommand[]) {
      queue.push(...commands);
    },
    setAck(f: (id: string) => string) {
      ackStatus = f;
    },
    async until(n: number) {
      for (let i = 0; i < 600 && completes.length < n; i++)
        await new Promise<void>((r) => (waiters.push(r), setTimeout(r, 100)));
      if (completes.length < n) throw new Error(`only ${completes.length} completions: ${JSON.stringify(completes)}`);
    },
  };
}

const command = (deployment: string, name: string, n: number): HostCommand => ({
  HostCommandIdentifier: `hc-${deployment}-${n}-${name}`,
  HostIdentifier: 'host-1',
  DeploymentExecutionId: `${GROUP}/${deployment}/exec/1`,
  CommandName: name,
  Nonce: n,
});

function startAgent(root: string, engineUrl: string, s3Url: string, patch: { heartbeatSeconds?: number } = {}) {
  const layout = new Layout(root);
  const log = memoryLog();
  const agent = new Agent({
    hostId: 'host-1',
    client: new CommandClient({ endpoint: engineUrl, sign: 'auto' }),
    executor: new CommandExecutor({
      layout,
      log,
      maxRevisions: 5,
      s3: {
        region: 'us-east-1',
        endpoint: s3Url,
        maxBytes: 10 * 1024 * 1024,
        timeoutMs: 30_000,
        idleTimeoutMs: 10_000,
        retryDelayMs: 0,
      },
      unpack: DEFAULT_UNPACK_LIMITS,
      baseEnv: scriptBaseEnv({ PATH: process.env.PATH }, false),
      uid: process.getuid?.() ?? 0,
      cwd: t.dir,
      killGraceMs: 500,
    }),
    tracker: new CommandTracker(layout),
    log,
    pollSeconds: 0.2,
    heartbeatSeconds: patch.heartbeatSeconds ?? 20,
    maxConcurrent: 4,
    backoff: () => 0.2,
    completeRetryMs: 10,
  });
  const abort = new AbortController();
  const done = agent.run(abort.signal);
  const stop = async () => {
    abort.abort();
    await done;
  };
  closers.push(stop);
  return { agent, log, stop, layout };
}

describe('the agent against an engine speaking the command API', () => {
  it('deploys two revisions in CodeDeploy layout; every request in the exact shapes; diagnostics with the log tail', async () => {
    const dest = join(t.dir, 'srv');
    const marks = join(t.dir, 'marks.txt');
    const s3 = await fakeS3({
      'bundles/web/r1.tgz': bundle('r1', dest, marks, 'exit 0', 2.5),
      'bundles/web/r2.tgz': bundle('r2', dest, marks, 'echo "r2 answers 503" >&2; exit 1'),
    });
    closers.push(s3.close);
    const s3rev = (key: string, etag?: string) => ({
      RevisionType: 'S3',
      S3Revision: { Bucket: 'bundles', Key: key, BundleType: 'tgz', ...(etag ? { ETag: etag } : {}) },
    });
    const eng = await engine({
      [`${GROUP}/d-R1AAAAAAA/exec/1`]: specEnvelope(
        { DeploymentId: 'd-R1AAAAAAA', DeploymentGroupId: GROUP },
        s3rev('web/r1.tgz'),
      ),
      [`${GROUP}/d-R2AAAAAAA/exec/1`]: specEnvelope(
        { DeploymentId: 'd-R2AAAAAAA', DeploymentGroupId: GROUP },
        s3rev('web/r2.tgz'),
      ),
    });
    const root = join(t.dir, 'root');
    startAgent(root, eng.url, s3.url, { heartbeatSeconds: 1 });

    eng.send(...EVENTS.map((e, i) => command('d-R1AAAAAAA', e, i)));
    await eng.until(EVENTS.length);
    expect(eng.completes.map((c) => [c.id.split('-').at(-1), c.status])).toEqual(EVENTS.map((e) => [e, 'Succeeded']));

    // The first command's conversation, request by request.
    const first = command('d-R1AAAAAAA', 'ApplicationStop', 0);
    const convo = eng.received.filter(
      (r) =>
        r.body.HostCommandIdentifier === first.HostCommandIdentifier ||
        r.body.DeploymentExecutionId === first.DeploymentExecutionId,
    );
    expect(convo.slice(0, 3).map((r) => [r.target, r.body])).toEqual([
      [
        'CodeDeployCommandService_v20141006.GetDeploymentSpecification',
        { DeploymentExecutionId: first.DeploymentExecutionId, HostIdentifier: 'host-1' },
      ],
      [
        'CodeDeployCommandService_v20141006.PutHostCommandAcknowledgement',
        {
          HostCommandIdentifier: first.HostCommandIdentifier,
          Diagnostics: { Format: 'JSON', Payload: '{"IsCommandNoop":true}' },
        },
      ],
      [
        'CodeDeployCommandService_v20141006.PutHostCommandComplete',
        {
          HostCommandIdentifier: first.HostCommandIdentifier,
          CommandStatus: 'Succeeded',
          Diagnostics: {
            Format: 'JSON',
            Payload: JSON.stringify({ error_code: 0, script_name: '', message: 'Succeeded', log: '' }),
          },
        },
      ],
    ]);
    const poll = eng.received.find((r) => r.operation === 'PollHostCommand')!;
    expect(poll.body).toEqual({ HostIdentifier: 'host-1' });
    expect(poll.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(poll.headers.authorization).toBeUndefined(); // loopback: not signed
    // DownloadBundle is never a no-op; the first ApplicationStop is (nothing installed yet).
    const acks = eng.received.filter((r) => r.operation === 'PutHostCommandAcknowledgement');
    expect(acks.map((a) => JSON.parse((a.body.Diagnostics as { Payload: string }).Payload).IsCommandNoop)).toEqual([
      true,
      false,
      false,
      false,
      true,
      false,
      false,
    ]);
    // Heartbeats while ValidateService's script ran.
    const validate = command('d-R1AAAAAAA', 'ValidateService', 6).HostCommandIdentifier;
    const updates = eng.received.filter((r) => r.operation === 'PostHostCommandUpdate');
    expect(updates.length).toBeGreaterThan(0);
    expect(updates[0]!.body).toMatchObject({
      HostCommandIdentifier: validate,
      EstimatedCompletionTime: expect.any(Number),
    });
    expect(JSON.parse((updates[0]!.body.Diagnostics as { Payload: string }).Payload)).toMatchObject({
      error_code: 0,
      script_name: 'scripts/validate.sh',
      message: 'InProgress: ValidateService running scripts/validate.sh',
    });
    expect(eng.completes.at(-1)!.diagnostics).toMatchObject({
      errorCode: 'Success',
      logTail: expect.stringContaining('[stdout]validating r1'),
    });

    // CodeDeploy's layout.
    const dir = join(root, GROUP, 'd-R1AAAAAAA');
    expect(readdirSync(dir).sort()).toEqual(['bundle.tar', 'deployment-archive', 'logs']);
    expect(readFileSync(join(dir, 'logs/scripts.log'), 'utf8')).toContain('[stdout]validating r1');
    expect(readFileSync(join(root, 'deployment-instructions', `${GROUP}_last_successful_install`), 'utf8')).toBe(dir);
    expect(readFileSync(join(root, 'deployment-instructions', `${GROUP}_most_recent_install`), 'utf8')).toBe(dir);
    expect(existsSync(join(root, 'deployment-instructions', `${GROUP}-cleanup`))).toBe(true);
    expect(existsSync(join(root, 'deployment-instructions', `${GROUP}-install.json`))).toBe(true);
    expect(await eventually(() => readdirSync(join(root, 'ongoing-deployment')).length === 0)).toBe(true);
    expect(existsSync(join(root, 'deployment-logs/codedeploy-agent-deployments.log'))).toBe(true);
    expect(readFileSync(join(dest, 'index.html'), 'utf8')).toBe('<h1>r1</h1>');
    expect(s3.requests.map((r) => r.url)).toEqual(['/bundles/web/r1.tgz']);

    // Revision 2: ApplicationStop runs r1's script; Install replaces r1's files (DISALLOW is fine:
    // they were r1's); ValidateService fails with its code, message and output.
    eng.send(...EVENTS.map((e, i) => command('d-R2AAAAAAA', e, i)));
    await eng.until(2 * EVENTS.length);
    expect(readFileSync(marks, 'utf8').split('\n').filter(Boolean)).toEqual([
      'BeforeInstall r1 d-R1AAAAAAA web-prod web/r1.tgz',
      'ApplicationStart r1 d-R1AAAAAAA web-prod web/r1.tgz',
      'stop r1',
      'BeforeInstall r2 d-R2AAAAAAA web-prod web/r2.tgz',
      'ApplicationStart r2 d-R2AAAAAAA web-prod web/r2.tgz',
    ]);
    expect(readFileSync(join(dest, 'index.html'), 'utf8')).toBe('<h1>r2</h1>');
    const failed = eng.completes.at(-1)!;
    expect(failed.status).toBe('Failed');
    expect(failed.diagnostics).toEqual({
      errorCode: 'ScriptFailed',
      agentErrorCode: 4,
      scriptName: 'scripts/validate.sh',
      message: 'Script at specified location: scripts/validate.sh failed with exit code 1',
      logTail: expect.stringMatching(/^LifecycleEvent - ValidateService\nScript - scripts\/validate.sh\n/),
    });
    expect(failed.diagnostics!.logTail).toContain('[stdout]validating r2\n');
    expect(failed.diagnostics!.logTail).toContain('[stderr]r2 answers 503\n');
    expect(readFileSync(join(root, 'deployment-instructions', `${GROUP}_last_successful_install`), 'utf8')).toBe(
      join(root, GROUP, 'd-R2AAAAAAA'),
    );
  });

  it('an agent killed in the middle of an event: at its next start the event is reported Failed, failed after restart (7), also when sent again', async () => {
    const root = join(t.dir, 'root');
    const pidFile = join(t.dir, 'script.pid');
    const deployment = 'd-KILLEDAAA';
    const archive = join(t.dir, 'rev');
    mkdirSync(join(archive, 'scripts'), { recursive: true });
    writeFileSync(
      join(archive, 'appspec.yml'),
      'version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - location: scripts/long.sh\n      timeout: 600\n',
    );
    writeFileSync(join(archive, 'scripts/long.sh'), `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 120\n`, {
      mode: 0o755,
    });
    const eng = await engine({
      [`${GROUP}/${deployment}/exec/1`]: specEnvelope(
        { DeploymentId: deployment, DeploymentGroupId: GROUP },
        { RevisionType: 'Local Directory', LocalRevision: { Location: archive, BundleType: 'directory' } },
      ),
    });
    const crashed = command(deployment, 'ApplicationStart', 5);
    eng.send(command(deployment, 'DownloadBundle', 1));
    // A real agent process, killed (SIGKILL) while ApplicationStart's script runs.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/agent/main.ts',
        '--endpoint',
        eng.url,
        '--host-id',
        'host-1',
        '--root',
        root,
        '--poll-seconds',
        '0.2',
      ],
      { stdio: 'ignore', env: { PATH: process.env.PATH } },
    );
    closers.push(() => {
      child.kill('SIGKILL');
      if (existsSync(pidFile))
        try {
          process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
        } catch {
          // gone
        }
    });
    await eng.until(1);
    eng.send(crashed);
    for (let i = 0; i < 300 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(pidFile)).toBe(true);
    expect(readFileSync(join(root, 'ongoing-deployment', deployment), 'utf8')).toBe(crashed.HostCommandIdentifier);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(eng.completes).toHaveLength(1);

    // The next agent on this root reports it at once, before anything else…
    const before = eng.received.length;
    startAgent(root, eng.url, 'http://127.0.0.1:1');
    await eng.until(2);
    expect(eng.received[before]!.operation).toBe('PutHostCommandComplete');
    expect(eng.completes[1]).toEqual({
      id: crashed.HostCommandIdentifier,
      status: 'Failed',
      diagnostics: {
        errorCode: 'UnknownError',
        agentErrorCode: 7,
        scriptName: '',
        message: 'Failed: Failing in-progress lifecycle event after an agent restart.',
        logTail: '',
      },
    });
    expect(await eventually(() => readdirSync(join(root, 'ongoing-deployment')).length === 0)).toBe(true);
    // …and if the engine sends that command again, it fails the same way without running it.
    eng.send(crashed);
    await eng.until(3);
    expect(eng.completes[2]).toMatchObject({
      id: crashed.HostCommandIdentifier,
      status: 'Failed',
      diagnostics: { agentErrorCode: 7 },
    });
    expect(eng.received.slice(before).filter((r) => r.operation === 'GetDeploymentSpecification')).toEqual([]);
  });

  it("`cutover agent`, a real process: its own AWS credentials never reach the scripts' environment", async () => {
    const root = join(t.dir, 'root');
    const deployment = 'd-ENVAAAAAA';
    const archive = join(t.dir, 'rev');
    const dump = join(t.dir, 'env.txt');
    mkdirSync(join(archive, 'scripts'), { recursive: true });
    writeFileSync(
      join(archive, 'appspec.yml'),
      'version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: scripts/env.sh\n',
    );
    writeFileSync(join(archive, 'scripts/env.sh'), `#!/bin/sh\nenv > ${dump}\n`, { mode: 0o755 });
    const eng = await engine({
      [`${GROUP}/${deployment}/exec/1`]: specEnvelope(
        { DeploymentId: deployment, DeploymentGroupId: GROUP },
        { RevisionType: 'Local Directory', LocalRevision: { Location: archive, BundleType: 'directory' } },
      ),
    });
    eng.send(command(deployment, 'DownloadBundle', 1), command(deployment, 'AfterInstall', 2));
    const child = spawn(process.execPath, ['bin/cutover.js', 'agent'], {
      stdio: 'ignore',
      env: {
        PATH: process.env.PATH,
        AWS_ACCESS_KEY_ID: 'AKIAAGENTONLY0000000',
        AWS_SECRET_ACCESS_KEY: 'agent-secret-never-in-scripts',
        AWS_SESSION_TOKEN: 'agent-session-token',
        AWS_REGION: 'eu-west-1',
        CUTOVER_AGENT_ENDPOINT: eng.url,
        CUTOVER_AGENT_HOST_ID: 'host-1',
        CUTOVER_AGENT_ROOT: root,
        CUTOVER_AGENT_POLL_SECONDS: '0.2',
      },
    });
    closers.push(() => void child.kill('SIGKILL'));
    await eng.until(2);
    expect(eng.completes.map((c) => c.status)).toEqual(['Succeeded', 'Succeeded']);
    const env = readFileSync(dump, 'utf8');
    expect(env).toContain('LIFECYCLE_EVENT=AfterInstall\n');
    expect(env).toContain(`DEPLOYMENT_ID=${deployment}\n`);
    expect(env).toContain('DEPLOYMENT_GROUP_ID=dg-1111\n');
    expect(env).toContain('AWS_REGION=eu-west-1\n');
    for (const secret of [
      'AKIAAGENTONLY0000000',
      'agent-secret-never-in-scripts',
      'agent-session-token',
      'CUTOVER_AGENT_',
    ])
      expect(env).not.toContain(secret);
    // SIGTERM: the agent stops polling and exits 0.
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.once('exit', (code) => r(code)))).toBe(0);
  });

  it('an acknowledgement answering Succeeded or Failed: not run (a Failed no-op is completed Succeeded)', async () => {
    const eng = await engine({
      [`${GROUP}/d-ACKAAAAAA/exec/1`]: specEnvelope({ DeploymentId: 'd-ACKAAAAAA', DeploymentGroupId: GROUP }),
    });
    eng.setAck((id) => (id.endsWith('ApplicationStop') ? 'Failed' : 'Succeeded'));
    startAgent(join(t.dir, 'root'), eng.url, 'http://127.0.0.1:1');
    eng.send(command('d-ACKAAAAAA', 'ApplicationStop', 0));
    await eng.until(1);
    expect(eng.completes[0]).toMatchObject({
      status: 'Succeeded',
      diagnostics: { message: 'Succeeded: CompletedNoopCommand' },
    });
    eng.send(command('d-ACKAAAAAA', 'DownloadBundle', 1), command('d-ACKAAAAAA', 'ApplicationStop', 2));
    await eng.until(2);
    // DownloadBundle (acknowledged as Succeeded already) was skipped: no download was tried.
    expect(eng.completes.map((c) => c.id.split('-').at(-1))).toEqual(['ApplicationStop', 'ApplicationStop']);
  });

  it('a command for another host is ignored; a spec that cannot be read fails the command (UnknownError, 5)', async () => {
    const eng = await engine({ [`${GROUP}/d-BADSPECAA/exec/1`]: { Format: 'PKCS7/JSON', Payload: 'signed-by-aws' } });
    const { log } = startAgent(join(t.dir, 'root'), eng.url, 'http://127.0.0.1:1');
    eng.send({ ...command('d-BADSPECAA', 'Install', 0), HostIdentifier: 'host-2' });
    eng.send(command('d-BADSPECAA', 'Install', 1));
    await eng.until(1);
    expect(eng.completes).toEqual([
      {
        id: command('d-BADSPECAA', 'Install', 1).HostCommandIdentifier,
        status: 'Failed',
        diagnostics: expect.objectContaining({
          agentErrorCode: 5,
          message:
            'The deployment specification is PKCS7/JSON, signed by AWS CodeDeploy: this agent works with a Cutover engine, which sends TEXT/JSON',
        }),
      },
    ]);
    expect(log.lines.some((l) => l.includes('Host Identifier mismatch: host-1 != host-2'))).toBe(true);
  });
});

describe('the command client', () => {
  it('signs with SigV4 for execute-api when asked, and maps JSON 1.1 errors', async () => {
    const eng = await fakeEngine((op) =>
      op === 'PutHostCommandComplete'
        ? {
            status: 400,
            body: { __type: 'com.amazon.codedeploy#InvalidHostCommandIdentifierException', message: 'no such command' },
          }
        : op === 'PostHostCommandUpdate'
          ? { status: 503, body: { __type: 'ServiceUnavailable', message: 'try later' } }
          : { body: {} },
    );
    closers.push(eng.close);
    const client = new CommandClient({
      endpoint: eng.url,
      sign: 'always',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
    });
    expect(await client.pollHostCommand({ HostIdentifier: 'host-1' })).toEqual({});
    const auth = String(eng.received[0]!.headers.authorization);
    expect(auth).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=\S+, Signature=[0-9a-f]{64}$/,
    );
    const signed = /SignedHeaders=([^,]+)/.exec(auth)![1]!.split(';');
    expect(signed).toEqual(expect.arrayContaining(['content-type', 'host', 'x-amz-date', 'x-amz-target']));
    const refused = await client
      .putHostCommandComplete({ HostCommandIdentifier: 'x', CommandStatus: 'Succeeded' })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CommandApiError);
    expect(refused).toMatchObject({ type: 'InvalidHostCommandIdentifierException', status: 400, retryable: false });
    const unavailable = await client.postHostCommandUpdate({ HostCommandIdentifier: 'x' }).catch((e: unknown) => e);
    expect(unavailable).toMatchObject({ type: 'ServiceUnavailable', retryable: true });
    const gone = await new CommandClient({ endpoint: 'http://127.0.0.1:1', sign: 'never' })
      .pollHostCommand({ HostIdentifier: 'h' })
      .catch((e: unknown) => e);
    expect(gone).toMatchObject({ type: 'EndpointUnreachable', retryable: true });
  });

  it('the next poll: the engine says when (bounded), else the configured interval', () => {
    expect(nextPollDelay({ NextPollInSeconds: 5 }, 10)).toBe(5);
    expect(nextPollDelay({ NextPollInSeconds: 0 }, 10)).toBe(0.2);
    expect(nextPollDelay({ NextPollInSeconds: 86_400 }, 10)).toBe(300);
    expect(nextPollDelay({}, 10)).toBe(10);
    expect(nextPollDelay({ NextPollInSeconds: 'soon' }, 10)).toBe(10);
  });
});

describe('DownloadBundle', () => {
  const spec = (key: string, extra: Record<string, unknown> = {}, id = 'd-DLAAAAAAA') =>
    parseDeploymentSpec(
      specEnvelope(
        { DeploymentId: id, DeploymentGroupId: GROUP },
        { RevisionType: 'S3', S3Revision: { Bucket: 'bundles', Key: key, BundleType: 'tgz', ...extra } },
      ),
    );
  async function executor(objects: Record<string, Buffer>, maxRevisions = 2) {
    const s3 = await fakeS3(objects);
    closers.push(s3.close);
    const layout = new Layout(join(t.dir, 'root'));
    return {
      layout,
      s3,
      x: new CommandExecutor({
        layout,
        log: memoryLog(),
        maxRevisions,
        s3: {
          region: 'us-east-1',
          endpoint: s3.url,
          maxBytes: 1024 * 1024,
          timeoutMs: 10_000,
          idleTimeoutMs: 5_000,
          retries: 1,
          retryDelayMs: 0,
        },
        unpack: { maxBytes: 64 * 1024, maxEntries: 100 },
        baseEnv: {},
        uid: 0,
        cwd: t.dir,
        killGraceMs: 500,
      }),
    };
  }
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected a failure');
      },
      (e: Error) => e.message,
    );

  it('checks the ETag (quotes aside) and the size; refuses a bundle with entries outside it or too large unpacked', async () => {
    const good = tgz({ 'appspec.yml': 'version: 0.0\nos: linux\n' });
    const { x } = await executor({
      'bundles/good.tgz': good,
      'bundles/evil.tgz': tgz({ 'appspec.yml': 'x', '../../../etc/cron.d/evil': '* * * * * root sh' }),
      'bundles/bomb.tgz': tgz([{ name: 'zeros', content: Buffer.alloc(200 * 1024) }]),
    });
    await x.execute('DownloadBundle', spec('good.tgz', { ETag: createHash('md5').update(good).digest('hex') }));
    expect(await failure(x.execute('DownloadBundle', spec('good.tgz', { ETag: 'abc' })))).toMatch(
      /^Expected deployment artifact bundle etag abc but was actually "[0-9a-f]{32}"$/,
    );
    expect(await failure(x.execute('DownloadBundle', spec('good.tgz', { Size: good.length + 1 })))).toBe(
      `the revision s3://bundles/good.tgz is ${good.length} bytes, not the ${good.length + 1} the deployment says`,
    );
    expect(await failure(x.execute('DownloadBundle', spec('evil.tgz')))).toBe(
      'The revision was refused: the bundle entry "../../../etc/cron.d/evil" points outside the archive (it contains ..)',
    );
    expect(await failure(x.execute('DownloadBundle', spec('bomb.tgz')))).toBe(
      'The revision was refused: the bundle unpacks to more than 64 KiB (the limit; see --max-unpacked-mb)',
    );
    expect(await failure(x.execute('DownloadBundle', spec('missing.tgz')))).toBe(
      'S3 refused GetObject for s3://bundles/missing.tgz: HTTP 404 NoSuchKey: The specified key does not exist.',
    );
  }, 30_000);

  it('bounded: an object over the size limit, a truncated download, content that does not match its ETag', async () => {
    const data = tgz([
      { name: 'appspec.yml', content: 'version: 0.0\nos: linux\n' },
      { name: 'noise.bin', content: randomBytes(4096) },
    ]);
    const file = join(t.dir, 'bundle.tar');
    const s3 = await fakeS3({ 'b/big': data, 'b/cut': data, 'b/lying': data }, (key) =>
      key === 'b/cut' ? { truncate: 100 } : key === 'b/lying' ? { etag: '"0123456789abcdef0123456789abcdef"' } : {},
    );
    closers.push(s3.close);
    const opts = {
      region: 'us-east-1',
      endpoint: s3.url,
      timeoutMs: 10_000,
      idleTimeoutMs: 5_000,
      retries: 0,
      retryDelayMs: 0,
    };
    expect(await failure(downloadS3Object({ bucket: 'b', key: 'big' }, file, { ...opts, maxBytes: 1000 }))).toBe(
      `the revision s3://b/big is ${Math.round((data.length / 1024) * 10) / 10} KiB, more than the 1000 bytes this agent accepts (--max-bundle-mb)`,
    );
    expect(await failure(downloadS3Object({ bucket: 'b', key: 'cut' }, file, { ...opts, maxBytes: 1 << 20 }))).toMatch(
      /^the download of s3:\/\/b\/cut broke off after 100 of its \d+ bytes/,
    );
    expect(await failure(downloadS3Object({ bucket: 'b', key: 'lying' }, file, { ...opts, maxBytes: 1 << 20 }))).toBe(
      'the download of s3://b/lying does not match its ETag 0123456789abcdef0123456789abcdef (corrupted in transit)',
    );
    expect(existsSync(file)).toBe(false);
    // Signed for s3 when credentials are given; the version is asked for.
    await downloadS3Object({ bucket: 'b', key: 'big', version: 'v7' }, file, {
      ...opts,
      maxBytes: 1 << 20,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    });
    const last = s3.requests.at(-1)!;
    expect(last.url).toBe('/b/big?versionId=v7');
    expect(String(last.headers.authorization)).toMatch(/Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/s3\/aws4_request/);
    expect(last.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
  });

  it('max_revisions: keeps this one and the newest others, never the last successful install', async () => {
    const good = tgz({ 'appspec.yml': 'version: 0.0\nos: linux\n' });
    const { x, layout } = await executor({ 'bundles/good.tgz': good }, 3);
    const dirOf = (id: string) => layout.deploymentDir(GROUP, id);
    const ids = ['d-1AAAAAAAA', 'd-2AAAAAAAA', 'd-3AAAAAAAA', 'd-4AAAAAAAA'];
    // d-1 installed (the last successful); d-2 and d-3 downloaded only.
    await x.execute('DownloadBundle', spec('good.tgz', {}, ids[0]));
    await x.execute('Install', spec('good.tgz', {}, ids[0]));
    await x.execute('DownloadBundle', spec('good.tgz', {}, ids[1]));
    await x.execute('DownloadBundle', spec('good.tgz', {}, ids[2]));
    ids.slice(0, 3).forEach((id, i) => utimesSync(dirOf(id), new Date(2024, 0, i + 1), new Date(2024, 0, i + 1)));
    await x.execute('DownloadBundle', spec('good.tgz', {}, ids[3]));
    // Over the limit of 3: the oldest goes, but d-1 (the oldest) is the last successful install.
    expect(readdirSync(layout.groupDir(GROUP)).sort()).toEqual([ids[0], ids[2], ids[3]]);
  });
});
