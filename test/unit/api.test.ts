/** The CodeDeploy-compatible operations: names, error shape, and no secrets in what they return. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/api/operations.js';
import { testEnv, type TestEnv } from '../support/local.js';

let env: TestEnv;
beforeAll(async () => {
  env = await testEnv({ webhookSecret: 'a-very-secret-webhook-key' });
});
afterAll(async () => env.close());

describe('api dispatch', () => {
  it('answers CodeDeploy operations and errors in {__type, message}', async () => {
    expect(await dispatch('GetApplication', { applicationName: 'shop' }, env.deps)).toMatchObject({ output: { application: { applicationName: 'shop' } } });
    expect(await dispatch('GetApplication', { applicationName: 'nope' }, env.deps)).toEqual({
      error: { __type: 'ApplicationDoesNotExistException', message: 'Application nope does not exist' },
    });
    expect(await dispatch('StopDeployment', { deploymentId: 'd-AAAAAAAAA' }, env.deps)).toMatchObject({ error: { __type: 'DeploymentDoesNotExistException' } });
    expect(await dispatch('PromoteDeployment', {}, env.deps)).toMatchObject({ error: { __type: 'DeploymentIdRequiredException' } });
    expect(await dispatch('DeleteEverything', {}, env.deps)).toMatchObject({ error: { __type: 'UnknownOperationException' } });
    const predefined = await dispatch('GetDeploymentConfig', { deploymentConfigName: 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute' }, env.deps);
    expect(predefined).toMatchObject({ output: { deploymentConfigInfo: { trafficRoutingConfig: { type: 'TimeBasedLinear' } } } });
  });

  it('never returns the webhook secret or the group lock', async () => {
    const r = (await dispatch('GetDeploymentGroup', { applicationName: 'shop', deploymentGroupName: 'prod' }, env.deps)) as { output: { deploymentGroupInfo: Record<string, unknown> } };
    expect(r.output.deploymentGroupInfo.deploymentGroupName).toBe('prod');
    expect(JSON.stringify(r)).not.toContain('a-very-secret-webhook-key');
    expect(r.output.deploymentGroupInfo).not.toHaveProperty('activeDeploymentId');
  });

  it('an unexpected error does not leak internals', async () => {
    const broken = { ...env.deps, store: { ...env.deps.store, getApplication: async () => { throw new Error('socket hang up at 10.0.0.1'); } } };
    expect(await dispatch('GetApplication', { applicationName: 'shop' }, broken as never)).toEqual({ error: { __type: 'InternalFailure', message: 'An internal error occurred' } });
  });
});
