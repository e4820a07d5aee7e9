// A BeforeAllowTraffic hook. On AWS it is a Lambda function; in local mode Cutover runs this module.
// It receives CodeDeploy's payload {DeploymentId, LifecycleEventHookExecutionId} plus context
// (ApplicationName, DeploymentGroupName, LifecycleEventName, Functions[{FunctionName, Alias,
// CurrentVersion, TargetVersion}]) and must report Succeeded or Failed.
export async function handler(event, context) {
  const checks = event.Functions.map((f) => `${f.FunctionName}:${f.TargetVersion}`);
  // ... invoke the new version with a smoke-test request here ...
  const healthy = checks.length > 0;
  await context.putLifecycleEventHookExecutionStatus({
    deploymentId: event.DeploymentId,
    lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
    status: healthy ? 'Succeeded' : 'Failed',
  });
}
