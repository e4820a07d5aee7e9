/**
 * Deployment configurations and the planner that turns any of them into steps.
 *
 * CodeDeploy's shapes (`TimeBasedCanary`, `TimeBasedLinear`, `AllAtOnce`, integer percent and
 * minutes) are accepted exactly; Cutover adds `StepList`: explicit steps with fractional
 * percentages and a bake per step, written as `1% 5m, 10% 10m, 50% 10m, 100%`.
 */
import { InternalError, InvalidInputError, type Issue } from './errors.js';
import type { ComputePlatform, Plan, Step } from './model.js';

export type TrafficRoutingConfig =
  | { type: 'AllAtOnce' }
  | { type: 'TimeBasedCanary'; timeBasedCanary: { canaryPercentage: number; canaryInterval: number } }
  | { type: 'TimeBasedLinear'; timeBasedLinear: { linearPercentage: number; linearInterval: number } }
  | { type: 'StepList'; stepList: { steps: StepListEntry[] } };

/** A step of a StepList: a weight and a bake, or an approval gate with its timeout. */
export type StepListEntry = { percentage: number; bakeSeconds: number } | { approve: true; timeoutSeconds: number };

/** Default time an approval step waits before it fails the deployment. */
export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 3600;
/** Longest an approval may wait (7 days). */
export const MAX_APPROVAL_TIMEOUT_SECONDS = 7 * 24 * 3600;

/**
 * A deployment configuration, as stored and as GetDeploymentConfig returns it (DeploymentConfigInfo). Lambda
 * and ECS configurations have a `trafficRoutingConfig`; Server ones a `minimumHealthyHosts`, maybe a
 * `zonalConfig`, and Cutover's `waves` (their shapes and rules: src/platforms/server/deployment-config.ts).
 */
export interface DeploymentConfig {
  deploymentConfigName: string;
  deploymentConfigId: string;
  computePlatform: ComputePlatform;
  trafficRoutingConfig?: TrafficRoutingConfig;
  minimumHealthyHosts?: { type: string; value: number };
  zonalConfig?: {
    firstZoneMonitorDurationInSeconds?: number;
    monitorDurationInSeconds?: number;
    minimumHealthyHostsPerZone?: { type: string; value: number };
  };
  waves?: readonly object[];
  createTime: string;
}

/** What CreateDeploymentConfig takes besides the name and the platform: the platform's own fields. */
export type DeploymentConfigSettings = Pick<
  DeploymentConfig,
  'trafficRoutingConfig' | 'minimumHealthyHosts' | 'zonalConfig' | 'waves'
>;
/** Every field of CreateDeploymentConfig that belongs to some platform. */
export const CONFIG_SETTINGS_FIELDS: readonly (keyof DeploymentConfigSettings)[] = [
  'trafficRoutingConfig',
  'minimumHealthyHosts',
  'zonalConfig',
  'waves',
];

/** CodeDeploy's exception for a problem with each CreateDeploymentConfig field (Cutover's waves: as routing). */
export const CONFIG_FIELD_EXCEPTIONS: Readonly<Record<string, string>> = {
  deploymentConfigName: 'InvalidDeploymentConfigNameException',
  computePlatform: 'InvalidComputePlatformException',
  trafficRoutingConfig: 'InvalidTrafficRoutingConfigurationException',
  minimumHealthyHosts: 'InvalidMinimumHealthyHostValueException',
  zonalConfig: 'InvalidZonalDeploymentConfigurationException',
  waves: 'InvalidTrafficRoutingConfigurationException',
};

/**
 * A platform's deployment configurations: CodeDeploy's predefined ones, the CreateDeploymentConfig fields it
 * reads, and configurations written inline where a configuration name goes (a group's or a deployment's).
 */
