/**
 * Unpacking a revision bundle (zip, tar, tgz) into its deployment-archive directory, streaming, with
 * node:zlib only (the engine reads AppSpecs out of bundles the same way, src/adapters/system/bundles.ts).
 *
 * Refused, with the reason (BundleRefusedError): an entry whose name is absolute or climbs out with
 * `..`; an entry under a symbolic link of the archive (writing through it); a symbolic link whose
 * target is absolute or resolves outside the archive; device and FIFO entries; encrypted or
 * unknown-method zip entries; an archive that unpacks to more than the size or entry limits; a
 * damaged archive (bad checksums, sizes that lie). Modes and modification times are kept (as
 * `tar -xpf` and `unzip` keep them); owners are not: the archive's numeric ids mean someone else
 * on this host, so installed files belong to the agent unless the AppSpec's permissions say otherwise.
 */
import {
  closeSync,
  copyFileSync,
  createReadStream,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  rmdirSync,
  chmodSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
  fstatSync,
  lutimesSync,
  type Stats,
} from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip, createInflateRaw, crc32 } from 'node:zlib';
import type { BundleType } from './spec.js';

export class BundleRefusedError extends Error {
  override readonly name = 'BundleRefusedError';
}

export interface UnpackLimits {
  /** Largest total size of the unpacked files (a zip bomb stops here). */
  maxBytes: number;
  /** Most entries. */
  maxEntries: number;
}
export const DEFAULT_UNPACK_LIMITS: UnpackLimits = { maxBytes: 8 * 1024 ** 3, maxEntries: 200_000 };

const mib = (n: number) =>
  n >= 1024 ** 2 ? `${Math.round((n / 1024 ** 2) * 10) / 10} MiB` : `${Math.round((n / 1024) * 10) / 10} KiB`;

