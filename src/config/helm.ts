/**
 * Finds the GitLab Runner chart's values in a YAML file as users keep it: plain values (or under an
 * umbrella chart's key), a Flux HelmRelease, an Argo CD Application or ApplicationSet, a Helmfile, a
 * k3s HelmChart or a Rancher Fleet bundle, in any document of a multi-document file.
 */
import { Document as YAMLDocument, isMap, isScalar, isSeq, parseAllDocuments, Scalar, YAMLMap, type Document, type Node as YamlNode } from 'yaml'
import { usageError, type Location } from '../util/errors.js'
import { checkYamlDocument } from '../util/yaml-guard.js'
import { maskTemplates, type Placeholder } from './templates.js'
import type { ValuesFromRef } from './types.js'

/** Where line 1, column 1 of a text is in the file (for YAML held in a string of another YAML). */
export interface Offset {
  line: number
  column: number
}

/** One set of chart values found in a file. */
export interface ValuesSource {
  file: string
  /** What holds the values, for the user: `Flux HelmRelease "gitlab-runner" (document 2), spec.values`. */
  label: string
  /** The values mapping (the chart's own values: below the umbrella key, when there is one). */
  node: YAMLMap
  doc: Document
  /** The text `node`'s ranges point into. */
  text: string
  offset: Offset
  /** The umbrella chart key the values sit under (`gitlab-runner`), if any. */
  umbrella?: string
  /** The chart version the wrapper pins (HelmRelease, Argo CD targetRevision, Helmfile version). */
  chartVersion?: string
  placeholders: Placeholder[]
  /**
   * The release these values install (`Helmfile release "linux"`, `Flux HelmRelease "ci" (document 2)`),
   * for the wrappers that name one; plain values and Terraform heredocs have none. Sources of different
   * releases are loaded as separate runners, never merged.
   */
  release?: string
  /** A Flux HelmRelease's spec.valuesFrom: merged before these values once doctor has read them. */
  valuesFrom?: ValuesFromRef[]
}

export interface Extracted {
  sources: ValuesSource[]
  notes: string[]
}

const MAX_EXPANDED_NODES = 1_000_000

/** Line and column (1-based) of a character offset. */
export function linePosOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  return { line, column: offset - before.lastIndexOf('\n') }
}

/** File position of a node of a source. */
export function nodeLocation(src: Pick<ValuesSource, 'file' | 'text' | 'offset'>, node: YamlNode | undefined | null, path?: string): Location {
  const start = node?.range?.[0]
  if (start === undefined) return { file: src.file, ...(path ? { path } : {}) }
  const lp = linePosOf(src.text, start)
  return { file: src.file, line: lp.line + src.offset.line, column: lp.column + (lp.line === 1 ? 0 : src.offset.column), ...(path ? { path } : {}) }
}

function syntaxError(file: string, message: string, at: Partial<Location>): never {
  throw usageError('config-syntax', `invalid YAML: ${message}`, { at: { file, ...at }, ref: 'config-invalid', suggestions: ['Fix the YAML syntax at that position.'] })
}

/** Parses YAML text (templates masked) into documents, failing with a located error. */
function parseDocs(raw: string, file: string, offset: Offset, label: string): { docs: Document[]; text: string; placeholders: Placeholder[] } {
  const { text, placeholders } = maskTemplates(raw)
  const docs = parseAllDocuments(text, { keepSourceTokens: false })
  const list = Array.isArray(docs) ? docs : [docs]
  for (const doc of list) {
    const e = doc.errors[0]
    if (e) {
      const lp = e.linePos?.[0]
      const where = lp ? { line: lp.line + offset.line, column: lp.col + (lp.line === 1 ? 0 : offset.column) } : {}
      syntaxError(file, `${e.message.split('\n')[0]}${label ? ` (in ${label})` : ''}`, where)
    }
    const problem = checkYamlDocument(doc, { maxExpandedNodes: MAX_EXPANDED_NODES })
    if (problem) {
      const lp = linePosOf(text, problem.offset)
      syntaxError(file, problem.message, { line: lp.line + offset.line, column: lp.column })
    }
  }
  return { docs: list, text, placeholders }
}

