/** The AWS error contract: which SDK failures Step Functions may retry and which it must not. */
import { CloudWatchServiceException } from '@aws-sdk/client-cloudwatch';
import {
  LambdaServiceException,
  ResourceNotFoundException,
  ServiceException,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/adapters/aws/clients.js';
import { clientConfig, mapAwsError, withAwsErrors } from '../../src/adapters/aws/errors.js';
import { DependencyRejectedError, DependencyUnavailableError, InternalError } from '../../src/domain/errors.js';

/** An error shaped as the SDK deserialises an (unmodelled) service error. */
const awsError = (name: string, status: number, message: string) =>
  new LambdaServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message,
  });

const networkError = (code: string) => Object.assign(new Error(`socket hang up (${code})`), { code });

describe('mapAwsError', () => {
  const unavailable: [string, unknown][] = [
    [
      'Lambda TooManyRequestsException (429)',
      new TooManyRequestsException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }),
    ],
    ['ThrottlingException (400)', awsError('ThrottlingException', 400, 'Rate exceeded')],
    [
      'CloudWatch Throttling (400)',
      new CloudWatchServiceException({
        name: 'Throttling',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded',
      }),
    ],
    ['RequestLimitExceeded', awsError('RequestLimitExceeded', 400, 'Rate exceeded')],
    [
      'ProvisionedThroughputExceededException',
      awsError('ProvisionedThroughputExceededException', 400, 'Rate exceeded'),
    ],
    ['any error with status 429', awsError('SomethingNew', 429, 'Rate exceeded')],
    [
      'Lambda ServiceException (500)',
      new ServiceException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 500 } }),
    ],
    ['any 503', awsError('WhateverException', 503, 'Rate exceeded')],
    [
      'a 502 with no fault recorded',
      Object.assign(new Error('Bad Gateway'), { name: 'UnknownError', $metadata: { httpStatusCode: 502 } }),
    ],
    ['InternalFailure without a status', Object.assign(new Error('Rate exceeded'), { name: 'InternalFailure' })],
    ['ServiceUnavailable without a status', Object.assign(new Error('Rate exceeded'), { name: 'ServiceUnavailable' })],
    ['ECONNRESET', networkError('ECONNRESET')],
    ['ETIMEDOUT', networkError('ETIMEDOUT')],
    ['SDK TimeoutError', Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' })],
  ];
  it.each(unavailable)('%s → DependencyUnavailableError naming the call', (_, err) => {
    const mapped = mapAwsError(err, 'GetAlias fn:live');
    expect(mapped).toBeInstanceOf(DependencyUnavailableError);
    expect(mapped.message).toMatch(/^GetAlias fn:live: /);
    expect(mapped.message).toContain((err as Error).message);
  });

  const rejected: [string, Error][] = [
    [
      'AccessDeniedException (403)',
      awsError(
        'AccessDeniedException',
        403,
        'User: arn:aws:iam::1:role/x is not authorized to perform: lambda:GetAlias',
      ),
    ],
    [
      'ResourceNotFoundException (404)',
      new ResourceNotFoundException({ message: 'Function not found: fn', $metadata: { httpStatusCode: 404 } }),
    ],
    ['ValidationException (400)', awsError('ValidationException', 400, '1 validation error detected')],
    [
      'InvalidParameterValueException (400)',
      awsError('InvalidParameterValueException', 400, 'weight must be between 0.0 and 1.0'),
    ],
    [
      'ResourceConflictException (409)',
      awsError('ResourceConflictException', 409, 'The operation cannot be performed at this time'),
    ],
    ['an unknown 4xx', awsError('BrandNewRefusalException', 418, 'no')],
    [
      'a client fault without a status',
      Object.assign(new Error('bad request'), { name: 'OddException', $fault: 'client' }),
    ],
  ];
  it.each(rejected)('%s → DependencyRejectedError carrying AWS name and message', (_, err) => {
    const mapped = mapAwsError(err, 'UpdateAlias fn:live');
    expect(mapped).toBeInstanceOf(DependencyRejectedError);
    expect(mapped.message).toBe(`UpdateAlias fn:live: ${err.name}: ${err.message}`);
    expect((mapped as DependencyRejectedError).awsErrorName).toBe(err.name);
  });

  it('passes our own errors and non-AWS errors through unchanged', () => {
    const ours = new DependencyRejectedError('Invoke hook: not started');
    const bug = new TypeError('x is undefined');
    // Named like S3's InternalError, but ours: it must not become retryable.
    const internal = new InternalError('impossible');
    expect(mapAwsError(ours, 'Invoke hook')).toBe(ours);
    expect(mapAwsError(bug, 'Invoke hook')).toBe(bug);
    expect(mapAwsError(internal, 'Invoke hook')).toBe(internal);
  });
});

describe('withAwsErrors', () => {
  it('returns the call result', async () => {
    await expect(withAwsErrors('GetAlias fn:live', async () => 42)).resolves.toBe(42);
  });

  it('maps what the call throws', async () => {
    const call = withAwsErrors('GetAlias fn:live', async () => {
      throw awsError('AccessDeniedException', 403, 'not authorized');
    });
    const err = await call.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyRejectedError);
    expect(err).toMatchObject({
      message: 'GetAlias fn:live: AccessDeniedException: not authorized',
      awsErrorName: 'AccessDeniedException',
    });
  });
});

describe('clientConfig and createAwsClients', () => {
  it('retries 5 times in adaptive mode unless overridden', () => {
    expect(clientConfig()).toEqual({ maxAttempts: 5, retryMode: 'adaptive' });
    expect(clientConfig({ region: 'us-east-1', maxAttempts: 1 })).toEqual({
      maxAttempts: 1,
      retryMode: 'adaptive',
      region: 'us-east-1',
    });
  });

  it('builds every client in the region with those retry settings', async () => {
    const clients = createAwsClients('eu-west-1');
    expect(Object.keys(clients).sort()).toEqual([
      'autoScaling',
      'cloudwatch',
      'codepipeline',
      'dynamodb',
      'ec2',
      'ecs',
      'elb',
      'eventbridge',
      'iam',
      'lambda',
      's3',
      'sfn',
      'sns',
      'ssm',
    ]);
    for (const client of Object.values(clients)) {
      expect(await client.config.region()).toBe('eu-west-1');
      expect(await client.config.maxAttempts()).toBe(5);
      expect((await client.config.retryStrategy()).mode).toBe('adaptive');
      client.destroy();
    }
  });
});
