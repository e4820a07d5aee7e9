/**
 * What each command does, on real directories, with Local File revisions: the AppSpec the agent
 * reads (its name, its file_exists_behavior over the deployment's, its os), the refusals of
 * revisions and commands it cannot run, and the diagnostics' size.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_UNPACK_LIMITS } from '../../src/agent/archive.js';
import { envelopeOf, ScriptLog } from '../../src/agent/diagnostics.js';
import { CommandExecutor } from '../../src/agent/executor.js';
import { Layout } from '../../src/agent/layout.js';
import { memoryLog } from '../../src/agent/log.js';
import { parseDeploymentSpec, scriptEnvironment } from '../../src/agent/spec.js';
import { MAX_ENVELOPE_PAYLOAD } from '../../src/platforms/server/agent-protocol.js';
import { specEnvelope, tempDir, tgz, type Entry } from './support.js';

let t: ReturnType<typeof tempDir>;
let x: CommandExecutor;
let log: ReturnType<typeof memoryLog>;
beforeEach(() => {
  t = tempDir();
  log = memoryLog();
  x = new CommandExecutor({
    layout: new Layout(join(t.dir, 'root')),
    log,
    maxRevisions: 5,
    s3: { region: 'us-east-1', maxBytes: 1 << 20, timeoutMs: 1000, idleTimeoutMs: 1000 },
    unpack: DEFAULT_UNPACK_LIMITS,
    baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    uid: process.getuid?.() ?? 0,
    cwd: t.dir,
    killGraceMs: 500,
  });
});
afterEach(() => t.cleanup());

let n = 0;
/** A deployment of a bundle written to disk (a Local File revision). */
function deployment(entries: Entry[], patch: Record<string, unknown> = {}) {
  const file = join(t.dir, `bundle-${++n}.tgz`);
  writeFileSync(file, tgz(entries));
  return parseDeploymentSpec(
    specEnvelope(
      { DeploymentId: `d-EXEC${String(n).padStart(5, '0')}`, DeploymentGroupId: 'dg-9', ...patch },
      { RevisionType: 'Local File', LocalRevision: { Location: file, BundleType: 'tgz' } },
    ),
  );
}
const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: Error) => e.message,
  );