/** Unpack `file` (a `type` archive) into `dest` (created; must not exist or be empty). */
export async function unpackBundle(
  file: string,
  type: BundleType,
  dest: string,
  limits: UnpackLimits = DEFAULT_UNPACK_LIMITS,
): Promise<void> {
  mkdirSync(dest, { recursive: true });
  const out = new Writer(dest, limits);
  if (type === 'zip') await unzip(file, out);
  else {
    const input: Readable = createReadStream(file);
    const stream = type === 'tgz' ? input.pipe(createGunzip()) : input;
    if (type === 'tgz') input.on('error', (e) => stream.destroy(e));
    try {
      await untar(new ByteReader(stream), out);
    } catch (e) {
      if (e instanceof BundleRefusedError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (type === 'tgz' && typeof code === 'string' && code.startsWith('Z_'))
        throw new BundleRefusedError(`the tgz bundle is not valid gzip (${(e as Error).message})`);
      throw e;
    } finally {
      input.destroy();
      stream.destroy();
    }
  }
  out.finish();
}

/**
 * CodeDeploy's rule: when the archive's root holds a single directory that contains an AppSpec
 * (any name matching /appspec/i), that directory is the bundle root.
 */
export function stripSingleTopDirectory(archiveDir: string): string | undefined {
  const entries = readdirSync(archiveDir);
  if (entries.length !== 1) return undefined;
  const only = join(archiveDir, entries[0]!);
  const st = lstatSync(only);
  if (!st.isDirectory() || !readdirSync(only).some((n) => /appspec/i.test(n))) return undefined;
  const tmp = `${archiveDir}-temp`;
  rmSync(tmp, { recursive: true, force: true });
  renameSync(archiveDir, tmp);
  renameSync(join(tmp, entries[0]!), archiveDir);
  rmdirSync(tmp);
  return entries[0];
}

/** Writes entries under the root, enforcing the rules above. */
class Writer {
  private bytes = 0;
  private entries = 0;
  private readonly dirTimes: [string, Date | undefined, number | undefined][] = [];
  private readonly links: string[] = [];

  constructor(
    private readonly root: string,
    private readonly limits: UnpackLimits,
  ) {}

  /** The absolute path of an entry, or a refusal. */
  path(name: string): string {
    if (name.includes('\0'))
      throw new BundleRefusedError(`the bundle entry ${JSON.stringify(name)} contains a NUL character`);
    const slashed = name.replace(/\\/g, '/');
    if (slashed.startsWith('/') || /^[A-Za-z]:/.test(slashed))
      throw new BundleRefusedError(
        `the bundle entry ${JSON.stringify(name)} is an absolute path (it points outside the archive)`,
      );
    const parts = slashed.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..'))
      throw new BundleRefusedError(
        `the bundle entry ${JSON.stringify(name)} points outside the archive (it contains ..)`,
      );
    if (parts.length === 0) return this.root;
    return join(this.root, ...parts);
  }

  private count(): void {
    if (++this.entries > this.limits.maxEntries)
      throw new BundleRefusedError(`the bundle has more than ${this.limits.maxEntries} entries (the limit)`);
  }

  /** Refuse totals known in advance (a zip's central directory). */
  precheck(bytes: number, entries: number): void {
    if (!Number.isSafeInteger(bytes) || bytes > this.limits.maxBytes)
      throw new BundleRefusedError(
        `the bundle unpacks to more than ${mib(this.limits.maxBytes)} (the limit; see --max-unpacked-mb)`,
      );
    if (entries > this.limits.maxEntries)
      throw new BundleRefusedError(`the bundle has more than ${this.limits.maxEntries} entries (the limit)`);
  }

  add(bytes: number): void {
    this.bytes += bytes;
    if (this.bytes > this.limits.maxBytes)
      throw new BundleRefusedError(
        `the bundle unpacks to more than ${mib(this.limits.maxBytes)} (the limit; see --max-unpacked-mb)`,
      );
  }

  /** Refuse to write under a symbolic link of the archive; create the missing parent directories. */
  private parents(abs: string, name: string): void {
    const rel = relative(this.root, dirname(abs));
    let at = this.root;
    for (const part of rel === '' ? [] : rel.split(sep)) {
      at = join(at, part);
      let st: Stats | undefined;
      try {
        st = lstatSync(at);
      } catch {
        st = undefined;
      }
      if (!st) mkdirSync(at);
      else if (st.isSymbolicLink())
        throw new BundleRefusedError(
          `the bundle entry ${JSON.stringify(name)} is under the symbolic link ${JSON.stringify(relative(this.root, at))}`,
        );
      else if (!st.isDirectory())
        throw new BundleRefusedError(
          `the bundle entry ${JSON.stringify(name)} is under the file ${JSON.stringify(relative(this.root, at))}`,
        );
    }
  }

  /** Remove what an earlier entry of the same name left (never writing through it). */
  private replace(abs: string, name: string, dir: boolean): boolean {
    let st: Stats;
    try {
      st = lstatSync(abs);
    } catch {
      return false;
    }
    if (st.isDirectory()) {
      if (dir) return true;
      throw new BundleRefusedError(`the bundle entry ${JSON.stringify(name)} would replace a directory of the archive`);
    }
    unlinkSync(abs);
    return false;
  }

  directory(name: string, mode: number | undefined, mtime: Date | undefined): void {
    this.count();
    const abs = this.path(name);
    if (abs === this.root) return;
    this.parents(abs, name);
    if (!this.replace(abs, name, true)) mkdirSync(abs, 0o700);
    // Writable until the end; its own mode and time are set once its entries are in.
    this.dirTimes.push([abs, mtime, mode]);
  }

  /** Create a regular file; returns a sink for its bytes, then `close` sets its mode and time. */
  file(name: string): { fd: number; abs: string } {
    this.count();
    const abs = this.path(name);
    if (abs === this.root) throw new BundleRefusedError(`the bundle entry ${JSON.stringify(name)} has no name`);
    this.parents(abs, name);
    this.replace(abs, name, false);
    return { fd: openSync(abs, 'wx', 0o600), abs };
  }

  close(f: { fd: number; abs: string }, mode: number | undefined, mtime: Date | undefined): void {
    closeSync(f.fd);
    chmodSync(f.abs, mode ?? 0o644);
    if (mtime) utimesSync(f.abs, mtime, mtime);
  }

  symlink(name: string, target: string, mtime: Date | undefined): void {
    this.count();
    const abs = this.path(name);
    if (abs === this.root) throw new BundleRefusedError(`the bundle entry ${JSON.stringify(name)} has no name`);
    if (target === '' || target.includes('\0'))
      throw new BundleRefusedError(`the symbolic link ${JSON.stringify(name)} has no valid target`);
    if (isAbsolute(target) || /^[A-Za-z]:/.test(target))
      throw new BundleRefusedError(
        `the symbolic link ${JSON.stringify(name)} points outside the archive (to the absolute path ${JSON.stringify(target)})`,
      );
    const to = resolve(dirname(abs), target);
    if (!this.inside(to))
      throw new BundleRefusedError(
        `the symbolic link ${JSON.stringify(name)} points outside the archive (to ${JSON.stringify(target)})`,
      );
    this.parents(abs, name);
    this.replace(abs, name, false);
    symlinkSync(target, abs);
    if (mtime) lutimesSync(abs, mtime, mtime);
    this.links.push(abs);
  }

  /** A hard link (tar): a copy of an earlier regular file of the archive. */
  hardlink(name: string, target: string, mtime: Date | undefined): void {
    const from = this.path(target);
    let st: Stats | undefined;
    try {
      st = lstatSync(from);
    } catch {
      st = undefined;
    }
    if (!st?.isFile())
      throw new BundleRefusedError(
        `the hard link ${JSON.stringify(name)} points to ${JSON.stringify(target)}, which is not a file of the archive`,
      );
    this.add(st.size);
    const f = this.file(name);
    closeSync(f.fd);
    unlinkSync(f.abs);
    copyFileSync(from, f.abs);
    chmodSync(f.abs, st.mode & 0o7777);
    if (mtime) utimesSync(f.abs, mtime, mtime);
  }

  private inside(p: string): boolean {
    const rel = relative(this.root, p);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  }

  /** Links that resolve through other links must still land inside; then the directories' times. */
  finish(): void {
    for (const link of this.links)
      if (this.resolvesOutside(link))
        throw new BundleRefusedError(
          `the symbolic link ${JSON.stringify(relative(this.root, link))} resolves outside the archive (through other links)`,
        );
    for (const [dir, time, mode] of this.dirTimes.reverse()) {
      chmodSync(dir, mode ?? 0o755);
      if (time) utimesSync(dir, time, time);
    }
  }

  /**
   * Resolve a path of the archive component by component, following the archive's links (a missing
   * component is taken as written): does it ever climb above the root? Loops count as outside.
   */
  private resolvesOutside(path: string): boolean {
    const stack: string[] = [];
    let queue = relative(this.root, path).split(sep);
    let hops = 0;
    while (queue.length > 0) {
      const part = queue.shift()!;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (stack.length === 0) return true;
        stack.pop();
        continue;
      }
      stack.push(part);
      let target: string | undefined;
      try {
        if (lstatSync(join(this.root, ...stack)).isSymbolicLink()) target = readlinkSync(join(this.root, ...stack));
      } catch {
        target = undefined;
      }
      if (target === undefined) continue;
      if (++hops > 40 || isAbsolute(target)) return true;
      stack.pop();
      queue = [...target.split('/'), ...queue];
    }
    return false;
  }
}

