/**
 * Local mode's S3: a small S3-compatible server on loopback (node:http), enough of S3's REST API for the
 * SDK, `aws s3 cp` and the agent (docs/adr/0023-local-server-and-s3-serve-only-the-local-user.md):
 * CreateBucket, HeadBucket, ListBuckets,
 * ListObjectsV2, PutObject (plain, UNSIGNED-PAYLOAD and `aws-chunked`), multipart uploads, GetObject (with
 * a Range), HeadObject and DeleteObject. Every request must be SigV4-signed (header or presigned) with
 * this state folder's local S3 credentials (hosts' credentials may read); browser form POSTs, unsigned
 * requests, other Hosts (DNS rebinding) and foreign Origins are refused. Objects larger than
 * MAX_OBJECT_BYTES are refused. Every error is answered as S3's XML error; none ends the process.
 * Object-created events are emitted in S3's notification shape, so the same S3 trigger code consumes them.
 * Objects are kept on disk in s3rver's layout (`<bucket>/<key>._S3rver_object`, `…_metadata.json`,
 * `…_object.md5`), which earlier versions wrote, so existing state folders read on.
 */
import { createHash, randomBytes, randomUUID, type Hash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { foreignRequest } from './local-origin.js';
import { chunkSignature, trailerSignature, verifyS3Request, type S3Payload } from './sigv4-verifier.js';

/** The bucket local mode creates for revision uploads. */
export const LOCAL_REVISION_BUCKET = 'cutover-revisions';
/** Largest object (single PUT or completed multipart upload): CodeDeploy's revision archive limit, 2 GiB. */
export const MAX_OBJECT_BYTES = 2 * 1024 ** 3;
/** S3's smallest part but the last, and most parts. */
const MIN_PART_BYTES = 5 * 1024 ** 2;
const MAX_PARTS = 10_000;
/** Bodies that are not object data (CreateBucket, CompleteMultipartUpload XML). */
const MAX_XML_BYTES = 2 * 1024 ** 2;
/** S3's limit on user metadata (x-amz-meta-*). */
const MAX_METADATA_BYTES = 2048;
const MAX_KEY_BYTES = 1024;
const STORED_HEADERS = ['content-type', 'cache-control', 'content-disposition', 'content-language', 'expires'];
const SUFFIX = /\._S3rver_(object|metadata\.json|object\.md5)$/;
/** Object sub-resources the local S3 does not implement (other query parameters, like the SDK's x-id, are ignored). */
const OBJECT_SUBRESOURCES = new Set([
  'acl',
  'tagging',
  'torrent',
  'legal-hold',
  'retention',
  'attributes',
  'uploadId',
  'restore',
  'select',
]);
const BUCKET_NAME = /^(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The state folder's local S3 credentials file (an env file), beside `store/` and `s3/`. */
export const S3_CREDENTIALS_FILE = 's3.env';

export interface LocalS3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface LocalS3 {
  endpoint: string;
  /** The keys that may read and write (print them for `aws s3 cp`; the local S3 client uses them). */
  credentials: LocalS3Credentials;
  /** Subscribe to S3 event notifications ({Records: [...]}) for uploads. */
  onEvent(listener: (event: unknown) => void): void;
  close(): Promise<void>;
}

/** Fresh, unguessable local S3 credentials. */
export const newS3Credentials = (): LocalS3Credentials => ({
  accessKeyId: `AKIALOCALS3${randomBytes(5).toString('hex').toUpperCase()}`,
  secretAccessKey: randomBytes(30).toString('base64url'),
});

/**
 * This state folder's local S3 credentials, from `file` (an env file: `AWS_ACCESS_KEY_ID=…` and
 * `AWS_SECRET_ACCESS_KEY=…`, mode 0600, so `env $(cat FILE) aws s3 cp …` works), created on first use.
 */
export function stateDirS3Credentials(file: string): LocalS3Credentials {
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    const accessKeyId = /^AWS_ACCESS_KEY_ID=(\S+)$/m.exec(text)?.[1];
    const secretAccessKey = /^AWS_SECRET_ACCESS_KEY=(\S+)$/m.exec(text)?.[1];
    if (accessKeyId && secretAccessKey) return { accessKeyId, secretAccessKey };
  }
  const c = newS3Credentials();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `AWS_ACCESS_KEY_ID=${c.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${c.secretAccessKey}\n`, {
    mode: 0o600,
  });
  return c;
}

