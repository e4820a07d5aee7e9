import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { SNSClient } from '@aws-sdk/client-sns';
import { DependencyUnavailableError } from '../../domain/errors.js';
import type { EventBridgeEntry, SnsMessage } from '../../domain/notifications.js';
import type { EventPublisher } from '../../ports/index.js';
import { withAwsErrors } from './errors.js';

/** PutEvents accepts at most 10 entries per call. */
const ENTRIES_PER_CALL = 10;

/**
 * Outcome notifications. Calls `events:PutEvents` on one event bus (10 entries per call) and
 * `sns:Publish` for deployment group triggers.
 */
export class EventBridgeSnsPublisher implements EventPublisher {
  constructor(
    private readonly eb: EventBridgeClient,
    private readonly sns: SNSClient,
    private readonly eventBusName: string,
  ) {}

  async putEvents(entries: EventBridgeEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i += ENTRIES_PER_CALL) {
      const chunk = entries.slice(i, i + ENTRIES_PER_CALL);
      const res = await withAwsErrors(`PutEvents ${this.eventBusName}`, () =>
        this.eb.send(new PutEventsCommand({ Entries: chunk.map((e) => ({ ...e, EventBusName: this.eventBusName })) })),
      );
      // PutEvents answers 200 even when entries were refused (mostly throttled); ignoring that
      // would lose notifications silently, so the whole call is retried instead. A retry may
      // repeat entries that did go through: EventBridge delivery is at-least-once anyway.
      if (res.FailedEntryCount) {
        const failures = (res.Entries ?? [])
          .map((r, j) =>
            r.ErrorCode
              ? `${chunk[j]?.DetailType ?? 'entry'} #${i + j}: ${r.ErrorCode}: ${r.ErrorMessage ?? ''}`
              : undefined,
          )
          .filter((f) => f !== undefined);
        throw new DependencyUnavailableError(
          `PutEvents ${this.eventBusName}: ${res.FailedEntryCount} of ${chunk.length} entries failed: ${failures.join('; ')}`,
        );
      }
    }
  }

  async publish(message: SnsMessage): Promise<void> {
    await withAwsErrors(`Publish ${message.topicArn}`, () =>
      this.sns.send(
        new PublishCommand({ TopicArn: message.topicArn, Subject: message.subject, Message: message.message }),
      ),
    );
  }
}
