/** Alarm verdicts are data; only the state machine's router acts on them. Pure. */
import type { AlarmConfiguration } from './model.js';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export interface AlarmReading {
  name: string;
  state: AlarmState;
  /** When the alarm last changed state (CloudWatch's StateUpdatedTimestamp), ISO. */
  updatedAt?: string;
}

/** Which watched alarms were already firing when the deployment began to move traffic. */
export interface AlarmBaseline {
  at: string;
  firing: string[];
}

export function baselineOf(readings: AlarmReading[], at: string): AlarmBaseline {
  return { at, firing: readings.filter((r) => r.state === 'ALARM').map((r) => r.name) };
}

/**
 * Under `ignoreAlarmsAlreadyFiring`, an alarm that was in ALARM at the baseline and has not changed
 * state since does not count; any later transition to ALARM does.
 */
export function ignoredAsBaseline(
  config: AlarmConfiguration,
  baseline: AlarmBaseline | undefined,
  r: AlarmReading,
): boolean {
  if (config.baselineMode !== 'ignoreAlarmsAlreadyFiring' || !baseline || r.state !== 'ALARM') return false;
  if (!baseline.firing.includes(r.name)) return false;
  return r.updatedAt === undefined || Date.parse(r.updatedAt) <= Date.parse(baseline.at);
}

export type AlarmVerdict =
  | { phase: 'Healthy'; readings: AlarmReading[] }
  | { phase: 'Breached'; alarms: string[]; readings: AlarmReading[] }
  | { phase: 'Unknown'; reason: string; missing: string[]; readings: AlarmReading[] };

/** The alarm names a group watches (none when alarm checks are disabled). */
export function watchedAlarms(config: AlarmConfiguration): string[] {
  return config.enabled ? config.alarms.map((a) => a.name) : [];
}

/**
 * Judge the readings of the watched alarms. `readings` is undefined when DescribeAlarms failed.
 * A watched alarm that does not exist is Unknown (the deployment must not trust a missing alarm).
 */
export function evaluateAlarms(
  config: AlarmConfiguration,
  readings: AlarmReading[] | undefined,
  failure?: string,
  baseline?: AlarmBaseline,
): AlarmVerdict {
  const names = watchedAlarms(config);
  if (names.length === 0) return { phase: 'Healthy', readings: [] };
  if (!readings)
    return {
      phase: 'Unknown',
      reason: `alarms could not be read: ${failure ?? 'unknown error'}`,
      missing: [],
      readings: [],
    };
  const byName = new Map(readings.map((r) => [r.name, r]));
  const missing = names.filter((n) => !byName.has(n));
  const inAlarm = names.filter((n) => {
    const r = byName.get(n);
    return r?.state === 'ALARM' && !ignoredAsBaseline(config, baseline, r);
  });
  const watched = names.flatMap((n) => byName.get(n) ?? []);
  if (inAlarm.length) return { phase: 'Breached', alarms: inAlarm, readings: watched };
  if (missing.length)
    return { phase: 'Unknown', reason: `alarm(s) not found: ${missing.join(', ')}`, missing, readings: watched };
  return { phase: 'Healthy', readings: watched };
}

/** Should the deployment stop on this verdict? Unknown stops unless ignorePollAlarmFailure. */
export function verdictStops(config: AlarmConfiguration, verdict: AlarmVerdict): boolean {
  if (verdict.phase === 'Breached') return true;
  if (verdict.phase === 'Unknown') return !config.ignorePollAlarmFailure;
  return false;
}