/** An S3 error answer. */
class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const xmlEscape = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
const tag = (name: string, value: string | number | boolean) => `<${name}>${xmlEscape(String(value))}</${name}>`;
/** S3 event and listing keys with encoding-type=url: each segment encoded, spaces as `+`. */
const urlKey = (key: string) =>
  key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/%20/g, '+'))
    .join('/');

interface StoredObject {
  key: string;
  size: number;
  etag: string;
  modified: Date;
}

interface Principal {
  accessKeyId: string;
  canWrite: boolean;
}

export async function startS3(
  opts: {
    directory?: string;
    port?: number;
    credentials?: LocalS3Credentials;
    /** Secrets of other keys that may read objects (the hosts' credentials: agents download revisions). */
    readers?: (accessKeyId: string) => string | undefined;
  } = {},
): Promise<LocalS3> {
  const root = opts.directory ?? mkdtempSync(join(tmpdir(), 'cutover-s3-'));
  const credentials = opts.credentials ?? newS3Credentials();
  const tmp = join(root, '.tmp');
  const uploads = join(root, '.multipart');
  await rm(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  mkdirSync(join(root, LOCAL_REVISION_BUCKET), { recursive: true });
  const events = new EventEmitter();
  // A listener's failure is not the uploader's: the upload has succeeded.
  const emit = (event: unknown) => {
    for (const l of events.listeners('event'))
      try {
        (l as (e: unknown) => void)(event);
      } catch {
        // the listener reports its own errors
      }
  };

  const secretOf = (key: string): { secret: string; canWrite: boolean } | undefined => {
    if (key === credentials.accessKeyId) return { secret: credentials.secretAccessKey, canWrite: true };
    const s = opts.readers?.(key);
    return s ? { secret: s, canWrite: false } : undefined;
  };

  const bucketDir = (bucket: string) => join(root, bucket);
  const objectPath = (bucket: string, key: string, resource: 'object' | 'metadata.json' | 'object.md5') => {
    const parts = key.split('/');
    return join(root, bucket, ...parts.slice(0, -1), `${parts.at(-1)}._S3rver_${resource}`);
  };

  async function requireBucket(bucket: string): Promise<void> {
    const s = await stat(bucketDir(bucket)).catch(() => undefined);
    if (!s?.isDirectory()) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
  }

  async function etagOf(bucket: string, key: string): Promise<string> {
    try {
      return (await readFile(objectPath(bucket, key, 'object.md5'), 'utf8')).trim();
    } catch {
      const h = createHash('md5');
      for await (const c of createReadStream(objectPath(bucket, key, 'object'))) h.update(c as Buffer);
      return h.digest('hex');
    }
  }

  async function findObject(bucket: string, key: string): Promise<StoredObject & { meta: Record<string, string> }> {
    await requireBucket(bucket);
    const s = await stat(objectPath(bucket, key, 'object')).catch(() => undefined);
    if (!s?.isFile()) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
    const meta = await readFile(objectPath(bucket, key, 'metadata.json'), 'utf8')
      .then((t) => JSON.parse(t) as Record<string, string>)
      .catch(() => ({}));
    return { key, size: s.size, etag: await etagOf(bucket, key), modified: s.mtime, meta };
  }

  async function listKeys(bucket: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const walk = async (dir: string, prefix: string) => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(dir, e.name), `${prefix}${e.name}/`);
        else if (e.name.endsWith('._S3rver_object')) {
          const key = prefix + e.name.slice(0, -'._S3rver_object'.length);
          const s = await stat(join(dir, e.name));
          out.push({ key, size: s.size, etag: await etagOf(bucket, key), modified: s.mtime });
        }
      }
    };
    await walk(bucketDir(bucket), '');
    return out.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  }

  /** Move a finished temp file into place with its ETag and metadata (the object last, so it appears whole). */
  async function commit(bucket: string, key: string, file: string, etag: string, meta: Record<string, string>) {
    await mkdir(dirname(objectPath(bucket, key, 'object')), { recursive: true });
    await writeFile(objectPath(bucket, key, 'metadata.json'), JSON.stringify(meta, null, 2));
    await writeFile(objectPath(bucket, key, 'object.md5'), etag);
    await rename(file, objectPath(bucket, key, 'object'));
  }

  function createdEvent(name: string, bucket: string, key: string, size: number, etag: string, who: Principal) {
    return {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: 'us-east-1',
          eventTime: new Date().toISOString(),
          eventName: `ObjectCreated:${name}`,
          userIdentity: { principalId: `AWS:${who.accessKeyId}` },
          requestParameters: { sourceIPAddress: '127.0.0.1' },
          responseElements: { 'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase() },
          s3: {
            s3SchemaVersion: '1.0',
            configurationId: 'cutover-local',
            bucket: { name: bucket, ownerIdentity: { principalId: 'cutover-local' }, arn: `arn:aws:s3:::${bucket}` },
            object: { key: urlKey(key), size, eTag: etag, sequencer: Date.now().toString(16).toUpperCase() },
          },
        },
      ],
    };
  }

  /** The stored headers and user metadata of a request (content-encoding: aws-chunked is framing, not stored). */
  function metadataOf(req: IncomingMessage): Record<string, string> {
    const meta: Record<string, string> = {};
    let userBytes = 0;
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v !== 'string') continue;
      if (k.startsWith('x-amz-meta-')) {
        userBytes += k.length - 'x-amz-meta-'.length + v.length;
        meta[k] = v;
      } else if (STORED_HEADERS.includes(k)) meta[k] = v;
    }
    const encoding = (req.headers['content-encoding'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s && s !== 'aws-chunked');
    if (encoding.length) meta['content-encoding'] = encoding.join(', ');
    if (userBytes > MAX_METADATA_BYTES)
      throw new S3Error(
        400,
        'MetadataTooLarge',
        `Your metadata headers exceed the maximum allowed metadata size (${MAX_METADATA_BYTES} bytes)`,
      );
    return meta;
  }

  /**
   * The request's body, decoded (`aws-chunked` framing removed, chunk and trailer signatures checked, the
   * signed SHA-256 and any checksum header or trailer compared), to `sink`. Throws S3Error.
   */
  async function readBody(
    req: IncomingMessage,
    payload: S3Payload,
    limit: number,
    sink: (chunk: Buffer) => Promise<void> | void,
  ): Promise<number> {
    const chunked = payload.kind === 'chunked';
    const declared = Number(req.headers[chunked ? 'x-amz-decoded-content-length' : 'content-length']);
    if (Number.isFinite(declared) && declared > limit)
      throw new S3Error(
        400,
        'EntityTooLarge',
        `Your proposed upload exceeds the maximum allowed size (${limit} bytes)`,
      );
    const checks = checksumsOf(req.headers);
    const sha = payload.kind === 'sha256' ? createHash('sha256') : undefined;
    let size = 0;
    const data = async (c: Buffer) => {
      size += c.length;
      if (size > limit)
        throw new S3Error(
          400,
          'EntityTooLarge',
          `Your proposed upload exceeds the maximum allowed size (${limit} bytes)`,
        );
      sha?.update(c);
      for (const k of checks) k.update(c);
      await sink(c);
    };
    if (!chunked) for await (const c of req) await data(c as Buffer);
    else await decodeChunked(req, payload, data, checks);
    if (sha && sha.digest('hex') !== (payload as { hash: string }).hash)
      throw new S3Error(
        400,
        'XAmzContentSHA256Mismatch',
        'The provided x-amz-content-sha256 header does not match what was computed.',
      );
    if (chunked && Number.isFinite(declared) && declared !== size)
      throw new S3Error(
        400,
        'IncompleteBody',
        'You did not provide the number of bytes specified by x-amz-decoded-content-length',
      );
    for (const k of checks)
      if (k.expected !== undefined && k.digest() !== k.expected)
        throw new S3Error(
          400,
          k.name === 'content-md5' ? 'BadDigest' : 'InvalidRequest',
          `The ${k.name} you specified did not match the calculated checksum.`,
        );
    return size;
  }

  async function readSmall(req: IncomingMessage, payload: S3Payload): Promise<string> {
    const parts: Buffer[] = [];
    await readBody(req, payload, MAX_XML_BYTES, (c) => void parts.push(c));
    return Buffer.concat(parts).toString('utf8');
  }

  /** Write the body to a temp file: its path, size and MD5. */
  async function receive(req: IncomingMessage, payload: S3Payload, limit: number) {
    const file = join(tmp, randomUUID());
    const out = createWriteStream(file, { mode: 0o600 });
    let failed: Error | undefined;
    out.on('error', (e) => (failed = e));
    const md5 = createHash('md5');
    try {
      const size = await readBody(req, payload, limit, async (c) => {
        if (failed) throw failed;
        md5.update(c);
        if (!out.write(c)) await new Promise<void>((r) => out.once('drain', () => r()));
      });
      await new Promise<void>((resolve, reject) =>
        out.end((e?: Error | null) => (e || failed ? reject(e ?? failed) : resolve())),
      );
      return { file, size, md5: md5.digest() };
    } catch (e) {
      out.destroy();
      await rm(file, { force: true });
      throw e;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse, who: Principal, payload: S3Payload) {
    const url = new URL(req.url ?? '/', 'http://local');
    const q = url.searchParams;
    const [, rawBucket = '', ...rest] = (req.url ?? '/').split('?')[0]!.split('/');
    const bucket = decodeURIComponent(rawBucket);
    const key = rest.map((s) => decodeURIComponent(s)).join('/');
    const method = req.method ?? '';
    const write = ['PUT', 'POST', 'DELETE'].includes(method);
    if (write && !who.canWrite) throw new S3Error(403, 'AccessDenied', 'Access Denied: this key may only read objects');
    const xml = (status: number, body: string, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'content-type': 'application/xml', ...headers }).end(XML_HEAD + body);

    if (!bucket) {
      if (method !== 'GET')
        throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
      const names = (await readdir(root, { withFileTypes: true })).filter(
        (e) => e.isDirectory() && BUCKET_NAME.test(e.name),
      );
      const buckets = await Promise.all(
        names.map(async (e) => ({ name: e.name, at: (await stat(join(root, e.name))).birthtime })),
      );
      return xml(
        200,
        `<ListAllMyBucketsResult ${NS}><Owner>${tag('ID', 'cutover-local')}${tag('DisplayName', 'cutover-local')}</Owner><Buckets>${buckets
          .map((b) => `<Bucket>${tag('Name', b.name)}${tag('CreationDate', b.at.toISOString())}</Bucket>`)
          .join('')}</Buckets></ListAllMyBucketsResult>`,
      );
    }
    if (!BUCKET_NAME.test(bucket)) throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.');

    if (!key) {
      if (method === 'PUT' && [...q.keys()].length === 0) {
        await readSmall(req, payload);
        if (existsSync(bucketDir(bucket)))
          throw new S3Error(
            409,
            'BucketAlreadyOwnedByYou',
            'Your previous request to create the named bucket succeeded and you already own it.',
          );
        await mkdir(bucketDir(bucket));
        return res.writeHead(200, { location: `/${bucket}` }).end();
      }
      await requireBucket(bucket);
      if (method === 'HEAD') return res.writeHead(200, { 'x-amz-bucket-region': 'us-east-1' }).end();
      if (method === 'GET' && q.has('location')) return xml(200, `<LocationConstraint ${NS}/>`);
      if (method === 'GET' && q.get('list-type') === '2') return listObjectsV2(bucket, q, xml);
      throw new S3Error(
        501,
        'NotImplemented',
        `The local S3 does not implement ${method} on a bucket with ${[...q.keys()].join(', ') || 'no query'}`,
      );
    }
    if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new S3Error(400, 'KeyTooLongError', 'Your key is too long');
    if (key.split('/').some((s) => s === '' || s === '.' || s === '..' || s.includes('\0') || SUFFIX.test(s)))
      throw new S3Error(
        400,
        'InvalidArgument',
        `The local S3 does not store keys with empty, "." or ".." segments: ${JSON.stringify(key.slice(0, 200))}`,
      );
    const version = q.get('versionId');
    if (version !== null && version !== 'null')
      throw new S3Error(404, 'NoSuchVersion', 'The specified version does not exist (the local S3 keeps no versions).');

    const uploadId = q.get('uploadId');
    const uploadDir = uploadId !== null && /^[0-9a-f-]{36}$/.test(uploadId) ? join(uploads, uploadId) : undefined;
    const upload = async () => {
      const meta = uploadDir
        ? await readFile(join(uploadDir, 'upload.json'), 'utf8').then(
            (t) => JSON.parse(t) as { bucket: string; key: string; meta: Record<string, string> },
            () => undefined,
          )
        : undefined;
      if (!meta || meta.bucket !== bucket || meta.key !== key)
        throw new S3Error(404, 'NoSuchUpload', 'The specified multipart upload does not exist.');
      return meta;
    };

    switch (method) {
      case 'GET':
      case 'HEAD': {
        const sub = [...q.keys()].find((k) => OBJECT_SUBRESOURCES.has(k));
        if (sub) throw new S3Error(501, 'NotImplemented', `The local S3 does not implement ${method} ?${sub}`);
        const o = await findObject(bucket, key);
        const headers: Record<string, string> = {
          'content-type': o.meta['content-type'] ?? 'binary/octet-stream',
          etag: `"${o.etag}"`,
          'last-modified': o.modified.toUTCString(),
          'accept-ranges': 'bytes',
        };
        for (const [k, v] of Object.entries(o.meta)) if (k !== 'content-type') headers[k] = v;
        let start = 0;
        let end = o.size - 1;
        let status = 200;
        const range =
          typeof req.headers.range === 'string' ? /^bytes=(\d*)-(\d*)$/.exec(req.headers.range.trim()) : null;
        if (range && (range[1] || range[2])) {
          if (range[1]) {
            start = Number(range[1]);
            if (range[2]) end = Math.min(Number(range[2]), o.size - 1);
          } else start = Math.max(0, o.size - Number(range[2]));
          if (start >= o.size || start > end)
            throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable');
          status = 206;
          headers['content-range'] = `bytes ${start}-${end}/${o.size}`;
        }
        headers['content-length'] = String(o.size === 0 ? 0 : end - start + 1);
        if (method === 'HEAD' || o.size === 0) return res.writeHead(status, headers).end();
        res.writeHead(status, headers);
        const stream = createReadStream(objectPath(bucket, key, 'object'), { start, end });
        stream.on('error', () => res.destroy());
        res.on('close', () => stream.destroy());
        stream.pipe(res);
        return;
      }
      case 'PUT': {
        if (req.headers['x-amz-copy-source'] !== undefined)
          throw new S3Error(501, 'NotImplemented', 'The local S3 does not implement CopyObject');
        await requireBucket(bucket);
        if (uploadId !== null) {
          await upload();
          const n = Number(q.get('partNumber'));
          if (!Number.isInteger(n) || n < 1 || n > MAX_PARTS)
            throw new S3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
          const r = await receive(req, payload, MAX_OBJECT_BYTES);
          await writeFile(join(uploadDir!, `part-${n}.md5`), r.md5.toString('hex'));
          await rename(r.file, join(uploadDir!, `part-${n}`));
          return res.writeHead(200, { etag: `"${r.md5.toString('hex')}"` }).end();
        }
        const meta = metadataOf(req);
        const r = await receive(req, payload, MAX_OBJECT_BYTES);
        const etag = r.md5.toString('hex');
        await commit(bucket, key, r.file, etag, meta);
        res.writeHead(200, { etag: `"${etag}"` }).end();
        emit(createdEvent('Put', bucket, key, r.size, etag, who));
        return;
      }
      case 'POST': {
        await requireBucket(bucket);
        if (q.has('uploads')) {
          const meta = metadataOf(req);
          await readSmall(req, payload);
          const id = randomUUID();
          await mkdir(join(uploads, id), { recursive: true });
          await writeFile(join(uploads, id, 'upload.json'), JSON.stringify({ bucket, key, meta }));
          return xml(
            200,
            `<InitiateMultipartUploadResult ${NS}>${tag('Bucket', bucket)}${tag('Key', key)}${tag('UploadId', id)}</InitiateMultipartUploadResult>`,
          );
        }
        const { meta } = await upload();
        const body = await readSmall(req, payload);
        const parts = [...body.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => ({
          n: Number(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(m[1]!)?.[1]),
          etag: (/<ETag>([^<]*)<\/ETag>/.exec(m[1]!)?.[1] ?? '').replace(/&quot;|"/g, '').trim(),
        }));
        if (parts.length === 0 || parts.length > MAX_PARTS)
          throw new S3Error(
            400,
            'MalformedXML',
            'The XML you provided was not well-formed or did not validate against our published schema',
          );
        const md5s: Buffer[] = [];
        const sizes: number[] = [];
        for (const [i, p] of parts.entries()) {
          if (i > 0 && !(p.n > parts[i - 1]!.n))
            throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order.');
          const stored = await readFile(join(uploadDir!, `part-${p.n}.md5`), 'utf8').catch(() => undefined);
          if (!stored || stored !== p.etag)
            throw new S3Error(400, 'InvalidPart', `Part ${p.n} was not uploaded, or its ETag does not match.`);
          md5s.push(Buffer.from(stored, 'hex'));
          sizes.push((await stat(join(uploadDir!, `part-${p.n}`))).size);
        }
        if (sizes.slice(0, -1).some((s) => s < MIN_PART_BYTES))
          throw new S3Error(
            400,
            'EntityTooSmall',
            'Your proposed upload is smaller than the minimum allowed object size (5 MiB per part but the last).',
          );
        const size = sizes.reduce((a, b) => a + b, 0);
        if (size > MAX_OBJECT_BYTES)
          throw new S3Error(
            400,
            'EntityTooLarge',
            `Your proposed upload exceeds the maximum allowed size (${MAX_OBJECT_BYTES} bytes)`,
          );
        const file = join(tmp, randomUUID());
        const out = createWriteStream(file, { mode: 0o600 });
        try {
          for (const p of parts)
            for await (const c of createReadStream(join(uploadDir!, `part-${p.n}`)))
              if (!out.write(c)) await new Promise<void>((r) => out.once('drain', () => r()));
          await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
        } catch (e) {
          out.destroy();
          await rm(file, { force: true });
          throw e;
        }
        const etag = `${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${parts.length}`;
        await commit(bucket, key, file, etag, meta);
        await rm(uploadDir!, { recursive: true, force: true });
        xml(
          200,
          `<CompleteMultipartUploadResult ${NS}>${tag('Location', `/${bucket}/${key}`)}${tag('Bucket', bucket)}${tag('Key', key)}${tag('ETag', `"${etag}"`)}</CompleteMultipartUploadResult>`,
        );
        emit(createdEvent('CompleteMultipartUpload', bucket, key, size, etag, who));
        return;
      }
      case 'DELETE': {
        await requireBucket(bucket);
        if (uploadId !== null) {
          await upload();
          await rm(uploadDir!, { recursive: true, force: true });
          return res.writeHead(204).end();
        }
        for (const r of ['object', 'object.md5', 'metadata.json'] as const)
          await rm(objectPath(bucket, key, r), { force: true });
        return res.writeHead(204).end();
      }
    }
    throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  }

  async function listObjectsV2(bucket: string, q: URLSearchParams, xml: (s: number, b: string) => void) {
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeys = Math.min(1000, Math.max(0, Number(q.get('max-keys') ?? 1000) || 0));
    const token = q.get('continuation-token');
    const after = token !== null ? Buffer.from(token, 'base64url').toString('utf8') : (q.get('start-after') ?? '');
    const enc = q.get('encoding-type') === 'url' ? urlKey : (s: string) => s;
    const contents: StoredObject[] = [];
    const prefixes: string[] = [];
    let truncated = false;
    let last = '';
    for (const o of await listKeys(bucket)) {
      if (!o.key.startsWith(prefix) || !(o.key > after)) continue;
      const cut = delimiter ? o.key.indexOf(delimiter, prefix.length) : -1;
      const common = cut >= 0 ? o.key.slice(0, cut + delimiter.length) : undefined;
      if (common && prefixes.at(-1) === common) continue;
      if (common && after.startsWith(common)) continue;
      if (contents.length + prefixes.length >= maxKeys) {
        truncated = true;
        break;
      }
      if (common) prefixes.push(common);
      else contents.push(o);
      last = common ?? o.key;
    }
    // A common prefix continues after every key under it.
    const next = last.endsWith(delimiter) && delimiter ? `${last}\u{10FFFF}` : last;
    xml(
      200,
      `<ListBucketResult ${NS}>${tag('Name', bucket)}${tag('Prefix', enc(prefix))}${delimiter ? tag('Delimiter', enc(delimiter)) : ''}${tag('MaxKeys', maxKeys)}${tag('KeyCount', contents.length + prefixes.length)}${tag('IsTruncated', truncated)}${
        token !== null ? tag('ContinuationToken', token) : ''
      }${truncated ? tag('NextContinuationToken', Buffer.from(next).toString('base64url')) : ''}${q.get('start-after') ? tag('StartAfter', enc(q.get('start-after')!)) : ''}${
        q.get('encoding-type') === 'url' ? tag('EncodingType', 'url') : ''
      }${contents
        .map(
          (o) =>
            `<Contents>${tag('Key', enc(o.key))}${tag('LastModified', o.modified.toISOString())}${tag('ETag', `"${o.etag}"`)}${tag('Size', o.size)}${tag('StorageClass', 'STANDARD')}</Contents>`,
        )
        .join(
          '',
        )}${prefixes.map((p) => `<CommonPrefixes>${tag('Prefix', enc(p))}</CommonPrefixes>`).join('')}</ListBucketResult>`,
    );
  }

  let port = 0;
  const server = createServer((req, res) => {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    const fail = (e: unknown) => {
      const err =
        e instanceof S3Error
          ? e
          : new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
      if (res.headersSent) return void res.destroy();
      const requestId = randomBytes(8).toString('hex').toUpperCase();
      const headers = { 'content-type': 'application/xml', 'x-amz-request-id': requestId, connection: 'close' };
      // HEAD answers carry no body.
      if (req.method === 'HEAD') return void res.writeHead(err.status, headers).end();
      res
        .writeHead(err.status, headers)
        .end(
          `${XML_HEAD}<Error>${tag('Code', err.code)}${tag('Message', err.message)}${tag('Resource', (req.url ?? '/').split('?')[0]!)}${tag('RequestId', requestId)}</Error>`,
        );
    };
    try {
      const foreign = foreignRequest(req.headers, '127.0.0.1', port);
      if (foreign) throw new S3Error(403, 'AccessDenied', `Access Denied: ${foreign}`);
      const query = (req.url ?? '').split('?')[1] ?? '';
      // POST is only multipart uploads here: S3's browser form upload (POST Object) is refused outright.
      if (req.method === 'POST' && !/(^|&)(uploads|uploadId)(=|&|$)/.test(query))
        throw new S3Error(
          405,
          'MethodNotAllowed',
          'The local S3 does not accept browser form uploads (POST Object): PUT the object with a signed request',
        );
      const check = verifyS3Request(
        { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers },
        (k) => secretOf(k)?.secret,
      );
      if (!check.ok) throw new S3Error(check.status, check.code, check.reason);
      const who = { accessKeyId: check.accessKeyId, canWrite: secretOf(check.accessKeyId)!.canWrite };
      handle(req, res, who, check.payload).catch(fail);
    } catch (e) {
      fail(e);
    }
  });
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    credentials,
    onEvent: (listener) => void events.on('event', listener),
    close: async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      if (opts.directory === undefined) await rm(root, { recursive: true, force: true });
    },
  };
}