const str = (n: unknown): string | undefined => (isScalar(n) && (typeof n.value === 'string' || typeof n.value === 'number') ? String(n.value) : undefined)
const get = (m: unknown, ...keys: string[]): unknown => {
  let cur: unknown = m
  for (const k of keys) {
    if (!isMap(cur)) return undefined
    cur = cur.get(k, true)
  }
  return cur
}

/** Whether a mapping looks like this chart's values (or holds them under an umbrella key). */
function chartValues(m: YAMLMap): { node: YAMLMap; umbrella?: string } | undefined {
  const direct = (x: YAMLMap): boolean =>
    isMap(x.get('runners', true)) ||
    ['gitlabUrl', 'runnerToken', 'runnerRegistrationToken', 'concurrent', 'checkInterval', 'unregisterRunners', 'certsSecretName'].some((k) => x.has(k)) ||
    isSeq(get(x, 'rbac', 'rules'))
  if (direct(m)) return { node: m }
  for (const pair of m.items) {
    const key = str(pair.key)
    if (key && isMap(pair.value) && isMap(pair.value.get('runners', true))) return { node: pair.value, umbrella: key }
  }
  return undefined
}

const RUNNER_CHART = /gitlab-runner/

/** Where the block scalar's content starts in the file (the `|` line's next non-blank line, its indent). */
export function scalarOffset(src: Pick<ValuesSource, 'text' | 'offset'>, node: Scalar): Offset {
  const start = node.range?.[0] ?? 0
  const { line } = linePosOf(src.text, start)
  if (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) {
    const lines = src.text.split(/\r?\n/)
    let first = line
    while (first < lines.length && lines[first]!.trim() === '') first++
    const indent = /^\s*/.exec(lines[first] ?? '')![0].length
    return { line: first + src.offset.line, column: indent + src.offset.column }
  }
  return { line: line - 1 + src.offset.line, column: src.offset.column }
}

interface Ctx {
  file: string
  text: string
  offset: Offset
  placeholders: Placeholder[]
  notes: string[]
  sources: ValuesSource[]
}

/** Values given as a YAML string (Argo CD `helm.values`, k3s `valuesContent`): parsed in place. */
function fromString(ctx: Ctx, doc: Document, node: unknown, label: string, chartVersion?: string): void {
  if (!isScalar(node) || typeof node.value !== 'string') return
  const offset = scalarOffset(ctx, node)
  const inner = parseDocs(node.value, ctx.file, offset, label)
  const first = inner.docs[0]
  if (!first || !isMap(first.contents)) return
  const found = chartValues(first.contents) ?? { node: first.contents }
  ctx.sources.push({ file: ctx.file, label, node: found.node, doc: first, text: inner.text, offset, ...(found.umbrella ? { umbrella: found.umbrella } : {}), ...(chartVersion ? { chartVersion } : {}), placeholders: inner.placeholders })
  void doc
}

function fromMap(ctx: Ctx, doc: Document, node: unknown, label: string, chartVersion?: string): void {
  if (!isMap(node)) return
  const found = chartValues(node) ?? { node }
  ctx.sources.push({ file: ctx.file, label, node: found.node, doc, text: ctx.text, offset: ctx.offset, ...(found.umbrella ? { umbrella: found.umbrella } : {}), ...(chartVersion ? { chartVersion } : {}), placeholders: ctx.placeholders })
}

/** An Argo CD source (`spec.source` or one of `spec.sources`): valueFiles, then values, then valuesObject. */
function argoSource(ctx: Ctx, doc: Document, source: unknown, what: string): boolean {
  const chart = str(get(source, 'chart')) ?? ''
  const helm = get(source, 'helm')
  if (!isMap(helm)) return RUNNER_CHART.test(chart) || RUNNER_CHART.test(str(get(source, 'path')) ?? '')
  const version = str(get(source, 'targetRevision'))
  const before = ctx.sources.length
  const files = get(helm, 'valueFiles')
  if (isSeq(files) && files.items.length > 0) {
    ctx.notes.push(`${what} also reads valueFiles (${files.items.map((f) => str(f) ?? '?').join(', ')}), which gkr does not follow: pass them with -c, in the same order, before this file`)
  }
  const values = get(helm, 'values')
  if (isMap(values)) fromMap(ctx, doc, values, `${what}, helm.values`, version)
  else fromString(ctx, doc, values, `${what}, helm.values`, version)
  fromMap(ctx, doc, get(helm, 'valuesObject'), `${what}, helm.valuesObject`, version)
  return ctx.sources.length > before || RUNNER_CHART.test(chart)
}

