import { readFile, access } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import process from 'node:process'
import { parse as parseToml, TomlError } from 'smol-toml'
import { isMap, isScalar, parseDocument, Scalar, type Document, type Node as YamlNode } from 'yaml'
import { usageError, type Location } from '../util/errors.js'
import { checkYamlDocument } from '../util/yaml-guard.js'
import { Secret } from '../util/secret.js'
import { KUBERNETES_FIELDS, ROOT_DEF, RUNNER_FIELDS, type KeyDef } from './schema.js'
import { pathKey, scanTomlPositions, type Pos } from './positions.js'
import { resolveFeatureFlags } from './feature-flags.js'
import type { KeyPath, LoadedConfig, LoadedRunner } from './types.js'

export interface LoadOptions {
  /** --config; when absent: $GKR_CONFIG, then the runner's default path. */
  path?: string
  cwd?: string
  env?: NodeJS.ProcessEnv
  home?: string
  /** Whether the process runs as root (decides the runner's default path). */
  isRoot?: boolean
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
  if (opts.path) return path.resolve(cwd, opts.path)
  if (env.GKR_CONFIG) return path.resolve(cwd, env.GKR_CONFIG)
  const tried = defaultConfigPaths(opts)
  for (const p of tried) if (await exists(p)) return p
  throw usageError('config-not-found', `no runner configuration found (tried ${tried.join(' and ')})`, {
    at: { flag: '--config' },
    suggestions: ['Pass the file with --config (a config.toml or a Helm values.yaml), or set GKR_CONFIG.'],
  })
}

/** Loads a runner config.toml or a Helm chart values.yaml holding it under runners.config. */
export async function loadConfig(opts: LoadOptions = {}): Promise<LoadedConfig> {
  const file = await resolveConfigPath(opts)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : String(code ?? err)
    throw usageError('config-unreadable', `cannot read the runner configuration: ${why}`, { at: { file }, suggestions: ['Check the path given with --config or GKR_CONFIG.'] })
  }
  return parseConfigText(text, file, { env: opts.env ?? process.env })
}

/** Parses config text already in memory (tests, stdin). The format is chosen by extension, then content. */
export function parseConfigText(text: string, file: string, opts: { env?: NodeJS.ProcessEnv } = {}): LoadedConfig {
  const yamlExt = /\.ya?ml$/i.test(file)
  if (yamlExt || (!/\.toml$/i.test(file) && looksLikeHelm(text))) return fromHelm(text, file, opts.env ?? {})
  return fromToml(text, file, { line: 0, column: 0 }, 'toml')
}

function looksLikeHelm(text: string): boolean {
  return /^\s*runners\s*:\s*$/m.test(text) || /^\s+config\s*:\s*\|/m.test(text)
}

interface Offset {
  line: number
  column: number
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
  if (helm?.concurrent !== undefined && raw.concurrent === undefined) raw.concurrent = helm.concurrent
  const global = applyDefaults(raw, ROOT_DEF)
  delete global.runners
  const runnerList = Array.isArray(raw.runners) ? (raw.runners as unknown[]) : []
  const runners: LoadedRunner[] = runnerList.map((r, index) => loadRunner(isObject(r) ? r : {}, index, helm))
  return { file, format, ...(helm ? { helmPath: helm.path } : {}), global, runners, raw, notes: [], locate }
}

function loadRunner(r: Record<string, unknown>, index: number, helm?: HelmExtras): LoadedRunner {
  const settings = applyDefaults(r, { kind: 'table', doc: '', fields: RUNNER_FIELDS })
  if (helm?.url && !settings.url) settings.url = helm.url
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
  path: string
  url?: string
  concurrent?: number
}

/** The most values Helm values may expand to through aliases. */
const MAX_EXPANDED_NODES = 1_000_000

/** `{{ .Release.Namespace }}` in runners.config: the chart renders the TOML with Helm's `tpl`. */
const RELEASE_NAMESPACE = /\{\{-?\s*\.Release\.Namespace\s*-?\}\}/g

