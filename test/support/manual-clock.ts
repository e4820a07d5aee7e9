import type { Clock } from '../../src/ports/index.js';

/** A clock moved by hand: a SimWorld only advances when the test says so. */
export class ManualClock implements Clock {
  t = Date.parse('2026-01-01T00:00:00Z');
  now() {
    return new Date(this.t);
  }
  stamp() {
    return new Date(this.t);
  }
  async sleep(s: number) {
    this.t += s * 1000;
  }
  advance(s: number) {
    this.t += s * 1000;
  }
}
