/**
 * The AWS package, checked offline: `npm run package` (osls, no credentials, no network) builds the
 * CloudFormation template, and these tests read it. Two variants: the `ci` stage as is (a new
 * revision bucket, every optional IAM statement present), and the same with an existing revision
 * bucket and a custom event bus.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundTaskName } from '../../src/local/runtime.js';
import { EVENT_TASKS, STATE_MACHINE_TASKS } from '../../src/tasks/task.js';
import { API_FUNCTIONS, functionPorts } from '../../src/wiring/functions.js';

/**
 * Actions AWS authorises only with `Resource: '*'` (no resource-level permissions in the Service
 * Authorization Reference). A `*` resource with any other action fails the test.
 */
const STAR_ONLY: Record<string, string> = {
  // CodePipeline job workers act on a job id, which is no IAM resource.
  'codepipeline:PutJobSuccessResult': 'job worker: jobs are not IAM resources',
  'codepipeline:PutJobFailureResult': 'job worker: jobs are not IAM resources',
  // ELBv2 Describe* support no resource-level permissions.
  'elasticloadbalancing:DescribeListeners': 'ELBv2 Describe* take no resource',
  'elasticloadbalancing:DescribeRules': 'ELBv2 Describe* take no resource',
  'elasticloadbalancing:DescribeTargetGroups': 'ELBv2 Describe* take no resource',
  'elasticloadbalancing:DescribeTargetHealth': 'ELBv2 Describe* take no resource',
  // Server groups select instances by tag and Auto Scaling group: these Describe actions take no resource.
  'ec2:DescribeInstances': 'EC2 Describe* take no resource',
  'autoscaling:DescribeAutoScalingGroups': 'Auto Scaling Describe* take no resource',
  // The state machine's X-Ray tracing (tracingConfig): X-Ray actions take no resource.
  'xray:PutTraceSegments': 'X-Ray takes no resource',
  'xray:PutTelemetryRecords': 'X-Ray takes no resource',
  'xray:GetSamplingRules': 'X-Ray takes no resource',
  'xray:GetSamplingTargets': 'X-Ray takes no resource',
  // The state machine's execution logging (loggingConfig): CloudWatch Logs vended-log delivery
  // actions take no resource (Step Functions documents exactly this policy).
  'logs:CreateLogDelivery': 'log delivery takes no resource',
  'logs:GetLogDelivery': 'log delivery takes no resource',
  'logs:UpdateLogDelivery': 'log delivery takes no resource',
  'logs:DeleteLogDelivery': 'log delivery takes no resource',
  'logs:ListLogDeliveries': 'log delivery takes no resource',
  'logs:PutResourcePolicy': 'log delivery sets the log group resource policy; takes no resource',
  'logs:DescribeResourcePolicies': 'log delivery reads resource policies; takes no resource',
  'logs:DescribeLogGroups': 'List-level action; takes no resource',
};

// CloudFormation templates are read path by path; a type for every path would only restate the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json;
  Condition?: Record<string, Record<string, string>>;
  NotAction?: unknown;
  NotResource?: unknown;
}

const STAGE = 'ci';
const KMS_KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const SERVICE = 'cutover';
const upperFirst = (s: string) => s[0]!.toUpperCase() + s.slice(1);
/** The serverless.yml function key of a template function (`cutover-ci-<key>`). */
const fnKey = (f: Json) => String(f.Properties.FunctionName).replace(`${SERVICE}-${STAGE}-`, '');
const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
const dirs: string[] = [];

