/**
 * Operator controls from the keyboard while `cutover deploy` follows a deployment in a terminal:
 * p promote · space pause/resume · a approve · c continue (ECS ready or termination wait) ·
 * s stop with rollback · k stop and keep traffic.
 */
import { ApiError } from '../domain/errors.js';
import { TASKS } from '../tasks/index.js';
import type { Deps } from '../tasks/task.js';

export const KEYS_HINT =
  'keys: p promote · space pause/resume · a approve · c continue · s stop+rollback · k stop, keep traffic · Ctrl-C stop';

export function listenForKeys(deps: Deps, deploymentId: string, say: (s: string) => void): () => void {
  const stdin = process.stdin;
  if (!stdin.isTTY) return () => undefined;
  stdin.setRawMode(true);
  stdin.resume();
  const run = async (name: keyof typeof TASKS, input: Record<string, unknown>, done: string) => {
    try {
      await TASKS[name].run({ deploymentId, ...input }, deps);
      say(done);
    } catch (e) {
      say(e instanceof ApiError ? `${e.exceptionName}: ${e.message}` : (e as Error).message);
    }
  };
  const onData = async (data: Buffer) => {
    const key = data.toString('utf8');
    if (key === '\u0003') return void process.emit('SIGINT');
    if (key === 'p') return run('promoteDeployment', {}, 'promote requested');
    if (key === 'a') return run('approveDeployment', {}, 'approved');
    if (key === 'c') {
      // ContinueDeployment: the wait the deployment is in (ECS ready or termination wait; Lambda: approval).
      const d = await deps.store.getDeployment(deploymentId);
      const deploymentWaitType = d?.currentWait?.kind === 'termination' ? 'TERMINATION_WAIT' : 'READY_WAIT';
      return run('continueDeployment', { deploymentWaitType }, `continued (${deploymentWaitType})`);
    }
    if (key === 's') return run('stopDeployment', {}, 'stop requested (with rollback)');
    if (key === 'k') return run('stopDeployment', { autoRollbackEnabled: false }, 'stop requested (traffic stays)');
    if (key === ' ') {
      const d = await deps.store.getDeployment(deploymentId);
      return d?.paused
        ? run('resumeDeployment', {}, 'resume requested')
        : run('pauseDeployment', {}, 'pause requested');
    }
  };
  stdin.on('data', onData);
  return () => {
    stdin.off('data', onData);
    stdin.setRawMode(false);
    stdin.pause();
  };
}
