// A BeforeAllowTraffic hook. It receives CodeDeploy's {DeploymentId, LifecycleEventHookExecutionId}
// plus ApplicationName, DeploymentGroupName, LifecycleEventName and Functions[{FunctionName, Alias,
// CurrentVersion, TargetVersion}], and answers in one of three ways:
//   1. return { status: 'Succeeded' | 'Failed' }                       (below)
//   2. return { status: 'InProgress', retryAfterSeconds: 30 }          (invoked again later)
//   3. call PutLifecycleEventHookExecutionStatus, as CodeDeploy hooks do: with the AWS SDK's
//      CodeDeployClient (npm i @aws-sdk/client-codedeploy); under `cutover deploy`/`server` the
//      client reaches the local Cutover API through AWS_ENDPOINT_URL_CODEDEPLOY.
export async function handler(event) {
  // ... invoke each new version with a smoke-test request here ...
  const ok = event.Functions.every((f) => f.TargetVersion !== f.CurrentVersion);
  return { status: ok ? 'Succeeded' : 'Failed' };
}
