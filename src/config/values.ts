/**
 * The value syntaxes the runner parses with Go libraries: Kubernetes quantities
 * (resource.ParseQuantity), Go durations (time.ParseDuration) and Go regular expressions (RE2).
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 }
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 }

export interface Quantity {
  /** The value in base units (cores for CPU, bytes for memory). */
  value: number
  suffix: string
  /** decimal SI (k, M, G), binary (Ki, Mi, Gi), or exponent (1e3). */
  format: 'decimal' | 'binary' | 'exponent'
}

/** Parses a Kubernetes quantity ("500m", "1Gi", "512M", "1e3"); undefined when it is not one. */
export function parseQuantity(input: string | number): Quantity | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? { value: input, suffix: '', format: 'decimal' } : undefined
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E)?)$/.exec(input.trim())
  if (!m) return undefined
  const n = Number(m[1])
  if (m[2]) return { value: n * BINARY[m[2]]!, suffix: m[2], format: 'binary' }
  if (m[3]) return { value: n * 10 ** Number(m[3].slice(1)), suffix: m[3], format: 'exponent' }
  return { value: n * DECIMAL[m[4] ?? '']!, suffix: m[4] ?? '', format: 'decimal' }
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${+(n / 2 ** 30).toFixed(2)}Gi`
  if (n >= 2 ** 20) return `${+(n / 2 ** 20).toFixed(2)}Mi`
  if (n >= 2 ** 10) return `${+(n / 2 ** 10).toFixed(2)}Ki`
  return `${n} bytes`
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Parses a Go duration ("5m", "1h30m", "250ms") to milliseconds; undefined when it is not one. */
export function parseGoDuration(input: string): number | undefined {
  const s = input.trim()
  if (s === '0') return 0
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y
  let total = 0
  let sign = 1
  let i = 0
  if (s[0] === '-' || s[0] === '+') {
    sign = s[0] === '-' ? -1 : 1
    i = 1
  }
  if (i >= s.length) return undefined
  while (i < s.length) {
    re.lastIndex = i
    const m = re.exec(s)
    if (!m) return undefined
    total += Number(m[1]) * UNITS[m[2]!]!
    i = re.lastIndex
  }
  return sign * total
}

/**
 * Checks that a pattern compiles as the runner compiles it (Go's RE2). Returns the problem, or
 * undefined when it compiles. RE2 has no look-around or back-references; JavaScript lacks Go's inline
 * `(?i)` flags and `(?P<name>`, which are translated before compiling here.
 */
export function re2Problem(pattern: string): string | undefined {
  if (/\(\?<?[=!]/.test(pattern)) return 'look-ahead and look-behind are not supported by Go regular expressions'
  if (/\\[1-9]/.test(pattern)) return 'back-references are not supported by Go regular expressions'
  try {
    toJsRegExp(pattern)
    return undefined
  } catch (err) {
    return (err as Error).message.replace(/^Invalid regular expression: /, '')
  }
}

/** Compiles a Go regular expression as a JavaScript RegExp (for the features both share). */
export function toJsRegExp(pattern: string): RegExp {
  let flags = 'u'
  let p = pattern
  const lead = /^\(\?([imsU]+)\)/.exec(p)
  if (lead) {
    if (lead[1]!.includes('i')) flags += 'i'
    if (lead[1]!.includes('s')) flags += 's'
    if (lead[1]!.includes('m')) flags += 'm'
    p = p.slice(lead[0].length)
  }
  p = p.replace(/\(\?P</g, '(?<').replace(/\\z/g, '$').replace(/\\A/g, '^')
  return new RegExp(p, flags)
}
