import { readFile, access } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import process from 'node:process'
import { parse as parseToml, TomlError } from 'smol-toml'
import { readdir, stat } from 'node:fs/promises'
import { isMap, isScalar, isSeq, type Node as YamlNode, type YAMLMap } from 'yaml'
import { usageError, type Location } from '../util/errors.js'
import { Secret } from '../util/secret.js'
import { KUBERNETES_FIELDS, ROOT_DEF, RUNNER_FIELDS, type KeyDef } from './schema.js'
import { pathKey, scanTomlPositions, type Pos } from './positions.js'
import { resolveFeatureFlags } from './feature-flags.js'
import type { KeyPath, LoadedConfig, LoadedRunner } from './types.js'
import { extractValues, looksLikeTerraform, nodeLocation, scalarOffset, type Offset, type ValuesSource } from './helm.js'
import { hasTemplate, maskTemplates, quoteBareTokens, unmask, type Placeholder, type UnknownValue } from './templates.js'
import { detectRunnerVersion, parseChartYaml, type ChartMeta } from './version.js'

export interface LoadOptions {
  /** --config (repeatable: Helm values files merged in order; or a directory); when absent: $GKR_CONFIG, then the runner's default path. */
  path?: string | readonly string[]
  /** --runner-version: the runner version the configuration targets. */
  runnerVersion?: string
  cwd?: string
  env?: NodeJS.ProcessEnv
  home?: string
  /** Whether the process runs as root (decides the runner's default path). */
  isRoot?: boolean
  /** Flux valuesFrom values read from the cluster, by HelmRelease (ValuesFromRef.release). */
  valuesFrom?: ReadonlyMap<string, readonly ValuesSource[]>
}

/** The paths the runner itself reads config.toml from: root uses /etc, everybody else their home. */
export function defaultConfigPaths(opts: { home?: string; isRoot?: boolean } = {}): string[] {
  const home = opts.home ?? os.homedir()
  const isRoot = opts.isRoot ?? process.getuid?.() === 0
  const system = '/etc/gitlab-runner/config.toml'
  const user = path.join(home, '.gitlab-runner', 'config.toml')
  return isRoot ? [system, user] : [user, system]
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  )
}

export async function resolveConfigPath(opts: LoadOptions = {}): Promise<string> {
  const env = opts.env ?? process.env
  const cwd = opts.cwd ?? process.cwd()
  if (typeof opts.path === 'string' && opts.path) return path.resolve(cwd, opts.path)
  if (Array.isArray(opts.path) && opts.path.length > 0) return path.resolve(cwd, opts.path[0]!)
  if (env.GKR_CONFIG) return path.resolve(cwd, env.GKR_CONFIG)
  const tried = defaultConfigPaths(opts)
  for (const p of tried) if (await exists(p)) return p
  throw usageError('config-not-found', `no runner configuration found (tried ${tried.join(' and ')})`, {
    at: { flag: '--config' },
    suggestions: ['Pass the file with --config (a config.toml or a Helm values.yaml), or set GKR_CONFIG.'],
  })
}

/** The files -c names: each path, a directory standing for its YAML files (values.yaml first, then by name). */
async function expandPaths(opts: LoadOptions): Promise<string[]> {
  const cwd = opts.cwd ?? process.cwd()
  const given = typeof opts.path === 'string' && opts.path ? [opts.path] : Array.isArray(opts.path) && opts.path.length > 0 ? [...(opts.path as string[])] : [await resolveConfigPath(opts)]
  const out: string[] = []
  for (const g of given) {
    const p = path.resolve(cwd, g)
    const st = await stat(p).catch(() => undefined)
    if (st?.isDirectory()) {
      const names = (await readdir(p)).filter((n) => /\.ya?ml$/i.test(n)).sort((x, y) => (/^values\.ya?ml$/i.test(x) ? -1 : /^values\.ya?ml$/i.test(y) ? 1 : x.localeCompare(y)))
      if (names.length === 0) throw usageError('config-dir-empty', `the directory ${p} holds no .yaml or .yml files`, { at: { file: p }, suggestions: ['Pass a config.toml, a values file, or a directory of Helm values files.'] })
      out.push(...names.map((n) => path.join(p, n)))
    } else out.push(p)
  }
  return out
}