/** Classifies one document and collects its runner values. Returns a description when it holds the runner's release. */
function fromDocument(ctx: Ctx, doc: Document, n: number, many: boolean): string | undefined {
  const root = doc.contents
  if (!isMap(root)) return undefined
  const kind = str(root.get('kind', true))
  const apiVersion = str(root.get('apiVersion', true)) ?? ''
  const name = str(get(root, 'metadata', 'name'))
  const where = `${kind ?? 'document'}${name ? ` "${name}"` : ''}${many ? ` (document ${n + 1})` : ''}`
  const before = ctx.sources.length
  if (kind === 'HelmRelease' && apiVersion.startsWith('helm.toolkit.fluxcd.io')) {
    const chart = str(get(root, 'spec', 'chart', 'spec', 'chart')) ?? str(get(root, 'spec', 'chartRef', 'name')) ?? ''
    const version = str(get(root, 'spec', 'chart', 'spec', 'version'))
    const values = get(root, 'spec', 'values')
    const from = get(root, 'spec', 'valuesFrom')
    if (!RUNNER_CHART.test(chart) && !(isMap(values) && chartValues(values))) return undefined
    const namespace = str(get(root, 'metadata', 'namespace'))
    const refs = isSeq(from) ? from.items.map((r, i) => valuesFromRef(ctx, r, `Flux ${where}`, i, namespace)) : []
    if (refs.length > 0) {
      const named = refs.map((r) => `${r.kind} ${r.name}${r.valuesKey !== DEFAULT_VALUES_KEY ? ` (key ${r.valuesKey})` : ''}`)
      ctx.notes.push(`Flux ${where} takes values from ${named.join(', ')} through spec.valuesFrom, which gkr cannot read offline; spec.values override them. Pass those values as files with -c before this one to check them too`)
    }
    fromMap(ctx, doc, values, `Flux ${where}, spec.values`, version)
    if (ctx.sources.length === before) {
      ctx.notes.push(`Flux ${where} has no inline spec.values: the chart's defaults apply, merged with what spec.valuesFrom provides`)
      ctx.sources.push({ file: ctx.file, label: `Flux ${where} (no inline values)`, node: doc.createNode({}) as YAMLMap, doc, text: ctx.text, offset: ctx.offset, ...(version ? { chartVersion: version } : {}), placeholders: ctx.placeholders })
    }
    if (refs.length > 0) ctx.sources[ctx.sources.length - 1]!.valuesFrom = refs
    return `Flux ${where}`
  }
  if ((kind === 'Application' || kind === 'ApplicationSet') && apiVersion.startsWith('argoproj.io')) {
    const spec = kind === 'ApplicationSet' ? get(root, 'spec', 'template', 'spec') : get(root, 'spec')
    const label = `Argo CD ${where}`
    let hit = false
    const single = get(spec, 'source')
    if (single) hit = argoSource(ctx, doc, single, `${label}, spec.source`) || hit
    const multi = get(spec, 'sources')
    if (isSeq(multi)) multi.items.forEach((s, i) => (hit = argoSource(ctx, doc, s, `${label}, spec.sources[${i}]`) || hit))
    if (!hit) return undefined
    if (ctx.sources.length === before) {
      const src = get(spec, 'source') ?? (isSeq(get(spec, 'sources')) ? (get(spec, 'sources') as { items: unknown[] }).items[0] : undefined)
      const dir = str(get(src, 'path'))
      throw usageError('config-no-inline-values', dir ? `${label} deploys the directory ${dir} of ${str(get(src, 'repoURL')) ?? 'its repository'}: the runner's values are in that directory, not in this file` : `${label} installs the gitlab-runner chart but holds no values of its own (no helm.values or helm.valuesObject)`, {
        at: nodeLocation(ctx, (get(spec, 'source') ?? get(spec, 'sources') ?? root) as YamlNode),
        suggestions: [dir ? `Pass the values file(s) of ${dir} with -c (a directory works too).` : 'Pass the values files the Application points at with -c (in the order Argo CD applies them).'],
      })
    }
    return label
  }
  if (kind === 'HelmChart' && apiVersion.startsWith('helm.cattle.io')) {
    if (!RUNNER_CHART.test(str(get(root, 'spec', 'chart')) ?? '')) return undefined
    const version = str(get(root, 'spec', 'version'))
    fromString(ctx, doc, get(root, 'spec', 'valuesContent'), `k3s ${where}, spec.valuesContent`, version)
    return `k3s ${where}`
  }
  const releases = root.get('releases', true)
  if (!kind && isSeq(releases)) {
    let hit: string | undefined
    releases.items.forEach((rel, i) => {
      const chart = str(get(rel, 'chart')) ?? ''
      if (!RUNNER_CHART.test(chart)) return
      const relName = str(get(rel, 'name')) ?? `#${i}`
      const label = `Helmfile release "${relName}"`
      hit ??= label
      const version = str(get(rel, 'version'))
      const values = get(rel, 'values')
      if (!isSeq(values)) return
      const files: string[] = []
      for (const item of values.items) {
        if (isMap(item)) fromMap(ctx, doc, item, `${label}, values`, version)
        else if (str(item)) files.push(str(item)!)
      }
      if (files.length > 0) ctx.notes.push(`${label} also reads ${files.join(', ')}, which gkr does not follow from a Helmfile: pass them with -c, in the same order`)
    })
    if (hit && ctx.sources.length === before) {
      throw usageError('config-no-inline-values', `${hit} installs the gitlab-runner chart with values only from files`, {
        at: nodeLocation(ctx, releases as YamlNode),
        suggestions: [`Pass the release's values files with -c, in the order Helmfile lists them (${ctx.notes.at(-1)?.replace(/^.* reads (.*), which.*$/, '$1') ?? 'see the release'}).`],
      })
    }
    return hit
  }
  if (kind === 'ConfigMap') {
    const tmpl = get(root, 'data', 'config.template.toml')
    if (!isScalar(tmpl) || typeof tmpl.value !== 'string') return undefined
    // Output of `helm template`: the rendered runners.config, as the chart stores it for register.
    const runners = new YAMLMap()
    runners.set('config', tmpl)
    const values = new YAMLMap()
    values.set('runners', runners)
    ctx.sources.push({ file: ctx.file, label: `rendered ${where}, data.config.template.toml`, node: values, doc, text: ctx.text, offset: ctx.offset, placeholders: ctx.placeholders })
    return `rendered ${where}`
  }
  const helm = root.get('helm', true)
  if (!kind && isMap(helm) && RUNNER_CHART.test(str(helm.get('chart', true)) ?? '')) {
    fromMap(ctx, doc, helm.get('values', true), `Rancher Fleet bundle${many ? ` (document ${n + 1})` : ''}, helm.values`, str(helm.get('version', true)))
    if (ctx.sources.length === before) {
      throw usageError('config-no-inline-values', 'this Fleet bundle installs the gitlab-runner chart without inline helm.values', { at: nodeLocation(ctx, helm), suggestions: ['Pass its valuesFiles with -c.'] })
    }
    return 'Rancher Fleet bundle'
  }
  if (!kind) {
    const found = chartValues(root)
    if (found) {
      ctx.sources.push({ file: ctx.file, label: many ? `values (document ${n + 1})` : 'values', node: found.node, doc, text: ctx.text, offset: ctx.offset, ...(found.umbrella ? { umbrella: found.umbrella } : {}), placeholders: ctx.placeholders })
      return many ? `Helm values (document ${n + 1})` : undefined
    }
  }
  return undefined
}

