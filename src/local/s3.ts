/**
 * s3rver in-process: S3's real API on loopback for local mode. Object-created events are emitted
 * in S3's notification shape, so the same S3 trigger code can consume them.
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** The bucket local mode creates for revision uploads. */
export const LOCAL_REVISION_BUCKET = 'cutover-revisions';

export interface LocalS3 {
  endpoint: string;
  /** Subscribe to S3 event notifications ({Records: [...]}) for uploads. */
  onEvent(listener: (event: unknown) => void): void;
  close(): Promise<void>;
}

export async function startS3(opts: { directory?: string; port?: number } = {}): Promise<LocalS3> {
  const directory = opts.directory ?? mkdtempSync(join(tmpdir(), 'cutover-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: opts.port ?? 0,
    silent: true,
    directory,
    resetOnClose: opts.directory === undefined,
    vhostBuckets: false,
    configureBuckets: [{ name: LOCAL_REVISION_BUCKET }],
  });
  // s3rver's listen has no error path (a busy port is an unhandled 'error' event that kills the
  // process): see that the port is free first, and fail as a listen would (EADDRINUSE).
  if (opts.port) await portFree(opts.port, '127.0.0.1');
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    onEvent: (listener) => server.on('event', listener),
    close: () => server.close(),
  };
}

/** Resolves when `port` can be listened on; rejects with the listen error (EADDRINUSE) otherwise. */
function portFree(port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}