async function readConfigFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : String(code ?? err)
    throw usageError('config-unreadable', `cannot read the runner configuration: ${why}`, { at: { file }, suggestions: ['Check the path given with --config or GKR_CONFIG.'] })
  }
}

/**
 * Loads a runner config.toml, or Helm chart values (plain, or in a Flux, Argo CD, Helmfile, k3s or
 * Fleet wrapper). Several files (or a directory) are Helm values files merged in Helm's order.
 */
export async function loadConfig(opts: LoadOptions = {}): Promise<LoadedConfig> {
  const files = await expandPaths(opts)
  const env = opts.env ?? process.env
  const version = { ...(opts.runnerVersion ? { runnerVersion: opts.runnerVersion } : {}), ...(opts.valuesFrom ? { valuesFrom: opts.valuesFrom } : {}) }
  if (files.length === 1) {
    const chart = await readChartYaml(files[0]!)
    return parseConfigText(await readConfigFile(files[0]!), files[0]!, { env, ...version, ...(chart ? { chart } : {}) })
  }
  const texts: Array<{ file: string; text: string }> = []
  for (const file of files) {
    const text = await readConfigFile(file)
    if (!isYamlFile(file, text)) {
      throw usageError('config-not-mergeable', `${path.basename(file)} is not Helm values: only Helm values files can be merged (give a config.toml on its own)`, { at: { file }, suggestions: ['Pass the config.toml alone, or only .yaml values files with -c.'] })
    }
    texts.push({ file, text })
  }
  const chart = await readChartYaml(files[0]!)
  return loadHelm(texts, { env, ...version, ...(chart ? { chart } : {}) })
}

/** The chart a values file belongs to: Chart.yaml next to it (the chart itself, or an umbrella chart depending on gitlab-runner). */
async function readChartYaml(file: string): Promise<ChartMeta | undefined> {
  const text = await readFile(path.join(path.dirname(file), 'Chart.yaml'), 'utf8').catch(() => undefined)
  return text === undefined ? undefined : parseChartYaml(text)
}

function isYamlFile(file: string, text: string): boolean {
  return /\.ya?ml$/i.test(file) || (!/\.toml$/i.test(file) && (looksLikeHelm(text) || looksLikeTerraform(file, text)))
}

/** Parses config text already in memory (tests, stdin). The format is chosen by extension, then content. */
export function parseConfigText(text: string, file: string, opts: HelmOptions = {}): LoadedConfig {
  if (isYamlFile(file, text)) return loadHelm([{ file, text }], opts)
  // A config.toml rendered from a template (Terraform templatefile, Helm): its placeholders are unknown values.
  const masked = maskTemplates(text)
  const loaded = fromToml(quoteBareTokens(masked.text), file, { line: 0, column: 0 }, 'toml')
  const unknown: UnknownValue[] = []
  unmaskToml(loaded.raw, masked.placeholders, [], unknown)
  if (unknown.length > 0) {
    for (const r of loaded.runners) {
      const raw = (loaded.raw.runners as unknown[])[r.index]
      if (isObject(raw)) Object.assign(r, loadRunner(raw, r.index))
    }
    loaded.unknown = unknown
    loaded.notes = [`${unknown.length} value${unknown.length === 1 ? ' is a template' : 's are templates'} gkr cannot evaluate, checked as if unset: ${unknown.slice(0, 5).map((u) => `${u.path} = ${u.expr}`).join(', ')}${unknown.length > 5 ? ', …' : ''}`]
  }
  const version = detectRunnerVersion({ flag: opts.runnerVersion })
  if (version) {
    loaded.runnerVersion = version
    loaded.notes = [...(loaded.notes ?? []), `checked against runner ${version.version} (from ${version.from})`]
  }
  return loaded
}

function looksLikeHelm(text: string): boolean {
  return /^\s*runners\s*:\s*$/m.test(text) || /^\s+config\s*:\s*\|/m.test(text)
}

