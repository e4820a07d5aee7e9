/** deploy/roles.cjs on its own (no packaging): what its parameters may and may not grant. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const roles = require('../../deploy/roles.cjs') as (o: { resolveVariable(n: string): Promise<string> }) => Promise<any>;

const params = (over: Record<string, string>) => ({
  resolveVariable: async (name: string) => {
    if (name === 'self:service') return 'cutover';
    if (name === 'sls:stage') return 'test';
    const key = name.replace(/^param:/, '');
    return over[key] ?? { revisionBucket: 'b', revisionPrefix: 'revisions', eventBus: 'default' }[key] ?? '';
  },
});
const passRoles = (t: {
  Resources: Record<string, { Properties: { Policies: { PolicyDocument: { Statement: { Action: string[] }[] } }[] } }>;
}) =>
  Object.values(t.Resources).flatMap((r) =>
    r.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement.filter((s) => s.Action.includes('iam:PassRole'))),
  );

describe('iam:PassRole', () => {
  it('is not granted unless ecsTaskRoles names roles (no wildcard default)', async () => {
    expect(passRoles(await roles(params({ ecsServices: 'shop/web' })))).toEqual([]);
    expect(passRoles(await roles(params({ ecsServices: 'shop/web', ecsTaskRoles: 'shop-task' })))).toHaveLength(1);
  });

  it("refuses '*' as ecsTaskRoles", async () => {
    await expect(roles(params({ ecsServices: 'shop/web', ecsTaskRoles: '*' }))).rejects.toThrow(/ecsTaskRoles/);
  });
});

type Statement = { Action: string[]; Resource: unknown };
const statements = (t: {
  Resources: Record<string, { Properties: { Policies: { PolicyDocument: { Statement: Statement[] } }[] } }>;
}) =>
  Object.fromEntries(
    Object.entries(t.Resources).map(([role, r]) => [
      role,
      r.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement),
    ]),
  );

describe('webhook secrets (Parameter Store)', () => {
  it('only the API writes them and only invokeHook reads them, under the prefix serverless.yml gives', async () => {
    const yml = readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8');
    const prefix = /CUTOVER_SECRETS_PREFIX: (\S+)/.exec(yml)?.[1]?.replace('${sls:stage}', 'test');
    expect(prefix).toBe('/cutover/test/webhook-secrets');
    const byRole = statements(await roles(params({})));
    const ssm = Object.entries(byRole).flatMap(([role, list]) =>
      list.filter((s) => s.Action.some((a) => a.startsWith('ssm:'))).map((s) => ({ role, ...s })),
    );
    const resource = {
      'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${prefix}/*`,
    };
    expect(ssm).toEqual([
      { role: 'InvokeHookRole', Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: resource },
      { role: 'ApiRole', Effect: 'Allow', Action: ['ssm:DeleteParameter', 'ssm:PutParameter'], Resource: resource },
    ]);
  });

  it("the stack's KMS key is granted to those roles for the secrets only when one is given", async () => {
    const key = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const kms = (byRole: Record<string, Statement[]>, role: string) =>
      byRole[role]!.filter((s) => s.Resource === key).flatMap((s) => s.Action);
    const without = statements(await roles(params({})));
    expect(
      Object.values(without)
        .flat()
        .filter((s) => s.Action.some((a) => a.startsWith('kms:'))),
    ).toEqual([]);
    const withKey = statements(await roles(params({ kmsKeyArn: key })));
    expect(kms(withKey, 'InvokeHookRole')).toContain('kms:Decrypt');
    expect(kms(withKey, 'ApiRole')).toEqual(expect.arrayContaining(['kms:Encrypt', 'kms:GenerateDataKey']));
  });
});
