import type { CiFile } from '../ci/types.js'
import { parseCiFile } from '../ci/parse.js'
import { loadConfig, selectRunners, type LoadOptions } from '../config/load.js'
import { valuesFromSources, type ValuesSource } from '../config/helm.js'
import type { LoadedConfig } from '../config/types.js'
import type { CheckResult } from '../checks/types.js'
import { ALL_CHECKS } from '../checks/registry.js'
import { selectChecks } from '../checks/run.js'
import { usageError } from '../util/errors.js'
import { echoInput } from '../util/text.js'
import type { DoctorInput } from './run.js'
import { connect, type ClusterFlags, type ConnectOptions, type Connection } from './cluster.js'

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
  const loadOpts: LoadOptions = { path: flags.config, env: opts.env, ...(flags['runner-version'] ? { runnerVersion: flags['runner-version'] } : {}) }
  let config = await loadConfig(loadOpts)
  let runners = selectRunners(config, flags.runner)
  const ciFile: CiFile | undefined = flags['ci-file'] ? await parseCiFile(flags['ci-file'], { ...(flags['include-dir'] ? { includeDir: flags['include-dir'] } : {}) }) : undefined
  const checks = selectChecks(ALL_CHECKS, { only: flags.only, skip: flags.skip })
  for (const id of [...(flags.only ?? []), ...(flags.skip ?? [])]) {
    if (!ALL_CHECKS.some((c) => c.id === id || c.area === id || (id.endsWith('*') && c.id.startsWith(id.slice(0, -1))))) {
      throw usageError('unknown-check', `no check or area named ${echoInput(id)}`, { at: { flag: flags.only?.includes(id) ? '--only' : '--skip' }, suggestions: ['`gkr doctor --help` links to docs/checks.md, which lists every check id and area.'] })
    }
  }
  // What the loader had to assume (e.g. Helm's {{ .Release.Namespace }}) is said before any finding.
  const conn = flags.offline ? undefined : await connect(flags, runners, opts)
  let configResults: CheckResult[] = []
  if (conn?.cluster && conn.readValuesFrom && config.valuesFrom?.length) {
    const fromCluster = await withValuesFrom(config, loadOpts, conn.readValuesFrom)
    config = fromCluster.config
    runners = selectRunners(config, flags.runner)
    configResults = fromCluster.results
  }
  const notes: string[] = [...(config.notes ?? [])]
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
      ...(configResults.length > 0 ? { configResults } : {}),
      ...(conn?.cluster ? { cluster: conn.cluster } : {}),
    },
  }
}

/**
 * Flux valuesFrom, read from the cluster: the configuration is loaded again with those values merged
 * before each HelmRelease's spec.values. A reference that cannot be used is a finding of its own.
 */
async function withValuesFrom(config: LoadedConfig, loadOpts: LoadOptions, read: NonNullable<Connection['readValuesFrom']>): Promise<{ config: LoadedConfig; results: CheckResult[] }> {
  const refs = config.valuesFrom ?? []
  const fetched = await read(refs)
  const byRelease = new Map<string, ValuesSource[]>()
  const notes: string[] = []
  const results: CheckResult[] = []
  for (const release of new Set(refs.map((r) => r.release))) {
    const resolved = valuesFromSources(fetched.filter((f) => f.ref.release === release))
    byRelease.set(release, resolved.sources)
    notes.push(...resolved.notes)
    if (resolved.problems.length === 0) continue
    const incomplete = resolved.problems.every((p) => p.incomplete)
    results.push({
      id: 'config-values-from',
      area: 'config',
      title: "The values a Flux HelmRelease's spec.valuesFrom names can be read",
      severity: 'fail',
      status: incomplete ? 'error' : 'fail',
      ...(incomplete ? { reason: resolved.problems.map((p) => p.message).join('; ') } : {}),
      catalog: [],
      findings: resolved.problems.map((p) => ({ check: 'config-values-from', severity: 'fail', catalog: [], message: p.message, ...(p.ref.at ? { at: p.ref.at } : {}) })),
    })
  }
  const reloaded = await loadConfig({ ...loadOpts, valuesFrom: byRelease })
  // The report names the file given (runners.config may now come from a ConfigMap, whose positions findings keep).
  return { config: { ...reloaded, file: config.file, notes: [...(reloaded.notes ?? []), ...notes] }, results }
}
