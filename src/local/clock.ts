/**
 * Virtual time for local mode, tests and benchmarks.
 *
 * Time moves while work is being done at most at the speed of real time, and between work it
 * jumps (or, for people watching, runs fast) to the next timer. "Work" is anything that holds the
 * clock: an execution between two waits, a hook running, an API request, an alarm event being
 * handled. So a timeout can only fire after everything that could have beaten it has run: a loaded
 * machine makes a deployment slower, never different. This is the idea of Temporal's
 * time-skipping test environment (docs/adr/0009-virtual-time.md).
 *
 * Three ways to let time pass:
 * - `manual`: only the driver moves time (`advance`, `runUntil`): tests that act between steps.
 * - `skip`: whenever nothing holds the clock, it jumps to the next timer: benchmarks, API tests.
 * - `{ pace: n }`: while nothing holds the clock, virtual time runs n times faster than real
 *   time; while work runs, it runs at real speed. Interactive local mode (`--speed`).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock } from '../ports/index.js';

export type ClockMode = 'manual' | 'skip' | { pace: number };

/**
 * Where a VirtualClock's stamps (the dates on records) come from: the wall clock, or virtual time.
 * Default: the wall clock when paced (people watch it: `cutover server`, `deploy`, `demo`), virtual
 * time in `manual` and `skip` mode (tests and benchmarks: fixed dates, no dependence on the machine).
 * A function gives stamps from anywhere else (tests that prove no deadline is read off a stamp).
 */
export type StampSource = 'wall' | 'virtual' | (() => Date);

interface Timer {
  due: number;
  seq: number;
  fire: () => void;
  /** Background timers (the simulated world's metric ticks) never make time pass by themselves. */
  background: boolean;
}

/** Marks work that must finish before virtual time may pass. */
export interface WorkTracker {
  /** Hold the clock until the returned function is called (idempotent). */
  hold(): () => void;
  /** Hold the clock while `work` runs. */
  during<T>(work: Promise<T>): Promise<T>;
}

const abortError = (): Error => Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });

export class VirtualClock implements Clock, WorkTracker {
  private virtualMs: number;
  private realAnchor = performance.now();
  private timers: Timer[] = [];
  private seq = 0;
  private holds = 0;
  private idleWaiters: (() => void)[] = [];
  private pacer: NodeJS.Timeout | undefined;
  private driving = false;
  private closed = false;

  private readonly stamps: StampSource;

  constructor(
    readonly mode: ClockMode = 'manual',
    start: Date = new Date(),
    stamps?: StampSource,
  ) {
    if (typeof mode === 'object' && !(mode.pace > 0)) throw new RangeError('pace must be greater than 0');
    this.virtualMs = start.getTime();
    this.stamps = stamps ?? (typeof mode === 'object' ? 'wall' : 'virtual');
  }