function fromToml(text: string, file: string, offset: Offset, format: 'toml' | 'helm', helm?: HelmExtras): LoadedConfig {
  let doc: Record<string, unknown>
  try {
    doc = parseToml(text) as Record<string, unknown>
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split('\n')[0]!.replace(/^Invalid TOML document:\s*/, '')
      throw usageError('config-syntax', `invalid TOML: ${first}`, {
        at: { file, line: err.line + offset.line, column: err.column + (err.line === 1 ? 0 : offset.column) },
        ref: 'config-invalid',
        suggestions: ['Fix the TOML syntax at that position (gkr checks nothing until the file parses).'],
      })
    }
    throw err
  }
  const positions = scanTomlPositions(text)
  const locate = (p: KeyPath): Location => {
    const keyPath = p.map(String)
    for (let n = keyPath.length; n > 0; n--) {
      const pos: Pos | undefined = positions.get(pathKey(p.slice(0, n)))
      if (pos) return { file, line: pos.line + offset.line, column: pos.column + offset.column, path: formatPath(p) }
    }
    return { file, ...(offset.line > 0 ? { line: offset.line } : {}), path: formatPath(p) }
  }
  const raw = wrapSecrets(doc, ROOT_DEF) as Record<string, unknown>
  // With the chart, the global section comes from the chart's values: the runner's register command
  // takes only the [[runners]] entry of runners.config (its global keys are ignored).
  const global = applyDefaults(helm ? { ...helm.global } : raw, ROOT_DEF)
  delete global.runners
  const runnerList = Array.isArray(raw.runners) ? (raw.runners as unknown[]) : []
  const runners: LoadedRunner[] = runnerList.map((r, index) => loadRunner(isObject(r) ? r : {}, index, helm))
  return { file, format, ...(helm ? { helmPath: helm.path } : {}), global, runners, raw, notes: [], locate }
}

function loadRunner(r: Record<string, unknown>, index: number, helm?: HelmExtras): LoadedRunner {
  const settings = applyDefaults(r, { kind: 'table', doc: '', fields: RUNNER_FIELDS })
  // The chart registers with CI_SERVER_URL and RUNNER_EXECUTOR set; register merges the template only
  // into fields those left empty, so the chart's values win.
  if (helm?.url) settings.url = helm.url
  if (helm) settings.executor = helm.executor
  const executor = typeof settings.executor === 'string' ? settings.executor : ''
  const kube = isObject(r.kubernetes) ? r.kubernetes : {}
  if (executor === 'kubernetes' || isObject(r.kubernetes)) settings.kubernetes = applyDefaults(kube, { kind: 'table', doc: '', fields: KUBERNETES_FIELDS })
  const { flags } = resolveFeatureFlags(r)
  return {
    index,
    name: typeof settings.name === 'string' ? settings.name : '',
    executor,
    settings,
    featureFlags: flags,
    path: ['runners', index],
  }
}

/** Fills in the schema's defaults for absent keys of a table (recursively into present sub-tables). */
export function applyDefaults(value: Record<string, unknown>, def: KeyDef): Record<string, unknown> {
  const out: Record<string, unknown> = { ...value }
  for (const [k, d] of Object.entries(def.fields ?? {})) {
    if (d.status?.kind === 'removed') continue
    if (out[k] === undefined) {
      if (d.default !== undefined) out[k] = structuredClone(d.default)
    } else if (d.kind === 'table' && isObject(out[k]) && d.fields && !d.open) {
      out[k] = applyDefaults(out[k] as Record<string, unknown>, d)
    } else if (d.kind === 'table[]' && Array.isArray(out[k]) && d.fields && !d.open) {
      out[k] = (out[k] as unknown[]).map((item) => (isObject(item) ? applyDefaults(item, { kind: 'table', doc: '', fields: d.fields }) : item))
    }
  }
  return out
}

/** Wraps every value the schema marks secret in Secret, so no renderer can print it. */
function wrapSecrets(value: unknown, def: KeyDef | undefined): unknown {
  if (!def) return value
  if (def.secret && typeof value === 'string') return new Secret(value)
  if (def.kind === 'table' && isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wrapSecrets(v, def.fields?.[k])]))
  }
  if (def.kind === 'table[]' && Array.isArray(value)) {
    return value.map((item) => wrapSecrets(item, { kind: 'table', doc: '', fields: def.fields }))
  }
  return value
}