export interface PlatformDeploymentConfigs {
  /** The predefined configurations, as GetDeploymentConfig returns them, in ListDeploymentConfigs order. */
  readonly predefined: readonly DeploymentConfig[];
  /** The fields of CreateDeploymentConfig this platform reads; another platform's are refused. */
  readonly fields: readonly (keyof DeploymentConfigSettings)[];
  /**
   * This platform's fields of a CreateDeploymentConfig request, checked and normalized (unknown fields
   * dropped).
   * @throws InvalidInputError with every problem, each with its path, named as CodeDeploy names the first
   */
  settings(input: Readonly<Record<string, unknown>>): DeploymentConfigSettings;
  /**
   * A configuration written inline in place of a name (Lambda and ECS: a step list, `10% 5m, 100%`), with the
   * name a deployment records for it; undefined when `name` is an ordinary name.
   * @throws InvalidInputError when it is inline but invalid, or ApiError when this platform takes none
   */
  inline(name: string): { name: string; settings: DeploymentConfigSettings } | undefined;
  /**
   * The steps of a deployment with these settings, fixed when it is created (Lambda and ECS: the traffic
   * routing's shifts; Server: one step per wave).
   * @throws InternalError when the settings lack what this platform plans from
   */
  plan(settings: DeploymentConfigSettings): Plan;
}

/** CodeDeploy: at most 2880 minutes between the first and the last traffic shift of a Lambda deployment. */
export const MAX_SHIFT_SECONDS = 2880 * 60;
/** Keeps an execution far below Step Functions' 25,000-event history limit. */
export const MAX_STEPS = 100;
/** Weights are sent to Lambda as fractions; 0.01 % is the finest step we accept. */
export const PERCENT_RESOLUTION = 0.01;

const canary = (p: number, i: number): TrafficRoutingConfig => ({
  type: 'TimeBasedCanary',
  timeBasedCanary: { canaryPercentage: p, canaryInterval: i },
});
const linear = (p: number, i: number): TrafficRoutingConfig => ({
  type: 'TimeBasedLinear',
  timeBasedLinear: { linearPercentage: p, linearInterval: i },
});

/** Every predefined Lambda configuration, with CodeDeploy's exact names. */
export const PREDEFINED_LAMBDA_CONFIGS: Readonly<Record<string, TrafficRoutingConfig>> = {
  'CodeDeployDefault.LambdaAllAtOnce': { type: 'AllAtOnce' },
  'CodeDeployDefault.LambdaCanary10Percent5Minutes': canary(10, 5),
  'CodeDeployDefault.LambdaCanary10Percent10Minutes': canary(10, 10),
  'CodeDeployDefault.LambdaCanary10Percent15Minutes': canary(10, 15),
  'CodeDeployDefault.LambdaCanary10Percent30Minutes': canary(10, 30),
  'CodeDeployDefault.LambdaLinear10PercentEvery1Minute': linear(10, 1),
  'CodeDeployDefault.LambdaLinear10PercentEvery2Minutes': linear(10, 2),
  'CodeDeployDefault.LambdaLinear10PercentEvery3Minutes': linear(10, 3),
  'CodeDeployDefault.LambdaLinear10PercentEvery10Minutes': linear(10, 10),
};

/** Every predefined ECS configuration (note CodeDeploy's plural `Every1Minutes`). */
export const PREDEFINED_ECS_CONFIGS: Readonly<Record<string, TrafficRoutingConfig>> = {
  'CodeDeployDefault.ECSAllAtOnce': { type: 'AllAtOnce' },
  'CodeDeployDefault.ECSCanary10Percent5Minutes': canary(10, 5),
  'CodeDeployDefault.ECSCanary10Percent15Minutes': canary(10, 15),
  'CodeDeployDefault.ECSLinear10PercentEvery1Minutes': linear(10, 1),
  'CodeDeployDefault.ECSLinear10PercentEvery3Minutes': linear(10, 3),
};

export const DEFAULT_LAMBDA_CONFIG = 'CodeDeployDefault.LambdaAllAtOnce';
export const DEFAULT_ECS_CONFIG = 'CodeDeployDefault.ECSAllAtOnce';
export const PREDEFINED_PREFIX = 'CodeDeployDefault.';
/** Every predefined configuration's name (ListDeploymentConfigs lists them first). */
export const PREDEFINED_CONFIG_NAMES: readonly string[] = [
  ...Object.keys(PREDEFINED_LAMBDA_CONFIGS),
  ...Object.keys(PREDEFINED_ECS_CONFIGS),
];
const NAME_RE = /^[A-Za-z0-9._+=,@-]{1,100}$/;

