// A BeforeAllowTraffic hook written for CodeDeploy, unchanged: it reports through the SDK's
// CodeDeploy client. Under `cutover deploy`/`server`, AWS_ENDPOINT_URL_CODEDEPLOY points that client
// at the local Cutover API; on AWS, point it at Cutover's API endpoint.
//
// The event is CodeDeploy's {DeploymentId, LifecycleEventHookExecutionId}, plus Cutover's
// ApplicationName, DeploymentGroupName, LifecycleEventName and Functions[{FunctionName, Alias,
// CurrentVersion, TargetVersion}].
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';

const codedeploy = new CodeDeployClient({});

export async function handler(event) {
  // ... invoke each new version with a smoke-test request here ...
  const healthy = event.Functions.every((f) => f.TargetVersion !== f.CurrentVersion);
  await codedeploy.send(
    new PutLifecycleEventHookExecutionStatusCommand({
      deploymentId: event.DeploymentId,
      lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
      status: healthy ? 'Succeeded' : 'Failed',
    }),
  );
}
