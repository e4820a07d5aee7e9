/**
 * Hook scripts on real processes: CodeDeploy's error codes (missing 1, not executable 2, timed out 3,
 * failed 4, outputs left open 6), the process group stopped at the deadline, runas, the log, and
 * the environment (CodeDeploy's variables; never the agent's credentials unless configured).
 * Timeouts are real but short; assertions are on outcomes and codes, never on elapsed time.
 */
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scriptBaseEnv } from '../../src/agent/config.js';
import { ScriptError } from '../../src/agent/diagnostics.js';
import { EventLog, runScripts, type RunContext } from '../../src/agent/scripts.js';
import type { ServerScript } from '../../src/platforms/server/appspec.js';
import { tempDir, writeTree } from './support.js';

let t: ReturnType<typeof tempDir>;
let log: EventLog;
beforeEach(() => {
  t = tempDir();
  log = new EventLog(join(t.dir, 'deployment/logs/scripts.log'), 'd-AAAAAAAAA', join(t.dir, 'deployment-logs/all.log'));
});
afterEach(() => {
  log.close();
  t.cleanup();
});

const archive = () => join(t.dir, 'archive');
const ctx = (patch: Partial<RunContext> = {}): RunContext => ({
  archiveDir: archive(),
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  log,
  uid: process.getuid?.() ?? 0,
  cwd: t.dir,
  killGraceMs: 1000,
  ...patch,
});

