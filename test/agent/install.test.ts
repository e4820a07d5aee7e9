/**
 * Install on real directories: files copied as CodeDeploy copies them, permissions only on what
 * this Install created (pattern, except, type), file_exists_behavior, and the cleanup file that
 * removes the previous Install's files first.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Installer, fullAcl, systemTools, type HostTools } from '../../src/agent/install.js';
import { Layout } from '../../src/agent/layout.js';
import { memoryLog } from '../../src/agent/log.js';
import { parseServerAppSpec, type FileExistsBehavior } from '../../src/platforms/server/appspec.js';
import { tempDir, writeTree } from './support.js';

let t: ReturnType<typeof tempDir>;
let layout: Layout;
let dest: string;
let log: ReturnType<typeof memoryLog>;
beforeEach(() => {
  t = tempDir();
  layout = new Layout(join(t.dir, 'root'));
  dest = join(t.dir, 'srv');
  log = memoryLog();
});
afterEach(() => t.cleanup());

const isRoot = process.getuid?.() === 0;

/** A revision directory (its deployment-archive) with these files. */
function revision(name: string, tree: Record<string, string>): string {
  const dir = join(t.dir, 'revisions', name);
  writeTree(dir, tree);
  return dir;
}

function install(
  archive: string,
  appspec: string,
  behavior: FileExistsBehavior = 'DISALLOW',
  tools: HostTools = systemTools,
) {
  const { spec } = parseServerAppSpec(appspec.replaceAll('$DEST', dest));
  return new Installer(layout, log, tools).install('dg-1', archive, spec, behavior);
}

const cleanupLines = () => readFileSync(layout.cleanupFile('dg-1'), 'utf8').split('\n').filter(Boolean);

describe('Install: files', () => {
  it('a directory source copies its contents; a file source lands in destination/<name>; ancestors are made', () => {
    const r1 = revision('r1', {
      'appspec.yml': 'version: 0.0',
      'app/index.html': 'r1',
      'app/css/site.css': 'body{}',
      'bin/run!': '#!/bin/sh\n',
      'config/app.conf': 'x=1',
    });
    utimesSync(join(r1, 'app/index.html'), new Date('2024-05-01T00:00:00Z'), new Date('2024-05-01T00:00:00Z'));
    symlinkSync('index.html', join(r1, 'app/home.html'));
    install(
      r1,
      `version: 0.0
os: linux
files:
  - source: /app
    destination: $DEST/www
  - source: bin
    destination: $DEST/www/bin
  - source: config/app.conf
    destination: $DEST/etc/app
`,
    );
    expect(readFileSync(join(dest, 'www/index.html'), 'utf8')).toBe('r1');
    expect(readFileSync(join(dest, 'www/css/site.css'), 'utf8')).toBe('body{}');
    expect(readFileSync(join(dest, 'etc/app/app.conf'), 'utf8')).toBe('x=1');
    expect(statSync(join(dest, 'www/bin/run')).mode & 0o777).toBe(0o755);
    expect(statSync(join(dest, 'www/index.html')).mtime.toISOString()).toBe('2024-05-01T00:00:00.000Z');
    expect(readlinkSync(join(dest, 'www/home.html'))).toBe('index.html');
    // The cleanup file lists what was created, in creation order; install.json holds the plan.
    expect(cleanupLines()).toEqual([
      dest,
      join(dest, 'www'),
      join(dest, 'www/css'),
      join(dest, 'www/css/site.css'),
      join(dest, 'www/home.html'),
      join(dest, 'www/index.html'),
      join(dest, 'www/bin'),
      join(dest, 'www/bin/run'),
      join(dest, 'etc'),
      join(dest, 'etc/app'),
      join(dest, 'etc/app/app.conf'),
    ]);
    const plan = JSON.parse(readFileSync(layout.installFile('dg-1'), 'utf8')) as { instructions: { type: string }[] };
    expect(plan.instructions.filter((i) => i.type === 'copy')).toHaveLength(5);
  });

  it('two sources for one destination fail before anything is copied', () => {
    const r1 = revision('r1', { 'a/x.txt': '1', 'b/x.txt': '2' });
    expect(() =>
      install(
        r1,
        'version: 0.0\nos: linux\nfiles:\n  - source: a\n    destination: $DEST\n  - source: b\n    destination: $DEST\n',
      ),
    ).toThrow(/specifies two source files named .*b\/x.txt and .*a\/x.txt for the same destination/);
    expect(existsSync(join(dest, 'x.txt'))).toBe(false);
  });

  it('a source missing from the revision is named', () => {
    const r1 = revision('r1', { 'a.txt': '1' });
    expect(() => install(r1, 'version: 0.0\nos: linux\nfiles:\n  - source: nope\n    destination: $DEST\n')).toThrow(
      'The deployment failed because the files section of the AppSpec file names nope, which is not in the revision',
    );
  });
});

