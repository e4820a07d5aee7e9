import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
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
}

/** Build every client once per Lambda container, all with the shared retry settings (clientConfig). */
export function createAwsClients(region: string): AwsClients {
  const config = clientConfig({ region });
  return {
    lambda: new LambdaClient(config),
    ecs: new ECSClient(config),
    elb: new ElasticLoadBalancingV2Client(config),
    cloudwatch: new CloudWatchClient(config),
    sfn: new SFNClient(config),
    eventbridge: new EventBridgeClient(config),
    sns: new SNSClient(config),
    dynamodb: new DynamoDBClient(config),
    s3: new S3Client(config),
    codepipeline: new CodePipelineClient(config),
  };
}