/** A checksum a request asks to be checked (Content-MD5, x-amz-checksum-* header or trailer). */
interface Check {
  name: string;
  expected: string | undefined;
  update(c: Buffer): void;
  digest(): string;
}

function checksumsOf(headers: IncomingMessage['headers']): Check[] {
  const checks: Check[] = [];
  const hashCheck = (name: string, algorithm: string, expected: string | undefined) => {
    const h: Hash = createHash(algorithm);
    checks.push({ name, expected, update: (c) => h.update(c), digest: () => h.digest('base64') });
  };
  const header = (n: string) => (typeof headers[n] === 'string' ? (headers[n] as string).trim() : undefined);
  if (header('content-md5')) hashCheck('content-md5', 'md5', header('content-md5'));
  const trailer = header('x-amz-trailer')?.toLowerCase();
  for (const [name, make] of CHECKSUMS) {
    const expected = header(name);
    if (expected !== undefined || trailer === name) checks.push({ ...make(), name, expected });
  }
  return checks;
}

/** The x-amz-checksum-* algorithms the local S3 checks (CRC32C and CRC64NVME are taken unchecked). */
const CHECKSUMS: [string, () => Omit<Check, 'name' | 'expected'>][] = [
  [
    'x-amz-checksum-crc32',
    () => {
      let v = 0;
      return {
        update: (c) => void (v = crc32(c, v)),
        digest: () => {
          const b = Buffer.alloc(4);
          b.writeUInt32BE(v >>> 0);
          return b.toString('base64');
        },
      };
    },
  ],
  ['x-amz-checksum-sha1', () => hasher('sha1')],
  ['x-amz-checksum-sha256', () => hasher('sha256')],
];
const hasher = (algorithm: string) => {
  const h = createHash(algorithm);
  return { update: (c: Buffer) => void h.update(c), digest: () => h.digest('base64') };
};

