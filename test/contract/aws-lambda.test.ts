/**
 * LambdaAliasTrafficRouter and LambdaHookInvoker against a mocked Lambda API. The alias tests run
 * over a small fake that applies UpdateAlias the way Lambda does (an omitted RoutingConfig keeps
 * the old weights), so they check the alias afterwards, not the calls.
 */
import type { InvokeCommandOutput } from '@aws-sdk/client-lambda';
import {
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  LambdaServiceException,
  ResourceNotFoundException,
  TooManyRequestsException,
  UpdateAliasCommand,
} from '@aws-sdk/client-lambda';
import type {
  AliasRoutingConfiguration,
  GetAliasCommandInput,
  GetFunctionConfigurationCommandInput,
  UpdateAliasCommandInput,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { clientConfig } from '../../src/adapters/aws/errors.js';
import { LambdaHookInvoker } from '../../src/adapters/aws/lambda-hook-invoker.js';
import { LambdaAliasTrafficRouter } from '../../src/adapters/aws/lambda-traffic-router.js';
import {
  DependencyRejectedError,
  DependencyUnavailableError,
  PreconditionFailedError,
} from '../../src/domain/errors.js';
import type { HookPayload } from '../../src/ports/index.js';

const lambdaMock = mockClient(LambdaClient);
const client = new LambdaClient(clientConfig({ region: 'us-east-1', maxAttempts: 1 }));

const throttled = () => new TooManyRequestsException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } });
const accessDenied = (action: string) =>
  new LambdaServiceException({
    name: 'AccessDeniedException',
    $fault: 'client',
    $metadata: { httpStatusCode: 403 },
    message: `User: arn:aws:sts::123456789012:assumed-role/cutover/x is not authorized to perform: ${action}`,
  });
const notFound = (message: string) => new ResourceNotFoundException({ message, $metadata: { httpStatusCode: 404 } });

/** Lambda's alias state, as GetAlias/UpdateAlias/GetFunctionConfiguration see it. */
class FakeLambda {
  readonly aliases = new Map<string, { FunctionVersion: string; RoutingConfig?: AliasRoutingConfiguration }>();
  readonly versions = new Map<string, string[]>();

  constructor() {
    lambdaMock.on(GetAliasCommand).callsFake(async (input: GetAliasCommandInput) => {
      const alias = this.aliases.get(`${input.FunctionName}:${input.Name}`);
      if (!alias)
        throw notFound(
          `Alias not found: arn:aws:lambda:us-east-1:123456789012:function:${input.FunctionName}:${input.Name}`,
        );
      return { Name: input.Name, ...structuredClone(alias) };
    });
    lambdaMock.on(UpdateAliasCommand).callsFake(async (input: UpdateAliasCommandInput) => {
      const alias = this.aliases.get(`${input.FunctionName}:${input.Name}`);
      if (!alias) throw notFound(`Alias not found: ${input.Name}`);
      if (input.FunctionVersion) alias.FunctionVersion = input.FunctionVersion;
      if (input.RoutingConfig) {
        const weights = input.RoutingConfig.AdditionalVersionWeights ?? {};
        alias.RoutingConfig = Object.keys(weights).length ? { AdditionalVersionWeights: { ...weights } } : undefined;
      }
      return { Name: input.Name, ...structuredClone(alias) };
    });
    lambdaMock.on(GetFunctionConfigurationCommand).callsFake(async (input: GetFunctionConfigurationCommandInput) => {
      if (!this.versions.get(input.FunctionName ?? '')?.includes(input.Qualifier ?? '$LATEST')) {
        throw notFound(
          `Function not found: arn:aws:lambda:us-east-1:123456789012:function:${input.FunctionName}:${input.Qualifier}`,
        );
      }
      return { FunctionName: input.FunctionName, Version: input.Qualifier };
    });
  }
}

beforeEach(() => {
  lambdaMock.reset();
});

/** A Lambda response payload (the SDK's blob type is a Uint8Array with helpers we do not use). */
const blob = (text: string) => new TextEncoder().encode(text) as unknown as InvokeCommandOutput['Payload'];

