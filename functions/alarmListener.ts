import { TASKS } from '../src/tasks/index.js';
import { lambdaHandler } from '../src/wiring/aws.js';

/** EventBridge rule: CloudWatch Alarm State Change → ALARM. */
export const handler = lambdaHandler(TASKS.alarmListener);
