/**
 * The agent-facing operations of CodeDeploy's command service (served under the
 * `CodeDeployCommandService_v20141006.` target prefix): each runs the fleet's protocol with the caller the
 * transport established (src/platforms/server/fleet/protocol.ts, docs/adr/0016).
 */
import {
  PROTOCOL_USES,
  getDeploymentSpecification,
  pollHostCommand,
  postHostCommandUpdate,
  putHostCommandAcknowledgement,
  putHostCommandComplete,
} from '../platforms/server/fleet/protocol.js';
import { operation, type Operation } from './operation.js';

export const HOST_COMMAND_API: Record<string, Operation> = {
  PollHostCommand: operation(PROTOCOL_USES.PollHostCommand, (i, d, ctx) => pollHostCommand(d, ctx, i)),
  GetDeploymentSpecification: operation(PROTOCOL_USES.GetDeploymentSpecification, (i, d, ctx) =>
    getDeploymentSpecification(d, ctx, i),
  ),
  PutHostCommandAcknowledgement: operation(PROTOCOL_USES.PutHostCommandAcknowledgement, (i, d, ctx) =>
    putHostCommandAcknowledgement(d, ctx, i),
  ),
  PostHostCommandUpdate: operation(PROTOCOL_USES.PostHostCommandUpdate, (i, d, ctx) =>
    postHostCommandUpdate(d, ctx, i),
  ),
  PutHostCommandComplete: operation(PROTOCOL_USES.PutHostCommandComplete, (i, d, ctx) =>
    putHostCommandComplete(d, ctx, i),
  ),
};
