/**
 * Simulated adapters over one SimWorld. They honour the same port contracts as the AWS adapters,
 * including error mapping: throttling/5xx → DependencyUnavailableError, refusals →
 * DependencyRejectedError, a missing alias, ECS service or listener → PreconditionFailedError.
 */
import type { AlarmReading } from '../../domain/alarms.js';
import { DependencyRejectedError, DependencyUnavailableError, PreconditionFailedError } from '../../domain/errors.js';
import type { EventBridgeEntry, SnsMessage } from '../../domain/notifications.js';
import type { ForwardWeights } from '../../platforms/ecs/domain.js';
import type { AliasRouting } from '../../platforms/lambda/traffic.js';
import type { AlarmSource, EventPublisher, HookInvoker, HookPayload, Logger, PipelineJobs } from '../../ports/index.js';
import type {
  EcsServiceInfo,
  EcsServices,
  ListenerForward,
  ListenerInfo,
  LoadBalancers,
  TaskSetInfo,
  TaskSetSpec,
} from '../../platforms/ecs/ports.js';
import type { LambdaAliases } from '../../platforms/lambda/ports.js';
import type {
  AutoScalingGroups,
  Ec2Instances,
  GroupMember,
  InstanceInfo,
  TagFilter,
  TargetGroupTargets,
  TargetHealthState,
} from '../../platforms/server/ports.js';
import { ECS_MISSING_ERRORS, forwardsToRewrite, missingEcsService, missingListener } from '../ecs-common.js';
import { SimAwsError, type SimHookContext, type SimOperation, type SimWorld } from './world.js';

function mapSimError(e: unknown, what: string): Error {
  if (!(e instanceof SimAwsError)) return e as Error;
  if (e.kind === 'Throttling' || e.kind === 'ServiceUnavailable')
    return new DependencyUnavailableError(`${what}: ${e.name}: ${e.message}`);
  return new DependencyRejectedError(`${what}: ${e.name}: ${e.message}`, e.name);
}

async function simCall<T>(world: SimWorld, op: SimOperation, target: string | undefined, fn: () => T): Promise<T> {
  try {
    world.call(op, target);
    return fn();
  } catch (e) {
    throw mapSimError(e, `${op}${target ? ` ${target}` : ''}`);
  }
}

/** Lambda aliases in the SimWorld. */
export class SimTrafficRouter implements LambdaAliases {
  constructor(private readonly world: SimWorld) {}

  async getAlias(functionName: string, alias: string): Promise<AliasRouting> {
    try {
      return await simCall(this.world, 'GetAlias', functionName, () => this.world.getAlias(functionName, alias));
    } catch (e) {
      if (e instanceof DependencyRejectedError && e.awsErrorName === 'ResourceNotFoundException') {
        throw new PreconditionFailedError(
          `Lambda function ${functionName} or alias ${alias} does not exist: ${e.message}`,
          'INVALID_LAMBDA_FUNCTION',
        );
      }
      throw e;
    }
  }

  async setAlias(functionName: string, alias: string, routing: AliasRouting): Promise<void> {
    await simCall(this.world, 'UpdateAlias', functionName, () => this.world.updateAlias(functionName, alias, routing));
  }

  async versionExists(functionName: string, version: string): Promise<boolean> {
    try {
      return await simCall(this.world, 'GetFunctionConfiguration', functionName, () =>
        this.world.hasVersion(functionName, version),
      );
    } catch (e) {
      if (e instanceof DependencyRejectedError && e.awsErrorName === 'ResourceNotFoundException') return false;
      throw e;
    }
  }
}

/** CloudWatch alarms in the SimWorld. */
export class SimAlarmSource implements AlarmSource {
  constructor(private readonly world: SimWorld) {}
  async describe(names: string[]): Promise<AlarmReading[]> {
    if (names.length === 0) return [];
    return simCall(this.world, 'DescribeAlarms', undefined, () => this.world.describeAlarms(names));
  }
}

/** EventBridge and SNS as an event log in the SimWorld. */
export class SimEventPublisher implements EventPublisher {
  constructor(private readonly world: SimWorld) {}
  async putEvents(entries: EventBridgeEntry[]): Promise<void> {
    await simCall(this.world, 'PutEvents', undefined, () => {
      for (const e of entries) {
        this.world.record('EventBridge', {
          source: e.Source,
          'detail-type': e.DetailType,
          resources: e.Resources,
          detail: JSON.parse(e.Detail),
        });
      }
    });
  }
  async publish(m: SnsMessage): Promise<void> {
    await simCall(this.world, 'Publish', m.topicArn, () => {
      this.world.record('SNS', { topicArn: m.topicArn, subject: m.subject, message: JSON.parse(m.message) });
    });
  }
}

