import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ApiError, InvalidInputError } from '../../domain/errors.js';
import type { RevisionObject, RevisionSource } from '../../ports/index.js';
import { mapAwsError } from './errors.js';

const MISSING = new Set(['NoSuchKey', 'NoSuchBucket', 'NoSuchVersion', 'NotFound']);

/** Reads revisions from S3 with `s3:GetObject` (and `s3:GetObjectVersion` for a version id). */
export class S3RevisionSource implements RevisionSource {
  constructor(private readonly client: S3Client) {}

  async get(bucket: string, key: string, version: string | undefined, maxBytes: number): Promise<RevisionObject> {
    const where = `s3://${bucket}/${key}${version ? `?versionId=${version}` : ''}`;
    let res;
    try {
      res = await this.client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, ...(version ? { VersionId: version } : {}) }),
      );
    } catch (e) {
      if (MISSING.has((e as Error).name))
        throw new ApiError(
          'RevisionDoesNotExistException',
          `The revision ${where} does not exist (${(e as Error).name})`,
        );
      throw mapAwsError(e, `GetObject ${where}`);
    }
    if ((res.ContentLength ?? 0) > maxBytes) {
      res.Body?.transformToWebStream()
        .cancel()
        .catch(() => undefined);
      throw new InvalidInputError(
        [{ path: 'revision.s3Location', message: `${where} is larger than ${maxBytes} bytes` }],
        'InvalidRevisionException',
      );
    }
    const body = (await res.Body?.transformToByteArray()) ?? new Uint8Array();
    return {
      body,
      ...(res.ETag ? { eTag: res.ETag.replace(/"/g, '') } : {}),
      ...(res.VersionId ? { versionId: res.VersionId } : {}),
      metadata: Object.fromEntries(Object.entries(res.Metadata ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    };
  }
}

/**
 * Uploads a revision bundle as a user would (`aws s3 cp`), for the local demos: the upload is what
 * starts or feeds a deployment, so it goes through the real S3 API. Returns the object's ETag.
 * @throws the S3 client's error when the bucket is missing or the endpoint refuses the upload.
 */
export async function uploadRevision(client: S3Client, bucket: string, key: string, body: Uint8Array): Promise<string> {
  const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return put.ETag ?? '';
}
