/**
 * Per-operation authorisation (docs/adr/0024): each API request is mapped to CodeDeploy's IAM action
 * and resource ARNs (CodeDeploy's Service Authorization Reference: application, deploymentgroup,
 * deploymentconfig and instance ARNs), and the Authorizer port is asked whether the caller may. So a
 * principal can be allowed one operation on one application or group and nothing else, with the same
 * policies it would need on CodeDeploy.
 *
 * Operations on a deployment id are authorised on the deployment's group (read from the store); an id
 * that does not exist is authorised as "every group" (`deploymentgroup:*\/*`), so only a principal
 * allowed on all groups learns that it does not exist.
 */
import { ApiError } from '../domain/errors.js';
import { DEPLOYMENT_ID_RE } from '../domain/ids.js';
import type { Environment } from '../domain/notifications.js';
import type { Deployments, Authorizer } from '../ports/index.js';
import { str, type Input, type RequestContext } from './operation.js';

/** The ports the authorisation step uses besides the Authorizer (deps.authorizer): a deployment's group. */
export const AUTHORIZE_USES = { deployments: ['get'] } as const;
export interface AuthorizeDeps {
  authorizer?: Pick<Authorizer, 'authorize'>;
  deployments: Pick<Deployments, 'get'>;
  env: Pick<Environment, 'region' | 'accountId'>;
}

/** The action and resources one request needs. */
export interface Permission {
  action: string;
  resources: string[];
}

/** The ARN partition of a region (aws, aws-cn, aws-us-gov). */
export const partitionOf = (region: string): string =>
  region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';

/** CodeDeploy's resource ARNs in this account and region. */
export function arns(env: Pick<Environment, 'region' | 'accountId'>) {
  const base = `arn:${partitionOf(env.region)}:codedeploy:${env.region}:${env.accountId}`;
  return {
    application: (app: string) => `${base}:application:${app}`,
    group: (app: string, group: string) => `${base}:deploymentgroup:${app}/${group}`,
    /** Every deployment group: what an account-wide listing, or an unknown deployment id, is authorised on. */
    everyGroup: `${base}:deploymentgroup:*/*`,
    config: (name: string) => `${base}:deploymentconfig:${name}`,
    instance: (name: string) => `${base}:instance/${name}`,
  };
}

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(str) : []);

type Resolver = (i: Input, a: ReturnType<typeof arns>, d: AuthorizeDeps) => Promise<string[]> | string[];

/** The groups of the deployments named (each unknown id counts as every group). */
async function groupsOf(ids: string[], a: ReturnType<typeof arns>, d: AuthorizeDeps): Promise<string[]> {
  // Only well-formed ids are looked up (the operation itself answers the others with its own exception).
  const found = await Promise.all(
    ids.map((id) => (DEPLOYMENT_ID_RE.test(id) ? d.deployments.get(id) : Promise.resolve(undefined))),
  );
  const out = found.map((x) => (x ? a.group(x.spec.applicationName, x.spec.deploymentGroupName) : a.everyGroup));
  return [...new Set(out.length ? out : [a.everyGroup])];
}

const STAR: Resolver = () => ['*'];
const application: Resolver = (i, a) => [a.application(str(i.applicationName))];
const applications: Resolver = (i, a) => list(i.applicationNames).map(a.application);
const group: Resolver = (i, a) => [a.group(str(i.applicationName), str(i.deploymentGroupName))];
const config: Resolver = (i, a) => [a.config(str(i.deploymentConfigName))];
const deployment: Resolver = (i, a, d) => groupsOf([str(i.deploymentId)], a, d);
const instance: Resolver = (i, a) => [a.instance(str(i.instanceName))];
const instances: Resolver = (i, a) => list(i.instanceNames).map(a.instance);

