/** The CLI's connection to a Cutover API (a local `cutover server` or a deployed one). */
import { DEFAULT_ENDPOINT, callApi as call } from '../adapters/aws/cutover-api-client.js';

export { DEFAULT_ENDPOINT };

/** Call an operation of the Cutover API at `endpoint` (signed with SigV4 unless it is on loopback). */
export const callApi = (endpoint: string, operation: string, input: Record<string, unknown>) =>
  call(endpoint, operation, input, process.env.AWS_REGION);
