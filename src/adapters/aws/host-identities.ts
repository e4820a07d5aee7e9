/**
 * Host identities on AWS until the Instances port (registered on-premises instances) is wired here: no
 * on-premises instance is known, so only EC2 instances (whose role session names the instance) can poll.
 * Makes no AWS call.
 */
import type { HostIdentities } from '../../ports/index.js';

export class NoOnPremisesInstances implements HostIdentities {
  async byIamArn(): Promise<undefined> {
    return undefined;
  }
}
