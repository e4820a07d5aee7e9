/** The local runtime refuses a definition it cannot run faithfully. */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/local/clock.js';
import { LocalStepFunctions, loadDefinition } from '../../src/local/runtime.js';
import { TASKS } from '../../src/tasks/index.js';
import { quietLogger } from '../../src/wiring/local.js';

describe('LocalStepFunctions', () => {
  it('refuses to start when a Task state is not bound to a task, naming the state', async () => {
    const definition = loadDefinition();
    definition.States.ShiftTraffic!.Resource = { 'Fn::GetAtt': ['moveTraffic', 'Arn'] };
    definition.States.Finalize!.Resource = 'arn:aws:lambda:us-east-1:111122223333:function:finalize';
    await expect(
      LocalStepFunctions.create({ clock: new VirtualClock('manual'), log: quietLogger, tasks: TASKS, definition }),
    ).rejects.toThrow(
      'Refusing to start: Task state(s) not bound to a task: ShiftTraffic (task "moveTraffic" does not exist), Finalize (Resource names no task)',
    );
  });

  it('binds every Task of the real definition', async () => {
    await expect(
      LocalStepFunctions.create({ clock: new VirtualClock('manual'), log: quietLogger, tasks: TASKS }),
    ).resolves.toBeInstanceOf(LocalStepFunctions);
  });

  it('a token completes once; unknown tokens report false', async () => {
    const rt = await LocalStepFunctions.create({ clock: new VirtualClock('manual'), log: quietLogger, tasks: TASKS });
    expect(await rt.succeed('nope', {})).toBe(false);
    expect(await rt.fail('nope', 'E', 'c')).toBe(false);
  });
});
