import {
  CreateTaskSetCommand,
  DeleteTaskSetCommand,
  DescribeServicesCommand,
  DescribeTaskSetsCommand,
  UpdateServicePrimaryTaskSetCommand,
} from '@aws-sdk/client-ecs';
import type { ECSClient, LaunchType, TaskSet } from '@aws-sdk/client-ecs';
import { InternalError } from '../../domain/errors.js';
import type { EcsServiceInfo, EcsServices, TaskSetInfo, TaskSetSpec } from '../../platforms/ecs/ports.js';
import { ECS_MISSING_ERRORS, missingEcsService } from '../ecs-common.js';
import { mapAwsError } from './errors.js';

/** DescribeTaskSets' task set in the port's terms. */
export function taskSetInfo(t: TaskSet): TaskSetInfo {
  if (!t.id || !t.taskSetArn || !t.taskDefinition)
    throw new InternalError(`ECS returned a task set without id, ARN or task definition: ${JSON.stringify(t)}`);
  return {
    id: t.id,
    taskSetArn: t.taskSetArn,
    status: (t.status ?? 'ACTIVE') as TaskSetInfo['status'],
    stabilityStatus: t.stabilityStatus ?? 'STABILIZING',
    taskDefinition: t.taskDefinition,
    ...(t.externalId ? { externalId: t.externalId } : {}),
    targetGroupArns: (t.loadBalancers ?? []).flatMap((lb) => (lb.targetGroupArn ? [lb.targetGroupArn] : [])),
    scalePercent: t.scale?.unit === 'PERCENT' || t.scale?.unit === undefined ? (t.scale?.value ?? 0) : 0,
    runningCount: t.runningCount ?? 0,
    pendingCount: t.pendingCount ?? 0,
    computedDesiredCount: t.computedDesiredCount ?? 0,
    ...(t.launchType ? { launchType: t.launchType } : {}),
    ...(t.platformVersion ? { platformVersion: t.platformVersion } : {}),
    ...(t.networkConfiguration?.awsvpcConfiguration?.subnets
      ? {
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets: t.networkConfiguration.awsvpcConfiguration.subnets,
              ...(t.networkConfiguration.awsvpcConfiguration.securityGroups
                ? { securityGroups: t.networkConfiguration.awsvpcConfiguration.securityGroups }
                : {}),
              ...(t.networkConfiguration.awsvpcConfiguration.assignPublicIp
                ? { assignPublicIp: t.networkConfiguration.awsvpcConfiguration.assignPublicIp }
                : {}),
            },
          },
        }
      : {}),
    ...(t.capacityProviderStrategy?.length
      ? {
          capacityProviderStrategy: t.capacityProviderStrategy.flatMap((c) =>
            c.capacityProvider
              ? [
                  {
                    capacityProvider: c.capacityProvider,
                    ...(c.base !== undefined ? { base: c.base } : {}),
                    ...(c.weight !== undefined ? { weight: c.weight } : {}),
                  },
                ]
              : [],
          ),
        }
      : {}),
  };
}

/**
 * Task sets of ECS services with the EXTERNAL deployment controller. Calls `ecs:DescribeServices`,
 * `ecs:DescribeTaskSets`, `ecs:CreateTaskSet`, `ecs:UpdateServicePrimaryTaskSet` and
 * `ecs:DeleteTaskSet`.
 */
export class EcsTaskSetServices implements EcsServices {
  constructor(private readonly client: ECSClient) {}

  /** Send one call; a missing cluster or service is a PreconditionFailedError, the rest mapAwsError. */
  private async send<T>(
    what: string,
    cluster: string,
    service: string,
    fn: () => Promise<T>,
    ignore?: string,
  ): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof Error && e.name === ignore) return undefined;
      if (e instanceof Error && ECS_MISSING_ERRORS.has(e.name))
        throw missingEcsService(cluster, service, `${e.name}: ${e.message}`);
      throw mapAwsError(e, what);
    }
  }

  async describeService(cluster: string, service: string): Promise<EcsServiceInfo> {
    const res = await this.send(`DescribeServices ${cluster}/${service}`, cluster, service, () =>
      this.client.send(new DescribeServicesCommand({ cluster, services: [service] })),
    );
    const s = res?.services?.[0];
    if (!s) {
      const f = res?.failures?.[0];
      throw missingEcsService(
        cluster,
        service,
        f ? `${f.reason ?? 'MISSING'}${f.arn ? ` (${f.arn})` : ''}${f.detail ? `: ${f.detail}` : ''}` : 'MISSING',
      );
    }
    const controller = s.deploymentController?.type ?? 'ECS';
    let taskSets: TaskSetInfo[] = [];
    // Only services with an EXTERNAL (or CODE_DEPLOY) controller have task sets; ECS refuses the call otherwise.
    if (controller !== 'ECS') {
      const sets = await this.send(`DescribeTaskSets ${cluster}/${service}`, cluster, service, () =>
        this.client.send(new DescribeTaskSetsCommand({ cluster, service })),
      );
      taskSets = (sets?.taskSets ?? []).map(taskSetInfo);
    }
    return {
      clusterName: cluster,
      serviceName: s.serviceName ?? service,
      serviceArn: s.serviceArn ?? '',
      status: s.status ?? 'ACTIVE',
      deploymentController: controller,
      desiredCount: s.desiredCount ?? 0,
      taskSets,
    };
  }

  async createTaskSet(cluster: string, service: string, spec: TaskSetSpec): Promise<TaskSetInfo> {
    const res = await this.send(`CreateTaskSet ${cluster}/${service}`, cluster, service, () =>
      this.client.send(
        new CreateTaskSetCommand({
          cluster,
          service,
          taskDefinition: spec.taskDefinition,
          externalId: spec.externalId,
          // ECS returns the task set it already created for this token instead of a second one.
          clientToken: spec.externalId,
          loadBalancers: [
            {
              targetGroupArn: spec.targetGroupArn,
              containerName: spec.containerName,
              containerPort: spec.containerPort,
            },
          ],
          scale: { unit: 'PERCENT', value: spec.scalePercent },
          ...(spec.platformVersion ? { platformVersion: spec.platformVersion } : {}),
          ...(spec.networkConfiguration ? { networkConfiguration: spec.networkConfiguration } : {}),
          // ECS takes one or the other, never both.
          ...(spec.capacityProviderStrategy?.length
            ? { capacityProviderStrategy: spec.capacityProviderStrategy }
            : spec.launchType
              ? { launchType: spec.launchType as LaunchType }
              : {}),
        }),
      ),
    );
    if (!res?.taskSet) throw new InternalError(`CreateTaskSet ${cluster}/${service} returned no task set`);
    return taskSetInfo(res.taskSet);
  }

  async updateServicePrimaryTaskSet(cluster: string, service: string, taskSetId: string): Promise<void> {
    await this.send(`UpdateServicePrimaryTaskSet ${cluster}/${service} ${taskSetId}`, cluster, service, () =>
      this.client.send(new UpdateServicePrimaryTaskSetCommand({ cluster, service, primaryTaskSet: taskSetId })),
    );
  }

  async deleteTaskSet(cluster: string, service: string, taskSetId: string): Promise<void> {
    // Already gone (a retry after a success, or someone else cleaned up) is the outcome we wanted.
    await this.send(
      `DeleteTaskSet ${cluster}/${service} ${taskSetId}`,
      cluster,
      service,
      () => this.client.send(new DeleteTaskSetCommand({ cluster, service, taskSet: taskSetId, force: true })),
      'TaskSetNotFoundException',
    );
  }
}
