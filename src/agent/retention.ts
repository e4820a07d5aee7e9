/**
 * `max_revisions` (command_executor.rb cleanup_old_archives): at the start of each DownloadBundle,
 * keep at most max_revisions deployment directories of the group, this one included, deleting the
 * oldest by modification time, and never the last successful install's.
 */
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Layout } from './layout.js';

export const DEFAULT_MAX_REVISIONS = 5;

/** Returns the directories deleted. */
export function pruneRevisions(layout: Layout, groupId: string, currentDir: string, maxRevisions: number): string[] {
  const groupDir = layout.groupDir(groupId);
  let names: string[];
  try {
    names = readdirSync(groupDir);
  } catch {
    return [];
  }
  const others = names.map((n) => resolve(join(groupDir, n))).filter((p) => p !== resolve(currentDir));
  const extra = others.length - maxRevisions + 1;
  if (extra <= 0) return [];
  const last = lastSuccessfulDir(layout, groupId);
  const candidates = others
    .filter((p) => p !== (last && resolve(last)))
    .map((p) => ({ p, mtime: mtimeOf(p) }))
    .sort((a, b) => a.mtime - b.mtime || (a.p < b.p ? -1 : 1))
    .slice(0, extra)
    .map((c) => c.p);
  for (const dir of candidates) rmSync(dir, { recursive: true, force: true });
  return candidates;
}

function mtimeOf(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

export function lastSuccessfulDir(layout: Layout, groupId: string): string | undefined {
  return readPathFile(layout.lastSuccessfulInstallFile(groupId));
}
export function mostRecentDir(layout: Layout, groupId: string): string | undefined {
  return readPathFile(layout.mostRecentInstallFile(groupId));
}
function readPathFile(file: string): string | undefined {
  try {
    const p = readFileSync(file, 'utf8').trim();
    return p === '' ? undefined : p;
  } catch {
    return undefined;
  }
}
