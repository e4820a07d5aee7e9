/**
 * Lambda: traffic moves between two published versions behind each alias (UpdateAlias with a
 * routing config), all of a deployment's functions together. No replacement to install; at 100 %
 * the alias points at the target version alone, as CodeDeploy leaves it.
 */
import { PreconditionFailedError } from '../../domain/errors.js';
import {
  DEFAULT_LAMBDA_CONFIG,
  PREDEFINED_LAMBDA_CONFIGS,
  trafficRoutingConfigs,
} from '../../domain/deployment-config.js';
import type { Deployment } from '../../domain/model.js';
import type { Platform, Restoration, TargetStrategy, Verification } from '../platform.js';
import { BLUE_GREEN_STYLE, blueGreenStyleIssues } from '../platform.js';
import { LAMBDA_HOOK_EVENTS, parseLambdaAppSpec } from './appspec.js';
import type { LambdaPorts } from './ports.js';
import { describeRouting, routingFor, sameRouting, targetWeightOf, type FunctionTarget } from './traffic.js';

/** A Lambda deployment's target: the aliases it shifts (one or more, shifted and rolled back together). */
export interface LambdaTarget {
  functions: FunctionTarget[];
}
type LambdaDeployment = Deployment<LambdaTarget, undefined>;

export const LAMBDA_LIFECYCLE = ['BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'] as const;

const where = (f: FunctionTarget) => `${f.functionName}:${f.alias}`;
/** The functions this deployment moves (a function already at its target version is left alone). */
const shifting = (d: LambdaDeployment) => d.spec.target.functions.filter((f) => f.currentVersion !== f.targetVersion);

function strategy({ aliases }: LambdaPorts): TargetStrategy<LambdaTarget, undefined> {
  /** Problems that stop a function from being shifted; empty when it is ready. */
  async function functionProblems(f: FunctionTarget): Promise<string[]> {
    const [current, target] = await Promise.all([
      aliases.versionExists(f.functionName, f.currentVersion),
      aliases.versionExists(f.functionName, f.targetVersion),
    ]);
    const problems: string[] = [];
    if (!current) problems.push(`${f.functionName} has no version ${f.currentVersion} (CurrentVersion)`);
    if (!target) problems.push(`${f.functionName} has no version ${f.targetVersion} (TargetVersion)`);
    if (problems.length) return problems;
    const routing = await aliases.getAlias(f.functionName, f.alias);
    const expected = f.currentVersion === f.targetVersion ? 100 : 0;
    if (targetWeightOf(f, routing) !== expected) {
      problems.push(
        `alias ${where(f)} routes ${describeRouting(routing)}, expected all traffic on version ${f.currentVersion} (CurrentVersion)`,
      );
    }
    return problems;
  }

  /** The functions whose alias has traffic on the target version now. */
  async function moved(d: LambdaDeployment) {
    // ShiftTraffic records AllowTraffic as started before its first UpdateAlias. If it never
    // started, this deployment moved nothing, and an alias routing elsewhere is someone else's.
    const allow = d.state.lifecycleEvents.find((e) => e.lifecycleEventName === 'AllowTraffic');
    const started = allow !== undefined && allow.status !== 'Pending' && allow.status !== 'Skipped';
    const candidates = started ? shifting(d) : [];
    const routings = await Promise.all(candidates.map((f) => aliases.getAlias(f.functionName, f.alias)));
    return candidates
      .map((f, i) => ({ f, routing: routings[i]! }))
      .filter(({ f, routing }) => (targetWeightOf(f, routing) ?? 0) > 0);
  }

  return {
    async check(d) {
      const problems = (await Promise.all(d.spec.target.functions.map(functionProblems))).flat();
      const fns = d.spec.target.functions.map((f) => `${where(f)} ${f.currentVersion}→${f.targetVersion}`);
      return { problems, summary: fns.join(', ') };
    },

    async runAction(_d, action) {
      throw new PreconditionFailedError(`Lambda deployments have no engine action ${action}`);
    },

    async setWeight(d, weight) {
      await Promise.all(shifting(d).map((f) => aliases.setAlias(f.functionName, f.alias, routingFor(f, weight))));
    },

    async verifyWeight(d, weight): Promise<Verification> {
      const fns = shifting(d);
      const actual = await Promise.all(fns.map((f) => aliases.getAlias(f.functionName, f.alias)));
      const observed = Object.fromEntries(fns.map((f, i) => [where(f), describeRouting(actual[i]!)]));
      const wrong = fns.filter((f, i) => !sameRouting(routingFor(f, weight), actual[i]!));
      if (!wrong.length) return { verdict: 'verified', observed };
      // Lambda reads its own writes: a routing that differs is someone else's change, not a delay.
      return {
        verdict: 'mismatch',
        observed,
        message: `after UpdateAlias, ${wrong.map((f) => `${where(f)} routes ${observed[where(f)]}`).join(', ')} (expected ${weight}% on the target version)`,
      };
    },

    async assess(d) {
      const m = await moved(d);
      return {
        changed: m.length > 0,
        trafficMoved: m.length > 0,
        describe: m.map(({ f, routing }) => `${where(f)} ${describeRouting(routing)}`).join(', '),
      };
    },

    async restore(d): Promise<Restoration> {
      // All functions go back together: every one with traffic on its target, each on its own so one
      // that cannot be restored does not keep the others split.
      const m = await moved(d);
      const results = await Promise.allSettled(
        m.map(async ({ f }) => {
          await aliases.setAlias(f.functionName, f.alias, routingFor(f, 0));
          return f;
        }),
      );
      const restored: string[] = [];
      const notRestored: Restoration['notRestored'] = [];
      for (const [i, { f }] of m.entries()) {
        const result = results[i]!;
        const routing = await aliases.getAlias(f.functionName, f.alias);
        if (sameRouting(routing, routingFor(f, 0))) restored.push(`${where(f)} ${describeRouting(routing)}`);
        else
          notRestored.push({
            target: where(f),
            where: describeRouting(routing),
            reason: result.status === 'rejected' ? (result.reason as Error).message : 'the alias did not read back',
          });
      }
      return { restored, notRestored };
    },

    // Traffic moves only when the state machine moves it: nothing runs on its own once it stops.
    async halt() {
      return undefined;
    },
    async finish(d) {
      return d.spec.target.functions.map((f) => `${where(f)} → v${f.targetVersion}`).join(', ');
    },
  };
}

