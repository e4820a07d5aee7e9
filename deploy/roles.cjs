/**
 * IAM for the Cutover stack: one execution role per function, each allowed only the AWS calls that
 * function's task makes (src/tasks/*, through src/adapters/aws/*), on the resources it touches.
 * serverless.yml loads this with `${file(deploy/roles.cjs)}`; the result is merged into `resources`.
 *
 * Read GRANTS below to see what each function may do. Every `Resource: '*'` here is forced by AWS
 * (the action supports no resource-level permissions) and says so next to it; test/deploy checks
 * that no statement has a wildcard action and that `*` resources carry only such actions.
 */
'use strict';

/** `a, b ,c` → ['a', 'b', 'c'] (params hold comma-separated name patterns). */
const list = (v) =>
  String(v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const sub = (s) => ({ 'Fn::Sub': s });
const ARN = 'arn:${AWS::Partition}';
const HERE = '${AWS::Region}:${AWS::AccountId}';
const allow = (Action, Resource, Condition) => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...(Condition ? { Condition } : {}),
});
const upperFirst = (s) => s[0].toUpperCase() + s.slice(1);

module.exports = async ({ resolveVariable }) => {
  const v = async (name) => resolveVariable(name);
  const service = await v('self:service');
  const stage = await v('sls:stage');
  const p = {};
  for (const name of [
    'targetFunctions',
    'targetTagKey',
    'hookFunctions',
    'triggerTopics',
    'revisionBucket',
    'revisionBuckets',
    'revisionPrefix',
    'pipelineArtifactBuckets',
    'eventBus',
    'ecsServices',
    'ecsTaskRoles',
    'loadBalancers',
  ]) {
    p[name] = await v(`param:${name}`);
  }
  const prefix = `${service}-${stage}`;
  const stateMachineArn = sub(`${ARN}:states:${HERE}:stateMachine:${prefix}-deployment`);
  const table = { 'Fn::GetAtt': ['CutoverTable', 'Arn'] };
  const tableIndexes = { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['CutoverTable', 'Arn'] }, '/index/*']] };
  // A function by name, unqualified and with any version or alias qualifier.
  const functionArns = (patterns) =>
    patterns.flatMap((n) => [sub(`${ARN}:lambda:${HERE}:function:${n}`), sub(`${ARN}:lambda:${HERE}:function:${n}:*`)]);
  const objects = (buckets, path = '*') => buckets.map((b) => sub(`${ARN}:s3:::${b}/${path}`));

  // ---- capabilities: each returns the statements for one kind of call ------------------------

  /** The store (one DynamoDB table). Query also needs the indexes. */
  const store = (...extra) => {
    const actions = [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      ...extra.map((a) => `dynamodb:${a}`),
    ];
    return [allow(actions, actions.includes('dynamodb:Query') ? [table, tableIndexes] : table)];
  };

  /** Lambda alias operations on target functions: the ones listed by name, and the ones tagged for this stack. */
  const targets = (...actions) => {
    const act = actions.map((a) => `lambda:${a}`);
    const named = list(p.targetFunctions);
    return [
      ...(named.length ? [allow(act, functionArns(named))] : []),
      ...(p.targetTagKey
        ? [
            allow(act, sub(`${ARN}:lambda:${HERE}:function:*`), {
              StringEquals: { [`aws:ResourceTag/${p.targetTagKey}`]: prefix },
            }),
          ]
        : []),
    ];
  };

  const hooks = () => [allow(['lambda:InvokeFunction'], functionArns(list(p.hookFunctions)))];
  const alarms = () => [allow(['cloudwatch:DescribeAlarms'], sub(`${ARN}:cloudwatch:${HERE}:alarm:*`))];
  const tokens = (...actions) => [
    allow(
      actions.map((a) => `states:${a}`),
      stateMachineArn,
    ),
  ];
  const start = () => [allow(['states:StartExecution'], stateMachineArn)];
  const publish = () => [
    allow(['events:PutEvents'], sub(`${ARN}:events:${HERE}:event-bus/${p.eventBus}`)),
    allow(
      ['sns:Publish'],
      list(p.triggerTopics).map((t) => sub(`${ARN}:sns:${HERE}:${t}`)),
    ),
  ];
  const revisions = () => {
    const buckets = list(p.revisionBuckets);
    return [allow(['s3:GetObject', 's3:GetObjectVersion'], objects(buckets.length ? buckets : [p.revisionBucket]))];
  };
  const uploads = () => [
    allow(['s3:GetObject', 's3:GetObjectVersion'], objects([p.revisionBucket], `${p.revisionPrefix}/*`)),
  ];
  const artifacts = () => [allow(['s3:GetObject', 's3:GetObjectVersion'], objects(list(p.pipelineArtifactBuckets)))];
  // AWS forces '*': CodePipeline's job-worker actions support no resource-level permissions.
  const pipelineJobs = () => [allow(['codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult'], '*')];

  // ECS blue/green: nothing unless `ecsServices` (cluster/service patterns) is set.
  const services = list(p.ecsServices);
  const ecs = (...actions) =>
    services.length
      ? [
          allow(
            actions.map((a) => `ecs:${a}`),
            services.flatMap((s) => [
              sub(`${ARN}:ecs:${HERE}:service/${s}`),
              sub(`${ARN}:ecs:${HERE}:task-set/${s}/*`),
            ]),
          ),
        ]
      : [];
  // CreateTaskSet passes the task definition's task and execution roles to ECS tasks.
  const passTaskRoles = () =>
    services.length
      ? [
          allow(
            ['iam:PassRole'],
            list(p.ecsTaskRoles).map((r) => sub(`${ARN}:iam::\${AWS::AccountId}:role/${r}`)),
            {
              StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
            },
          ),
        ]
      : [];
  // AWS forces '*': ELBv2 Describe* actions support no resource-level permissions.
  const describeLoadBalancing = (...actions) =>
    services.length
      ? [
          allow(
            actions.map((a) => `elasticloadbalancing:${a}`),
            '*',
          ),
        ]
      : [];
  // Listener and rule changes, only on the load balancers named in `loadBalancers` (ALB or NLB).
  const balancers = list(p.loadBalancers);
  const modifyListeners = () =>
    balancers.length
      ? [
          allow(
            ['elasticloadbalancing:ModifyListener', 'elasticloadbalancing:ModifyRule'],
            balancers.flatMap((lb) =>
              ['app', 'net'].flatMap((kind) => [
                sub(`${ARN}:elasticloadbalancing:${HERE}:listener/${kind}/${lb}/*`),
                sub(`${ARN}:elasticloadbalancing:${HERE}:listener-rule/${kind}/${lb}/*`),
              ]),
            ),
          ),
        ]
      : [];
  const ecsTraffic = () => [...describeLoadBalancing('DescribeListeners', 'DescribeRules'), ...modifyListeners()];

  // ---- what each function calls ------------------------------------------------------------
  const GRANTS = {
    recordDeployment: [...store(), ...revisions()],
    prepareDeployment: [
      ...store(),
      ...targets('GetFunctionConfiguration', 'GetAlias'),
      ...alarms(),
      ...publish(),
      ...ecs('DescribeServices', 'DescribeTaskSets'),
      ...describeLoadBalancing('DescribeListeners', 'DescribeRules', 'DescribeTargetGroups'),
    ],
    invokeHook: [...store(), ...hooks(), ...tokens('SendTaskSuccess', 'SendTaskFailure')],
    installTaskSet: [...store(), ...ecs('DescribeServices', 'DescribeTaskSets', 'CreateTaskSet'), ...passTaskRoles()],
    allowTestTraffic: [...store(), ...ecsTraffic()],
    hookTimedOut: [...store()],
    shiftTraffic: [
      ...store(),
      ...targets('GetAlias', 'UpdateAlias'),
      ...alarms(),
      ...ecs('DescribeServices', 'DescribeTaskSets', 'UpdateServicePrimaryTaskSet'),
      ...ecsTraffic(),
    ],
    startWait: [...store(), ...tokens('SendTaskSuccess', 'SendTaskFailure')],
    finalizeDeployment: [
      ...store('DeleteItem'),
      ...alarms(),
      ...publish(),
      ...ecs('DescribeServices', 'DescribeTaskSets', 'DeleteTaskSet'),
    ],
    rollbackDeployment: [
      ...store(),
      ...targets('GetAlias', 'UpdateAlias'),
      ...ecs('DescribeServices', 'DescribeTaskSets', 'UpdateServicePrimaryTaskSet', 'DeleteTaskSet'),
      ...ecsTraffic(),
    ],
    recordOutcome: [...store('DeleteItem'), ...publish()],
    // An execution that ended without recording its outcome: Rollback and RecordOutcome's calls.
    executionEnded: [
      ...store('DeleteItem'),
      ...targets('GetAlias', 'UpdateAlias'),
      ...ecs('DescribeServices', 'DescribeTaskSets', 'UpdateServicePrimaryTaskSet', 'DeleteTaskSet'),
      ...ecsTraffic(),
      ...publish(),
    ],
    alarmListener: [...store('Query'), ...tokens('SendTaskFailure')],
    s3Trigger: [...store(), ...uploads(), ...start(), ...publish()],
    codePipelineJob: [...store(), ...artifacts(), ...start(), ...pipelineJobs()],
    api: [...store('DeleteItem', 'Query'), ...revisions(), ...start(), ...tokens('SendTaskSuccess', 'SendTaskFailure')],
  };

  const Resources = {};
  for (const [fn, statements] of Object.entries(GRANTS)) {
    Resources[`${upperFirst(fn)}Role`] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `Cutover ${stage}: the ${fn} function`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
        Policies: [
          {
            PolicyName: `${prefix}-${fn}`,
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                // Its own log group only (created by the stack, so no logs:CreateLogGroup).
                allow(
                  ['logs:CreateLogStream', 'logs:PutLogEvents'],
                  sub(`${ARN}:logs:${HERE}:log-group:/aws/lambda/${prefix}-${fn}:*`),
                ),
                ...statements,
              ],
            },
          },
        ],
      },
    };
  }
  return { Resources };
};