describe('Install: file_exists_behavior', () => {
  const SPEC = 'version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: $DEST\n';
  beforeEach(() => {
    mkdirSync(dest, { recursive: true });
    writeFileSync(join(dest, 'index.html'), 'put there by hand');
  });

  it('DISALLOW (the default): a file that exists fails the Install, and nothing is copied', () => {
    const r1 = revision('r1', { 'app/index.html': 'r1', 'app/new.html': 'new' });
    expect(() => install(r1, SPEC, 'DISALLOW')).toThrow(
      `The deployment failed because a specified file already exists at this location: ${join(dest, 'index.html')}`,
    );
    expect(readFileSync(join(dest, 'index.html'), 'utf8')).toBe('put there by hand');
    expect(existsSync(join(dest, 'new.html'))).toBe(false);
  });

  it('OVERWRITE: copied over, and recorded for the next cleanup', () => {
    const r1 = revision('r1', { 'app/index.html': 'r1' });
    install(r1, SPEC, 'OVERWRITE');
    expect(readFileSync(join(dest, 'index.html'), 'utf8')).toBe('r1');
    expect(cleanupLines()).toEqual([join(dest, 'index.html')]);
  });

  it('RETAIN: kept as it is, not recorded (and the next cleanup leaves it)', () => {
    const r1 = revision('r1', { 'app/index.html': 'r1', 'app/new.html': 'new' });
    install(r1, SPEC, 'RETAIN');
    expect(readFileSync(join(dest, 'index.html'), 'utf8')).toBe('put there by hand');
    expect(readFileSync(join(dest, 'new.html'), 'utf8')).toBe('new');
    expect(cleanupLines()).toEqual([join(dest, 'new.html')]);
    install(revision('r2', { 'app/other.html': 'r2' }), SPEC, 'RETAIN');
    expect(readFileSync(join(dest, 'index.html'), 'utf8')).toBe('put there by hand');
    expect(existsSync(join(dest, 'new.html'))).toBe(false);
  });

  it("a file the previous Install put there is not 'existing': the cleanup removed it first", () => {
    const r1 = revision('r1', { 'app/page.html': 'r1' });
    install(r1, SPEC, 'RETAIN');
    install(revision('r2', { 'app/page.html': 'r2' }), SPEC, 'DISALLOW');
    expect(readFileSync(join(dest, 'page.html'), 'utf8')).toBe('r2');
  });
});

describe('Install: the cleanup file', () => {
  const SPEC = 'version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: $DEST/www\n';

  it("removes the previous Install's files and directories (last first), keeping a directory with foreign files", () => {
    install(revision('r1', { 'app/a.txt': 'r1', 'app/old/b.txt': 'r1', 'app/logs/x.log': 'r1' }), SPEC);
    writeFileSync(join(dest, 'www/logs/written-by-the-app.log'), 'keep me');
    install(revision('r2', { 'app/a.txt': 'r2', 'app/new/c.txt': 'r2' }), SPEC);
    expect(readFileSync(join(dest, 'www/a.txt'), 'utf8')).toBe('r2');
    expect(existsSync(join(dest, 'www/old'))).toBe(false);
    expect(readFileSync(join(dest, 'www/new/c.txt'), 'utf8')).toBe('r2');
    expect(existsSync(join(dest, 'www/logs/x.log'))).toBe(false);
    expect(readFileSync(join(dest, 'www/logs/written-by-the-app.log'), 'utf8')).toBe('keep me');
    expect(log.lines.some((l) => l.includes(`kept ${join(dest, 'www/logs')}`))).toBe(true);
  });

  it('a last line a crash cut short (no newline) is skipped; paths already gone are fine', () => {
    mkdirSync(layout.instructionsDir, { recursive: true });
    mkdirSync(dest, { recursive: true });
    writeFileSync(join(dest, 'done.txt'), 'x');
    writeFileSync(join(dest, 'done'), 'x');
    writeFileSync(
      layout.cleanupFile('dg-1'),
      `${join(dest, 'gone.txt')}\n${join(dest, 'done.txt')}\n${join(dest, 'done')}`,
    );
    install(revision('r1', { 'app/a.txt': '1' }), SPEC);
    expect(existsSync(join(dest, 'done.txt'))).toBe(false);
    expect(existsSync(join(dest, 'done'))).toBe(true);
  });
});

