import path from 'node:path'
import type { KubeConfig } from '@kubernetes/client-node'
import { loadConfig, selectRunners } from '../config/load.js'
import { jobFromFlags, jobIdentity } from '../executor/job-input.js'
import { renderJob } from '../executor/render.js'
import { cryptoRandom } from '../executor/names.js'
import { matchMessage } from '../catalog/match.js'
import { getEntry } from '../catalog/index.js'
import { adviceFor } from '../catalog/advice.js'
import { isCatalogId } from '../catalog/ids.js'
import { resolveCluster, runnerIdentity, type RetryPolicy } from '../kube/connect.js'
import { incompleteError, usageError } from '../util/errors.js'
import { PREDEFINED_VARIABLES } from '../ci/predefined.js'
import type { RunJobInput } from './run.js'
import type { Explain } from './dryrun.js'
import type { KubeObject } from './objects.js'
import { projectOf } from './workspace.js'
import type { CiJob } from '../ci/types.js'

export interface RunJobFlags {
  job: string
  'ci-file': string
  'include-dir'?: string
  config?: string
  runner?: string
  var?: string[]
  live: boolean
  output: string
  'artifacts-dir'?: string
  kubeconfig?: string
  'request-timeout'?: number
  context?: string
  namespace?: string
  'job-id'?: number
  'project-id'?: number
  'concurrent-id'?: number
  'runner-token'?: string
  /** Impersonate this identity on every request, the exec/attach/log streams included. */
  as?: string
  'as-group'?: string[]
  /** Impersonate the runner's service account (service_account in the namespace jobs run in). */
  'as-runner'?: boolean
}

export const explainWithCatalog: Explain = (message) => {
  const m = matchMessage(message)
  // The exact change when the rejection names it (the label a webhook wants, the verb RBAC lacks); else the entry's first step.
  const advice = m && isCatalogId(m.id) ? adviceFor(m.id, m.fields) : undefined
  const fix = advice
    ? [advice.text.join(' '), ...(advice.snippet ? advice.snippet.text.split('\n').map((l) => `              ${l}`) : [])].join('\n')
    : m ? getEntry(m.id)?.fix.steps[0] : undefined
  return m ? { id: m.id, title: m.title, ...(fix ? { fix } : {}) } : undefined
}

export const PREDEFINED_HELP = Object.entries(PREDEFINED_VARIABLES).map(([k, v]) => `${k} (${v})`).join(', ')

export interface RunJobInputOptions {
  /** Source of the random name suffixes (default: crypto random, new names every run); tests inject a seeded one. */
  random?: () => number
  /** The retry policy's timings (tests shorten the backoff); its limits come from the runner config. */
  retry?: Partial<RetryPolicy>
}

/** Everything run-job needs, built from its flags: config, job, rendered objects, cluster. */
export async function runJobInput(flags: RunJobFlags, opts: RunJobInputOptions = {}): Promise<Omit<RunJobInput, 'clock' | 'signal' | 'write'>> {
  const config = await loadConfig({ path: flags.config })
  const runners = selectRunners(config, flags.runner)
  if (runners.length !== 1) throw usageError('run-job-runner-ambiguous', runners.length === 0 ? `no Kubernetes runner in ${config.file}` : `${config.file} has ${runners.length} Kubernetes runners: choose one with --runner`, { at: { flag: '--runner' } })
  const runner = runners[0]!
  // The project is the repository holding the CI file (its folder without git); CI_COMMIT_* come from its HEAD.
  const checkout = await projectOf(path.resolve(flags['ci-file']))
  const identity = jobIdentity(flags)
  const { job, variables } = await jobFromFlags(runner, { 'ci-file': flags['ci-file'], job: flags.job, ...(flags.var ? { var: flags.var } : {}), ...(flags['include-dir'] ? { 'include-dir': flags['include-dir'] } : {}) }, checkout, identity)
  refuseUnrunnable(job!)
  const rendered = renderJob({ runner, job: job!, variables, ...identity, random: opts.random ?? cryptoRandom(), ...(flags.namespace ? { namespace: flags.namespace } : {}) })
  const fatal = rendered.problems.find((p) => p.fatal)
  if (fatal) throw usageError('job-refused', `the runner would refuse this job: ${fatal.message}`, { ref: fatal.catalog })
  const as = flags.as ?? (flags['as-runner'] ? runnerIdentity(runner, rendered.namespace) : undefined)
  const target = await resolveCluster({
    runner, ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}), ...(flags['request-timeout'] ? { timeoutMs: flags['request-timeout'] } : {}),
    namespace: rendered.namespace, ...(opts.retry ? { retry: opts.retry } : {}), ...(as ? { as } : {}), ...(flags['as-group']?.length ? { asGroups: flags['as-group'] } : {}),
  })
  if (!target) throw incompleteError('no-cluster', 'run-job needs a cluster, and no kubeconfig or in-cluster configuration was found', { suggestions: ['Pass --kubeconfig or --context, or try it on the simulator: gkr sim run -- run-job JOB'] })
  const kubeConfig: KubeConfig = target.kc
  return {
    job: job!,
    runner,
    namespace: rendered.namespace,
    objects: rendered.objects as unknown as KubeObject[],
    mode: flags.live ? 'live' : 'dry-run',
    output: flags.output === 'json' ? 'json' : 'yaml',
    kubeConfig,
    call: (what, fn) => target.call(what, fn),
    projectRoot: checkout.root,
    projectDir: variables.CI_PROJECT_DIR ?? '/builds/local/project',
    env: variables,
    ...(flags['artifacts-dir'] ? { artifactsDir: flags['artifacts-dir'] } : {}),
    explain: explainWithCatalog,
  }
}

/**
 * Jobs there is nothing to run for: a trigger job starts a downstream pipeline (GitLab, not a runner,
 * handles it), and a job without script is invalid in GitLab. Said as a usage error instead of
 * "succeeding" with an empty script.
 */
export function refuseUnrunnable(job: CiJob): void {
  if (job.unsupported.includes('trigger')) {
    throw usageError('job-is-trigger', `job ${job.name} is a trigger job: GitLab starts a downstream pipeline for it, no runner runs it, so gkr run-job cannot either`, {
      ...(job.at ? { at: job.at } : {}), suggestions: ['Run one of the jobs of the downstream pipeline instead: gkr run-job JOB --ci-file <its CI file>'],
    })
  }
  if (job.script.length === 0) {
    const steps = job.unsupported.includes('run')
    throw usageError('job-without-script', steps
      ? `job ${job.name} has no script: it uses CI steps (run:), which gkr run-job does not run`
      : `job ${job.name} has no script (GitLab rejects a job without script:, run: or trigger:)`, {
      ...(job.at ? { at: { ...job.at, path: `${job.name}.script` } } : {}), suggestions: [`Add a script: list to ${job.name}, or let it extend a template that has one.`],
    })
  }
}
