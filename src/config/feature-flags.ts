/**
 * The runner's feature flags that change what the Kubernetes executor does, with their defaults
 * (runner 19.x), and how the runner resolves them for a job: [runners.feature_flags] wins when the
 * key is present; otherwise `environment` entries ("FF_X=true") and then job variables apply.
 */
export interface FeatureFlagDef {
  name: string
  default: boolean
  doc: string
  deprecated?: string
}

export const FEATURE_FLAGS: readonly FeatureFlagDef[] = [
  { name: 'FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY', default: false, doc: 'Run scripts with exec (legacy) instead of attaching to the build container.' },
  { name: 'FF_KUBERNETES_HONOR_ENTRYPOINT', default: false, doc: "Run the build image's ENTRYPOINT instead of overriding it." },
  { name: 'FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR', default: false, doc: 'Start build and helper containers under dumb-init.' },
  { name: 'FF_PRINT_POD_EVENTS', default: false, doc: 'Watch the pod events and print them to the job log while waiting.' },
  { name: 'FF_WAIT_FOR_POD_TO_BE_REACHABLE', default: false, doc: 'After the pod runs, wait until the helper container answers.' },
  { name: 'FF_USE_POD_ACTIVE_DEADLINE_SECONDS', default: true, doc: 'Set activeDeadlineSeconds of the pod to the job timeout plus one second.' },
  { name: 'FF_USE_ADVANCED_POD_SPEC_CONFIGURATION', default: false, doc: 'Apply the pod_spec patches (without it pod_spec is ignored).' },
  { name: 'FF_DISABLE_UMASK_FOR_KUBERNETES_EXECUTOR', default: false, doc: 'Collect the build image UID/GID in an extra init container instead of using umask 0000.' },
  { name: 'FF_USE_POWERSHELL_PATH_RESOLVER', default: false, doc: 'Let PowerShell resolve paths (needed for Windows jobs).' },
  { name: 'FF_SUSPENDABLE_ENVIRONMENTS', default: false, doc: 'Keep job environments on a PVC so they can be suspended and resumed.' },
  { name: 'FF_CONCRETE', default: false, doc: 'Run the whole job through the step runner (no helper container).' },
  { name: 'FF_SCRIPT_SECTIONS', default: false, doc: 'Put every script line in its own collapsible log section.' },
  { name: 'FF_TIMESTAMPS', default: true, doc: 'Prefix job log lines with timestamps.' },
  { name: 'FF_SECRET_RESOLVING_FAILS_IF_MISSING', default: true, doc: 'Fail the job when an external secret cannot be resolved.' },
  { name: 'FF_MASK_ALL_DEFAULT_TOKENS', default: true, doc: 'Mask every default token in job logs.' },
  { name: 'FF_USE_DIRECT_DOWNLOAD', default: true, doc: 'Download artifacts directly from object storage.' },
  { name: 'FF_USE_FASTZIP', default: true, doc: 'Use the fastzip archiver for artifacts and caches.', deprecated: 'deprecated; removed in runner 19.7' },
]

export const FEATURE_FLAG_NAMES: ReadonlySet<string> = new Set(FEATURE_FLAGS.map((f) => f.name))

/** Parses a feature-flag value as Go's strconv.ParseBool does. */
export function parseBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v
  if (typeof v !== 'string') return undefined
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false
  return undefined
}

export interface FlagProblem {
  name: string
  raw: unknown
  source: 'feature_flags' | 'environment'
  index?: number
}

/**
 * Resolves the feature flags of one runner: defaults, then `environment` "FF_X=..." entries, then
 * [runners.feature_flags] (which wins when the key is present). Job variables may still change flags
 * not set in [runners.feature_flags]; `jobVariables` applies them.
 */
export function resolveFeatureFlags(
  runner: { feature_flags?: unknown; environment?: unknown },
  jobVariables: Record<string, string> = {},
): { flags: Record<string, boolean>; problems: FlagProblem[] } {
  const flags: Record<string, boolean> = Object.fromEntries(FEATURE_FLAGS.map((f) => [f.name, f.default]))
  const problems: FlagProblem[] = []
  const env = Array.isArray(runner.environment) ? runner.environment : []
  env.forEach((entry, index) => {
    if (typeof entry !== 'string') return
    const eq = entry.indexOf('=')
    const name = eq < 0 ? entry : entry.slice(0, eq)
    if (!name.startsWith('FF_')) return
    const v = parseBool(eq < 0 ? '' : entry.slice(eq + 1))
    if (v === undefined) problems.push({ name, raw: entry.slice(eq + 1), source: 'environment', index })
    else flags[name] = v
  })
  const table = runner.feature_flags && typeof runner.feature_flags === 'object' ? (runner.feature_flags as Record<string, unknown>) : {}
  for (const [name, v] of Object.entries(jobVariables)) {
    if (!name.startsWith('FF_') || name in table) continue
    const b = parseBool(v)
    if (b !== undefined) flags[name] = b
  }
  for (const [name, raw] of Object.entries(table)) {
    const v = parseBool(raw)
    if (v === undefined) problems.push({ name, raw, source: 'feature_flags' })
    else flags[name] = v
  }
  return { flags, problems }
}
