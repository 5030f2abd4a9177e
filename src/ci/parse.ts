/**
 * The .gitlab-ci.yml parser every module uses: reads a CI file and resolves, for each visible job, what the
 * Kubernetes executor needs (image, services, variables, scripts, timeout, cache and artifact paths) the way
 * GitLab composes it: YAML anchors and merge keys, `!reference` tags, `extends:` (multi-level, deep merge,
 * arrays replaced), `default:` (and the legacy top-level keys), `inherit:` and `--var` overrides.
 * Keys gkr does not act on are listed in `job.unsupported`.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { LineCounter, parseDocument, isMap, isScalar, YAMLSeq, type CollectionTag } from 'yaml'
import type { CiDocument, CiFile, CiImage, CiJob, CiPort, CiService, Obj } from './types.js'
import { parseDuration } from './duration.js'
import { usageError, type Location } from '../util/errors.js'
import { editDistance, clipLongWords } from '../util/text.js'
import { checkYamlDocument, firstAliasOffset } from '../util/yaml-guard.js'
import { resolveIncludes } from './include.js'

export type { CiDocument, Obj } from './types.js'

/** A `!reference [job, key, …]` tag, kept as a marker until the whole file is known. */
class Reference {
  /** Its position, set once the file it is written in is known (placeReferences). */
  at?: Location
  constructor(readonly path: unknown[], readonly offset: number) {}
}

class ReferenceSeq extends YAMLSeq {
  override toJSON(_?: unknown, ctx?: Parameters<YAMLSeq['toJSON']>[1]): unknown[] {
    // A marker object stands in the place of the sequence; resolveReferences() replaces it.
    return new Reference(super.toJSON(_, ctx), this.range?.[0] ?? 0) as unknown as unknown[]
  }
}

const referenceTag: CollectionTag = {
  tag: '!reference',
  collection: 'seq',
  nodeClass: ReferenceSeq,
  resolve: (seq) => seq,
}

/** Top-level keys that are not jobs. */
const GLOBAL_KEYWORDS = new Set([
  'default', 'include', 'stages', 'variables', 'workflow', 'image', 'services', 'before_script',
  'after_script', 'cache', 'types', 'spec',
])
/** Keys `default:` may carry that gkr acts on. */
const DEFAULTABLE = ['image', 'services', 'before_script', 'after_script', 'timeout', 'cache', 'artifacts'] as const
/** Job keys gkr acts on. Everything else present in a job is reported as unsupported. */
const SUPPORTED_JOB_KEYS = new Set([
  'image', 'services', 'variables', 'before_script', 'script', 'after_script', 'timeout', 'cache',
  'artifacts', 'extends', 'stage', 'inherit',
])
/** Keys with no effect on a single local run; not worth a warning. */
const HARMLESS_JOB_KEYS = new Set(['tags', 'interruptible', 'coverage', 'allow_failure', 'retry', 'description'])

const MAX_EXTENDS_DEPTH = 11
const MAX_REFERENCE_DEPTH = 10
/** The most values a CI file may expand to through aliases (a large real file has a few hundred thousand). */
const MAX_EXPANDED_NODES = 1_000_000

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Reference)

export interface ParseCiOptions {
  /** `--var KEY=VALUE` overrides; they win over every variable in the file. */
  vars?: Record<string, string>
  /** The project's root, which `include: local:` paths are relative to (default: the CI file's folder). */
  projectDir?: string
  /** Where `include: project:`, `template:` and `remote:` files are looked up (--include-dir); without it they are not followed. */
  includeDir?: string
}

export async function parseCiFile(path: string, opts: ParseCiOptions = {}): Promise<CiFile> {
  let source: string
  try {
    source = await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw usageError('ci-file-unreadable', `cannot read CI file ${path}: ${code === 'ENOENT' ? 'no such file' : String(code ?? err)}`, {
      at: { file: path, flag: '--ci-file' },
      suggestions: ['Pass the CI file with --ci-file, or run gkr from the directory that holds .gitlab-ci.yml.'],
    })
  }
  return parseCiSource(source, path, { projectDir: dirname(resolve(path)), ...opts })
}

/** One YAML file of the pipeline (the CI file or an include), read as it stands. */

