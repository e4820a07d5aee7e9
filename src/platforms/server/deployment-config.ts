/**
 * Deployment configurations of EC2/on-premises (Server) in-place deployments.
 *
 * CodeDeploy's parts, exactly: the three predefined configurations as GetDeploymentConfig reports them,
 * custom `minimumHealthyHosts {type: HOST_COUNT | FLEET_PERCENT, value}` and `zonalConfig`, with CodeDeploy's
 * exception names. Cutover adds **waves**, written in the step-list syntax Lambda and ECS users already know:
 * `1 host 10m, 10% 15m, approve 1h, 50%, 100%`.
 *
 * How waves combine with the minimum (see `scheduling.ts` for the rules themselves):
 * - a wave is a cumulative target: after wave k, at most `target(k)` hosts have been started
 *   (`N hosts`, or `P%` of the fleet rounded up, never more than the fleet);
 * - inside a wave, the minimum still limits how many hosts are offline at once, exactly as without waves
 *   (a 50% wave of 10 hosts with a minimum of 9 healthy goes one host at a time);
 * - the minimum is computed once, on the whole fleet, and the deployment still fails (HEALTH_CONSTRAINTS) as
 *   soon as the remaining hosts cannot be deployed without falling below it, whichever wave it is in;
 * - when a wave is done the engine bakes for the wave's bake, asks for the approval that follows it (if any),
 *   and only then starts the next wave;
 * - waves and `zonalConfig` are exclusive (both decide which hosts go together and where to pause).
 */
import type { Plan, Step } from '../../domain/model.js';
import {
  DEFAULT_APPROVAL_TIMEOUT_SECONDS,
  MAX_SHIFT_SECONDS,
  MAX_STEPS,
  PERCENT_RESOLUTION,
  approvalStepIssues,
  isInlineStepList,
  onPercentResolution,
  parseStepParts,
  readPercentTarget,
  type PlatformDeploymentConfigs,
  type StepTargetReader,
} from '../../domain/deployment-config.js';
import { ApiError, InvalidInputError, type Issue } from '../../domain/errors.js';

/** The minimum-healthy-hosts types a user may set (CodeDeploy's `MinimumHealthyHostsType`). */
export type MinimumHealthyHostsType = 'HOST_COUNT' | 'FLEET_PERCENT';

/**
 * How many hosts must stay healthy during the deployment. `MOST_CONCURRENCY` (value 1) is how
 * GetDeploymentConfig reports `CodeDeployDefault.OneAtATime`: one host at a time, all others kept healthy.
 * Users cannot set it.
 */
export interface MinimumHealthyHosts {
  type: MinimumHealthyHostsType | 'MOST_CONCURRENCY';
  value: number;
}

/** The per-zone floor of a zonal configuration (CodeDeploy's `MinimumHealthyHostsPerZone`). */
export interface MinimumHealthyHostsPerZone {
  type: MinimumHealthyHostsType;
  value: number;
}

/** CodeDeploy's `ZonalConfig`: deploy one Availability Zone at a time, with a bake after each zone. */
export interface ZonalConfig {
  /** Bake after the first zone; unset → `monitorDurationInSeconds`. */
  firstZoneMonitorDurationInSeconds?: number;
  /** Bake after every zone but the last; unset → start the next zone at once. */
  monitorDurationInSeconds?: number;
  /** Hosts that must stay healthy in the zone being deployed; unset → 0 percent. */
  minimumHealthyHostsPerZone?: MinimumHealthyHostsPerZone;
}

/**
 * One entry of a wave list (Cutover): a cumulative target of `hosts` hosts or `percentage` % of the fleet
 * (rounded up) with a bake after it, or an approval that must follow a wave.
 */
export type WaveEntry =
  | { hosts: number; bakeSeconds: number }
  | { percentage: number; bakeSeconds: number }
  | { approve: true; timeoutSeconds: number };

/** A Server deployment configuration, as GetDeploymentConfig returns it (plus Cutover's `waves`). */
export interface ServerDeploymentConfig {
  deploymentConfigName: string;
  deploymentConfigId: string;
  computePlatform: 'Server';
  minimumHealthyHosts: MinimumHealthyHosts;
  zonalConfig?: ZonalConfig;
  /** Cutover: deploy in waves with bakes and approvals between them. */
  waves?: WaveEntry[];
  createTime: string;
}

/** The parts of a Server configuration that decide scheduling. */
export type ServerSchedulingConfig = Pick<ServerDeploymentConfig, 'minimumHealthyHosts' | 'zonalConfig' | 'waves'>;