describe('LambdaAliasTrafficRouter', () => {
  const router = new LambdaAliasTrafficRouter(client);

  it('reads an alias with routing as primary version plus weights', async () => {
    const lambda = new FakeLambda();
    lambda.aliases.set('orders:live', {
      FunctionVersion: '7',
      RoutingConfig: { AdditionalVersionWeights: { '8': 0.1 } },
    });
    expect(await router.getAlias('orders', 'live')).toEqual({
      functionVersion: '7',
      additionalVersionWeights: { '8': 0.1 },
    });
  });

  it('reads an alias without routing as no additional weights', async () => {
    const lambda = new FakeLambda();
    lambda.aliases.set('orders:live', { FunctionVersion: '7' });
    expect(await router.getAlias('orders', 'live')).toEqual({ functionVersion: '7', additionalVersionWeights: {} });
  });

  it('reports a missing alias as PreconditionFailedError INVALID_LAMBDA_FUNCTION with AWS message', async () => {
    new FakeLambda();
    const err = await router.getAlias('orders', 'live').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PreconditionFailedError);
    expect(err).toMatchObject({
      code: 'INVALID_LAMBDA_FUNCTION',
      message:
        'Lambda function orders or alias live does not exist: Alias not found: arn:aws:lambda:us-east-1:123456789012:function:orders:live',
    });
  });

  it('shifts weight, then clears the routing when the target takes all traffic', async () => {
    const lambda = new FakeLambda();
    lambda.aliases.set('orders:live', { FunctionVersion: '7' });

    await router.setAlias('orders', 'live', { functionVersion: '7', additionalVersionWeights: { '8': 0.1 } });
    expect(await router.getAlias('orders', 'live')).toEqual({
      functionVersion: '7',
      additionalVersionWeights: { '8': 0.1 },
    });

    await router.setAlias('orders', 'live', { functionVersion: '8', additionalVersionWeights: {} });
    expect(await router.getAlias('orders', 'live')).toEqual({ functionVersion: '8', additionalVersionWeights: {} });
    // Clearing must send an explicit empty weight map: omitting RoutingConfig would keep 8 at 10 %.
    expect(lambdaMock.commandCalls(UpdateAliasCommand).at(-1)?.args[0].input).toEqual({
      FunctionName: 'orders',
      Name: 'live',
      FunctionVersion: '8',
      RoutingConfig: { AdditionalVersionWeights: {} },
    });
  });

  it('rolls back a weighted alias to the current version alone', async () => {
    const lambda = new FakeLambda();
    lambda.aliases.set('orders:live', {
      FunctionVersion: '7',
      RoutingConfig: { AdditionalVersionWeights: { '8': 0.4 } },
    });
    await router.setAlias('orders', 'live', { functionVersion: '7', additionalVersionWeights: {} });
    expect(lambda.aliases.get('orders:live')).toEqual({ FunctionVersion: '7', RoutingConfig: undefined });
  });

  it('maps a throttled GetAlias to DependencyUnavailableError', async () => {
    lambdaMock.on(GetAliasCommand).rejects(throttled());
    const err = await router.getAlias('orders', 'live').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect((err as Error).message).toBe('GetAlias orders:live: TooManyRequestsException: Rate exceeded');
  });

  it('maps an AccessDenied UpdateAlias to DependencyRejectedError with AWS message', async () => {
    lambdaMock.on(UpdateAliasCommand).rejects(accessDenied('lambda:UpdateAlias'));
    const err = await router
      .setAlias('orders', 'live', { functionVersion: '8', additionalVersionWeights: {} })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyRejectedError);
    expect(err).toMatchObject({
      awsErrorName: 'AccessDeniedException',
      message:
        'UpdateAlias orders:live: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/cutover/x is not authorized to perform: lambda:UpdateAlias',
    });
  });

  it('maps a throttled UpdateAlias to DependencyUnavailableError', async () => {
    lambdaMock.on(UpdateAliasCommand).rejects(throttled());
    await expect(
      router.setAlias('orders', 'live', { functionVersion: '8', additionalVersionWeights: {} }),
    ).rejects.toBeInstanceOf(DependencyUnavailableError);
  });

  it('knows which published versions exist', async () => {
    const lambda = new FakeLambda();
    lambda.versions.set('orders', ['1', '2']);
    expect(await router.versionExists('orders', '2')).toBe(true);
    expect(await router.versionExists('orders', '3')).toBe(false);
    expect(await router.versionExists('payments', '1')).toBe(false);
  });

  it('does not take a throttled version check for a missing version', async () => {
    lambdaMock.on(GetFunctionConfigurationCommand).rejects(throttled());
    await expect(router.versionExists('orders', '2')).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});

