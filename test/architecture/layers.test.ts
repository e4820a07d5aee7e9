/**
 * The dependency rules, checked on the source, without exceptions: the domain is pure; tasks name no
 * platform and reach the world only through ports; a platform is its own folder; only the
 * composition roots (src/wiring) put adapters together; environment and wall-clock time only at
 * the edges.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}
/** Source without comments (rules apply to code; comments may name anything). */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
const SOURCES = [...files('src'), ...files('functions')].map((path) => {
  const text = readFileSync(path, 'utf8');
  return { path, text, code: code(text) };
});
const imports = (text: string) => [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
/** The files of ours a module imports (paths under src/). */
const ourImports = (path: string, text: string) =>
  imports(text)
    .filter((i) => i.startsWith('.'))
    .map((i) => relative('src', join(path, '..', i)).replace(/\.js$/, '.ts'));

function breaches(check: (f: { path: string; text: string; code: string }) => string[]): string[] {
  return SOURCES.flatMap((f) => check(f).map((b) => `${f.path}: ${b}`));
}
const under = (folder: string) => (f: { path: string }) => f.path.startsWith(`src/${folder}/`);
/** The one adapter the agent uses: SigV4 signing and the standard credential chain. */
const AGENT_SIGNER = 'adapters/aws/sigv4.ts';

describe('architecture', () => {
  it('sees the source tree', () => {
    expect(SOURCES.length).toBeGreaterThan(40);
    for (const folder of ['domain', 'tasks', 'platforms', 'ports', 'adapters', 'wiring'])
      expect(SOURCES.some(under(folder)), folder).toBe(true);
  });

  it('src/domain is pure: nothing of ours outside it, no AWS SDK, no I/O, no randomness, no clock, no compression', () => {
    expect(
      breaches((f) =>
        !under('domain')(f)
          ? []
          : [
              ...ourImports(f.path, f.text).filter((i) => !i.startsWith('domain/')),
              ...imports(f.text).filter((i) => !i.startsWith('.') && !['yaml', 'node:crypto'].includes(i)),
              ...[
                ...f.code.matchAll(/randomBytes|randomUUID|Math\.random|Date\.now\(|new Date\(\)|performance\.now\(/g),
              ].map((m) => m[0]),
            ],
      ),
    ).toEqual([]);
  });

  it('src/tasks reach the world only through ports, and name no platform (they call the platform registry)', () => {
    const allowed = (i: string) =>
      ['domain/', 'ports/', 'config/', 'tasks/'].some((p) => i.startsWith(p)) ||
      i === 'platforms/index.ts' ||
      i === 'platforms/platform.ts';
    expect(
      breaches((f) =>
        !under('tasks')(f)
          ? []
          : [
              ...ourImports(f.path, f.text).filter((i) => !allowed(i)),
              ...imports(f.text).filter((i) => !i.startsWith('.') && !i.startsWith('zod')),
              // A platform's name or its words in code (not comments): tasks must not branch on one.
              ...[
                ...f.code.matchAll(
                  /['"`](Lambda|ECS|Server)['"`]|\b(ecs|lambda|ec2)[A-Z]\w*|\b(ecs|lambda|elb|alias(es)?)\b/g,
                ),
              ].map((m) => `names a platform: ${m[0]}`),
            ],
      ),
    ).toEqual([]);
  });

  it('a platform is one folder: it imports the domain, ports and its own files, no other platform, no tasks or adapters', () => {
    expect(
      breaches((f) => {
        const m = /^src\/platforms\/([^/]+)\//.exec(f.path);
        if (!m) return [];
        const own = `platforms/${m[1]}/`;
        return ourImports(f.path, f.text).filter(
          (i) =>
            !(i.startsWith('domain/') || i.startsWith('ports/') || i === 'platforms/platform.ts' || i.startsWith(own)),
        );
      }),
    ).toEqual([]);
  });

  it('@aws-sdk is imported only by src/adapters/aws', () => {
    expect(
      breaches((f) =>
        under('adapters/aws')(f)
          ? []
          : imports(f.text).filter((i) => i.startsWith('@aws-sdk/') || i.startsWith('@smithy/')),
      ),
    ).toEqual([]);
  });

  it('only the composition roots (src/wiring) import adapters (the agent, its own root, only the SigV4 signer)', () => {
    expect(
      breaches((f) =>
        under('wiring')(f) || under('adapters')(f)
          ? []
          : ourImports(f.path, f.text).filter(
              (i) => i.startsWith('adapters/') && !(under('agent')(f) && i === AGENT_SIGNER),
            ),
      ),
    ).toEqual([]);
  });

  it('src/agent is shipped alone: of ours only its files, the Server AppSpec and protocol, the domain and the signer; of npm nothing', () => {
    const allowed = (i: string) =>
      i.startsWith('agent/') ||
      i.startsWith('domain/') ||
      i === 'platforms/server/appspec.ts' ||
      i === 'platforms/server/agent-protocol.ts' ||
      i === AGENT_SIGNER;
    expect(
      breaches((f) =>
        !under('agent')(f)
          ? []
          : [
              ...ourImports(f.path, f.text).filter((i) => !allowed(i)),
              ...imports(f.text).filter((i) => !i.startsWith('.') && !i.startsWith('node:')),
            ],
      ),
    ).toEqual([]);
    // What the agent takes from the engine's tree stays engine-free: the domain and yaml only.
    expect(
      breaches((f) =>
        !['src/platforms/server/appspec.ts', 'src/platforms/server/agent-protocol.ts'].includes(f.path)
          ? []
          : [
              ...ourImports(f.path, f.text).filter((i) => !i.startsWith('domain/')),
              ...imports(f.text).filter((i) => !i.startsWith('.') && !i.startsWith('node:') && i !== 'yaml'),
            ],
      ),
    ).toEqual([]);
    // And the engine does not run the agent: only the CLI starts it.
    expect(
      breaches((f) =>
        under('agent')(f) || under('cli')(f) ? [] : ourImports(f.path, f.text).filter((i) => i.startsWith('agent/')),
      ),
    ).toEqual([]);
  });

  it('process.env only in src/config, src/wiring, src/cli and src/agent/main.ts; no wall-clock time in domain, tasks or platforms', () => {
    expect(
      breaches((f) =>
        ['config', 'wiring', 'cli'].some((l) => under(l)(f)) || f.path === 'src/agent/main.ts'
          ? []
          : f.code.includes('process.env')
            ? ['process.env']
            : [],
      ),
    ).toEqual([]);
    expect(
      breaches((f) =>
        ['domain', 'tasks', 'platforms'].some((l) => under(l)(f))
          ? [...f.code.matchAll(/Date\.now\(|new Date\(\)|performance\.now\(/g)].map((m) => m[0])
          : [],
      ),
    ).toEqual([]);
  });
  it('local mode’s optional packages are loaded only by src/local/optional-deps.ts, and only lazily', () => {
    const OPTIONAL = /^(aws-local-stepfunctions|dynalite|level)(\/|$)/;
    const LOADER = 'src/local/optional-deps.ts';
    expect(
      breaches((f) => {
        // Type-only imports are erased; a value import of one of them anywhere (`import … from`,
        // `import '…'`, `export … from`) would load it with its importer, and import() is the loader's.
        const values = f.code.replace(/^\s*(?:import|export)\s+type\s[^;]*;/gm, '');
        const statics = [
          ...values.matchAll(/^\s*(?:import\s+(?:[^'"();]*?\bfrom\s*)?|export\s[^'"();]*?\bfrom\s*)['"]([^'"]+)['"]/gm),
        ].map((m) => m[1]!);
        const dynamic = [...values.matchAll(/\bimport\s*\(\s*['"`]([^'"`]+)['"`]/g)].map((m) => m[1]!);
        return [
          ...statics.filter((i) => OPTIONAL.test(i)).map((i) => `imports ${i} statically`),
          ...(f.path === LOADER ? [] : dynamic.filter((i) => OPTIONAL.test(i)).map((i) => `loads ${i}`)),
        ];
      }),
    ).toEqual([]);
    // The Lambda functions never reach the loader (nor what uses it): their bundles hold no emulator.
    const byPath = new Map(SOURCES.map((f) => [f.path, f]));
    const reached = new Set<string>();
    const visit = (path: string) => {
      const f = byPath.get(path);
      if (!f || reached.has(path)) return;
      reached.add(path);
      const values = f.code.replace(/^\s*(?:import|export)\s+type\s[^;]*;/gm, '');
      for (const i of imports(values).filter((s) => s.startsWith('.')))
        visit(join(path, '..', i).replace(/\.js$/, '.ts'));
    };
    for (const f of SOURCES.filter((s) => s.path.startsWith('functions/'))) visit(f.path);
    expect(reached.size).toBeGreaterThan(40);
    expect([...reached].filter((p) => p === LOADER || p.startsWith('src/local/'))).toEqual([]);
  });
});
