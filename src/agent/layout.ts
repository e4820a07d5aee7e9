/**
 * CodeDeploy's on-disk layout under the agent's root directory (codedeploy-agent: command_executor.rb,
 * hook_executor.rb, deployment_command_tracker.rb), so tools and habits built on it keep working:
 *
 *   <root>/<deployment-group-id>/<deployment-id>/bundle.tar            the revision as downloaded (any type)
 *   <root>/<deployment-group-id>/<deployment-id>/deployment-archive/   the revision unpacked
 *   <root>/<deployment-group-id>/<deployment-id>/logs/scripts.log      the hooks' output
 *   <root>/deployment-instructions/<dg-id>_last_successful_install     path of the last installed deployment dir
 *   <root>/deployment-instructions/<dg-id>_most_recent_install         path of the last downloaded deployment dir
 *   <root>/deployment-instructions/<dg-id>-install.json                the last Install's instructions
 *   <root>/deployment-instructions/<dg-id>-cleanup                     what the last Install created
 *   <root>/deployment-logs/codedeploy-agent-deployments.log            every deployment's script output
 *   <root>/ongoing-deployment/<deployment-id>                          the host command being run (crash tracking)
 */
import { join } from 'node:path';

/** Ids become directory names: refuse anything that could climb out of the root. */
const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export function safeName(value: string, what: string): string {
  if (!SAFE.test(value) || value.includes('..'))
    throw new Error(`${what} ${JSON.stringify(value)} cannot be used as a directory name`);
  return value;
}

export class Layout {
  constructor(readonly root: string) {}

  groupDir(groupId: string): string {
    return join(this.root, safeName(groupId, 'deployment group id'));
  }
  deploymentDir(groupId: string, deploymentId: string): string {
    return join(this.groupDir(groupId), safeName(deploymentId, 'deployment id'));
  }
  static archiveDir(deploymentDir: string): string {
    return join(deploymentDir, 'deployment-archive');
  }
  static bundleFile(deploymentDir: string): string {
    return join(deploymentDir, 'bundle.tar');
  }
  static scriptLog(deploymentDir: string): string {
    return join(deploymentDir, 'logs', 'scripts.log');
  }
  get instructionsDir(): string {
    return join(this.root, 'deployment-instructions');
  }
  lastSuccessfulInstallFile(groupId: string): string {
    return join(this.instructionsDir, `${safeName(groupId, 'deployment group id')}_last_successful_install`);
  }
  mostRecentInstallFile(groupId: string): string {
    return join(this.instructionsDir, `${safeName(groupId, 'deployment group id')}_most_recent_install`);
  }
  installFile(groupId: string): string {
    return join(this.instructionsDir, `${safeName(groupId, 'deployment group id')}-install.json`);
  }
  cleanupFile(groupId: string): string {
    return join(this.instructionsDir, `${safeName(groupId, 'deployment group id')}-cleanup`);
  }
  get deploymentsLog(): string {
    return join(this.root, 'deployment-logs', 'codedeploy-agent-deployments.log');
  }
  get ongoingDir(): string {
    return join(this.root, 'ongoing-deployment');
  }
  ongoingFile(deploymentId: string): string {
    return join(this.ongoingDir, safeName(deploymentId, 'deployment id'));
  }
}
