/**
 * Which installed paths a permission entry applies to (linux_permission_info.rb): paths strictly
 * below the object (never the object itself); pattern `**` takes all of them, any other pattern is a
 * `*`-glob over the names of the object's immediate children; `except` removes immediate children
 * whose names match one of its globs. Pure.
 */
import { posix } from 'node:path';

function relativeName(path: string, object: string): string | undefined {
  const name = path.replace(/\/+$/, '');
  let base = posix.normalize(object);
  if (!base.endsWith('/')) base += '/';
  return name.startsWith(base) ? name.slice(base.length) : undefined;
}

/** A glob of literal characters and `*` (any run of characters) against a name without `/`. */
export function matchesSimpleGlob(name: string, pattern: string): boolean {
  if (name.includes('/')) return false;
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  );
  return re.test(name);
}

export function matchesPattern(path: string, object: string, pattern: string): boolean {
  const rel = relativeName(path, object);
  if (rel === undefined || rel === '') return false;
  return pattern === '**' || matchesSimpleGlob(rel, pattern);
}

export function matchesExcept(path: string, object: string, except: readonly string[]): boolean {
  const rel = relativeName(path, object);
  if (rel === undefined) return false;
  return except.some((g) => matchesSimpleGlob(rel, g));
}