export function predefinedConfig(name: string): DeploymentConfig | undefined {
  // Own keys only: a name such as "constructor" is not a configuration.
  const lambda = Object.hasOwn(PREDEFINED_LAMBDA_CONFIGS, name) ? PREDEFINED_LAMBDA_CONFIGS[name] : undefined;
  const trc = lambda ?? (Object.hasOwn(PREDEFINED_ECS_CONFIGS, name) ? PREDEFINED_ECS_CONFIGS[name] : undefined);
  if (!trc) return undefined;
  return {
    deploymentConfigName: name,
    deploymentConfigId: `predefined-${name}`,
    computePlatform: lambda ? 'Lambda' : 'ECS',
    trafficRoutingConfig: trc,
    createTime: '2014-10-06T00:00:00.000Z',
  };
}

/** Issues with a configuration name (CodeDeploy's rules). */
export function configNameIssues(name: unknown, path = 'deploymentConfigName', custom = true): Issue[] {
  if (typeof name !== 'string' || name === '') return [{ path, message: 'required' }];
  if (!NAME_RE.test(name)) {
    return [{ path, message: 'must be 1-100 characters of letters, digits and . _ + = , @ -' }];
  }
  if (custom && name.startsWith(PREDEFINED_PREFIX)) {
    return [{ path, message: `must not start with ${PREDEFINED_PREFIX} (reserved for predefined configurations)` }];
  }
  return [];
}

const DURATION_RE = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Parse `90s`, `5m`, `1h30m` into seconds. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (!m || text.trim() === '') return undefined;
  const [, h, min, s] = m;
  return Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0);
}

/** A step read from text: a target (a percentage, or what the caller reads) and its bake, or an approval. */
export type ParsedStep<T> = { target: T; bakeSeconds: number } | { approve: true; timeoutSeconds: number };

/**
 * Reads one comma-separated part of a step list that is not an approval: its target and the text of its
 * optional bake, or undefined when the part is not of the caller's form.
 */
export type StepTargetReader<T> = (part: string) => { target: T; bake: string | undefined } | undefined;

/**
 * Split a step list written as text (`1% 5m, approve 2h, 100%`) into its steps, reading each target with
 * `readTarget`. Shared by Lambda/ECS step lists and Server waves so both accept the same approvals and
 * durations and word their errors alike. Returns every problem found (path `${path}[i]`) instead of
 * throwing, so each caller raises its own exception; never throws.
 *
 * @param form how a target is written, for error messages, e.g. `"<percent>% [<bake>]"`
 * @param example an example step, e.g. `"10% 5m"`
 */
export function parseStepParts<T>(
  text: string,
  path: string,
  readTarget: StepTargetReader<T>,
  form: string,
  example: string,
): { steps: ParsedStep<T>[]; issues: Issue[] } {
  const issues: Issue[] = [];
  const steps: ParsedStep<T>[] = [];
  const parts = text.split(',').map((p) => p.trim());
  parts.forEach((part, i) => {
    const approve = /^approve(?:\s+(\S+))?$/i.exec(part);
    if (approve) {
      const timeout = approve[1] === undefined ? DEFAULT_APPROVAL_TIMEOUT_SECONDS : parseDuration(approve[1]);
      if (timeout === undefined)
        issues.push({
          path: `${path}[${i}]`,
          message: `approval timeout ${JSON.stringify(approve[1])} is not a duration like 30m or 2h`,
        });
      else steps.push({ approve: true, timeoutSeconds: timeout });
      return;
    }
    const read = readTarget(part);
    if (!read) {
      issues.push({
        path: `${path}[${i}]`,
        message: `${JSON.stringify(part)} is not ${form} or "approve [<timeout>]", e.g. ${example}`,
      });
      return;
    }
    const bake = read.bake === undefined ? 0 : parseDuration(read.bake);
    if (bake === undefined) {
      issues.push({
        path: `${path}[${i}]`,
        message: `bake ${JSON.stringify(read.bake)} is not a duration like 30s, 5m or 1h`,
      });
      return;
    }
    steps.push({ target: read.target, bakeSeconds: bake });
  });
  return { steps, issues };
}

