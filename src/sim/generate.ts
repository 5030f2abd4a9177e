/**
 * Scenario generators: `generate:` entries that stand for many objects of one kind (50,000 secrets,
 * 10,000 pods) without spelling them out. Each entry is checked when the scenario loads, with the
 * line and column of the mistake, and expanded one object at a time when the simulator seeds its
 * store, so a big namespace costs the store's memory and nothing more.
 */
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml'
import { GkrError } from '../util/errors.js'
import { RESOURCES, resourceForKind } from './resources.js'
import type { Obj } from './store.js'

export interface GeneratorSpec {
  /** Default v1. */
  apiVersion?: string
  kind: string
  count: number
  /** The name of each object: `{{i}}` is its index, `{{i%N}}` the index modulo N. Default: `<kind>-{{i}}`. */
  name?: string
  /** For namespaced kinds; default `default`. May use `{{i}}` too. */
  namespace?: string
  /** The first index (default 0). */
  start?: number
  labels?: Record<string, string>
  annotations?: Record<string, string>
  /** The rest of each object (spec, data, status…); every string in it may use `{{i}}`/`{{i%N}}`. */
  template?: Record<string, unknown>
  /** Makes each object about this much bigger: `data.padding` of a Secret or ConfigMap, an annotation on other kinds. */
  padBytes?: number
}

const KEYS = new Set(['apiVersion', 'kind', 'count', 'name', 'namespace', 'start', 'labels', 'annotations', 'template', 'padBytes'])
/** More than a simulator in one process should be asked to hold. */
export const MAX_GENERATED = 1_000_000
const PLACEHOLDER = /\{\{\s*i\s*(?:%\s*(\d+)\s*)?\}\}/g

function substitute(text: string, i: number): string {
  return text.replace(PLACEHOLDER, (_m, mod: string | undefined) => String(mod ? i % Number(mod) : i))
}

/** The objects of one generator entry, made one at a time (each a new object the caller may keep). */
export function* expandGenerator(g: GeneratorSpec): Generator<Obj> {
  const def = resourceForKind(g.apiVersion ?? 'v1', g.kind)
  const template = JSON.stringify(g.template ?? {})
  const templated = PLACEHOLDER.test(template)
  PLACEHOLDER.lastIndex = 0
  const name = g.name ?? `${g.kind.toLowerCase()}-{{i}}`
  const pad = g.padBytes ?? 0
  const padding = g.kind === 'Secret' ? 'A'.repeat(Math.ceil(pad / 3) * 4) : 'x'.repeat(pad)
  const start = g.start ?? 0
  for (let i = start; i < start + g.count; i++) {
    const body = JSON.parse(templated ? substitute(template, i) : template) as Record<string, unknown> & { metadata?: Obj['metadata'] }
    const meta = body.metadata ?? {}
    const labels = { ...(meta.labels ?? {}), ...Object.fromEntries(Object.entries(g.labels ?? {}).map(([k, v]) => [k, substitute(v, i)])) }
    const annotations = { ...(meta.annotations ?? {}), ...Object.fromEntries(Object.entries(g.annotations ?? {}).map(([k, v]) => [k, substitute(v, i)])) }
    const obj: Obj = { ...body, apiVersion: g.apiVersion ?? 'v1', kind: g.kind, metadata: { ...meta, name: substitute(name, i), ...(def?.namespaced ? { namespace: substitute(g.namespace ?? 'default', i) } : {}) } }
    if (Object.keys(labels).length > 0) obj.metadata.labels = labels
    if (pad > 0 && (g.kind === 'Secret' || g.kind === 'ConfigMap')) obj.data = { ...((obj.data as Record<string, string> | undefined) ?? {}), padding }
    else if (pad > 0) annotations['sim.gkr.dev/padding'] = padding
    if (Object.keys(annotations).length > 0) obj.metadata.annotations = annotations
    yield obj
  }
}

/** How many objects the entries stand for. */
export function generatedCount(gs: GeneratorSpec[] | undefined): number {
  return (gs ?? []).reduce((a, g) => a + g.count, 0)
}

/**
 * The scenario's `generate:` list, checked: every mistake is a GkrError at the file, line and column
 * of the entry or value at fault, naming what was expected.
 */
export function checkGenerators(doc: Document.Parsed, lines: LineCounter, file: string): GeneratorSpec[] | undefined {
  const list = doc.get('generate', true) as Node | undefined
  if (list === undefined || (isScalar(list) && list.value === null)) return undefined
  const fail = (node: Node | undefined, what: string): never => {
    const pos = lines.linePos(node?.range?.[0] ?? 0)
    throw new GkrError('scenario-invalid', `invalid scenario: ${what}`, { at: { file, line: pos.line, column: pos.col }, suggestions: ['docs/sim.md ("Generated objects") describes the generate: entries.'] })
  }
  if (!isSeq(list)) return fail(list, 'generate must be a list of generator entries (kind, count, name…)')
  const out: GeneratorSpec[] = []
  let total = 0
  for (const [i, item] of list.items.entries()) {
    const at = `generate[${i}]`
    if (!isMap(item)) return fail(item as Node, `${at} must be a mapping with kind and count`)
    for (const pair of item.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : ''
      if (!KEYS.has(key)) return fail(pair.key as Node, `${at} has an unknown key "${key}" (known: ${[...KEYS].join(', ')})`)
    }
    const node = (k: string): Node | undefined => item.get(k, true) as Node | undefined
    const raw = item.toJSON() as Record<string, unknown>
    const str = (k: string, required = false): void => {
      if (raw[k] === undefined && !required) return
      if (typeof raw[k] !== 'string' || raw[k] === '') fail(node(k) ?? item, `${at}.${k} must be a non-empty string`)
    }
    str('kind', true)
    str('apiVersion')
    str('name')
    str('namespace')
    const def = resourceForKind(String(raw.apiVersion ?? 'v1'), String(raw.kind))
    if (!def) return fail(node('kind'), `${at}: unknown kind ${String(raw.apiVersion ?? 'v1')}/${String(raw.kind)} (known: ${RESOURCES.map((r) => r.kind).join(', ')})`)
    const int = (k: string, min: number): void => {
      if (raw[k] !== undefined && !(Number.isInteger(raw[k]) && (raw[k] as number) >= min)) fail(node(k), `${at}.${k} must be a whole number of at least ${min}`)
    }
    if (raw.count === undefined) return fail(item, `${at} needs count (how many objects to make)`)
    int('count', 1)
    int('start', 0)
    int('padBytes', 0)
    total += raw.count as number
    if (total > MAX_GENERATED) return fail(node('count'), `the generate entries ask for ${total} objects; at most ${MAX_GENERATED} are supported`)
    if ((raw.count as number) > 1 && !new RegExp(PLACEHOLDER.source).test(String(raw.name ?? '{{i}}'))) return fail(node('name'), `${at}.name "${String(raw.name)}" must contain {{i}}: ${String(raw.count)} objects cannot share one name`)
    for (const k of ['labels', 'annotations']) {
      const v = raw[k]
      if (v === undefined) continue
      if (!v || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) return fail(node(k), `${at}.${k} must map names to strings (quote numbers and booleans)`)
    }
    const t = raw.template
    if (t !== undefined && (!t || typeof t !== 'object' || Array.isArray(t))) return fail(node('template'), `${at}.template must be a mapping: the fields of each object besides kind and name`)
    out.push(raw as unknown as GeneratorSpec)
  }
  return out
}