/** Flux's default data key of a values reference. */
export const DEFAULT_VALUES_KEY = 'values.yaml'

function valuesFromRef(ctx: Ctx, node: unknown, release: string, i: number, namespace: string | undefined): ValuesFromRef {
  const targetPath = str(get(node, 'targetPath'))
  const optional = get(node, 'optional')
  return {
    kind: str(get(node, 'kind')) ?? '',
    name: str(get(node, 'name')) ?? '',
    ...(namespace ? { namespace } : {}),
    valuesKey: str(get(node, 'valuesKey')) || DEFAULT_VALUES_KEY,
    ...(targetPath ? { targetPath } : {}),
    optional: isScalar(optional) && optional.value === true,
    release,
    at: nodeLocation(ctx, node as YamlNode, `spec.valuesFrom[${i}]`),
    label: `${release}, spec.valuesFrom[${i}]`,
  }
}

/** What doctor read for one valuesFrom reference: the key's text, or why there is none. */
export type FetchedValues =
  | { ref: ValuesFromRef; namespace: string; text: string }
  | { ref: ValuesFromRef; namespace: string; missing: 'object' | 'key' }
  | { ref: ValuesFromRef; namespace: string; unreadable: string; forbidden?: boolean }

/** A reference that could not be used and is not optional: Flux would not reconcile the release. */
export interface ValuesFromProblem {
  ref: ValuesFromRef
  message: string
  /** The read was refused (or failed): gkr could not check, rather than the release being broken. */
  incomplete: boolean
}

