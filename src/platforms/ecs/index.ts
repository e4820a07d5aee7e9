/**
 * ECS blue/green (CodeDeploy spec §5.3) with task sets of an EXTERNAL service behind ALB/NLB
 * listeners: the replacement (green) task set is created on the other target group of the pair,
 * the test listener and then the production listener move to it by weighted forwards, at 100 % it
 * becomes PRIMARY, and after the commit point the original (blue) task set is deleted or kept.
 * Every change is decided from the listeners and task sets as they are, and read back.
 */
import {
  DEFAULT_ECS_CONFIG,
  PREDEFINED_ECS_CONFIGS,
  formatDuration,
  trafficRoutingConfigs,
} from '../../domain/deployment-config.js';
import {
  DependencyUnavailableError,
  InternalError,
  PreconditionFailedError,
  ReadyWaitTimedOutError,
  TaskSetNotSteadyError,
  type Issue,
  ApiError,
} from '../../domain/errors.js';
import type { Deployment, DeploymentGroup } from '../../domain/model.js';
import type { Platform, Restoration, StageTemplate, StrategyContext, TargetStrategy } from '../platform.js';
import { BLUE_GREEN_STYLE, blueGreenStyleIssues } from '../platform.js';
import { ECS_HOOK_EVENTS, parseEcsAppSpec } from './appspec.js';
import {
  NLB_PROTOCOLS,
  describeSplit,
  forwardWeightsFor,
  greenPercentOf,
  sameSplit,
  targetGroupName,
  taskDefinitionShortName,
} from './domain.js';
import type { EcsFacts, EcsTarget } from './model.js';
import type { EcsPorts, EcsServiceInfo, TaskSetInfo, TaskSetSpec } from './ports.js';

type EcsDeployment = Deployment<EcsTarget, EcsFacts>;

export const ECS_LIFECYCLE = [
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'AllowTestTraffic',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AllowTraffic',
  'AfterAllowTraffic',
] as const;

/** How long Install waits for the green task set to reach steady state (CodeDeploy: up to an hour). */
export const STEADY_TIMEOUT_SECONDS = 3600;
/** Seconds between two looks at a green task set that is not steady yet. */
export const STEADY_POLL_SECONDS = 15;

const svcName = (e: EcsTarget) => `${e.clusterName}:${e.serviceName}`;
const factsOf = (d: EcsDeployment): EcsFacts => d.state.facts ?? {};

/** Blue and green target group ARNs, once Prepare has found them. */
function pairOf(d: EcsDeployment): [string, string] {
  const f = factsOf(d);
  if (!f.blueTargetGroupArn || !f.greenTargetGroupArn)
    throw new InternalError('the target group pair has not been resolved (Prepare did not run)');
  return [f.blueTargetGroupArn, f.greenTargetGroupArn];
}

/** The green task set of this deployment, found by id or by its externalId (the deployment id). */
function greenIn(svc: EcsServiceInfo, d: EcsDeployment): TaskSetInfo | undefined {
  const id = factsOf(d).greenTaskSetId;
  return svc.taskSets.find((t) => (id && t.id === id) || t.externalId === d.deploymentId);
}

/**
 * The replacement task set: the AppSpec's task definition and container, on the green target group;
 * how it runs (network, platform version, capacity providers or launch type) as the AppSpec says,
 * else as the original task set runs (CodeDeploy: "omitted ⇒ the service's current settings").
 */
export function replacementSpec(d: EcsDeployment, blue: TaskSetInfo | undefined): TaskSetSpec {
  const e = d.spec.target;
  const [, greenTg] = pairOf(d);
  const network = e.networkConfiguration ?? blue?.networkConfiguration;
  const platformVersion = e.platformVersion ?? blue?.platformVersion;
  const capacity = e.capacityProviderStrategy ?? blue?.capacityProviderStrategy;
  return {
    taskDefinition: e.taskDefinition,
    externalId: d.deploymentId,
    targetGroupArn: greenTg,
    containerName: e.containerName,
    containerPort: e.containerPort,
    scalePercent: 100,
    ...(platformVersion ? { platformVersion } : {}),
    ...(network ? { networkConfiguration: network } : {}),
    ...(capacity?.length
      ? { capacityProviderStrategy: capacity }
      : blue?.launchType
        ? { launchType: blue.launchType }
        : {}),
  };
}