/** `npm run package` into a temporary directory; returns the update-stack template. */
let artifacts = '';
function packageStack(...params: string[]): Json {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-package-'));
  artifacts ||= dir;
  dirs.push(dir);
  const r = spawnSync(
    'npm',
    ['run', '--silent', 'package', '--', '--package', dir, ...params.map((p) => `--param=${p}`)],
    {
      encoding: 'utf8',
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', SLS_TELEMETRY_DISABLED: '1' },
      timeout: 170_000,
    },
  );
  if (r.status !== 0) throw new Error(`npm run package failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
}

const ofType = (t: Json, type: string): [string, Json][] =>
  Object.entries(t.Resources as Record<string, Json>).filter(([, r]) => r.Type === type);

/** Every IAM policy statement in the template, with the role it belongs to. */
function statements(t: Json): { role: string; s: Statement }[] {
  const out: { role: string; s: Statement }[] = [];
  for (const [role, r] of ofType(t, 'AWS::IAM::Role')) {
    for (const p of r.Properties.Policies ?? [])
      for (const s of asList(p.PolicyDocument.Statement)) out.push({ role, s });
  }
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [role, r] of ofType(t, type))
      for (const s of asList(r.Properties.PolicyDocument.Statement)) out.push({ role, s });
  }
  return out;
}
const actionsOf = (s: Statement) => asList(s.Action);

let template: Json;
let existingBucket: Json;

beforeAll(() => {
  const t0 = Date.now();
  template = packageStack();
  existingBucket = packageStack(
    'revisionBucketExisting=true',
    'createEventBus=true',
    'eventBus=cutover-ci-outcomes',
    `kmsKeyArn=${KMS_KEY}`,
  );
  console.log(`packaged twice in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}, 360_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('functions', () => {
  it('are exactly the tasks of src/tasks/task.ts: STATE_MACHINE_TASKS + EVENT_TASKS + api + hookCallback', () => {
    const names = ofType(template, 'AWS::Lambda::Function').map(([, f]) => fnKey(f));
    expect(names.sort()).toEqual([...STATE_MACHINE_TASKS, ...EVENT_TASKS, ...Object.keys(API_FUNCTIONS)].sort());
  });

  it('each is bundled on its own and ships only what it uses: the engine’s waits and the hook callback are small', () => {
    const sizes: Record<string, number> = {};
    for (const f of readdirSync(artifacts).filter((n) => n.endsWith('.zip'))) {
      const name = f.replace(/\.zip$/, '');
      const listing = spawnSync('unzip', ['-l', join(artifacts, f)], { encoding: 'utf8' }).stdout;
      // One bundle per artifact: its own entry, nothing of the other functions.
      const files = [...listing.matchAll(/\s(functions\/\S+)$/gm)].map((m) => m[1]);
      expect(files, name).toEqual([`functions/${name}.mjs`]);
      sizes[name] = Number(/^\s*(\d+)\s+\S+\s+\S+\s+functions\//m.exec(listing)?.[1]);
    }
    expect(Object.keys(sizes).sort()).toEqual(
      [...STATE_MACHINE_TASKS, ...EVENT_TASKS, ...Object.keys(API_FUNCTIONS)].sort(),
    );
    // Before each function was bundled from its own task, every bundle held everything (~730 KB). The small
    // ones still carry the three platforms' strategies and the store (renames and tags took startWait from
    // under 300 to 310 KB on 2026-12-03); the bound says they stay well below everything.
    for (const small of ['startWait', 'hookTimedOut', 'alarmListener', 'hookCallback'])
      expect(sizes[small], small).toBeLessThan(350_000);
    for (const [name, size] of Object.entries(sizes)) expect(size, name).toBeLessThan(1_000_000);
  });

  it('run nodejs22.x on arm64, in both variants (osls helper functions included)', () => {
    for (const t of [template, existingBucket]) {
      for (const [id, f] of ofType(t, 'AWS::Lambda::Function')) {
        expect(f.Properties.Runtime, id).toBe('nodejs22.x');
        expect(f.Properties.Architectures, id).toEqual(['arm64']);
      }
    }
  });

  it('each has a log group with retention, and its own role that writes only to that log group', () => {
    for (const t of [template, existingBucket]) {
      const groups = new Map(
        ofType(t, 'AWS::Logs::LogGroup').map(([, g]) => [g.Properties.LogGroupName, g.Properties.RetentionInDays]),
      );
      for (const [id, f] of ofType(t, 'AWS::Lambda::Function')) {
        const retention = groups.get(`/aws/lambda/${f.Properties.FunctionName}`);
        expect(retention, `${id} log group retention`).toBeGreaterThan(0);
      }
    }
    const roles = new Set<string>();
    for (const [id, f] of ofType(template, 'AWS::Lambda::Function')) {
      const key = fnKey(f);
      const role = f.Properties.Role['Fn::GetAtt']?.[0];
      expect(role, id).toBe(`${upperFirst(key)}Role`);
      expect(roles.has(role), `${role} is shared`).toBe(false);
      roles.add(role);
      const r = template.Resources[role];
      expect(r.Properties.ManagedPolicyArns, `${role} has no managed policies`).toBeUndefined();
      const logs = statements({ Resources: { [role]: r } }).filter(({ s }) =>
        actionsOf(s).some((a) => a.startsWith('logs:')),
      );
      expect(logs.map(({ s }) => s.Resource['Fn::Sub'])).toEqual([
        `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${f.Properties.FunctionName}:*`,
      ]);
    }
  });
});

describe('the state machine', () => {
  const aslText = readFileSync('statemachines/deployment.asl.json', 'utf8');
  const asl = JSON.parse(aslText) as { States: Record<string, Json> };

  it('is the statemachines/ file, with each Fn::GetAtt bound to that function in the template', () => {
    const [, sm] = ofType(template, 'AWS::StepFunctions::StateMachine')[0]!;
    expect(sm.Properties.StateMachineType ?? 'STANDARD').toBe('STANDARD');
    const [body, refs] = sm.Properties.DefinitionString['Fn::Sub'] as [string, Record<string, Json>];
    // Put each substitution back as the Fn::GetAtt of the function key it came from.
    let text = body;
    for (const [name, ref] of Object.entries(refs)) {
      const logicalId: string = ref['Fn::GetAtt'][0];
      const [, f] = Object.entries(template.Resources as Record<string, Json>).find(([id]) => id === logicalId)!;
      expect(f.Type, logicalId).toBe('AWS::Lambda::Function');
      const key = fnKey(f);
      text = text.split(`"\${${name}}"`).join(JSON.stringify({ 'Fn::GetAtt': [key, 'Arn'] }));
    }
    const strip = (v: Json): Json =>
      Array.isArray(v)
        ? v.map(strip)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .filter(([k, x]) => !(k === 'QueryLanguage' && x === 'JSONPath'))
                .map(([k, x]) => [k, strip(x)]),
            )
          : v;
    expect(strip(JSON.parse(text))).toEqual(strip(asl));
  });

  it('every ASL Task names a function of the template, and the machine may invoke exactly those', () => {
    const functions = new Map(ofType(template, 'AWS::Lambda::Function').map(([id, f]) => [fnKey(f), id]));
    const targets = new Set(
      Object.values(asl.States)
        .filter((s) => s.Type === 'Task')
        .map((s) => boundTaskName(s)),
    );
    for (const t of targets) expect(functions.has(t!), `Task target ${t}`).toBe(true);
    const invoke = statements(template).filter(
      ({ role, s }) => role === 'DeploymentStateMachineRole' && actionsOf(s).includes('lambda:InvokeFunction'),
    );
    const invoked = new Set(
      invoke
        .flatMap(({ s }) => asList(s.Resource))
        .map((r: Json) => r['Fn::GetAtt']?.[0] ?? r['Fn::Sub']?.[1]?.functionArn?.['Fn::GetAtt']?.[0]),
    );
    expect([...invoked].sort()).toEqual([...targets].map((t) => functions.get(t!)).sort());
  });

  it('logs to a log group with retention', () => {
    const [, sm] = ofType(template, 'AWS::StepFunctions::StateMachine')[0]!;
    const dest = sm.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    expect(template.Resources[dest].Properties.RetentionInDays).toBeGreaterThan(0);
  });
});

describe('IAM: least privilege', () => {
  const all = () => [...statements(template), ...statements(existingBucket)];

  it('no wildcard actions, no NotAction/NotResource, Allow only', () => {
    for (const { role, s } of all()) {
      expect(s.Effect, role).toBe('Allow');
      expect(s.NotAction, role).toBeUndefined();
      expect(s.NotResource, role).toBeUndefined();
      for (const a of actionsOf(s)) expect(a, `${role}: ${a}`).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
    }
  });

  it("`Resource: '*'` only for actions AWS authorises only on '*' (STAR_ONLY, each with its reason)", () => {
    const starred = all().filter(({ s }) => asList(s.Resource).includes('*'));
    expect(starred.length).toBeGreaterThan(0);
    for (const { role, s } of starred)
      for (const a of actionsOf(s)) expect(STAR_ONLY[a], `${role}: ${a} on '*'`).toBeDefined();
  });

  it('table actions only on the table; its index only for the functions that query it', () => {
    const indexQueries = [
      'deployments.list',
      'catalog.listApplications',
      'catalog.listDeploymentConfigs',
      'instances.list',
      'Server.instances.list',
    ];
    const ports = functionPorts();
    for (const { role, s } of all().filter(({ s }) => actionsOf(s).some((a) => a.startsWith('dynamodb:')))) {
      for (const r of asList(s.Resource)) expect(JSON.stringify(r), role).toContain('"CutoverTable","Arn"');
      const fn = role.replace(/Role$/, '').replace(/^./, (c) => c.toLowerCase());
      const queriesIndex = (ports[fn] ?? []).some((m) => indexQueries.includes(m));
      if (JSON.stringify(s.Resource).includes('/index/'))
        expect(queriesIndex, `${role} may query the index`).toBe(true);
    }
  });

  it('Lambda alias operations only on listed or tagged functions, and only in the roles that shift traffic', () => {
    const alias = statements(template).filter(({ s }) =>
      actionsOf(s).some((a) =>
        ['lambda:UpdateAlias', 'lambda:GetAlias', 'lambda:GetFunctionConfiguration'].includes(a),
      ),
    );
    expect(new Set(alias.map(({ role }) => role))).toEqual(
      new Set([
        'PrepareDeploymentRole',
        'ShiftTrafficRole',
        'RollbackDeploymentRole',
        'ExecutionEndedRole',
        'ReconcileRole',
      ]),
    );
    for (const { role, s } of alias) {
      const resources = asList(s.Resource).map((r: Json) => r['Fn::Sub'] as string);
      const tagged = s.Condition?.StringEquals?.[`aws:ResourceTag/cutover:deployer`];
      if (tagged) expect(tagged, role).toBe(`${SERVICE}-${STAGE}`);
      else for (const r of resources) expect(r, role).toMatch(/:function:(checkout|orders-\*)(:\*)?$/);
    }
  });

  it('states:SendTask* and StartExecution only on the deployment state machine; DescribeExecution on its executions', () => {
    const machine = `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${SERVICE}-${STAGE}-deployment`;
    const executions = `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${SERVICE}-${STAGE}-deployment:*`;
    const describing = new Set<string>();
    for (const { role, s } of all().filter(({ s }) => actionsOf(s).some((a) => a.startsWith('states:')))) {
      const resources = asList(s.Resource).map((r: Json) => r['Fn::Sub']);
      if (actionsOf(s).includes('states:DescribeExecution')) {
        expect(actionsOf(s), role).toEqual(['states:DescribeExecution']);
        expect(resources, role).toEqual([executions]);
        describing.add(role);
      } else expect(resources, role).toEqual([machine]);
    }
    expect([...describing]).toEqual(['ReconcileRole']);
  });

  it('every asynchronously invoked function retries twice, then sends the event to the stack queue', () => {
    const resources = template.Resources as Record<string, Json>;
    const configs = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventInvokeConfig');
    const configured = configs.map((c) => c.Properties.FunctionName.Ref as string).sort();
    expect(configured).toEqual(
      ['AlarmListener', 'ExecutionEnded', 'S3Trigger', 'CodePipelineJob', 'Reconcile']
        .map((n) => `${n}LambdaFunction`)
        .sort(),
    );
    for (const c of configs) {
      expect(c.Properties.MaximumRetryAttempts).toBe(2);
      expect(c.Properties.DestinationConfig.OnFailure.Destination).toEqual({
        'Fn::GetAtt': ['AsyncFailuresQueue', 'Arn'],
      });
    }
    const senders = statements(template)
      .filter(({ s }) => actionsOf(s).includes('sqs:SendMessage'))
      .map(({ role }) => role)
      .sort();
    expect(senders).toEqual(
      ['AlarmListener', 'ExecutionEnded', 'S3Trigger', 'CodePipelineJob', 'Reconcile'].map((n) => `${n}Role`).sort(),
    );
    expect(resources.AsyncFailuresQueue?.Properties.SqsManagedSseEnabled).toBe(true);
  });

  it('the reconciler runs every minute, one at a time', () => {
    const resources = template.Resources as Record<string, Json>;
    const rules = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties.Targets).includes('ReconcileLambdaFunction'),
    );
    expect(rules.map((r) => r.Properties.ScheduleExpression)).toEqual(['rate(1 minute)']);
    expect(resources.ReconcileLambdaFunction?.Properties.ReservedConcurrentExecutions).toBe(1);
  });

  it('iam:PassRole only to ECS tasks; ECS and ELB changes only on the configured services and load balancers', () => {
    const st = statements(template);
    const pass = st.filter(({ s }) => actionsOf(s).includes('iam:PassRole'));
    expect(pass.map(({ role }) => role)).toEqual(['RunActionRole']);
    for (const { s } of pass)
      expect(s.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    for (const { role, s } of st.filter(({ s }) => actionsOf(s).some((a) => a.startsWith('ecs:')))) {
      for (const r of asList(s.Resource))
        expect(r['Fn::Sub'], role).toMatch(/:(service|task-set)\/shop\/(web|api-\*)(\/\*)?$/);
    }
    for (const { role, s } of st.filter(({ s }) => actionsOf(s).some((a) => /^elasticloadbalancing:Modify/.test(a)))) {
      for (const r of asList(s.Resource))
        expect(r['Fn::Sub'], role).toMatch(/:listener(-rule)?\/(app|net)\/shop-\*\/\*$/);
    }
    const grants = (role: string) => new Set(st.filter((x) => x.role === role).flatMap(({ s }) => actionsOf(s)));
    expect(grants('RunActionRole')).toContain('ecs:CreateTaskSet');
    expect(grants('RunActionRole')).toContain('elasticloadbalancing:ModifyRule');
    expect(grants('RollbackDeploymentRole')).toContain('ecs:DeleteTaskSet');
    expect(grants('ApiRole')).not.toContain('lambda:UpdateAlias');
  });
});

