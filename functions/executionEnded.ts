import { TASKS } from '../src/tasks/index.js';
import { lambdaHandler } from '../src/wiring/aws.js';

/** EventBridge rule: Step Functions Execution Status Change → ABORTED, TIMED_OUT or FAILED (of the deployment machine). */
export const handler = lambdaHandler(TASKS.executionEnded);