// ---------------------------------------------------------------------------------------------- tar

/** Reads exact byte counts from a stream. */
class ByteReader {
  private readonly it: AsyncIterator<Buffer>;
  private buf: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(stream: Readable) {
    this.it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buf.length < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else this.buf = this.buf.length === 0 ? r.value : Buffer.concat([this.buf, r.value]);
    }
    return this.buf.length >= n;
  }

  /** Exactly n bytes, or undefined at the end of the stream (a short read is damage). */
  async read(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) {
      if (this.buf.length === 0) return undefined;
      throw new BundleRefusedError('the tar bundle ends in the middle of an entry (it is truncated)');
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Pass n bytes to `sink` chunk by chunk. */
  async pass(n: number, sink: (chunk: Buffer) => void): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.fill(1)))
        throw new BundleRefusedError('the tar bundle ends in the middle of an entry (it is truncated)');
      const take = Math.min(left, this.buf.length);
      sink(this.buf.subarray(0, take));
      this.buf = this.buf.subarray(take);
      left -= take;
    }
  }
}

function octal(h: Buffer, from: number, len: number, what: string): number {
  const first = h[from]!;
  if (first & 0x80) {
    // GNU base-256: big-endian, the high bit of the first byte is the marker.
    let n = first & 0x7f;
    for (let i = 1; i < len; i++) n = n * 256 + h[from + i]!;
    if (!Number.isSafeInteger(n)) throw new BundleRefusedError(`the tar bundle has a ${what} that is too large`);
    return n;
  }
  const s = h
    .toString('latin1', from, from + len)
    .replace(/\0.*$/s, '')
    .trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s))
    throw new BundleRefusedError(`the tar bundle has a damaged header (${what} ${JSON.stringify(s)})`);
  return parseInt(s, 8);
}

