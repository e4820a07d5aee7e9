/**
 * A progress line for people watching a wait: while a followed deployment prints nothing (a long
 * bake, a hook, an ECS service becoming steady, a remote deployment), one line at least every
 * `everyMs` of wall time, on a terminal or not (CI logs get plain lines). A timer, not the
 * deployment's clock: what matters is how long a person has been looking at a silent screen.
 */
import { UsageError } from './options.js';

/** The fields of CodeDeploy's DeploymentInfo (GetDeployment) a progress line reads. */
export interface ProgressInfo {
  status?: string;
  cutover?: {
    targetWeight?: number;
    waiting?: string;
    paused?: boolean;
    lifecycleEvents?: { lifecycleEventName: string; status: string }[];
  };
}

/** What a deployment is waiting on, in a few words (from GetDeployment's deploymentInfo). */
export function progressText(d: ProgressInfo): string {
  const c = d.cutover ?? {};
  const weight = c.targetWeight === undefined ? '' : `${c.targetWeight}% on target`;
  const event = c.lifecycleEvents?.find((e) => e.status === 'InProgress')?.lifecycleEventName;
  const at = (s: string) => [s, weight].filter(Boolean).join(', ');
  if (c.paused || c.waiting === 'pause') return at("paused ('cutover resume' continues)");
  switch (c.waiting) {
    case 'bake':
      return at('baking');
    case 'hook':
      return at(`waiting on the ${event ?? 'lifecycle'} hook`);
    case 'hookRetry':
      return at(`waiting to try the ${event ?? 'lifecycle'} hook again`);
    case 'approval':
      return at("waiting for approval ('cutover approve')");
    case 'settle':
      return at(`waiting for the hosts${event ? ` (${event})` : ''}`);
    case 'steady':
      return at('waiting for the replacement tasks to be steady');
    case 'ready':
      return at("ready: production traffic moves on 'cutover continue'");
    case 'termination':
      return at('termination wait: the original task set is kept until it ends');
    default:
      return at(`${d.status ?? 'in progress'}${event ? `, ${event}` : ''}`);
  }
}

export interface Timers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const REAL_TIMERS: Timers = {
  setInterval: (fn, ms) => {
    const t = setInterval(fn, ms);
    // Never what keeps the process alive: the wait it reports on does that.
    t.unref();
    return t;
  },
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/**
 * Wraps `print`: every line printed through the returned `out` counts as progress; after `everyMs`
 * without one, `describe()` is printed. Ticks three times an interval, so no silence lasts longer.
 */
export function heartbeat(
  print: (s: string) => void,
  describe: () => Promise<string | undefined>,
  everyMs: number,
  timers: Timers = REAL_TIMERS,
): { out: (s: string) => void; stop: () => void } {
  const ticksPerLine = 3;
  let quietTicks = 0;
  let asking = false;
  const handle = timers.setInterval(
    () => {
      if (++quietTicks < ticksPerLine || asking) return;
      asking = true;
      describe()
        .then((line) => {
          if (line !== undefined) print(line);
        })
        // A progress line that cannot be made (the API is briefly away) is no reason to stop a wait.
        .catch(() => undefined)
        .finally(() => {
          quietTicks = 0;
          asking = false;
        });
    },
    Math.max(1, everyMs / ticksPerLine),
  );
  return {
    out: (s) => {
      quietTicks = 0;
      print(s);
    },
    stop: () => timers.clearInterval(handle),
  };
}

/** --progress SECONDS: how often, in milliseconds. */
export function progressMs(v: unknown): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 86_400)
    throw new UsageError(`--progress: seconds from 0 (exclusive) to 86400, got ${String(v)}`);
  return n * 1000;
}
