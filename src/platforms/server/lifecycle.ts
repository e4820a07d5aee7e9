/**
 * The lifecycle of an EC2/on-premises in-place deployment on each host, in CodeDeploy's order (spec §2.3.1):
 * the three traffic events of each side exist only when the group routes traffic through a load balancer
 * (deploymentStyle WITH_TRAFFIC_CONTROL). DownloadBundle and Install are the agent's; BlockTraffic and
 * AllowTraffic the engine's; the others run the AppSpec's hook scripts.
 */

import { SERVER_HOOK_EVENTS, SERVER_LIFECYCLE_EVENTS, type ServerLifecycleEvent } from './appspec.js';

// Defined once, with the AppSpec reader the agent shares (src/agent may import only that file).
export { SERVER_HOOK_EVENTS, type ServerLifecycleEvent };
/** Every lifecycle event of an in-place deployment with traffic control, in order. */
export const SERVER_LIFECYCLE = SERVER_LIFECYCLE_EVENTS;

/** The events that exist only with traffic control. */
export const TRAFFIC_EVENTS: readonly ServerLifecycleEvent[] = [
  'BeforeBlockTraffic',
  'BlockTraffic',
  'AfterBlockTraffic',
  'BeforeAllowTraffic',
  'AllowTraffic',
  'AfterAllowTraffic',
];

/** The lifecycle of a host's deployment, in order, with or without traffic control. */
export function serverLifecycle(withTrafficControl: boolean): ServerLifecycleEvent[] {
  return SERVER_LIFECYCLE.filter((e) => withTrafficControl || !TRAFFIC_EVENTS.includes(e));
}