interface HelmExtras {
  /** Key path of the TOML string in the values (`runners.config`, `gitlab-runner.runners.config`). */
  path: string
  /** The executor the chart registers the runner with (RUNNER_EXECUTOR: runners.executor, default kubernetes). */
  executor: string
  /** gitlabUrl (the chart passes it as CI_SERVER_URL, which wins over the template's url). */
  url?: string
  /** The global section the chart writes into config.toml from its own values. */
  global: Record<string, unknown>
}

/** `{{ .Release.Namespace }}` (or the chart's `default .Release.Namespace .Values.runners.jobNamespace`). */
const RELEASE_NAMESPACE = /^\{\{-?\s*(?:default\s+)?\.Release\.Namespace(?:\s+\.Values\.runners\.jobNamespace)?\s*-?\}\}$/

/** The chart's own runners.config when the values set none (chart 0.53+; older charts built it from runners.* values). */
const CHART_DEFAULT_CONFIG = '[[runners]]\n  [runners.kubernetes]\n    namespace = "{{.Release.Namespace}}"\n    image = "alpine"\n'

/** The chart's defaults for the values it writes into the global section of config.toml (values.yaml, chart 0.86). */
function chartGlobal(values: Record<string, unknown>): Record<string, unknown> {
  const num = (v: unknown, d: number): unknown => (typeof v === 'number' ? v : d)
  const metrics = isObject(values.metrics) ? values.metrics : {}
  return {
    concurrent: num(values.concurrent, 10),
    check_interval: num(values.checkInterval, 3),
    shutdown_timeout: num(values.shutdown_timeout, 0),
    log_level: typeof values.logLevel === 'string' ? values.logLevel : 'info',
    ...(typeof values.logFormat === 'string' ? { log_format: values.logFormat } : {}),
    ...(metrics.enabled === true ? { listen_address: `:${typeof metrics.port === 'number' ? metrics.port : 9252}` } : {}),
  }
}

type HelmOptions = { env?: NodeJS.ProcessEnv; runnerVersion?: string; chart?: ChartMeta; valuesFrom?: LoadOptions['valuesFrom'] }

/**
 * Loads Helm chart values from one or more YAML files (in Helm's merge order: later files win). Values of
 * different releases (two Helmfile releases, two HelmReleases) are never merged: each release is loaded
 * on its own, with the values that belong to no release (plain values files) under it.
 */
export function loadHelm(files: ReadonlyArray<{ file: string; text: string }>, opts: HelmOptions = {}): LoadedConfig {
  const notes: string[] = []
  const sources: ValuesSource[] = []
  for (const f of files) {
    const ex = extractValues(f.text, f.file)
    // Flux merges a HelmRelease's valuesFrom (as doctor read them from the cluster) before its spec.values,
    // as values of that release only (another release in the same file does not get them).
    for (const src of ex.sources) sources.push(...(src.valuesFrom ? (opts.valuesFrom?.get(src.valuesFrom[0]!.release) ?? []).map((v) => (src.release ? { ...v, release: src.release } : v)) : []), src)
    // Once valuesFrom was read from the cluster, the note that it cannot be read offline no longer holds.
    const resolved = ex.sources.flatMap((s) => (s.valuesFrom && opts.valuesFrom?.has(s.valuesFrom[0]!.release) ? [`${s.valuesFrom[0]!.release} takes values from `] : []))
    const exNotes = ex.notes.filter((n) => !resolved.some((r) => n.startsWith(r)))
    notes.push(...(files.length > 1 ? exNotes.map((n) => `${path.basename(f.file)}: ${n}`) : exNotes))
  }
  if (files.length > 1) notes.unshift(`merged ${files.length} values files in Helm's order (later files win): ${files.map((f) => path.basename(f.file)).join(', ')}`)
  const releases = [...new Set(sources.flatMap((s) => (s.release ? [s.release] : [])))]
  if (releases.length <= 1) return loadSources(sources, notes, files[files.length - 1]!.file, opts)
  const parts = releases.map((label, index) => {
    const own = sources.filter((s) => !s.release || s.release === label)
    const part = loadSources(own, [], own.filter((s) => s.release === label).at(-1)!.file, opts)
    part.notes = (part.notes ?? []).map((n) => `${label}: ${n}`)
    for (const r of part.runners) r.release = { label, index }
    return part
  })
  const first = parts[0]!
  return {
    ...first,
    runners: parts.flatMap((p) => p.runners),
    notes: [...notes, `found ${releases.length} runner releases, each checked on its own: ${releases.join(', ')}`, ...parts.flatMap((p) => p.notes ?? [])],
    unknown: parts.flatMap((p) => p.unknown ?? []),
    // Every release's valuesFrom references, so doctor reads them all (each applies to its own release).
    ...(parts.some((p) => p.valuesFrom) ? { valuesFrom: parts.flatMap((p) => p.valuesFrom ?? []) } : {}),
    releases: parts,
  }
}

