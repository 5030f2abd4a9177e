import path from 'node:path'
import type { CiJob } from '../ci/types.js'
import { parseCiFile, selectJob } from '../ci/parse.js'
import { predefinedVariables } from '../ci/predefined.js'
import type { LoadedRunner } from '../config/types.js'
import { usageError } from '../util/errors.js'
import { Secret } from '../util/secret.js'
import { echoInput } from '../util/text.js'

/** The identity of a real job (--job-id, --project-id, --concurrent-id, --runner-token), for renderJob. */
export interface JobIdentity {
  jobId?: number
  projectId?: number
  concurrentId?: number
  /** Kept as a Secret: only its short form ever reaches a name. */
  runnerToken?: Secret
}

export function jobIdentity(flags: { 'job-id'?: number; 'project-id'?: number; 'concurrent-id'?: number; 'runner-token'?: string }): JobIdentity {
  const token = flags['runner-token']
  if (token !== undefined && token.trim() === '') throw usageError('bad-runner-token', '--runner-token is empty: give the runner authentication token (glrt-…) the job ran with', { at: { flag: '--runner-token' } })
  return {
    ...(flags['job-id'] !== undefined ? { jobId: flags['job-id'] } : {}),
    ...(flags['project-id'] !== undefined ? { projectId: flags['project-id'] } : {}),
    ...(flags['concurrent-id'] !== undefined ? { concurrentId: flags['concurrent-id'] } : {}),
    ...(token !== undefined ? { runnerToken: new Secret(token.trim()) } : {}),
  }
}

export interface JobInput {
  job?: CiJob
  variables: Record<string, string>
}

/** The job to render: one job of a .gitlab-ci.yml (with the predefined CI_* variables of a local run), or none. */
/** Facts about the local checkout (run-job reads them with git) for the predefined CI_* variables. */
export interface LocalCheckout {
  /** Root of the repository holding the CI file (default: the CI file's folder). */
  root?: string
  commitSha?: string
  branch?: string
}

export async function jobFromFlags(runner: LoadedRunner, flags: { 'ci-file'?: string; 'include-dir'?: string; job?: string; var?: string[] }, checkout: LocalCheckout = {}, identity: JobIdentity = {}): Promise<JobInput> {
  const vars = Object.fromEntries((flags.var ?? []).map((kv) => {
    const eq = kv.indexOf('=')
    if (eq <= 0) throw usageError('bad-var', `--var must be KEY=VALUE, got ${echoInput(kv)}`, { at: { flag: '--var' } })
    return [kv.slice(0, eq), kv.slice(eq + 1)]
  }))
  if (!flags['ci-file']) {
    if (flags.job) throw usageError('job-without-ci-file', '--job needs --ci-file', { at: { flag: '--job' } })
    return { variables: vars }
  }
  // local: includes are the project's files: the repository's root when the CI file is in one.
  const ci = await parseCiFile(flags['ci-file'], { vars, ...(checkout.root ? { projectDir: checkout.root } : {}), ...(flags['include-dir'] ? { includeDir: flags['include-dir'] } : {}) })
  if (!flags.job) {
    throw usageError('job-required', `--job is required with --ci-file (jobs in ${ci.file}: ${Object.keys(ci.jobs).join(', ') || 'none'})`, { at: { flag: '--job' } })
  }
  const job = selectJob(ci, flags.job)
  const buildsDir = typeof runner.settings.builds_dir === 'string' && runner.settings.builds_dir ? runner.settings.builds_dir : undefined
  const predefined = predefinedVariables(job, {
    projectDir: checkout.root ?? path.dirname(path.resolve(flags['ci-file'])), ...(buildsDir ? { buildsDir } : {}), runnerName: runner.name,
    ...(checkout.commitSha ? { commitSha: checkout.commitSha } : {}), ...(checkout.branch ? { branch: checkout.branch } : {}),
    ...(identity.jobId !== undefined ? { jobId: identity.jobId } : {}),
  })
  return { job, variables: { ...predefined, ...vars } }
}
