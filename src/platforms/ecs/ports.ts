/** What the ECS platform needs from AWS: task sets of EXTERNAL services, and ELBv2 listeners. */
import type { ForwardWeights } from './domain.js';
import type { TaskSetFields } from './model.js';

/** An ECS task set, as the engine needs it (DescribeTaskSets). */
export interface TaskSetInfo {
  id: string;
  taskSetArn: string;
  status: 'PRIMARY' | 'ACTIVE' | 'DRAINING';
  stabilityStatus: 'STEADY_STATE' | 'STABILIZING';
  taskDefinition: string;
  externalId?: string;
  /** Target groups the task set registers its tasks with. */
  targetGroupArns: string[];
  /** Percent of the service's desired count. */
  scalePercent: number;
  runningCount: number;
  pendingCount: number;
  computedDesiredCount: number;
  /** How its tasks run: a replacement inherits these when the AppSpec leaves them out. */
  launchType?: string;
  platformVersion?: string;
  networkConfiguration?: TaskSetSpec['networkConfiguration'];
  capacityProviderStrategy?: TaskSetSpec['capacityProviderStrategy'];
}

/** An ECS service with its task sets (DescribeServices + DescribeTaskSets). */
export interface EcsServiceInfo {
  clusterName: string;
  serviceName: string;
  serviceArn: string;
  status: string;
  /** `ECS`, `CODE_DEPLOY` or `EXTERNAL`: the task-set APIs work only with `EXTERNAL`. */
  deploymentController: string;
  desiredCount: number;
  taskSets: TaskSetInfo[];
}

/** What CreateTaskSet gets for the replacement (green) task set. */
export interface TaskSetSpec extends TaskSetFields {
  /** The deployment id: finds the task set again after a retry. */
  externalId: string;
  targetGroupArn: string;
  launchType?: string;
  /** Percent of the service's desired count (100: as many tasks as blue). */
  scalePercent: number;
}

/** ECS task sets of services with the EXTERNAL deployment controller. */
export interface EcsServices {
  /** The service and its task sets. Throws PreconditionFailedError when the cluster or service does not exist. */
  describeService(cluster: string, service: string): Promise<EcsServiceInfo>;
  /** CreateTaskSet. Returns the new task set (not yet steady). */
  createTaskSet(cluster: string, service: string, spec: TaskSetSpec): Promise<TaskSetInfo>;
  /** UpdateServicePrimaryTaskSet. */
  updateServicePrimaryTaskSet(cluster: string, service: string, taskSetId: string): Promise<void>;
  /** DeleteTaskSet (force). A task set that is already gone is not an error. */
  deleteTaskSet(cluster: string, service: string, taskSetId: string): Promise<void>;
}

/** One forward action of a listener: its default action (no ruleArn) or a rule's. */
export interface ListenerForward {
  ruleArn?: string;
  weights: ForwardWeights;
}

/** An ELB listener and where it forwards (DescribeListeners + DescribeRules). */
export interface ListenerInfo {
  listenerArn: string;
  loadBalancerArn: string;
  protocol: string;
  port: number;
  /** The default action's forward (if it forwards) and every non-default rule that forwards. */
  forwards: ListenerForward[];
}

/** ELBv2 listeners and target groups. */
export interface LoadBalancers {
  /** Throws PreconditionFailedError when the listener does not exist. */
  describeListener(listenerArn: string): Promise<ListenerInfo>;
  /** Target group ARNs by name (DescribeTargetGroups); names that do not exist are absent. */
  targetGroupArns(names: string[]): Promise<Record<string, string>>;
  /**
   * Point every forward of the listener that sends traffic to any of `pair` (the default action
   * with ModifyListener, rules with ModifyRule) at `weights`. Other forwards are left alone.
   * Returns nothing; callers read back.
   */
  setForward(listenerArn: string, pair: [string, string], weights: ForwardWeights): Promise<void>;
}

/** The ECS platform's ports. */
export interface EcsPorts {
  services: EcsServices;
  loadBalancers: LoadBalancers;
}
