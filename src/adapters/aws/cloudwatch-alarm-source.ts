import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { AlarmReading, AlarmState } from '../../domain/alarms.js';
import type { AlarmSource } from '../../ports/index.js';
import { withAwsErrors } from './errors.js';

/** DescribeAlarms accepts at most 100 alarm names per call. */
const NAMES_PER_CALL = 100;
const STATES: ReadonlySet<string> = new Set<AlarmState>(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

/**
 * CloudWatch alarm states. Calls `cloudwatch:DescribeAlarms` (metric and composite alarms),
 * 100 names per call, following NextToken.
 */
export class CloudWatchAlarmSource implements AlarmSource {
  constructor(private readonly client: CloudWatchClient) {}

  async describe(names: string[]): Promise<AlarmReading[]> {
    const unique = [...new Set(names)];
    const readings: AlarmReading[] = [];
    for (let i = 0; i < unique.length; i += NAMES_PER_CALL) {
      const chunk = unique.slice(i, i + NAMES_PER_CALL);
      let nextToken: string | undefined;
      do {
        const res = await withAwsErrors('DescribeAlarms', () =>
          this.client.send(
            new DescribeAlarmsCommand({
              AlarmNames: chunk,
              // Without AlarmTypes, DescribeAlarms returns metric alarms only.
              AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
              MaxRecords: NAMES_PER_CALL,
              NextToken: nextToken,
            }),
          ),
        );
        for (const a of [...(res.MetricAlarms ?? []), ...(res.CompositeAlarms ?? [])]) {
          if (a.AlarmName && a.StateValue && STATES.has(a.StateValue)) {
            readings.push({
              name: a.AlarmName,
              state: a.StateValue as AlarmState,
              ...(a.StateUpdatedTimestamp ? { updatedAt: a.StateUpdatedTimestamp.toISOString() } : {}),
            });
          }
        }
        nextToken = res.NextToken;
      } while (nextToken);
    }
    return readings;
  }
}
