import { TASKS } from '../src/tasks/index.js';
import { lambdaHandler } from '../src/wiring/aws.js';

export const handler = lambdaHandler(TASKS.installTaskSet);
