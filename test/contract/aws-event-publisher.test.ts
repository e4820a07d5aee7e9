/** EventBridgeSnsPublisher against mocked EventBridge (10 entries per call at most) and SNS. */
import { EventBridgeClient, EventBridgeServiceException, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { PutEventsCommandInput, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient, SNSServiceException } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeSnsPublisher } from '../../src/adapters/aws/event-publisher.js';
import { DependencyRejectedError, DependencyUnavailableError } from '../../src/domain/errors.js';
import type { EventBridgeEntry } from '../../src/domain/notifications.js';

const ebMock = mockClient(EventBridgeClient);
const snsMock = mockClient(SNSClient);
const BUS = 'cutover-events';
const publisher = new EventBridgeSnsPublisher(
  new EventBridgeClient({ region: 'us-east-1', maxAttempts: 1 }),
  new SNSClient({ region: 'us-east-1', maxAttempts: 1 }),
  BUS,
);

const entry = (n: number): EventBridgeEntry => ({
  Source: 'cutover',
  DetailType: 'CodeDeploy Deployment State-change Notification',
  Resources: ['arn:aws:codedeploy:us-east-1:123456789012:application:orders'],
  Detail: JSON.stringify({ deploymentId: `d-${n}`, state: 'SUCCESS' }),
  Time: new Date(Date.UTC(2025, 0, 1, 0, 0, n)),
});

/** The bus: refuses more than 10 entries per call, records what it accepted. */
function fakeBus(): PutEventsRequestEntry[] {
  const delivered: PutEventsRequestEntry[] = [];
  ebMock.on(PutEventsCommand).callsFake(async (input: PutEventsCommandInput) => {
    const entries = input.Entries ?? [];
    if (entries.length > 10) {
      throw new EventBridgeServiceException({
        name: 'ValidationException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Entries must have at most 10 items',
      });
    }
    delivered.push(...entries);
    return { FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `e-${delivered.length + i}` })) };
  });
  return delivered;
}

beforeEach(() => {
  ebMock.reset();
  snsMock.reset();
});

describe('EventBridgeSnsPublisher.putEvents', () => {
  it('delivers all 25 entries to the bus, 10 per call', async () => {
    const delivered = fakeBus();
    const entries = Array.from({ length: 25 }, (_, i) => entry(i));
    await publisher.putEvents(entries);
    expect(delivered).toEqual(entries.map((e) => ({ ...e, EventBusName: BUS })));
  });

  it('sends nothing for no entries', async () => {
    const delivered = fakeBus();
    await publisher.putEvents([]);
    expect(delivered).toEqual([]);
  });

  it('fails with DependencyUnavailableError listing the refused entries when FailedEntryCount > 0', async () => {
    ebMock.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [
        { EventId: 'e-1' },
        { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded for bus cutover-events' },
      ],
    });
    const err = await publisher.putEvents([entry(1), entry(2)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect((err as Error).message).toContain('1 of 2 entries failed');
    expect((err as Error).message).toContain('#1: ThrottlingException: Rate exceeded for bus cutover-events');
  });

  it('maps AccessDenied to DependencyRejectedError with AWS message', async () => {
    ebMock.on(PutEventsCommand).rejects(
      new EventBridgeServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'not authorized to perform: events:PutEvents',
      }),
    );
    const err = await publisher.putEvents([entry(1)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyRejectedError);
    expect(err).toMatchObject({
      message: `PutEvents ${BUS}: AccessDeniedException: not authorized to perform: events:PutEvents`,
    });
  });
});

describe('EventBridgeSnsPublisher.publish', () => {
  const message = {
    topicArn: 'arn:aws:sns:us-east-1:123456789012:deployments',
    subject: 'SUCCEEDED: AWS CodeDeploy d-ABCDEF123 in us-east-1 to orders',
    message: JSON.stringify({ deploymentId: 'd-ABCDEF123', status: 'Succeeded' }),
  };

  it('publishes the trigger message to its topic', async () => {
    const published: unknown[] = [];
    snsMock.on(PublishCommand).callsFake(async (input: unknown) => {
      published.push(input);
      return { MessageId: 'm-1' };
    });
    await publisher.publish(message);
    expect(published).toEqual([{ TopicArn: message.topicArn, Subject: message.subject, Message: message.message }]);
  });

  it('maps SNS throttling to DependencyUnavailableError', async () => {
    snsMock.on(PublishCommand).rejects(
      new SNSServiceException({
        name: 'Throttled',
        $fault: 'client',
        $metadata: { httpStatusCode: 429 },
        message: 'Rate exceeded',
      }),
    );
    await expect(publisher.publish(message)).rejects.toBeInstanceOf(DependencyUnavailableError);
  });

  it('maps AuthorizationError to DependencyRejectedError with AWS message', async () => {
    snsMock.on(PublishCommand).rejects(
      new SNSServiceException({
        name: 'AuthorizationError',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'User is not authorized to perform: SNS:Publish',
      }),
    );
    const err = await publisher.publish(message).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyRejectedError);
    expect(err).toMatchObject({
      awsErrorName: 'AuthorizationError',
      message: `Publish ${message.topicArn}: AuthorizationError: User is not authorized to perform: SNS:Publish`,
    });
  });
});
