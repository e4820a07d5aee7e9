/** Every task, by name (the name is also the serverless.yml function key and the ASL Fn::GetAtt target). */
import { runAction } from './actions.js';
import { codePipelineJob } from './codepipeline-job.js';
import {
  alarmListener,
  approveDeployment,
  continueDeployment,
  pauseDeployment,
  promoteDeployment,
  resumeDeployment,
  stopDeployment,
} from './controls.js';
import { createDeployment, recordDeployment } from './create-deployment.js';
import { hookTimedOut, invokeHook, putLifecycleEventHookExecutionStatus } from './hooks.js';
import {
  completeDeployment,
  executionEnded,
  finalizeDeployment,
  recordOutcome,
  rollbackDeployment,
} from './outcome.js';
import { prepareDeployment } from './prepare-deployment.js';
import { reconcile } from './reconcile.js';
import { s3Trigger } from './s3-trigger.js';
import { createApplication, createDeploymentConfig, createDeploymentGroup, updateDeploymentGroup } from './setup.js';
import { shiftTraffic } from './shift-traffic.js';
import type { AnyTask, TaskName } from './task.js';
import { startWait } from './waits.js';

export const TASKS = {
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
  runAction,
  shiftTraffic,
  startWait,
  finalizeDeployment,
  completeDeployment,
  rollbackDeployment,
  recordOutcome,
  stopDeployment,
  promoteDeployment,
  pauseDeployment,
  resumeDeployment,
  approveDeployment,
  continueDeployment,
  alarmListener,
  executionEnded,
  s3Trigger,
  codePipelineJob,
  reconcile,
} satisfies Record<TaskName, AnyTask>;
