/**
 * Adversarial inputs for every regular expression literal in src/platforms, src/config, src/api and
 * src/domain (test/security/validators.test.ts checks that none is missing, and bench/validators.ts
 * times them): long runs of the characters each pattern repeats, each ending in a near miss (or a
 * hit), at 64 KiB, the largest AppSpec accepted. Each case says what `test` must answer. A pattern
 * whose matching backtracks (quadratic or worse) shows as seconds in the bench; the tests only
 * check the answers (no timing assertions).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

export const KIB64 = 64 * 1024;

export type Case = [input: string, matches: boolean];

const ACCOUNT = '123456789012';
/**
 * Cases per pattern, keyed by the literal as written in the source; `size` is the length of the
 * runs (at least 1024: every answer below holds from there on).
 */
export const adversarial = (size = KIB64): Record<string, Case[]> => {
  const run = (unit: string, at = size): string => unit.repeat(Math.ceil(at / unit.length));
  return {
    '/^(arn:aws[a-zA-Z-]*:ecs:[a-z0-9-]+:\\d{12}:task-definition\\/)?[A-Za-z0-9_-]{1,255}:[1-9][0-9]*$/': [
      ['web:2', true],
      [`arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/web:12`, true],
      [`arn:aws${run('-')}:ecs:x`, false],
      [`web:${run('1')}!`, false],
      [`${run('a')}:1`, false],
    ],
    '/^(\\/[A-Za-z0-9_.-]+)+$/': [
      ['/cutover/prod/webhook-secrets', true],
      [run('/a'), true],
      [run('/a') + '/', false],
      [run('/a') + '!', false],
      ['/' + run('a') + '//', false],
    ],
    '/^[A-Za-z0-9_-]{1,255}$/': [
      ['web', true],
      [run('a') + '!', false],
    ],
    '/^\\d+$/': [
      ['80', true],
      [run('1') + 'x', false],
    ],
    '/:targetgroup\\/([^/]+)\\//': [
      [`arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/blue/0123`, true],
      [run(':targetgroup/'), true],
      [':targetgroup/' + run('a'), false],
      [run(':targetgroup'), false],
    ],
    '/^[1-9][0-9]{0,9}$/': [
      ['12', true],
      [run('1'), false],
    ],
    '/^(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}$/': [
      ['live', true],
      ['123', false],
      [run('1') + 'a', false],
      [run('a'), false],
    ],
    '/^0+(?=\\d)/': [
      ['0755', true],
      [run('0'), true],
      [run('0x'), false],
    ],
    '/^(true|false)$/i': [
      ['TRUE', true],
      [run('true'), false],
    ],
    '/[^.[\\]]+|\\[\\d+\\]/g': [
      ['a.b[0]', true],
      [run('[0'), true],
      [run('.[]'), false],
    ],
    '/\\\\/g': [
      ['a\\b', true],
      [run('/'), false],
    ],
    '/\\/$/': [
      ['a/', true],
      [run('/') + 'x', false],
    ],
    '/^\\/+/': [
      ['//a', true],
      [run('a/'), false],
    ],
    '/^[A-Za-z]:[\\\\/]|^\\\\\\\\/': [
      ['C:\\app', true],
      ['\\\\server\\share', true],
      [run('C:'), false],
    ],
    '/(?<=.)[\\\\]$/': [
      ['C:\\app\\', true],
      [run('\\') + 'x', false],
    ],
    '/^0+(?=\\d{3})/': [
      ['00644', true],
      [run('0') + 'x', true],
      [run('00x'), false],
    ],
    '/^[A-Za-z0-9._][A-Za-z0-9._-]*\\$?$/': [
      ['deploy', true],
      ['machine$', true],
      [run('a') + '$$', false],
      [run('a-') + ' ', false],
    ],
    '/^\\s*\\d+\\s*$/': [
      [' 30 ', true],
      [run(' ') + 'x', false],
      [run(' 1') + 'x', false],
      [run('1') + ' x', false],
    ],
    '/^[0-7]$/': [
      ['7', true],
      [run('7'), false],
    ],
    '/^(\\d+)\\s*hosts?(?:\\s+(\\S+))?$/i': [
      ['2 hosts', true],
      ['1 host fast', true],
      [run('1') + 'x', false],
      ['1 hosts' + run(' ') + 'x y', false],
      ['1' + run(' ') + 'hostx', false],
    ],
    '/^\\d+\\s*hosts?\\b/i': [
      ['3 hosts', true],
      [run('1') + 'x', false],
      ['1' + run(' ') + 'x', false],
    ],
    '/-/g': [
      ['a-b', true],
      [run('a'), false],
    ],
    '/^arn:(aws[a-z-]*):sts::(\\d{12}):assumed-role\\/[^/]+\\/(.+)$/': [
      [`arn:aws:sts::${ACCOUNT}:assumed-role/Role/i-0123456789abcdef0`, true],
      [`arn:aws:sts::${ACCOUNT}:assumed-role/${run('a')}`, false],
      [`arn:aws:sts::${ACCOUNT}:assumed-role/r/${run('a')}\n`, false],
      [`arn:aws${run('-')}x`, false],
    ],
    '/^arn:(aws[a-z-]*):iam::(\\d{12}):user\\/(?:.+)$/': [
      [`arn:aws:iam::${ACCOUNT}:user/host`, true],
      [`arn:aws:iam::${ACCOUNT}:user/${run('a')}\n`, false],
    ],
    '/^i-[0-9a-f]{8,17}$/': [
      ['i-0123456789abcdef0', true],
      ['i-' + run('0'), false],
    ],
    '/^arn:aws[a-z-]*:ec2:[a-z0-9-]*:(\\d{12})?:instance\\/(i-[0-9a-f]{8,17})$/': [
      [`arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0123456789abcdef0`, true],
      [`arn:aws:ec2:${run('1')}:instance/i-0`, false],
      [`arn:aws:ec2:${run('-')}x`, false],
    ],
    '/[^A-Za-z0-9_-]/g': [
      ['a b', true],
      [run('a_-'), false],
    ],
    '/^[^/]+\\/[^/]+\\/[^/]+\\/.+$/': [
      ['a/b/c/d', true],
      [run('a/'), true],
      [run('a'), false],
      ['a/b/' + run('c'), false],
      [`a/b/c/${run('d')}\n`, false],
    ],
    '/^cutover\\/[^/]+\\/([^/]+)\\/in-place$/': [
      ['cutover/app/group/in-place', true],
      [`cutover/${run('a')}`, false],
      [`cutover/a/${run('b')}/in-plac`, false],
    ],
    '/\\.zip$/i': [
      ['a.ZIP', true],
      [run('.zip') + 'x', false],
    ],
    '/\\.(tgz|tar\\.gz)$/i': [
      ['a.tar.gz', true],
      [run('.tar') + '.g', false],
    ],
    '/^(Terminat|Detach)/': [
      ['Terminating', true],
      [run('Termina'), false],
    ],
    '/^arn:aws[a-z-]*:iam::\\d{12}:role\\/[\\w+=,.@/-]{1,512}$/': [
      [`arn:aws:iam::${ACCOUNT}:role/CodeDeploy`, true],
      [`arn:aws:iam::${ACCOUNT}:role/${run('a')}`, false],
      [`arn:aws${run('-')}:iam`, false],
    ],
    '/^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\\d{12}:listener\\/(app|net)\\/[^/]+\\/[0-9a-f]+\\/[0-9a-f]+$/': [
      [`arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener/app/shop/0a1b/2c3d`, true],
      [`arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener/app/shop/${run('0')}/x`, false],
      [`arn:aws:elasticloadbalancing:${run('1')}:x`, false],
      [`arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener/app/${run('a')}`, false],
    ],
    '/^[A-Za-z0-9._+=,@-]+$/': [
      ['my-app', true],
      [run('a.') + ' ', false],
    ],
    '/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:[A-Za-z0-9_-]+$/': [
      [`arn:aws:sns:us-east-1:${ACCOUNT}:topic`, true],
      [`arn:aws:sns:${run('1')}:x`, false],
      [`arn:aws:sns:us-east-1:${ACCOUNT}:${run('a')}!`, false],
    ],
    '/^\\d{12}$/': [
      [ACCOUNT, true],
      [run('1'), false],
    ],
    '/^(Invalid input|Invalid option|Too big|Too small|Invalid string|Unrecognized key)/': [
      ['Invalid input: expected string', true],
      [run('Invalid '), false],
    ],
    '/^[1-9][0-9]*$/': [
      ['12', true],
      [run('1') + 'x', false],
    ],
    '/^[A-Za-z0-9-]+$/': [
      ['web-1', true],
      [run('a-') + '_', false],
    ],
    '/^[A-Za-z0-9_-]+:[1-9][0-9]*$/': [
      ['web:2', true],
      [`${run('a')}:0`, false],
      [`a:${run('1')}x`, false],
      [run('a:1'), false],
    ],
    '/s$/': [
      ['hooks', true],
      [run('s') + 'x', false],
    ],
    '/\\d\\s*(%|hosts?\\b)/': [
      ['50 %', true],
      ['2 hosts', true],
      [run('1 '), false],
      ['1' + run(' ') + 'x', false],
      [run('1 host') + 'x', false],
    ],
    '/^[A-Za-z0-9._+=,@-]{1,100}$/': [
      ['host-1', true],
      [run('a'), false],
    ],
    '/^arn:aws[a-z-]*:iam::\\d{12}:user\\/[\\w+=,.@/-]{1,512}$/': [
      [`arn:aws:iam::${ACCOUNT}:user/u`, true],
      [`arn:aws:iam::${ACCOUNT}:user/${run('a/')}`, false],
    ],
    '/^arn:aws[a-z-]*:sts::\\d{12}:assumed-role\\/[\\w+=,.@-]{1,64}\\/[\\w+=,.@-]{2,64}$/': [
      [`arn:aws:sts::${ACCOUNT}:assumed-role/r/session`, true],
      [`arn:aws:sts::${ACCOUNT}:assumed-role/r/${run('a')}`, false],
      [`arn:aws:sts::${ACCOUNT}:assumed-role/${run('a/')}`, false],
    ],
    '/[.[ ]/': [
      ['a.b', true],
      [run('a'), false],
    ],
    '/^d-[A-Z0-9]{9}$/': [
      ['d-ABCDEF123', true],
      ['d-' + run('A'), false],
    ],
    '/^arn:aws:(ec2|codedeploy):[^:]*:[^:]*:instance\\//': [
      [`arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-1`, true],
      [`arn:aws:ec2:${run('a')}`, false],
      [`arn:aws:ec2:a:${run('b')}:instanc`, false],
    ],
    '/^(arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\\d{12}:function:)?[a-zA-Z0-9_-]{1,140}$/': [
      ['CodeDeployHook_pre', true],
      [`arn:aws:lambda:us-east-1:${ACCOUNT}:function:hook`, true],
      [`arn:aws:lambda:${run('1')}:x`, false],
      [run('a'), false],
      [`arn:aws${run('-')}`, false],
    ],
    '/^(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?$/': [
      ['1h30m', true],
      [run('1') + '!', false],
      [run('1h') + '!', false],
      [run('1m1s'), false],
    ],
    '/^approve(?:\\s+(\\S+))?$/i': [
      ['approve 1h', true],
      ['approve' + run(' ') + 'a b', false],
      ['approve ' + run('a') + ' ', false],
    ],
    '/^(\\d+(?:\\.\\d+)?)%(?:\\s+(\\S+))?$/': [
      ['10% 5m', true],
      [run('1') + '.1', false],
      [run('1.1') + '%', false],
      ['1%' + run(' ') + 'a b', false],
    ],
    '/^\\[([A-Z][A-Z_]+)\\] /': [
      ['[HOOK_FAILED] x', true],
      ['[' + run('A_') + ']x', false],
    ],
    '/AccessDenied|not authorized/i': [
      ['User is not authorized to', true],
      [run('not authorize'), false],
    ],
    // src/api/operations.ts: the field a handler's message starts with.
    '/^([A-Za-z]+)[.:[ ]/': [
      ['revision.s3Location: damaged', true],
      [run('a'), false],
      [run('a') + '!', false],
    ],
    // src/domain/tags.ts: a resource ARN's parts (each class excludes the ':' that ends it).
    '/^arn:(aws[a-z-]*):([a-z0-9-]*):([a-z0-9-]*):(\\d{12}|):(.+)$/': [
      [`arn:aws:codedeploy:us-east-1:${ACCOUNT}:application:shop`, true],
      [`arn:aws:codedeploy:us-east-1:${ACCOUNT}:` + run('a'), true],
      ['arn:aws' + run('-'), false],
      ['arn:aws:' + run('a'), false],
      [`arn:aws:codedeploy:us-east-1:${run('1')}:x`, false],
    ],
    // src/platforms/server/appspec.ts builds this one: new RegExp(`^${letter}\\d+$`), letter s or c.
    'new RegExp(…)': [
      ['s0', true],
      ['c' + run('1') + 'x', false],
    ],
  };
};

/** Every regular expression literal (as written) in the validator folders, with where it is. */
export function sourcePatterns(root: string): { literal: string; at: string }[] {
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((f) => {
      const p = join(d, f);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
    });
  const found: { literal: string; at: string }[] = [];
  for (const dir of ['src/platforms', 'src/config', 'src/api', 'src/domain']) {
    for (const file of walk(join(root, dir))) {
      const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      const visit = (n: ts.Node): void => {
        if (n.kind === ts.SyntaxKind.RegularExpressionLiteral)
          found.push({
            literal: n.getText(sf),
            at: `${file.slice(root.length + 1)}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`,
          });
        if (ts.isNewExpression(n) && n.expression.getText(sf) === 'RegExp')
          found.push({ literal: `new ${n.expression.getText(sf)}(…)`, at: `${file.slice(root.length + 1)}` });
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
  }
  return found;
}

/** The literal `/body/flags` as a RegExp without `g`/`y` (so `test` is "has a match", no lastIndex state). */
export function compile(literal: string): RegExp {
  const end = literal.lastIndexOf('/');
  return new RegExp(literal.slice(1, end), literal.slice(end + 1).replace(/[gy]/g, ''));
}
