/** The SimWorld and its adapters: traffic split by weight, metrics, alarms, faults, the port contracts. */
import { describe, expect, it } from 'vitest';
import { SimAlarmSource, SimTrafficRouter } from '../../src/adapters/sim/adapters.js';
import { SimWorld } from '../../src/adapters/sim/world.js';
import {
  DependencyRejectedError,
  DependencyUnavailableError,
  PreconditionFailedError,
} from '../../src/domain/errors.js';
import { ManualClock } from '../support/manual-clock.js';

function world() {
  const clock = new ManualClock();
  const w = new SimWorld(clock);
  w.addFunction('api', {
    versions: { '1': { errorRate: 0 }, '2': { errorRate: 0.5 } },
    aliases: { live: '1' },
    requestsPerSecond: 100,
  });
  w.addAlarm({
    name: 'errs',
    functionName: 'api',
    alias: 'live',
    threshold: 4,
    periodSeconds: 60,
    evaluationPeriods: 2,
  });
  return { clock, w };
}

describe('SimWorld', () => {
  it('splits traffic by alias weight and measures each version’s errors', () => {
    const { clock, w } = world();
    w.updateAlias('api', 'live', { functionVersion: '1', additionalVersionWeights: { '2': 0.1 } });
    clock.advance(60);
    const m = w.observed('api', 'live', 60);
    expect(m.invocations).toBeCloseTo(6000);
    expect(m.errors).toBeCloseTo(300); // 10% of traffic on a version failing half its requests
    expect(m.errorRate).toBeCloseTo(5);
    expect(w.split('api', 'live')).toEqual({ '1': 90, '2': 10 });
  });

  it('an alarm needs evaluationPeriods breaching periods, and recovers', () => {
    const { clock, w } = world();
    clock.advance(60);
    expect(w.alarmState('errs')).toBe('INSUFFICIENT_DATA'); // one period of data, two needed
    clock.advance(60);
    expect(w.alarmState('errs')).toBe('OK');
    w.updateAlias('api', 'live', { functionVersion: '1', additionalVersionWeights: { '2': 0.1 } });
    clock.advance(60);
    expect(w.alarmState('errs')).toBe('OK'); // one breaching period of two
    clock.advance(60);
    expect(w.alarmState('errs')).toBe('ALARM');
    w.updateAlias('api', 'live', { functionVersion: '1', additionalVersionWeights: {} });
    clock.advance(60);
    expect(w.alarmState('errs')).toBe('OK');
    expect(w.log.filter((e) => e.kind === 'Alarm').map((e) => e.detail.state)).toEqual(['OK', 'ALARM', 'OK']);
  });

  it('no traffic means INSUFFICIENT_DATA; forced states win until released', () => {
    const { clock, w } = world();
    expect(w.alarmState('errs')).toBe('INSUFFICIENT_DATA');
    w.forceAlarm('errs', 'ALARM');
    clock.advance(120);
    expect(w.alarmState('errs')).toBe('ALARM');
    w.forceAlarm('errs', undefined);
    expect(w.alarmState('errs')).toBe('OK');
  });

  it('refuses what Lambda refuses: unknown versions, more than two versions on an alias', () => {
    const { w } = world();
    expect(() => w.updateAlias('api', 'live', { functionVersion: '9', additionalVersionWeights: {} })).toThrow(
      /Function not found/,
    );
    w.publishVersion('api', '3');
    expect(() =>
      w.updateAlias('api', 'live', { functionVersion: '1', additionalVersionWeights: { '2': 0.1, '3': 0.1 } }),
    ).toThrow(/at most two versions/);
  });
});

describe('sim adapters honour the port contracts', () => {
  it('TrafficRouter: missing alias → PreconditionFailedError; throttling → DependencyUnavailableError; refusal → DependencyRejectedError', async () => {
    const { w } = world();
    const router = new SimTrafficRouter(w);
    await expect(router.getAlias('api', 'nope')).rejects.toBeInstanceOf(PreconditionFailedError);
    await expect(router.getAlias('ghost', 'live')).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(await router.versionExists('api', '2')).toBe(true);
    expect(await router.versionExists('api', '7')).toBe(false);
    expect(await router.versionExists('ghost', '1')).toBe(false);
    w.injectFault('UpdateAlias', 'Throttling', 1);
    await expect(
      router.setAlias('api', 'live', { functionVersion: '2', additionalVersionWeights: {} }),
    ).rejects.toBeInstanceOf(DependencyUnavailableError);
    w.injectFault('UpdateAlias', 'AccessDenied', 1);
    await expect(
      router.setAlias('api', 'live', { functionVersion: '2', additionalVersionWeights: {} }),
    ).rejects.toBeInstanceOf(DependencyRejectedError);
    await router.setAlias('api', 'live', { functionVersion: '2', additionalVersionWeights: {} });
    expect(await router.getAlias('api', 'live')).toEqual({ functionVersion: '2', additionalVersionWeights: {} });
  });

  it('AlarmSource: absent alarms are left out; an empty list makes no call', async () => {
    const { w } = world();
    const alarms = new SimAlarmSource(w);
    expect(await alarms.describe([])).toEqual([]);
    expect(w.calls.DescribeAlarms).toBeUndefined();
    expect(await alarms.describe(['errs', 'missing'])).toEqual([{ name: 'errs', state: 'INSUFFICIENT_DATA' }]);
  });
});