/** Reads `<percent>% [<bake>]`, e.g. `10% 5m` or `0.5%`. */
export const readPercentTarget: StepTargetReader<number> = (part) => {
  const m = /^(\d+(?:\.\d+)?)%(?:\s+(\S+))?$/.exec(part);
  return m ? { target: Number(m[1]), bake: m[2] } : undefined;
};

/**
 * Parse a step list written as text: `1% 5m, 10% 10m, approve 2h, 50% 10m, 100%`.
 * Each step is a percentage and an optional bake (s, m or h), or `approve` with an optional
 * timeout (default 1h); the last step must be 100%.
 */
export function parseStepList(text: string, path = 'steps'): StepListEntry[] {
  const { steps, issues } = parseStepParts(text, path, readPercentTarget, '"<percent>% [<bake>]"', '"10% 5m"');
  if (issues.length)
    throw new InvalidInputError(issues, 'InvalidTrafficRoutingConfigurationException', 'Invalid step list');
  return steps.map((s) => ('approve' in s ? s : { percentage: s.target, bakeSeconds: s.bakeSeconds }));
}

/** True when `text` looks like an inline step list rather than a configuration name. */
export const isInlineStepList = (text: string): boolean => text.includes('%');

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** True when `pct` is a whole multiple of {@link PERCENT_RESOLUTION} (0.01 %). */
export const onPercentResolution = (pct: number): boolean =>
  Math.abs(Math.round(pct / PERCENT_RESOLUTION) * PERCENT_RESOLUTION - pct) <= 1e-9;

/**
 * Issues with an approval step `{approve: true, timeoutSeconds?}` found at path `at` (the timeout defaults
 * to {@link DEFAULT_APPROVAL_TIMEOUT_SECONDS}). Returns an empty list when it is valid; never throws.
 */
export function approvalStepIssues(step: Record<string, unknown>, at: string): Issue[] {
  const issues: Issue[] = [];
  const t = step.timeoutSeconds ?? DEFAULT_APPROVAL_TIMEOUT_SECONDS;
  if (step.approve !== true) issues.push({ path: `${at}.approve`, message: 'must be true' });
  if (!isInt(t) || t < 1 || t > MAX_APPROVAL_TIMEOUT_SECONDS) {
    issues.push({
      path: `${at}.timeoutSeconds`,
      message: `must be a whole number of seconds from 1 to ${MAX_APPROVAL_TIMEOUT_SECONDS}`,
    });
  }
  return issues;
}

