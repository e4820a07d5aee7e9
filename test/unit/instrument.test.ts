/** The port guard of local mode: undeclared calls refused, faults before a call or after its effect. */
import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError } from '../../src/domain/errors.js';
import type { PlatformPorts } from '../../src/platforms/index.js';
import type { Deps } from '../../src/tasks/task.js';
import { portsFor, UndeclaredPortError, type Instrumentation } from '../../src/wiring/instrument.js';

/** A timeline port that keeps what it was given, and deps holding only it. */
function fixture() {
  const appended: string[] = [];
  const timeline = {
    async append(id: string) {
      appended.push(id);
    },
    async list() {
      return [];
    },
  };
  const deps = { timeline } as unknown as Deps;
  return { appended, deps, platformPorts: {} as PlatformPorts };
}

describe('portsFor', () => {
  it('refuses a method the caller does not declare, before it runs', async () => {
    const { appended, deps, platformPorts } = fixture();
    const view = portsFor('someTask', { timeline: ['list'] }, deps, platformPorts);
    await expect(view.timeline.append('d-1', { at: '', event: 'x', message: '' })).rejects.toThrow(UndeclaredPortError);
    expect(appended).toEqual([]);
  });

  it('a fault thrown by onCall fails the call before it takes effect', async () => {
    const { appended, deps, platformPorts } = fixture();
    const inst: Instrumentation = {
      onCall() {
        throw new DependencyUnavailableError('throttled');
      },
    };
    const view = portsFor('someTask', { timeline: ['append'] }, deps, platformPorts, inst);
    await expect(view.timeline.append('d-1', { at: '', event: 'x', message: '' })).rejects.toThrow('throttled');
    expect(appended).toEqual([]);
  });

  it('a lost response lets the call take effect, then fails it', async () => {
    const { appended, deps, platformPorts } = fixture();
    const seen: string[] = [];
    const inst: Instrumentation = {
      onCall(call) {
        seen.push(`${call.caller} ${call.method}`);
        return { loseResponse: new DependencyUnavailableError('no response') };
      },
    };
    const view = portsFor('someTask', { timeline: ['append'] }, deps, platformPorts, inst);
    await expect(view.timeline.append('d-1', { at: '', event: 'x', message: '' })).rejects.toThrow('no response');
    expect(appended).toEqual(['d-1']);
    expect(seen).toEqual(['someTask timeline.append']);
  });

  it('a call that fails on its own keeps its own error when its response was to be lost', async () => {
    const { deps, platformPorts } = fixture();
    (deps.timeline as unknown as { append: () => Promise<void> }).append = async () => {
      throw new Error('refused by the store');
    };
    const inst: Instrumentation = { onCall: () => ({ loseResponse: new DependencyUnavailableError('lost') }) };
    const view = portsFor('someTask', { timeline: ['append'] }, deps, platformPorts, inst);
    await expect(view.timeline.append('d-1', { at: '', event: 'x', message: '' })).rejects.toThrow(
      'refused by the store',
    );
  });

  it('a fault is a rejected promise, never a throw: calls started together each fail on their own', async () => {
    const { appended, deps, platformPorts } = fixture();
    let n = 0;
    const inst: Instrumentation = {
      onCall() {
        if (++n === 1) return { loseResponse: new DependencyUnavailableError('lost') };
        throw new DependencyUnavailableError('throttled');
      },
    };
    const view = portsFor('someTask', { timeline: ['append'] }, deps, platformPorts, inst);
    const entry = { at: '', event: 'x', message: '' };
    // As Promise.all over a map of calls does: the second fault must not leave the first unhandled.
    const calls = ['d-1', 'd-2'].map((id) => view.timeline.append(id, entry));
    await expect(Promise.all(calls)).rejects.toThrow('throttled');
    await expect(calls[0]).rejects.toThrow('lost');
    expect(appended).toEqual(['d-1']);
  });
});
