/**
 * Which host is calling, from the principal of its request's signature, never from a field of the request.
 * On AWS, API Gateway's IAM authorisation gives the caller's ARN (`requestContext.identity.userArn`); locally,
 * the local server's SigV4 check against the credentials the local world issued gives it.
 *
 * - An on-premises host signs with the IAM user or role session it was registered with
 *   (RegisterOnPremisesInstance's iamUserArn / iamSessionArn): the Instances port (`byIamArn`) resolves it to its name.
 * - An EC2 instance signs with its instance profile's role: the session is named after the instance
 *   (`arn:aws:sts::<account>:assumed-role/<role>/i-0abc…`), so the instance id is the session name.
 *
 * The agent still sends a HostIdentifier (its instance ARN, or its IAM ARN); it must name the same host.
 */
import { ApiError } from '../../../domain/errors.js';
import type { Instances } from '../../../ports/index.js';

/** Who signed a request, as the transport established it. */
export interface CallerPrincipal {
  /** The IAM ARN of the caller (a user, or an assumed-role session). */
  arn: string;
  accountId?: string;
}

/** The request's transport context: the caller when the request was signed, or why its signature was refused. */
export interface CallerContext {
  caller?: CallerPrincipal;
  /** Why no caller is known (unsigned, unknown key, a signature that does not match). */
  refused?: string;
}

/** A calling host: its id in deployments (instance id, or on-premises instance name), and how it was known. */
export interface CallerHost {
  hostId: string;
  kind: 'ec2' | 'onPremises';
  /** The caller's ARN. */
  principalArn: string;
  accountId?: string;
}

const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/[^/]+\/(.+)$/;
const IAM_USER = /^arn:(aws[a-z-]*):iam::(\d{12}):user\/(?:.+)$/;
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const EC2_INSTANCE_ARN = /^arn:aws[a-z-]*:ec2:[a-z0-9-]*:(\d{12})?:instance\/(i-[0-9a-f]{8,17})$/;

/** The error every refusal answers with (AWS's name for an authorised caller that may not do this). */
export const ACCESS_DENIED = 'AccessDeniedException';

/**
 * The host a caller is: a registered on-premises instance first (its IAM ARN), else an EC2 instance role
 * session named after the instance.
 * @throws ApiError AccessDeniedException when the request was not signed, or the caller is no host
 */
export async function callerHost(context: CallerContext, identities: Pick<Instances, 'byIamArn'>): Promise<CallerHost> {
  const caller = context.caller;
  if (!caller) {
    throw new ApiError(
      ACCESS_DENIED,
      `The host command operations need a request signed with the host's own credentials (${context.refused ?? 'the request was not signed'})`,
    );
  }
  const accountId = caller.accountId ?? ASSUMED_ROLE.exec(caller.arn)?.[2] ?? IAM_USER.exec(caller.arn)?.[2];
  const registered = await identities.byIamArn(caller.arn);
  if (registered && !registered.deregisterTime) {
    return {
      hostId: registered.instanceName,
      kind: 'onPremises',
      principalArn: caller.arn,
      ...(accountId ? { accountId } : {}),
    };
  }
  const session = ASSUMED_ROLE.exec(caller.arn)?.[3];
  if (session && INSTANCE_ID.test(session)) {
    return { hostId: session, kind: 'ec2', principalArn: caller.arn, ...(accountId ? { accountId } : {}) };
  }
  throw new ApiError(
    ACCESS_DENIED,
    `${caller.arn} is neither a registered on-premises instance nor an EC2 instance's role session: it cannot poll for host commands`,
  );
}

/**
 * Check that the HostIdentifier a request names is the calling host: the EC2 instance's ARN (or id), or the
 * on-premises instance's IAM ARN (or name).
 * @throws ApiError AccessDeniedException when it names another host
 */
export function assertSameHost(host: CallerHost, hostIdentifier: string): void {
  const ec2 = EC2_INSTANCE_ARN.exec(hostIdentifier);
  const same =
    host.kind === 'ec2'
      ? hostIdentifier === host.hostId ||
        (!!ec2 && ec2[2] === host.hostId && (!ec2[1] || !host.accountId || ec2[1] === host.accountId))
      : hostIdentifier === host.principalArn || hostIdentifier === host.hostId;
  if (!same) {
    throw new ApiError(
      ACCESS_DENIED,
      `HostIdentifier ${hostIdentifier} is not the calling host (${host.hostId}, signed as ${host.principalArn})`,
    );
  }
}