/**
 * Every served operation → CodeDeploy's action and how to find its resources. Cutover's own operations
 * use the CodeDeploy action closest in effect (a grant for it covers them): moving a deployment forward is
 * ContinueDeployment, pausing it is StopDeployment, its timeline is GetDeployment. The agents' command
 * service uses CodeDeploy's `codedeploy-commands-secure:` actions (the fleet also checks the host).
 */
const RULES: Record<string, [action: string, resolve: Resolver]> = {
  CreateApplication: ['codedeploy:CreateApplication', application],
  GetApplication: ['codedeploy:GetApplication', application],
  BatchGetApplications: ['codedeploy:BatchGetApplications', applications],
  UpdateApplication: ['codedeploy:UpdateApplication', application],
  DeleteApplication: ['codedeploy:DeleteApplication', application],
  ListApplications: ['codedeploy:ListApplications', STAR],
  RegisterApplicationRevision: ['codedeploy:RegisterApplicationRevision', application],
  GetApplicationRevision: ['codedeploy:GetApplicationRevision', application],
  BatchGetApplicationRevisions: ['codedeploy:BatchGetApplicationRevisions', application],
  ListApplicationRevisions: ['codedeploy:ListApplicationRevisions', application],
  ListDeploymentGroups: ['codedeploy:ListDeploymentGroups', application],
  CreateDeploymentGroup: ['codedeploy:CreateDeploymentGroup', group],
  UpdateDeploymentGroup: [
    'codedeploy:UpdateDeploymentGroup',
    (i, a) => [a.group(str(i.applicationName), str(i.currentDeploymentGroupName ?? i.deploymentGroupName))],
  ],
  GetDeploymentGroup: ['codedeploy:GetDeploymentGroup', group],
  BatchGetDeploymentGroups: [
    'codedeploy:BatchGetDeploymentGroups',
    (i, a) => list(i.deploymentGroupNames).map((g) => a.group(str(i.applicationName), g)),
  ],
  DeleteDeploymentGroup: ['codedeploy:DeleteDeploymentGroup', group],
  CreateDeploymentConfig: ['codedeploy:CreateDeploymentConfig', config],
  GetDeploymentConfig: ['codedeploy:GetDeploymentConfig', config],
  DeleteDeploymentConfig: ['codedeploy:DeleteDeploymentConfig', config],
  ListDeploymentConfigs: ['codedeploy:ListDeploymentConfigs', STAR],
  CreateDeployment: ['codedeploy:CreateDeployment', group],
  GetDeployment: ['codedeploy:GetDeployment', deployment],
  BatchGetDeployments: ['codedeploy:BatchGetDeployments', (i, a, d) => groupsOf(list(i.deploymentIds), a, d)],
  ListDeployments: [
    'codedeploy:ListDeployments',
    (i, a) => (i.applicationName === undefined ? [a.everyGroup] : group(i, a, undefined as never)),
  ],
  StopDeployment: ['codedeploy:StopDeployment', deployment],
  ContinueDeployment: ['codedeploy:ContinueDeployment', deployment],
  PutLifecycleEventHookExecutionStatus: ['codedeploy:PutLifecycleEventHookExecutionStatus', deployment],
  DeleteResourcesByExternalId: ['codedeploy:DeleteResourcesByExternalId', STAR],
  ListDeploymentTargets: ['codedeploy:ListDeploymentTargets', deployment],
  GetDeploymentTarget: ['codedeploy:GetDeploymentTarget', deployment],
  BatchGetDeploymentTargets: ['codedeploy:BatchGetDeploymentTargets', deployment],
  ListDeploymentInstances: ['codedeploy:ListDeploymentInstances', deployment],
  GetDeploymentInstance: ['codedeploy:GetDeploymentInstance', deployment],
  BatchGetDeploymentInstances: ['codedeploy:BatchGetDeploymentInstances', deployment],
  RegisterOnPremisesInstance: ['codedeploy:RegisterOnPremisesInstance', instance],
  DeregisterOnPremisesInstance: ['codedeploy:DeregisterOnPremisesInstance', instance],
  GetOnPremisesInstance: ['codedeploy:GetOnPremisesInstance', instance],
  BatchGetOnPremisesInstances: ['codedeploy:BatchGetOnPremisesInstances', instances],
  ListOnPremisesInstances: ['codedeploy:ListOnPremisesInstances', STAR],
  AddTagsToOnPremisesInstances: ['codedeploy:AddTagsToOnPremisesInstances', instances],
  RemoveTagsFromOnPremisesInstances: ['codedeploy:RemoveTagsFromOnPremisesInstances', instances],
  PollHostCommand: ['codedeploy-commands-secure:PollHostCommand', STAR],
  GetDeploymentSpecification: ['codedeploy-commands-secure:GetDeploymentSpecification', STAR],
  PutHostCommandAcknowledgement: ['codedeploy-commands-secure:PutHostCommandAcknowledgement', STAR],
  PostHostCommandUpdate: ['codedeploy-commands-secure:PostHostCommandUpdate', STAR],
  PutHostCommandComplete: ['codedeploy-commands-secure:PutHostCommandComplete', STAR],
  PromoteDeployment: ['codedeploy:ContinueDeployment', deployment],
  ApproveDeployment: ['codedeploy:ContinueDeployment', deployment],
  ResumeDeployment: ['codedeploy:ContinueDeployment', deployment],
  PauseDeployment: ['codedeploy:StopDeployment', deployment],
  GetDeploymentTimeline: ['codedeploy:GetDeployment', deployment],
  // The resource is the ARN the caller names (the operation refuses one of another region or account).
  TagResource: ['codedeploy:TagResource', (i) => [str(i.ResourceArn)]],
  UntagResource: ['codedeploy:UntagResource', (i) => [str(i.ResourceArn)]],
  ListTagsForResource: ['codedeploy:ListTagsForResource', (i) => [str(i.ResourceArn)]],
};

