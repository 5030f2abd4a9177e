/**
 * Compares a parsed config document with the schema: keys the runner does not know (with a guess at
 * what was meant), keys in the wrong table, values of the wrong type, and keys the runner removed.
 */
import { Secret } from '../util/secret.js'
import { GLOBAL_FIELDS, KUBERNETES_FIELDS, ROOT_DEF, RUNNER_FIELDS, type Kind, type KeyDef } from './schema.js'
import { formatPath, isObject } from './load.js'
import type { KeyPath } from './types.js'
import { editDistance } from '../util/text.js'

export type IssueKind = 'unknown-key' | 'misplaced-key' | 'wrong-type' | 'removed-key'

export interface ConfigIssue {
  kind: IssueKind
  path: KeyPath
  message: string
  /** The key (or full path) the user probably meant. */
  suggestion?: string
  /** For misplaced keys: the table the key belongs in. */
  belongsIn?: string
  /** For wrong types: the kind the schema expects, and what the file has. */
  expected?: Kind
  got?: string
}

/** Tables where a key may have been meant to go, for "misplaced key" hints. */
const HOMES: Array<{ table: string; fields: Readonly<Record<string, KeyDef>> }> = [
  { table: 'the top level (global section)', fields: GLOBAL_FIELDS },
  { table: '[[runners]]', fields: RUNNER_FIELDS },
  { table: '[runners.kubernetes]', fields: KUBERNETES_FIELDS },
]

export function validateConfig(raw: Record<string, unknown>): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  walk(raw, ROOT_DEF, [], issues)
  return issues
}

function walk(value: Record<string, unknown>, def: KeyDef, path: Array<string | number>, issues: ConfigIssue[]): void {
  if (def.open) return
  const fields = def.fields ?? {}
  for (const [key, v] of Object.entries(value)) {
    if (path.length === 0 && key === 'helmValues') continue
    const here = [...path, key]
    const d = fields[key]
    if (!d) {
      issues.push(unknownKey(key, here, fields))
      continue
    }
    if (d.status?.kind === 'removed') {
      issues.push({
        kind: 'removed-key',
        path: here,
        message: `${key} was removed in runner ${d.status.since}: ${d.status.note}`,
        ...(d.status.replacement ? { suggestion: d.status.replacement } : {}),
      })
      continue
    }
    const typeProblem = checkType(v, d)
    if (typeProblem) {
      issues.push({ kind: 'wrong-type', path: here, message: `${formatPath(here)} must be ${describeKind(d)}, but it is ${describeValue(v)}`, expected: d.kind, got: describeValue(v) })
      continue
    }
    if (d.kind === 'table' && isObject(v)) walk(v, d, here, issues)
    if (d.kind === 'table[]' && Array.isArray(v)) {
      v.forEach((item, n) => {
        if (isObject(item)) walk(item, { kind: 'table', doc: d.doc, fields: d.fields, ...(d.open ? { open: true } : {}) }, [...here, n], issues)
      })
    }
  }
}

function unknownKey(key: string, path: Array<string | number>, fields: Readonly<Record<string, KeyDef>>): ConfigIssue {
  const snake = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_').toLowerCase()
  const where = formatPath(path.slice(0, -1)) || 'the top level'
  if (snake !== key && fields[snake]) {
    return { kind: 'unknown-key', path, message: `unknown key ${key} in ${where}: the runner spells it ${snake}`, suggestion: snake }
  }
  for (const home of HOMES) {
    if (home.fields === fields) continue
    const match = home.fields[key] ? key : home.fields[snake] ? snake : undefined
    if (match) {
      return { kind: 'misplaced-key', path, message: `${key} does not belong in ${where}: it is a key of ${home.table}, and the runner ignores it here`, suggestion: match, belongsIn: home.table }
    }
  }
  const best = closest(key, Object.keys(fields))
  return {
    kind: 'unknown-key',
    path,
    message: `unknown key ${key} in ${where}${best ? ` (did you mean ${best}?)` : ''}: the runner ignores it`,
    ...(best ? { suggestion: best } : {}),
  }
}

function checkType(v: unknown, d: KeyDef): boolean {
  const isStr = typeof v === 'string' || v instanceof Secret
  switch (d.kind) {
    case 'string':
    case 'duration':
    case 'regex':
      return !isStr
    // The runner's struct fields are Go strings: a TOML number is not decoded into one.
    case 'quantity':
      return !isStr
    case 'int':
      return !(typeof v === 'number' && Number.isInteger(v)) && typeof v !== 'bigint'
    case 'datetime':
      return !isStr && !(v instanceof Date)
    case 'float':
      return typeof v !== 'number'
    case 'bool':
      return typeof v !== 'boolean'
    case 'string[]':
      return !Array.isArray(v) || v.some((x) => typeof x !== 'string')
    case 'int[]':
      return !Array.isArray(v) || v.some((x) => !(typeof x === 'number' && Number.isInteger(x)) && typeof x !== 'bigint')
    case 'string|string[]':
      return !isStr && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    case 'map':
      return !isObject(v) || Object.values(v).some((x) => checkType(x, { kind: d.values ?? 'string', doc: '' }))
    case 'table':
      return !isObject(v)
    case 'table[]':
      return !Array.isArray(v) || v.some((x) => !isObject(x))
  }
}

const KIND_TEXT: Record<Kind, string> = {
  string: 'a string',
  int: 'an integer',
  bool: 'true or false',
  float: 'a number',
  datetime: 'a date-time such as 2024-05-01T12:00:00Z',
  duration: 'a duration string such as "5m"',
  quantity: 'a quantity string such as "500m" or "1Gi"',
  regex: 'a regular expression string',
  'string[]': 'an array of strings',
  'int[]': 'an array of integers',
  'string|string[]': 'a string or an array of strings',
  map: 'a table',
  table: 'a table',
  'table[]': 'an array of tables ([[...]])',
}

function describeKind(d: KeyDef): string {
  return d.kind === 'map' && d.values && d.values !== 'string' ? `a table of ${KIND_TEXT[d.values].replace(/^an? /, '')} values` : KIND_TEXT[d.kind]
}

function describeValue(v: unknown): string {
  if (Array.isArray(v)) {
    const kinds = new Set(v.map((x) => describeValue(x)))
    return kinds.size === 1 ? `an array of ${[...kinds][0]!.replace(/^an? /, '').replace(/y$/, 'ie')}s` : 'an array'
  }
  if (v instanceof Secret || typeof v === 'string') return 'a string'
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number'
  if (typeof v === 'boolean') return 'a boolean'
  if (v instanceof Date) return 'a date'
  if (isObject(v)) return 'a table'
  return typeof v
}

/** The candidate closest to `word` by edit distance, when close enough to be a plausible typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase()
  let best: string | undefined
  let bestD = Infinity
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase())
    if (d < bestD) {
      bestD = d
      best = c
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 4)) ? best : undefined
}

