/** Alarm verdicts are data; only the state machine's router acts on them. Pure. */
import type { AlarmConfiguration } from './model.js';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export interface AlarmReading {
  name: string;
  state: AlarmState;
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
export function evaluateAlarms(config: AlarmConfiguration, readings: AlarmReading[] | undefined, failure?: string): AlarmVerdict {
  const names = watchedAlarms(config);
  if (names.length === 0) return { phase: 'Healthy', readings: [] };
  if (!readings) return { phase: 'Unknown', reason: `alarms could not be read: ${failure ?? 'unknown error'}`, missing: [], readings: [] };
  const byName = new Map(readings.map((r) => [r.name, r]));
  const missing = names.filter((n) => !byName.has(n));
  const inAlarm = names.filter((n) => byName.get(n)?.state === 'ALARM');
  const watched = names.flatMap((n) => byName.get(n) ?? []);
  if (inAlarm.length) return { phase: 'Breached', alarms: inAlarm, readings: watched };
  if (missing.length) return { phase: 'Unknown', reason: `alarm(s) not found: ${missing.join(', ')}`, missing, readings: watched };
  return { phase: 'Healthy', readings: watched };
}

/** Should the deployment stop on this verdict? Unknown stops unless ignorePollAlarmFailure. */
export function verdictStops(config: AlarmConfiguration, verdict: AlarmVerdict): boolean {
  if (verdict.phase === 'Breached') return true;
  if (verdict.phase === 'Unknown') return !config.ignorePollAlarmFailure;
  return false;
}