/** CodePipeline job results as entries of the SimWorld's log (no pipeline runs locally). */
export class SimPipelineJobs implements PipelineJobs {
  constructor(private readonly world: SimWorld) {}
  async succeed(
    jobId: string,
    result: { continuationToken?: string; summary?: string; externalExecutionId?: string },
  ): Promise<void> {
    await simCall(this.world, 'PutJobResult', jobId, () =>
      this.world.record('CodePipeline', { jobId, result: 'success', ...result }),
    );
  }
  async fail(jobId: string, failure: { type: string; message: string; externalExecutionId?: string }): Promise<void> {
    await simCall(this.world, 'PutJobResult', jobId, () =>
      this.world.record('CodePipeline', { jobId, result: 'failure', ...failure }),
    );
  }
}

/**
 * Runs hook functions registered in the SimWorld (the user's own modules) in-process, like Lambda's
 * RequestResponse invocation: resolves with what the handler returns. A handler that throws is a
 * failed invocation (DependencyRejectedError naming it), as a Lambda FunctionError is on AWS.
 */
export class SimHookInvoker implements HookInvoker {
  constructor(
    private readonly world: SimWorld,
    private readonly report: SimHookContext['putLifecycleEventHookExecutionStatus'],
    private readonly log: Logger,
  ) {}

  async invoke(functionName: string, payload: HookPayload): Promise<unknown> {
    const handler = await simCall(this.world, 'Invoke', functionName, () => {
      const h = this.world.hookHandlers.get(functionName);
      if (!h)
        throw new SimAwsError(
          'ResourceNotFound',
          `Function not found: ${functionName} (no local hook module registered under that name)`,
        );
      return h;
    });
    this.world.record('Hook', { functionName, lifecycleEventName: payload.LifecycleEventName, state: 'invoked' });
    const context: SimHookContext = { functionName, putLifecycleEventHookExecutionStatus: this.report };
    try {
      return await handler(payload, context);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.world.record('Hook', { functionName, state: 'threw', message });
      this.log.warn(`hook ${functionName} threw: ${message}`, { deploymentId: payload.DeploymentId });
      throw new DependencyRejectedError(`Invoke ${functionName}: the hook function failed: ${message}`, 'Unhandled');
    }
  }
}

/** A missing cluster or service (an error name in ECS_MISSING_ERRORS) → PreconditionFailedError. */
async function ecsCall<T>(
  world: SimWorld,
  op: SimOperation,
  cluster: string,
  service: string,
  fn: () => T,
): Promise<T> {
  try {
    return await simCall(world, op, `${cluster}/${service}`, fn);
  } catch (e) {
    if (e instanceof DependencyRejectedError && ECS_MISSING_ERRORS.has(e.awsErrorName ?? ''))
      throw missingEcsService(cluster, service, e.message);
    throw e;
  }
}

/** ECS task sets in the SimWorld (fault targets: `<cluster>/<service>`). */
export class SimEcsServices implements EcsServices {
  constructor(private readonly world: SimWorld) {}

  async describeService(cluster: string, service: string): Promise<EcsServiceInfo> {
    const res = await ecsCall(this.world, 'DescribeServices', cluster, service, () =>
      this.world.ecs.describeServices(cluster, service),
    );
    if (!res.service)
      throw missingEcsService(cluster, service, `${res.failure?.reason ?? 'MISSING'} (${res.failure?.arn ?? service})`);
    // As on AWS: only a service with an EXTERNAL (or CODE_DEPLOY) controller has task sets to describe.
    const taskSets =
      res.service.deploymentController === 'ECS'
        ? []
        : await ecsCall(this.world, 'DescribeTaskSets', cluster, service, () =>
            this.world.ecs.describeTaskSets(cluster, service),
          );
    return { ...res.service, taskSets };
  }

  async createTaskSet(cluster: string, service: string, spec: TaskSetSpec): Promise<TaskSetInfo> {
    return ecsCall(this.world, 'CreateTaskSet', cluster, service, () =>
      this.world.ecs.createTaskSet(cluster, service, spec),
    );
  }

  async updateServicePrimaryTaskSet(cluster: string, service: string, taskSetId: string): Promise<void> {
    await ecsCall(this.world, 'UpdateServicePrimaryTaskSet', cluster, service, () =>
      this.world.ecs.updateServicePrimaryTaskSet(cluster, service, taskSetId),
    );
  }

