/** Operation names the protocol layer needs without loading the operations themselves. */

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
