/**
 * Reads the AppSpec of a revision bundle in memory, with size limits (nothing is written to disk):
 * zip (stored or deflated entries), tar and tgz, with node:zlib. Whatever is wrong with an archive
 * (a damaged header, a size that lies, corrupt deflate data, an offset past the end) is reported as
 * an invalid revision with the reason, never as an internal error.
 */
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { MAX_APPSPEC_BYTES } from '../../domain/appspec.js';
import { APPSPEC_NAMES, MAX_BUNDLE_BYTES, type BundleType } from '../../domain/bundle.js';
import { InvalidInputError } from '../../domain/errors.js';
import type { Bundles } from '../../ports/index.js';

const invalid = (message: string, cause?: unknown) =>
  new InvalidInputError([{ path: 'revision', message }], 'InvalidRevisionException', undefined, { cause });

export class ZlibBundles implements Bundles {
  appSpecOf(data: Uint8Array, type: BundleType): string {
    try {
      return appSpecFromBundle(data, type);
    } catch (e) {
      if (e instanceof InvalidInputError) throw e;
      // Whatever this reader did not foresee is still a damaged bundle: the cause stays on the error, not in
      // the message.
      throw invalid(`the ${type} bundle is damaged and cannot be read`, e);
    }
  }
}

/** The AppSpec text inside a bundle. Throws InvalidInputError (InvalidRevisionException) with the reason. */
function appSpecFromBundle(data: Uint8Array, type: BundleType): string {
  if (data.byteLength > MAX_BUNDLE_BYTES) throw invalid(`the bundle is larger than ${MAX_BUNDLE_BYTES} bytes`);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (type === 'YAML' || type === 'JSON') return text(buf);
  const files = type === 'zip' ? readZip(buf) : readTar(type === 'tgz' ? gunzip(buf) : buf);
  for (const name of APPSPEC_NAMES) {
    const f = files.get(name);
    if (f) return text(f());
  }
  const listed = [...files.keys()].slice(0, 10).join(', ');
  throw invalid(
    `the ${type} bundle has no ${APPSPEC_NAMES.join(', ')} at its root${listed ? ` (found: ${listed})` : ' (it is empty)'}`,
  );
}

function text(b: Buffer): string {
  if (b.byteLength > MAX_APPSPEC_BYTES) throw invalid(`the AppSpec is larger than ${MAX_APPSPEC_BYTES} bytes`);
  return b.toString('utf8');
}

function gunzip(b: Buffer): Buffer {
  try {
    return gunzipSync(b, { maxOutputLength: MAX_BUNDLE_BYTES });
  } catch (e) {
    throw invalid(`the tgz bundle is not valid gzip (${(e as Error).message})`);
  }
}

function inflate(raw: Buffer, name: string): Buffer {
  try {
    return inflateRawSync(raw, { maxOutputLength: MAX_APPSPEC_BYTES + 1 });
  } catch (e) {
    throw invalid(`the zip entry ${name} has corrupt deflate data (${(e as Error).message})`, e);
  }
}

/** Root-level files of a zip archive, read lazily (central directory, stored or deflated entries). */
function readZip(b: Buffer): Map<string, () => Buffer> {
  const files = new Map<string, () => Buffer>();
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) {
    if (b.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw invalid('the zip bundle is not a valid zip archive (no end of central directory)');
  const count = b.readUInt16LE(eocd + 10);
  let p = b.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (p + 46 > b.length || b.readUInt32LE(p) !== 0x02014b50)
      throw invalid('the zip bundle has a damaged central directory');
    const method = b.readUInt16LE(p + 10);
    const compressed = b.readUInt32LE(p + 20);
    const size = b.readUInt32LE(p + 24);
    const nameLen = b.readUInt16LE(p + 28);
    const extraLen = b.readUInt16LE(p + 30);
    const commentLen = b.readUInt16LE(p + 32);
    const local = b.readUInt32LE(p + 42);
    const name = b.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (name.includes('/')) continue; // only the root matters
    if (p > b.length) throw invalid('the zip bundle has a damaged central directory (an entry runs past its end)');
    files.set(name, () => {
      if (size > MAX_APPSPEC_BYTES) throw invalid(`${name} is larger than ${MAX_APPSPEC_BYTES} bytes`);
      // An offset past the end (or into the last bytes) cannot hold a local header: damaged or forged.
      if (local + 30 > b.length)
        throw invalid(`the zip entry ${name} starts past the end of the archive (offset ${local}, ${b.length} bytes)`);
      if (b.readUInt32LE(local) !== 0x04034b50) throw invalid(`the zip entry ${name} has a damaged local header`);
      const start = local + 30 + b.readUInt16LE(local + 26) + b.readUInt16LE(local + 28);
      // A size that points past the end of the archive is a damaged (or forged) entry.
      if (start + compressed > b.length) throw invalid(`the zip entry ${name} extends past the end of the archive`);
      const raw = b.subarray(start, start + compressed);
      const data = method === 0 ? raw : method === 8 ? inflate(raw, name) : undefined;
      if (!data) throw invalid(`the zip entry ${name} uses compression method ${method}; use deflate or store`);
      if (data.length !== size)
        throw invalid(`the zip entry ${name} is ${data.length} bytes, not the ${size} it declares`);
      return data;
    });
  }
  return files;
}

/** Root-level regular files of a tar (ustar/GNU) archive. */
function readTar(b: Buffer): Map<string, () => Buffer> {
  const files = new Map<string, () => Buffer>();
  for (let p = 0; p + 512 <= b.length;) {
    const header = b.subarray(p, p + 512);
    if (header.every((x) => x === 0)) break;
    const field = (from: number, len: number) => header.toString('utf8', from, from + len).replace(/\0.*$/s, '');
    if (!checksumMatches(header)) throw invalid(`the tar bundle has a damaged header at offset ${p} (bad checksum)`);
    const sizeField = field(124, 12).trim();
    if (!/^[0-7]*$/.test(sizeField)) throw invalid(`the tar bundle has a damaged header at offset ${p} (size)`);
    const size = parseInt(sizeField || '0', 8);
    const prefix = header.toString('utf8', 257, 262) === 'ustar' ? field(345, 155) : '';
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const type = field(156, 1) || '0';
    const start = p + 512;
    // A size that reaches past the end is a truncated (or forged) archive, not a shorter file.
    if (start + size > b.length)
      throw invalid(`the tar entry ${name} extends past the end of the archive (the bundle is truncated)`);
    const clean = name.replace(/^\.\//, '');
    if ((type === '0' || type === '\0') && !clean.includes('/'))
      files.set(clean, () => b.subarray(start, start + size));
    p = start + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** The header's checksum: the sum of its bytes with the checksum field read as spaces (POSIX ustar, GNU). */
function checksumMatches(header: Buffer): boolean {
  const stored = header.toString('latin1', 148, 156).replace(/\0.*$/s, '').trim();
  if (!/^[0-7]+$/.test(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return parseInt(stored, 8) === sum;
}
