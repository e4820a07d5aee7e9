/** Every task, by name (the name is also the serverless.yml function key and the ASL Fn::GetAtt target). */
import { createDeployment, recordDeployment } from './create-deployment.js';
import { hookTimedOut, invokeHook, putLifecycleEventHookExecutionStatus } from './hooks.js';
import { executionEnded, finalizeDeployment, recordOutcome, rollbackDeployment } from './outcome.js';
import { prepareDeployment } from './prepare-deployment.js';
import { shiftTraffic, startWait } from './shift-traffic.js';
import { allowTestTraffic, installTaskSet } from './ecs.js';
import {
  alarmListener,
  approveDeployment,
  continueDeployment,
  pauseDeployment,
  promoteDeployment,
  resumeDeployment,
  stopDeployment,
} from './controls.js';
import { createApplication, createDeploymentConfig, createDeploymentGroup, updateDeploymentGroup } from './setup.js';
import { s3Trigger } from './s3-trigger.js';
import { codePipelineJob } from './codepipeline-job.js';
import type { Task, TaskName } from './task.js';

export const TASKS: Record<TaskName, Task<any, any>> = {
  createApplication,
  createDeploymentGroup,
  updateDeploymentGroup,
  createDeploymentConfig,
  createDeployment,
  putLifecycleEventHookExecutionStatus,
  recordDeployment,
  prepareDeployment,
  invokeHook,
  hookTimedOut,
  shiftTraffic,
  startWait,
  finalizeDeployment,
  rollbackDeployment,
  recordOutcome,
  stopDeployment,
  promoteDeployment,
  pauseDeployment,
  resumeDeployment,
  approveDeployment,
  continueDeployment,
  installTaskSet,
  allowTestTraffic,
  alarmListener,
  executionEnded,
  s3Trigger,
  codePipelineJob,
};
