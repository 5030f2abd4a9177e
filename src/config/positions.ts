/**
 * Where each key of a TOML document stands (1-based line and column), so findings can point at the
 * line to change. smol-toml parses values but keeps no positions; this scanner walks the same text and
 * records the position of every table header and `key = value`, resolving `[[array]]` headers to the
 * index they create, as TOML does. Values spanning lines (arrays, multi-line strings) are skipped.
 */

export interface Pos {
  line: number
  column: number
}

export type PathKey = string

/** Joins a key path the way positions are stored: `runners.0.kubernetes.poll_timeout`. */
export const pathKey = (path: ReadonlyArray<string | number>): PathKey => path.join('\u0000')

export function scanTomlPositions(text: string): Map<PathKey, Pos> {
  const positions = new Map<PathKey, Pos>()
  const arrayCounts = new Map<PathKey, number>()
  let table: Array<string | number> = []
  const lines = text.split(/\r?\n/)
  let state: ValueState = { depth: 0, str: null }

  const resolve = (segments: string[]): Array<string | number> => {
    const out: Array<string | number> = []
    for (const seg of segments) {
      out.push(seg)
      const n = arrayCounts.get(pathKey(out))
      if (n !== undefined) out.push(n - 1)
    }
    return out
  }

  for (let li = 0; li < lines.length; li++) {
    const line = lines[li]!
    if (state.depth > 0 || state.str) {
      state = scanValue(line, 0, state)
      continue
    }
    const m = /^(\s*)(\S)/.exec(line)
    if (!m || m[2] === '#') continue
    const start = m[1]!.length
    if (line.startsWith('[[', start)) {
      const end = line.indexOf(']]', start)
      const segs = parseKey(line.slice(start + 2, end < 0 ? undefined : end))
      if (!segs) continue
      const parent = resolve(segs.slice(0, -1))
      const arrPath = [...parent, segs[segs.length - 1]!]
      const n = (arrayCounts.get(pathKey(arrPath)) ?? 0) + 1
      arrayCounts.set(pathKey(arrPath), n)
      if (!positions.has(pathKey(arrPath))) positions.set(pathKey(arrPath), { line: li + 1, column: start + 1 })
      table = [...arrPath, n - 1]
      positions.set(pathKey(table), { line: li + 1, column: start + 1 })
      continue
    }
    if (line[start] === '[') {
      const end = line.indexOf(']', start)
      const segs = parseKey(line.slice(start + 1, end < 0 ? undefined : end))
      if (!segs) continue
      table = resolve(segs)
      // A header also defines its parent tables ([a.b] creates a).
      for (let k = 1; k <= table.length; k++) {
        const p = pathKey(table.slice(0, k))
        if (!positions.has(p)) positions.set(p, { line: li + 1, column: start + 1 })
      }
      continue
    }
    const eq = findEquals(line, start)
    if (eq < 0) continue
    const segs = parseKey(line.slice(start, eq))
    if (!segs) continue
    const keyPath = [...table, ...segs]
    positions.set(pathKey(keyPath), { line: li + 1, column: start + 1 })
    // Dotted keys define their parent tables here too.
    for (let k = 1; k < segs.length; k++) {
      const p = pathKey([...table, ...segs.slice(0, k)])
      if (!positions.has(p)) positions.set(p, { line: li + 1, column: start + 1 })
    }
    recordInlineTable(line, eq + 1, keyPath, li + 1, positions)
    state = scanValue(line, eq + 1, { depth: 0, str: null })
  }
  return positions
}

/** Positions of the keys of a one-line inline table (`x = { a = 1, b = 2 }`) or a list of them. */
function recordInlineTable(line: string, from: number, base: Array<string | number>, lineNo: number, positions: Map<PathKey, Pos>): void {
  const rest = line.slice(from)
  const open = rest.search(/\S/)
  if (open < 0 || (rest[open] !== '{' && rest[open] !== '[')) return
  let index = -1
  let inTable = false
  let keyStart = -1
  for (let c = from + open; c < line.length; c++) {
    const ch = line[c]!
    if (ch === '"' || ch === "'") {
      const close = line.indexOf(ch, c + 1)
      if (close < 0) return
      if (inTable && keyStart < 0) keyStart = c
      c = close
      continue
    }
    if (ch === '{') {
      inTable = true
      if (rest[open] === '[') index++
      keyStart = -1
      continue
    }
    if (ch === '}') {
      inTable = false
      continue
    }
    if (!inTable) continue
    if (ch === ',') keyStart = -1
    else if (ch === '=' && keyStart >= 0) {
      const segs = parseKey(line.slice(keyStart, c))
      if (segs) positions.set(pathKey([...base, ...(index >= 0 ? [index] : []), ...segs]), { line: lineNo, column: keyStart + 1 })
      keyStart = -2
    } else if (keyStart === -1 && /\S/.test(ch)) keyStart = c
  }
}

interface ValueState {
  depth: number
  str: null | '"""' | "'''"
}

/** Follows a value to see whether it continues on the next line (open brackets or multi-line strings). */
function scanValue(line: string, from: number, st: ValueState): ValueState {
  let { depth, str } = st
  for (let c = from; c < line.length; c++) {
    if (str) {
      const close = line.indexOf(str, c)
      if (close < 0) return { depth, str }
      c = close + 2
      str = null
      continue
    }
    const ch = line[c]
    if (ch === '#') break
    if (line.startsWith('"""', c) || line.startsWith("'''", c)) {
      str = line.startsWith('"""', c) ? '"""' : "'''"
      c += 2
      continue
    }
    if (ch === '"') {
      let k = c + 1
      while (k < line.length && line[k] !== '"') k += line[k] === '\\' ? 2 : 1
      c = k
      continue
    }
    if (ch === "'") {
      const close = line.indexOf("'", c + 1)
      c = close < 0 ? line.length : close
      continue
    }
    if (ch === '[' || ch === '{') depth++
    else if (ch === ']' || ch === '}') depth = Math.max(0, depth - 1)
  }
  return { depth, str }
}

function findEquals(line: string, from: number): number {
  for (let c = from; c < line.length; c++) {
    const ch = line[c]
    if (ch === '"' || ch === "'") {
      const close = line.indexOf(ch, c + 1)
      if (close < 0) return -1
      c = close
    } else if (ch === '=') return c
  }
  return -1
}

/** Splits a TOML key (bare, quoted, dotted) into its segments; undefined when it isn't one. */
export function parseKey(raw: string): string[] | undefined {
  const segs: string[] = []
  let c = 0
  const s = raw.trim()
  while (c < s.length) {
    while (s[c] === ' ' || s[c] === '\t') c++
    if (s[c] === '"' || s[c] === "'") {
      const q = s[c]!
      const close = s.indexOf(q, c + 1)
      if (close < 0) return undefined
      segs.push(s.slice(c + 1, close))
      c = close + 1
    } else {
      const m = /^[A-Za-z0-9_-]+/.exec(s.slice(c))
      if (!m) return undefined
      segs.push(m[0])
      c += m[0].length
    }
    while (s[c] === ' ' || s[c] === '\t') c++
    if (c < s.length) {
      if (s[c] !== '.') return undefined
      c++
    }
  }
  return segs.length > 0 ? segs : undefined
}
