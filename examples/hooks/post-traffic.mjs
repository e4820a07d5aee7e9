// An AfterAllowTraffic hook: runs once all traffic is on the new version.
export async function handler(event, context) {
  await context.putLifecycleEventHookExecutionStatus({
    deploymentId: event.DeploymentId,
    lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
    status: 'Succeeded',
  });
}
