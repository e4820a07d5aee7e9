/**
 * A local osls plugin: what serverless.yml cannot say about the resources the framework generates.
 * After the template is compiled it
 * - throttles the API stage (POST / and POST /hooks, each with its own limits) and turns on its access log
 *   (the API Gateway deployment's StageDescription: the stage is created by that deployment);
 * - encrypts the log groups the framework makes (the functions') with the optional KMS key (`kmsKeyArn`);
 *   serverless.yml's own log groups say so themselves (resources are merged after this hook).
 * test/deploy/package.test.ts checks the result.
 */
'use strict';

class CutoverHardening {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.harden() };
  }

  async harden() {
    const sls = this.serverless;
    const template = sls.service.provider.compiledCloudFormationTemplate;
    // serverless.yml's custom.hardening: its ${param:…} values, already resolved.
    const settings = sls.service.custom?.hardening ?? {};
    const param = (name) => settings[name];
    const number = (name) => {
      const n = Number(param(name));
      if (!Number.isFinite(n) || n <= 0) throw new Error(`param ${name}: a positive number, got ${param(name)}`);
      return n;
    };
    const resources = template.Resources;
    for (const r of Object.values(resources)) {
      if (r.Type !== 'AWS::ApiGateway::Deployment') continue;
      r.Properties.StageDescription = {
        ...(r.Properties.StageDescription ?? {}),
        // Every method: the API's limits, then /hooks (open to the internet) its own, lower ones.
        ThrottlingRateLimit: number('apiRateLimit'),
        ThrottlingBurstLimit: number('apiBurstLimit'),
        MetricsEnabled: true,
        MethodSettings: [
          {
            ResourcePath: '/~1hooks',
            HttpMethod: 'POST',
            ThrottlingRateLimit: number('hooksRateLimit'),
            ThrottlingBurstLimit: number('hooksBurstLimit'),
            MetricsEnabled: true,
          },
        ],
        AccessLogSetting: {
          DestinationArn: { 'Fn::GetAtt': ['ApiAccessLogGroup', 'Arn'] },
          Format: JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            caller: '$context.identity.userArn',
            resource: '$context.resourcePath',
            method: '$context.httpMethod',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            error: '$context.error.message',
          }),
        },
      };
      // The stage logs through the account's API Gateway CloudWatch role (ApiGatewayAccount, when the stack sets it).
      r.DependsOn = [...new Set([...[].concat(r.DependsOn ?? []), 'ApiAccessLogGroup'])];
    }
    for (const r of Object.values(resources)) {
      if (r.Type !== 'AWS::Logs::LogGroup') continue;
      r.Properties.KmsKeyId = { 'Fn::If': ['HasKmsKey', param('kmsKeyArn'), { Ref: 'AWS::NoValue' }] };
    }
  }
}

module.exports = CutoverHardening;
