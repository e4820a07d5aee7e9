/** dynalite in-process: DynamoDB's API on loopback for local mode and tests. */
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

export async function startDynalite(
  opts: { path?: string } = {},
): Promise<{ endpoint: string; close(): Promise<void> }> {
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
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