/** Parses one file of the pipeline; errors name that file, line and column. */
export function loadCiDocument(source: string, file: string): CiDocument {
  const lineCounter = new LineCounter()
  const doc = parseDocument(source, { lineCounter, merge: true, customTags: [referenceTag], prettyErrors: false, uniqueKeys: false })
  const locate = (offset: number, path?: string): Location => {
    const pos = lineCounter.linePos(offset)
    return { file, line: pos.line, column: pos.col, ...(path ? { path } : {}) }
  }
  const keyAt = new Map<string, Location>()
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!
    const at = locate(e.pos[0])
    throw usageError('ci-yaml-invalid', `invalid YAML: ${firstLine(e.message)}`, { at })
  }
  // Duplicate keys, circular and undefined aliases, alias bombs: with a position, before toJS (see yaml-guard).
  const problem = checkYamlDocument(doc, { merge: true, uniqueKeys: true, maxExpandedNodes: MAX_EXPANDED_NODES })
  if (problem) throw usageError('ci-yaml-invalid', `invalid YAML: ${problem.message}`, { at: locate(problem.offset) })
  const contents = doc.contents
  if (contents === null || (isScalar(contents) && contents.value === null)) return { file, raw: undefined, keyAt, doc, locate }
  if (!isMap(contents)) {
    throw usageError('ci-yaml-invalid', 'the CI file must be a mapping of keywords and jobs', { at: locate(0) })
  }
  for (const pair of contents.items) {
    if (isScalar(pair.key) && pair.key.range) keyAt.set(String(pair.key.value), locate(pair.key.range[0], String(pair.key.value)))
  }
  let raw: Obj
  try {
    raw = doc.toJS({ maxAliasCount: 10_000 }) as Obj
  } catch (err) {
    // yaml's own alias-count limit (the guard above lets smaller bombs through): point at the first alias.
    throw usageError('ci-yaml-invalid', `invalid YAML: ${firstLine((err as Error).message)}`, { at: locate(firstAliasOffset(doc) ?? 0) })
  }
  placeReferences(raw, locate)
  return { file, raw, keyAt, doc, locate }
}

/** Gives every `!reference` marker its position in its own file (references are resolved after includes are merged). */
function placeReferences(value: unknown, locate: (o: number) => Location): void {
  if (value instanceof Reference) value.at ??= locate(value.offset)
  else if (Array.isArray(value)) for (const v of value) placeReferences(v, locate)
  else if (isObj(value)) for (const v of Object.values(value)) placeReferences(v, locate)
}

/** Same as parseCiFile, from text already in memory (`file` is used for locations, and for local includes without projectDir). */
export function parseCiSource(source: string, file: string, opts: ParseCiOptions = {}): CiFile {
  const main = loadCiDocument(source, file)
  const included = resolveIncludes(main, { projectDir: opts.projectDir ?? dirname(resolve(file)), ...(opts.includeDir ? { includeDir: opts.includeDir } : {}) }, loadCiDocument, deepMerge)
  const notes = included.notes
  if (!included.raw) return { file, jobs: {}, ...(notes.length ? { notes } : {}) }
  const keyAt = included.keyAt
  const root = resolveReferences(included.raw, included.raw, main.locate, 0) as Obj

  const globals = isObj(root.variables) ? root.variables : {}
  const defaults: Obj = isObj(root.default) ? { ...root.default } : {}
  // Legacy top-level image/services/scripts/cache act as defaults when `default:` does not set them.
  for (const k of ['image', 'services', 'before_script', 'after_script', 'cache'] as const) {
    if (root[k] !== undefined && defaults[k] === undefined) defaults[k] = root[k]
  }

  const jobs: Record<string, CiJob> = {}
  for (const [name, value] of Object.entries(root)) {
    if (GLOBAL_KEYWORDS.has(name) || name.startsWith('.')) continue
    const at = keyAt.get(name) ?? { file, path: name }
    if (!isObj(value)) {
      throw usageError('ci-job-invalid', `job ${name} must be a mapping of keywords`, { at })
    }
    const merged = resolveExtends(name, root, at, [])
    jobs[name] = buildJob(name, merged, globals, defaults, opts.vars ?? {}, at)
    if (notes.length) jobs[name].notes = notes
  }
  return { file, jobs, ...(notes.length ? { notes } : {}) }
}

/** The job named `name`, or a usage error listing the jobs (with a did-you-mean). */
export function selectJob(ci: CiFile, name: string): CiJob {
  const job = ci.jobs[name]
  if (job) return job
  const names = Object.keys(ci.jobs)
  const close = names
    .map((n) => ({ n, d: editDistance(n.toLowerCase(), name.toLowerCase()) }))
    .filter((c) => c.d <= Math.max(2, Math.floor(name.length / 3)))
    .sort((a, b) => a.d - b.d)
  const suggestions = close.length > 0 ? [`Did you mean ${close[0]!.n}?`] : []
  suggestions.push(names.length > 0 ? `Jobs in ${ci.file}: ${names.join(', ')}` : `${ci.file} defines no runnable job.`)
  // The job may come from an include gkr could not follow: say so, rather than only "no job named X".
  const unfollowed = (ci.notes ?? []).filter((n) => n.includes('not followed'))
  if (unfollowed.length > 0) suggestions.unshift(...unfollowed.map((n) => `It may be defined in an include gkr did not follow: ${n}`))
  throw usageError('ci-job-unknown', `no job named ${clipLongWords(name)} in ${ci.file}${unfollowed.length > 0 ? ` or the files it includes (${unfollowed.length} include${unfollowed.length === 1 ? ' was' : 's were'} not followed)` : ''}`, { at: { file: ci.file }, suggestions })
}