  /** Virtual time runs at `pace` while idle, at real speed while work holds the clock (paced mode only). */
  private get rate(): number {
    if (typeof this.mode !== 'object') return 0;
    return this.holds > 0 ? 1 : this.mode.pace;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  /**
   * The date on a record: compression changes how long a wait takes, not the date a client reads
   * (docs/adr/0020-wall-clock-records.md). Deadlines are measured on `now()`, never on stamps.
   */
  stamp(): Date {
    if (this.stamps === 'wall') return new Date();
    if (this.stamps === 'virtual') return this.now();
    return this.stamps();
  }

  private nowMs(): number {
    return this.virtualMs + (performance.now() - this.realAnchor) * this.rate;
  }

  /**
   * Move the clock forward to `at` if it is behind it (never back). A local session continues from
   * the latest time its state folder has seen, so what it records sorts after what came before.
   */
  catchUp(at: Date): void {
    this.rebase();
    if (at.getTime() > this.virtualMs) this.virtualMs = at.getTime();
  }

  /** Fold the time elapsed at the current rate into the base, before the rate changes. */
  private rebase(): void {
    this.virtualMs = this.nowMs();
    this.realAnchor = performance.now();
  }

  async sleep(seconds: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortError();
    await new Promise<void>((resolve, reject) => {
      const timer = this.schedule(seconds, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      const onAbort = () => {
        this.cancel(timer);
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Call `fn` every `seconds` of virtual time. Background: these ticks happen on the way to the next
   * real timer, never on their own (a simulated world's metrics must not keep time running).
   */
  every(seconds: number, fn: () => void): () => void {
    let timer: Timer;
    let stopped = false;
    const tick = () => {
      if (stopped) return;
      fn();
      timer = this.schedule(seconds, tick, true);
    };
    timer = this.schedule(seconds, tick, true);
    return () => {
      stopped = true;
      this.cancel(timer);
    };
  }

  private schedule(seconds: number, fire: () => void, background = false): Timer {
    const timer: Timer = { due: this.nowMs() + Math.max(0, seconds) * 1000, seq: this.seq++, fire, background };
    this.timers.push(timer);
    this.timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
    this.repace();
    return timer;
  }

  private cancel(timer: Timer): void {
    this.timers = this.timers.filter((t) => t !== timer);
    this.repace();
  }

  // ---- work -------------------------------------------------------------------------------

  hold(): () => void {
    this.rebase();
    this.holds++;
    this.repace();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.rebase();
      this.holds--;
      if (this.holds === 0) this.noticeIdle();
      this.repace();
    };
  }

  async during<T>(work: Promise<T>): Promise<T> {
    const release = this.hold();
    try {
      return await work;
    } finally {
      release();
    }
  }

  /** Nothing holds the clock now. */
  get isIdle(): boolean {
    return this.holds === 0;
  }

  private noticeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
    if (this.mode === 'skip') void this.drive();
  }

  /**
   * Resolves once nothing holds the clock and the event loop has settled (promise continuations of
   * the last release, e.g. an execution resuming after a token was completed, have run).
   */
  async idle(): Promise<void> {
    for (;;) {
      if (this.holds > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
      await nextTurn();
      await nextTurn();
      if (this.holds === 0) return;
    }
  }

  // ---- moving time ------------------------------------------------------------------------

  /** The next timer that may make time pass: the earliest, if any foreground timer exists. */
  private nextTimer(): Timer | undefined {
    return this.timers.some((t) => !t.background) ? this.timers[0] : undefined;
  }

  /**
   * Wait until idle, then move virtual time to the next timer and fire it. Returns false when no
   * timer is due (nothing will ever happen by itself).
   */
  async advance(): Promise<boolean> {
    await this.idle();
    const timer = this.nextTimer();
    if (!timer) return false;
    this.timers.shift();
    if (timer.due > this.virtualMs) this.virtualMs = timer.due;
    this.realAnchor = performance.now();
    timer.fire();
    return true;
  }

  /**
   * Drive time until `done()` holds (checked whenever the system is idle). Throws when nothing is
   * running, no timer is due and `done()` still does not hold: the awaited outcome can never come.
   */
  async runUntil(done: () => boolean | Promise<boolean>, what = 'the condition'): Promise<void> {
    for (;;) {
      await this.idle();
      if (await done()) return;
      if (!(await this.advance())) {
        await this.idle();
        if (await done()) return;
        throw new Error(`virtual clock: nothing is running and no timer is due, but ${what} does not hold`);
      }
    }
  }

  /** Skip mode: jump to each next timer as soon as the system is idle. */
  private async drive(): Promise<void> {
    if (this.driving || this.closed) return;
    this.driving = true;
    try {
      while (!this.closed && this.nextTimer()) {
        await this.idle();
        if (this.closed || this.holds > 0) break;
        await this.advance();
      }
    } finally {
      this.driving = false;
    }
    // Work that started while we were driving may have scheduled more timers and finished since.
    if (!this.closed && this.holds === 0 && this.nextTimer()) void this.drive();
  }

  /** Paced mode: a real timer for the next virtual timer, re-armed whenever the rate or the timers change. */
  private repace(): void {
    if (this.mode === 'skip' && this.holds === 0 && !this.driving && this.nextTimer()) void this.drive();
    if (typeof this.mode !== 'object' || this.closed) return;
    if (this.pacer) clearTimeout(this.pacer);
    this.pacer = undefined;
    const next = this.timers[0];
    if (!next) return;
    const wait = Math.max(0, (next.due - this.nowMs()) / this.rate);
    this.pacer = setTimeout(() => this.firePaced(), Math.min(wait, 2 ** 31 - 1));
    this.pacer.unref();
  }

  private firePaced(): void {
    this.pacer = undefined;
    const now = this.nowMs();
    while (this.timers[0] && this.timers[0].due <= now) this.timers.shift()!.fire();
    this.repace();
  }

  /** Stop driving time (pending timers never fire). */
  close(): void {
    this.closed = true;
    if (this.pacer) clearTimeout(this.pacer);
    this.pacer = undefined;
  }
}