/** Validate a traffic routing configuration (as CreateDeploymentConfig receives it). */
export function trafficRoutingIssues(input: unknown, path = 'trafficRoutingConfig'): Issue[] {
  if (typeof input !== 'object' || input === null) return [{ path, message: 'required' }];
  const trc = input as Record<string, unknown>;
  const issues: Issue[] = [];
  switch (trc.type) {
    case 'AllAtOnce':
      break;
    case 'TimeBasedCanary': {
      const c = trc.timeBasedCanary as Record<string, unknown> | undefined;
      if (!c) return [{ path: `${path}.timeBasedCanary`, message: 'required for TimeBasedCanary' }];
      if (!isInt(c.canaryPercentage) || c.canaryPercentage < 1 || c.canaryPercentage > 99) {
        issues.push({ path: `${path}.timeBasedCanary.canaryPercentage`, message: 'must be an integer from 1 to 99' });
      }
      if (!isInt(c.canaryInterval) || c.canaryInterval < 1 || c.canaryInterval > 2880) {
        issues.push({
          path: `${path}.timeBasedCanary.canaryInterval`,
          message: 'must be an integer number of minutes from 1 to 2880',
        });
      }
      break;
    }
    case 'TimeBasedLinear': {
      const l = trc.timeBasedLinear as Record<string, unknown> | undefined;
      if (!l) return [{ path: `${path}.timeBasedLinear`, message: 'required for TimeBasedLinear' }];
      if (!isInt(l.linearPercentage) || l.linearPercentage < 1 || l.linearPercentage > 99) {
        issues.push({ path: `${path}.timeBasedLinear.linearPercentage`, message: 'must be an integer from 1 to 99' });
      }
      if (!isInt(l.linearInterval) || l.linearInterval < 1 || l.linearInterval > 2880) {
        issues.push({
          path: `${path}.timeBasedLinear.linearInterval`,
          message: 'must be an integer number of minutes from 1 to 2880',
        });
      }
      if (issues.length === 0) {
        const p = l.linearPercentage as number;
        const shifts = Math.ceil(100 / p) - 1;
        if (shifts * (l.linearInterval as number) * 60 > MAX_SHIFT_SECONDS) {
          issues.push({
            path: `${path}.timeBasedLinear`,
            message:
              `${shifts} intervals of ${String(l.linearInterval)} minutes exceed the 2880-minute limit ` +
              'between first and last shift',
          });
        }
      }
      break;
    }
    case 'StepList': {
      const sl = trc.stepList as Record<string, unknown> | undefined;
      const steps = sl?.steps;
      if (!Array.isArray(steps) || steps.length === 0) {
        return [
          {
            path: `${path}.stepList.steps`,
            message: 'must be a non-empty list of {percentage, bakeSeconds} or {approve: true, timeoutSeconds}',
          },
        ];
      }
      if (steps.length > MAX_STEPS)
        issues.push({ path: `${path}.stepList.steps`, message: `at most ${MAX_STEPS} steps` });
      let prev = 0;
      let total = 0;
      steps.forEach((s: unknown, i) => {
        const at = `${path}.stepList.steps[${i}]`;
        const step = (s ?? {}) as Record<string, unknown>;
        const last = i === steps.length - 1;
        if (step.approve !== undefined) {
          issues.push(...approvalStepIssues(step, at));
          if (last) issues.push({ path: at, message: 'the last step must be 100%, not an approval' });
          return;
        }
        const pct = step.percentage;
        const bake = step.bakeSeconds ?? 0;
        if (typeof pct !== 'number' || !Number.isFinite(pct) || pct <= 0 || pct > 100) {
          issues.push({ path: `${at}.percentage`, message: 'must be a number greater than 0 and at most 100' });
        } else {
          if (!onPercentResolution(pct)) {
            issues.push({ path: `${at}.percentage`, message: `must be a multiple of ${PERCENT_RESOLUTION}` });
          }
          if (pct <= prev)
            issues.push({ path: `${at}.percentage`, message: `must be greater than the previous step (${prev}%)` });
          if (last && pct !== 100) issues.push({ path: `${at}.percentage`, message: 'the last step must be 100%' });
          if (!last && pct === 100)
            issues.push({ path: `${at}.percentage`, message: 'only the last step may be 100%' });
          prev = pct;
        }
        if (!isInt(bake) || bake < 0)
          issues.push({ path: `${at}.bakeSeconds`, message: 'must be a whole number of seconds, 0 or more' });
        else if (last && bake > 0)
          issues.push({
            path: `${at}.bakeSeconds`,
            message: 'the last step (100%) has no bake; AfterAllowTraffic runs next',
          });
        else total += bake;
      });
      if (total > MAX_SHIFT_SECONDS) {
        issues.push({
          path: `${path}.stepList.steps`,
          message: `bakes add up to ${Math.round(total / 60)} minutes, more than the 2880-minute limit`,
        });
      }
      break;
    }
    default:
      issues.push({
        path: `${path}.type`,
        message: 'must be one of TimeBasedCanary, TimeBasedLinear, AllAtOnce, StepList',
      });
  }
  return issues;
}