function strategy({ services, loadBalancers }: EcsPorts): TargetStrategy<EcsTarget, EcsFacts> {
  /** Point `listenerArns` at `percent` on green (no read-back: see `splitsOf`). */
  async function route(d: EcsDeployment, listenerArns: string[], percent: number): Promise<void> {
    const [blueTg, greenTg] = pairOf(d);
    const wanted = forwardWeightsFor(blueTg, greenTg, percent);
    await Promise.all(listenerArns.map((arn) => loadBalancers.setForward(arn, [blueTg, greenTg], wanted)));
  }

  /** Read `listenerArns` back: the split of each, and whether every forward to the pair is at `percent`. */
  async function splitsOf(d: EcsDeployment, listenerArns: string[], percent: number) {
    const [blueTg, greenTg] = pairOf(d);
    const wanted = forwardWeightsFor(blueTg, greenTg, percent);
    const after = await Promise.all(listenerArns.map((arn) => loadBalancers.describeListener(arn)));
    const observed: Record<string, string> = {};
    const wrong: string[] = [];
    for (const l of after) {
      const ours = l.forwards.filter((f) => greenPercentOf(f.weights, blueTg, greenTg) !== undefined);
      observed[l.listenerArn] = ours.map((f) => describeSplit(f.weights)).join('; ') || 'no forward to the pair';
      if (ours.length === 0 || ours.some((f) => !sameSplit(f.weights, wanted))) wrong.push(l.listenerArn);
    }
    return { observed, wrong };
  }

  /** Routes `listenerArns` to `percent` and reads them back; throws when they do not read back. */
  async function routeVerified(d: EcsDeployment, listenerArns: string[], percent: number) {
    await route(d, listenerArns, percent);
    const { observed, wrong } = await splitsOf(d, listenerArns, percent);
    if (wrong.length) {
      throw new DependencyUnavailableError(
        `read-back mismatch after ModifyListener/ModifyRule on ${wrong.map((w) => `${w} (${observed[w]})`).join(', ')}`,
      );
    }
    return observed;
  }

  /** What of this deployment's is in the world now. */
  async function changes(d: EcsDeployment) {
    const e = d.spec.target;
    const f = factsOf(d);
    if (!f.blueTargetGroupArn || !f.greenTargetGroupArn) return undefined;
    const [blueTg, greenTg] = pairOf(d);
    const svc = await services.describeService(e.clusterName, e.serviceName);
    const green = greenIn(svc, d);
    const onGreen = async (arns: string[]) => {
      const ls = await Promise.all(arns.map((a) => loadBalancers.describeListener(a)));
      return ls
        .filter((l) => l.forwards.some((fw) => (greenPercentOf(fw.weights, blueTg, greenTg) ?? 0) > 0))
        .map((l) => l.listenerArn);
    };
    const prod = await onGreen(e.prodListenerArns);
    // Test listeners are ours to restore only if this deployment moved them.
    const test = f.testTrafficOnGreen ? await onGreen(e.testListenerArns ?? []) : [];
    return { svc, green, greenPrimary: green?.status === 'PRIMARY', prod, test };
  }

  function describeChanges(c: NonNullable<Awaited<ReturnType<typeof changes>>>): string {
    const parts = [
      ...(c.green ? [`replacement task set ${c.green.id}${c.greenPrimary ? ' (PRIMARY)' : ''}`] : []),
      ...(c.prod.length ? ['production traffic on green'] : []),
      ...(c.test.length ? ['test traffic on green'] : []),
    ];
    return parts.join(', ') || 'nothing';
  }

  async function install(d: EcsDeployment, ctx: StrategyContext) {
    const e = d.spec.target;
    const f = factsOf(d);
    const [, greenTg] = pairOf(d);
    const now = ctx.now();
    let svc = await services.describeService(e.clusterName, e.serviceName);
    let green = greenIn(svc, d);
    let deadline = f.steadyDeadline;
    if (!green) {
      // The original task set the last deployment kept (KEEP_ALIVE) gives way to this one's replacement.
      const old = svc.taskSets.find((t) => t.id === f.replacesKeptTaskSetId && t.status !== 'PRIMARY');
      if (old) {
        await services.deleteTaskSet(e.clusterName, e.serviceName, old.id);
        await ctx.note(
          'TaskSetRemoved',
          `Task set ${old.id} (${taskDefinitionShortName(old.taskDefinition)}), kept by the last deployment (KEEP_ALIVE), deleted to make room for the replacement`,
        );
      }
      deadline ??= new Date(now.getTime() + STEADY_TIMEOUT_SECONDS * 1000).toISOString();
      // Recorded first: a retry after CreateTaskSet finds the task set by its externalId, within this deadline.
      await ctx.recordFacts({ steadyDeadline: deadline });
      const created = await services.createTaskSet(
        e.clusterName,
        e.serviceName,
        replacementSpec(
          d,
          svc.taskSets.find((t) => t.id === f.blueTaskSetId),
        ),
      );
      await ctx.recordFacts({ greenTaskSetId: created.id });
      await ctx.note(
        'TaskSetCreated',
        `Replacement task set ${created.id} (${taskDefinitionShortName(e.taskDefinition)}) created on ${targetGroupName(greenTg)}; waiting for steady state`,
        { taskSetId: created.id, targetGroup: targetGroupName(greenTg) },
      );
      svc = await services.describeService(e.clusterName, e.serviceName);
      green = svc.taskSets.find((t) => t.id === created.id) ?? created;
    }
    if (green.stabilityStatus === 'STEADY_STATE') {
      await ctx.note('TaskSetSteady', `Replacement task set ${green.id} is steady (${green.runningCount} running)`);
      return { done: true as const, facts: { greenTaskSetId: green.id } };
    }
    if (deadline && now.getTime() >= Date.parse(deadline)) {
      throw new TaskSetNotSteadyError(
        `Replacement task set ${green.id} did not reach steady state within ${formatDuration(STEADY_TIMEOUT_SECONDS)} (${green.runningCount} running, ${green.pendingCount} pending of ${green.computedDesiredCount})`,
      );
    }
    return { done: false as const, wait: 'steady' as const, seconds: STEADY_POLL_SECONDS };
  }

  /** A wait an operator may end early (ContinueDeployment); `until` is kept so a retry does not restart it. */
  async function operatorWait(d: EcsDeployment, ctx: StrategyContext, kind: 'ready' | 'termination') {
    const e = d.spec.target;
    const f = factsOf(d);
    const continued = kind === 'ready' ? d.state.continued?.READY_WAIT : d.state.continued?.TERMINATION_WAIT;
    if (continued) return { done: true as const };
    const seconds = kind === 'ready' ? (e.readyWaitSeconds ?? 0) : e.termination.waitSeconds;
    const key = kind === 'ready' ? 'readyUntil' : 'terminationUntil';
    let until = f[key];
    if (!until) {
      until = new Date(ctx.now().getTime() + seconds * 1000).toISOString();
      await ctx.recordFacts({ [key]: until });
    }
    const left = Math.ceil((Date.parse(until) - ctx.now().getTime()) / 1000);
    if (left < 1) {
      if (kind === 'ready')
        throw new ReadyWaitTimedOutError(
          'Nobody continued the deployment (ContinueDeployment READY_WAIT) before the ready wait ended',
        );
      return { done: true as const };
    }
    if (kind === 'termination' && !f[key]) {
      await ctx.note(
        'TerminationWait',
        `Keeping the original task set for ${formatDuration(seconds)} (ContinueDeployment TERMINATION_WAIT ends this early; a stop or an alarm still rolls back)`,
      );
    }
    return { done: false as const, wait: kind, seconds: left };
  }

  return {
    async check(d, ctx) {
      const e = d.spec.target;
      const problems: string[] = [];
      const svc = await services.describeService(e.clusterName, e.serviceName);
      const summary = `${svcName(e)} → ${taskDefinitionShortName(e.taskDefinition)}`;
      if (svc.deploymentController !== 'EXTERNAL') {
        return {
          summary,
          problems: [
            `ECS service ${svcName(e)} uses the ${svc.deploymentController} deployment controller; Cutover drives task sets, which ECS allows only for services with the EXTERNAL deployment controller (create the service with deploymentController {type: EXTERNAL})`,
          ],
        };
      }
      if (svc.status !== 'ACTIVE') problems.push(`ECS service ${svcName(e)} is ${svc.status}, not ACTIVE`);
      const primary = svc.taskSets.filter((t) => t.status === 'PRIMARY');
      const others = svc.taskSets.filter((t) => t.status !== 'PRIMARY' && t.externalId !== d.deploymentId);
      // The original task set the group's last successful deployment kept (KEEP_ALIVE), or someone else's.
      const keptId = (ctx.previous as EcsDeployment | undefined)?.state.facts?.blueTaskSetId;
      const kept = others.filter((t) => t.id === keptId);
      const foreign = others.filter((t) => t.id !== keptId);
      if (primary.length !== 1)
        problems.push(
          `ECS service ${svcName(e)} has ${primary.length} PRIMARY task sets; it needs exactly one (the running version) to deploy from`,
        );
      if (foreign.length)
        problems.push(
          `ECS service ${svcName(e)} has task sets that no Cutover deployment made (${foreign.map((t) => `${t.id} ${t.status}`).join(', ')}): delete them first`,
        );

      const pairNames = e.targetGroups;
      const arns = await loadBalancers.targetGroupArns(pairNames);
      const missing = pairNames.filter((n) => !arns[n]);
      if (missing.length) problems.push(`target group(s) do not exist: ${missing.join(', ')}`);
      const blue = primary[0];
      const pairArns = pairNames.map((n) => arns[n]).filter((a): a is string => Boolean(a));
      const blueTg = blue?.targetGroupArns.find((a) => pairArns.includes(a));
      if (blue && !missing.length && !blueTg) {
        problems.push(
          `the PRIMARY task set ${blue.id} is not registered with either target group of the pair (${pairNames.join(', ')})`,
        );
      }
      const greenTg = pairArns.find((a) => a !== blueTg);
      // An original task set an earlier deployment kept (KEEP_ALIVE) is replaced, but only if nothing routes to it.
      for (const t of kept) {
        if (t.targetGroupArns.some((a) => a === blueTg))
          problems.push(
            `task set ${t.id}, kept by the last deployment, is registered with ${targetGroupName(blueTg ?? '')}, where production traffic goes: delete it first`,
          );
      }

      const shifts = d.spec.plan.steps.filter((s) => s.kind === 'shift');
      for (const [route, listenerArns] of [
        ['production', e.prodListenerArns],
        ['test', e.testListenerArns ?? []],
      ] as const) {
        for (const arn of listenerArns) {
          let l;
          try {
            l = await loadBalancers.describeListener(arn);
          } catch (err) {
            // A missing listener is one problem among the others, not the only one reported.
            if (!(err instanceof PreconditionFailedError)) throw err;
            problems.push(`the ${route} listener: ${err.message}`);
            continue;
          }
          if (
            route === 'production' &&
            shifts.length > 1 &&
            (NLB_PROTOCOLS as readonly string[]).includes(l.protocol)
          ) {
            problems.push(
              `the production listener is a Network Load Balancer listener (${l.protocol}), which cannot split traffic by weight: use CodeDeployDefault.ECSAllAtOnce`,
            );
          }
          if (!blueTg || !greenTg) continue;
          const ours = l.forwards.filter((f) => greenPercentOf(f.weights, blueTg, greenTg) !== undefined);
          if (ours.length === 0)
            problems.push(`the ${route} listener ${arn} forwards to neither target group of the pair`);
          else if (route === 'production' && ours.some((f) => greenPercentOf(f.weights, blueTg, greenTg) !== 0)) {
            problems.push(
              `the production listener sends traffic to ${targetGroupName(greenTg)} already (${ours.map((f) => describeSplit(f.weights)).join('; ')}); expected all of it on ${targetGroupName(blueTg)}, where the PRIMARY task set runs`,
            );
          }
        }
      }
      if (!problems.length && (!blue || !blueTg || !greenTg))
        problems.push(`could not tell blue from green on ${svcName(e)} (target groups: ${pairNames.join(', ')})`);
      if (problems.length || !blue || !blueTg || !greenTg) return { problems, summary };
      return {
        problems,
        summary: `${svcName(e)} ${taskDefinitionShortName(blue.taskDefinition)} → ${taskDefinitionShortName(e.taskDefinition)} (blue task set ${blue.id} on ${targetGroupName(blueTg)})`,
        facts: {
          blueTaskSetId: blue.id,
          blueTaskDefinition: blue.taskDefinition,
          blueTargetGroupArn: blueTg,
          greenTargetGroupArn: greenTg,
          ...(kept[0] ? { replacesKeptTaskSetId: kept[0].id } : {}),
        },
      };
    },

    async runAction(d, action, ctx) {
      switch (action) {
        case 'Install':
          return install(d, ctx);
        case 'AllowTestTraffic': {
          // Recorded first: Rollback puts the test listener back only when this deployment moved it.
          await ctx.recordFacts({ testTrafficOnGreen: true });
          const split = await routeVerified(d, d.spec.target.testListenerArns ?? [], 100);
          await ctx.note('TestTrafficAllowed', `Test listener → ${Object.values(split).join(', ')}`, {
            routing: split,
          });
          return { done: true };
        }
        case 'Ready':
          return operatorWait(d, ctx, 'ready');
        case 'TerminationWait':
          return operatorWait(d, ctx, 'termination');
        default:
          throw new InternalError(`ECS deployments have no engine action ${action}`);
      }
    },

    async setWeight(d, weight) {
      const e = d.spec.target;
      await route(d, e.prodListenerArns, weight);
      if (weight >= 100) {
        // All production traffic on green: green becomes the service's PRIMARY task set.
        const green = greenIn(await services.describeService(e.clusterName, e.serviceName), d);
        if (!green) throw new InternalError(`the replacement task set of ${svcName(e)} is gone`);
        if (green.status !== 'PRIMARY')
          await services.updateServicePrimaryTaskSet(e.clusterName, e.serviceName, green.id);
      }
    },

    async verifyWeight(d, weight) {
      const e = d.spec.target;
      const { observed, wrong } = await splitsOf(d, e.prodListenerArns, weight);
      if (wrong.length)
        return {
          verdict: 'mismatch',
          observed,
          message: `after ModifyListener/ModifyRule, ${wrong.map((w) => `${w} forwards ${observed[w]}`).join(', ')} (expected ${weight}% on green)`,
        };
      if (weight >= 100) {
        const green = greenIn(await services.describeService(e.clusterName, e.serviceName), d);
        observed[svcName(e)] = `replacement task set ${green?.id ?? 'gone'} ${green?.status ?? ''}`.trim();
        // UpdateServicePrimaryTaskSet takes effect shortly after it returns: look again.
        if (green?.status !== 'PRIMARY') return { verdict: 'pending', observed, retryAfterSeconds: 5 };
      }
      return { verdict: 'verified', observed };
    },

    async assess(d) {
      const c = await changes(d);
      if (!c) return { changed: false, trafficMoved: false, describe: 'nothing' };
      return {
        changed: Boolean(c.green) || c.prod.length > 0 || c.test.length > 0,
        trafficMoved: c.prod.length > 0,
        describe: describeChanges(c),
      };
    },

    async restore(d): Promise<Restoration> {
      const e = d.spec.target;
      const f = factsOf(d);
      const c = await changes(d);
      if (!c) return { restored: [], notRestored: [] };
      const [blueTg] = pairOf(d);
      // Each change is undone on its own, so one that fails does not keep the others in place.
      const steps = [
        ...(c.prod.length ? [() => route(d, c.prod, 0)] : []),
        ...(c.test.length ? [() => route(d, c.test, 0)] : []),
        ...(c.greenPrimary && f.blueTaskSetId
          ? [() => services.updateServicePrimaryTaskSet(e.clusterName, e.serviceName, f.blueTaskSetId!)]
          : []),
      ];
      const errors: string[] = [];
      for (const step of steps) await step().catch((err: unknown) => errors.push((err as Error).message));
      // The replacement goes only once nothing routes to it.
      const mid = await changes(d);
      if (mid?.green && mid.prod.length === 0 && mid.test.length === 0 && !mid.greenPrimary)
        await services
          .deleteTaskSet(e.clusterName, e.serviceName, mid.green.id)
          .catch((err: unknown) => errors.push((err as Error).message));
      const after = await changes(d);
      const blue = after?.svc.taskSets.find((t) => t.id === f.blueTaskSetId);
      const left = after ? describeChanges(after) : 'nothing';
      if (left === 'nothing' && (!f.blueTaskSetId || blue?.status === 'PRIMARY')) {
        return {
          restored: [
            `${svcName(e)}: all traffic on ${targetGroupName(blueTg)} (task set ${f.blueTaskSetId}, ${taskDefinitionShortName(f.blueTaskDefinition ?? '?')}, PRIMARY)${c.green ? `, replacement ${c.green.id} deleted` : ''}`,
          ],
          notRestored: [],
        };
      }
      return {
        restored: [],
        notRestored: [
          {
            target: svcName(e),
            where: `${left} left; original task set ${f.blueTaskSetId} is ${blue?.status ?? 'gone'}`,
            reason: errors.join('; ') || 'the service did not read back as restored',
          },
        ],
      };
    },

    // Traffic moves only when the state machine moves it: nothing runs on its own once it stops.
    async halt() {
      return undefined;
    },
    async finish(d) {
      const e = d.spec.target;
      const f = factsOf(d);
      const done = `${svcName(e)} runs ${taskDefinitionShortName(e.taskDefinition)}`;
      if (!f.blueTaskSetId) return done;
      if (e.termination.action === 'KEEP_ALIVE')
        return `${done}; original task set ${f.blueTaskSetId} kept (KEEP_ALIVE)`;
      await services.deleteTaskSet(e.clusterName, e.serviceName, f.blueTaskSetId);
      const left = (await services.describeService(e.clusterName, e.serviceName)).taskSets.find(
        (t) => t.id === f.blueTaskSetId,
      );
      if (left && left.status !== 'DRAINING')
        throw new DependencyUnavailableError(`read-back mismatch after DeleteTaskSet: ${left.id} is ${left.status}`);
      return `${done}; original task set ${f.blueTaskSetId} deleted`;
    },
  };
}