const cstring = (h: Buffer, from: number, len: number) => h.toString('utf8', from, from + len).replace(/\0.*$/s, '');

/** pax extended header records: `<len> <key>=<value>\n`. */
function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let p = 0;
  while (p < data.length) {
    const space = data.indexOf(0x20, p);
    if (space < 0) break;
    const len = Number(data.toString('latin1', p, space));
    if (!Number.isInteger(len) || len <= 0 || p + len > data.length)
      throw new BundleRefusedError('the tar bundle has a damaged pax header');
    const record = data.toString('utf8', space + 1, p + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    p += len;
  }
  return out;
}

const MAX_META = 1024 * 1024;

async function untar(r: ByteReader, out: Writer): Promise<void> {
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  for (;;) {
    const h = await r.read(512);
    if (!h || h.every((b) => b === 0)) return;
    const sum = octal(h, 148, 8, 'checksum');
    let unsigned = 0;
    let signed = 0;
    for (let i = 0; i < 512; i++) {
      const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
      unsigned += b;
      signed += b > 127 ? b - 256 : b;
    }
    if (sum !== unsigned && sum !== signed)
      throw new BundleRefusedError('the tar bundle has a damaged header (checksum mismatch; it is not a tar archive?)');
    const type = String.fromCharCode(h[156]!) === '\0' ? '0' : String.fromCharCode(h[156]!);
    const size = pax.size !== undefined ? Number(pax.size) : octal(h, 124, 12, 'size');
    if (!Number.isSafeInteger(size) || size < 0)
      throw new BundleRefusedError('the tar bundle has a damaged entry size');
    const padded = Math.ceil(size / 512) * 512;
    const meta = async () => {
      if (size > MAX_META) throw new BundleRefusedError('the tar bundle has an oversized extended header');
      const d = (await r.read(padded)) ?? Buffer.alloc(0);
      if (d.length < padded) throw new BundleRefusedError('the tar bundle is truncated');
      return d.subarray(0, size);
    };
    if (type === 'L') {
      longName = (await meta()).toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (type === 'K') {
      longLink = (await meta()).toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (type === 'x') {
      pax = { ...pax, ...paxRecords(await meta()) };
      continue;
    }
    if (type === 'g') {
      await meta(); // global pax header: nothing Cutover uses
      continue;
    }
    const ustar = h.toString('latin1', 257, 262) === 'ustar';
    const prefix = ustar ? cstring(h, 345, 155) : '';
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${cstring(h, 0, 100)}` : cstring(h, 0, 100));
    const link = pax.linkpath ?? longLink ?? cstring(h, 157, 100);
    const mode = octal(h, 100, 8, 'mode') & 0o7777;
    const mtimeS = pax.mtime !== undefined ? Number(pax.mtime) : octal(h, 136, 12, 'mtime');
    const mtime = Number.isFinite(mtimeS) ? new Date(mtimeS * 1000) : undefined;
    longName = undefined;
    longLink = undefined;
    pax = {};
    switch (type) {
      case '0':
      case '7': {
        if (name.endsWith('/') && size === 0) {
          out.directory(name, mode, mtime);
          break;
        }
        out.add(size);
        const f = out.file(name);
        try {
          await r.pass(size, (chunk) => void writeSync(f.fd, chunk));
        } catch (e) {
          closeSync(f.fd);
          throw e;
        }
        out.close(f, mode, mtime);
        await r.pass(padded - size, () => undefined);
        continue;
      }
      case '5':
        out.directory(name, mode, mtime);
        break;
      case 'D': // GNU dumpdir: a directory and the list of its names
        out.directory(name, mode, mtime);
        await r.pass(padded, () => undefined);
        continue;
      case '2':
        out.symlink(name, link, mtime);
        break;
      case '1':
        out.hardlink(name, link, mtime);
        break;
      case 'V':
        break;
      case '3':
      case '4':
      case '6':
        throw new BundleRefusedError(
          `the bundle entry ${JSON.stringify(name)} is a ${type === '6' ? 'FIFO' : 'device'}, which a bundle may not contain`,
        );
      default:
        throw new BundleRefusedError(
          `the bundle entry ${JSON.stringify(name)} has the tar type ${JSON.stringify(type)}, which Cutover does not unpack`,
        );
    }
    await r.pass(padded, () => undefined);
  }
}

// ---------------------------------------------------------------------------------------------- zip

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressed: number;
  size: number;
  offset: number;
  unixMode?: number;
  mtime: Date;
}

const MAX_CENTRAL_DIRECTORY = 64 * 1024 * 1024;

function readAt(fd: number, position: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, b, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  if (got < length) throw new BundleRefusedError('the zip bundle is truncated (an offset points past its end)');
  return b;
}

/** MS-DOS date and time to a Date (local time, as zip tools write it). */
function dosTime(date: number, time: number): Date {
  return new Date(1980 + (date >> 9), ((date >> 5) & 15) - 1, date & 31, time >> 11, (time >> 5) & 63, (time & 31) * 2);
}

function centralDirectory(fd: number, fileSize: number): ZipEntry[] {
  const tailLen = Math.min(fileSize, 22 + 0xffff);
  const tail = readAt(fd, fileSize - tailLen, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--)
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) throw new BundleRefusedError('the zip bundle is not a valid zip archive (no end of central directory)');
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locAt = fileSize - tailLen + eocd - 20;
    const loc = locAt >= 0 ? readAt(fd, locAt, 20) : undefined;
    if (!loc || loc.readUInt32LE(0) !== 0x07064b50)
      throw new BundleRefusedError('the zip bundle has a damaged zip64 locator');
    const recAt = Number(loc.readBigUInt64LE(8));
    const rec = readAt(fd, recAt, 56);
    if (rec.readUInt32LE(0) !== 0x06064b50)
      throw new BundleRefusedError('the zip bundle has a damaged zip64 directory');
    count = Number(rec.readBigUInt64LE(32));
    cdSize = Number(rec.readBigUInt64LE(40));
    cdOffset = Number(rec.readBigUInt64LE(48));
  }
  if (cdSize > MAX_CENTRAL_DIRECTORY) throw new BundleRefusedError('the zip bundle has an oversized central directory');
  const cd = readAt(fd, cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50)
      throw new BundleRefusedError('the zip bundle has a damaged central directory');
    const madeBy = cd.readUInt16LE(p + 4) >> 8;
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    const time = cd.readUInt16LE(p + 12);
    const date = cd.readUInt16LE(p + 14);
    const crc = cd.readUInt32LE(p + 16);
    let compressed = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    const external = cd.readUInt32LE(p + 38);
    let offset = cd.readUInt32LE(p + 42);
    if (p + 46 + nameLen + extraLen > cd.length)
      throw new BundleRefusedError('the zip bundle has a damaged central directory');
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    const extra = cd.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen);
    for (let e = 0; e + 4 <= extra.length;) {
      const id = extra.readUInt16LE(e);
      const len = extra.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        const next = () => {
          if (q + 8 > e + 4 + len) throw new BundleRefusedError(`the zip entry ${name} has a damaged zip64 field`);
          const v = Number(extra.readBigUInt64LE(q));
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressed === 0xffffffff) compressed = next();
        if (offset === 0xffffffff) offset = next();
      }
      e += 4 + len;
    }
    entries.push({
      name,
      method,
      flags,
      crc,
      compressed,
      size,
      offset,
      ...(madeBy === 3 && external >>> 16 !== 0 ? { unixMode: external >>> 16 } : {}),
      mtime: dosTime(date, time),
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

async function unzip(file: string, out: Writer): Promise<void> {
  const fd = openSync(file, 'r');
  try {
    const entries = centralDirectory(fd, fstatSync(fd).size);
    // Declared sizes first: a bomb is refused before a byte is written (and again while inflating,
    // since an entry may not grow past what it declares).
    out.precheck(
      entries.reduce((s, e) => s + e.size, 0),
      entries.length,
    );
    for (const e of entries) await unzipEntry(fd, file, e, out);
  } finally {
    closeSync(fd);
  }
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;

async function unzipEntry(fd: number, file: string, e: ZipEntry, out: Writer): Promise<void> {
  const kind = e.unixMode !== undefined ? e.unixMode & S_IFMT : 0;
  const mode = e.unixMode !== undefined ? e.unixMode & 0o777 : undefined;
  if (e.name.endsWith('/') || kind === S_IFDIR) return out.directory(e.name, mode, e.mtime);
  if (kind !== 0 && kind !== S_IFREG && kind !== S_IFLNK)
    throw new BundleRefusedError(
      `the bundle entry ${JSON.stringify(e.name)} is a special file, which a bundle may not contain`,
    );
  if (e.flags & 1) throw new BundleRefusedError(`the zip entry ${JSON.stringify(e.name)} is encrypted`);
  if (e.method !== 0 && e.method !== 8)
    throw new BundleRefusedError(
      `the zip entry ${JSON.stringify(e.name)} uses compression method ${e.method}; use deflate or store`,
    );
  const local = readAt(fd, e.offset, 30);
  if (local.readUInt32LE(0) !== 0x04034b50)
    throw new BundleRefusedError(`the zip entry ${JSON.stringify(e.name)} is damaged`);
  const start = e.offset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (kind === S_IFLNK) {
    if (e.size > 4096 || e.compressed > 65536)
      throw new BundleRefusedError(`the symbolic link ${JSON.stringify(e.name)} has an oversized target`);
    const raw = e.compressed === 0 ? Buffer.alloc(0) : readAt(fd, start, e.compressed);
    const chunks: Buffer[] = [];
    await inflateTo(raw, e, (c) => chunks.push(c));
    return out.symlink(e.name, Buffer.concat(chunks).toString('utf8'), e.mtime);
  }
  out.add(e.size);
  const f = out.file(e.name);
  try {
    const input = e.compressed === 0 ? undefined : createReadStream(file, { start, end: start + e.compressed - 1 });
    await inflateTo(input, e, (c) => void writeSync(f.fd, c));
  } catch (err) {
    closeSync(f.fd);
    throw err;
  }
  out.close(f, mode, e.mtime);
}

/** Stream an entry's data through inflate (or as stored), checking its size and CRC-32. */
async function inflateTo(
  input: Readable | Buffer | undefined,
  e: ZipEntry,
  sink: (chunk: Buffer) => void,
): Promise<void> {
  let crc = 0;
  let n = 0;
  const take = (chunk: Buffer) => {
    n += chunk.length;
    if (n > e.size)
      throw new BundleRefusedError(
        `the zip entry ${JSON.stringify(e.name)} is larger than the ${e.size} bytes it declares`,
      );
    crc = crc32(chunk, crc);
    sink(chunk);
  };
  if (input !== undefined) {
    const source: Readable = Buffer.isBuffer(input) ? Readable.from([input]) : input;
    const stream = e.method === 8 ? source.pipe(createInflateRaw()) : source;
    if (e.method === 8) source.on('error', (err) => stream.destroy(err));
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) take(chunk);
    } catch (err) {
      if (err instanceof BundleRefusedError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (typeof code === 'string' && code.startsWith('Z_'))
        throw new BundleRefusedError(
          `the zip entry ${JSON.stringify(e.name)} has corrupt deflate data (${(err as Error).message})`,
        );
      throw err;
    } finally {
      source.destroy();
      stream.destroy();
    }
  }
  if (n !== e.size)
    throw new BundleRefusedError(
      `the zip entry ${JSON.stringify(e.name)} is ${n} bytes, not the ${e.size} it declares`,
    );
  if (crc >>> 0 !== e.crc >>> 0)
    throw new BundleRefusedError(`the zip entry ${JSON.stringify(e.name)} fails its CRC-32 check`);
}
