import { apiHandler } from '../src/wiring/aws.js';

/** CodeDeploy-compatible operations: {"operation": "CreateDeployment", "input": {...}}. */
export const handler = apiHandler();