/**
 * Decode an `aws-chunked` body: `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n` … `0…\r\n`, then trailer
 * lines (`name:value\r\n`) and an empty line. Signed chunks are checked against the chained signature.
 */
async function decodeChunked(
  req: IncomingMessage,
  payload: Extract<S3Payload, { kind: 'chunked' }>,
  data: (c: Buffer) => Promise<void>,
  checks: Check[],
): Promise<void> {
  const bad = (m: string) => new S3Error(400, 'IncompleteBody', `The aws-chunked body is malformed: ${m}`);
  type State = 'header' | 'data' | 'crlf' | 'trailer' | 'done';
  let buf: Buffer = Buffer.alloc(0);
  let state = 'header' as State;
  let remaining = 0;
  let signature = '';
  let previous = payload.signed ? payload.chain.seed : '';
  let hash = createHash('sha256');
  const trailerLines: string[] = [];
  const finishChunk = () => {
    if (!payload.signed) return;
    const expected = chunkSignature(payload.chain, previous, hash.digest('hex'));
    if (expected !== signature)
      throw new S3Error(
        403,
        'SignatureDoesNotMatch',
        'The chunk signature we calculated does not match the signature you provided.',
      );
    previous = expected;
    hash = createHash('sha256');
  };
  for await (const piece of req) {
    buf = buf.length ? Buffer.concat([buf, piece as Buffer]) : (piece as Buffer);
    while (buf.length && state !== 'done') {
      if (state === 'data') {
        const take = buf.subarray(0, remaining);
        buf = buf.subarray(take.length);
        remaining -= take.length;
        if (payload.signed) hash.update(take);
        await data(take);
        if (remaining === 0) state = 'crlf';
        continue;
      }
      const eol = buf.indexOf('\r\n');
      if (eol < 0) {
        if (buf.length > 4096) throw bad('a line longer than 4096 bytes');
        break;
      }
      const line = buf.subarray(0, eol).toString('latin1');
      buf = buf.subarray(eol + 2);
      if (state === 'crlf') {
        if (line !== '') throw bad('a chunk is longer than its size');
        finishChunk();
        state = 'header';
      } else if (state === 'header') {
        const m = /^([0-9a-fA-F]{1,16})(?:;chunk-signature=([0-9a-f]{64}))?$/.exec(line);
        if (!m || (payload.signed && !m[2])) throw bad(`the chunk header ${JSON.stringify(line.slice(0, 100))}`);
        remaining = parseInt(m[1]!, 16);
        signature = m[2] ?? '';
        if (remaining > MAX_OBJECT_BYTES) throw bad('a chunk larger than the object limit');
        if (remaining > 0) state = 'data';
        else {
          finishChunk();
          // Trailer lines (if any) and the empty line that ends the body.
          state = 'trailer';
        }
      } else if (state === 'trailer') {
        if (line === '') {
          state = 'done';
          break;
        }
        if (trailerLines.length > 20) throw bad('too many trailer lines');
        trailerLines.push(line);
      }
    }
    if (state === 'done') break;
  }
  if (state !== 'done') throw bad('the body ended before its final chunk');
  let trailerSig: string | undefined;
  const fields: string[] = [];
  for (const l of trailerLines) {
    const i = l.indexOf(':');
    if (i < 1) throw bad(`the trailer line ${JSON.stringify(l.slice(0, 100))}`);
    const name = l.slice(0, i).trim().toLowerCase();
    const value = l.slice(i + 1).trim();
    if (name === 'x-amz-trailer-signature') trailerSig = value;
    else {
      fields.push(`${name}:${value}\n`);
      for (const k of checks) if (k.name === name) k.expected = value;
    }
  }
  if (payload.signed && payload.trailer) {
    if (!trailerSig || trailerSignature(payload.chain, previous, fields.join('')) !== trailerSig)
      throw new S3Error(
        403,
        'SignatureDoesNotMatch',
        'The trailer signature we calculated does not match the signature you provided.',
      );
  }
}