/** The configuration a runner belongs to: its own release's, when the file holds several. */
export function configFor(config: LoadedConfig, runner: Pick<LoadedRunner, 'release'>): LoadedConfig {
  return (runner.release && config.releases?.[runner.release.index]) || config
}

/** Loads one release: its values sources merged in order, then its runners.config. */
function loadSources(sources: readonly ValuesSource[], notes: string[], lastFile: string, opts: HelmOptions): LoadedConfig {
  const env = opts.env ?? {}
  const unknown: UnknownValue[] = []
  let merged: Record<string, unknown> = {}
  for (const src of sources) {
    let js: unknown
    try {
      js = src.node.toJS(src.doc, { maxAliasCount: 10_000 })
    } catch (err) {
      throw usageError('config-syntax', `invalid YAML: ${(err as Error).message.split('\n')[0]}`, { at: { file: src.file }, ref: 'config-invalid' })
    }
    const values = unmaskValues(js, src.placeholders, [], unknown)
    merged = helmMerge(merged, isObject(values) ? values : {})
  }
  // runners.config comes from the last source that sets it.
  const owner = [...sources].reverse().find((s) => isMap(s.node.get('runners', true)) && (s.node.get('runners', true) as unknown as YAMLMap).has('config'))
  const runnersValues = isObject(merged.runners) ? merged.runners : {}
  const keyPath = `${owner?.umbrella ? `${owner.umbrella}.` : ''}runners.config`
  let toml: string
  let offset: Offset
  let file = lastFile
  let placeholders: Placeholder[] = []
  if (owner) {
    const node = (owner.node.get('runners', true) as unknown as YAMLMap).get('config', true) as YamlNode
    if (!isScalar(node) || typeof node.value !== 'string') {
      throw usageError('config-helm-config-not-string', `${keyPath} must be a string holding the runner's config.toml (use a block scalar: \`config: |\`)`, { at: nodeLocation(owner, node) })
    }
    toml = node.value
    offset = scalarOffset(owner, node)
    file = owner.file
    placeholders = owner.placeholders
  } else {
    toml = CHART_DEFAULT_CONFIG
    offset = { line: 0, column: 0 }
    notes.push(typeof runnersValues.configPath === 'string' && runnersValues.configPath ? `runners.configPath (${runnersValues.configPath}) names a template file inside the pod, which gkr cannot read: checked the chart's default runners.config instead (pass that file with -c)` : "the values set no runners.config: checked the chart's default one ([runners.kubernetes] in the release namespace, image alpine)")
  }
  // The chart renders runners.config with `tpl`; the namespace expressions of its own default are the
  // release namespace, which only Helm knows.
  const jobNs = typeof runnersValues.jobNamespace === 'string' && runnersValues.jobNamespace ? runnersValues.jobNamespace : undefined
  const ns = jobNs ?? (env.HELM_NAMESPACE || 'default')
  let nsUsed = false
  const pending: Placeholder[] = []
  for (const p of placeholders) {
    if (!toml.includes(p.token)) continue
    if (RELEASE_NAMESPACE.test(p.expr)) {
      toml = toml.split(p.token).join(ns)
      nsUsed = true
    } else pending.push(p)
  }
  const literal = [...toml.matchAll(/\{\{[^}]*\}\}/g)].map((m) => m[0])
  if (!owner && literal.some((e) => RELEASE_NAMESPACE.test(e))) {
    toml = toml.replace(/\{\{[^}]*\}\}/g, (e) => (RELEASE_NAMESPACE.test(e) ? ns : e))
    nsUsed = true
  }
  if (nsUsed) notes.push(`${keyPath} uses {{ .Release.Namespace }}: assumed "${ns}" (${jobNs ? 'from runners.jobNamespace' : env.HELM_NAMESPACE ? 'from HELM_NAMESPACE' : 'set HELM_NAMESPACE to the release namespace'})`)
  const chartValues = owner?.umbrella && isObject(merged[owner.umbrella]) ? (merged[owner.umbrella] as Record<string, unknown>) : merged
  const extras: HelmExtras = {
    path: keyPath,
    executor: typeof runnersValues.executor === 'string' && runnersValues.executor ? runnersValues.executor : 'kubernetes',
    ...(typeof chartValues.gitlabUrl === 'string' ? { url: chartValues.gitlabUrl } : {}),
    global: chartGlobal(chartValues),
  }
  const loaded = fromToml(quoteBareTokens(toml), file, offset, 'helm', extras)
  // Values a template computes: unknown. Whole values are dropped (the runner's default is checked,
  // and no check judges the token); partial ones keep the expression's text.
  const tomlUnknown: UnknownValue[] = []
  unmaskToml(loaded.raw, pending, [], tomlUnknown)
  for (const r of loaded.runners) {
    const raw = (loaded.raw.runners as unknown[])[r.index]
    if (isObject(raw)) Object.assign(r, loadRunner(raw, r.index, extras))
  }
  unknown.push(...tomlUnknown)
  if (unknown.length > 0) notes.push(`${unknown.length} value${unknown.length === 1 ? ' is a template' : 's are templates'} gkr cannot evaluate, checked as if unset: ${unknown.slice(0, 5).map((u) => `${u.path} = ${u.expr}`).join(', ')}${unknown.length > 5 ? ', …' : ''}`)
  const redacted = redactHelmValues(chartValues)
  ;(loaded.raw as Record<string, unknown>).helmValues = redacted
  const chartVersion = [...sources].reverse().find((s) => s.chartVersion)?.chartVersion ?? opts.chart?.version
  const locateValue = (p: readonly string[]): Location => {
    for (const src of [...sources].reverse()) {
      const at = locateIn(src, p)
      if (at) return at
    }
    const last = sources[sources.length - 1]!
    return { file: last.file, path: p.join('.') }
  }
  loaded.helm = {
    values: redacted,
    sources: sources.map((s) => ({ file: s.file, label: s.label })),
    locate: locateValue,
    configFromValues: Boolean(owner),
    ...(chartVersion ? { chartVersion } : {}),
  }
  loaded.unknown = unknown
  const refs = sources.flatMap((s) => s.valuesFrom ?? [])
  if (refs.length > 0) loaded.valuesFrom = refs
  loaded.notes = [...notes, ...(loaded.notes ?? [])]
  const version = detectRunnerVersion({ flag: opts.runnerVersion, values: chartValues, chartVersion, ...(opts.chart?.appVersion ? { appVersion: opts.chart.appVersion } : {}) })
  if (version) {
    loaded.runnerVersion = version
    loaded.notes.push(`checked against runner ${version.version} (from ${version.from})`)
  }
  return loaded
}

