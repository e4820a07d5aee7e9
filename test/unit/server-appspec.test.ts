/**
 * The Server AppSpec, read as CodeDeploy's agent reads it: every problem at once with its path, the
 * YAML 1.1 readings (an unquoted mode: 0644 is octal 420) applied and said, other platforms named.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/domain/errors.js';
import {
  AGENT_COMMANDS,
  appSpecCandidates,
  checkRange,
  parseAce,
  parseServerAppSpec,
  revisionForEvent,
  symbolic,
} from '../../src/platforms/server/appspec.js';

const issuesOf = (text: string) => {
  try {
    parseServerAppSpec(text);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    expect((e as InvalidInputError).exceptionName).toBe('InvalidRevisionException');
    return Object.fromEntries((e as InvalidInputError).issues.map((i) => [i.path, i.message]));
  }
  throw new Error('expected the AppSpec to be refused');
};

const FULL = `version: 0.0
os: linux
files:
  - source: /app
    destination: /srv/myapp/
  - source: config/app.conf
    destination: /etc/myapp
file_exists_behavior: OVERWRITE
permissions:
  - object: /srv/myapp
    pattern: "*.sh"
    except: [skip.sh]
    owner: app
    group: app
    mode: 755
    acls:
      - u:bob:rw
      - d:g:dev:5
    context:
      name: system_u
      type: httpd_sys_content_t
      range: s0-s1:c0.c3,c5
    type:
      - file
hooks:
  ApplicationStop:
    - location: scripts/stop.sh
      timeout: 120
  BeforeInstall:
    - location: /scripts/prepare.sh
  AfterInstall:
    - location: scripts/configure.sh
      timeout: "300"
      runas: app
  ApplicationStart:
    - location: scripts/start.sh
      sudo: true
  ValidateService:
    - location: scripts/health.sh
      timeout: 180
`;

describe('parseServerAppSpec', () => {
  it('reads every section of a full AppSpec, normalised', () => {
    const { spec, warnings } = parseServerAppSpec(FULL);
    expect(warnings).toEqual([]);
    expect(spec).toEqual({
      version: 0,
      os: 'linux',
      files: [
        { source: 'app', destination: '/srv/myapp' },
        { source: 'config/app.conf', destination: '/etc/myapp' },
      ],
      permissions: [
        {
          object: '/srv/myapp',
          pattern: '*.sh',
          except: ['skip.sh'],
          type: ['file'],
          owner: 'app',
          group: 'app',
          mode: '755',
          acls: ['user:bob:rw-', 'default:group:dev:r-x'],
          context: { type: 'httpd_sys_content_t', user: 'system_u', range: 's0-s1:c0.c3,c5' },
        },
      ],
      hooks: {
        ApplicationStop: [{ location: 'scripts/stop.sh', timeout: 120 }],
        BeforeInstall: [{ location: 'scripts/prepare.sh', timeout: 3600 }],
        AfterInstall: [{ location: 'scripts/configure.sh', timeout: 300, runas: 'app' }],
        ApplicationStart: [{ location: 'scripts/start.sh', timeout: 3600, sudo: true }],
        ValidateService: [{ location: 'scripts/health.sh', timeout: 180 }],
      },
      fileExistsBehavior: 'OVERWRITE',
    });
  });

  it('reads JSON the same way', () => {
    const { spec } = parseServerAppSpec(
      JSON.stringify({
        version: 0.0,
        os: 'linux',
        files: [{ source: '/', destination: '/srv/app' }],
        permissions: [{ object: '/srv/app', mode: '0644', type: ['file'] }],
        hooks: { ValidateService: [{ location: 'check.sh', timeout: 30 }] },
      }),
    );
    expect(spec.files).toEqual([{ source: '', destination: '/srv/app' }]);
    expect(spec.permissions[0]).toMatchObject({ mode: '0644', pattern: '**', except: [] });
    expect(spec.hooks.ValidateService).toEqual([{ location: 'check.sh', timeout: 30 }]);
  });

  it('defaults: no files, permissions or hooks; types file and directory; pattern **', () => {
    expect(parseServerAppSpec('version: 0.0\nos: linux\n')).toEqual({
      spec: { version: 0, os: 'linux', files: [], permissions: [], hooks: {} },
      warnings: [],
    });
    const { spec } = parseServerAppSpec('version: 0.0\nos: linux\npermissions:\n  - object: /srv\n    owner: app\n');
    expect(spec.permissions[0]).toEqual({
      object: '/srv',
      pattern: '**',
      except: [],
      type: ['file', 'directory'],
      owner: 'app',
    });
  });

  it('reports every problem at once, each with its path', () => {
    expect(
      issuesOf(`version: 1
os: Linux
files:
  - source: ../outside
    destination: srv/app
  - destination: /srv
permissions:
  - object: relative
    pattern: "a/*"
    mode: 8
    acls: ["u::rw", "x:bob:rw", "u:bob:rwz"]
    context: {range: s1-s0}
    type: [file, socket]
hooks:
  ValidateService:
    - location: check.sh
      timeout: 4000
    - location: check2.sh
      timeout: 0
    - timeout: 10
  AfterInstall:
    - location: x.sh
      runas: "bad user"
      sudo: "yes please"
file_exists_behavior: SOMETIMES
`),
    ).toEqual({
      version: 'must be 0.0, got 1 (the only AppSpec version CodeDeploy knows)',
      os: 'must be written linux (lower case), got "Linux"',
      'files[0].source': '"../outside" points outside the bundle',
      'files[0].destination': 'must be an absolute path such as /srv/app, got "srv/app"',
      'files[1].source': 'required (a path in the bundle; / is all of it)',
      'permissions[0].object': 'must be an absolute path such as /srv/app, got "relative"',
      'permissions[0].pattern':
        '"a/*" contains /: patterns match the names of the object\'s immediate children (only ** reaches deeper)',
      'permissions[0].mode':
        '8 is not a mode: it contains 8, which is not an octal digit (modes are 1 to 4 octal digits, e.g. 644 or "0755")',
      'permissions[0].acls[0]': 'ACL entry "u::rw" sets a base entry: use mode for the owner, group and others',
      'permissions[0].acls[1]': 'invalid ACL entry "x:bob:rw" (expected [d:][u|g|m|o]:[name]:rwx)',
      'permissions[0].acls[2]': 'ACL entry "u:bob:rwz" contains "z", which is not r, w, x or -',
      'permissions[0].context.type': 'required (an SELinux type such as httpd_sys_content_t)',
      'permissions[0].context.range': 'invalid SELinux range "s1-s0": the high sensitivity is below the low one',
      'permissions[0].type[1]': 'must be file or directory, got "socket"',
      'hooks.ValidateService[0].timeout': 'must be a whole number of seconds from 1 to 3600, got 4000',
      'hooks.ValidateService[1].timeout': 'must be a whole number of seconds from 1 to 3600, got 0',
      'hooks.ValidateService[2].location': 'required (the script path in the bundle)',
      'hooks.AfterInstall[0].runas': '"bad user" is not a user name',
      'hooks.AfterInstall[0].sudo': 'must be true or false, got "yes please"',
      file_exists_behavior: 'must be DISALLOW, OVERWRITE or RETAIN, got "SOMETIMES"',
    });
  });

  it('names the events that take no scripts, and wrong or mis-cased event names', () => {
    expect(
      issuesOf(`version: 0.0
os: linux
hooks:
  DownloadBundle: [{location: a.sh}]
  Install: [{location: a.sh}]
  BlockTraffic: [{location: a.sh}]
  AllowTraffic: [{location: a.sh}]
  afterInstall: [{location: a.sh}]
  AfterDeploy: [{location: a.sh}]
`),
    ).toEqual({
      'hooks.DownloadBundle': 'DownloadBundle is run by the agent itself and takes no scripts',
      'hooks.Install': 'Install is run by the agent itself and takes no scripts',
      'hooks.BlockTraffic': 'BlockTraffic is done by the engine (the load balancer) and takes no scripts',
      'hooks.AllowTraffic': 'AllowTraffic is done by the engine (the load balancer) and takes no scripts',
      'hooks.afterInstall': 'lifecycle event names are case-sensitive: write AfterInstall',
      'hooks.AfterDeploy':
        'unknown lifecycle event; Server hooks are BeforeBlockTraffic, AfterBlockTraffic, ApplicationStop, BeforeInstall, AfterInstall, ApplicationStart, ValidateService, BeforeAllowTraffic and AfterAllowTraffic',
    });
  });

  it('an unquoted mode: 0644 is read as CodeDeploy reads it (octal 420, so mode 420), with a warning saying so', () => {
    const { spec, warnings } = parseServerAppSpec(
      'version: 0.0\nos: linux\npermissions:\n  - object: /srv/app\n    mode: 0644\n',
    );
    expect(spec.permissions[0]!.mode).toBe('420');
    expect(warnings).toEqual([
      {
        path: 'permissions[0].mode',
        message:
          '0644 is read as the YAML 1.1 octal number 420, and CodeDeploy\'s agent applies mode 420 (r---w----); Cutover does the same. Quote it ("0644") or write 644 for rw-r--r--',
      },
    ]);
  });

  it('an unquoted mode: 0755 reads as 493, which is no mode: refused as CodeDeploy refuses it, saying why', () => {
    expect(issuesOf('version: 0.0\nos: linux\npermissions:\n  - object: /srv\n    mode: 0755\n')).toEqual({
      'permissions[0].mode':
        '0755 is read as the YAML 1.1 octal number 493, and 493 contains 9, which is not an octal digit (CodeDeploy\'s agent fails the same way); quote it ("0755") or write 755',
    });
  });

  it('quoted modes and modes without a leading zero are read as written; 4 digits are the special bits', () => {
    const modes = (m: string) =>
      parseServerAppSpec(`version: 0.0\nos: linux\npermissions:\n  - object: /srv\n    mode: ${m}\n`).spec
        .permissions[0]!.mode;
    expect(modes('"0644"')).toBe('0644');
    expect(modes('644')).toBe('644');
    expect(modes('"4755"')).toBe('4755');
    expect(modes('7')).toBe('007');
    expect(issuesOf('version: 0.0\nos: linux\npermissions:\n  - object: /srv\n    mode: "12345"\n')).toEqual({
      'permissions[0].mode':
        '"12345" is not a mode: it has more than 4 digits (modes are 1 to 4 octal digits, e.g. 644 or "0755")',
    });
  });

  it('other YAML 1.1 readings are warned about where they land: an octal timeout, a base-60 number, yes as true', () => {
    const { spec, warnings } = parseServerAppSpec(`version: 0.0
os: linux
hooks:
  ApplicationStart:
    - location: start.sh
      timeout: 0300
    - location: other.sh
      timeout: 1:30
`);
    expect(spec.hooks.ApplicationStart!.map((s) => s.timeout)).toEqual([192, 90]);
    expect(warnings).toEqual([
      {
        path: 'hooks.ApplicationStart[0].timeout',
        message:
          "0300 was read as the YAML 1.1 octal number 192 (as CodeDeploy's agent reads it); if you meant 300, write it without the leading zero",
      },
      {
        path: 'hooks.ApplicationStart[1].timeout',
        message:
          "1:30 was read as the YAML 1.1 base-60 number 90 (as CodeDeploy's agent reads it); quote it if you meant the text",
      },
    ]);
    expect(
      issuesOf('version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: a.sh\n      runas: yes\n'),
    ).toEqual({
      'hooks.AfterInstall[0].runas': 'must be a string (a user name), got yes, which YAML 1.1 reads as true; quote it',
    });
  });

  it('a Lambda or ECS AppSpec is refused naming its platform', () => {
    const lambda = `version: 0.0
Resources:
  - myFunction:
      Type: AWS::Lambda::Function
      Properties: {Name: checkout, Alias: live, CurrentVersion: "1", TargetVersion: "2"}
Hooks:
  - BeforeAllowTraffic: preTraffic
`;
    const ecs = `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: "arn:aws:ecs:us-east-1:111111111111:task-definition/web:2"
        LoadBalancerInfo: {ContainerName: web, ContainerPort: 80}
`;
    expect(issuesOf(lambda)).toEqual({
      '': 'this is a Lambda AppSpec (Resources with an AWS::Lambda::Function), but the deployment group deploys to Server (EC2/on-premises): a Server AppSpec has version, os, files and hooks',
    });
    expect(issuesOf(ecs)).toEqual({
      '': 'this is an ECS AppSpec (Resources with an AWS::ECS::Service), but the deployment group deploys to Server (EC2/on-premises): a Server AppSpec has version, os, files and hooks',
    });
    expect(
      issuesOf('version: 0.0\nResources:\n  - TargetService:\n      Properties: {TaskDefinition: x}\n')[''],
    ).toMatch(/^this is an ECS AppSpec \(Resources with a TargetService/);
  });

  it('keys are lower case (a capitalised key is an error, not silently ignored); unknown keys are warnings', () => {
    const text = 'version: 0.0\nos: linux\nHooks:\n  AfterInstall: []\n';
    expect(issuesOf(text)).toEqual({
      Hooks: "Server AppSpec keys are lower case: write hooks (CodeDeploy's agent would ignore Hooks)",
    });
    const { warnings } = parseServerAppSpec(
      'version: 0.0\nos: linux\nextra: 1\nfiles:\n  - source: a\n    destination: /b\n    overwrite: true\n',
    );
    expect(warnings).toEqual([
      { path: 'extra', message: 'not a Server AppSpec key; ignored' },
      { path: 'files[0].overwrite', message: 'not one of source, destination; ignored' },
    ]);
  });

  it('a Lambda-style list of hooks is explained; a hook with no scripts is no scripts; timeouts over an hour are warned', () => {
    expect(issuesOf('version: 0.0\nos: linux\nhooks:\n  - AfterInstall: x\n')).toEqual({
      hooks:
        'must be a mapping of lifecycle events to scripts, e.g. "AfterInstall:\\n  - location: scripts/configure.sh" (a list of events is the Lambda and ECS form)',
    });
    expect(parseServerAppSpec('version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n').spec.hooks).toEqual({
      AfterInstall: [],
    });
    const { warnings } = parseServerAppSpec(
      'version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: a.sh\n      timeout: 3000\n    - location: b.sh\n      timeout: 3000\n',
    );
    expect(warnings).toEqual([
      {
        path: 'hooks.AfterInstall',
        message: "the timeouts of AfterInstall's scripts add up to 6000 s, more than the 3600 s an event may take",
      },
    ]);
  });

  it('os: windows is read (Windows paths); permissions and runas are Linux-only', () => {
    const { spec } = parseServerAppSpec(
      'version: 0.0\nos: windows\nfiles:\n  - source: \\app\n    destination: C:\\inetpub\\app\nhooks:\n  AfterInstall:\n    - location: scripts\\setup.ps1\n',
    );
    expect(spec).toMatchObject({
      os: 'windows',
      files: [{ source: 'app', destination: 'C:\\inetpub\\app' }],
      hooks: { AfterInstall: [{ location: 'scripts/setup.ps1', timeout: 3600 }] },
    });
    expect(
      issuesOf(
        'version: 0.0\nos: windows\npermissions:\n  - object: C:\\app\nhooks:\n  AfterInstall:\n    - location: a.ps1\n      runas: bob\n',
      ),
    ).toEqual({
      permissions: 'permissions are supported for os: linux only (CodeDeploy refuses them on Windows)',
      'hooks.AfterInstall[0].runas': 'runas is supported for os: linux only',
    });
  });

  it('refuses empty, malformed, oversized and non-mapping documents', () => {
    expect(issuesOf('')).toEqual({ '': 'AppSpec is empty' });
    expect(issuesOf('version: 0.0\nos: [linux\n')['']).toMatch(/^AppSpec is not valid YAML/);
    expect(issuesOf('{"version": 0.0,')['']).toMatch(/^AppSpec is not valid JSON/);
    expect(issuesOf('- just\n- a list\n')).toEqual({ '': 'must be a mapping with version, os, files and hooks' });
    expect(issuesOf('version: 0.0\nversion: 0.0\nos: linux\n')['']).toMatch(/^AppSpec is not valid YAML/);
    expect(issuesOf(`version: 0.0\nos: linux\n# ${'x'.repeat(70_000)}\n`)).toEqual({
      '': 'AppSpec is larger than 65536 bytes',
    });
  });
});

describe('Server AppSpec helpers', () => {
  it('ACL entries as the agent reads them', () => {
    expect(parseAce('u:bob:rw')).toEqual({ entry: 'user:bob:rw-' });
    expect(parseAce('group:dev:7')).toEqual({ entry: 'group:dev:rwx' });
    expect(parseAce('m::r')).toEqual({ entry: 'mask::r--' });
    expect(parseAce('d:u::rwx')).toEqual({ entry: 'default:user::rwx' });
    expect(parseAce('default:o::-')).toEqual({ entry: 'default:other::---' });
    expect(parseAce('bob:rw')).toEqual({ entry: 'user:bob:rw-' });
    expect(parseAce('d:d:u:bob:r')).toMatchObject({ error: expect.stringMatching(/invalid ACL entry/) });
    expect(parseAce('o:bob:r')).toMatchObject({ error: expect.stringMatching(/invalid ACL entry/) });
  });

  it('SELinux ranges as the agent checks them', () => {
    expect(checkRange('s0')).toBeUndefined();
    expect(checkRange('s0-s15:c0.c1023')).toBeUndefined();
    expect(checkRange('s0:c1,c3.c5')).toBeUndefined();
    expect(checkRange('s0:c1,c1')).toMatch(/duplicate categories/);
    expect(checkRange('s0:c1024')).toMatch(/c0 … c1023/);
    expect(checkRange('x0')).toMatch(/sensitivities/);
    expect(checkRange('s0:')).toMatch(/empty part/);
  });

  it('which revision each event runs from; what the agent is asked to run; AppSpec names; modes as text', () => {
    expect(revisionForEvent('ApplicationStop')).toBe('lastSuccessful');
    expect(revisionForEvent('BeforeBlockTraffic')).toBe('lastSuccessful');
    expect(revisionForEvent('AfterBlockTraffic')).toBe('lastSuccessful');
    expect(revisionForEvent('BeforeInstall')).toBe('current');
    expect(revisionForEvent('AfterAllowTraffic')).toBe('current');
    const bgRollback = { creator: 'codeDeployRollback', type: 'BLUE_GREEN' };
    expect(revisionForEvent('BeforeBlockTraffic', bgRollback)).toBe('mostRecent');
    expect(revisionForEvent('BeforeAllowTraffic', bgRollback)).toBe('lastSuccessful');
    expect(AGENT_COMMANDS).toEqual([
      'BeforeBlockTraffic',
      'AfterBlockTraffic',
      'ApplicationStop',
      'DownloadBundle',
      'BeforeInstall',
      'Install',
      'AfterInstall',
      'ApplicationStart',
      'ValidateService',
      'BeforeAllowTraffic',
      'AfterAllowTraffic',
    ]);
    expect(appSpecCandidates()).toEqual(['appspec.yaml', 'appspec.yml']);
    expect(appSpecCandidates('custom.yml')).toEqual(['custom.yml', 'appspec.yaml', 'appspec.yml']);
    expect(symbolic('644')).toBe('rw-r--r--');
    expect(symbolic('4755')).toBe('rwxr-xr-x');
  });
});