  async deleteTaskSet(cluster: string, service: string, taskSetId: string): Promise<void> {
    try {
      await ecsCall(this.world, 'DeleteTaskSet', cluster, service, () =>
        this.world.ecs.deleteTaskSet(cluster, service, taskSetId),
      );
    } catch (e) {
      // Already gone is the outcome we wanted.
      if (!(e instanceof DependencyRejectedError && e.awsErrorName === 'TaskSetNotFoundException')) throw e;
    }
  }
}

/** ELB listeners and target groups in the SimWorld (fault targets: the listener ARN). */
export class SimLoadBalancers implements LoadBalancers {
  constructor(private readonly world: SimWorld) {}

  /** A listener call; ListenerNotFoundException → PreconditionFailedError. */
  private async call<T>(op: SimOperation, listenerArn: string, fn: () => T): Promise<T> {
    try {
      return await simCall(this.world, op, listenerArn, fn);
    } catch (e) {
      if (e instanceof DependencyRejectedError && e.awsErrorName === 'ListenerNotFoundException')
        throw missingListener(listenerArn, e.message);
      throw e;
    }
  }

  async describeListener(listenerArn: string): Promise<ListenerInfo> {
    const { forward, ...listener } = await this.call('DescribeListeners', listenerArn, () =>
      this.world.ecs.describeListener(listenerArn),
    );
    const rules = await this.call('DescribeRules', listenerArn, () => this.world.ecs.describeRules(listenerArn));
    const forwards: ListenerForward[] = [...(forward ? [{ weights: forward }] : []), ...rules];
    return { ...listener, forwards };
  }

  async targetGroupArns(names: string[]): Promise<Record<string, string>> {
    if (names.length === 0) return {};
    return simCall(this.world, 'DescribeTargetGroups', undefined, () => this.world.ecs.targetGroupArns(names));
  }

  async setForward(listenerArn: string, pair: [string, string], weights: ForwardWeights): Promise<void> {
    const info = await this.describeListener(listenerArn);
    for (const f of forwardsToRewrite(info, pair, weights)) {
      const ruleArn = f.ruleArn;
      if (ruleArn === undefined)
        await this.call('ModifyListener', listenerArn, () => this.world.ecs.modifyListener(listenerArn, f.weights));
      else await this.call('ModifyRule', listenerArn, () => this.world.ecs.modifyRule(ruleArn, f.weights));
    }
  }
}

/** EC2 instances by tags in the SimWorld (fault target: the filter as `Name=Value`). */
export class SimEc2Instances implements Ec2Instances {
  constructor(private readonly world: SimWorld) {}

  matching(filter: TagFilter): Promise<InstanceInfo[]> {
    return simCall(this.world, 'DescribeInstances', `${filter.Key ?? ''}=${filter.Value ?? ''}`, () =>
      this.world.servers.describeByTag(filter),
    );
  }
}

/** Auto Scaling groups in the SimWorld (an instance's `autoScalingGroup`). */
export class SimAutoScalingGroups implements AutoScalingGroups {
  constructor(private readonly world: SimWorld) {}

  members(names: string[]): Promise<{ members: GroupMember[]; missing: string[] }> {
    return simCall(this.world, 'DescribeAutoScalingGroups', undefined, () =>
      this.world.servers.autoScalingGroups(names),
    );
  }
}

/** Instance targets of target groups in the SimWorld (fault targets: the instance id). */
export class SimTargetGroupTargets implements TargetGroupTargets {
  constructor(private readonly world: SimWorld) {}

  async arns(names: string[]): Promise<Record<string, string>> {
    if (names.length === 0) return {};
    return simCall(this.world, 'DescribeTargetGroups', undefined, () => this.world.servers.targetGroupArns(names));
  }

  async register(targetGroupArn: string, instanceId: string): Promise<void> {
    await simCall(this.world, 'RegisterTargets', instanceId, () =>
      this.world.servers.register(targetGroupArn, instanceId),
    );
  }

  async deregister(targetGroupArn: string, instanceId: string): Promise<void> {
    await simCall(this.world, 'DeregisterTargets', instanceId, () =>
      this.world.servers.deregister(targetGroupArn, instanceId),
    );
  }

  health(targetGroupArn: string, instanceIds: string[]): Promise<Record<string, TargetHealthState>> {
    return simCall(this.world, 'DescribeTargetHealth', undefined, () =>
      this.world.servers.health(targetGroupArn, instanceIds),
    );
  }
}