function fromHelm(text: string, file: string, env: NodeJS.ProcessEnv): LoadedConfig {
  const doc = parseDocument(text, { keepSourceTokens: false })
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!
    const lp = e.linePos?.[0]
    throw usageError('config-syntax', `invalid YAML: ${e.message.split('\n')[0]}`, {
      at: { file, ...(lp ? { line: lp.line, column: lp.col } : {}) },
      ref: 'config-invalid',
      suggestions: ['Fix the YAML syntax at that position.'],
    })
  }
  // Circular and undefined aliases and alias bombs, with a position (toJSON would build a circular value or throw without one).
  const problem = checkYamlDocument(doc, { maxExpandedNodes: MAX_EXPANDED_NODES })
  if (problem) {
    throw usageError('config-syntax', `invalid YAML: ${problem.message}`, { at: { file, ...linePosOf(text, problem.offset) }, ref: 'config-invalid', suggestions: ['Fix the YAML at that position.'] })
  }
  const found = findRunnersConfig(doc)
  if (!found) {
    throw usageError('config-helm-no-runners-config', 'this YAML file has no runners.config: it does not look like GitLab Runner Helm chart values', {
      at: { file },
      suggestions: ['Put the runner config.toml in `runners.config: |` (or under the umbrella chart key), or pass the config.toml itself.'],
    })
  }
  const { node, keyPath, parentKey } = found
  if (!isScalar(node) || typeof node.value !== 'string') {
    throw usageError('config-helm-config-not-string', `${keyPath} must be a string holding the runner's config.toml (use a block scalar: \`config: |\`)`, {
      at: { file, ...linePosOf(text, node.range?.[0] ?? 0) },
    })
  }
  const offset = tomlOffset(text, node)
  // From the whole document, so aliases resolve (a node's own toJSON leaves them as { source }).
  let all: Record<string, unknown>
  try {
    all = doc.toJS({ maxAliasCount: 10_000 }) as Record<string, unknown>
  } catch (err) {
    throw usageError('config-syntax', `invalid YAML: ${(err as Error).message.split('\n')[0]}`, { at: { file }, ref: 'config-invalid' })
  }
  const picked = parentKey === undefined ? all : all[parentKey]
  const values = isObject(picked) ? picked : {}
  const helm: HelmExtras = {
    path: keyPath,
    ...(typeof values.gitlabUrl === 'string' ? { url: values.gitlabUrl } : {}),
    ...(typeof values.concurrent === 'number' ? { concurrent: values.concurrent } : {}),
  }
  // The chart passes runners.config through `tpl`; the one expression its own default uses is the
  // release namespace, which only Helm knows. Use HELM_NAMESPACE (Helm's own variable) or "default".
  const notes: string[] = []
  let toml = node.value
  if (RELEASE_NAMESPACE.test(toml)) {
    const ns = env.HELM_NAMESPACE || 'default'
    toml = toml.replace(RELEASE_NAMESPACE, ns)
    notes.push(`${keyPath} uses {{ .Release.Namespace }}: assumed "${ns}" (${env.HELM_NAMESPACE ? 'from HELM_NAMESPACE' : 'set HELM_NAMESPACE to the release namespace'})`)
  }
  const others = [...new Set(toml.match(/\{\{[^}]*\}\}/g) ?? [])]
  if (others.length > 0) notes.push(`${keyPath} holds Helm template expressions gkr cannot evaluate, read as plain text: ${others.join(', ')}`)
  const loaded = fromToml(toml, file, offset, 'helm', helm)
  ;(loaded.raw as Record<string, unknown>).helmValues = redactHelmValues(values)
  loaded.notes = [...(loaded.notes ?? []), ...notes]
  return loaded
}

function redactHelmValues(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(values)) {
    if (/token|password|secret/i.test(k) && typeof v === 'string') out[k] = new Secret(v)
    else if (k !== 'runners') out[k] = v
  }
  return out
}

/** runners.config at the top, or one level down (umbrella chart: `gitlab-runner: { runners: { config } }`). */
function findRunnersConfig(doc: Document): { node: YamlNode; keyPath: string; parentKey?: string } | undefined {
  const root = doc.contents
  if (!isMap(root)) return undefined
  const at = (m: YamlNode, parentKey?: string): { node: YamlNode; keyPath: string; parentKey?: string } | undefined => {
    if (!isMap(m)) return undefined
    const runners = m.get('runners', true)
    if (isMap(runners)) {
      const cfg = runners.get('config', true)
      if (cfg) return { node: cfg as YamlNode, keyPath: `${parentKey === undefined ? '' : `${parentKey}.`}runners.config`, ...(parentKey === undefined ? {} : { parentKey }) }
    }
    return undefined
  }
  const top = at(root)
  if (top) return top
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined
    if (key && pair.value) {
      const nested = at(pair.value as YamlNode, key)
      if (nested) return nested
    }
  }
  return undefined
}

/** Where line 1, column 1 of the embedded TOML is in the YAML file. */
function tomlOffset(text: string, node: Scalar): Offset {
  const start = node.range?.[0] ?? 0
  const { line } = linePosOf(text, start)
  if (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) {
    const lines = text.split(/\r?\n/)
    // The content starts on the line after the `|` indicator; its indentation is stripped by YAML.
    let first = line
    while (first < lines.length && lines[first]!.trim() === '') first++
    const indent = /^\s*/.exec(lines[first] ?? '')![0].length
    return { line: first, column: indent }
  }
  return { line: line - 1, column: 0 }
}

function linePosOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  return { line, column: offset - before.lastIndexOf('\n') }
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
        at: config.locate([...r.path, 'executor']),
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
