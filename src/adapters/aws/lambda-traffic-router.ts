import { GetAliasCommand, GetFunctionConfigurationCommand, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import type { GetAliasCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { InternalError, PreconditionFailedError } from '../../domain/errors.js';
import type { AliasRouting } from '../../platforms/lambda/traffic.js';
import type { LambdaAliases } from '../../platforms/lambda/ports.js';
import { mapAwsError, withAwsErrors } from './errors.js';

/** Lambda answers ResourceNotFoundException for a missing function, version or alias alike. */
const isNotFound = (e: unknown): e is Error => e instanceof Error && e.name === 'ResourceNotFoundException';

/**
 * Lambda weighted aliases (CodeDeploy spec §5.2). Calls `lambda:GetAlias`, `lambda:UpdateAlias`
 * and `lambda:GetFunctionConfiguration` (with a version qualifier).
 */
export class LambdaAliasTrafficRouter implements LambdaAliases {
  constructor(private readonly client: LambdaClient) {}

  async getAlias(functionName: string, alias: string): Promise<AliasRouting> {
    const what = `GetAlias ${functionName}:${alias}`;
    let res: GetAliasCommandOutput;
    try {
      res = await this.client.send(new GetAliasCommand({ FunctionName: functionName, Name: alias }));
    } catch (e) {
      // A missing function or alias is the user's configuration, not a dependency failure.
      if (isNotFound(e)) {
        throw new PreconditionFailedError(
          `Lambda function ${functionName} or alias ${alias} does not exist: ${e.message}`,
          'INVALID_LAMBDA_FUNCTION',
        );
      }
      throw mapAwsError(e, what);
    }
    if (!res.FunctionVersion) throw new InternalError(`${what} returned no FunctionVersion`);
    return {
      functionVersion: res.FunctionVersion,
      additionalVersionWeights: { ...(res.RoutingConfig?.AdditionalVersionWeights ?? {}) },
    };
  }

  async setAlias(functionName: string, alias: string, routing: AliasRouting): Promise<void> {
    await withAwsErrors(`UpdateAlias ${functionName}:${alias}`, () =>
      this.client.send(
        new UpdateAliasCommand({
          FunctionName: functionName,
          Name: alias,
          FunctionVersion: routing.functionVersion,
          // Always sent: an omitted RoutingConfig leaves the old weights in place, `{}` clears them.
          RoutingConfig: { AdditionalVersionWeights: { ...routing.additionalVersionWeights } },
        }),
      ),
    );
  }

  async versionExists(functionName: string, version: string): Promise<boolean> {
    try {
      await this.client.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: version }));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw mapAwsError(e, `GetFunctionConfiguration ${functionName}:${version}`);
    }
  }
}
