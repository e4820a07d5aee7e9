/**
 * Operator controls from the keyboard while `cutover deploy` follows a deployment in a terminal:
 * p promote · space pause/resume · a approve · c continue (ECS ready or termination wait) ·
 * s stop with rollback · k stop and keep traffic.
 */
import { ApiError } from '../domain/errors.js';
import { TASKS } from '../tasks/index.js';
import type { AnyTask } from '../tasks/task.js';
import type { LocalEnvironment } from '../wiring/local.js';

export const KEYS_HINT =
  'keys: p promote · space pause/resume · a approve · c continue · s stop+rollback · k stop, keep traffic · Ctrl-C stop';

export function listenForKeys(
  env: Pick<LocalEnvironment, 'deps' | 'run'>,
  deploymentId: string,
  say: (s: string) => void,
): () => void {
  const deps = env.deps;
  const stdin = process.stdin;
  if (!stdin.isTTY) return () => undefined;
  stdin.setRawMode(true);
  stdin.resume();
  const run = async (name: keyof typeof TASKS, input: Record<string, unknown>, done: string) => {
    try {
      await env.run(TASKS[name] as AnyTask, { deploymentId, ...input });
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
      // ContinueDeployment: the wait the deployment is in (a ready or termination wait, or an approval).
      const d = await deps.deployments.get(deploymentId);
      const deploymentWaitType = d?.state.currentWait?.kind === 'termination' ? 'TERMINATION_WAIT' : 'READY_WAIT';
      return run('continueDeployment', { deploymentWaitType }, `continued (${deploymentWaitType})`);
    }
    if (key === 's') return run('stopDeployment', {}, 'stop requested (with rollback)');
    if (key === 'k') return run('stopDeployment', { autoRollbackEnabled: false }, 'stop requested (traffic stays)');
    if (key === ' ') {
      const d = await deps.deployments.get(deploymentId);
      return d?.state.paused
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
