/**
 * Container logs as the kubelet keeps and serves them: every line carries the time it was written
 * (as containerd's CRI log files do), so `sinceSeconds`, `sinceTime` and `timestamps` tell the truth;
 * `tailLines` picks the last lines first, the since-filter then drops older ones, and `limitBytes`
 * cuts the formatted output (timestamps included) after that many bytes. The query parameters are
 * decoded and validated as the API server does it: a value that is no number or no RFC 3339 time is
 * a 400 with Go's parse error, a value out of range a 422 on `PodLogOptions`.
 */
import { StatusError, badRequest } from './status.js'

/** One line of a container's log: when its first byte was written (ns since the epoch) and its text (with its `\n`, unless it is still being written). */
export interface LogLine {
  at: bigint
  text: string
}

const wallBase = BigInt(Date.now()) * 1_000_000n
const hrBase = process.hrtime.bigint()

/** The wall clock in nanoseconds (millisecond wall time, nanosecond steps in between). */
export function nowNs(): bigint {
  return wallBase + (process.hrtime.bigint() - hrBase)
}

/** A time as Go's RFC3339Nano prints it in UTC: trailing zeros of the fraction dropped, no fraction when it is zero. */
export function rfc3339Nano(ns: bigint): string {
  const ms = ns / 1_000_000n
  const base = new Date(Number(ms)).toISOString().slice(0, 19)
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '')
  return `${base}${frac ? `.${frac}` : ''}Z`
}

/** The output of one container instance, line by line. */
export class ContainerLog {
  readonly lines: LogLine[] = []

  /** Appends output written at `at`: the rest of a line still open continues it, every new line starts at `at`. */
  write(chunk: string, at: bigint = nowNs()): void {
    if (!chunk) return
    let rest = chunk
    const last = this.lines[this.lines.length - 1]
    if (last && !last.text.endsWith('\n')) {
      const nl = rest.indexOf('\n')
      const cut = nl < 0 ? rest.length : nl + 1
      last.text += rest.slice(0, cut)
      rest = rest.slice(cut)
    }
    for (const text of rest.split(/(?<=\n)/)) if (text) this.lines.push({ at, text })
  }

  /** Whether the next byte written starts a new line. */
  get atLineStart(): boolean {
    const last = this.lines[this.lines.length - 1]
    return !last || last.text.endsWith('\n')
  }

  text(): string {
    return this.lines.map((l) => l.text).join('')
  }
}

/** PodLogOptions as the kubelet gets them (sinceSeconds already turned into a time). */
export interface LogOptions {
  container?: string
  follow: boolean
  previous: boolean
  timestamps: boolean
  /** Lines written before this time (ns) are left out. */
  sinceNs?: bigint
  tailLines?: number
  limitBytes?: number
}

/** A string quoted as Go's strconv and time packages quote it in errors (control bytes as \xNN). */
function goQuote(s: string): string {
  let out = ''
  for (const c of s) {
    const code = c.charCodeAt(0)
    out += c === '"' || c === '\\' ? `\\${c}` : code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : c
  }
  return `"${out}"`
}

/** strconv.ParseInt(s, 10, 64) as Go does it, with Go's error text. */
export function parseInt64(s: string): bigint {
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`)
  const n = BigInt(s)
  if (n > 9223372036854775807n || n < -9223372036854775808n) throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: value out of range`)
  return n
}

const RFC3339 = '2006-01-02T15:04:05Z07:00'

/**
 * time.Parse(time.RFC3339, s) as Go does it: the time in ns since the epoch, or Go's error text
 * (`parsing time "x" as "2006-01-02T15:04:05Z07:00": cannot parse "x" as "2006"`, `…: month out of range`).
 */
export function parseRFC3339(s: string): bigint {
  const fail = (valueElem: string, layoutElem: string): never => {
    throw new Error(`parsing time ${goQuote(s)} as ${goQuote(RFC3339)}: cannot parse ${goQuote(valueElem)} as ${goQuote(layoutElem)}`)
  }
  const range = (what: string): never => {
    throw new Error(`parsing time ${goQuote(s)}: ${what} out of range`)
  }
  let v = s
  const digit = (i: number): boolean => i < v.length && v[i]! >= '0' && v[i]! <= '9'
  const literal = (lit: string): void => {
    if (!v.startsWith(lit)) fail(v, lit)
    v = v.slice(lit.length)
  }
  // Two digits ("01", "02", "04", "05"), or one or two for the hour ("15").
  const num = (elem: string, fixed: boolean): number => {
    if (!digit(0) || (fixed && !digit(1))) fail(v, elem)
    const len = digit(1) ? 2 : 1
    const n = Number(v.slice(0, len))
    v = v.slice(len)
    return n
  }
  if (v.length < 4 || !digit(0) || !/^\d{4}$/.test(v.slice(0, 4))) fail(v, '2006')
  const year = Number(v.slice(0, 4))
  v = v.slice(4)
  literal('-')
  const month = num('01', true)
  if (month < 1 || month > 12) range('month')
  literal('-')
  const day = num('02', true)
  literal('T')
  const hour = num('15', false)
  if (hour > 23) range('hour')
  literal(':')
  const minute = num('04', true)
  if (minute > 59) range('minute')
  literal(':')
  const second = num('05', true)
  if (second > 59) range('second')
  let nanos = 0n
  if (v.length >= 2 && (v[0] === '.' || v[0] === ',') && digit(1)) {
    let n = 2
    while (digit(n)) n++
    nanos = BigInt(v.slice(1, Math.min(n, 10)).padEnd(9, '0'))
    v = v.slice(n)
  }
  let offsetMin = 0
  if (v[0] === 'Z') v = v.slice(1)
  else {
    if (v.length < 6 || v[3] !== ':' || !/^\d\d$/.test(v.slice(1, 3)) || !/^\d\d$/.test(v.slice(4, 6)) || (v[0] !== '+' && v[0] !== '-')) fail(v, 'Z07:00')
    const hh = Number(v.slice(1, 3))
    const mm = Number(v.slice(4, 6))
    if (hh > 24) range('time zone offset hour')
    if (mm > 60) range('time zone offset minute')
    offsetMin = (v[0] === '-' ? -1 : 1) * (hh * 60 + mm)
    v = v.slice(6)
  }
  if (v.length > 0) throw new Error(`parsing time ${goQuote(s)}: extra text: ${goQuote(v)}`)
  const daysIn = new Date(Date.UTC(year, month, 0)).getUTCDate()
  if (day < 1 || day > daysIn) range('day')
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) - offsetMin * 60_000
  return BigInt(ms) * 1_000_000n + nanos
}

