/** Live timeline of a local deployment: what happened, when (simulated time), at which weights. */
import type { LocalEnvironment, SimLogEntry } from '../wiring/local.js';
import type { Deployment, TimelineEntry } from '../domain/model.js';

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (s: string) => (useColor ? `\u001b[${code}m${s}\u001b[0m` : s);
export const c = {
  red: paint(31),
  green: paint(32),
  yellow: paint(33),
  cyan: paint(36),
  dim: paint(2),
  bold: paint(1),
};

export function clockText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = `${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
  return h ? `${h}:${mm}` : mm;
}

const EVENT_COLOR: Record<string, (s: string) => string> = {
  Succeeded: c.green,
  Failed: c.red,
  Stopped: c.red,
  RolledBack: c.yellow,
  RollbackStarted: c.yellow,
  PreconditionFailed: c.red,
};

/** The label column: as wide as the longest event name (PreconditionFailed), so rows stay aligned. */
export const LABEL_WIDTH = 18;

function line(t0: number, at: string, label: string, message: string): string {
  const color = EVENT_COLOR[label] ?? ((s: string) => s);
  return `  ${c.dim(`+${clockText(Date.parse(at) - t0).padStart(5)}`)}  ${color(label.padEnd(LABEL_WIDTH))} ${message}`;
}

export function renderEntry(t0: number, e: TimelineEntry): string {
  return line(t0, e.at, e.event, e.message);
}

function renderWorld(t0: number, e: SimLogEntry): string | undefined {
  if (e.kind === 'Alarm') {
    const state = String(e.detail.state);
    const paintState = state === 'ALARM' ? c.red : state === 'OK' ? c.green : c.dim;
    return line(
      t0,
      e.at,
      'Alarm',
      `${String(e.detail.alarmName)}: ${String(e.detail.previous ?? '-')} → ${paintState(state)}`,
    );
  }
  if (e.kind === 'Hook' && e.detail.state === 'threw')
    return line(t0, e.at, 'HookError', `${String(e.detail.functionName)} threw: ${String(e.detail.message)}`);
  if (e.kind === 'TaskSet') {
    const d = e.detail;
    return line(
      t0,
      e.at,
      'TaskSet',
      `${String(d.cluster)}/${String(d.service)} ${String(d.taskDefinition)} (${String(d.taskSetId)}) ${String(d.event)}`,
    );
  }
  if (e.kind === 'Listener')
    return line(
      t0,
      e.at,
      'Listener',
      `${String(e.detail.listener)}${e.detail.ruleArn ? ' rule' : ''} → ${String(e.detail.split)}`,
    );
  return undefined;
}

/** A simulated listener and where it sends traffic, e.g. "web-alb/prod web-blue 90% / web-green 10%". */
export function listenerRouting(env: Pick<LocalEnvironment, 'world'>, listenerArn: string): string {
  const l = env.world.ecs.findListener(listenerArn);
  const split = Object.entries(env.world.ecs.split(listenerArn))
    .filter(([, p]) => p > 0)
    .map(([tg, p]) => `${tg} ${p}%`)
    .join(' / ');
  return `${l ? `${l.loadBalancer}/${l.name}` : listenerArn} ${split}`;
}

/** What a deployment targets, as the local world shows it: Lambda aliases, or an ECS service's listeners. */
export function targetOf(d: Deployment): {
  functions: { functionName: string; alias: string; currentVersion: string; targetVersion: string }[];
  ecs?: { prodListenerArns: string[] };
} {
  const t = (d.spec.target ?? {}) as { functions?: unknown; prodListenerArns?: unknown };
  return {
    functions: Array.isArray(t.functions) ? (t.functions as ReturnType<typeof targetOf>['functions']) : [],
    ...(Array.isArray(t.prodListenerArns) ? { ecs: { prodListenerArns: t.prodListenerArns as string[] } } : {}),
  };
}

/**
 * Print the deployment's timeline as it happens, with a progress line every `progressSeconds`
 * of simulated time while it bakes. Resolves with the final record when the execution ends.
 */
export async function watch(
  env: LocalEnvironment,
  deploymentId: string,
  out: (s: string) => void,
  progressSeconds = 60,
  speed = 1,
): Promise<Deployment> {
  const first = await env.deps.deployments.get(deploymentId);
  const t0 = Date.parse(first?.spec.createTime ?? env.clock.stamp().toISOString());
  let printed = 0;
  let lastWorld = env.world.log.length;
  const flush = async () => {
    const timeline = await env.deps.timeline.list(deploymentId);
    const lines: [string, string][] = timeline.slice(printed).map((e) => [e.at, renderEntry(t0, e)]);
    printed = timeline.length;
    for (const e of env.world.log.slice(lastWorld)) {
      const s = renderWorld(t0, e);
      if (s) lines.push([e.at, s]);
    }
    lastWorld = env.world.log.length;
    for (const [, s] of lines.sort((a, b) => a[0].localeCompare(b[0]))) out(s);
  };
  const progress = async () => {
    const d = await env.deps.deployments.get(deploymentId);
    if (!d || d.state.currentWait?.kind !== 'bake') return;
    const target = targetOf(d);
    const parts = target.ecs
      ? target.ecs.prodListenerArns.map(
          (arn) =>
            `${listenerRouting(env, arn)}, errors ${env.world.observedListener(arn, 60).errorRate.toFixed(1)}%/min`,
        )
      : target.functions.map((f) => {
          const split = env.world.split(f.functionName, f.alias);
          const obs = env.world.observed(f.functionName, f.alias, 60);
          const weights = Object.entries(split)
            .map(([v, p]) => `v${v} ${p}%`)
            .join(' / ');
          return `${f.functionName}:${f.alias} ${weights}, errors ${obs.errorRate.toFixed(1)}%/min`;
        });
    out(line(t0, env.clock.stamp().toISOString(), 'Baking', c.dim(parts.join('; '))));
  };
  const done = env.runtime.wait(deploymentId);
  let finished = false;
  void done.then(() => (finished = true));
  const pollMs = 20;
  const progressEvery = Math.max(1, Math.round((progressSeconds * 1000) / speed / pollMs));
  for (let tick = 1; !finished; tick++) {
    await new Promise((r) => setTimeout(r, pollMs));
    await flush();
    if (tick % progressEvery === 0 && !finished) await progress();
  }
  await done;
  await flush();
  return (await env.deps.deployments.get(deploymentId))!;
}
