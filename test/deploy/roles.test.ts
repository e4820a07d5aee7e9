/** deploy/roles.cjs on its own (no packaging): what its parameters may and may not grant. */
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
