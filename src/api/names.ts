/** Operation names the protocol layer needs without loading the operations themselves. */
import { COMMAND_OPERATIONS } from '../platforms/server/agent-protocol.js';

/** Operations that exist only in Cutover (not in CodeDeploy's API). */
export const CUTOVER_OPERATIONS: ReadonlySet<string> = new Set([
  'PromoteDeployment',
  'PauseDeployment',
  'ResumeDeployment',
  'ApproveDeployment',
  'GetDeploymentTimeline',
]);

/** The one operation hooks call (the `/hooks` route and the hookCallback function serve only it). */
export const HOOK_CALLBACK_OPERATION = 'PutLifecycleEventHookExecutionStatus';

/**
 * CodeDeploy's command service, which agents poll (issue #12): its own X-Amz-Target prefix; these operations
 * are served under it only, and it serves nothing else.
 */
export const HOST_COMMAND_OPERATIONS: ReadonlySet<string> = new Set(COMMAND_OPERATIONS);
