/**
 * The host's identity on EC2 when none is configured: IMDSv2 (a session token from PUT
 * /latest/api/token, then GET with it) for the instance identity document, as CodeDeploy's agent
 * does (instance_metadata.rb). The HostIdentifier is the instance's ARN, as CodeDeploy's agent sends
 * it. Every request is bounded; no IMDSv1 fallback.
 */
export const IMDS_ENDPOINT = 'http://169.254.169.254';

export interface InstanceIdentity {
  instanceId: string;
  region: string;
  accountId: string;
  /** arn:<partition>:ec2:<region>:<account>:instance/<id> */
  hostIdentifier: string;
}

export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}

export async function instanceIdentity(endpoint = IMDS_ENDPOINT, timeoutMs = 2000): Promise<InstanceIdentity> {
  const base = endpoint.replace(/\/+$/, '');
  const fail = (why: string) =>
    new Error(`cannot read the instance identity from IMDS at ${base} (${why}); outside EC2, give --host-id`);
  let token: string;
  try {
    const res = await fetch(`${base}/latest/api/token`, {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw fail(`token: HTTP ${res.status}`);
    token = (await res.text()).trim();
  } catch (e) {
    throw e instanceof Error && e.message.startsWith('cannot read') ? e : fail((e as Error).message);
  }
  let doc: { instanceId?: unknown; region?: unknown; accountId?: unknown };
  try {
    const res = await fetch(`${base}/latest/dynamic/instance-identity/document`, {
      headers: { 'x-aws-ec2-metadata-token': token },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw fail(`identity document: HTTP ${res.status}`);
    doc = (await res.json()) as typeof doc;
  } catch (e) {
    throw e instanceof Error && e.message.startsWith('cannot read') ? e : fail((e as Error).message);
  }
  const { instanceId, region, accountId } = doc;
  if (typeof instanceId !== 'string' || typeof region !== 'string' || typeof accountId !== 'string')
    throw fail('the identity document has no instanceId, region or accountId');
  return {
    instanceId,
    region,
    accountId,
    hostIdentifier: `arn:${partitionOf(region)}:ec2:${region}:${accountId}:instance/${instanceId}`,
  };
}
