/**
 * The CLI's one table of commands and options, and the parser and help built from it: what a
 * command accepts is what its help says, and a mistake names the option (with "did you mean" for a
 * typo) instead of node's parseArgs text.
 */

export class UsageError extends Error {}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  default?: string | boolean;
  /** The value's placeholder in help (NAME, FILE, N…). */
  arg?: string;
  help: string;
}

export type OptionTable = Record<string, OptionSpec>;

export interface CommandSpec {
  name: string;
  /** One line for `cutover --help`. */
  summary: string;
  /** The arguments after `cutover <name>` in the usage line(s); more lines for more forms. */
  usage: string[];
  /** What it does (prose, before the options). */
  about?: string;
  /** After the options (notes on behaviour). */
  notes?: string;
  options: OptionTable;
  /** How many positional arguments it takes at most. */
  positionals: number;
  /** Where it goes in `cutover --help`. */
  section: 'local' | 'api' | 'host';
}

export type Values = Record<string, string | boolean | undefined>;

/** Edit distance (Levenshtein), for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The closest of `candidates` to `word`, if it is close enough to be a typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 3 ? 1 : distance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/**
 * Parse `args` against a command's options: `--name value`, `--name=value`, `-h`, `--` ends options.
 * Every problem at once (unknown options with a suggestion, missing values, values given to
 * switches, extra arguments), as a UsageError.
 */
export function parseCommand(spec: CommandSpec, args: string[]): { values: Values; positionals: string[] } {
  const values: Values = {};
  for (const [name, o] of Object.entries(spec.options)) if (o.default !== undefined) values[name] = o.default;
  const positionals: string[] = [];
  const problems: string[] = [];
  const shorts = new Map(
    Object.entries(spec.options).flatMap(([name, o]) => (o.short ? [[o.short, name] as const] : [])),
  );
  const isOption = (a: string | undefined) => a !== undefined && a.length > 1 && a.startsWith('-') && !/^-\d/.test(a);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!isOption(a)) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const raw = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    const name = raw.startsWith('--') ? raw.slice(2) : shorts.get(raw.slice(1));
    // Own keys only: --constructor, --__proto__ or --toString name no option (the table is a plain object).
    const o = name !== undefined && Object.hasOwn(spec.options, name) ? spec.options[name] : undefined;
    if (!o || name === undefined) {
      const guess = raw.startsWith('--') ? closest(raw.slice(2), Object.keys(spec.options)) : undefined;
      problems.push(`unknown option ${raw}${guess ? ` (did you mean --${guess}?)` : ''}`);
      // Its value, if it has one, is not an argument of the command.
      if (inline === undefined && raw.startsWith('--') && !isOption(args[i + 1]) && args[i + 1] !== undefined) i++;
      continue;
    }
    if (o.type === 'boolean') {
      if (inline !== undefined) problems.push(`--${name} takes no value (got ${a})`);
      else values[name] = true;
      continue;
    }
    const value = inline ?? (isOption(args[i + 1]) ? undefined : args[++i]);
    if (value === undefined) problems.push(`--${name} needs a value (${o.arg ?? 'VALUE'})`);
    else values[name] = value;
  }
  if (positionals.length > spec.positionals)
    problems.push(
      spec.positionals === 0
        ? `unexpected argument${positionals.length > 1 ? 's' : ''} ${positionals.map((p) => `'${p}'`).join(' ')}`
        : `unexpected argument${positionals.length - spec.positionals > 1 ? 's' : ''} ${positionals
            .slice(spec.positionals)
            .map((p) => `'${p}'`)
            .join(' ')}`,
    );
  const hasOutput = Object.hasOwn(spec.options, 'output');
  if (values.json === true && hasOutput) {
    if (args.some((x) => x === '--output' || x.startsWith('--output=')) && values.output !== 'json')
      problems.push('--json and --output table exclude each other');
    values.output = 'json';
  }
  if (hasOutput && values.output !== undefined && !['json', 'table'].includes(String(values.output)))
    problems.push(`--output: json or table, got ${String(values.output)}`);
  if (problems.length && !values.help)
    throw new UsageError(`${problems.join('\n  ')}\n\nRun 'cutover ${spec.name} --help' for its options.`);
  return { values, positionals };
}

/** Text in columns: each column as wide as its widest cell, so long names never break a row. */
export function columns(rows: string[][], gap = '  '): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join(gap)
      .trimEnd(),
  );
}

/** Help for one command, from its table entry. */
export function commandHelp(spec: CommandSpec): string {
  const usage = spec.usage.map((u, i) => `${i === 0 ? 'Usage: ' : '       '}cutover ${spec.name}${u ? ` ${u}` : ''}`);
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
    const dflt = o.default !== undefined && o.default !== false ? ` (default ${String(o.default)})` : '';
    return [`  ${flag}`, `${o.help}${dflt}`];
  });
  return [
    ...usage,
    ...(spec.about ? ['', spec.about] : []),
    '',
    'Options:',
    ...columns(rows, '   '),
    ...(spec.notes ? ['', spec.notes] : []),
  ].join('\n');
}
