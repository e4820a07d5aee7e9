/** The real clock: Lambda functions on AWS use it (local mode and tests use virtual time, src/local/clock.ts). */
import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../../ports/index.js';

export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }
  stamp(): Date {
    return new Date();
  }
  async sleep(seconds: number, signal?: AbortSignal): Promise<void> {
    await delay(seconds * 1000, undefined, signal ? { signal } : {});
  }
}