/** Position of a values path in one source: the key's own position, or undefined when the source lacks it. */
function locateIn(src: ValuesSource, p: readonly string[]): Location | undefined {
  let cur: unknown = src.node
  let keyNode: YamlNode | undefined
  for (const seg of p) {
    if (isMap(cur)) {
      const pair = cur.items.find((it) => isScalar(it.key) && String(it.key.value) === seg)
      if (!pair) return undefined
      keyNode = pair.key as YamlNode
      cur = pair.value
    } else if (isSeq(cur) && /^\d+$/.test(seg)) {
      cur = cur.items[Number(seg)]
      keyNode = (cur as YamlNode | undefined) ?? keyNode
      if (cur === undefined) return undefined
    } else return undefined
  }
  return nodeLocation(src, keyNode, `${src.umbrella ? `${src.umbrella}.` : ''}${p.join('.')}`)
}

/** Helm's merge of values files: maps merge key by key, anything else is replaced, null deletes. */
export function helmMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k]
    else if (isObject(v) && isObject(out[k])) out[k] = helmMerge(out[k] as Record<string, unknown>, v)
    else out[k] = v
  }
  return out
}

function unmaskValues(v: unknown, placeholders: readonly Placeholder[], at: string[], unknown: UnknownValue[]): unknown {
  if (typeof v === 'string') {
    if (!hasTemplate(v)) return v
    const expr = unmask(v, placeholders)
    // runners.config is TOML text: its own templates are handled when it is parsed.
    if (!(at.length >= 2 && at[at.length - 1] === 'config' && at[at.length - 2] === 'runners')) unknown.push({ path: at.join('.'), expr })
    return at.length >= 2 && at[at.length - 1] === 'config' && at[at.length - 2] === 'runners' ? v : expr
  }
  if (Array.isArray(v)) return v.map((x, i) => unmaskValues(x, placeholders, [...at, String(i)], unknown))
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unmaskValues(x, placeholders, [...at, k], unknown)]))
  return v
}