/** CodeDeploy's rules for an ECS group: one service, one target group pair, one listener per route. */
function groupRules(input: Partial<DeploymentGroup>): Issue[] {
  const issues: Issue[] = [];
  if (input.ecsServices?.length !== 1)
    issues.push({
      path: 'ecsServices',
      message: 'required: exactly one {serviceName, clusterName} (an ECS group deploys one service)',
    });
  const pairs = input.loadBalancerInfo?.targetGroupPairInfoList;
  if (pairs?.length !== 1) {
    issues.push({
      path: 'loadBalancerInfo.targetGroupPairInfoList',
      message: 'required: exactly one target group pair (ECS blue/green needs a load balancer)',
    });
  } else {
    const pair = pairs[0]!;
    const at = 'loadBalancerInfo.targetGroupPairInfoList.0';
    const names = pair.targetGroups.map((t) => t.name);
    if (names.length !== 2 || names[0] === names[1])
      issues.push({
        path: `${at}.targetGroups`,
        message: 'must name exactly two different target groups (blue and green take turns on them)',
      });
    if (pair.prodTrafficRoute.listenerArns.length !== 1)
      issues.push({ path: `${at}.prodTrafficRoute.listenerArns`, message: 'must hold exactly one listener ARN' });
    if (pair.testTrafficRoute && pair.testTrafficRoute.listenerArns.length !== 1)
      issues.push({
        path: `${at}.testTrafficRoute.listenerArns`,
        message: 'must hold exactly one listener ARN (or leave testTrafficRoute out)',
      });
    if (
      pair.testTrafficRoute?.listenerArns[0] &&
      pair.testTrafficRoute.listenerArns[0] === pair.prodTrafficRoute.listenerArns[0]
    ) {
      issues.push({
        path: `${at}.testTrafficRoute.listenerArns`,
        message: 'must be a different listener from the production route',
      });
    }
  }
  for (const list of ['targetGroupInfoList', 'elbInfoList'] as const) {
    if (input.loadBalancerInfo?.[list]?.length)
      issues.push({
        path: `loadBalancerInfo.${list}`,
        message: 'is for Server groups; an ECS group names its two target groups in targetGroupPairInfoList',
      });
  }
  issues.push(...blueGreenStyleIssues(input, 'ECS'));
  const ready = input.blueGreenDeploymentConfiguration?.deploymentReadyOption;
  if (ready?.actionOnTimeout === 'STOP_DEPLOYMENT' && !ready.waitTimeInMinutes) {
    issues.push({
      path: 'blueGreenDeploymentConfiguration.deploymentReadyOption.waitTimeInMinutes',
      message: 'required with STOP_DEPLOYMENT: minutes to wait for ContinueDeployment (1-7200)',
    });
  }
  return issues;
}

