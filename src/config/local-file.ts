/**
 * Local files (AppSpecs, world files, hook modules, a state folder's world-state.json) get the same
 * care as API input: a problem names the file, says what is wrong and what to do, and is the user's
 * to fix (the CLI exits 2), never an "internal error".
 */
import { readFileSync, statSync } from 'node:fs';
import type { Issue } from '../domain/errors.js';

export class LocalFileError extends Error {
  override readonly name = 'LocalFileError';
  constructor(
    /** The file, as the user named it (or as the world file names it). */
    readonly file: string,
    /** What is wrong with it. */
    readonly problem: string,
    /** What to do about it. */
    readonly hint?: string,
    /** Every problem found inside it, with its path (a world file's fields). */
    readonly issues: readonly Issue[] = [],
  ) {
    super(
      `${file}: ${problem}${issues.length ? `:\n  ${issues.map((i) => `${i.path || '(file)'}: ${i.message}`).join('\n  ')}` : ''}${hint ? `${issues.length ? '\n' : '; '}${hint}` : ''}`,
    );
  }
}

/** A file's text, or a LocalFileError saying why it cannot be read (missing, a folder, no permission). */
export function readLocalFile(path: string, what: string, hint?: string): string {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (e) {
    throw unreadable(path, what, e, hint);
  }
  if (isDirectory) throw new LocalFileError(path, `is a folder, not ${what}`, hint ?? `name the ${what} inside it`);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw unreadable(path, what, e, hint);
  }
}

function unreadable(path: string, what: string, e: unknown, hint?: string): LocalFileError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new LocalFileError(path, `does not exist (${what})`, hint);
  if (code === 'EACCES' || code === 'EPERM')
    return new LocalFileError(path, `cannot be read (${what}): permission denied`, hint);
  return new LocalFileError(path, `cannot be read (${what}): ${(e as Error).message}`, hint);
}