/** Turn a valid configuration into the list of steps to run. Pure. */
export function plan(trc: TrafficRoutingConfig): Plan {
  const issues = trafficRoutingIssues(trc);
  if (issues.length)
    throw new InvalidInputError(
      issues,
      'InvalidTrafficRoutingConfigurationException',
      'Invalid deployment configuration',
    );
  const step = (weight: number, bakeSeconds: number): Step => ({ kind: 'shift', weight, bakeSeconds });
  let weight = 0;
  let steps: Step[];
  switch (trc.type) {
    case 'AllAtOnce':
      steps = [step(100, 0)];
      break;
    case 'TimeBasedCanary':
      steps = [step(trc.timeBasedCanary.canaryPercentage, trc.timeBasedCanary.canaryInterval * 60), step(100, 0)];
      break;
    case 'TimeBasedLinear': {
      const { linearPercentage: p, linearInterval: i } = trc.timeBasedLinear;
      steps = [];
      for (let w = p; w < 100; w += p) steps.push(step(w, i * 60));
      steps.push(step(100, 0));
      break;
    }
    case 'StepList':
      steps = trc.stepList.steps.map((s): Step => {
        if ('approve' in s)
          return {
            kind: 'approve',
            weight,
            bakeSeconds: 0,
            timeoutSeconds: s.timeoutSeconds ?? DEFAULT_APPROVAL_TIMEOUT_SECONDS,
          };
        weight = s.percentage;
        return step(s.percentage, s.bakeSeconds ?? 0);
      });
      break;
  }
  return { steps, totalBakeSeconds: steps.reduce((t, s) => t + s.bakeSeconds, 0) };
}

/** The name a deployment records for a step list given inline as its configuration. */
export const INLINE_STEP_LIST_NAME = 'Cutover.StepList';

/**
 * The deployment configurations of a traffic-shifting platform (Lambda, ECS): `predefined` as given;
 * `trafficRoutingConfig` in CodeDeploy's shapes, as Cutover's StepList, or as a step list's text; inline step
 * lists.
 */
export function trafficRoutingConfigs(
  predefined: Readonly<Record<string, TrafficRoutingConfig>>,
): PlatformDeploymentConfigs {
  return {
    predefined: Object.keys(predefined).map((name) => predefinedConfig(name)!),
    fields: ['trafficRoutingConfig'],
    settings(input) {
      const given = input.trafficRoutingConfig;
      if (typeof given === 'string') {
        try {
          return { trafficRoutingConfig: stepListConfig(given) };
        } catch (e) {
          if (!(e instanceof InvalidInputError)) throw e;
          throw new InvalidInputError(
            e.issues.map((i) => ({ ...i, path: `trafficRoutingConfig.${i.path}` })),
            'InvalidTrafficRoutingConfigurationException',
          );
        }
      }
      const issues = trafficRoutingIssues(given);
      if (issues.length) throw new InvalidInputError(issues, 'InvalidTrafficRoutingConfigurationException');
      const trafficRoutingConfig = given as TrafficRoutingConfig;
      plan(trafficRoutingConfig);
      return { trafficRoutingConfig };
    },
    plan(settings) {
      if (!settings.trafficRoutingConfig)
        throw new InternalError('the deployment configuration has no traffic routing');
      return plan(settings.trafficRoutingConfig);
    },
    inline: (name) =>
      isInlineStepList(name)
        ? { name: INLINE_STEP_LIST_NAME, settings: { trafficRoutingConfig: stepListConfig(name) } }
        : undefined,
  };
}

/** Build a StepList configuration from its text form, validated. */
export function stepListConfig(text: string): TrafficRoutingConfig {
  const trc: TrafficRoutingConfig = { type: 'StepList', stepList: { steps: parseStepList(text) } };
  const issues = trafficRoutingIssues(trc);
  if (issues.length)
    throw new InvalidInputError(issues, 'InvalidTrafficRoutingConfigurationException', 'Invalid step list');
  return trc;
}

/** Human summary, e.g. "10% for 5m, then 100%". */
export function describePlan(p: Plan): string {
  return p.steps
    .map((s) =>
      s.kind === 'approve'
        ? `approval (${formatDuration(s.timeoutSeconds)} max)`
        : `${s.weight}%${s.bakeSeconds ? ` for ${formatDuration(s.bakeSeconds)}` : ''}`,
    )
    .join(', then ');
}

export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || (!h && !m) ? `${s}s` : ''].join('');
}
