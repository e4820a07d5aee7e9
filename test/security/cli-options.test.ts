/**
 * Issue #14 item 6: prototype keys as the CLI's option and command names. The option table is a plain
 * object, so `--constructor` once looked up Object.prototype.constructor and was taken as a known option
 * (`cutover deploy --constructor x` went on to "missing --application"). Each name must be refused as
 * unknown, with the usage exit code and the name in the message. The real `cutover` runs, in an empty
 * folder (nothing it could find there is used).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, SPECS } from '../../src/cli/commands.js';
import { UsageError, parseCommand } from '../../src/cli/options.js';
import { cutoverAsync } from '../support/cli.js';

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

let cwd: string;
beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'cutover-sec-cli-'));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('prototype keys as option names (in process)', () => {
  it.each(PROTOTYPE_KEYS)('--%s is an unknown option of every command, with or without a value', (key) => {
    for (const spec of SPECS.values()) {
      for (const args of [[`--${key}`], [`--${key}`, 'x'], [`--${key}=x`]]) {
        let message = '';
        try {
          parseCommand(spec, args);
        } catch (e) {
          if (!(e instanceof UsageError)) throw e;
          message = e.message;
        }
        expect(message, `cutover ${spec.name} ${args.join(' ')}`).toContain(`unknown option --${key}`);
      }
    }
    // Nothing reached Object.prototype.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(typeof Object.prototype.toString).toBe('function');
  });

  it('known options still parse, and the values hold no prototype keys', () => {
    const { values } = parseCommand(SPECS.get('deploy')!, ['--application', 'shop', '--json']);
    expect(values.application).toBe('shop');
    expect(values.output).toBe('json');
    for (const key of PROTOTYPE_KEYS) expect(Object.hasOwn(values, key), key).toBe(false);
  });
});

describe('prototype keys with the real cutover command', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'cutover deploy --%s x: unknown option, exit 2',
    async (key) => {
      const r = await cutoverAsync(['deploy', `--${key}`, 'x'], cwd);
      expect(r.code, r.err).toBe(EXIT.usage);
      expect(r.err).toContain(`unknown option --${key}`);
      // Refused as unknown, not taken as an option and then found missing the required ones.
      expect(r.err).not.toContain('missing --application');
    },
    60_000,
  );

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'cutover %s: unknown command, exit 2',
    async (key) => {
      const r = await cutoverAsync([key], cwd);
      expect(r.code, r.err).toBe(EXIT.usage);
      expect(r.err).toContain(`unknown command '${key}'`);
    },
    60_000,
  );

  it('other commands refuse them too, with --output json naming the option', async () => {
    const cases = [
      ['status', '--__proto__', 'd-AAAAAAAAA'],
      ['list', '--hasOwnProperty=1'],
      ['app', '--constructor', 'x'],
      ['server', '--toString'],
    ];
    const runs = await Promise.all(cases.map((args) => cutoverAsync(args, cwd)));
    runs.forEach((r, k) => {
      expect(r.code, `${cases[k]!.join(' ')}: ${r.err}`).toBe(EXIT.usage);
      expect(r.err).toContain(`unknown option ${cases[k]![1]!.replace(/=.*/, '')}`);
    });
    const json = await cutoverAsync(['deploy', '--constructor', 'x', '--json'], cwd);
    expect(json.code).toBe(EXIT.usage);
    expect(JSON.parse(json.out)).toMatchObject({
      error: { code: 'UsageError', exitCode: EXIT.usage, message: expect.stringContaining('--constructor') },
    });
    // The agent and the proxy parse their own options (node:util parseArgs): refused too.
    const agent = await cutoverAsync(['agent', '--constructor', 'x'], cwd);
    expect(agent.code).toBe(2);
    expect(agent.err).toMatch(/Unknown option '--constructor'/);
    const proxy = await cutoverAsync(['proxy', '--__proto__', 'x'], cwd);
    expect(proxy.code).toBe(2);
    expect(proxy.err).toMatch(/Unknown option '--__proto__'/);
    // Nothing was written where it ran.
    expect(readdirSync(cwd)).toEqual([]);
  }, 120_000);
});
