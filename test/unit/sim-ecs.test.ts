/**
 * The SimWorld's ECS and ELB: task set steadiness, weighted listeners, per-task-definition errors, alarms,
 * faults, persistence, the world file.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SimEcsServices, SimLoadBalancers } from '../../src/adapters/sim/adapters.js';
import { SimWorld, type SimWorldSpec } from '../../src/adapters/sim/world.js';
import { parseWorldFile } from '../../src/config/world-file.js';
import { forwardWeightsFor } from '../../src/platforms/ecs/domain.js';
import {
  DependencyRejectedError,
  DependencyUnavailableError,
  InvalidInputError,
  PreconditionFailedError,
} from '../../src/domain/errors.js';
import type { TaskSetSpec } from '../../src/platforms/ecs/ports.js';
import { ManualClock } from '../support/manual-clock.js';

const SPEC: SimWorldSpec = {
  ecs: {
    taskDefinitions: {
      'web:1': { errorRate: 0 },
      'web:2': { errorRate: 0, steadyAfterSeconds: 30 },
      'web:3': { errorRate: 0.5 },
      'web:4': { steadyAfterSeconds: 'never' },
    },
    loadBalancers: [
      {
        name: 'web-alb',
        targetGroups: ['web-blue', 'web-green'],
        listeners: [
          { name: 'prod', port: 80, forwardTo: 'web-blue', requestsPerSecond: 100 },
          { name: 'test', port: 8080, forwardTo: 'web-blue', requestsPerSecond: 5 },
        ],
      },
      {
        name: 'web-nlb',
        type: 'network',
        targetGroups: ['tcp-blue', 'tcp-green'],
        listeners: [{ name: 'tcp', port: 443, forwardTo: 'tcp-blue' }],
      },
    ],
    services: [
      { cluster: 'demo', name: 'web', desiredCount: 4, taskDefinition: 'web:1', targetGroup: 'web-blue' },
      {
        cluster: 'demo',
        name: 'legacy',
        desiredCount: 2,
        taskDefinition: 'web:1',
        targetGroup: 'tcp-blue',
        deploymentController: 'ECS',
      },
    ],
  },
  alarms: [
    { name: 'green-5xx', targetGroup: 'web-green', threshold: 2 },
    { name: 'prod-5xx', listener: 'web-alb/prod', threshold: 2 },
  ],
};

function world() {
  const clock = new ManualClock();
  const w = new SimWorld(clock, structuredClone(SPEC));
  return { clock, w, ecs: new SimEcsServices(w), elb: new SimLoadBalancers(w) };
}

const green = (w: SimWorld, taskDefinition: string, externalId = 'd-AAAAAAAAA'): TaskSetSpec => ({
  taskDefinition,
  externalId,
  targetGroupArn: w.targetGroupArn('web-green'),
  containerName: 'web',
  containerPort: 8080,
  scalePercent: 100,
});

describe('SimWorld ECS: task sets', () => {
  it('names resources with deterministic ARNs and accepts listener refs', () => {
    const { w } = world();
    expect(w.targetGroupArn('web-blue')).toMatch(
      /^arn:aws:elasticloadbalancing:local:000000000000:targetgroup\/web-blue\/[0-9a-f]{16}$/,
    );
    const prod = w.listenerArn('web-alb/prod');
    expect(prod).toMatch(
      /^arn:aws:elasticloadbalancing:local:000000000000:listener\/app\/web-alb\/[0-9a-f]{16}\/[0-9a-f]{16}$/,
    );
    expect(w.listenerArn(prod)).toBe(prod);
    expect(w.listenerArn('web-nlb/tcp')).toMatch(/listener\/net\/web-nlb\//);
    expect(world().w.listenerArn('web-alb/prod')).toBe(prod);
    expect(() => w.listenerArn('web-alb/nope')).toThrow(/no listener/);
  });

  it('a service starts with one PRIMARY steady task set; a new one stabilizes over simulated time', async () => {
    const { clock, w, ecs } = world();
    const before = await ecs.describeService('demo', 'web');
    expect(before).toMatchObject({
      deploymentController: 'EXTERNAL',
      desiredCount: 4,
      status: 'ACTIVE',
      serviceArn: 'arn:aws:ecs:local:000000000000:service/demo/web',
    });
    expect(before.taskSets).toEqual([
      expect.objectContaining({
        status: 'PRIMARY',
        stabilityStatus: 'STEADY_STATE',
        taskDefinition: 'arn:aws:ecs:local:000000000000:task-definition/web:1',
        runningCount: 4,
      }),
    ]);

    // An AppSpec names the task definition by its full ARN (any region/account).
    const created = await ecs.createTaskSet(
      'demo',
      'web',
      green(w, 'arn:aws:ecs:us-east-1:111122223333:task-definition/web:2'),
    );
    expect(created).toMatchObject({
      status: 'ACTIVE',
      stabilityStatus: 'STABILIZING',
      externalId: 'd-AAAAAAAAA',
      runningCount: 0,
      pendingCount: 4,
      computedDesiredCount: 4,
      scalePercent: 100,
    });
    expect(created.id).toMatch(/^ecs-svc\/\d{19}$/);
    expect(created.taskSetArn).toBe(`arn:aws:ecs:local:000000000000:task-set/demo/web/${created.id}`);
    expect(created.targetGroupArns).toEqual([w.targetGroupArn('web-green')]);

    // The same client token (the deployment id) finds the same task set again.
    expect((await ecs.createTaskSet('demo', 'web', green(w, 'web:2'))).id).toBe(created.id);
    expect((await ecs.describeService('demo', 'web')).taskSets).toHaveLength(2);

    clock.advance(29);
    expect((await ecs.describeService('demo', 'web')).taskSets[1]!.stabilityStatus).toBe('STABILIZING');
    clock.advance(1);
    expect((await ecs.describeService('demo', 'web')).taskSets[1]).toMatchObject({
      stabilityStatus: 'STEADY_STATE',
      runningCount: 4,
      pendingCount: 0,
    });
    w.catchUp();
    expect(w.log.filter((e) => e.kind === 'TaskSet').map((e) => e.detail.event)).toEqual(['created', 'steady']);

    await ecs.updateServicePrimaryTaskSet('demo', 'web', created.id);
    const blue = before.taskSets[0]!;
    const after = await ecs.describeService('demo', 'web');
    expect(after.taskSets.map((t) => [t.id, t.status])).toEqual([
      [blue.id, 'ACTIVE'],
      [created.id, 'PRIMARY'],
    ]);
    await ecs.deleteTaskSet('demo', 'web', blue.id);
    await ecs.deleteTaskSet('demo', 'web', blue.id); // gone already: fine
    expect((await ecs.describeService('demo', 'web')).taskSets.map((t) => t.id)).toEqual([created.id]);
    expect(w.log.filter((e) => e.kind === 'TaskSet').map((e) => e.detail.event)).toEqual([
      'created',
      'steady',
      'primary',
      'deleted',
    ]);
  });

  it('a task definition that never stabilizes stays STABILIZING', async () => {
    const { clock, w, ecs } = world();
    const t = await ecs.createTaskSet('demo', 'web', green(w, 'web:4'));
    clock.advance(3600);
    expect((await ecs.describeService('demo', 'web')).taskSets.find((x) => x.id === t.id)).toMatchObject({
      stabilityStatus: 'STABILIZING',
      runningCount: 0,
    });
  });

  it('refuses what ECS refuses, mapped to the port contract', async () => {
    const { w, ecs } = world();
    await expect(ecs.createTaskSet('demo', 'web', green(w, 'web:9'))).rejects.toMatchObject({
      name: 'DependencyRejectedError',
      awsErrorName: 'ClientException',
      message: expect.stringContaining('TaskDefinition not found'),
    });
    await expect(
      ecs.createTaskSet('demo', 'web', {
        ...green(w, 'web:2'),
        targetGroupArn: 'arn:aws:elasticloadbalancing:local:000000000000:targetgroup/x/0',
      }),
    ).rejects.toMatchObject({
      awsErrorName: 'InvalidParameterException',
    });
    const primary = (await ecs.describeService('demo', 'web')).taskSets[0]!;
    await expect(ecs.deleteTaskSet('demo', 'web', primary.id)).rejects.toBeInstanceOf(DependencyRejectedError);
    await expect(ecs.describeService('demo', 'nope')).rejects.toMatchObject({
      name: 'PreconditionFailedError',
      code: 'INVALID_ECS_SERVICE',
      message: expect.stringContaining('nope'),
    });
    await expect(ecs.describeService('other', 'web')).rejects.toBeInstanceOf(PreconditionFailedError);
    await expect(ecs.createTaskSet('demo', 'nope', green(w, 'web:2'))).rejects.toBeInstanceOf(PreconditionFailedError);
    await expect(ecs.updateServicePrimaryTaskSet('demo', 'web', 'ecs-svc/1')).rejects.toMatchObject({
      awsErrorName: 'TaskSetNotFoundException',
    });
  });

  it('describes a service with the ECS deployment controller without task sets, and refuses to create one', async () => {
    const { clock, w, ecs } = world();
    const legacy = await ecs.describeService('demo', 'legacy');
    expect(legacy).toMatchObject({ deploymentController: 'ECS', desiredCount: 2, taskSets: [] });
    expect(w.calls.DescribeTaskSets).toBeUndefined();
    await expect(ecs.createTaskSet('demo', 'legacy', green(w, 'web:2'))).rejects.toMatchObject({
      name: 'DependencyRejectedError',
      awsErrorName: 'InvalidParameterException',
    });
    // Its tasks still serve its target group.
    clock.advance(60);
    expect(w.observedTargetGroup('tcp-blue', 60)).toMatchObject({ invocations: 600, errors: 0 });
  });

  it('fault injection: throttling → DependencyUnavailableError, AccessDenied → DependencyRejectedError, once', async () => {
    const { w, ecs, elb } = world();
    w.injectFault('CreateTaskSet', 'Throttling', 1, 'demo/web');
    await expect(ecs.createTaskSet('demo', 'web', green(w, 'web:2'))).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
    await ecs.createTaskSet('demo', 'web', green(w, 'web:2'));
    const prod = w.listenerArn('web-alb/prod');
    w.injectFault('ModifyListener', 'AccessDenied', 1, prod);
    const pair: [string, string] = [w.targetGroupArn('web-blue'), w.targetGroupArn('web-green')];
    await expect(elb.setForward(prod, pair, forwardWeightsFor(...pair, 10))).rejects.toBeInstanceOf(
      DependencyRejectedError,
    );
    w.injectFault('DescribeRules', 'ServiceUnavailable', 1);
    await expect(elb.describeListener(prod)).rejects.toBeInstanceOf(DependencyUnavailableError);
    await elb.setForward(prod, pair, forwardWeightsFor(...pair, 10));
    expect(w.ecs.split('web-alb/prod')).toEqual({ 'web-blue': 90, 'web-green': 10 });
  });
});

describe('SimWorld ECS: listeners and traffic', () => {
  it('describes and moves only the forwards that touch the pair', async () => {
    const clock = new ManualClock();
    const spec = structuredClone(SPEC);
    spec.ecs!.loadBalancers![0]!.targetGroups!.push('admin');
    spec.ecs!.loadBalancers![0]!.listeners![0]!.rules = [
      { priority: 1, forwardTo: 'web-blue', requestShare: 0.2 },
      { priority: 2, forwardTo: 'admin', requestShare: 0.1 },
      { priority: 3, fixedResponse: 403, requestShare: 0.1 },
    ];
    const w = new SimWorld(clock, spec);
    const elb = new SimLoadBalancers(w);
    const prod = w.listenerArn('web-alb/prod');
    const [blue, greenArn, admin] = [
      w.targetGroupArn('web-blue'),
      w.targetGroupArn('web-green'),
      w.targetGroupArn('admin'),
    ];
    const before = await elb.describeListener(prod);
    expect(before).toMatchObject({
      listenerArn: prod,
      protocol: 'HTTP',
      port: 80,
      loadBalancerArn: expect.stringMatching(/:loadbalancer\/app\/web-alb\//),
    });
    expect(before.forwards).toEqual([
      { weights: { [blue]: 1 } },
      { ruleArn: expect.stringMatching(/:listener-rule\/app\/web-alb\//), weights: { [blue]: 1 } },
      { ruleArn: expect.any(String), weights: { [admin]: 1 } },
    ]);

    await elb.setForward(prod, [blue, greenArn], forwardWeightsFor(blue, greenArn, 25));
    const after = await elb.describeListener(prod);
    expect(after.forwards.map((f) => f.weights)).toEqual([
      { [blue]: 750, [greenArn]: 250 },
      { [blue]: 750, [greenArn]: 250 },
      { [admin]: 1 },
    ]);
    expect(
      w.log
        .filter((e) => e.kind === 'Listener')
        .map((e) => [e.detail.listener, e.detail.split, e.detail.ruleArn !== undefined]),
    ).toEqual([
      ['web-alb/prod', 'web-blue 75% / web-green 25%', false],
      ['web-alb/prod', 'web-blue 75% / web-green 25%', true],
    ]);
    // Setting the same split again writes nothing.
    const writes = (w.calls.ModifyListener ?? 0) + (w.calls.ModifyRule ?? 0);
    await elb.setForward(prod, [blue, greenArn], forwardWeightsFor(blue, greenArn, 25));
    expect((w.calls.ModifyListener ?? 0) + (w.calls.ModifyRule ?? 0)).toBe(writes);
    expect(await elb.targetGroupArns(['web-blue', 'missing', 'admin'])).toEqual({ 'web-blue': blue, admin });
    await expect(elb.describeListener(`${prod.slice(0, -1)}0`)).rejects.toMatchObject({
      name: 'PreconditionFailedError',
      code: 'ELASTIC_LOAD_BALANCING_INVALID',
    });
  });

  it('a network load balancer forwards to one side, and cannot split', async () => {
    const { w, elb } = world();
    const tcp = w.listenerArn('web-nlb/tcp');
    const pair: [string, string] = [w.targetGroupArn('tcp-blue'), w.targetGroupArn('tcp-green')];
    await expect(elb.setForward(tcp, pair, forwardWeightsFor(...pair, 10))).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    await elb.setForward(tcp, pair, forwardWeightsFor(...pair, 100));
    expect((await elb.describeListener(tcp)).forwards).toEqual([{ weights: { [pair[1]]: 1 } }]);
    expect((await elb.describeListener(tcp)).protocol).toBe('TCP');
  });

  it('splits requests by listener weights; each task definition fails at its rate; alarms see it', async () => {
    const { clock, w, ecs, elb } = world();
    const prod = w.listenerArn('web-alb/prod');
    const pair: [string, string] = [w.targetGroupArn('web-blue'), w.targetGroupArn('web-green')];
    clock.advance(60);
    expect(w.alarmState('prod-5xx')).toBe('OK');
    expect(w.alarmState('green-5xx')).toBe('INSUFFICIENT_DATA'); // no traffic to green yet

    await ecs.createTaskSet('demo', 'web', green(w, 'web:3')); // fails half its requests, steady after 20 s
    await elb.setForward(prod, pair, forwardWeightsFor(...pair, 10));
    clock.advance(60);
    const tg = w.observedTargetGroup('web-green', 60);
    expect(tg.invocations).toBeCloseTo(600); // 10% of 100 rps for 60 s
    // Unsteady for the first 20 s (every request a 503), then 50%.
    expect(tg.errors).toBeCloseTo(200 + 200);
    const listener = w.observedListener('web-alb/prod', 60);
    expect(listener.invocations).toBeCloseTo(6000);
    expect(listener.errorRate).toBeCloseTo((400 / 6000) * 100);
    expect(w.alarmState('green-5xx')).toBe('ALARM');
    expect(w.alarmState('prod-5xx')).toBe('ALARM');

    // Back to blue: green gets no traffic, the listener recovers.
    await elb.setForward(prod, pair, forwardWeightsFor(...pair, 0));
    clock.advance(60);
    expect(w.observedListener(prod, 60).errors).toBe(0);
    expect(w.alarmState('prod-5xx')).toBe('OK');
    expect(w.alarmState('green-5xx')).toBe('INSUFFICIENT_DATA');
  });

  it('a task set that becomes steady inside a metric tick and only then gets traffic served none of it unhealthy', async () => {
    const { clock, w, ecs, elb } = world();
    const prod = w.listenerArn('web-alb/prod');
    const pair: [string, string] = [w.targetGroupArn('web-blue'), w.targetGroupArn('web-green')];
    clock.advance(3); // off the 10-second tick grid
    await ecs.createTaskSet('demo', 'web', green(w, 'web:2')); // steady 30 s from now, mid-tick
    clock.advance(34);
    await elb.setForward(prod, pair, forwardWeightsFor(...pair, 100));
    clock.advance(60);
    expect(w.observedTargetGroup('web-green', 60).errors).toBe(0);
    expect(w.observedListener(prod, 60).errors).toBe(0);
  });

  it('a target group with no steady task set answers every request with an error', () => {
    const { clock, w } = world();
    w.ecs.modifyListener(w.listenerArn('web-alb/test'), { [w.targetGroupArn('web-green')]: 1 });
    clock.advance(60);
    expect(w.observedListener('web-alb/test', 60)).toMatchObject({ invocations: 300, errors: 300, errorRate: 100 });
  });

  it('a task definition error rate can change mid-run', () => {
    const { clock, w } = world();
    w.ecs.addTaskDefinition('web:1', { errorRate: 0.1 });
    clock.advance(60);
    expect(w.observedTargetGroup('web-blue', 60).errorRate).toBeCloseTo(10);
  });
});

describe('SimWorld ECS: persistence', () => {
  it('a snapshot round-trips task sets, listener weights and alarms', async () => {
    const { clock, w, ecs, elb } = world();
    const created = await ecs.createTaskSet('demo', 'web', green(w, 'web:2'));
    const prod = w.listenerArn('web-alb/prod');
    const pair: [string, string] = [w.targetGroupArn('web-blue'), w.targetGroupArn('web-green')];
    await elb.setForward(prod, pair, forwardWeightsFor(...pair, 40));
    const snap = JSON.parse(JSON.stringify(w.snapshot())) as SimWorldSpec;

    const again = new SimWorld(clock, snap);
    const ecs2 = new SimEcsServices(again);
    expect(await ecs2.describeService('demo', 'web')).toEqual(await ecs.describeService('demo', 'web'));
    expect(await new SimLoadBalancers(again).describeListener(prod)).toEqual(await elb.describeListener(prod));
    expect(await ecs2.describeService('demo', 'legacy')).toEqual(await ecs.describeService('demo', 'legacy'));
    expect([...again.alarms.keys()]).toEqual(['green-5xx', 'prod-5xx']);
    // New task sets keep unique ids after a reload.
    const next = await ecs2.createTaskSet('demo', 'web', green(again, 'web:3', 'd-BBBBBBBBB'));
    expect(next.id).not.toBe(created.id);

    // restore(): a world built from the file takes over the saved task sets and weights.
    const fresh = new SimWorld(clock, structuredClone(SPEC));
    fresh.ecs.restore(snap.ecs!);
    expect(fresh.ecs.split('web-alb/prod')).toEqual({ 'web-blue': 60, 'web-green': 40 });
    expect((await new SimEcsServices(fresh).describeService('demo', 'web')).taskSets.map((t) => t.id)).toEqual(
      (await ecs.describeService('demo', 'web')).taskSets.map((t) => t.id),
    );
  });

  it('restore(): times from a run whose compressed clock ran ahead do not leave task sets unsteady', async () => {
    const { clock, w, ecs } = world();
    clock.advance(3600);
    await ecs.createTaskSet('demo', 'web', green(w, 'web:2'));
    clock.advance(60); // steady in the saved run
    const snap = w.snapshot();
    const later = new SimWorld(new ManualClock(), structuredClone(SPEC)); // a new run starts an hour "earlier"
    later.ecs.restore(snap.ecs!);
    expect(
      (await new SimEcsServices(later).describeService('demo', 'web')).taskSets.map((t) => t.stabilityStatus),
    ).toEqual(['STEADY_STATE', 'STEADY_STATE']);
  });
});

const WORLD = `
ecs:
  taskDefinitions:
    "web:1": { errorRate: 0.002 }
    "web:2": { steadyAfterSeconds: never }
  loadBalancers:
    - name: web-alb
      targetGroups: [web-blue, web-green]
      listeners:
        - { name: prod, port: 80, forwardTo: web-blue, requestsPerSecond: 50 }
        - { name: test, port: 8080, forwardTo: web-blue }
  services:
    - { cluster: demo, name: web, desiredCount: 4, taskDefinition: "web:1", targetGroup: web-blue }
alarms:
  - { name: web-5xx, listener: web-alb/prod, threshold: 2 }
  - { name: green-5xx, targetGroup: web-green, threshold: 2 }
applications:
  - name: shop
    deploymentGroups:
      - name: web-prod
        ecsService: { cluster: demo, service: web }
        targetGroups: [web-blue, web-green]
        prodListener: web-alb/prod
        testListener: web-alb/test
        blueGreenDeploymentConfiguration:
          terminateBlueInstancesOnDeploymentSuccess: { action: TERMINATE, terminationWaitTimeInMinutes: 5 }
`;

function worldFileIssues(text: string): { path: string; message: string }[] {
  try {
    parseWorldFile(text);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    return [...(e as InvalidInputError).issues];
  }
  throw new Error('expected the world file to be refused');
}

describe('world file: ecs', () => {
  it('parses an ECS world with defaults, and makes the application ECS', () => {
    const w = parseWorldFile(WORLD);
    expect(w.ecs?.taskDefinitions['web:2']).toEqual({ errorRate: 0, steadyAfterSeconds: 'never' });
    expect(w.ecs?.loadBalancers[0]).toMatchObject({
      type: 'application',
      listeners: [{ requestsPerSecond: 50 }, { requestsPerSecond: 10 }],
    });
    expect(w.ecs?.services[0]).toMatchObject({ deploymentController: 'EXTERNAL' });
    expect(w.applications[0]!.computePlatform).toBe('ECS');
    expect(parseWorldFile('functions: []').ecs).toBeUndefined();
  });

  it('the example world parses and builds a world whose alarm watches the production listener', () => {
    const file = parseWorldFile(readFileSync('examples/ecs.world.yml', 'utf8'));
    expect(file.applications[0]).toMatchObject({
      computePlatform: 'ECS',
      deploymentGroups: [{ name: 'web-prod', deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent5Minutes' }],
    });
    const clock = new ManualClock();
    const w = new SimWorld(clock, { ecs: file.ecs!, alarms: file.alarms.map(({ function: _f, ...a }) => a) });
    clock.advance(60);
    expect(w.alarmState('web-5xx')).toBe('OK');
    expect(w.observedListener('web-alb/prod', 60).invocations).toBeCloseTo(3000);
  });

  it('reports every broken reference with its path', () => {
    const bad = WORLD.replace(
      'taskDefinition: "web:1", targetGroup: web-blue',
      'taskDefinition: "web:7", targetGroup: nope',
    )
      .replace('listener: web-alb/prod, threshold', 'listener: web-alb/live, threshold')
      .replace(
        'targetGroups: [web-blue, web-green]\n        prodListener',
        'targetGroups: [web-blue, web-red]\n        prodListener',
      )
      .replace('ecsService: { cluster: demo, service: web }', 'ecsService: { cluster: demo, service: api }')
      .replace('testListener: web-alb/test', 'testListener: other/test');
    expect(worldFileIssues(bad)).toEqual([
      { path: 'ecs.services.0.taskDefinition', message: 'no task definition web:7 in ecs.taskDefinitions' },
      { path: 'ecs.services.0.targetGroup', message: expect.stringContaining('no target group named nope') },
      { path: 'alarms.0.listener', message: expect.stringContaining('no listener web-alb/live') },
      {
        path: 'applications.0.deploymentGroups.0.ecsService',
        message: 'no service api in cluster demo in ecs.services',
      },
      { path: 'applications.0.deploymentGroups.0.targetGroups.1', message: expect.stringContaining('web-red') },
      { path: 'applications.0.deploymentGroups.0.testListener', message: expect.stringContaining('other/test') },
    ]);
  });

  it('reports shape errors with their paths', () => {
    const bad = WORLD.replace('"web:1": { errorRate: 0.002 }', '"web:1": { errorRate: 2 }\n    "web": {}')
      .replace('{ steadyAfterSeconds: never }', '{ steadyAfterSeconds: sometimes }')
      .replace(
        '- { name: green-5xx, targetGroup: web-green, threshold: 2 }',
        '- { name: green-5xx, targetGroup: web-green, function: f, threshold: 2 }',
      );
    const issues = worldFileIssues(bad);
    expect(issues.map((i) => i.path)).toEqual(
      expect.arrayContaining([
        'ecs.taskDefinitions.web',
        'ecs.taskDefinitions.web:1.errorRate',
        'ecs.taskDefinitions.web:2.steadyAfterSeconds',
        'alarms.1',
      ]),
    );
  });

  it('an ECS group needs its target groups and production listener; ECS fields need an ECS group', () => {
    const bad = WORLD.replace(
      '        targetGroups: [web-blue, web-green]\n        prodListener: web-alb/prod\n',
      '',
    ).replace(
      'applications:\n  - name: shop\n',
      'applications:\n  - name: fn\n    computePlatform: Lambda\n    deploymentGroups:\n      - { name: g, prodListener: web-alb/prod }\n  - name: shop\n',
    );
    expect(worldFileIssues(bad)).toEqual([
      { path: 'applications.0.deploymentGroups.0.prodListener', message: expect.stringContaining('ECS groups only') },
      { path: 'applications.1.deploymentGroups.0.targetGroups', message: expect.stringContaining('required') },
      { path: 'applications.1.deploymentGroups.0.prodListener', message: expect.stringContaining('required') },
    ]);
  });
});
