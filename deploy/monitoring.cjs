/**
 * Cutover's own health on AWS: alarms on what means Cutover itself is failing (deployment executions that
 * fail or time out, errors of any of its functions, events in the async-failures queue, API 5xx), all
 * notifying one SNS topic, and a small dashboard. serverless.yml loads this with
 * `${file(deploy/monitoring.cjs)}`; test/deploy/package.test.ts checks it.
 */
'use strict';

const upperFirst = (s) => s[0].toUpperCase() + s.slice(1);

module.exports = async ({ resolveVariable }) => {
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  const email = await resolveVariable('param:alarmEmail');
  const prefix = `${service}-${stage}`;
  const machineArn = {
    'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${prefix}-deployment`,
  };
  const functions = Object.keys(require('./functions.json'));
  const actions = { AlarmActions: [{ Ref: 'CutoverAlarmsTopic' }], OKActions: [{ Ref: 'CutoverAlarmsTopic' }] };
  const alarm = (description, namespace, metric, dimensions, statistic = 'Sum') => ({
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription: `Cutover ${stage}: ${description}`,
      Namespace: namespace,
      MetricName: metric,
      Dimensions: dimensions,
      Statistic: statistic,
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      ...actions,
    },
  });

  const Resources = {
    CutoverAlarmsTopic: {
      Type: 'AWS::SNS::Topic',
      Properties: {
        TopicName: `${prefix}-alarms`,
        DisplayName: `Cutover ${stage} health`,
        KmsMasterKeyId: { 'Fn::If': ['HasKmsKey', await resolveVariable('param:kmsKeyArn'), { Ref: 'AWS::NoValue' }] },
      },
    },
    ...(email
      ? {
          CutoverAlarmsEmail: {
            Type: 'AWS::SNS::Subscription',
            Properties: { TopicArn: { Ref: 'CutoverAlarmsTopic' }, Protocol: 'email', Endpoint: email },
          },
        }
      : {}),
    ExecutionsFailedAlarm: alarm(
      'deployment executions failed (an execution that fails is a bug or an outage: deployments end in the reconciler)',
      'AWS/States',
      'ExecutionsFailed',
      [{ Name: 'StateMachineArn', Value: machineArn }],
    ),
    ExecutionsTimedOutAlarm: alarm('deployment executions timed out', 'AWS/States', 'ExecutionsTimedOut', [
      { Name: 'StateMachineArn', Value: machineArn },
    ]),
    AsyncFailuresAlarm: alarm(
      'events in the async-failures queue (a trigger, alarm or execution event Cutover could not handle)',
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['AsyncFailuresQueue', 'QueueName'] } }],
      'Maximum',
    ),
    ApiServerErrorsAlarm: alarm('the API answered 5xx', 'AWS/ApiGateway', '5XXError', [
      { Name: 'ApiName', Value: `${stage}-${service}` },
    ]),
  };
  // One per function: a task that throws (after its retries) is a failing engine step.
  for (const fn of functions)
    Resources[`${upperFirst(fn)}ErrorsAlarm`] = alarm(`the ${fn} function failed`, 'AWS/Lambda', 'Errors', [
      { Name: 'FunctionName', Value: `${prefix}-${fn}` },
    ]);

  const widget = (title, metrics, y, x = 0) => ({
    type: 'metric',
    x,
    y,
    width: 12,
    height: 6,
    properties: { title, region: '${AWS::Region}', stat: 'Sum', period: 300, metrics },
  });
  const body = {
    widgets: [
      widget(
        'Deployment executions',
        ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'].map(
          (m) => ['AWS/States', m, 'StateMachineArn', '${MachineArn}'],
        ),
        0,
      ),
      widget(
        'Function errors',
        functions.map((fn) => ['AWS/Lambda', 'Errors', 'FunctionName', `${prefix}-${fn}`]),
        0,
        12,
      ),
      widget(
        'Async failures queue',
        [['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', '${QueueName}']],
        6,
      ),
      widget(
        'API requests and errors',
        ['Count', '4XXError', '5XXError'].map((m) => ['AWS/ApiGateway', m, 'ApiName', `${stage}-${service}`]),
        6,
        12,
      ),
    ],
  };
  Resources.CutoverDashboard = {
    Type: 'AWS::CloudWatch::Dashboard',
    Properties: {
      DashboardName: `${prefix}-health`,
      DashboardBody: {
        'Fn::Sub': [
          JSON.stringify(body),
          { MachineArn: machineArn, QueueName: { 'Fn::GetAtt': ['AsyncFailuresQueue', 'QueueName'] } },
        ],
      },
    },
  };
  return { Resources, Outputs: { AlarmsTopicArn: { Value: { Ref: 'CutoverAlarmsTopic' } } } };
};
