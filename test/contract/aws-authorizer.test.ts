/** The IAM Authorizer against IAM's API shapes (aws-sdk-client-mock): who is simulated, caching, errors. */
import { GetRoleCommand, IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { IamAuthorizer } from '../../src/adapters/aws/iam-authorizer.js';
import { DependencyUnavailableError } from '../../src/domain/errors.js';

const ACCOUNT = '123456789012';
const GROUP = `arn:aws:codedeploy:us-east-1:${ACCOUNT}:deploymentgroup:shop/prod`;
const OTHER = `arn:aws:codedeploy:us-east-1:${ACCOUNT}:deploymentgroup:shop/staging`;
const iam = mockClient(IAMClient);
let now = 0;
const authorizer = () =>
  new IamAuthorizer(new IAMClient({ region: 'us-east-1' }), { accountId: ACCOUNT, now: () => now });

beforeEach(() => {
  iam.reset();
  now = 0;
  iam.on(GetRoleCommand, { RoleName: 'deployer' }).resolves({
    Role: { Arn: `arn:aws:iam::${ACCOUNT}:role/teams/deployer` } as never,
  });
  iam.on(SimulatePrincipalPolicyCommand).callsFake((input) => ({
    EvaluationResults: [
      {
        EvalActionName: input.ActionNames[0],
        EvalDecision: 'implicitDeny',
        ResourceSpecificResults: (input.ResourceArns as string[]).map((r) => ({
          EvalResourceName: r,
          EvalResourceDecision:
            r === GROUP && input.ActionNames[0] === 'codedeploy:CreateDeployment' ? 'allowed' : 'implicitDeny',
        })),
      },
    ],
  }));
});

describe('IamAuthorizer', () => {
  it('simulates an assumed role as its role (with its path) and answers per resource', async () => {
    const a = authorizer();
    const principal = `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/alice`;
    expect(await a.authorize({ principal, action: 'codedeploy:CreateDeployment', resources: [GROUP] })).toEqual({
      allowed: true,
    });
    const denied = await a.authorize({ principal, action: 'codedeploy:CreateDeployment', resources: [GROUP, OTHER] });
    expect(denied).toMatchObject({ allowed: false, denied: [OTHER] });
    const sims = iam.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input);
    expect(sims[0]).toMatchObject({
      PolicySourceArn: `arn:aws:iam::${ACCOUNT}:role/teams/deployer`,
      ActionNames: ['codedeploy:CreateDeployment'],
      ResourceArns: [GROUP],
    });
    // The decision on GROUP was cached: the second call asked only about OTHER.
    expect(sims[1]?.ResourceArns).toEqual([OTHER]);
  });

  it('asks IAM again once a decision is older than the TTL', async () => {
    const a = authorizer();
    const r = { principal: `arn:aws:iam::${ACCOUNT}:user/bob`, action: 'codedeploy:GetDeployment', resources: [GROUP] };
    await a.authorize(r);
    await a.authorize(r);
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand)).toHaveLength(1);
    now = 61_000;
    await a.authorize(r);
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand)).toHaveLength(2);
  });

  it('denies what IAM cannot simulate without asking: unsigned, other accounts, federated users, unknown roles', async () => {
    iam
      .on(GetRoleCommand, { RoleName: 'gone' })
      .rejects(
        Object.assign(new Error('no role'), { name: 'NoSuchEntityException', $metadata: { httpStatusCode: 404 } }),
      );
    const a = authorizer();
    for (const principal of [
      undefined,
      'arn:aws:iam::999999999999:user/eve',
      `arn:aws:sts::${ACCOUNT}:federated-user/eve`,
      `arn:aws:sts::${ACCOUNT}:assumed-role/gone/s`,
    ])
      expect(
        (
          await a.authorize({
            ...(principal ? { principal } : {}),
            action: 'codedeploy:GetDeployment',
            resources: [GROUP],
          })
        ).allowed,
        principal,
      ).toBe(false);
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand)).toHaveLength(0);
    // The account's root user may do anything in its account.
    expect(
      (await a.authorize({ principal: `arn:aws:iam::${ACCOUNT}:root`, action: 'x:Y', resources: ['*'] })).allowed,
    ).toBe(true);
  });

  it('throttling fails closed with DependencyUnavailableError', async () => {
    iam
      .on(SimulatePrincipalPolicyCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
    await expect(
      authorizer().authorize({
        principal: `arn:aws:iam::${ACCOUNT}:user/bob`,
        action: 'codedeploy:GetDeployment',
        resources: [GROUP],
      }),
    ).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
