import { TASKS } from '../src/tasks/index.js';
import { lambdaHandler } from '../src/wiring/aws.js';

/** S3 ObjectCreated under <prefix>/<application>/<deploymentGroup>/ → CreateDeployment. */
export const handler = lambdaHandler(TASKS.s3Trigger);
