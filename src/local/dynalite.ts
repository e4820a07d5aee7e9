/** dynalite in-process: DynamoDB's API on loopback for local mode and tests. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadLocalModePackage } from './optional-deps.js';
import { StoreLockedError } from './state-dir.js';

/**
 * LevelDB lets one process hold a store folder. dynalite does not say when it cannot open it: its
 * first request then dies with "Database is closed" out of a callback. Open the folder first, here,
 * so a store held by another process is a StoreLockedError the caller can explain.
 */
async function checkNotLocked(path: string): Promise<void> {
  const { Level } = await loadLocalModePackage('level');
  const db = new Level(path);
  try {
    await db.open();
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') throw new StoreLockedError(path);
    throw e;
  }
  await db.close();
}

export async function startDynalite(
  opts: { path?: string } = {},
): Promise<{ endpoint: string; close(): Promise<void> }> {
  // An optional dependency (src/local/optional-deps.ts), loaded when local mode starts.
  const { default: dynalite } = await loadLocalModePackage('dynalite');
  if (opts.path) await checkNotLocked(opts.path);
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(opts.path ? { path: opts.path } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: the local store is never reachable from other machines.
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  // dynalite closes its database when the server closes, even while a request it already read is
  // still between its reads and writes; that write then throws "Database is closed" out of a
  // callback. Count requests until dynalite answers them (res.end), and close only when none is left.
  let inFlight = 0;
  const idle: (() => void)[] = [];
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      try {
        return end(...args);
      } finally {
        if (--inFlight === 0) for (const f of idle.splice(0)) f();
      }
    }) as typeof res.end;
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      // Bounded: a request dynalite never answers must not keep the process alive.
      if (inFlight > 0)
        await new Promise<void>((resolve) => {
          idle.push(resolve);
          setTimeout(resolve, 5000).unref();
        });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
