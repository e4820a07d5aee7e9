/** What the Lambda platform needs from AWS: weighted aliases (LambdaAliasTrafficRouter, SimTrafficRouter). */
import type { AliasRouting } from './traffic.js';

/** Lambda alias routing. */
export interface LambdaAliases {
  /** Read an alias's routing. @throws PreconditionFailedError when the function or alias does not exist */
  getAlias(functionName: string, alias: string): Promise<AliasRouting>;
  /** Set an alias's routing (UpdateAlias). Idempotent. Returns nothing; callers read back. */
  setAlias(functionName: string, alias: string, routing: AliasRouting): Promise<void>;
  /** Does this published version exist? */
  versionExists(functionName: string, version: string): Promise<boolean>;
}

/** The Lambda platform's ports. */
export interface LambdaPorts {
  aliases: LambdaAliases;
}
