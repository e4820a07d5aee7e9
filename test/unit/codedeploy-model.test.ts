/**
 * CodeDeploy's service model (generated from botocore's, see scripts/codedeploy-model.ts) against what the
 * API serves: every operation is served or refused with a reason, the operations deployments and common
 * tools use are served, every input is checked against the model, and bad input of every kind gets one of
 * the operation's modelled exceptions, never an internal failure.
 */
import { describe, expect, it } from 'vitest';
import { CODEDEPLOY_MODEL, fieldException, modelIssues } from '../../src/api/model/index.js';
import { OPERATIONS, dispatch } from '../../src/api/operations.js';
import { REFUSED_OPERATIONS } from '../../src/api/refused.js';
import { CUTOVER_OPERATIONS, HOST_COMMAND_OPERATIONS } from '../../src/api/names.js';
import { createLocalEnvironment } from '../../src/wiring/local.js';
import { VirtualClock } from '../../src/local/clock.js';
import { SimWorld } from '../../src/adapters/sim/world.js';

/**
 * What Lambda, ECS and Server deployments, SAM/CloudFormation, Terraform's CodeDeploy resources
 * and `aws deploy` call.
 */
const NEEDED = [
  // Applications, groups, configurations (SAM, CloudFormation, CDK, Terraform, aws deploy).
  'CreateApplication',
  'GetApplication',
  'BatchGetApplications',
  'ListApplications',
  'UpdateApplication',
  'DeleteApplication',
  'CreateDeploymentGroup',
  'GetDeploymentGroup',
  'BatchGetDeploymentGroups',
  'ListDeploymentGroups',
  'UpdateDeploymentGroup',
  'DeleteDeploymentGroup',
  'CreateDeploymentConfig',
  'GetDeploymentConfig',
  'ListDeploymentConfigs',
  'DeleteDeploymentConfig',
  // Deployments and their hooks (aws deploy create-deployment, wait deployment-successful, CodePipeline).
  'CreateDeployment',
  'GetDeployment',
  'BatchGetDeployments',
  'ListDeployments',
  'StopDeployment',
  'ContinueDeployment',
  'PutLifecycleEventHookExecutionStatus',
  'ListDeploymentTargets',
  'BatchGetDeploymentTargets',
  'GetDeploymentTarget',
  // Revisions (aws deploy push).
  'RegisterApplicationRevision',
  'GetApplicationRevision',
  'BatchGetApplicationRevisions',
  'ListApplicationRevisions',
  // Server: on-premises instances (aws deploy register / deregister) and the older instance calls.
  'RegisterOnPremisesInstance',
  'DeregisterOnPremisesInstance',
  'GetOnPremisesInstance',
  'BatchGetOnPremisesInstances',
  'ListOnPremisesInstances',
  'AddTagsToOnPremisesInstances',
  'RemoveTagsFromOnPremisesInstances',
  'ListDeploymentInstances',
  'BatchGetDeploymentInstances',
  'GetDeploymentInstance',
  // Tags (CloudFormation and Terraform read and write them on every refresh).
  'TagResource',
  'UntagResource',
  'ListTagsForResource',
];

/**
 * Needed but not served yet; the list must only shrink. An entry that becomes served fails the test below until
 * it is removed here.
 */
const NOT_YET = new Set<string>([]);

const served = (name: string) => Object.hasOwn(OPERATIONS, name);