export const lambdaPlatform: Platform<LambdaTarget, undefined, LambdaPorts> = {
  computePlatform: 'Lambda',
  lifecycleEvents: LAMBDA_LIFECYCLE,
  hookEvents: LAMBDA_HOOK_EVENTS,
  defaultDeploymentConfig: DEFAULT_LAMBDA_CONFIG,
  deploymentConfigs: trafficRoutingConfigs(PREDEFINED_LAMBDA_CONFIGS),
  errorCodes: { invalidTarget: 'INVALID_LAMBDA_CONFIGURATION', refused: 'INVALID_LAMBDA_FUNCTION' },
  // Lambda deployments are blue/green by nature; tools that create groups (SAM, CloudFormation, CDK,
  // Terraform) send the style, and CodeDeploy reports it on every Lambda group.
  groupFields: ['deploymentStyle'],
  groupIssues: async (input) => blueGreenStyleIssues(input, 'Lambda'),
  normalizeGroup: (input) => ({ ...input, deploymentStyle: BLUE_GREEN_STYLE }),

  planRevision(appSpec) {
    const spec = parseLambdaAppSpec(appSpec);
    return {
      target: { functions: spec.functions },
      hooks: spec.hooks,
      // Every function already on its target version: nothing to shift, a successful no-op.
      stages: spec.noop
        ? []
        : [
            { kind: 'hook', name: 'BeforeAllowTraffic' },
            { kind: 'traffic', name: 'AllowTraffic' },
            { kind: 'hook', name: 'AfterAllowTraffic' },
          ],
    };
  },

  rollbackTarget: (spec) => ({
    functions: spec.target.functions.map((f) => ({
      ...f,
      currentVersion: f.targetVersion,
      targetVersion: f.currentVersion,
    })),
  }),

  targetIds: (d) => d.spec.target.functions.map(where),
  describeTargets: async (d) =>
    d.spec.target.functions.map((f) => ({
      targetId: where(f),
      targetArn: f.functionName,
      deploymentTargetType: 'LambdaTarget',
      member: 'lambdaTarget',
      detail: {
        lambdaFunctionInfo: {
          functionName: f.functionName,
          functionAlias: f.alias,
          currentVersion: f.currentVersion,
          targetVersion: f.targetVersion,
          // Percent of the alias's traffic on the target version, as the deployment last set it.
          targetVersionWeight: d.state.targetWeight,
        },
      },
    })),

  hookContext: (d) => ({
    Functions: d.spec.target.functions.map((f) => ({
      FunctionName: f.functionName,
      Alias: f.alias,
      CurrentVersion: f.currentVersion,
      TargetVersion: f.targetVersion,
    })),
  }),

  describe: (d) => ({ functions: d.spec.target.functions }),
  summary: (d) => d.spec.target.functions.map((f) => `${where(f)} → v${f.targetVersion}`).join(', '),
  targetCount: (d) => d.spec.target.functions.length,

  strategy,
  uses: {
    check: { aliases: ['versionExists', 'getAlias'] },
    runAction: {},
    setWeight: { aliases: ['setAlias'] },
    verifyWeight: { aliases: ['getAlias'] },
    assess: { aliases: ['getAlias'] },
    restore: { aliases: ['getAlias', 'setAlias'] },
    finish: {},
    halt: {},
  },
};
