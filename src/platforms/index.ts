/**
 * The platforms Cutover deploys to, one registration line each (docs/adding-a-platform.md), and the
 * dispatcher tasks use: it calls the strategy of a deployment's platform, so no task names one.
 */
import type { DeploymentConfig } from '../domain/deployment-config.js';
import { UnsupportedPlatformError } from '../domain/errors.js';
import type { ComputePlatform, Deployment } from '../domain/model.js';
import { ecsPlatform } from './ecs/index.js';
import { lambdaPlatform } from './lambda/index.js';
import { serverPlatform } from './server/index.js';
import type { CheckContext, Platform, StrategyContext, TargetStrategy } from './platform.js';

/** Every platform, by its CodeDeploy compute platform name. */
export const PLATFORMS = {
  Lambda: lambdaPlatform,
  ECS: ecsPlatform,
  Server: serverPlatform,
} as const satisfies Partial<Record<ComputePlatform, { computePlatform: ComputePlatform }>>;

export type RegisteredPlatform = keyof typeof PLATFORMS;
/** The computePlatform of an application created without one. */
export const DEFAULT_PLATFORM: RegisteredPlatform = 'Lambda';
export const PLATFORM_NAMES = Object.keys(PLATFORMS) as RegisteredPlatform[];

/** The ports of every platform, by platform (what the composition roots provide). */
export type PlatformPorts = {
  [K in RegisteredPlatform]: Parameters<(typeof PLATFORMS)[K]['strategy']>[0];
};

const isRegistered = (name: string): name is RegisteredPlatform => Object.hasOwn(PLATFORMS, name);

/** A predefined configuration of any platform, by name; undefined when there is none. Never throws. */
export function predefinedDeploymentConfig(name: string): DeploymentConfig | undefined {
  for (const p of PLATFORM_NAMES) {
    const found = PLATFORMS[p].deploymentConfigs.predefined.find((c) => c.deploymentConfigName === name);
    if (found) return found;
  }
  return undefined;
}

/** Every predefined configuration's name, platform by platform (ListDeploymentConfigs lists them first). */
export const PREDEFINED_DEPLOYMENT_CONFIG_NAMES: readonly string[] = PLATFORM_NAMES.flatMap((p) =>
  PLATFORMS[p].deploymentConfigs.predefined.map((c) => c.deploymentConfigName),
);

/** A platform's rules by name. @throws UnsupportedPlatformError for a platform Cutover does not deploy to */
export function platformOf(name: ComputePlatform | string): Platform {
  if (!isRegistered(name)) throw new UnsupportedPlatformError(name, PLATFORM_NAMES);
  return PLATFORMS[name] as unknown as Platform;
}

/**
 * Every platform's strategy behind one TargetStrategy: each call goes to the strategy of the
 * deployment's platform. What tasks get as `deps.platforms`.
 */
export class Platforms implements TargetStrategy {
  private readonly strategies: Partial<Record<string, TargetStrategy>> = {};

  constructor(ports: PlatformPorts) {
    for (const name of PLATFORM_NAMES) {
      const platform = PLATFORMS[name] as unknown as Platform<unknown, unknown, unknown>;
      this.strategies[name] = platform.strategy(ports[name]);
    }
  }

  private of(d: Deployment): TargetStrategy {
    const s = this.strategies[d.spec.computePlatform];
    if (!s) throw new UnsupportedPlatformError(d.spec.computePlatform, PLATFORM_NAMES);
    return s;
  }

  check(d: Deployment, ctx: CheckContext) {
    return this.of(d).check(d, ctx);
  }
  runAction(d: Deployment, action: string, ctx: StrategyContext) {
    return this.of(d).runAction(d, action, ctx);
  }
  setWeight(d: Deployment, weight: number, ctx: StrategyContext) {
    return this.of(d).setWeight(d, weight, ctx);
  }
  verifyWeight(d: Deployment, weight: number) {
    return this.of(d).verifyWeight(d, weight);
  }
  assess(d: Deployment) {
    return this.of(d).assess(d);
  }
  restore(d: Deployment, ctx: StrategyContext) {
    return this.of(d).restore(d, ctx);
  }
  finish(d: Deployment, ctx: StrategyContext) {
    return this.of(d).finish(d, ctx);
  }
  halt(d: Deployment) {
    return this.of(d).halt(d);
  }
}
