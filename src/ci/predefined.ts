/**
 * Predefined CI_* variables for a local run, set as the runner sets them for a job, with values that make
 * sense without GitLab: no pipeline, no job token, no server. The list is documented in `gkr run-job --help`
 * and docs via PREDEFINED_VARIABLES.
 */
import { basename } from 'node:path'
import type { CiJob } from './types.js'

export interface LocalRunInfo {
  /** Absolute path of the local project (the repository holding the CI file). */
  projectDir: string
  /** The runner's builds_dir (default /builds). */
  buildsDir?: string
  /** Commit of the local working tree, when git knows it. */
  commitSha?: string
  /** Branch of the local working tree, when git knows it. */
  branch?: string
  runnerName?: string
  /** Job id used for names; a local run has none, gkr uses a fixed one unless given. */
  jobId?: number
}

/** Names and meaning of the variables predefinedVariables() sets (for help and docs). */
export const PREDEFINED_VARIABLES: Record<string, string> = {
  CI: 'always true',
  GITLAB_CI: 'always true',
  CI_SERVER: 'always yes',
  CI_JOB_NAME: 'the job name',
  CI_JOB_NAME_SLUG: 'the job name, lower-cased, non-alphanumerics replaced by -, at most 63 characters',
  CI_JOB_STAGE: 'the job stage (test when unset)',
  CI_JOB_ID: 'a local job id (1 unless set)',
  CI_PIPELINE_ID: 'a local pipeline id (1)',
  CI_PIPELINE_SOURCE: 'always local',
  CI_JOB_TIMEOUT: "the job timeout in seconds (3600, GitLab's default project timeout, when the job sets none)",
  CI_BUILDS_DIR: "the runner's builds_dir (/builds by default)",
  CI_PROJECT_NAME: 'the name of the local project folder',
  CI_PROJECT_PATH: 'local/<project name>',
  CI_PROJECT_NAMESPACE: 'always local',
  CI_PROJECT_DIR: '<builds_dir>/local/<project name>, where the project files are copied',
  CI_COMMIT_SHA: 'HEAD of the local repository (forty zeros without git)',
  CI_COMMIT_SHORT_SHA: 'first eight characters of CI_COMMIT_SHA',
  CI_COMMIT_REF_NAME: 'the current branch (local when detached or without git)',
  CI_COMMIT_REF_SLUG: 'CI_COMMIT_REF_NAME lower-cased, non-alphanumerics replaced by -',
  CI_COMMIT_BRANCH: 'the current branch, when there is one',
  CI_RUNNER_DESCRIPTION: 'the runner name from config.toml',
}

/** GitLab's default project timeout, which applies when the job sets none (there is no project here). */
export const DEFAULT_JOB_TIMEOUT_S = 3600

/** The timeout a local run of the job gets, in seconds. */
export function jobTimeout(job: CiJob): number {
  return job.timeout ?? DEFAULT_JOB_TIMEOUT_S
}

export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '')
}

export function predefinedVariables(job: CiJob, info: LocalRunInfo): Record<string, string> {
  const buildsDir = (info.buildsDir ?? '/builds').replace(/\/+$/, '') || '/'
  const project = basename(info.projectDir) || 'project'
  const sha = info.commitSha ?? '0'.repeat(40)
  const ref = info.branch ?? 'local'
  const vars: Record<string, string> = {
    CI: 'true',
    GITLAB_CI: 'true',
    CI_SERVER: 'yes',
    CI_JOB_NAME: job.name,
    CI_JOB_NAME_SLUG: slug(job.name),
    CI_JOB_STAGE: job.stage,
    CI_JOB_ID: String(info.jobId ?? 1),
    CI_PIPELINE_ID: '1',
    CI_PIPELINE_SOURCE: 'local',
    CI_BUILDS_DIR: buildsDir,
    CI_PROJECT_NAME: project,
    CI_PROJECT_PATH: `local/${project}`,
    CI_PROJECT_NAMESPACE: 'local',
    CI_PROJECT_DIR: `${buildsDir === '/' ? '' : buildsDir}/local/${project}`,
    CI_COMMIT_SHA: sha,
    CI_COMMIT_SHORT_SHA: sha.slice(0, 8),
    CI_COMMIT_REF_NAME: ref,
    CI_COMMIT_REF_SLUG: slug(ref),
  }
  if (info.branch) vars.CI_COMMIT_BRANCH = info.branch
  vars.CI_JOB_TIMEOUT = String(jobTimeout(job))
  if (info.runnerName) vars.CI_RUNNER_DESCRIPTION = info.runnerName
  return vars
}

/** Job variables layered over the predefined ones (a job may override CI_* values, as in GitLab). */
export function jobEnvironment(job: CiJob, info: LocalRunInfo): Record<string, string> {
  return { ...predefinedVariables(job, info), ...job.variables }
}
