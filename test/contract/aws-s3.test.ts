/** S3RevisionSource against a mocked S3 API: outcomes and error mapping. */
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3RevisionSource } from '../../src/adapters/aws/s3-revision-source.js';
import {
  ApiError,
  DependencyRejectedError,
  DependencyUnavailableError,
  InvalidInputError,
} from '../../src/domain/errors.js';

const s3 = mockClient(S3Client);
const source = new S3RevisionSource(new S3Client({ region: 'us-east-1', maxAttempts: 1 }));
/** The SDK's streaming body, as much of it as the adapter uses. */
const body = (text: string) => ({
  transformToByteArray: async () => new Uint8Array(Buffer.from(text)),
  transformToWebStream: () => new ReadableStream(),
});
const awsError = (name: string, status: number) =>
  new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message: `${name} happened`,
  });

beforeEach(() => s3.reset());

describe('S3RevisionSource', () => {
  it('returns the bytes, the ETag without quotes, the version and lower-cased metadata', async () => {
    s3.on(GetObjectCommand, { Bucket: 'b', Key: 'k.zip', VersionId: 'v1' }).resolves({
      Body: body('PK'),
      ETag: '"abc"',
      VersionId: 'v1',
      ContentLength: 2,
      Metadata: { 'Deployment-Config': 'X' },
    } as never);
    const r = await source.get('b', 'k.zip', 'v1', 100);
    expect(Buffer.from(r.body).toString()).toBe('PK');
    expect(r).toMatchObject({ eTag: 'abc', versionId: 'v1', metadata: { 'deployment-config': 'X' } });
  });

  it('a missing key, bucket or version is RevisionDoesNotExistException naming it', async () => {
    s3.on(GetObjectCommand).rejects(awsError('NoSuchKey', 404));
    const e = await source.get('b', 'gone.zip', undefined, 100).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({
      exceptionName: 'RevisionDoesNotExistException',
      message: expect.stringContaining('s3://b/gone.zip'),
    });
  });

  it('an object over the size limit is refused before reading it', async () => {
    s3.on(GetObjectCommand).resolves({ Body: body('x'), ContentLength: 101 } as never);
    await expect(source.get('b', 'big.zip', undefined, 100)).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('AccessDenied fails fast with AWS message; 5xx is retryable', async () => {
    s3.on(GetObjectCommand).rejectsOnce(awsError('AccessDenied', 403)).rejectsOnce(awsError('InternalError', 500));
    await expect(source.get('b', 'k.zip', undefined, 100)).rejects.toBeInstanceOf(DependencyRejectedError);
    await expect(source.get('b', 'k.zip', undefined, 100)).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
