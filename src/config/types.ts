/**
 * The loaded runner configuration as the rest of gkr sees it. Owned by src/config; the schema
 * (src/config/schema.ts) is the one source of truth for keys, types and defaults.
 *
 * CONTRACT (other modules rely on it): values keep the TOML key names (snake_case) exactly as the
 * runner's config.toml spells them, defaults applied, secrets wrapped in `Secret`.
 */
import type { Location } from '../util/errors.js'
import type { UnknownValue } from './templates.js'
import type { RunnerVersion } from './version.js'

export type KeyPath = ReadonlyArray<string | number>

export interface LoadedConfig {
  /** Absolute path of the file read. */
  file: string
  format: 'toml' | 'helm'
  /** For Helm values: the key path of the TOML string inside the YAML (e.g. `runners.config`). */
  helmPath?: string
  /** Top-level keys (concurrent, check_interval, log_level, ...), defaults applied. */
  global: Record<string, unknown>
  /** Every [[runners]] entry, Kubernetes or not. */
  runners: LoadedRunner[]
  /** The parsed document before defaults. */
  raw: Record<string, unknown>
  /** What the loader assumed while reading the file (e.g. the Helm release namespace), to say to the user. */
  notes?: string[]
  /** Position in the file of a key path (e.g. ['runners', 0, 'kubernetes', 'poll_timeout']). */
  locate(path: KeyPath): Location
  /** For Helm chart values: the merged values (secrets wrapped) and where each came from. */
  helm?: HelmInfo
  /** Values computed by templates (Helm `{{ }}`, Terraform `${}`), which gkr cannot know. */
  unknown?: UnknownValue[]
  /** The runner version the configuration targets, and where that was read from. */
  runnerVersion?: RunnerVersion
  /**
   * When the file holds several runner releases (Helmfile releases, HelmReleases, Argo CD Applications):
   * each release loaded on its own, in file order. `runners` is then every release's runners, and the
   * other fields (locate, helm, global, raw) are the first release's: use `configFor(config, runner)`.
   */
  releases?: LoadedConfig[]
  /** Flux `spec.valuesFrom` references, in order: read from the cluster by doctor, never by the loader. */
  valuesFrom?: ValuesFromRef[]
}

/** One entry of a Flux HelmRelease's `spec.valuesFrom`. */
export interface ValuesFromRef {
  kind: string
  name: string
  /** The HelmRelease's metadata.namespace (absent: the namespace it is applied to, which the file does not say). */
  namespace?: string
  /** The data key holding the values (Flux's default: values.yaml). */
  valuesKey: string
  /** Set the key's content at this dot path (like `helm --set`), instead of merging it as YAML. */
  targetPath?: string
  optional: boolean
  /** The HelmRelease it belongs to (`Flux HelmRelease "gitlab-runner"`): the key of its resolved values. */
  release: string
  /** Where the reference is written in the file. */
  at?: Location
  /** What holds the reference, for the user (`Flux HelmRelease "gitlab-runner", spec.valuesFrom[0]`). */
  label: string
}

export interface HelmInfo {
  /** The chart's values after Helm's merge (below the umbrella key, if any); runners.config left out. */
  values: Record<string, unknown>
  /** Every values source read, in merge order. */
  sources: Array<{ file: string; label: string }>
  /** Position of a values key path (e.g. ['rbac', 'rules']) in the last source that sets it. */
  locate(path: readonly string[]): Location
  /** Whether runners.config came from the values (false: the chart's default template was assumed). */
  configFromValues: boolean
  /** The chart version a GitOps wrapper pins. */
  chartVersion?: string
}

export interface LoadedRunner {
  /** Position in the [[runners]] array. */
  index: number
  /** The runner's `name` (may be empty). */
  name: string
  executor: string
  /** All [[runners]] keys with defaults applied (TOML names); `kubernetes` holds [runners.kubernetes]. */
  settings: Record<string, unknown>
  /** Feature flags with the runner's defaults, [runners.feature_flags] and `environment` applied. */
  featureFlags: Record<string, boolean>
  /** Key path of this runner in the document: ['runners', index]. */
  path: KeyPath
  /** The release that registers this runner, when the file holds several (index into LoadedConfig.releases). */
  release?: { label: string; index: number }
}