/**
 * The pods/log query as the API server decodes and validates it (PodLogOptions): a parameter that
 * does not parse is a 400 with Go's words, checked in the order the generated conversion reads them;
 * then ValidatePodLogOptions' 422s. `now` turns `sinceSeconds` into a time, as the kubelet does.
 */
export function parseLogOptions(url: URL, pod: string, now: bigint = nowNs()): LogOptions {
  const q = url.searchParams
  const bool = (name: string): boolean => {
    const v = q.get(name)
    return v !== null && v !== '0' && v.toLowerCase() !== 'false'
  }
  const int = (name: string): bigint | undefined => {
    const v = q.get(name)
    if (v === null) return undefined
    try {
      return parseInt64(v)
    } catch (err) {
      throw badRequest((err as Error).message)
    }
  }
  const container = q.get('container')
  const follow = bool('follow')
  const previous = bool('previous')
  const sinceSeconds = int('sinceSeconds')
  const sinceTimeRaw = q.get('sinceTime')
  let sinceTime: bigint | undefined
  if (sinceTimeRaw !== null) {
    // An empty value (or "null", from old clients) is the zero time: no filter.
    if (sinceTimeRaw === '' || sinceTimeRaw === 'null') sinceTime = -62135596800000000000n
    else {
      try {
        sinceTime = parseRFC3339(sinceTimeRaw)
      } catch (err) {
        throw badRequest((err as Error).message)
      }
    }
  }
  const timestamps = bool('timestamps')
  const tailLines = int('tailLines')
  const limitBytes = int('limitBytes')
  const causes: Array<{ reason: string; message: string; field?: string }> = []
  if (tailLines !== undefined && tailLines < 0n) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${tailLines}: must be greater than or equal to 0`, field: 'tailLines' })
  if (limitBytes !== undefined && limitBytes < 1n) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${limitBytes}: must be greater than 0`, field: 'limitBytes' })
  if (sinceSeconds !== undefined && sinceTime !== undefined) causes.push({ reason: 'FieldValueForbidden', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified' })
  else if (sinceSeconds !== undefined && sinceSeconds < 1n) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${sinceSeconds}: must be greater than 0`, field: 'sinceSeconds' })
  if (causes.length > 0) {
    const text = causes.map((c) => `${c.field ?? ''}: ${c.message}`)
    throw new StatusError(422, `PodLogOptions "${pod}" is invalid: ${text.length === 1 ? text[0] : `[${text.join(', ')}]`}`, 'Invalid', { name: pod, kind: 'PodLogOptions', causes })
  }
  let sinceNs: bigint | undefined
  if (sinceSeconds !== undefined) sinceNs = now - sinceSeconds * 1_000_000_000n
  if (sinceTime !== undefined && (sinceNs === undefined || sinceTime > sinceNs)) sinceNs = sinceTime
  const small = (n: bigint | undefined): number | undefined => (n === undefined ? undefined : n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n))
  const tail = small(tailLines)
  const limit = small(limitBytes)
  return { ...(container !== null ? { container } : {}), follow, previous, timestamps, ...(sinceNs !== undefined ? { sinceNs } : {}), ...(tail !== undefined ? { tailLines: tail } : {}), ...(limit !== undefined ? { limitBytes: limit } : {}) }
}

/** A line as the kubelet writes it out: with `timestamps`, its time in RFC3339Nano and a space first. */
export function formatLine(line: LogLine, opts: Pick<LogOptions, 'timestamps'>): string {
  return opts.timestamps ? `${rfc3339Nano(line.at)} ${line.text}` : line.text
}

/** What the kubelet answers for a log so far: the last `tailLines` lines, those since `sinceNs`, formatted. */
export function renderLog(log: ContainerLog | undefined, opts: LogOptions): string {
  let lines = log?.lines ?? []
  if (opts.tailLines !== undefined) lines = lines.slice(Math.max(0, lines.length - opts.tailLines))
  if (opts.sinceNs !== undefined) lines = lines.filter((l) => l.at >= opts.sinceNs!)
  return lines.map((l) => formatLine(l, opts)).join('')
}

/** Counts what a log stream has sent against `limitBytes`; `take` cuts a chunk at the limit (bytes, not characters). */
export class ByteLimit {
  private left: number

  constructor(limit: number | undefined) {
    this.left = limit ?? Infinity
  }

  get reached(): boolean {
    return this.left <= 0
  }

  take(text: string): Buffer {
    const buf = Buffer.from(text)
    const out = buf.length > this.left ? buf.subarray(0, this.left) : buf
    this.left -= out.length
    return out
  }
}
