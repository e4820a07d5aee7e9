/** The dependency rule, checked on the source: domain imports nothing of ours; SDK only in adapters; env and time only at the edges. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const SOURCES = [...files('src'), ...files('functions')].map((path) => ({ path, text: readFileSync(path, 'utf8') }));
const imports = (text: string) => [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
const layer = (path: string): string => relative('src', path).split('/')[0] ?? '';
/** Our folders a module imports from (resolved relative to it). */
const ourLayers = (path: string, text: string) =>
  imports(text)
    .filter((i) => i.startsWith('.'))
    .map((i) => relative('src', join(path, '..', i)).split('/')[0] ?? '');

function breaches(check: (f: { path: string; text: string }) => string[]): string[] {
  return SOURCES.flatMap((f) => check(f).map((b) => `${f.path}: ${b}`));
}

describe('architecture', () => {
  it('sees the source tree', () => {
    expect(SOURCES.length).toBeGreaterThan(20);
    expect(SOURCES.some((f) => f.path.startsWith('src/domain/'))).toBe(true);
  });

  it('src/domain imports nothing of ours outside the domain, and no AWS SDK', () => {
    expect(
      breaches((f) =>
        layer(f.path) !== 'domain'
          ? []
          : [
              ...ourLayers(f.path, f.text).filter((l) => l !== 'domain'),
              ...imports(f.text).filter((i) => i.startsWith('@aws-sdk/')),
            ],
      ),
    ).toEqual([]);
  });

  it('src/tasks imports only domain, ports, config and tasks', () => {
    expect(
      breaches((f) =>
        layer(f.path) !== 'tasks'
          ? []
          : [
              ...ourLayers(f.path, f.text).filter((l) => !['domain', 'ports', 'config', 'tasks'].includes(l!)),
              ...imports(f.text).filter((i) => i.startsWith('@aws-sdk/')),
            ],
      ),
    ).toEqual([]);
  });

  it('@aws-sdk is imported only by src/adapters/aws (and the local dynalite and s3rver clients)', () => {
    const allowed = (p: string) =>
      p.startsWith('src/adapters/aws/') || p === 'src/local/dynalite.ts' || p === 'src/local/s3.ts';
    expect(breaches((f) => (allowed(f.path) ? [] : imports(f.text).filter((i) => i.startsWith('@aws-sdk/'))))).toEqual(
      [],
    );
  });

  it('only wiring and the local runtime/CLI import adapters', () => {
    expect(
      breaches((f) =>
        ['wiring', 'adapters', 'local', 'cli'].includes(layer(f.path)!)
          ? []
          : ourLayers(f.path, f.text).filter((l) => l === 'adapters'),
      ),
    ).toEqual([]);
  });

  it('process.env only in src/config, src/wiring and src/cli; no wall-clock time in domain or tasks', () => {
    expect(
      breaches((f) =>
        ['config', 'wiring', 'cli'].includes(layer(f.path)!)
          ? []
          : f.text.includes('process.env')
            ? ['process.env']
            : [],
      ),
    ).toEqual([]);
    expect(
      breaches((f) =>
        ['domain', 'tasks'].includes(layer(f.path)!)
          ? [...f.text.matchAll(/Date\.now\(|new Date\(\)|performance\.now\(/g)].map((m) => m[0])
          : [],
      ),
    ).toEqual([]);
  });
});