describe('Install: permissions, only on what this Install created', () => {
  it('pattern and except pick immediate children; ** takes everything below; the object itself and older files are left', () => {
    mkdirSync(join(dest, 'www'), { recursive: true });
    writeFileSync(join(dest, 'www/preexisting.sh'), 'not ours');
    const r1 = revision('r1', {
      'app/run.sh': 'x',
      'app/skip.sh': 'x',
      'app/readme.txt': 'x',
      'app/lib/deep.sh': 'x',
      'app/lib/deep.txt': 'x',
    });
    install(
      r1,
      `version: 0.0
os: linux
files:
  - source: app
    destination: $DEST/www
permissions:
  - object: $DEST/www
    pattern: "*.sh"
    except: [skip.sh]
    mode: 700
    type: [file]
  - object: $DEST/www/lib
    mode: 640
  - object: $DEST/www/readme.txt
    mode: 600
`,
      'RETAIN',
    );
    const mode = (p: string) => (statSync(join(dest, p)).mode & 0o777).toString(8);
    expect(mode('www/run.sh')).toBe('700');
    expect(mode('www/skip.sh')).toBe('644');
    expect(mode('www/preexisting.sh')).toBe('644');
    expect(mode('www/lib/deep.sh')).toBe('640');
    expect(mode('www/lib/deep.txt')).toBe('640');
    expect(mode('www/lib')).toBe('755'); // the object itself is not matched
    expect(mode('www/readme.txt')).toBe('600'); // a file object gets its own permission
    expect(mode('www')).toBe('755'); // existed before: not created by this Install
  });

  it('type: directory reaches only the directories this Install made', () => {
    const r1 = revision('r1', { 'app/a/x.txt': 'x', 'app/b/y.txt': 'y' });
    install(
      r1,
      'version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: $DEST\npermissions:\n  - object: $DEST\n    mode: 711\n    type: [directory]\n',
    );
    expect(statSync(join(dest, 'a')).mode & 0o777).toBe(0o711);
    expect(statSync(join(dest, 'b')).mode & 0o777).toBe(0o711);
    expect(statSync(join(dest, 'a/x.txt')).mode & 0o777).toBe(0o644);
  });

  it('a file object with a pattern, a path given permissions twice, a default ACL on a file: refused', () => {
    const r1 = revision('r1', { 'app/a.sh': 'x' });
    const files = 'version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: $DEST\n';
    expect(() =>
      install(r1, `${files}permissions:\n  - object: $DEST/a.sh\n    pattern: "*.sh"\n    mode: 700\n`),
    ).toThrow(/includes an object \(.*a\.sh\) with an invalid pattern \(\*\.sh\)/);
    expect(() =>
      install(
        revision('r2', { 'app/a.sh': 'x' }),
        `${files}permissions:\n  - object: $DEST\n    mode: 700\n  - object: $DEST\n    mode: 600\n`,
      ),
    ).toThrow(/the permissions setting for \(.*a\.sh\) is specified more than once/);
    expect(() =>
      install(
        revision('r3', { 'app/a.sh': 'x' }),
        `${files}permissions:\n  - object: $DEST/a.sh\n    acls: ["d:u:bob:rw"]\n`,
      ),
    ).toThrow(/-d parameter has been specified to apply an acl setting to a file/);
  });

  it('ACLs (setfacl --set with the base entries from the mode) and SELinux contexts (semanage, restorecon)', () => {
    const calls: string[] = [];
    const tools: HostTools = { ...systemTools, run: (cmd, args) => void calls.push([cmd, ...args].join(' ')) };
    const r1 = revision('r1', { 'app/a.txt': 'x' });
    install(
      r1,
      `version: 0.0
os: linux
files:
  - source: app
    destination: $DEST
permissions:
  - object: $DEST/a.txt
    mode: 640
    acls: [u:bob:rw]
    context: {name: system_u, type: httpd_sys_content_t, range: s0}
`,
      'DISALLOW',
      tools,
    );
    const real = join(dest, 'a.txt');
    expect(calls).toEqual([
      `setfacl --set user:bob:rw-,user::rw-,group::r--,other::---,mask::r-- ${real}`,
      `semanage fcontext -a -s system_u -t httpd_sys_content_t -r s0 ${real}`,
      `restorecon -v ${real}`,
    ]);
    expect(cleanupLines()).toContain(`semanage\0${real}`);
    expect(fullAcl(['default:user:bob:rwx'], 0o750)).toEqual([
      'default:user:bob:rwx',
      'user::rwx',
      'group::r-x',
      'other::---',
      'default:user::rwx',
      'default:group::r-x',
      'default:other::---',
      'default:mask::r-x',
    ]);
  });

  it('a missing setfacl is reported as such', () => {
    const tools: HostTools = {
      ...systemTools,
      run: (cmd) => {
        throw new Error(`${cmd} is not installed on this host`);
      },
    };
    expect(() =>
      install(
        revision('r1', { 'app/a.txt': 'x' }),
        'version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: $DEST\npermissions:\n  - object: $DEST/a.txt\n    acls: [u:bob:r]\n',
        'DISALLOW',
        tools,
      ),
    ).toThrow(/problem with the acls permission settings .* setfacl is not installed on this host/);
  });

  it.runIf(isRoot)('owner and group (as root), by name', () => {
    const r1 = revision('r1', { 'app/a.txt': 'x' });
    install(
      r1,
      'version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: $DEST\npermissions:\n  - object: $DEST\n    owner: daemon\n    group: daemon\n',
    );
    expect(lstatSync(join(dest, 'a.txt')).uid).toBe(systemTools.userId('daemon'));
    expect(lstatSync(join(dest, 'a.txt')).gid).toBe(systemTools.groupId('daemon'));
    expect(() =>
      install(
        revision('r2', { 'app/b.txt': 'x' }),
        'version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: $DEST\npermissions:\n  - object: $DEST\n    owner: no-such-user-here\n',
      ),
    ).toThrow(/the owner no-such-user-here set on .* is not a user on this host/);
  });
});
