/** An ECS deployment's target (what was asked) and the facts found and made in the world. */

/** ECS awsvpc network settings of a task set (CodeDeploy's AppSpec NetworkConfiguration). */
export interface EcsNetworkConfiguration {
  awsvpcConfiguration: { subnets: string[]; securityGroups?: string[]; assignPublicIp?: 'ENABLED' | 'DISABLED' };
}
export interface EcsCapacityProvider {
  capacityProvider: string;
  base?: number;
  weight?: number;
}

/** The service, its new task definition and how to run it (AppSpec), its listeners and waits (group). */
export interface EcsTarget {
  clusterName: string;
  serviceName: string;
  taskDefinition: string;
  containerName: string;
  containerPort: number;
  platformVersion?: string;
  networkConfiguration?: EcsNetworkConfiguration;
  capacityProviderStrategy?: EcsCapacityProvider[];
  /** The group's target group pair (by name); which one is blue is found in the world. */
  targetGroups: [string, string];
  prodListenerArns: string[];
  testListenerArns?: string[];
  /** STOP_DEPLOYMENT: how long the ready wait lasts before the deployment stops (seconds). */
  readyWaitSeconds?: number;
  /** What becomes of the original task set after success, and after how long (seconds). */
  termination: { action: 'TERMINATE' | 'KEEP_ALIVE'; waitSeconds: number };
}

/** What the AppSpec says about the replacement task set (and what CreateTaskSet gets of it). */
export type TaskSetFields = Pick<
  EcsTarget,
  | 'taskDefinition'
  | 'containerName'
  | 'containerPort'
  | 'platformVersion'
  | 'networkConfiguration'
  | 'capacityProviderStrategy'
>;

/** What an ECS deployment found and made (kept on the deployment's state). */
export interface EcsFacts {
  /** Prepare: the primary (blue) task set and its target group; the other target group of the pair. */
  blueTaskSetId?: string;
  blueTaskDefinition?: string;
  blueTargetGroupArn?: string;
  greenTargetGroupArn?: string;
  /** Prepare: the original task set the last deployment kept (KEEP_ALIVE); Install deletes it first. */
  replacesKeptTaskSetId?: string;
  /** Install. */
  greenTaskSetId?: string;
  /** Install gives up when green is not steady by then (ISO). */
  steadyDeadline?: string;
  /** Set when test traffic was routed to green. */
  testTrafficOnGreen?: boolean;
  /** The ready wait ends (stops the deployment) then, unless continued (ISO). */
  readyUntil?: string;
  /** The termination wait ends then (ISO). */
  terminationUntil?: string;
}
