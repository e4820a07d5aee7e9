import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { clientConfig } from './errors.js';

/** One SDK client per AWS service Cutover calls. */
export interface AwsClients {
  lambda: LambdaClient;
  ecs: ECSClient;
  elb: ElasticLoadBalancingV2Client;
  cloudwatch: CloudWatchClient;
  sfn: SFNClient;
  eventbridge: EventBridgeClient;
  sns: SNSClient;
  dynamodb: DynamoDBClient;
  s3: S3Client;
  codepipeline: CodePipelineClient;
  ec2: EC2Client;
  autoScaling: AutoScalingClient;
  iam: IAMClient;
  ssm: SSMClient;
}

const CLIENTS = {
  lambda: LambdaClient,
  ecs: ECSClient,
  elb: ElasticLoadBalancingV2Client,
  cloudwatch: CloudWatchClient,
  sfn: SFNClient,
  eventbridge: EventBridgeClient,
  sns: SNSClient,
  dynamodb: DynamoDBClient,
  s3: S3Client,
  codepipeline: CodePipelineClient,
  ec2: EC2Client,
  autoScaling: AutoScalingClient,
  iam: IAMClient,
  ssm: SSMClient,
} as const;

/**
 * The clients of a Lambda container, each made on first use (a function builds only the clients its
 * task's ports call), all with the shared retry settings (clientConfig).
 */
export function createAwsClients(region: string): AwsClients {
  const config = clientConfig({ region });
  const made: Partial<AwsClients> = {};
  const clients = {} as AwsClients;
  for (const key of Object.keys(CLIENTS) as (keyof AwsClients)[]) {
    Object.defineProperty(clients, key, {
      get: () => (made[key] ??= new CLIENTS[key](config) as never),
      enumerable: true,
    });
  }
  return clients;
}