describe('CommandExecutor', () => {
  it("the AppSpec's file_exists_behavior wins over the deployment's; the deployment's applies when the AppSpec has none", async () => {
    const dest = join(t.dir, 'srv');
    mkdirSync(dest);
    writeFileSync(join(dest, 'index.html'), 'by hand');
    const files = `files:\n  - source: app\n    destination: ${dest}\n`;
    const overwrite = deployment(
      [
        { name: 'appspec.yml', content: `version: 0.0\nos: linux\n${files}file_exists_behavior: OVERWRITE\n` },
        { name: 'app/index.html', content: 'r1' },
      ],
      { AgentActionOverrides: { AgentOverrides: { FileExistsBehavior: 'DISALLOW' } } },
    );
    await x.execute('DownloadBundle', overwrite);
    await x.execute('Install', overwrite);
    expect(readFileSync(join(dest, 'index.html'), 'utf8')).toBe('r1');

    writeFileSync(join(dest, 'other.html'), 'by hand');
    const retain = deployment(
      [
        { name: 'appspec.yml', content: `version: 0.0\nos: linux\n${files}` },
        { name: 'app/other.html', content: 'r2' },
      ],
      { AgentActionOverrides: { AgentOverrides: { FileExistsBehavior: 'retain' } } },
    );
    await x.execute('DownloadBundle', retain);
    await x.execute('Install', retain);
    expect(readFileSync(join(dest, 'other.html'), 'utf8')).toBe('by hand');
  });

  it('reads AppSpecFilename, else appspec.yaml, else appspec.yml; strips a single top directory holding the AppSpec', async () => {
    const marks = join(t.dir, 'marks');
    const script = { name: 'release/run.sh', mode: 0o755, content: `#!/bin/sh\necho "$LIFECYCLE_EVENT" >> ${marks}\n` };
    const hooks = 'version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - location: run.sh\n';
    const d = deployment(
      [
        { name: 'release/custom-spec.yml', content: hooks },
        { name: 'release/appspec.yml', content: 'version: 0.0\nos: linux\n' },
        script,
      ],
      { AppSpecFilename: 'custom-spec.yml' },
    );
    await x.execute('DownloadBundle', d);
    expect(x.isNoop('ApplicationStart', d)).toBe(false);
    await x.execute('ApplicationStart', d);
    expect(readFileSync(marks, 'utf8')).toBe('ApplicationStart\n');
    expect(log.lines).toContain("info: the revision's files are in its top directory release: that is the bundle root");
  });

  it('an AppSpec missing, invalid, or for os: windows fails the event with the reason', async () => {
    const missing = deployment([{ name: 'readme.txt', content: 'no appspec' }]);
    await x.execute('DownloadBundle', missing);
    expect(await failure(x.execute('Install', missing))).toMatch(
      /^The Cutover agent did not find an AppSpec file within the unpacked revision directory at revision-relative path "appspec.yml"/,
    );
    const invalid = deployment([
      { name: 'appspec.yml', content: 'version: 0.0\nos: linux\nhooks:\n  Install:\n    - location: x\n' },
    ]);
    await x.execute('DownloadBundle', invalid);
    expect(await failure(x.execute('Install', invalid))).toBe(
      'The AppSpec file appspec.yml is invalid: hooks.Install: Install is run by the agent itself and takes no scripts',
    );
    const windows = deployment([{ name: 'appspec.yml', content: 'version: 0.0\nos: windows\n' }]);
    await x.execute('DownloadBundle', windows);
    expect(await failure(x.execute('Install', windows))).toBe(
      `The AppSpec file appspec.yml is for os: windows, and this host runs ${process.platform}: the Cutover agent installs and runs hooks for os: linux only`,
    );
  });

  it('GitHub revisions and unknown commands are refused with the reason', async () => {
    const github = parseDeploymentSpec(
      specEnvelope({}, { RevisionType: 'GitHub', GitHubRevision: { Account: 'a', Repository: 'r', CommitId: 'abc' } }),
    );
    expect(await failure(x.execute('DownloadBundle', github))).toBe(
      'GitHub revisions are not supported by the Cutover agent; deploy the revision from S3',
    );
    expect(scriptEnvironment(github, 'AfterInstall').BUNDLE_COMMIT).toBe('abc');
    expect(await failure(x.execute('Reboot', github))).toBe('Unsupported command type: Reboot.');
    expect(x.isNoop('Reboot', github)).toBe(true);
  });

  it("CodeDeploy's variables for S3 revisions (version and ETag only when given)", () => {
    const spec = parseDeploymentSpec(
      specEnvelope(
        {},
        { RevisionType: 'S3', S3Revision: { Bucket: 'b', Key: 'k.zip', BundleType: 'zip', ETag: 'e1' } },
      ),
    );
    expect(scriptEnvironment(spec, 'ValidateService')).toEqual({
      LIFECYCLE_EVENT: 'ValidateService',
      DEPLOYMENT_ID: 'd-AAAAAAAAA',
      APPLICATION_NAME: 'shop',
      DEPLOYMENT_GROUP_NAME: 'web-prod',
      DEPLOYMENT_GROUP_ID: 'dg-1111',
      BUNDLE_BUCKET: 'b',
      BUNDLE_KEY: 'k.zip',
      BUNDLE_ETAG: 'e1',
    });
    // A deployment ARN gives its id; ids that could climb out of the root are refused.
    expect(
      parseDeploymentSpec(
        specEnvelope({ DeploymentId: 'arn:aws:codedeploy:us-east-1:111111111111:deployment/d-ARNAAAAAA' }),
      ).deploymentId,
    ).toBe('d-ARNAAAAAA');
    expect(() => parseDeploymentSpec(specEnvelope({ DeploymentGroupId: '../etc' }))).toThrow(
      'deployment group id "../etc" cannot be used as a directory name',
    );
  });
});

describe('diagnostics', () => {
  it('the payload stays within the API limit of 8192 characters (the log gives way first)', () => {
    const e = envelopeOf({ error_code: 4, script_name: 's.sh', message: 'm'.repeat(100), log: '"\n'.repeat(5000) });
    expect(e.Payload.length).toBeLessThanOrEqual(MAX_ENVELOPE_PAYLOAD);
    expect(JSON.parse(e.Payload)).toMatchObject({ error_code: 4, script_name: 's.sh', message: 'm'.repeat(100) });
    const huge = envelopeOf({ error_code: 5, script_name: '', message: 'x'.repeat(20_000), log: '' });
    expect(huge.Payload.length).toBeLessThanOrEqual(MAX_ENVELOPE_PAYLOAD);
  });

  it('the log tail keeps the last 4096 characters of the event', () => {
    const tail = new ScriptLog();
    for (let i = 0; i < 1000; i++) tail.append(`[stdout]line ${i}\n`);
    expect(tail.text().length).toBeLessThanOrEqual(4096);
    expect(tail.text().endsWith('[stdout]line 999\n')).toBe(true);
  });
});