describe('resources', () => {
  it('the table: on-demand, point-in-time recovery, and every index the store queries', () => {
    const t = template.Resources.CutoverTable;
    expect(t.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(t.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(t.DeletionPolicy).toBe('Retain');
    const indexes = (t.Properties.GlobalSecondaryIndexes as Json[]).map((i) => i.IndexName);
    const store = readFileSync('src/adapters/aws/dynamodb-store.ts', 'utf8');
    const queried = new Set([...store.matchAll(/IndexName: '([^']+)'/g)].map((m) => m[1]));
    expect(queried.size).toBeGreaterThan(0);
    for (const i of queried) expect(indexes).toContain(i);
  });

  it('the EventBridge rule sends CloudWatch Alarm State Change (ALARM) to alarmListener', () => {
    const rules = ofType(template, 'AWS::Events::Rule').filter(([, r]) =>
      r.Properties.EventPattern?.['detail-type']?.includes('CloudWatch Alarm State Change'),
    );
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0]!;
    expect(rule.Properties.EventPattern.source).toEqual(['aws.cloudwatch']);
    expect(rule.Properties.EventPattern.detail.state.value).toEqual(['ALARM']);
    expect(rule.Properties.Targets.map((x: Json) => x.Arn['Fn::GetAtt'][0])).toEqual(['AlarmListenerLambdaFunction']);
  });

  it("the deployment machine's executions that end unrecorded (ABORTED, TIMED_OUT, FAILED) go to executionEnded", () => {
    const rules = ofType(template, 'AWS::Events::Rule').filter(([, r]) =>
      r.Properties.EventPattern?.['detail-type']?.includes('Step Functions Execution Status Change'),
    );
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0]!;
    expect(rule.Properties.EventPattern.source).toEqual(['aws.states']);
    expect(rule.Properties.EventPattern.detail.status).toEqual(['ABORTED', 'TIMED_OUT', 'FAILED']);
    // Only this stack's machine: its ARN, built from the same name as the machine's.
    expect(JSON.stringify(rule.Properties.EventPattern.detail.stateMachineArn)).toContain(
      `:stateMachine:cutover-ci-deployment`,
    );
    expect(rule.Properties.Targets.map((x: Json) => x.Arn['Fn::GetAtt'][0])).toEqual(['ExecutionEndedLambdaFunction']);
  });

  it('the API requires IAM, except POST /hooks (PutLifecycleEventHookExecutionStatus only, by hook execution id)', () => {
    const methods = ofType(template, 'AWS::ApiGateway::Method');
    expect(methods.length).toBeGreaterThan(0);
    const paths = Object.fromEntries(
      ofType(template, 'AWS::ApiGateway::Resource').map(([id, r]) => [id, r.Properties.PathPart]),
    );
    const open = methods.filter(([, m]) => m.Properties.AuthorizationType !== 'AWS_IAM');
    expect(
      open.map(([, m]) => [
        m.Properties.HttpMethod,
        paths[m.Properties.ResourceId.Ref],
        m.Properties.AuthorizationType,
      ]),
    ).toEqual([['POST', 'hooks', 'NONE']]);
    // /hooks goes to its own function, which serves only the callback and may use only what it declares.
    const [, hooksMethod] = open[0]!;
    expect(JSON.stringify(hooksMethod.Properties.Integration.Uri)).toContain('HookCallbackLambdaFunction');
    const grants = statements(template)
      .filter(({ role }) => role === 'HookCallbackRole')
      .flatMap(({ s }) => actionsOf(s))
      .filter((a) => !a.startsWith('logs:'));
    expect(new Set(grants)).toEqual(
      new Set([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'states:SendTaskSuccess',
        'states:SendTaskFailure',
      ]),
    );
  });

  it('the revision bucket: created (versioned, private) with the prefix trigger, or an existing one by name', () => {
    const [, bucket] = ofType(template, 'AWS::S3::Bucket').find(
      ([, b]) => b.Properties.BucketName === `${SERVICE}-${STAGE}-revisions`,
    )!;
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties.PublicAccessBlockConfiguration.RestrictPublicBuckets).toBe(true);
    const [n] = bucket.Properties.NotificationConfiguration.LambdaConfigurations;
    expect(n.Function['Fn::GetAtt'][0]).toBe('S3TriggerLambdaFunction');
    expect(n.Filter.S3Key.Rules).toEqual([{ Name: 'prefix', Value: 'revisions/' }]);

    expect(ofType(existingBucket, 'AWS::S3::Bucket').map(([, b]) => b.Properties.BucketName)).not.toContain(
      `${SERVICE}-${STAGE}-revisions`,
    );
    const [[, custom]] = ofType(existingBucket, 'Custom::S3') as [[string, Json]];
    expect(custom.Properties.BucketName).toBe(`${SERVICE}-${STAGE}-revisions`);
    expect(custom.Properties.BucketConfigs).toEqual([
      { Event: 's3:ObjectCreated:*', Rules: [{ Prefix: 'revisions/' }] },
    ]);
  });

  it('the SNS topic, and the optional event bus (created only when asked, and named in the functions’ env)', () => {
    expect(ofType(template, 'AWS::SNS::Topic').map(([, x]) => x.Properties.TopicName)).toEqual([
      `${SERVICE}-${STAGE}-alarms`,
      `${SERVICE}-${STAGE}-notifications`,
    ]);
    expect(template.Resources.OutcomesEventBus.Condition).toBe('CreateEventBus');
    expect(template.Conditions.CreateEventBus).toEqual({ 'Fn::Equals': ['false', 'true'] });
    expect(existingBucket.Conditions.CreateEventBus).toEqual({ 'Fn::Equals': ['true', 'true'] });
    expect(existingBucket.Resources.OutcomesEventBus.Properties.Name).toBe('cutover-ci-outcomes');
    for (const [, f] of ofType(existingBucket, 'AWS::Lambda::Function')) {
      if (f.Properties.Environment)
        expect(f.Properties.Environment.Variables.CUTOVER_EVENT_BUS).toBe('cutover-ci-outcomes');
    }
    const put = statements(existingBucket).filter(({ s }) => actionsOf(s).includes('events:PutEvents'));
    for (const { s } of put) expect(s.Resource['Fn::Sub']).toMatch(/:event-bus\/cutover-ci-outcomes$/);
  });
});