export interface ResolvedValuesFrom {
  /** Sources to merge before the HelmRelease's own spec.values, in Flux's order. */
  sources: ValuesSource[]
  notes: string[]
  problems: ValuesFromProblem[]
}

/** `Secret gitlab-runner/runner-values, key values.yaml`: names an object and key, never its content. */
export function describeRef(ref: ValuesFromRef, namespace: string): string {
  return `${ref.kind} ${namespace}/${ref.name}, key ${ref.valuesKey}`
}

/** Helm's `--set` value: quoted stays a string, true/false/null and plain integers are typed. */
function setValue(raw: string): unknown {
  if (/^(['"]).*\1$/s.test(raw) && raw.length >= 2) return raw.slice(1, -1)
  if (raw === 'true' || raw === 'false') return raw === 'true'
  if (raw === 'null') return null
  if (/^(0|-?[1-9]\d{0,15})$/.test(raw)) return Number(raw)
  return raw
}

/** A mapping holding `value` at a dot path (`a.b\.c` is the keys a and b.c). */
function atPath(path: string, value: unknown): Record<string, unknown> | undefined {
  const keys = path.split(/(?<!\\)\./).map((k) => k.replace(/\\\./g, '.'))
  if (keys.some((k) => k === '' || /[[\]=,]/.test(k))) return undefined
  let out: unknown = value
  for (const k of [...keys].reverse()) out = { [k]: out }
  return out as Record<string, unknown>
}

/**
 * Turns what was read for a HelmRelease's valuesFrom into values sources, as Flux's helm-controller
 * merges them: in order, later ones win; a targetPath sets one value at its path; optional references
 * that are missing (object or key) are skipped. Errors name the object and key, never a value.
 */
export function valuesFromSources(fetched: readonly FetchedValues[]): ResolvedValuesFrom {
  const out: ResolvedValuesFrom = { sources: [], notes: [], problems: [] }
  const used: string[] = []
  for (const f of fetched) {
    const what = describeRef(f.ref, f.namespace)
    if (f.ref.kind !== 'ConfigMap' && f.ref.kind !== 'Secret') {
      out.problems.push({ ref: f.ref, message: `${f.ref.label}: kind ${f.ref.kind || '(none)'} is not one Flux reads values from (ConfigMap or Secret)`, incomplete: false })
      continue
    }
    if ('missing' in f) {
      const why = f.missing === 'object' ? `${f.ref.kind} ${f.namespace}/${f.ref.name} does not exist` : `${f.ref.kind} ${f.namespace}/${f.ref.name} has no key ${f.ref.valuesKey}`
      if (f.ref.optional) out.notes.push(`${f.ref.label}: skipped the optional ${what}: ${why}`)
      else out.problems.push({ ref: f.ref, message: `${f.ref.label}: ${why}, and the reference is not optional, so Flux cannot reconcile this HelmRelease`, incomplete: false })
      continue
    }
    if ('unreadable' in f) {
      out.problems.push({ ref: f.ref, message: `${f.ref.label}: cannot read ${what}: ${f.unreadable}; checked without its values`, incomplete: true })
      continue
    }
    const file = `${f.ref.kind} ${f.namespace}/${f.ref.name}`
    const label = `${what}${f.ref.targetPath ? ` (at ${f.ref.targetPath})` : ''}`
    if (f.ref.targetPath) {
      const values = atPath(f.ref.targetPath, setValue(f.text))
      if (!values) {
        out.problems.push({ ref: f.ref, message: `${f.ref.label}: targetPath ${f.ref.targetPath} is not a dot path gkr can set (list indexes and commas are not supported); checked without this value`, incomplete: true })
        continue
      }
      const doc = new YAMLDocument(values)
      out.sources.push({ file, label, node: doc.contents as YAMLMap, doc, text: '', offset: { line: 0, column: 0 }, placeholders: [] })
    } else {
      let parsed: { docs: Document[]; text: string; placeholders: Placeholder[] }
      try {
        parsed = parseDocs(f.text, file, { line: 0, column: 0 }, label)
      } catch {
        out.problems.push({ ref: f.ref, message: `${f.ref.label}: ${what} is not valid YAML`, incomplete: false })
        continue
      }
      const first = parsed.docs[0]
      if (first && first.contents !== null && !isMap(first.contents)) {
        out.problems.push({ ref: f.ref, message: `${f.ref.label}: ${what} does not hold a YAML mapping of chart values`, incomplete: false })
        continue
      }
      if (!first || !isMap(first.contents)) continue
      out.sources.push({ file, label, node: first.contents, doc: first, text: parsed.text, offset: { line: 0, column: 0 }, placeholders: parsed.placeholders })
    }
    used.push(label)
  }
  if (used.length > 0) out.notes.unshift(`merged values from the cluster through spec.valuesFrom (in order, later ones win, spec.values last): ${used.join('; ')}`)
  return out
}

/** Whether a file is Terraform (HCL) rather than YAML. */
export function looksLikeTerraform(file: string, text: string): boolean {
  return /\.tf$/i.test(file) || /^\s*(resource|module|variable|locals|provider|data)\s+("[^"]*"\s*)*\{/m.test(text)
}

/**
 * Terraform: the values a `helm_release` passes in heredocs (`values = [<<-EOF … EOF]`). Values built
 * with yamlencode() or read with file()/templatefile() are named, so the user can pass them instead.
 */
function extractTerraform(raw: string, file: string): Extracted {
  const sources: ValuesSource[] = []
  const notes: string[] = []
  const heredoc = /<<(-?)([A-Za-z_]\w*)[ \t]*\n([\s\S]*?)\n[ \t]*\2[ \t]*$/gm
  for (const m of raw.matchAll(heredoc)) {
    const bodyStart = m.index + m[0].indexOf('\n') + 1
    const startLine = raw.slice(0, bodyStart).split('\n').length - 1
    let body = m[3]!
    let indent = 0
    if (m[1] === '-') {
      const lines = body.split('\n').filter((l) => l.trim() !== '')
      indent = Math.min(...lines.map((l) => /^[ \t]*/.exec(l)![0].length))
      body = body.split('\n').map((l) => l.slice(Math.min(indent, /^[ \t]*/.exec(l)![0].length))).join('\n')
    }
    let inner
    try {
      inner = parseDocs(body, file, { line: startLine, column: indent }, 'a Terraform heredoc')
    } catch {
      continue
    }
    const first = inner.docs[0]
    if (!first || !isMap(first.contents)) continue
    const found = chartValues(first.contents)
    if (!found) continue
    sources.push({ file, label: `Terraform heredoc at line ${startLine}`, node: found.node, doc: first, text: inner.text, offset: { line: startLine, column: indent }, ...(found.umbrella ? { umbrella: found.umbrella } : {}), placeholders: inner.placeholders })
  }
  const refs = [...raw.matchAll(/\b(templatefile|file)\(\s*"([^"]+)"/g)].map((m) => `${m[1]}("${m[2]}")`).filter((r) => /\.ya?ml|\.tpl|values/i.test(r))
  const encoded = /yamlencode\s*\(/.test(raw)
  if (sources.length === 0) {
    const lineOf = (re: RegExp): number | undefined => {
      const i = raw.search(re)
      return i < 0 ? undefined : raw.slice(0, i).split('\n').length
    }
    const line = lineOf(/\bvalues\s*=/) ?? lineOf(/helm_release/)
    const why = refs.length > 0 ? `it reads ${refs.join(', ')}` : encoded ? 'it builds them with yamlencode(), which gkr cannot evaluate' : 'it has none'
    throw usageError('config-terraform-values', `this is a Terraform file without chart values in a heredoc (<<EOF … EOF): ${why}`, {
      at: { file, ...(line ? { line } : {}) },
      suggestions: [refs.length > 0 ? 'Pass the values file(s) it reads with -c (Terraform ${…} placeholders in them are read as unknown values).' : 'Write the values to a file (e.g. `terraform console` or `helm get values <release>`) and pass it with -c.'],
    })
  }
  if (refs.length > 0) notes.push(`this Terraform file also passes ${refs.join(', ')}, which gkr does not follow: pass them with -c`)
  if (encoded) notes.push('this Terraform file also builds values with yamlencode(), which gkr cannot evaluate')
  return { sources, notes }
}

/** Labels of the wrappers that install one release each; the release is the label up to the field it read. */
const RELEASE_LABEL = /^(Flux |Argo CD |Helmfile release |k3s |rendered |Rancher Fleet bundle)/

/** The release a source's label names (`Helmfile release "linux", values` → `Helmfile release "linux"`). */
export function releaseOf(label: string): string | undefined {
  if (!RELEASE_LABEL.test(label)) return undefined
  return label.replace(/ \(no inline values\)$/, '').split(', ')[0]
}

/** Every set of runner chart values in a YAML file, in the order Helm would merge them. */
export function extractValues(raw: string, file: string): Extracted {
  if (looksLikeTerraform(file, raw)) return extractTerraform(raw, file)
  const { docs, text, placeholders } = parseDocs(raw, file, { line: 0, column: 0 }, '')
  const ctx: Ctx = { file, text, offset: { line: 0, column: 0 }, placeholders, notes: [], sources: [] }
  const nonEmpty = docs.filter((d) => d.contents !== null)
  const many = nonEmpty.length > 1
  const picked: string[] = []
  let skipped = 0
  nonEmpty.forEach((doc, n) => {
    const before = ctx.sources.length
    const what = fromDocument(ctx, doc, n, many)
    if (what) picked.push(what)
    else if (ctx.sources.length === before) skipped++
    for (const src of ctx.sources.slice(before)) {
      const release = releaseOf(src.label)
      if (release) src.release = release
    }
  })
  if (ctx.sources.length === 0) {
    throw usageError('config-helm-no-runners-config', many ? `none of the ${nonEmpty.length} YAML documents in this file holds GitLab Runner chart values` : 'this YAML file has no runners.config: it does not look like GitLab Runner Helm chart values', {
      at: { file },
      suggestions: ['Pass the chart values (with `runners.config: |`), a Flux HelmRelease, an Argo CD Application, a Helmfile with inline values, or the config.toml itself.'],
    })
  }
  if (many) ctx.notes.unshift(`read ${picked.join(', ') || 'the chart values'} from this ${nonEmpty.length}-document file${skipped > 0 ? ` (${skipped} other document${skipped === 1 ? '' : 's'} skipped)` : ''}`)
  else if (picked.length > 0 && ctx.sources[0]!.label !== 'values') ctx.notes.unshift(`read the chart values from ${ctx.sources.map((s) => s.label).join(' and ')}`)
  return { sources: ctx.sources, notes: ctx.notes }
}
