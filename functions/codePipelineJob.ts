import { TASKS } from '../src/tasks/index.js';
import { lambdaHandler } from '../src/wiring/aws.js';

/** The job worker of a CodePipeline "AWS Lambda" invoke action. */
export const handler = lambdaHandler(TASKS.codePipelineJob);
