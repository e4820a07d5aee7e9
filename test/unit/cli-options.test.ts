/** The CLI's option table, parser, help, progress lines and error classification, in process. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMMAND_SPECS, EXIT, SPECS, mainHelp } from '../../src/cli/commands.js';
import { UsageError, columns, commandHelp, parseCommand } from '../../src/cli/options.js';
import { heartbeat, progressText } from '../../src/cli/progress.js';
import { classify, withoutHookExecutionIds } from '../../src/cli/main.js';
import { LocalFileError } from '../../src/config/local-file.js';
import { ApiError } from '../../src/domain/errors.js';

const deploy = SPECS.get('deploy')!;
const usage = (args: string[]) => {
  try {
    parseCommand(deploy, args);
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  return '';
};

describe('options', () => {
  it('a typo gets "did you mean", every problem at once, no parseArgs text', () => {
    const m = usage(['--aplication', 'shop', '--grup', 'g', '--appspec', '--json=1', 'extra']);
    expect(m).toContain('unknown option --aplication (did you mean --application?)');
    expect(m).toContain('unknown option --grup (did you mean --group?)');
    expect(m).toContain('--appspec needs a value (FILE)');
    expect(m).toContain('--json takes no value');
    expect(m).toContain("unexpected argument 'extra'");
    expect(m).not.toMatch(/ERR_PARSE_ARGS|To specify a positional/);
  });

  it('--json is --output json; --output takes json or table', () => {
    expect(parseCommand(deploy, ['--json']).values.output).toBe('json');
    expect(parseCommand(deploy, ['--output=json']).values.output).toBe('json');
    expect(usage(['--output', 'yaml'])).toContain('--output: json or table, got yaml');
  });

  it('help is written from the table the parser reads: every option of every command is in its help', () => {
    for (const spec of COMMAND_SPECS) {
      const help = commandHelp(spec);
      expect(help).toMatch(new RegExp(`^Usage: cutover ${spec.name}`));
      for (const name of Object.keys(spec.options)) expect(help, `${spec.name} --${name}`).toContain(`--${name}`);
      expect(mainHelp()).toContain(`  ${spec.name} `);
    }
    expect(mainHelp()).toMatch(/4 +cannot reach the API/);
  });

  it('columns are as wide as their widest cell', () => {
    expect(
      columns([
        ['A', 'B', 'C'],
        ['a-very-long-name', 'x', 'y'],
      ]),
    ).toEqual(['A                 B  C', 'a-very-long-name  x  y']);
  });
});

describe('progress lines', () => {
  afterEach(() => vi.useRealTimers());

  it('after an interval with nothing printed, one line says what the deployment waits on; output resets it', async () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const beat = heartbeat(
      (s) => lines.push(s),
      async () => progressText({ status: 'InProgress', cutover: { targetWeight: 10, waiting: 'bake' } }),
      30_000,
      { setInterval: (f, ms) => setInterval(f, ms), clearInterval: (h) => clearInterval(h as NodeJS.Timeout) },
    );
    await vi.advanceTimersByTimeAsync(20_000);
    beat.out('a timeline line');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(lines).toEqual(['a timeline line']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(lines).toEqual(['a timeline line', 'baking, 10% on target']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(lines.filter((l) => l.startsWith('baking'))).toHaveLength(3);
    beat.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(lines).toHaveLength(4);
  });

  it('names hooks, steady-state waits, approvals', () => {
    const hook = { lifecycleEvents: [{ lifecycleEventName: 'BeforeAllowTraffic', status: 'InProgress' }] };
    expect(progressText({ cutover: { ...hook, waiting: 'hook' } })).toBe('waiting on the BeforeAllowTraffic hook');
    expect(progressText({ cutover: { waiting: 'steady', targetWeight: 0 } })).toContain('steady');
    expect(progressText({ cutover: { waiting: 'approval' } })).toContain('cutover approve');
  });
});

describe('exit codes and JSON errors', () => {
  it('maps errors to 2 (usage, files, API refusals), 3 (bugs), 4 (unreachable)', () => {
    expect(classify(new UsageError('x')).exitCode).toBe(EXIT.usage);
    expect(classify(new LocalFileError('f', 'is a folder')).exitCode).toBe(EXIT.usage);
    expect(classify(new ApiError('DeploymentDoesNotExistException', 'no')).exitCode).toBe(EXIT.usage);
    expect(classify(new ApiError('EndpointUnreachable', 'cannot reach')).exitCode).toBe(EXIT.unreachable);
    expect(classify(new ApiError('HTTP503', 'gateway')).exitCode).toBe(EXIT.unreachable);
    expect(classify(new ApiError('InternalFailure', 'bug')).exitCode).toBe(EXIT.internal);
    expect(classify(new TypeError('undefined is not a function')).exitCode).toBe(EXIT.internal);
    expect(EXIT).toEqual({ ok: 0, deploymentFailed: 1, usage: 2, internal: 3, unreachable: 4 });
  });

  it('hook execution ids never leave', () => {
    expect(
      withoutHookExecutionIds({
        a: [{ lifecycleEventHookExecutionId: 'secret', hookExecutionId: 'secret', status: 'InProgress' }],
      }),
    ).toEqual({ a: [{ status: 'InProgress' }] });
  });
});
