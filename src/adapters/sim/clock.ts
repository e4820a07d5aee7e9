/** Clocks. The scaled clock compresses time for local mode: at speed 60 a 5-minute bake takes 5 s. */
import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../../ports/index.js';

export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }
  async sleep(seconds: number, signal?: AbortSignal): Promise<void> {
    await delay(seconds * 1000, undefined, signal ? { signal } : {});
  }
}

/**
 * Virtual time that runs `speed` times faster than real time, starting at the real time of
 * construction (or `start`). Everything in local mode reads time through it.
 */
export class ScaledClock implements Clock {
  private readonly realStart = performance.now();
  private readonly virtualStart: number;
  constructor(
    readonly speed: number,
    start: Date = new Date(),
  ) {
    if (!(speed > 0)) throw new RangeError('speed must be greater than 0');
    this.virtualStart = start.getTime();
  }
  now(): Date {
    return new Date(this.virtualStart + (performance.now() - this.realStart) * this.speed);
  }
  /** Returns once now() has advanced by at least `seconds` (timers may fire a little early). */
  async sleep(seconds: number, signal?: AbortSignal): Promise<void> {
    const until = this.now().getTime() + seconds * 1000;
    for (let left = seconds * 1000; left > 0; left = until - this.now().getTime()) {
      await delay(Math.max(1, left / this.speed), undefined, signal ? { signal } : {});
    }
  }
}