describe('CodeDeploy’s service model', () => {
  const names = Object.keys(CODEDEPLOY_MODEL.operations);

  it('is the whole API: 47 operations of CodeDeploy_20141006', () => {
    expect(CODEDEPLOY_MODEL.targetPrefix).toBe('CodeDeploy_20141006');
    expect(names.length).toBe(47);
  });

  it('every operation is served or refused with a reason and one of its modelled exceptions', () => {
    const table = names.map((n) => {
      const refused = Object.hasOwn(REFUSED_OPERATIONS, n) ? REFUSED_OPERATIONS[n] : undefined;
      return {
        n,
        state: served(n) ? 'served' : refused ? `refused: ${refused.reason}` : NOT_YET.has(n) ? 'not yet' : 'neither',
      };
    });
    expect(table.filter((r) => r.state === 'neither').map((r) => r.n)).toEqual([]);
    for (const [n, r] of Object.entries(REFUSED_OPERATIONS)) {
      expect(served(n), `${n} is both served and refused`).toBe(false);
      expect(CODEDEPLOY_MODEL.operations[n]?.errors, n).toContain(r.exception);
    }
    // Served operations that are not CodeDeploy's are Cutover's own (or the agents' command service).
    const others = Object.keys(OPERATIONS).filter((n) => !names.includes(n));
    expect(others.filter((n) => !CUTOVER_OPERATIONS.has(n) && !HOST_COMMAND_OPERATIONS.has(n))).toEqual([]);
  });

  it('serves every operation deployments and common tools use (not-yet list only shrinks)', () => {
    for (const n of NEEDED) {
      expect(names, `${n} is not in the model`).toContain(n);
      if (NOT_YET.has(n)) expect(served(n), `${n} is served now: remove it from NOT_YET`).toBe(false);
      else expect(served(n), `${n} is needed`).toBe(true);
    }
  });

  it('names a modelled exception for a problem with any input field of any operation', () => {
    const unmapped: string[] = [];
    for (const [n, op] of Object.entries(CODEDEPLOY_MODEL.operations)) {
      if (!op.input || !op.errors.length) continue;
      for (const field of Object.keys(CODEDEPLOY_MODEL.shapes[op.input]!.members ?? {})) {
        const e = fieldException(n, field);
        if (!e || !op.errors.includes(e)) unmapped.push(`${n}.${field}`);
      }
    }
    expect(unmapped).toEqual([]);
  });

  it('checks types, lengths, enums and list sizes, every problem at once with its path', () => {
    expect(
      modelIssues('ListApplicationRevisions', {
        applicationName: 'x'.repeat(3000),
        sortBy: 'constructor',
        sortOrder: 'sideways',
        deployed: 7,
      }).map((i) => i.path),
    ).toEqual(['applicationName', 'sortBy', 'sortOrder', 'deployed']);
    expect(modelIssues('BatchGetDeployments', { deploymentIds: 'd-1' })).toEqual([
      { path: 'deploymentIds', message: 'must be a list' },
    ]);
    expect(
      modelIssues('CreateDeployment', {
        applicationName: 'a',
        revision: { revisionType: 'S3', s3Location: { bundleType: 'rar' } },
      }),
    ).toEqual([
      { path: 'revision.s3Location.bundleType', message: expect.stringMatching(/^"rar" is not one of tar, tgz, zip/) },
    ]);
    // Cutover's extensions: a step list's text as a configuration, or as an inline configuration name.
    expect(
      modelIssues('CreateDeploymentConfig', { deploymentConfigName: 'c', trafficRoutingConfig: '10% 5m, 100%' }),
    ).toEqual([]);
    expect(
      modelIssues('CreateDeployment', { applicationName: 'a', deploymentConfigName: '1 host 10m, 10% 15m, 50%, 100%' }),
    ).toEqual([]);
  });
});

describe('bad input through the dispatcher', () => {
  it('every operation answers hostile input with one of its modelled exceptions, never an internal failure', async () => {
    const clock = new VirtualClock('skip');
    const env = await createLocalEnvironment({ clock, world: new SimWorld(clock, {}) });
    const long = 'x'.repeat(3000);
    const hostile: Record<string, unknown>[] = [{}, { constructor: 'x', __proto__: { polluted: true }, toString: 1 }];
    const problems: string[] = [];
    for (const [n, op] of Object.entries(CODEDEPLOY_MODEL.operations)) {
      if (!op.errors.length || NOT_YET.has(n)) continue;
      const members = Object.keys(CODEDEPLOY_MODEL.shapes[op.input ?? '']?.members ?? {});
      const inputs = [
        ...hostile,
        Object.fromEntries(members.map((m) => [m, long])),
        Object.fromEntries(members.map((m) => [m, ['constructor']])),
        Object.fromEntries(members.map((m) => [m, { hasOwnProperty: 1 }])),
      ];
      for (const input of inputs) {
        const r = await dispatch(n, input, env.deps);
        if (!('error' in r)) continue;
        const type = r.error.__type;
        if (!op.errors.includes(type))
          problems.push(`${n} ${JSON.stringify(input).slice(0, 60)} → ${type}: ${r.error.message}`);
        if (/Error:|at .*\.ts|undefined|\[object Object\]/.test(r.error.message))
          problems.push(`${n}: message leaks internals: ${r.error.message}`);
      }
    }
    // Well-formed input a handler refuses: still one of the operation's modelled exceptions.
    const refusedByHandlers: [string, Record<string, unknown>][] = [
      ['CreateApplication', { applicationName: 'a b' }],
      ['CreateDeploymentConfig', { deploymentConfigName: 'c', trafficRoutingConfig: '10% 5x, 100%' }],
      ['CreateDeploymentConfig', { deploymentConfigName: 'c', minimumHealthyHosts: { type: 'HOST_COUNT', value: -1 } }],
      ['CreateDeploymentConfig', { deploymentConfigName: 'c', computePlatform: 'Lambda' }],
      ['UpdateApplication', { applicationName: 'nope', newApplicationName: 'x'.repeat(101) }],
      ['ListDeployments', { createTimeRange: { start: 2000, end: 1000 } }],
      ['ListDeployments', { includeOnlyStatuses: ['Bogus'] }],
      ['GetDeployment', { deploymentId: 'not-an-id' }],
    ];
    for (const [n, input] of refusedByHandlers) {
      const r = await dispatch(n, input, env.deps);
      if (!('error' in r)) problems.push(`${n} ${JSON.stringify(input)} was accepted`);
      else if (!CODEDEPLOY_MODEL.operations[n]!.errors.includes(r.error.__type))
        problems.push(`${n} ${JSON.stringify(input)} → ${r.error.__type}: ${r.error.message}`);
    }
    expect(problems).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