function resolveReferences(value: unknown, root: Obj, locate: (o: number) => Location, depth: number): unknown {
  if (value instanceof Reference) {
    const at = value.at ?? locate(value.offset)
    if (depth > MAX_REFERENCE_DEPTH) {
      throw usageError('ci-reference-invalid', `!reference nested more than ${MAX_REFERENCE_DEPTH} levels deep`, { at })
    }
    let cur: unknown = root
    for (const seg of value.path) {
      if (!isObj(cur) || !(String(seg) in cur)) {
        throw usageError('ci-reference-invalid', `!reference [${value.path.join(', ')}] points to nothing (no ${String(seg)})`, { at })
      }
      cur = cur[String(seg)]
    }
    return resolveReferences(cur, root, locate, depth + 1)
  }
  if (Array.isArray(value)) {
    const out: unknown[] = []
    for (const item of value) {
      const r = resolveReferences(item, root, locate, depth)
      // A reference inside a list splices its list in (GitLab flattens nested script arrays).
      if (item instanceof Reference && Array.isArray(r)) for (const x of r) out.push(x) // not push(...r): a long list overflows the stack
      else out.push(r)
    }
    return out
  }
  if (isObj(value)) {
    const out: Obj = {}
    for (const [k, v] of Object.entries(value)) out[k] = resolveReferences(v, root, locate, depth)
    return out
  }
  return value
}

function resolveExtends(name: string, root: Obj, at: Location, chain: string[]): Obj {
  const job = root[name]
  if (!isObj(job)) {
    const from = chain[chain.length - 1]
    throw usageError('ci-extends-invalid', `${from ?? name}: extends ${name}, which is not defined`, { at })
  }
  if (chain.includes(name)) {
    throw usageError('ci-extends-invalid', `circular extends: ${[...chain, name].join(' → ')}`, { at })
  }
  if (chain.length >= MAX_EXTENDS_DEPTH) {
    throw usageError('ci-extends-invalid', `extends nested more than ${MAX_EXTENDS_DEPTH} levels deep`, { at })
  }
  const parents = job.extends === undefined ? [] : Array.isArray(job.extends) ? job.extends : [job.extends]
  let merged: Obj = {}
  for (const p of parents) {
    if (typeof p !== 'string') throw usageError('ci-extends-invalid', `${name}: extends must name jobs or templates`, { at })
    merged = deepMerge(merged, resolveExtends(p, root, at, [...chain, name]))
  }
  const { extends: _ignored, ...own } = job
  return deepMerge(merged, own)
}

/** GitLab's extends merge: hashes merge key by key, everything else (arrays included) is replaced. */
function deepMerge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const b = out[k]
    out[k] = isObj(b) && isObj(v) ? deepMerge(b, v) : v
  }
  return out
}

function buildJob(name: string, merged: Obj, globals: Obj, defaults: Obj, overrides: Record<string, string>, at: Location): CiJob {
  const inherit = isObj(merged.inherit) ? merged.inherit : {}
  const inheritDefault = inheritSet(inherit.default)
  const inheritVars = inheritSet(inherit.variables)
  const job: Obj = { ...merged }
  for (const k of DEFAULTABLE) {
    if (job[k] === undefined && defaults[k] !== undefined && inheritDefault(k)) job[k] = defaults[k]
  }
  const where = (key: string): Location => ({ ...at, path: `${name}.${key}` })

  const variables: Record<string, string> = {}
  const masked = new Set<string>()
  const take = (k: string, v: unknown): void => {
    variables[k] = variableValue(v)
    if (isMasked(v)) masked.add(k)
  }
  for (const [k, v] of Object.entries(globals)) if (inheritVars(k)) take(k, v)
  if (isObj(job.variables)) for (const [k, v] of Object.entries(job.variables)) take(k, v)
  Object.assign(variables, overrides)

  let timeout: number | undefined
  if (job.timeout !== undefined && job.timeout !== null) {
    timeout = parseDuration(job.timeout as string | number)
    if (timeout === undefined) {
      throw usageError('ci-timeout-invalid', `${name}: timeout "${String(job.timeout)}" is not a duration (e.g. 1h 30m)`, { at: where('timeout') })
    }
  }

  const unsupported = Object.keys(merged).filter((k) => !SUPPORTED_JOB_KEYS.has(k) && !HARMLESS_JOB_KEYS.has(k)).sort()
  const result: CiJob = {
    name,
    stage: typeof job.stage === 'string' ? job.stage : 'test',
    services: listOf(job.services).map((s) => service(s, name, where('services'))),
    variables,
    masked: [...masked].sort(),
    before_script: script(job.before_script, name, 'before_script', where),
    script: script(job.script, name, 'script', where),
    after_script: script(job.after_script, name, 'after_script', where),
    cache: listOf(job.cache).filter(isObj).map(cacheEntry),
    artifacts: artifacts(job.artifacts),
    unsupported,
    at,
  }
  if (job.image !== undefined && job.image !== null) result.image = image(job.image, name, where('image'))
  if (timeout !== undefined) result.timeout = timeout
  return result
}

