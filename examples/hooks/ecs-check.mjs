// An ECS lifecycle hook (BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic or
// AfterAllowTraffic) in Cutover's simpler style: return the status, or
// {status: 'InProgress', retryAfterSeconds: 30} to be invoked again later. A hook written for
// CodeDeploy that calls PutLifecycleEventHookExecutionStatus works unchanged too.
//
// The event is CodeDeploy's {DeploymentId, LifecycleEventHookExecutionId}, plus Cutover's
// ApplicationName, DeploymentGroupName, LifecycleEventName and EcsService{Cluster, Service,
// TaskDefinition, OriginalTaskSet, ReplacementTaskSet, ReplacementTargetGroupArn, TestListenerArn,
// ProdListenerArn} (each as far as the deployment has got).
export async function handler(event) {
  const svc = event.EcsService ?? {};
  switch (event.LifecycleEventName) {
    case 'AfterAllowTestTraffic':
      // ... send smoke-test requests through svc.TestListenerArn's port to the replacement here ...
      return { status: svc.ReplacementTaskSet ? 'Succeeded' : 'Failed' };
    default:
      return { status: 'Succeeded' };
  }
}
