/** The CodeDeploy-compatible operations: names, error shape, and no secrets in what they return. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/api/operations.js';
import { handleApiEvent } from '../../src/api/gateway.js';
import { testEnv, type TestEnv } from '../support/local.js';

let env: TestEnv;
beforeAll(async () => {
  env = await testEnv({ webhookSecret: 'a-very-secret-webhook-key' });
});
afterAll(async () => env.close());

describe('api dispatch', () => {
  it('answers CodeDeploy operations and errors in {__type, message}', async () => {
    expect(await dispatch('GetApplication', { applicationName: 'shop' }, env.deps)).toMatchObject({
      output: { application: { applicationName: 'shop' } },
    });
    expect(await dispatch('GetApplication', { applicationName: 'nope' }, env.deps)).toEqual({
      error: { __type: 'ApplicationDoesNotExistException', message: 'Application nope does not exist' },
    });
    expect(await dispatch('StopDeployment', { deploymentId: 'd-AAAAAAAAA' }, env.deps)).toMatchObject({
      error: { __type: 'DeploymentDoesNotExistException' },
    });
    expect(await dispatch('PromoteDeployment', {}, env.deps)).toMatchObject({
      error: { __type: 'DeploymentIdRequiredException' },
    });
    expect(await dispatch('DeleteEverything', {}, env.deps)).toMatchObject({
      error: { __type: 'UnknownOperationException' },
    });
    const predefined = await dispatch(
      'GetDeploymentConfig',
      { deploymentConfigName: 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute' },
      env.deps,
    );
    expect(predefined).toMatchObject({
      output: { deploymentConfigInfo: { trafficRoutingConfig: { type: 'TimeBasedLinear' } } },
    });
  });

  it('never returns the webhook secret or the group lock', async () => {
    const r = (await dispatch(
      'GetDeploymentGroup',
      { applicationName: 'shop', deploymentGroupName: 'prod' },
      env.deps,
    )) as { output: { deploymentGroupInfo: Record<string, unknown> } };
    expect(r.output.deploymentGroupInfo.deploymentGroupName).toBe('prod');
    expect(JSON.stringify(r)).not.toContain('a-very-secret-webhook-key');
    expect(r.output.deploymentGroupInfo).not.toHaveProperty('activeDeploymentId');
  });

  it('an unexpected error does not leak internals', async () => {
    const broken = {
      ...env.deps,
      catalog: {
        ...env.deps.catalog,
        getApplication: async () => {
          throw new Error('socket hang up at 10.0.0.1');
        },
      },
    };
    expect(await dispatch('GetApplication', { applicationName: 'shop' }, broken as never)).toEqual({
      error: { __type: 'InternalFailure', message: 'An internal error occurred' },
    });
  });
});

describe('API Gateway events', () => {
  const call = (resource: string, target: string, body: unknown) =>
    handleApiEvent(
      {
        resource,
        headers: { 'X-Amz-Target': target, 'Content-Type': 'application/x-amz-json-1.1' },
        body: JSON.stringify(body),
      },
      env.deps,
    ) as Promise<{
      statusCode: number;
      body: string;
    }>;

  it('POST / serves CodeDeploy operations in JSON 1.1', async () => {
    const ok = await call('/', 'CodeDeploy_20141006.GetApplication', { applicationName: 'shop' });
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body).application.applicationName).toBe('shop');
    const missing = await call('/', 'CodeDeploy_20141006.GetApplication', { applicationName: 'nope' });
    expect(missing.statusCode).toBe(400);
    expect(JSON.parse(missing.body)).toEqual({
      __type: 'ApplicationDoesNotExistException',
      message: 'Application nope does not exist',
    });
    expect((await call('/', 'CodeDeploy_20141006.PromoteDeployment', {})).statusCode).toBe(400); // an extra, only under Cutover's prefix
    expect(JSON.parse((await call('/', 'Cutover_20261122.PromoteDeployment', {})).body).__type).toBe(
      'DeploymentIdRequiredException',
    );
  });

  it('POST /hooks (no IAM) serves only PutLifecycleEventHookExecutionStatus', async () => {
    const denied = await call('/hooks', 'CodeDeploy_20141006.GetApplication', { applicationName: 'shop' });
    expect(denied.statusCode).toBe(403);
    const hook = await call('/hooks', 'CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus', {
      deploymentId: 'd-AAAAAAAAA',
      lifecycleEventHookExecutionId: 'guess',
      status: 'Succeeded',
    });
    expect(JSON.parse(hook.body).__type).toBe('InvalidLifecycleEventHookExecutionIdException');
  });

  it('a direct invocation {operation, input} still works', async () => {
    expect(
      await handleApiEvent({ operation: 'GetApplication', input: { applicationName: 'shop' } }, env.deps),
    ).toMatchObject({ output: { application: { applicationName: 'shop' } } });
  });
});
