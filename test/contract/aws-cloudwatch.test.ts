/**
 * CloudWatchAlarmSource against a mocked DescribeAlarms that behaves like CloudWatch: at most 100
 * names per call (ValidationError beyond), metric alarms only unless AlarmTypes says otherwise,
 * and results paged with NextToken.
 */
import { CloudWatchClient, CloudWatchServiceException, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { DescribeAlarmsCommandInput } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchAlarmSource } from '../../src/adapters/aws/cloudwatch-alarm-source.js';
import { DependencyRejectedError, DependencyUnavailableError } from '../../src/domain/errors.js';
import type { AlarmReading, AlarmState } from '../../src/domain/alarms.js';

const cwMock = mockClient(CloudWatchClient);
const source = new CloudWatchAlarmSource(new CloudWatchClient({ region: 'us-east-1', maxAttempts: 1 }));

const cwError = (name: string, status: number, message: string) =>
  new CloudWatchServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message,
  });

/** Existing alarms; pages are smaller than a chunk so a chunk needs several pages. */
function fakeCloudWatch(
  alarms: Map<string, { type: 'MetricAlarm' | 'CompositeAlarm'; state: AlarmState }>,
  pageSize = 40,
): void {
  cwMock.on(DescribeAlarmsCommand).callsFake(async (input: DescribeAlarmsCommandInput) => {
    const names = input.AlarmNames ?? [];
    if (names.length > 100)
      throw cwError('ValidationError', 400, 'The collection AlarmNames must not have a size greater than 100.');
    const types = input.AlarmTypes ?? ['MetricAlarm'];
    const found = names.flatMap((n) => {
      const a = alarms.get(n);
      return a && types.includes(a.type) ? [{ AlarmName: n, StateValue: a.state, type: a.type }] : [];
    });
    const start = Number(input.NextToken ?? 0);
    const page = found.slice(start, start + pageSize);
    const next = start + pageSize < found.length ? String(start + pageSize) : undefined;
    return {
      MetricAlarms: page
        .filter((a) => a.type === 'MetricAlarm')
        .map(({ AlarmName, StateValue }) => ({ AlarmName, StateValue })),
      CompositeAlarms: page
        .filter((a) => a.type === 'CompositeAlarm')
        .map(({ AlarmName, StateValue }) => ({ AlarmName, StateValue })),
      NextToken: next,
    };
  });
}

const byName = (readings: AlarmReading[]) => [...readings].sort((a, b) => a.name.localeCompare(b.name));

beforeEach(() => {
  cwMock.reset();
});

describe('CloudWatchAlarmSource', () => {
  it('reads metric and composite alarms; missing alarms are absent', async () => {
    fakeCloudWatch(
      new Map([
        ['orders-errors', { type: 'MetricAlarm', state: 'ALARM' }],
        ['orders-health', { type: 'CompositeAlarm', state: 'OK' }],
        ['orders-latency', { type: 'MetricAlarm', state: 'INSUFFICIENT_DATA' }],
      ]),
    );
    expect(
      byName(await source.describe(['orders-errors', 'orders-health', 'orders-latency', 'no-such-alarm'])),
    ).toEqual([
      { name: 'orders-errors', state: 'ALARM' },
      { name: 'orders-health', state: 'OK' },
      { name: 'orders-latency', state: 'INSUFFICIENT_DATA' },
    ]);
  });

  it('reads 250 alarms in chunks of 100 names, following NextToken', async () => {
    const names = Array.from({ length: 250 }, (_, i) => `alarm-${String(i).padStart(3, '0')}`);
    const existing = new Map(
      names
        .filter((_, i) => i % 25 !== 7) // 10 of them do not exist
        .map(
          (n, i) =>
            [n, { type: i % 3 === 0 ? 'CompositeAlarm' : 'MetricAlarm', state: i % 5 === 0 ? 'ALARM' : 'OK' }] as const,
        ),
    );
    fakeCloudWatch(existing);
    const expected = [...existing].map(([name, a]) => ({ name, state: a.state }));

    expect(byName(await source.describe(names))).toEqual(byName(expected));
    expect(expected).toHaveLength(240);
  });

  it('returns nothing without calling CloudWatch when no alarms are watched', async () => {
    fakeCloudWatch(new Map());
    expect(await source.describe([])).toEqual([]);
    expect(cwMock.calls()).toHaveLength(0);
  });

  it('maps throttling to DependencyUnavailableError', async () => {
    cwMock.on(DescribeAlarmsCommand).rejects(cwError('Throttling', 400, 'Rate exceeded'));
    const err = await source.describe(['orders-errors']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect((err as Error).message).toBe('DescribeAlarms: Throttling: Rate exceeded');
  });

  it('maps AccessDenied to DependencyRejectedError with AWS message', async () => {
    cwMock
      .on(DescribeAlarmsCommand)
      .rejects(cwError('AccessDenied', 403, 'User is not authorized to perform: cloudwatch:DescribeAlarms'));
    const err = await source.describe(['orders-errors']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyRejectedError);
    expect(err).toMatchObject({
      awsErrorName: 'AccessDenied',
      message: 'DescribeAlarms: AccessDenied: User is not authorized to perform: cloudwatch:DescribeAlarms',
    });
  });
});