/** Replaces template tokens in the parsed TOML: whole-token values are removed, partial ones get the expression back. */
function unmaskToml(v: Record<string, unknown> | unknown[], placeholders: readonly Placeholder[], at: Array<string | number>, unknown: UnknownValue[]): void {
  const entries: Array<[string | number, unknown]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v)
  for (const [k, x] of entries) {
    const here = [...at, k]
    const s = x instanceof Secret ? x.reveal() : x
    if (typeof s === 'string' && hasTemplate(s)) {
      const expr = unmask(s, placeholders)
      unknown.push({ path: formatPath(here), expr })
      const whole = /^(__gkr_tpl\d+_*|\$\{[^}]*\}|\{\{[\s\S]*\}\})$/.test(s.trim())
      if (Array.isArray(v)) v[k as number] = expr
      else if (whole) delete (v as Record<string, unknown>)[k as string]
      else (v as Record<string, unknown>)[k as string] = x instanceof Secret ? new Secret(expr) : expr
    } else if (Array.isArray(x) || isObject(x)) unmaskToml(x as Record<string, unknown>, placeholders, here, unknown)
  }
}

function redactHelmValues(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(values)) {
    if (/token|password|secret|dsn/i.test(k) && typeof v === 'string') out[k] = new Secret(v)
    else if (k === 'runners' && isObject(v)) out[k] = Object.fromEntries(Object.entries(v).filter(([rk]) => rk !== 'config'))
    else out[k] = v
  }
  return out
}

export function formatPath(p: KeyPath): string {
  let s = ''
  for (const seg of p) s += typeof seg === 'number' ? `[${seg}]` : s ? `.${seg}` : seg
  return s
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Secret) && !(v instanceof Date)
}

/** The Kubernetes runners to check: all of them, or the one --runner names. */
export function selectRunners(config: LoadedConfig, name?: string): LoadedRunner[] {
  if (name !== undefined) {
    const r = config.runners.find((x) => x.name === name)
    if (!r) {
      const names = config.runners.map((x) => (x.name ? `"${x.name}"` : `#${x.index} (unnamed)`))
      throw usageError('runner-not-found', `no [[runners]] entry named "${name}" in ${config.file}`, {
        at: { flag: '--runner' },
        suggestions: [names.length > 0 ? `The file has: ${names.join(', ')}.` : 'The file has no [[runners]] entries.'],
      })
    }
    if (r.executor !== 'kubernetes') {
      throw usageError('runner-not-kubernetes', `runner "${name}" uses the ${r.executor || '(unset)'} executor, not kubernetes`, {
        at: configFor(config, r).locate([...r.path, 'executor']),
      })
    }
    return [r]
  }
  return config.runners.filter((r) => r.executor === 'kubernetes')
}

/** The kubernetes table of a runner (defaults applied). */
export function kube(runner: LoadedRunner): Record<string, unknown> {
  return isObject(runner.settings.kubernetes) ? runner.settings.kubernetes : {}
}
