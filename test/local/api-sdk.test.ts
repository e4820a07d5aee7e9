/**
 * The official @aws-sdk/client-codedeploy against the local server (endpoint override): the
 * protocol, shapes and error names a CodeDeploy user relies on.
 */
import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
  StopDeploymentCommand,
  waitUntilDeploymentSuccessful,
} from '@aws-sdk/client-codedeploy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/local/server.js';
import { appSpec, testEnv, waitFor, type TestEnv } from '../support/local.js';

let env: TestEnv;
let server: ApiServer;
let client: CodeDeployClient;

beforeAll(async () => {
  env = await testEnv({}, 2_000);
  server = await startApiServer(env.deps);
  client = new CodeDeployClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await server.close();
  await env.close();
});

const revision = (content: string) => ({ revisionType: 'AppSpecContent' as const, appSpecContent: { content } });

describe('CodeDeploy SDK client against the local server', () => {
  it('creates an application, a group and a deployment; the waiter returns when it succeeds', async () => {
    await client.send(new CreateApplicationCommand({ applicationName: 'web', computePlatform: 'Lambda' }));
    await client.send(new CreateDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'prod', serviceRoleArn: 'arn:aws:iam::111122223333:role/cd', deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' }));
    // A hook written for CodeDeploy: it reports through the SDK client, endpoint pointed at Cutover.
    env.world.registerHook('CodeDeployHook_pre', async (event) => {
      await client.send(new PutLifecycleEventHookExecutionStatusCommand({ deploymentId: event.DeploymentId, lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId, status: 'Succeeded' }));
    });
    const { deploymentId } = await client.send(new CreateDeploymentCommand({ applicationName: 'web', deploymentGroupName: 'prod', revision: revision(appSpec({ before: 'CodeDeployHook_pre' })) }));
    expect(deploymentId).toMatch(/^d-[A-Z0-9]{9}$/);
    const waited = await waitUntilDeploymentSuccessful({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { deploymentId });
    expect(waited.state).toBe('SUCCESS');
    const { deploymentInfo } = await client.send(new GetDeploymentCommand({ deploymentId }));
    expect(deploymentInfo).toMatchObject({ deploymentId, status: 'Succeeded', applicationName: 'web', deploymentGroupName: 'prod', creator: 'user', computePlatform: 'Lambda' });
    expect(deploymentInfo?.createTime).toBeInstanceOf(Date);
    expect(deploymentInfo?.revision?.appSpecContent?.content).toBeUndefined();
    expect(env.world.getAlias('api', 'live').functionVersion).toBe('2');

    const listed = await client.send(new ListDeploymentsCommand({ applicationName: 'web', deploymentGroupName: 'prod', includeOnlyStatuses: ['Succeeded'] }));
    expect(listed.deployments).toEqual([deploymentId]);
    const batch = await client.send(new BatchGetDeploymentsCommand({ deploymentIds: [deploymentId!, 'd-NOSUCHONE'] }));
    expect(batch.deploymentsInfo?.map((d) => d.deploymentId)).toEqual([deploymentId]);
  });

  it('stops a running deployment; errors arrive as CodeDeploy exception classes', async () => {
    await client.send(new CreateDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'slow', serviceRoleArn: 'arn:aws:iam::111122223333:role/cd', deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes' }));
    const { deploymentId } = await client.send(new CreateDeploymentCommand({ applicationName: 'web', deploymentGroupName: 'slow', revision: revision(appSpec({ functions: [['worker', '5', '6']] })) }));
    await waitFor(env, deploymentId!, (d) => d.currentWait?.kind === 'bake');
    const second = await client.send(new CreateDeploymentCommand({ applicationName: 'web', deploymentGroupName: 'slow', revision: revision(appSpec({ functions: [['worker', '5', '6']] })) })).catch((e: unknown) => e);
    expect(second).toMatchObject({ name: 'DeploymentLimitExceededException', message: `The Deployment Group 'slow' already has an active Deployment '${deploymentId}'` });
    expect(await client.send(new StopDeploymentCommand({ deploymentId }))).toMatchObject({ status: 'Pending' });
    await waitFor(env, deploymentId!, (d) => d.status === 'Stopped').catch(() => undefined);
    const { deploymentInfo } = await client.send(new GetDeploymentCommand({ deploymentId }));
    expect(deploymentInfo).toMatchObject({ status: 'Stopped', errorInformation: { code: 'MANUAL_STOP' } });
    expect(env.world.getAlias('worker', 'live')).toEqual({ functionVersion: '5', additionalVersionWeights: {} });

    const missing = await client.send(new GetDeploymentCommand({ deploymentId: 'd-NOSUCHONE' })).catch((e: unknown) => e);
    expect(missing).toMatchObject({ name: 'DeploymentDoesNotExistException', $metadata: { httpStatusCode: 400 } });
    const badSpec = await client.send(new CreateDeploymentCommand({ applicationName: 'web', deploymentGroupName: 'prod', revision: revision('version: 0.0\n') })).catch((e: unknown) => e);
    expect(badSpec).toMatchObject({ name: 'InvalidRevisionException' });
    expect((badSpec as Error).message).toContain('Resources: required');
  });

  it('refuses to listen beyond loopback unless told to', async () => {
    await expect(startApiServer(env.deps, { host: '0.0.0.0' })).rejects.toThrow(/refusing to listen on 0.0.0.0/);
  });
});
