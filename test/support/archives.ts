/**
 * Zip and tar writers for test fixtures (no system tools needed): the agent's tests' builders, which
 * also write modes, directories, links and hostile names (test/agent/support.ts).
 */
import { tar, tgz, zip as zipEntries } from '../agent/support.js';

export { tar, tgz };

/** A zip of `files`, deflated unless `deflate` is false (stored). */
export const zip = (files: Record<string, string>, deflate = true): Buffer => zipEntries(files, { store: !deflate });