/** Every predefined Server configuration's minimum, exactly as GetDeploymentConfig reports it. */
export const PREDEFINED_SERVER_CONFIGS: Readonly<Record<string, MinimumHealthyHosts>> = {
  'CodeDeployDefault.OneAtATime': { type: 'MOST_CONCURRENCY', value: 1 },
  'CodeDeployDefault.HalfAtATime': { type: 'FLEET_PERCENT', value: 50 },
  'CodeDeployDefault.AllAtOnce': { type: 'FLEET_PERCENT', value: 0 },
};

/** The configuration a Server deployment group uses when none is named (CodeDeploy's default). */
export const DEFAULT_SERVER_CONFIG = 'CodeDeployDefault.OneAtATime';

/** Returns the predefined Server configuration called `name`, or undefined when there is none. Never throws. */
export function predefinedServerConfig(name: string): ServerDeploymentConfig | undefined {
  const minimumHealthyHosts = PREDEFINED_SERVER_CONFIGS[name];
  if (!minimumHealthyHosts) return undefined;
  return {
    deploymentConfigName: name,
    deploymentConfigId: `predefined-${name}`,
    computePlatform: 'Server',
    minimumHealthyHosts: { ...minimumHealthyHosts },
    createTime: '2014-10-06T00:00:00.000Z',
  };
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** How strict validation is. */
export interface ValidationOptions {
  /** Accept `MOST_CONCURRENCY` (predefined configurations are checked too, and OneAtATime uses it). */
  allowMostConcurrency?: boolean;
}

/**
 * Issues with a `{type, value}` minimum as CreateDeploymentConfig receives it: HOST_COUNT is 0 or more,
 * FLEET_PERCENT is 0 to 99 (100 % could never take a host offline), both whole numbers. Returns an empty list
 * when it is valid; never throws.
 */
export function minimumIssues(input: unknown, path: string, options: ValidationOptions = {}): Issue[] {
  if (!isObject(input)) return [{ path, message: 'required: {type: HOST_COUNT | FLEET_PERCENT, value}' }];
  const issues: Issue[] = [];
  const { type, value } = input;
  if (type === 'MOST_CONCURRENCY' && options.allowMostConcurrency) {
    if (!isInt(value) || value < 1)
      issues.push({ path: `${path}.value`, message: 'must be a whole number, 1 or more' });
    return issues;
  }
  if (type === 'MOST_CONCURRENCY') {
    issues.push({
      path: `${path}.type`,
      message: 'MOST_CONCURRENCY cannot be set; it is how CodeDeployDefault.OneAtATime is reported. Use HOST_COUNT',
    });
  } else if (type !== 'HOST_COUNT' && type !== 'FLEET_PERCENT') {
    issues.push({ path: `${path}.type`, message: 'must be HOST_COUNT or FLEET_PERCENT' });
  }
  if (!isInt(value) || value < 0) {
    issues.push({ path: `${path}.value`, message: 'must be a whole number, 0 or more' });
  } else if (type === 'FLEET_PERCENT' && value > 99) {
    issues.push({
      path: `${path}.value`,
      message: 'a FLEET_PERCENT minimum must be less than 100: no host could be taken offline',
    });
  }
  return issues;
}

/**
 * Issues with a `zonalConfig` (all fields optional): monitor durations are whole seconds from 0 to
 * {@link MAX_SHIFT_SECONDS} (Cutover's cap on one wait), `minimumHealthyHostsPerZone` follows the same rules
 * as `minimumHealthyHosts`. Returns an empty list when it is valid; never throws.
 */
export function zonalConfigIssues(input: unknown, path = 'zonalConfig'): Issue[] {
  if (!isObject(input)) return [{ path, message: 'must be an object' }];
  const issues: Issue[] = [];
  for (const key of ['firstZoneMonitorDurationInSeconds', 'monitorDurationInSeconds'] as const) {
    const v = input[key];
    if (v !== undefined && (!isInt(v) || v < 0 || v > MAX_SHIFT_SECONDS)) {
      issues.push({
        path: `${path}.${key}`,
        message: `must be a whole number of seconds from 0 to ${MAX_SHIFT_SECONDS}`,
      });
    }
  }
  if (input.minimumHealthyHostsPerZone !== undefined) {
    issues.push(...minimumIssues(input.minimumHealthyHostsPerZone, `${path}.minimumHealthyHostsPerZone`));
  }
  return issues;
}

/** Reads `<n> host [<bake>]` or `<n> hosts [<bake>]`, then `<percent>% [<bake>]`. */
const readWaveTarget: StepTargetReader<{ hosts: number } | { percentage: number }> = (part) => {
  const hosts = /^(\d+)\s*hosts?(?:\s+(\S+))?$/i.exec(part);
  if (hosts) return { target: { hosts: Number(hosts[1]) }, bake: hosts[2] };
  const pct = readPercentTarget(part);
  return pct ? { target: { percentage: pct.target }, bake: pct.bake } : undefined;
};

/**
 * Parse waves written as text, e.g. `1 host 10m, 10% 15m, 50%, 100%` or `2 hosts, approve 1h, 25% 5m, 100%`:
 * each part is `<n> host(s) [<bake>]`, `<percent>% [<bake>]` or `approve [<timeout>]` (durations like 90s, 5m,
 * 1h30m; approvals default to 1h). Returns the entries unvalidated (see {@link waveIssues}).
 *
 * @throws InvalidInputError (InvalidTrafficRoutingConfigurationException) naming every part that cannot be read
 */
export function parseWaves(text: string, path = 'waves'): WaveEntry[] {
  const { steps, issues } = parseStepParts(
    text,
    path,
    readWaveTarget,
    '"<n> host(s) [<bake>]", "<percent>% [<bake>]"',
    '"1 host 10m"',
  );
  if (issues.length) throw new InvalidInputError(issues, WAVES_EXCEPTION, 'Invalid waves');
  return steps.map((s): WaveEntry => ('approve' in s ? s : { ...s.target, bakeSeconds: s.bakeSeconds }));
}

/**
 * The exception a bad wave list answers with. Waves are the Server form of Cutover's step lists, whose
 * problems are InvalidTrafficRoutingConfigurationException for Lambda and ECS; one syntax, one exception.
 */
export const WAVES_EXCEPTION = 'InvalidTrafficRoutingConfigurationException';

/**
 * Issues with a wave list: 1 to {@link MAX_STEPS} entries; targets are whole host counts of at least 1 or
 * percentages above 0 and at most 100 (multiples of {@link PERCENT_RESOLUTION}); host counts increase and come
 * before any percentage (whether 5 hosts is more than 10% depends on the fleet), percentages increase; the
 * last entry is exactly 100% with no bake; an approval follows a wave (not first, not last, not twice in a
 * row); bakes are whole seconds adding up to at most {@link MAX_SHIFT_SECONDS}. Returns an empty list when it
 * is valid; never throws.
 */
export function waveIssues(input: unknown, path = 'waves'): Issue[] {
  if (!Array.isArray(input) || input.length === 0) {
    return [
      {
        path,
        message: 'must be a non-empty list of {hosts, bakeSeconds}, {percentage, bakeSeconds} or {approve: true}',
      },
    ];
  }
  const issues: Issue[] = [];
  if (input.length > MAX_STEPS) issues.push({ path, message: `at most ${MAX_STEPS} steps` });
  let prevHosts = 0;
  let prevPct = 0;
  let prevKind: 'none' | 'wave' | 'approve' = 'none';
  let total = 0;
  input.forEach((raw: unknown, i) => {
    const at = `${path}[${i}]`;
    const entry = isObject(raw) ? raw : {};
    const last = i === input.length - 1;
    if (entry.approve !== undefined) {
      issues.push(...approvalStepIssues(entry, at));
      if (prevKind === 'none') issues.push({ path: at, message: 'an approval must follow a wave' });
      else if (prevKind === 'approve') issues.push({ path: at, message: 'only one approval may follow a wave' });
      if (last) issues.push({ path: at, message: 'the last wave must be 100%, not an approval' });
      prevKind = 'approve';
      return;
    }
    prevKind = 'wave';
    const { hosts, percentage: pct } = entry;
    if (hosts !== undefined && pct !== undefined) {
      issues.push({ path: at, message: 'a wave has either hosts or percentage, not both' });
    } else if (hosts === undefined && pct === undefined) {
      issues.push({ path: at, message: 'must be {hosts, bakeSeconds}, {percentage, bakeSeconds} or {approve: true}' });
    } else if (hosts !== undefined) {
      if (!isInt(hosts) || hosts < 1)
        issues.push({ path: `${at}.hosts`, message: 'must be a whole number, 1 or more' });
      else {
        if (prevPct > 0) {
          issues.push({
            path: `${at}.hosts`,
            message:
              `must come before the percentage waves: ` +
              `whether ${hosts} hosts is more than ${prevPct}% depends on the fleet`,
          });
        } else if (hosts <= prevHosts) {
          issues.push({ path: `${at}.hosts`, message: `must be more than the previous wave (${prevHosts} hosts)` });
        }
        prevHosts = hosts;
      }
      if (last) issues.push({ path: at, message: 'the last wave must be 100%' });
    } else if (typeof pct !== 'number' || !Number.isFinite(pct) || pct <= 0 || pct > 100) {
      issues.push({ path: `${at}.percentage`, message: 'must be a number greater than 0 and at most 100' });
    } else {
      if (!onPercentResolution(pct)) {
        issues.push({ path: `${at}.percentage`, message: `must be a multiple of ${PERCENT_RESOLUTION}` });
      }
      if (pct <= prevPct) {
        issues.push({ path: `${at}.percentage`, message: `must be more than the previous wave (${prevPct}%)` });
      }
      if (last && pct !== 100) issues.push({ path: `${at}.percentage`, message: 'the last wave must be 100%' });
      if (!last && pct === 100) issues.push({ path: `${at}.percentage`, message: 'only the last wave may be 100%' });
      prevPct = pct;
    }
    const bake = entry.bakeSeconds ?? 0;
    if (!isInt(bake) || bake < 0) {
      issues.push({ path: `${at}.bakeSeconds`, message: 'must be a whole number of seconds, 0 or more' });
    } else if (last && bake > 0) {
      issues.push({
        path: `${at}.bakeSeconds`,
        message: 'the last wave has no bake: the deployment ends when it is done',
      });
    } else total += bake;
  });
  if (total > MAX_SHIFT_SECONDS) {
    issues.push({
      path,
      message: `bakes add up to ${Math.round(total / 60)} minutes, more than the ${MAX_SHIFT_SECONDS / 60}-minute cap`,
    });
  }
  return issues;
}

/**
 * Issues with the scheduling part of a Server configuration as CreateDeploymentConfig receives it
 * (`minimumHealthyHosts` required; `zonalConfig`, `waves` optional; waves given as text are parsed first).
 * Waves and a zonal configuration cannot be combined: both decide which hosts go together and where the
 * deployment pauses. Returns every problem at once, each with its path; never throws.
 */
export function serverConfigIssues(input: unknown, options: ValidationOptions = {}): Issue[] {
  if (!isObject(input)) return [{ path: '', message: 'must be an object' }];
  const issues: Issue[] = [...minimumIssues(input.minimumHealthyHosts, 'minimumHealthyHosts', options)];
  if (input.zonalConfig !== undefined) issues.push(...zonalConfigIssues(input.zonalConfig));
  if (input.waves !== undefined) {
    let waves: unknown = input.waves;
    if (typeof waves === 'string') {
      try {
        waves = parseWaves(waves);
      } catch (e) {
        if (!(e instanceof InvalidInputError)) throw e;
        return [...issues, ...e.issues];
      }
    }
    issues.push(...waveIssues(waves));
    if (input.zonalConfig !== undefined) {
      issues.push({
        path: 'waves',
        message: 'cannot be combined with zonalConfig: both decide which hosts go together; use one of them',
      });
    }
  }
  return issues;
}

/**
 * The CodeDeploy exception for a list of issues: the first field in CreateDeploymentConfig's order that has a
 * problem decides (minimum healthy hosts, then zonal configuration, then waves).
 */
export function serverConfigExceptionName(issues: readonly Issue[]): string {
  const has = (prefix: string) => issues.some((i) => i.path === prefix || i.path.startsWith(`${prefix}.`));
  if (has('deploymentConfigName')) return 'InvalidDeploymentConfigNameException';
  if (has('minimumHealthyHosts')) return 'InvalidMinimumHealthyHostValueException';
  if (has('zonalConfig')) return 'InvalidZonalDeploymentConfigurationException';
  if (issues.some((i) => i.path.startsWith('waves'))) return WAVES_EXCEPTION;
  return 'InvalidInputException';
}

/**
 * Validate the scheduling part of a Server configuration and return it normalized (waves given as text are
 * parsed; bakes and approval timeouts filled in; unknown fields dropped).
 *
 * @throws InvalidInputError listing every problem, named as CodeDeploy would
 *   (InvalidMinimumHealthyHostValueException, InvalidZonalDeploymentConfigurationException, or
 *   InvalidTrafficRoutingConfigurationException for waves)
 */
export function serverSchedulingConfig(input: unknown, options: ValidationOptions = {}): ServerSchedulingConfig {
  const issues = serverConfigIssues(input, options);
  if (issues.length) {
    throw new InvalidInputError(issues, serverConfigExceptionName(issues), 'Invalid deployment configuration');
  }
  const raw = input as Record<string, unknown>;
  const mhh = raw.minimumHealthyHosts as MinimumHealthyHosts;
  const config: ServerSchedulingConfig = { minimumHealthyHosts: { type: mhh.type, value: mhh.value } };
  if (raw.zonalConfig !== undefined) {
    const z = raw.zonalConfig as ZonalConfig;
    const zonal: ZonalConfig = {};
    if (z.firstZoneMonitorDurationInSeconds !== undefined) {
      zonal.firstZoneMonitorDurationInSeconds = z.firstZoneMonitorDurationInSeconds;
    }
    if (z.monitorDurationInSeconds !== undefined) zonal.monitorDurationInSeconds = z.monitorDurationInSeconds;
    if (z.minimumHealthyHostsPerZone !== undefined) {
      const { type, value } = z.minimumHealthyHostsPerZone;
      zonal.minimumHealthyHostsPerZone = { type, value };
    }
    config.zonalConfig = zonal;
  }
  if (raw.waves !== undefined) {
    const waves = typeof raw.waves === 'string' ? parseWaves(raw.waves) : (raw.waves as WaveEntry[]);
    config.waves = waves.map((w): WaveEntry => {
      if ('approve' in w)
        return { approve: true, timeoutSeconds: w.timeoutSeconds ?? DEFAULT_APPROVAL_TIMEOUT_SECONDS };
      const bakeSeconds = w.bakeSeconds ?? 0;
      return 'hosts' in w ? { hosts: w.hosts, bakeSeconds } : { percentage: w.percentage, bakeSeconds };
    });
  }
  return config;
}

/**
 * The Server platform's deployment configurations: the three predefined ones; CreateDeploymentConfig's
 * `minimumHealthyHosts`, `zonalConfig` and Cutover's `waves` (a list, or the step-list text); no inline
 * configurations (a wave list needs a minimum to go with it: create a configuration).
 */
export const serverDeploymentConfigs: PlatformDeploymentConfigs = {
  predefined: Object.keys(PREDEFINED_SERVER_CONFIGS).map((name) => predefinedServerConfig(name)!),
  fields: ['minimumHealthyHosts', 'zonalConfig', 'waves'],
  settings: (input) => serverSchedulingConfig(input),
  plan: (settings) => serverStepPlan(settings.waves as readonly WaveEntry[] | undefined),
  inline(name) {
    if (!isInlineStepList(name) && !/^\d+\s*hosts?\b/i.test(name)) return undefined;
    throw new ApiError(
      'InvalidDeploymentConfigNameException',
      `"${name}" looks like waves written inline; Server deployments take waves from a deployment configuration: ` +
        'CreateDeploymentConfig with minimumHealthyHosts and waves, then name it',
    );
  },
};

/**
 * A Server deployment's steps, fixed when it is created (before its hosts are known): one `shift` per wave,
 * then an `approve` where the wave has one; no waves: one step, every host. The fleet maps step `i` to wave
 * `i` (src/platforms/server/fleet). A step's weight is the wave's percentage of the fleet; a wave written as
 * a host count (`1 host`) gets a nominal weight between its neighbours, since the fleet's size is known only
 * at Prepare; the timeline says how many hosts each wave holds.
 */
export function serverStepPlan(waves: readonly WaveEntry[] | undefined): Plan {
  const targets = (waves ?? []).filter((w): w is Exclude<WaveEntry, { approve: true }> => !('approve' in w));
  if (targets.length === 0) return { steps: [{ kind: 'shift', weight: 100, bakeSeconds: 0 }], totalBakeSeconds: 0 };
  const steps: Step[] = [];
  let shifts = 0;
  let last = 0;
  for (const w of waves ?? []) {
    if ('approve' in w) {
      steps.push({ kind: 'approve', weight: last, bakeSeconds: 0, timeoutSeconds: w.timeoutSeconds });
      continue;
    }
    shifts++;
    const isLast = shifts === targets.length;
    const nominal = (shifts * 100) / targets.length;
    const weight = isLast ? 100 : 'percentage' in w ? w.percentage : Math.max(last + 0.01, Math.min(nominal, 99));
    last = Math.round(weight * 100) / 100;
    steps.push({ kind: 'shift', weight: last, bakeSeconds: isLast ? 0 : w.bakeSeconds });
  }
  return { steps, totalBakeSeconds: steps.reduce((t, x) => t + x.bakeSeconds, 0) };
}
