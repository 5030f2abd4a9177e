import type { CiFile } from '../ci/types.js'
import { parseCiFile } from '../ci/parse.js'
import { loadConfig, selectRunners } from '../config/load.js'
import { ALL_CHECKS } from '../checks/registry.js'
import { selectChecks } from '../checks/run.js'
import { usageError } from '../util/errors.js'
import { echoInput } from '../util/text.js'
import type { DoctorInput } from './run.js'
import { connect, type ClusterFlags, type ConnectOptions } from './cluster.js'

/** Doctor's flags: what to check, on top of how to reach the cluster. */
export interface DoctorFlags extends ClusterFlags {
  config?: string | string[]
  'runner-version'?: string
  offline: boolean
  'ci-file'?: string
  'include-dir'?: string
  only?: string[]
  skip?: string[]
}

export interface Prepared {
  input: DoctorInput
  notes: string[]
}

/**
 * Builds doctor's input from its flags: the configuration, the runners to check, the optional CI file,
 * the checks selected, and — unless offline — how to reach the cluster.
 */
export async function prepareDoctor(flags: DoctorFlags, opts: ConnectOptions): Promise<Prepared> {
  const config = await loadConfig({ path: flags.config, env: opts.env, ...(flags['runner-version'] ? { runnerVersion: flags['runner-version'] } : {}) })
  const runners = selectRunners(config, flags.runner)
  const ciFile: CiFile | undefined = flags['ci-file'] ? await parseCiFile(flags['ci-file'], { ...(flags['include-dir'] ? { includeDir: flags['include-dir'] } : {}) }) : undefined
  const checks = selectChecks(ALL_CHECKS, { only: flags.only, skip: flags.skip })
  for (const id of [...(flags.only ?? []), ...(flags.skip ?? [])]) {
    if (!ALL_CHECKS.some((c) => c.id === id || c.area === id || (id.endsWith('*') && c.id.startsWith(id.slice(0, -1))))) {
      throw usageError('unknown-check', `no check or area named ${echoInput(id)}`, { at: { flag: flags.only?.includes(id) ? '--only' : '--skip' }, suggestions: ['`gkr doctor --help` links to docs/checks.md, which lists every check id and area.'] })
    }
  }
  // What the loader had to assume (e.g. Helm's {{ .Release.Namespace }}) is said before any finding.
  const notes: string[] = [...(config.notes ?? [])]
  const conn = flags.offline ? undefined : await connect(flags, runners, opts)
  if (conn && !conn.cluster) notes.push('no kubeconfig or in-cluster configuration found: checking the configuration and GitLab only (pass --kubeconfig or --context to check a cluster, or --offline to check the file alone)')
  const checkRunners = runners.length > 0 ? runners : config.runners.slice(0, 1)
  return {
    notes,
    input: {
      config,
      runners: checkRunners.length > 0 ? checkRunners : [{ index: 0, name: '', executor: '', settings: {}, featureFlags: {}, path: ['runners', 0] }],
      checks,
      ...(ciFile ? { ciFile } : {}),
      options: { online: Boolean(conn?.cluster), live: Boolean(conn?.cluster) && flags.live },
      ...(conn ? { gather: conn.gather } : {}),
      ...(conn?.cluster ? { cluster: conn.cluster } : {}),
    },
  }
}