/** The operations that have a rule (test/unit/authorization.test.ts checks every served one does). */
export const AUTHORIZED_OPERATIONS: ReadonlySet<string> = new Set(Object.keys(RULES));

/** The action and resources `operation` with `input` needs. An operation with no rule needs `*` on `*`. */
export async function permissionFor(operation: string, input: Input, d: AuthorizeDeps): Promise<Permission> {
  const rule = Object.hasOwn(RULES, operation) ? RULES[operation] : undefined;
  // Fail closed: an operation added without a rule is allowed only to principals allowed everything.
  if (!rule) return { action: `codedeploy:${operation}`, resources: ['*'] };
  const [action, resolve] = rule;
  const resources = await resolve(input, arns(d.env), d);
  return { action, resources: resources.length ? resources : ['*'] };
}

/**
 * Authorise one request, or throw ApiError AccessDeniedException naming the action and what was refused
 * (CodeDeploy's wording: "User: … is not authorized to perform: … on resource: …").
 * @throws DependencyUnavailableError / DependencyRejectedError from the Authorizer (fail closed)
 */
export async function authorizeRequest(
  operation: string,
  input: Input,
  context: RequestContext,
  d: AuthorizeDeps,
): Promise<void> {
  const { action, resources } = await permissionFor(operation, input, d);
  const principal = context.caller?.arn;
  if (!d.authorizer)
    throw new ApiError('AccessDeniedException', `${action}: this endpoint has no authorizer; every request is denied`);
  const decision = await d.authorizer.authorize({
    action,
    resources,
    ...(principal ? { principal } : {}),
    ...(context.sourceIp ? { sourceIp: context.sourceIp } : {}),
  });
  if (decision.allowed) return;
  throw new ApiError(
    'AccessDeniedException',
    `User: ${principal ?? '(unsigned)'} is not authorized to perform: ${action} on resource: ${decision.denied.join(', ')} ${decision.reason}`,
  );
}