describe('per-operation authorisation (docs/adr/0024)', () => {
  it('POST / stays one IAM-authorised route; the api function may ask IAM about this account’s principals only', () => {
    const api = statements(template).filter(({ role }) => role === 'ApiRole');
    const iam = api.filter(({ s }) => actionsOf(s).some((a) => a.startsWith('iam:')));
    expect(new Set(iam.flatMap(({ s }) => actionsOf(s)))).toEqual(
      new Set(['iam:SimulatePrincipalPolicy', 'iam:GetRole']),
    );
    for (const { s } of iam)
      for (const r of asList(s.Resource))
        expect(r['Fn::Sub']).toMatch(/^arn:\$\{AWS::Partition\}:iam::\$\{AWS::AccountId\}:(user|role)\/\*$/);
    // No other function may simulate or read IAM.
    const others = statements(template).filter(
      ({ role, s }) => role !== 'ApiRole' && actionsOf(s).some((a) => a.startsWith('iam:') && a !== 'iam:PassRole'),
    );
    expect(others).toEqual([]);
  });
});

describe('the stack under abuse', () => {
  const deployment = (t: Json) => ofType(t, 'AWS::ApiGateway::Deployment')[0]![1];

  it('the API stage is throttled, /hooks more tightly, with an access log that has retention', () => {
    const stage = deployment(template).Properties.StageDescription;
    expect(stage.ThrottlingRateLimit).toBe(50);
    expect(stage.ThrottlingBurstLimit).toBe(100);
    expect(stage.MethodSettings).toEqual([
      expect.objectContaining({
        ResourcePath: '/~1hooks',
        HttpMethod: 'POST',
        ThrottlingRateLimit: 10,
        ThrottlingBurstLimit: 20,
      }),
    ]);
    expect(stage.AccessLogSetting.DestinationArn).toEqual({ 'Fn::GetAtt': ['ApiAccessLogGroup', 'Arn'] });
    expect(JSON.parse(stage.AccessLogSetting.Format)).toMatchObject({ caller: '$context.identity.userArn' });
    expect(template.Resources.ApiAccessLogGroup.Properties.RetentionInDays).toBeGreaterThan(0);
    expect(template.Resources.ApiGatewayAccount.Condition).toBe('ManageApiGatewayAccount');
  });

  it('the api and hookCallback functions have reserved concurrency, so a flood leaves the engine its capacity', () => {
    expect(template.Resources.ApiLambdaFunction.Properties.ReservedConcurrentExecutions).toBe(20);
    expect(template.Resources.HookCallbackLambdaFunction.Properties.ReservedConcurrentExecutions).toBe(5);
  });

  it('alarms on failed and timed-out executions, every function’s errors and the failure queue, and a dashboard', () => {
    const alarms = ofType(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const metric = (ns: string, name: string) => alarms.filter((a) => a.Namespace === ns && a.MetricName === name);
    expect(metric('AWS/States', 'ExecutionsFailed')).toHaveLength(1);
    expect(metric('AWS/States', 'ExecutionsTimedOut')).toHaveLength(1);
    expect(metric('AWS/SQS', 'ApproximateNumberOfMessagesVisible')[0]?.Dimensions).toEqual([
      { Name: 'QueueName', Value: { 'Fn::GetAtt': ['AsyncFailuresQueue', 'QueueName'] } },
    ]);
    const functions = ofType(template, 'AWS::Lambda::Function').map(([, f]) => f.Properties.FunctionName);
    const watched = metric('AWS/Lambda', 'Errors').map((a) => a.Dimensions[0].Value);
    expect(watched.sort()).toEqual(functions.sort());
    for (const a of alarms) expect(a.AlarmActions).toEqual([{ Ref: 'CutoverAlarmsTopic' }]);
    const [[, dash]] = ofType(template, 'AWS::CloudWatch::Dashboard') as [[string, Json]];
    const body = JSON.parse(dash.Properties.DashboardBody['Fn::Sub'][0]);
    expect(body.widgets.map((w: Json) => w.properties.title)).toEqual([
      'Deployment executions',
      'Function errors',
      'Async failures queue',
      'API requests and errors',
    ]);
  });

  it('the revision bucket denies non-TLS access and expires replaced versions', () => {
    const bucket = template.Resources.S3BucketRevisions.Properties;
    expect(bucket.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ Status: 'Enabled', NoncurrentVersionExpirationInDays: 30 }),
    ]);
    const policy = template.Resources.RevisionBucketPolicy;
    expect(policy.Condition).toBe('CreateRevisionBucket');
    expect(policy.Properties.Bucket).toEqual({ Ref: 'S3BucketRevisions' });
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    ]);
    expect(existingBucket.Conditions.CreateRevisionBucket).toEqual({ 'Fn::Equals': ['true', 'false'] });
  });

  it('SNS topics and every log group take the optional KMS key; publishers may use it', () => {
    const noKey = template.Conditions.HasKmsKey;
    expect(noKey).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    expect(existingBucket.Conditions.HasKmsKey).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [KMS_KEY, ''] }] });
    for (const [id, g] of ofType(existingBucket, 'AWS::Logs::LogGroup'))
      expect(g.Properties.KmsKeyId, id).toEqual({ 'Fn::If': ['HasKmsKey', KMS_KEY, { Ref: 'AWS::NoValue' }] });
    for (const [id, topic] of ofType(existingBucket, 'AWS::SNS::Topic'))
      expect(topic.Properties.KmsMasterKeyId, id).toEqual({
        'Fn::If': ['HasKmsKey', KMS_KEY, { Ref: 'AWS::NoValue' }],
      });
    const kms = statements(existingBucket).filter(({ s }) => actionsOf(s).includes('kms:GenerateDataKey'));
    expect(kms.length).toBeGreaterThan(0);
    for (const { s } of kms) expect(s.Resource).toBe(KMS_KEY);
    expect(statements(template).filter(({ s }) => actionsOf(s).some((a) => a.startsWith('kms:')))).toEqual([]);
  });
});