export const ecsPlatform: Platform<EcsTarget, EcsFacts, EcsPorts> = {
  computePlatform: 'ECS',
  lifecycleEvents: ECS_LIFECYCLE,
  hookEvents: ECS_HOOK_EVENTS,
  defaultDeploymentConfig: DEFAULT_ECS_CONFIG,
  deploymentConfigs: trafficRoutingConfigs(PREDEFINED_ECS_CONFIGS),
  errorCodes: { invalidTarget: 'INVALID_ECS_SERVICE', refused: 'ECS_UPDATE_ERROR' },
  groupFields: ['ecsServices', 'loadBalancerInfo', 'blueGreenDeploymentConfiguration', 'deploymentStyle'],

  async groupIssues(input, groups) {
    const issues = groupRules(input);
    if (issues.length) return issues;
    // CodeDeploy: an ECS service belongs to one deployment group at most.
    const svc = input.ecsServices![0]!;
    for (const g of await groups()) {
      const same = g.ecsServices?.some((s) => s.clusterName === svc.clusterName && s.serviceName === svc.serviceName);
      if (same && !(g.applicationName === input.applicationName && g.deploymentGroupName === input.deploymentGroupName))
        throw new ApiError(
          'ECSServiceMappingLimitExceededException',
          `The ECS service ${svc.clusterName}:${svc.serviceName} already belongs to deployment group ${g.applicationName}/${g.deploymentGroupName}`,
        );
    }
    return [];
  },

  normalizeGroup: (input) => ({
    ...input,
    deploymentStyle: BLUE_GREEN_STYLE,
  }),

  planRevision(appSpec, group) {
    const spec = parseEcsAppSpec(appSpec);
    const svc = group.ecsServices?.[0];
    const pair = group.loadBalancerInfo?.targetGroupPairInfoList?.[0];
    const [blue, green] = pair?.targetGroups.map((t) => t.name) ?? [];
    if (!svc || !pair || !blue || !green)
      throw new ApiError(
        'InvalidDeploymentGroupNameException',
        `Deployment group ${group.deploymentGroupName} has no ECS service or target group pair`,
      );
    const bg = group.blueGreenDeploymentConfiguration;
    const ready = bg?.deploymentReadyOption;
    const readyWaitSeconds = ready?.actionOnTimeout === 'STOP_DEPLOYMENT' ? (ready.waitTimeInMinutes ?? 0) * 60 : 0;
    const term = bg?.terminateBlueInstancesOnDeploymentSuccess;
    const termination = {
      action: term?.action ?? 'TERMINATE',
      waitSeconds: term?.action === 'KEEP_ALIVE' ? 0 : (term?.terminationWaitTimeInMinutes ?? 0) * 60,
    } as const;
    const test = pair.testTrafficRoute;
    const stages: StageTemplate[] = [
      { kind: 'hook', name: 'BeforeInstall' },
      { kind: 'action', name: 'Install', lifecycleEvent: true },
      { kind: 'hook', name: 'AfterInstall' },
      // CodeDeploy skips test traffic (and its hook) when the group has no test listener.
      ...(test
        ? ([
            { kind: 'action', name: 'AllowTestTraffic', lifecycleEvent: true },
            { kind: 'hook', name: 'AfterAllowTestTraffic' },
          ] as const)
        : []),
      ...(readyWaitSeconds > 0 ? ([{ kind: 'action', name: 'Ready', lifecycleEvent: false }] as const) : []),
      { kind: 'hook', name: 'BeforeAllowTraffic' },
      { kind: 'traffic', name: 'AllowTraffic' },
      { kind: 'hook', name: 'AfterAllowTraffic' },
      ...(termination.waitSeconds > 0
        ? ([{ kind: 'action', name: 'TerminationWait', lifecycleEvent: false }] as const)
        : []),
    ];
    return {
      target: {
        clusterName: svc.clusterName,
        serviceName: svc.serviceName,
        ...spec.target,
        targetGroups: [blue, green],
        prodListenerArns: pair.prodTrafficRoute.listenerArns,
        ...(test ? { testListenerArns: test.listenerArns } : {}),
        ...(readyWaitSeconds > 0 ? { readyWaitSeconds } : {}),
        termination,
      },
      hooks: spec.hooks,
      stages,
    };
  },

  rollbackTarget: (spec, facts) => ({
    ...spec.target,
    taskDefinition: facts?.blueTaskDefinition ?? spec.target.taskDefinition,
  }),

  targetIds: (d) => [svcName(d.spec.target)],
  async describeTargets(d, env) {
    const e = d.spec.target;
    const f = d.state.facts ?? {};
    const label = (color: 'Blue' | 'Green', taskSet: string | undefined, tg: string | undefined, weight: number) =>
      taskSet
        ? [
            {
              identifer: taskSet,
              status: color === 'Green' && d.state.status === 'Succeeded' ? 'PRIMARY' : 'ACTIVE',
              trafficWeight: weight,
              targetGroup: { name: targetGroupName(tg ?? '') },
              taskSetLabel: color,
            },
          ]
        : [];
    return [
      {
        targetId: svcName(e),
        targetArn: `arn:aws:ecs:${env.region}:${env.accountId}:service/${e.clusterName}/${e.serviceName}`,
        deploymentTargetType: 'ECSTarget',
        member: 'ecsTarget',
        detail: {
          taskSetsInfo: [
            ...label('Blue', f.blueTaskSetId, f.blueTargetGroupArn, 100 - d.state.targetWeight),
            ...label('Green', f.greenTaskSetId, f.greenTargetGroupArn, d.state.targetWeight),
          ],
        },
      },
    ];
  },

  hookContext(d) {
    const e = d.spec.target;
    const f = d.state.facts ?? {};
    return {
      EcsService: {
        Cluster: e.clusterName,
        Service: e.serviceName,
        TaskDefinition: e.taskDefinition,
        ...(f.blueTaskSetId ? { OriginalTaskSet: f.blueTaskSetId } : {}),
        ...(f.greenTaskSetId ? { ReplacementTaskSet: f.greenTaskSetId } : {}),
        ...(f.greenTargetGroupArn ? { ReplacementTargetGroupArn: f.greenTargetGroupArn } : {}),
        ...(e.testListenerArns?.[0] ? { TestListenerArn: e.testListenerArns[0] } : {}),
        ...(e.prodListenerArns[0] ? { ProdListenerArn: e.prodListenerArns[0] } : {}),
      },
    };
  },

  describe: (d) => ({ functions: [], ecs: { ...d.spec.target, ...d.state.facts } }),
  summary: (d) => `${svcName(d.spec.target)} runs ${taskDefinitionShortName(d.spec.target.taskDefinition)}`,
  targetCount: () => 1,

  strategy,
  uses: {
    check: { services: ['describeService'], loadBalancers: ['targetGroupArns', 'describeListener'] },
    runAction: {
      services: ['describeService', 'createTaskSet', 'deleteTaskSet'],
      loadBalancers: ['setForward', 'describeListener'],
    },
    setWeight: { services: ['describeService', 'updateServicePrimaryTaskSet'], loadBalancers: ['setForward'] },
    verifyWeight: { services: ['describeService'], loadBalancers: ['describeListener'] },
    assess: { services: ['describeService'], loadBalancers: ['describeListener'] },
    restore: {
      services: ['describeService', 'updateServicePrimaryTaskSet', 'deleteTaskSet'],
      loadBalancers: ['describeListener', 'setForward'],
    },
    finish: { services: ['describeService', 'deleteTaskSet'] },
    halt: {},
  },
};
