/**
 * The fleet's engine events on ELBv2 target groups: BlockTraffic and AllowTraffic of one host through
 * ../traffic.ts (deregister and wait for draining; register and wait until healthy, read back), as the
 * `EngineEvents` the fleet's `progress` runs. What the Server strategy passes to `Fleet`/`fleetProgress` for
 * groups with traffic control.
 */
import type { Clock } from '../../../ports/index.js';
import type { TargetGroupTargets } from '../ports.js';
import { allowTraffic, blockTraffic } from '../traffic.js';
import type { EngineEventResult, EngineEvents } from './fleet.js';
import { DEFAULT_EVENT_TIMEOUT_SECONDS } from './lifecycle.js';

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/**
 * BlockTraffic and AllowTraffic on the target groups `targetGroupArns`. An event that is not done within
 * `timeoutSeconds` of its start fails (AllowTraffic says where each target group stands; CodeDeploy waits up
 * to an hour). Only EC2 instances can be targets; an on-premises host fails the event, saying so.
 */
export function targetGroupEvents(
  targets: TargetGroupTargets,
  targetGroupArns: string[],
  clock: Pick<Clock, 'now'>,
  timeoutSeconds = DEFAULT_EVENT_TIMEOUT_SECONDS,
): EngineEvents {
  return {
    async run(_deploymentId, host, event, startedAt): Promise<EngineEventResult> {
      if (!INSTANCE_ID.test(host.hostId))
        return {
          status: 'Failed',
          message: `${host.hostId} is not an EC2 instance: it cannot be a load balancer target`,
        };
      const pastDeadline = clock.now().getTime() - Date.parse(startedAt) >= timeoutSeconds * 1000;
      const p =
        event === 'BlockTraffic'
          ? await blockTraffic(targets, targetGroupArns, host.hostId)
          : event === 'AllowTraffic'
            ? await allowTraffic(targets, targetGroupArns, host.hostId, pastDeadline)
            : undefined;
      if (!p) return { status: 'Failed', message: `${event} is not an engine event` };
      if (p.done) return { status: 'Succeeded' };
      if ('failed' in p) return { status: 'Failed', message: p.failed };
      if (pastDeadline)
        return { status: 'Failed', message: `${host.hostId} was still draining when ${event}'s time was up` };
      return { status: 'InProgress', checkAfterSeconds: p.retryAfterSeconds };
    },
  };
}