function inheritSet(v: unknown): (key: string) => boolean {
  if (v === false) return () => false
  if (Array.isArray(v)) {
    const set = new Set(v.map(String))
    return (k) => set.has(k)
  }
  return () => true
}

/** `masked: true` or `masked_and_hidden: true`: the runner prints the value as [MASKED]; once masked at any level, always. */
const isMasked = (v: unknown): boolean => isObj(v) && (v.masked === true || v.masked_and_hidden === true)

function variableValue(v: unknown): string {
  if (isObj(v)) return v.value === undefined || v.value === null ? '' : String(v.value)
  if (v === null || v === undefined) return ''
  return String(v)
}

const listOf = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v])

function stringList(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined
  return listOf(v).flat(MAX_REFERENCE_DEPTH).map(String)
}

function image(v: unknown, job: string, at: Location): CiImage {
  if (typeof v === 'string') return { name: v, at }
  if (isObj(v) && typeof v.name === 'string') {
    const out: CiImage = { name: v.name, at }
    const entrypoint = stringList(v.entrypoint)
    if (entrypoint) out.entrypoint = entrypoint
    const pull = stringList(v.pull_policy)
    if (pull) out.pull_policy = pull
    const ports = listOf(v.ports).flatMap((p): CiPort[] => {
      if (typeof p === 'number' && Number.isInteger(p)) return [{ number: p }]
      if (isObj(p) && typeof p.number === 'number') return [{ number: p.number, ...(typeof p.protocol === 'string' ? { protocol: p.protocol } : {}), ...(typeof p.name === 'string' ? { name: p.name } : {}) }]
      throw usageError('ci-ports-invalid', `${job}: ports entries must be a port number or a mapping with number:`, { at })
    })
    if (ports.length > 0) out.ports = ports
    if (isObj(v.kubernetes) && v.kubernetes.user !== undefined && v.kubernetes.user !== null) out.kubernetes = { user: String(v.kubernetes.user) }
    return out
  }
  throw usageError('ci-image-invalid', `${job}: image must be a name or a mapping with name:`, { at })
}

function service(v: unknown, job: string, at: Location): CiService {
  const base = image(v, job, at)
  if (!isObj(v)) return base
  const out: CiService = { ...base }
  if (typeof v.alias === 'string') out.alias = v.alias
  const command = stringList(v.command)
  if (command) out.command = command
  if (isObj(v.variables)) out.variables = Object.fromEntries(Object.entries(v.variables).map(([k, x]) => [k, variableValue(x)]))
  return out
}

function script(v: unknown, job: string, key: string, where: (k: string) => Location): string[] {
  if (v === undefined || v === null) return []
  const flat = listOf(v).flat(MAX_REFERENCE_DEPTH)
  for (const line of flat) {
    if (typeof line !== 'string' && typeof line !== 'number' && typeof line !== 'boolean') {
      const at = where(key)
      throw usageError('ci-script-invalid', `${job}: ${key} must be a string or a list of strings`, { at })
    }
  }
  return flat.map(String)
}

function cacheEntry(c: Obj): CiJob['cache'][number] {
  const out: CiJob['cache'][number] = { paths: stringList(c.paths) ?? [] }
  if (typeof c.key === 'string' || typeof c.key === 'number') out.key = String(c.key)
  else if (isObj(c.key)) out.key = JSON.stringify(c.key)
  if (typeof c.policy === 'string') out.policy = c.policy
  return out
}

function artifacts(v: unknown): CiJob['artifacts'] {
  if (!isObj(v)) return { paths: [] }
  const out: CiJob['artifacts'] = { paths: stringList(v.paths) ?? [] }
  if (typeof v.when === 'string') out.when = v.when
  if (typeof v.expire_in === 'string') out.expire_in = v.expire_in
  return out
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim()
}

