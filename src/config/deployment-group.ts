/**
 * CodeDeploy's CreateDeploymentGroup / UpdateDeploymentGroup input, as a schema: types, lengths and
 * enums of every field. The rules that depend on the platform are the platform's
 * (src/platforms/<name>/index.ts `groupIssues`).
 */
import { z } from 'zod';
import { normalizeHost } from '../domain/hook-targets.js';
import { DEFAULT_AUTO_ROLLBACK } from '../domain/outcome.js';
import { TRIGGER_EVENT_TYPES, type TagFilter } from '../domain/model.js';

const LISTENER_ARN = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/(app|net)\/[^/]+\/[0-9a-f]+\/[0-9a-f]+$/,
    'must be an ELB listener ARN',
  );
const TARGET_GROUP = z.object({ name: z.string().min(1).max(32, 'a target group name has at most 32 characters') });
/**
 * Tag filters and tag sets (Server groups) pass through as given: the Server platform checks them, every problem
 * with its path and CodeDeploy's exception (InvalidEC2TagException, InvalidEC2TagCombinationException, ...),
 * and normalizes them (src/platforms/server/groups.ts). Other platforms refuse them.
 */
const TAG_FILTERS = z.custom<TagFilter[]>().optional();

/** An application or deployment group name (CodeDeploy: 1-100 of these characters). */
export const NAME = z
  .string()
  .min(1, 'required')
  .max(100, 'at most 100 characters')
  .regex(/^[A-Za-z0-9._+=,@-]+$/, 'letters, digits and . _ + = , @ - only');

