/** Pure domain rules: AppSpec parsing, the planner (property tests), traffic, alarms, outcomes, notifications. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_APPSPEC_BYTES } from '../../src/domain/appspec.js';
import { parseLambdaAppSpec } from '../../src/platforms/lambda/appspec.js';
import { evaluateAlarms, verdictStops } from '../../src/domain/alarms.js';
import {
  MAX_SHIFT_SECONDS,
  MAX_STEPS,
  PREDEFINED_LAMBDA_CONFIGS,
  configNameIssues,
  parseDuration,
  plan,
  stepListConfig,
  trafficRoutingIssues,
  type TrafficRoutingConfig,
} from '../../src/domain/deployment-config.js';
import { InvalidInputError } from '../../src/domain/errors.js';
import type { Deployment, DeploymentGroup } from '../../src/domain/model.js';
import {
  eventBridgeEntry,
  instanceEventBridgeEntry,
  instanceTriggerMessages,
  triggerMessages,
} from '../../src/domain/notifications.js';
import { classifyFailure, shouldRollback } from '../../src/domain/outcome.js';
import { routingFor, sameRouting, targetWeightOf } from '../../src/platforms/lambda/traffic.js';

const issuesOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidInputError) return e;
  }
  throw new Error('expected InvalidInputError');
};

describe('Lambda AppSpec', () => {
  const yaml = `version: 0.0
Resources:
  - myFunction:
      Type: AWS::Lambda::Function
      Properties:
        Name: "my-function"
        Alias: "live"
        CurrentVersion: "7"
        TargetVersion: "8"
Hooks:
  - BeforeAllowTraffic: "CodeDeployHook_preTraffic"
  - AfterAllowTraffic: "CodeDeployHook_postTraffic"
`;
  it('parses CodeDeploy’s example (YAML) and the same in JSON with lower-case keys and numeric versions', () => {
    const a = parseLambdaAppSpec(yaml);
    expect(a).toEqual({
      functions: [
        {
          logicalName: 'myFunction',
          functionName: 'my-function',
          alias: 'live',
          currentVersion: '7',
          targetVersion: '8',
        },
      ],
      hooks: { BeforeAllowTraffic: 'CodeDeployHook_preTraffic', AfterAllowTraffic: 'CodeDeployHook_postTraffic' },
      noop: false,
    });
    const json = JSON.stringify({
      version: '0.0',
      resources: [
        {
          myFunction: {
            type: 'AWS::Lambda::Function',
            properties: { name: 'my-function', alias: 'live', currentversion: 7, targetversion: 8 },
          },
        },
      ],
    });
    expect(parseLambdaAppSpec(json).functions).toEqual(a.functions);
  });

  it('CurrentVersion == TargetVersion is a no-op, not an error', () => {
    expect(parseLambdaAppSpec(yaml.replace('"8"', '"7"')).noop).toBe(true);
  });

  it('reports every problem at once with its path, never a stack trace', () => {
    const bad = `version: 1.0
Resources:
  - api:
      Type: AWS::Lambda::Function
      Properties:
        Name: api
        Alias: live
        CurrentVersion: $LATEST
  - api2:
      Type: AWS::Lambda::Function
      Properties: { Name: api, Alias: live, CurrentVersion: "1", TargetVersion: "2" }
  - api3:
      Type: AWS::Lambda::Function
      Properties: { Name: api, Alias: live, CurrentVersion: "1", TargetVersion: "3" }
Hooks:
  - BeforeTraffic: x
`;
    const e = issuesOf(() => parseLambdaAppSpec(bad));
    expect(e.exceptionName).toBe('InvalidRevisionException');
    expect(e.issues.map((i) => i.path)).toEqual([
      'version',
      'Resources[0].api.Properties.CurrentVersion',
      'Resources[0].api.Properties.TargetVersion',
      'Resources[1].api2',
      'Resources[2].api3',
      'Hooks[0].BeforeTraffic',
    ]);
    expect(e.message).toContain('Resources[0].api.Properties.TargetVersion: required');
    expect(e.message).not.toMatch(/\n\s+at /);
  });

  it('malformed or oversize documents name the problem', () => {
    expect(issuesOf(() => parseLambdaAppSpec('version: [')).message).toMatch(/not valid YAML/);
    expect(issuesOf(() => parseLambdaAppSpec('{"version": ')).message).toMatch(/not valid JSON/);
    expect(issuesOf(() => parseLambdaAppSpec('x'.repeat(MAX_APPSPEC_BYTES + 1))).message).toMatch(/larger than/);
    expect(issuesOf(() => parseLambdaAppSpec('version: 0.0\n')).issues[0]?.path).toBe('Resources');
  });
});

describe('deployment configurations', () => {
  it('predefined configurations plan to CodeDeploy’s schedules', () => {
    const w = (name: string) => plan(PREDEFINED_LAMBDA_CONFIGS[name]!).steps.map((s) => [s.weight, s.bakeSeconds]);
    expect(w('CodeDeployDefault.LambdaAllAtOnce')).toEqual([[100, 0]]);
    expect(w('CodeDeployDefault.LambdaCanary10Percent5Minutes')).toEqual([
      [10, 300],
      [100, 0],
    ]);
    expect(w('CodeDeployDefault.LambdaCanary10Percent30Minutes')).toEqual([
      [10, 1800],
      [100, 0],
    ]);
    expect(w('CodeDeployDefault.LambdaLinear10PercentEvery1Minute')).toEqual([
      ...[10, 20, 30, 40, 50, 60, 70, 80, 90].map((p) => [p, 60]),
      [100, 0],
    ]);
    expect(Object.keys(PREDEFINED_LAMBDA_CONFIGS)).toHaveLength(9);
  });

  const validConfig: fc.Arbitrary<TrafficRoutingConfig> = fc.oneof(
    fc.constant({ type: 'AllAtOnce' as const }),
    fc.record({ p: fc.integer({ min: 1, max: 99 }), i: fc.integer({ min: 1, max: 2880 }) }).map(({ p, i }) => ({
      type: 'TimeBasedCanary' as const,
      timeBasedCanary: { canaryPercentage: p, canaryInterval: i },
    })),
    fc
      .record({ p: fc.integer({ min: 1, max: 99 }), i: fc.integer({ min: 1, max: 2880 }) })
      .filter(({ p, i }) => (Math.ceil(100 / p) - 1) * i <= 2880)
      .map(({ p, i }) => ({
        type: 'TimeBasedLinear' as const,
        timeBasedLinear: { linearPercentage: p, linearInterval: i },
      })),
    fc.uniqueArray(fc.integer({ min: 1, max: 9999 }), { minLength: 0, maxLength: 20 }).chain((hundredths) =>
      fc
        .array(fc.integer({ min: 0, max: 3600 }), { minLength: hundredths.length, maxLength: hundredths.length })
        .map((bakes) => ({
          type: 'StepList' as const,
          stepList: {
            steps: [
              ...[...hundredths].sort((a, b) => a - b).map((h, i) => ({ percentage: h / 100, bakeSeconds: bakes[i]! })),
              { percentage: 100, bakeSeconds: 0 },
            ],
          },
        })),
    ),
  );

  it('property: every valid configuration plans to increasing weights ending at 100% within the limits', () => {
    fc.assert(
      fc.property(validConfig, (trc) => {
        expect(trafficRoutingIssues(trc)).toEqual([]);
        const p = plan(trc);
        const weights = p.steps.map((s) => s.weight);
        for (let i = 1; i < weights.length; i++) expect(weights[i]!).toBeGreaterThan(weights[i - 1]!);
        expect(p.steps.at(-1)).toEqual({ kind: 'shift', weight: 100, bakeSeconds: 0 });
        expect(weights.every((w) => w > 0 && w <= 100)).toBe(true);
        expect(p.totalBakeSeconds).toBe(p.steps.reduce((t, s) => t + s.bakeSeconds, 0));
        expect(p.totalBakeSeconds).toBeLessThanOrEqual(MAX_SHIFT_SECONDS);
        expect(p.steps.length).toBeLessThanOrEqual(MAX_STEPS);
      }),
      { numRuns: 500 },
    );
  });

  const invalidConfig: fc.Arbitrary<unknown> = fc.oneof(
    fc
      .record({
        p: fc.oneof(
          fc.constant(0),
          fc.integer({ min: 100, max: 1000 }),
          fc.double({ min: 1.01, max: 98.99, noInteger: true }),
        ),
        i: fc.integer({ min: 1, max: 10 }),
      })
      .map(({ p, i }) => ({
        type: 'TimeBasedCanary',
        timeBasedCanary: { canaryPercentage: p, canaryInterval: i },
      })),
    fc
      .integer({ min: 1, max: 99 })
      .map((p) => ({ type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: p, linearInterval: 0 } })),
    fc.integer({ min: 2, max: 99 }).map((p) => ({
      type: 'StepList',
      stepList: {
        steps: [
          { percentage: p, bakeSeconds: 60 },
          { percentage: p - 1, bakeSeconds: 60 },
          { percentage: 100, bakeSeconds: 0 },
        ],
      },
    })),
    fc
      .integer({ min: 1, max: 99 })
      .map((p) => ({ type: 'StepList', stepList: { steps: [{ percentage: p, bakeSeconds: 60 }] } })),
    fc
      .integer({ min: 1, max: 600 })
      .map((b) => ({ type: 'StepList', stepList: { steps: [{ percentage: 100, bakeSeconds: b }] } })),
    fc.constant({
      type: 'StepList',
      stepList: {
        steps: [
          { percentage: 50, bakeSeconds: MAX_SHIFT_SECONDS + 1 },
          { percentage: 100, bakeSeconds: 0 },
        ],
      },
    }),
    fc.constant({ type: 'Blue/Green' }),
  );

  it('property: every invalid configuration is rejected with a path', () => {
    fc.assert(
      fc.property(invalidConfig, (trc) => {
        const issues = trafficRoutingIssues(trc);
        expect(issues.length).toBeGreaterThan(0);
        expect(issues.every((i) => i.path.startsWith('trafficRoutingConfig'))).toBe(true);
        expect(() => plan(trc as TrafficRoutingConfig)).toThrow(InvalidInputError);
      }),
      { numRuns: 300 },
    );
  });

  it('step lists: text form, fractional percentages, durations; bad parts named by index', () => {
    const trc = stepListConfig('1% 5m, 10% 10m, 50% 10m, 100%');
    expect(plan(trc).steps.map((s) => [s.weight, s.bakeSeconds])).toEqual([
      [1, 300],
      [10, 600],
      [50, 600],
      [100, 0],
    ]);
    expect(plan(stepListConfig('0.5% 90s, 100%')).steps[0]).toEqual({ kind: 'shift', weight: 0.5, bakeSeconds: 90 });
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('soon')).toBeUndefined();
    const e = issuesOf(() => stepListConfig('10% 5x, ten, 100%'));
    expect(e.issues.map((i) => i.path)).toEqual(['steps[0]', 'steps[1]']);
    expect(configNameIssues('CodeDeployDefault.Mine')[0]?.message).toMatch(/must not start with/);
    expect(configNameIssues('has space')).toHaveLength(1);
    expect(configNameIssues('Fine_Name-1.2')).toEqual([]);
  });
});

describe('traffic, alarms, outcomes', () => {
  const f = { logicalName: 'a', functionName: 'api', alias: 'live', currentVersion: '1', targetVersion: '2' };
  it('routing for a weight, compared with tolerance, and read back as a weight', () => {
    expect(routingFor(f, 0)).toEqual({ functionVersion: '1', additionalVersionWeights: {} });
    expect(routingFor(f, 12.5)).toEqual({ functionVersion: '1', additionalVersionWeights: { '2': 0.125 } });
    expect(routingFor(f, 100)).toEqual({ functionVersion: '2', additionalVersionWeights: {} });
    expect(routingFor({ ...f, targetVersion: '1' }, 40)).toEqual({
      functionVersion: '1',
      additionalVersionWeights: {},
    });
    expect(
      sameRouting(routingFor(f, 10), { functionVersion: '1', additionalVersionWeights: { '2': 0.1000000001 } }),
    ).toBe(true);
    expect(sameRouting(routingFor(f, 10), routingFor(f, 11))).toBe(false);
    expect(targetWeightOf(f, routingFor(f, 12.5))).toBe(12.5);
    expect(targetWeightOf(f, { functionVersion: '5', additionalVersionWeights: {} })).toBeUndefined();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10000 }), (h) => {
        expect(targetWeightOf(f, routingFor(f, h / 100))).toBe(h / 100);
      }),
    );
  });

  it('alarm verdicts', () => {
    const cfg = { enabled: true, ignorePollAlarmFailure: false, alarms: [{ name: 'a' }, { name: 'b' }] };
    expect(
      evaluateAlarms(cfg, [
        { name: 'a', state: 'OK' },
        { name: 'b', state: 'INSUFFICIENT_DATA' },
      ]).phase,
    ).toBe('Healthy');
    expect(
      evaluateAlarms(cfg, [
        { name: 'a', state: 'ALARM' },
        { name: 'b', state: 'OK' },
      ]),
    ).toMatchObject({ phase: 'Breached', alarms: ['a'] });
    expect(evaluateAlarms(cfg, [{ name: 'a', state: 'OK' }])).toMatchObject({ phase: 'Unknown', missing: ['b'] });
    const failed = evaluateAlarms(cfg, undefined, 'throttled');
    expect(verdictStops(cfg, failed)).toBe(true);
    expect(verdictStops({ ...cfg, ignorePollAlarmFailure: true }, failed)).toBe(false);
    expect(evaluateAlarms({ ...cfg, enabled: false }, undefined).phase).toBe('Healthy');
  });

  it('failures map to CodeDeploy error codes and statuses; rollback follows the configuration', () => {
    expect(classifyFailure({ Error: 'AlarmActiveError', Cause: 'Alarm x in ALARM' })).toEqual({
      kind: 'alarm',
      status: 'Stopped',
      errorInformation: { code: 'ALARM_ACTIVE', message: 'Alarm x in ALARM' },
    });
    const aws = classifyFailure({
      Error: 'HookFailedError',
      Cause: JSON.stringify({ errorType: 'HookFailedError', errorMessage: 'hook said no', trace: [] }),
    });
    expect(aws.errorInformation).toEqual({ code: 'HOOK_EXECUTION_FAILURE', message: 'hook said no' });
    expect(classifyFailure({ Error: 'HookTimedOutError' }).errorInformation.code).toBe('HOOK_EXECUTION_FAILURE');
    expect(
      classifyFailure({ Error: 'DependencyRejectedError', Cause: 'UpdateAlias: AccessDeniedException: no' })
        .errorInformation.code,
    ).toBe('IAM_ROLE_PERMISSIONS');
    expect(classifyFailure({ Error: 'DeploymentStoppedError' })).toMatchObject({
      kind: 'stop',
      status: 'Stopped',
      errorInformation: { code: 'MANUAL_STOP' },
    });
    expect(classifyFailure({ Error: 'Lambda.Unknown', Cause: 'boom' })).toMatchObject({
      status: 'Failed',
      errorInformation: { code: 'INTERNAL_ERROR' },
    });
    const cfg = { enabled: true, events: ['DEPLOYMENT_STOP_ON_ALARM' as const] };
    expect(shouldRollback('alarm', cfg)).toBe(true);
    expect(shouldRollback('failure', cfg)).toBe(false);
    expect(shouldRollback('alarm', { ...cfg, enabled: false })).toBe(false);
  });
});

describe('notifications in CodeDeploy’s shapes', () => {
  const env = { region: 'us-east-1', accountId: '111122223333', eventSource: 'cutover' };
  const d = {
    deploymentId: 'd-75I7MBT7C',
    spec: {
      applicationName: 'App',
      deploymentGroupName: 'DG',
      deploymentGroupId: 'g-1',
      createTime: '2015-11-05T17:23:08.595Z',
      target: { functions: [{}] },
    },
    state: {
      status: 'Failed',
      completeTime: '2015-11-05T17:23:10.402Z',
      errorInformation: { code: 'ALARM_ACTIVE', message: 'm' },
    },
  } as unknown as Deployment;
  it('EventBridge detail has exactly CodeDeploy’s keys', () => {
    const e = eventBridgeEntry(env, d, 'FAILURE', new Date(0));
    expect(e.DetailType).toBe('CodeDeploy Deployment State-change Notification');
    expect(e.Source).toBe('cutover');
    expect(e.Resources).toEqual([
      'arn:aws:codedeploy:us-east-1:111122223333:application:App',
      'arn:aws:codedeploy:us-east-1:111122223333:deploymentgroup:App/DG',
    ]);
    expect(JSON.parse(e.Detail)).toEqual({
      instanceGroupId: 'g-1',
      region: 'us-east-1',
      application: 'App',
      deploymentId: 'd-75I7MBT7C',
      state: 'FAILURE',
      deploymentGroup: 'DG',
    });
  });
  it('SNS trigger JSON only for subscribed triggers, times as epoch strings', () => {
    const group = {
      triggerConfigurations: [
        {
          triggerName: 'fail',
          triggerTargetArn: 'arn:aws:sns:us-east-1:111122223333:t',
          triggerEvents: ['DeploymentFailure'],
        },
        {
          triggerName: 'start',
          triggerTargetArn: 'arn:aws:sns:us-east-1:111122223333:u',
          triggerEvents: ['DeploymentStart'],
        },
      ],
    } as unknown as DeploymentGroup;
    const msgs = triggerMessages(env, group, d, 'DeploymentFailure', 1);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.topicArn).toBe('arn:aws:sns:us-east-1:111122223333:t');
    expect(JSON.parse(msgs[0]!.message)).toMatchObject({
      eventTriggerName: 'fail',
      createTime: '1446744188.595',
      completeTime: '1446744190.402',
      status: 'Failed',
      deploymentOverview: { Failed: '1', Succeeded: '0' },
      errorInformation: { ErrorCode: 'ALARM_ACTIVE', ErrorMessage: 'm' },
    });
  });

  it('instance events: EventBridge with the instance ARN, SNS instance triggers in CodeDeploy’s shape', () => {
    const host = {
      targetId: 'i-0abc',
      kind: 'EC2' as const,
      status: 'Succeeded',
      lastUpdatedAt: '2015-11-05T17:23:27.564Z',
      lifecycleEvents: [
        {
          lifecycleEventName: 'ApplicationStop',
          status: 'Succeeded',
          startTime: '2015-11-05T17:23:08.595Z',
          endTime: '2015-11-05T17:23:08.711Z',
        },
        { lifecycleEventName: 'DownloadBundle', status: 'Pending' },
      ],
    };
    const e = instanceEventBridgeEntry(env, d, host, 'SUCCESS', new Date(0));
    expect(e.DetailType).toBe('CodeDeploy Instance State-change Notification');
    expect(e.Resources[2]).toBe('arn:aws:ec2:us-east-1:111122223333:instance/i-0abc');
    expect(JSON.parse(e.Detail)).toEqual({
      instanceGroupId: 'g-1',
      instanceId: 'i-0abc',
      region: 'us-east-1',
      application: 'App',
      deploymentId: 'd-75I7MBT7C',
      state: 'SUCCESS',
      deploymentGroup: 'DG',
    });
    const group = {
      triggerConfigurations: [
        {
          triggerName: 'hosts',
          triggerTargetArn: 'arn:aws:sns:us-east-1:111122223333:h',
          triggerEvents: ['InstanceSuccess'],
        },
        {
          triggerName: 'deploys',
          triggerTargetArn: 'arn:aws:sns:us-east-1:111122223333:d',
          triggerEvents: ['DeploymentSuccess'],
        },
      ],
    } as unknown as DeploymentGroup;
    const msgs = instanceTriggerMessages(env, group, d, 'InstanceSuccess', host);
    expect(msgs.map((m) => m.topicArn)).toEqual(['arn:aws:sns:us-east-1:111122223333:h']);
    expect(JSON.parse(msgs[0]!.message)).toEqual({
      region: 'us-east-1',
      accountId: '111122223333',
      eventTriggerName: 'hosts',
      deploymentId: 'd-75I7MBT7C',
      instanceId: 'arn:aws:ec2:us-east-1:111122223333:instance/i-0abc',
      lastUpdatedAt: '1446744207.564',
      instanceStatus: 'Succeeded',
      lifecycleEvents: [
        {
          LifecycleEvent: 'ApplicationStop',
          LifecycleEventStatus: 'Succeeded',
          StartTime: '1446744188.595',
          EndTime: '1446744188.711',
        },
        { LifecycleEvent: 'DownloadBundle', LifecycleEventStatus: 'Pending' },
      ],
    });
    const onPrem = instanceTriggerMessages(env, group, d, 'InstanceSuccess', {
      ...host,
      kind: 'OnPremises',
      targetId: 'rack-7',
    });
    expect(JSON.parse(onPrem[0]!.message).instanceId).toBe('arn:aws:codedeploy:us-east-1:111122223333:instance/rack-7');
  });
});
