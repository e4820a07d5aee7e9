/**
 * Unpacking bundles on real directories: zip, tar and tgz with modes, directories and links; and
 * what is refused, with the reason: entries outside the archive, links pointing outside it,
 * writing through a link, devices, sizes over the limit, damaged archives.
 */
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BundleRefusedError, stripSingleTopDirectory, unpackBundle } from '../../src/agent/archive.js';
import { tar, tempDir, tgz, zip, type Entry } from './support.js';

let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir()));
afterEach(() => t.cleanup());

const TREE: Entry[] = [
  { name: 'appspec.yml', content: 'version: 0.0\nos: linux\n' },
  { name: 'scripts/', type: 'dir', mode: 0o750 },
  { name: 'scripts/start.sh', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
  { name: 'app/index.html', content: '<h1>r1</h1>' },
  { name: 'app/current', type: 'symlink', target: 'index.html' },
];

async function unpack(type: 'zip' | 'tar' | 'tgz', data: Buffer, limits?: { maxBytes: number; maxEntries: number }) {
  const file = join(t.dir, `bundle.${type}`);
  writeFileSync(file, data);
  const dest = join(t.dir, 'deployment-archive');
  await unpackBundle(file, type, dest, limits);
  return dest;
}

async function refusal(type: 'zip' | 'tar' | 'tgz', data: Buffer, limits?: { maxBytes: number; maxEntries: number }) {
  try {
    await unpack(type, data, limits);
  } catch (e) {
    expect(e).toBeInstanceOf(BundleRefusedError);
    return (e as Error).message;
  }
  throw new Error('expected the bundle to be refused');
}

describe('unpackBundle', () => {
  for (const [type, build] of [
    ['zip', zip],
    ['tar', tar],
    ['tgz', tgz],
  ] as const) {
    it(`${type}: files, directories, modes, times and relative links`, async () => {
      const dest = await unpack(type, build(TREE));
      expect(readdirSync(dest).sort()).toEqual(['app', 'appspec.yml', 'scripts']);
      expect(readFileSync(join(dest, 'app/index.html'), 'utf8')).toBe('<h1>r1</h1>');
      expect(statSync(join(dest, 'scripts/start.sh')).mode & 0o777).toBe(0o755);
      expect(statSync(join(dest, 'app/index.html')).mode & 0o777).toBe(0o644);
      expect(statSync(join(dest, 'scripts')).mode & 0o777).toBe(0o750);
      expect(lstatSync(join(dest, 'app/current')).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(dest, 'app/current'))).toBe('index.html');
      expect(statSync(join(dest, 'app/index.html')).mtime.getUTCFullYear()).toBe(2024);
    });

    it(`${type}: an entry that climbs out with .. or is absolute is refused, and nothing lands outside`, async () => {
      expect(await refusal(type, build({ 'ok.txt': 'x', '../evil.txt': 'pwned' }))).toBe(
        'the bundle entry "../evil.txt" points outside the archive (it contains ..)',
      );
      expect(existsSync(join(t.dir, 'evil.txt'))).toBe(false);
      expect(await refusal(type, build({ 'a/../../evil.txt': 'pwned' }))).toMatch(/points outside the archive/);
      expect(await refusal(type, build({ '/etc/evil.txt': 'pwned' }))).toBe(
        'the bundle entry "/etc/evil.txt" is an absolute path (it points outside the archive)',
      );
    });

    it(`${type}: links pointing outside the archive are refused; writing through a link is refused`, async () => {
      expect(await refusal(type, build([{ name: 'etc', type: 'symlink', target: '/etc' }]))).toBe(
        'the symbolic link "etc" points outside the archive (to the absolute path "/etc")',
      );
      expect(await refusal(type, build([{ name: 'a/up', type: 'symlink', target: '../../..' }]))).toBe(
        'the symbolic link "a/up" points outside the archive (to "../../..")',
      );
      // A link inside the archive to the archive's root, then an entry written through it.
      expect(
        await refusal(
          type,
          build([
            { name: 'here', type: 'symlink', target: '.' },
            { name: 'here/x.txt', content: 'through the link' },
          ]),
        ),
      ).toBe('the bundle entry "here/x.txt" is under the symbolic link "here"');
      // Two links that each stay inside, but together resolve outside.
      expect(
        await refusal(
          type,
          build([
            { name: 'd', type: 'symlink', target: '.' },
            { name: 'l', type: 'symlink', target: 'd/../outside' },
          ]),
        ),
      ).toBe('the symbolic link "l" resolves outside the archive (through other links)');
    });

    it(`${type}: more than the size limit is refused with the limit named`, async () => {
      const big = Buffer.alloc(300 * 1024, 'a');
      expect(
        await refusal(type, build([{ name: 'big.bin', content: big }]), { maxBytes: 256 * 1024, maxEntries: 100 }),
      ).toBe('the bundle unpacks to more than 256 KiB (the limit; see --max-unpacked-mb)');
      expect(await refusal(type, build({ a: '1', b: '2', c: '3' }), { maxBytes: 1024, maxEntries: 2 })).toBe(
        'the bundle has more than 2 entries (the limit)',
      );
    });
  }

  it('tar: devices and FIFOs are refused; hard links to files of the archive are copies', async () => {
    expect(await refusal('tar', tar([{ name: 'pipe', type: 'fifo' }]))).toBe(
      'the bundle entry "pipe" is a FIFO, which a bundle may not contain',
    );
    const dest = await unpack(
      'tar',
      tar([
        { name: 'a.txt', content: 'A' },
        { name: 'b.txt', type: 'hardlink', target: 'a.txt' },
      ]),
    );
    expect(readFileSync(join(dest, 'b.txt'), 'utf8')).toBe('A');
    expect(await refusal('tar', tar([{ name: 'b.txt', type: 'hardlink', target: '../../etc/passwd' }]))).toMatch(
      /points outside the archive/,
    );
  });

  it('damaged archives are refused with the reason', async () => {
    const damaged = tar({ 'a.txt': 'hello' });
    damaged[10] = 0x41; // inside the name: the checksum no longer matches
    expect(await refusal('tar', damaged)).toMatch(/checksum mismatch/);
    expect(await refusal('tar', tar({ 'a.txt': 'hello world' }).subarray(0, 520))).toMatch(/truncated/);
    expect(await refusal('tgz', Buffer.from('not gzip at all'))).toMatch(/not valid gzip/);
    expect(await refusal('zip', Buffer.from('not a zip'))).toMatch(/no end of central directory/);
    expect(await refusal('zip', zip({ 'a.txt': 'hello world' }, { lieAboutSize: true }))).toBe(
      'the zip entry "a.txt" is larger than the 1 bytes it declares',
    );
    const corrupt = zip({ 'a.txt': 'hello hello hello hello' }, { store: true });
    corrupt[36] = corrupt[36]! ^ 0xff; // a stored byte (past the 30-byte header and the name): the CRC fails
    expect(await refusal('zip', corrupt)).toBe('the zip entry "a.txt" fails its CRC-32 check');
  });

  it("CodeDeploy's rule: a single top directory holding the AppSpec is the bundle root", async () => {
    const dest = await unpack('tgz', tgz({ 'release-7/appspec.yml': 'version: 0.0', 'release-7/app/x': 'x' }));
    expect(stripSingleTopDirectory(dest)).toBe('release-7');
    expect(readdirSync(dest).sort()).toEqual(['app', 'appspec.yml']);
    expect(existsSync(`${dest}-temp`)).toBe(false);
    const other = join(t.dir, 'other');
    await unpackBundle(join(t.dir, 'bundle.tgz'), 'tgz', other);
    writeFileSync(join(t.dir, 'bundle.tgz'), tgz({ 'only/readme': 'no appspec here' }));
    const kept = join(t.dir, 'kept');
    await unpackBundle(join(t.dir, 'bundle.tgz'), 'tgz', kept);
    expect(stripSingleTopDirectory(kept)).toBeUndefined();
    expect(readdirSync(kept)).toEqual(['only']);
  });
});