const AlarmConfig = z.object({
  enabled: z.boolean().default(true),
  ignorePollAlarmFailure: z.boolean().default(false),
  baselineMode: z.enum(['failOnAlarmAtStart', 'ignoreAlarmsAlreadyFiring']).default('failOnAlarmAtStart'),
  alarms: z
    .array(z.object({ name: z.string().min(1).max(255) }))
    .max(10, 'at most 10 alarms per deployment group')
    .default([])
    .refine((a) => new Set(a.map((x) => x.name)).size === a.length, 'alarm names must be unique'),
});
const Trigger = z.object({
  triggerName: z.string().min(1),
  triggerTargetArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, 'must be an SNS topic ARN'),
  triggerEvents: z.array(z.enum(TRIGGER_EVENT_TYPES)).min(1),
});
export const GroupInputSchema = z.object({
  applicationName: NAME,
  deploymentGroupName: NAME,
  serviceRoleArn: z.string().optional(),
  /** Default: the platform's (e.g. CodeDeployDefault.LambdaAllAtOnce). */
  deploymentConfigName: z.string().min(1).optional(),
  alarmConfiguration: AlarmConfig.default({
    enabled: false,
    ignorePollAlarmFailure: false,
    baselineMode: 'failOnAlarmAtStart',
    alarms: [],
  }),
  autoRollbackConfiguration: z
    .object({
      enabled: z.boolean(),
      events: z
        .array(z.enum(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST']))
        .default([]),
    })
    .default(DEFAULT_AUTO_ROLLBACK),
  triggerConfigurations: z.array(Trigger).max(10, 'at most 10 triggers per deployment group').default([]),
  hookTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(3600 * 24, 'at most 86400 seconds')
    .default(3600),
  hookConfiguration: z
    .record(
      z.string(),
      z.object({
        timeoutSeconds: z
          .number()
          .int()
          .min(1)
          .max(3600 * 24)
          .optional(),
        timeoutAction: z.enum(['rollback', 'continue']).optional(),
      }),
    )
    .optional(),
  webhookSecret: z.string().min(16, 'at least 16 characters').max(256).optional(),
  // Hosts whose private addresses webhooks may reach (src/domain/hook-targets.ts), stored normalized.
  webhookAllowedHosts: z
    .array(
      z
        .string()
        .max(255, 'at most 255 characters')
        .transform((h, ctx) => {
          const host = normalizeHost(h.trim());
          if (host) return host;
          ctx.addIssue({ code: 'custom', message: 'must be a host name or IP address, without scheme, port or path' });
          return z.NEVER;
        }),
    )
    .max(20, 'at most 20 hosts')
    .optional(),
  // Target fields (CodeDeploy's shapes); which platform takes which: src/platforms/*/index.ts groupFields.
  ecsServices: z
    .array(z.object({ serviceName: z.string().min(1).max(255), clusterName: z.string().min(1).max(255) }))
    .optional(),
  loadBalancerInfo: z
    .object({
      targetGroupPairInfoList: z
        .array(
          z.object({
            targetGroups: z.array(TARGET_GROUP),
            prodTrafficRoute: z.object({ listenerArns: z.array(LISTENER_ARN) }),
            testTrafficRoute: z.object({ listenerArns: z.array(LISTENER_ARN) }).optional(),
          }),
        )
        .optional(),
      targetGroupInfoList: z.array(TARGET_GROUP).optional(),
      elbInfoList: z
        .array(z.object({ name: z.string().min(1).max(32, 'a load balancer name has at most 32 characters') }))
        .optional(),
    })
    .optional(),
  blueGreenDeploymentConfiguration: z
    .object({
      terminateBlueInstancesOnDeploymentSuccess: z
        .object({
          action: z.enum(['TERMINATE', 'KEEP_ALIVE']),
          terminationWaitTimeInMinutes: z.number().int().min(0).max(2880, 'at most 2880 minutes (2 days)').optional(),
        })
        .optional(),
      deploymentReadyOption: z
        .object({
          actionOnTimeout: z.enum(['CONTINUE_DEPLOYMENT', 'STOP_DEPLOYMENT']),
          waitTimeInMinutes: z.number().int().min(0).max(7200, 'at most 7200 minutes (120 hours) for ECS').optional(),
        })
        .optional(),
    })
    .optional(),
  deploymentStyle: z
    .object({
      deploymentType: z.enum(['BLUE_GREEN', 'IN_PLACE']),
      deploymentOption: z.enum(['WITH_TRAFFIC_CONTROL', 'WITHOUT_TRAFFIC_CONTROL']),
    })
    .optional(),
  // Server groups: which instances (src/platforms/server/groups.ts has the rules).
  ec2TagFilters: TAG_FILTERS,
  ec2TagSet: z.custom<{ ec2TagSetList: TagFilter[][] }>().optional(),
  onPremisesInstanceTagFilters: TAG_FILTERS,
  onPremisesTagSet: z.custom<{ onPremisesTagSetList: TagFilter[][] }>().optional(),
  autoScalingGroups: z.array(z.string()).optional(),
  outdatedInstancesStrategy: z.enum(['UPDATE', 'IGNORE']).optional(),
  terminationHookEnabled: z.boolean().optional(),
});
export type GroupInputSchema = z.infer<typeof GroupInputSchema>;

/** CodeDeploy's exception for a problem with each group field (the first problem's field names it). */
const GROUP_EXCEPTIONS: Record<string, string> = {
  applicationName: 'InvalidApplicationNameException',
  deploymentGroupName: 'InvalidDeploymentGroupNameException',
  deploymentConfigName: 'InvalidDeploymentConfigNameException',
  alarmConfiguration: 'InvalidAlarmConfigException',
  autoRollbackConfiguration: 'InvalidAutoRollbackConfigException',
  triggerConfigurations: 'InvalidTriggerConfigException',
  ecsServices: 'InvalidECSServiceException',
  loadBalancerInfo: 'InvalidLoadBalancerInfoException',
  blueGreenDeploymentConfiguration: 'InvalidBlueGreenDeploymentConfigurationException',
  deploymentStyle: 'InvalidDeploymentStyleException',
  serviceRoleArn: 'InvalidRoleException',
  ec2TagFilters: 'InvalidEC2TagException',
  ec2TagSet: 'InvalidEC2TagException',
  onPremisesInstanceTagFilters: 'InvalidTagException',
  onPremisesTagSet: 'InvalidTagException',
  autoScalingGroups: 'InvalidAutoScalingGroupException',
};

/** The exception CodeDeploy names for a problem with `field` (InvalidInputException when it names none). */
export const groupException = (field: string): string =>
  Object.hasOwn(GROUP_EXCEPTIONS, field) ? GROUP_EXCEPTIONS[field]! : 'InvalidInputException';
