/**
 * Test helpers for the agent: bundles built byte by byte (tar, tgz, zip, with modes, directories,
 * links and hostile names), temporary roots, a fake engine speaking the command API's JSON 1.1 and
 * a fake S3, both on 127.0.0.1.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';

export type Entry =
  | { name: string; type?: 'file'; content: string | Buffer; mode?: number }
  | { name: string; type: 'dir'; mode?: number }
  | { name: string; type: 'symlink'; target: string }
  | { name: string; type: 'hardlink'; target: string }
  | { name: string; type: 'fifo' };

const files = (spec: Record<string, string> | Entry[]): Entry[] =>
  Array.isArray(spec) ? spec : Object.entries(spec).map(([name, content]) => ({ name, content }));

function tarHeader(name: string, type: string, size: number, mode: number, link = ''): Buffer {
  const h = Buffer.alloc(512);
  if (Buffer.byteLength(name) > 100) throw new Error('use a shorter name in tests');
  h.write(name, 0, 100, 'utf8');
  h.write(`${mode.toString(8).padStart(7, '0')}\0`, 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write(
    `${Math.floor(Date.UTC(2024, 0, 2) / 1000)
      .toString(8)
      .padStart(11, '0')}\0`,
    136,
  );
  h.write(type, 156);
  h.write(link, 157, 100, 'utf8');
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write('        ', 148);
  let sum = 0;
  for (const x of h) sum += x;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

export function tar(spec: Record<string, string> | Entry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of files(spec)) {
    if (e.type === 'dir') parts.push(tarHeader(e.name, '5', 0, e.mode ?? 0o755));
    else if (e.type === 'symlink') parts.push(tarHeader(e.name, '2', 0, 0o777, e.target));
    else if (e.type === 'hardlink') parts.push(tarHeader(e.name, '1', 0, 0o644, e.target));
    else if (e.type === 'fifo') parts.push(tarHeader(e.name, '6', 0, 0o644));
    else {
      const data = Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content);
      parts.push(
        tarHeader(e.name, '0', data.length, e.mode ?? 0o644),
        data,
        Buffer.alloc((512 - (data.length % 512)) % 512),
      );
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export const tgz = (spec: Record<string, string> | Entry[]): Buffer => gzipSync(tar(spec));

/** A zip (made on Unix: modes and links in the external attributes), deflated unless `store`. */
export function zip(spec: Record<string, string> | Entry[], opts: { store?: boolean; lieAboutSize?: boolean } = {}) {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  const list = files(spec);
  for (const e of list) {
    let data: Buffer;
    let unix: number;
    let name = e.name;
    if (e.type === 'dir') {
      data = Buffer.alloc(0);
      unix = 0o040000 | (e.mode ?? 0o755);
      if (!name.endsWith('/')) name += '/';
    } else if (e.type === 'symlink') {
      data = Buffer.from(e.target);
      unix = 0o120000 | 0o777;
    } else if (e.type === 'file' || e.type === undefined) {
      data = Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content);
      unix = 0o100000 | (e.mode ?? 0o644);
    } else throw new Error(`zip: no ${e.type} entries`);
    const deflate = !opts.store && data.length > 0;
    const body = deflate ? deflateRawSync(data) : data;
    const nameBuf = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const size = opts.lieAboutSize ? 1 : data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(deflate ? 8 : 0, 10);
    central.writeUInt16LE(0x6000, 12);
    central.writeUInt16LE(((2024 - 1980) << 9) | (1 << 5) | 2, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE((unix << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, body);
    centrals.push(central, nameBuf);
    offset += 30 + nameBuf.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(list.length, 8);
  end.writeUInt16LE(list.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'cutover-agent-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Write files (path → content; a trailing `!` in the path marks it executable) under `dir`. */
export function writeTree(dir: string, tree: Record<string, string>): void {
  for (const [rel, content] of Object.entries(tree)) {
    const exec = rel.endsWith('!');
    const path = join(dir, exec ? rel.slice(0, -1) : rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    if (exec) chmodSync(path, 0o755);
  }
}

export interface Received {
  target: string;
  operation: string;
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

/** An HTTP server on 127.0.0.1 whose handler answers each JSON 1.1 request; it records them all. */
export async function fakeEngine(
  answer: (operation: string, body: Record<string, unknown>) => { status?: number; body: unknown } | undefined,
): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.split('.').at(-1) ?? '';
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      received.push({ target, operation, body, headers: req.headers });
      const a = answer(operation, body) ?? { body: {} };
      res.writeHead(a.status ?? 200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** A fake S3 on 127.0.0.1 serving objects by /<bucket>/<key> (path-style), with their MD5 ETags. */
export async function fakeS3(
  objects: Record<string, Buffer>,
  patch: (key: string) => { etag?: string; truncate?: number; length?: number } = () => ({}),
) {
  const requests: { url: string; headers: IncomingMessage['headers'] }[] = [];
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    const path = decodeURIComponent((req.url ?? '').split('?')[0]!.slice(1));
    const data = objects[path];
    if (!data) {
      res
        .writeHead(404, { 'content-type': 'application/xml' })
        .end('<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
      return;
    }
    const p = patch(path);
    const etag = p.etag ?? `"${createHash('md5').update(data).digest('hex')}"`;
    const body = p.truncate !== undefined ? data.subarray(0, p.truncate) : data;
    res.writeHead(200, { etag, 'content-length': String(p.length ?? data.length) });
    res.end(body);
    if (p.truncate !== undefined) res.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A TEXT/JSON deployment specification envelope. */
export function specEnvelope(patch: Record<string, unknown> = {}, revision?: Record<string, unknown>) {
  return {
    Format: 'TEXT/JSON',
    Payload: JSON.stringify({
      DeploymentId: 'd-AAAAAAAAA',
      DeploymentGroupId: 'dg-1111',
      DeploymentGroupName: 'web-prod',
      ApplicationName: 'shop',
      Revision: revision ?? {
        RevisionType: 'S3',
        S3Revision: { Bucket: 'bundles', Key: 'web/r1.tgz', BundleType: 'tgz' },
      },
      ...patch,
    }),
  };
}