async function failure(event: string, scripts: ServerScript[], c = ctx()): Promise<ScriptError> {
  try {
    await runScripts(event, scripts, c);
  } catch (e) {
    expect(e).toBeInstanceOf(ScriptError);
    return e as ScriptError;
  }
  throw new Error('expected the event to fail');
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function eventually(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

describe('runScripts', () => {
  it('runs the scripts in order; logs [stdout]/[stderr] lines with the time to scripts.log and the deployments log', async () => {
    writeTree(archive(), {
      'scripts/one.sh!': '#!/bin/sh\necho "one out"\necho "one err" >&2\n',
      'scripts/two.sh!': '#!/bin/sh\nprintf "no newline at the end"\n',
    });
    await runScripts(
      'AfterInstall',
      [
        { location: 'scripts/one.sh', timeout: 30 },
        { location: 'scripts/two.sh', timeout: 30 },
      ],
      ctx(),
    );
    const text = readFileSync(join(t.dir, 'deployment/logs/scripts.log'), 'utf8');
    const lines = text.trimEnd().split('\n');
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /);
    expect(lines.map((l) => l.slice(20))).toEqual([
      'LifecycleEvent - AfterInstall',
      'Script - scripts/one.sh',
      ...(lines[2]!.includes('[stdout]')
        ? ['[stdout]one out', '[stderr]one err']
        : ['[stderr]one err', '[stdout]one out']),
      'Script - scripts/two.sh',
      '[stdout]no newline at the end',
    ]);
    expect(readFileSync(join(t.dir, 'deployment-logs/all.log'), 'utf8')).toContain('[d-AAAAAAAAA][stdout]one out');
    expect(log.tail.text()).toContain('[stdout]no newline at the end\n');
  });

  it('a script still running at its timeout: ScriptTimedOut (3), and its whole process group is stopped', async () => {
    writeTree(archive(), {
      'slow.sh!': `#!/bin/sh\nsleep 60 &\necho $! > ${join(t.dir, 'child.pid')}\necho started\nwait\n`,
    });
    const e = await failure('ApplicationStart', [{ location: 'slow.sh', timeout: 1 }]);
    expect(e.code).toBe(3);
    expect(e.message).toBe('Script at specified location: slow.sh failed to complete in 1 seconds');
    expect(e.scriptName).toBe('slow.sh');
    expect(e.log).toContain('[stdout]started');
    const child = Number(readFileSync(join(t.dir, 'child.pid'), 'utf8'));
    expect(await eventually(() => !alive(child))).toBe(true);
  });

  it('a script that traps SIGTERM is killed (SIGKILL after the grace)', async () => {
    writeTree(archive(), { 'stubborn.sh!': "#!/bin/sh\ntrap '' TERM\nwhile true; do sleep 1; done\n" });
    const e = await failure('ApplicationStart', [{ location: 'stubborn.sh', timeout: 1 }], ctx({ killGraceMs: 200 }));
    expect(e.code).toBe(3);
  });

  it('a script that exits but leaves a child holding stdout: OutputsLeftOpen (6), and the child is stopped', async () => {
    writeTree(archive(), {
      'daemon.sh!': `#!/bin/sh\nsleep 60 &\necho $! > ${join(t.dir, 'child.pid')}\necho "started the daemon"\nexit 0\n`,
    });
    const e = await failure('ApplicationStart', [{ location: 'daemon.sh', timeout: 2 }]);
    expect(e.code).toBe(6);
    expect(e.message).toBe('Script at specified location: daemon.sh failed to close STDOUT');
    expect(e.log).toContain('[stdout]started the daemon');
    const child = Number(readFileSync(join(t.dir, 'child.pid'), 'utf8'));
    expect(await eventually(() => !alive(child))).toBe(true);
  });

  it('a daemon started with its output redirected is fine (the documented fix)', async () => {
    writeTree(archive(), {
      'daemon.sh!': `#!/bin/sh\nsleep 60 > /dev/null 2>&1 < /dev/null &\necho $! > ${join(t.dir, 'child.pid')}\nexit 0\n`,
    });
    await runScripts('ApplicationStart', [{ location: 'daemon.sh', timeout: 5 }], ctx());
    process.kill(Number(readFileSync(join(t.dir, 'child.pid'), 'utf8')), 'SIGKILL');
  });

  it('a non-zero exit: ScriptFailed (4) with the exit code and the log tail', async () => {
    writeTree(archive(), { 'check.sh!': '#!/bin/sh\necho "health check: 503" >&2\nexit 3\n' });
    const e = await failure('ValidateService', [{ location: 'check.sh', timeout: 10 }]);
    expect(e.code).toBe(4);
    expect(e.message).toBe('Script at specified location: check.sh failed with exit code 3');
    expect(e.log).toBe('LifecycleEvent - ValidateService\nScript - check.sh\n[stderr]health check: 503\n');
  });

  it('a missing script: ScriptMissing (1) with its absolute path; later scripts do not run', async () => {
    writeTree(archive(), { 'after.sh!': `#!/bin/sh\ntouch ${join(t.dir, 'ran')}\n` });
    const e = await failure('BeforeInstall', [
      { location: 'scripts/nope.sh', timeout: 10 },
      { location: 'after.sh', timeout: 10 },
    ]);
    expect(e.code).toBe(1);
    expect(e.message).toBe(`Script does not exist at specified location: ${join(archive(), 'scripts/nope.sh')}`);
    expect(existsSync(join(t.dir, 'ran'))).toBe(false);
  });

  it('a script without its x bit is made executable and runs; when that fails: ScriptNotExecutable (2)', async () => {
    writeTree(archive(), { 'plain.sh': '#!/bin/sh\necho ok\n' });
    chmodSync(join(archive(), 'plain.sh'), 0o644);
    await runScripts('AfterInstall', [{ location: 'plain.sh', timeout: 10 }], ctx());
    chmodSync(join(archive(), 'plain.sh'), 0o644);
    const e = await failure(
      'AfterInstall',
      [{ location: 'plain.sh', timeout: 10 }],
      ctx({
        chmod: () => {
          throw Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' });
        },
      }),
    );
    expect(e.code).toBe(2);
    expect(e.message).toBe('Unable to set script at specified location: plain.sh as executable');
  });

  it('runas when the agent is not root: refused with a clear error, nothing run', async () => {
    writeTree(archive(), { 'as-app.sh!': `#!/bin/sh\ntouch ${join(t.dir, 'ran')}\n` });
    const e = await failure('AfterInstall', [{ location: 'as-app.sh', timeout: 10, runas: 'app' }], ctx({ uid: 1000 }));
    expect(e.code).toBe(4);
    expect(e.message).toBe(
      'Script at specified location: as-app.sh run as user app cannot run: runas needs the agent to run as root (su), and it runs as uid 1000. Run the agent as root, or remove runas',
    );
    expect(existsSync(join(t.dir, 'ran'))).toBe(false);
  });

  it.runIf(process.getuid?.() === 0)('runas as root goes through su <user> -c', async () => {
    writeTree(archive(), { 'who.sh!': `#!/bin/sh\nid -un\necho "$DEPLOYMENT_ID"\n` });
    await runScripts(
      'AfterInstall',
      [{ location: 'who.sh', timeout: 30, runas: 'root' }],
      ctx({ env: { ...ctx().env, DEPLOYMENT_ID: 'd-X' } }),
    );
    expect(log.tail.text()).toContain('[stdout]root\n');
  });

  it("scripts get CodeDeploy's variables and never the agent's credentials (unless configured)", async () => {
    writeTree(archive(), { 'env.sh!': '#!/bin/sh\nenv | sort\n' });
    const agentEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: '/root',
      AWS_ACCESS_KEY_ID: 'AKIAAGENTSOWNKEY',
      AWS_SECRET_ACCESS_KEY: 'agent-secret',
      AWS_SESSION_TOKEN: 'agent-token',
      AWS_PROFILE: 'agent',
      AWS_REGION: 'eu-west-1',
      CUTOVER_AGENT_ENDPOINT: 'http://127.0.0.1:4980',
    };
    const codeDeploy = { LIFECYCLE_EVENT: 'AfterInstall', DEPLOYMENT_ID: 'd-AAAAAAAAA' };
    await runScripts(
      'AfterInstall',
      [{ location: 'env.sh', timeout: 10 }],
      ctx({ env: { ...scriptBaseEnv(agentEnv, false), ...codeDeploy } }),
    );
    const out = log.tail.text();
    expect(out).toContain('[stdout]LIFECYCLE_EVENT=AfterInstall\n');
    expect(out).toContain('[stdout]DEPLOYMENT_ID=d-AAAAAAAAA\n');
    expect(out).toContain('[stdout]AWS_REGION=eu-west-1\n');
    expect(out).toContain('[stdout]HOME=/root\n');
    for (const secret of ['AKIAAGENTSOWNKEY', 'agent-secret', 'agent-token', 'AWS_PROFILE', 'CUTOVER_AGENT_ENDPOINT'])
      expect(out).not.toContain(secret);
    const passed = scriptBaseEnv(agentEnv, true);
    expect(passed.AWS_ACCESS_KEY_ID).toBe('AKIAAGENTSOWNKEY');
    expect(passed.AWS_SESSION_TOKEN).toBe('agent-token');
  });
});
