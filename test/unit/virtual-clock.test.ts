/** Virtual time: it passes only when nothing holds it, jumps to the next timer, and never runs ahead of work. */
import { setTimeout as realDelay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/local/clock.js';

const START = new Date('2026-01-01T00:00:00Z');
const seconds = (clock: VirtualClock) => (clock.now().getTime() - START.getTime()) / 1000;

describe('VirtualClock (manual)', () => {
  it('stands still until the driver advances it, then jumps to the next timer', async () => {
    const clock = new VirtualClock('manual', START);
    let woke = false;
    void clock.sleep(300).then(() => (woke = true));
    await realDelay(20);
    expect(woke).toBe(false);
    expect(seconds(clock)).toBe(0);
    expect(await clock.advance()).toBe(true);
    await clock.idle();
    expect(woke).toBe(true);
    expect(seconds(clock)).toBe(300);
    expect(await clock.advance()).toBe(false);
  });

  it('does not pass while work holds it, however long the work takes', async () => {
    const clock = new VirtualClock('manual', START);
    const release = clock.hold();
    let timedOut = false;
    void clock.sleep(1).then(() => (timedOut = true));
    const advanced = clock.advance();
    await realDelay(50); // slow work: still no time passes
    expect(timedOut).toBe(false);
    release();
    await advanced;
    await clock.idle();
    expect(timedOut).toBe(true);
  });

  it('background ticks fire on the way to a timer, in order, but never make time pass by themselves', async () => {
    const clock = new VirtualClock('manual', START);
    const ticks: number[] = [];
    const stop = clock.every(10, () => ticks.push(seconds(clock)));
    expect(await clock.advance()).toBe(false); // only background timers: nothing happens
    void clock.sleep(35);
    await clock.runUntil(() => seconds(clock) >= 35);
    expect(ticks).toEqual([10, 20, 30]);
    stop();
  });

  it('runUntil says so when the awaited condition can never hold', async () => {
    const clock = new VirtualClock('manual', START);
    await expect(clock.runUntil(() => false, 'the deployment has ended')).rejects.toThrow(
      /nothing is running and no timer is due, but the deployment has ended does not hold/,
    );
  });

  it('an aborted sleep is cancelled and rejects with AbortError', async () => {
    const clock = new VirtualClock('manual', START);
    const abort = new AbortController();
    const p = clock.sleep(60, abort.signal);
    abort.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(await clock.advance()).toBe(false);
  });
});

describe('VirtualClock (skip)', () => {
  it('jumps to each timer as soon as nothing holds it', async () => {
    const clock = new VirtualClock('skip', START);
    await clock.sleep(3600);
    expect(seconds(clock)).toBe(3600);
    clock.close();
  });

  it('waits for held work before a timer fires', async () => {
    const clock = new VirtualClock('skip', START);
    const release = clock.hold();
    let fired = false;
    void clock.sleep(5).then(() => (fired = true));
    await realDelay(30);
    expect(fired).toBe(false);
    release();
    await clock.idle();
    await realDelay(5);
    expect(fired).toBe(true);
    clock.close();
  });
});

describe('VirtualClock (paced)', () => {
  it('runs fast while idle and at real speed while work holds it', async () => {
    const clock = new VirtualClock({ pace: 100_000 }, START);
    await clock.sleep(60); // a minute of virtual time, a fraction of a millisecond of real time
    expect(seconds(clock)).toBeGreaterThanOrEqual(60);
    const release = clock.hold();
    let fired = false;
    void clock.sleep(3600).then(() => (fired = true));
    await realDelay(50); // at real speed, 50 ms are far from an hour
    expect(fired).toBe(false);
    release();
    await clock.sleep(3600); // scheduled later, so it wakes after the first hour-long wait
    expect(fired).toBe(true);
    clock.close();
  });
});