describe('LambdaHookInvoker', () => {
  const invoker = new LambdaHookInvoker(client);
  const payload: HookPayload = {
    DeploymentId: 'd-ABCDEF123',
    LifecycleEventHookExecutionId: 'hook-exec-1',
    LifecycleEventName: 'BeforeAllowTraffic',
  };

  it('runs the hook synchronously with the payload as JSON and returns its answer', async () => {
    const received: unknown[] = [];
    lambdaMock.on(InvokeCommand).callsFake(async (input: { InvocationType?: string; Payload?: Uint8Array }) => {
      // Only a RequestResponse invocation hands back what the hook returned.
      received.push(JSON.parse(new TextDecoder().decode(input.Payload)));
      const answer = input.InvocationType === 'RequestResponse' ? { status: 'Succeeded' } : null;
      return {
        StatusCode: input.InvocationType === 'RequestResponse' ? 200 : 202,
        Payload: new TextEncoder().encode(JSON.stringify(answer)),
      };
    });
    expect(await invoker.invoke('pre-traffic-hook', payload)).toEqual({ status: 'Succeeded' });
    expect(received).toEqual([payload]);
  });

  it('a hook returning nothing (CodeDeploy style) yields undefined; a string is passed through', async () => {
    lambdaMock
      .on(InvokeCommand)
      .resolvesOnce({ StatusCode: 200 })
      .resolvesOnce({ StatusCode: 200, Payload: blob('"done"') });
    expect(await invoker.invoke('pre-traffic-hook', payload)).toBeUndefined();
    expect(await invoker.invoke('pre-traffic-hook', payload)).toBe('done');
  });

  it('rejects a response with a FunctionError, naming the function and its error', async () => {
    lambdaMock.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: blob(JSON.stringify({ errorType: 'TypeError', errorMessage: 'x is undefined' })),
    });
    const err = await invoker.invoke('pre-traffic-hook', payload).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyRejectedError);
    expect((err as Error).message).toContain('Invoke pre-traffic-hook');
    expect((err as Error).message).toContain('Unhandled');
    expect((err as Error).message).toContain('TypeError: x is undefined');
  });

  it('rejects a non-2xx StatusCode, naming the function', async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 400 });
    const err = await invoker.invoke('pre-traffic-hook', payload).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyRejectedError);
    expect((err as Error).message).toContain('Invoke pre-traffic-hook');
    expect((err as Error).message).toContain('400');
  });

  it('maps a missing hook function to DependencyRejectedError with AWS message', async () => {
    lambdaMock
      .on(InvokeCommand)
      .rejects(notFound('Function not found: arn:aws:lambda:us-east-1:123456789012:function:pre-traffic-hook'));
    const err = await invoker.invoke('pre-traffic-hook', payload).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyRejectedError);
    expect(err).toMatchObject({
      awsErrorName: 'ResourceNotFoundException',
      message:
        'Invoke pre-traffic-hook: ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:123456789012:function:pre-traffic-hook',
    });
  });

  it('maps a throttled Invoke to DependencyUnavailableError', async () => {
    lambdaMock.on(InvokeCommand).rejects(throttled());
    await expect(invoker.invoke('pre-traffic-hook', payload)).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
