/**
 * The matcher: text (one message, or a whole job log streamed chunk by chunk) → catalog entries.
 *
 * Speed comes from never looking at most lines twice: one automaton of every symptom's literal needle
 * (needles.ts) scans each chunk's bytes; only the lines it hits are decoded, cleaned up (ANSI codes, GitLab section markers,
 * JSON escaping) and tried against the symptoms' patterns. The log is never held whole in memory.
 */
import type { CatalogId } from './ids.js'
import type { CatalogEntry, Symptom } from './types.js'
import { CATALOG } from './index.js'
import { NeedleSet } from './needles.js'
import { CONTEXT_NEEDLES, STAGE_MARKERS, StructureTracker, emitterOf, stageOf, type Emitter } from './structure.js'
import { diagnose, type Diagnosis, type DiagnoseContext } from './diagnose.js'

export interface Match {
  id: CatalogId
  title: string
  ref: string
  /** The cleaned-up line that matched (first occurrence), cut to 1000 characters. */
  line: string
  /** 1-based line number of the first occurrence (1 for a single message). */
  lineNumber: number
  /** Named groups of the pattern that matched: quota figures, user/verb/resource, … */
  fields: Record<string, string>
  /** How specific the pattern is; matches are ranked by it. */
  weight: number
  /** How many lines matched this entry. */
  occurrences: number
  /** Line numbers of the first (up to 10) occurrences. */
  lineNumbers: number[]
  /** 0–100: how sure the diagnosis is, given the evidence and its context. */
  confidence: number
  /** The lines this finding rests on (up to 5), most specific first, each with who printed it. */
  evidence: Evidence[]
  /** Other entries the same evidence fits; the answer is then a differential. */
  alternatives?: CatalogId[]
  /** Why the finding was moved to this entry or its confidence held back. */
  why?: string
}

export interface ExplainOptions {
  signal?: AbortSignal
  /** Treat each item of the iterable as one line (no trailing newline), e.g. readline output. */
  lines?: boolean
  /** What --config and --ci-file say about the runner and the jobs. */
  context?: DiagnoseContext
}

interface CompiledSymptom extends Symptom {
  entry: CatalogEntry
}

const SYMPTOMS: CompiledSymptom[] = CATALOG.flatMap((entry) => entry.symptoms.map((s) => ({ ...s, entry })))

/**
 * Every needle, found in one case-insensitive pass over each chunk. A `"` may appear JSON-escaped in raw
 * text, so each needle contributes its longest quote-free piece (the full needle is checked per line later).
 */
const SYMPTOM_NEEDLES = [...new Set(SYMPTOMS.map((s) => longestPiece(s.needle)))]
const CONTEXT: readonly string[] = CONTEXT_NEEDLES
const NEEDLES = new NeedleSet([...new Set([...SYMPTOM_NEEDLES, ...CONTEXT])])

function longestPiece(needle: string): string {
  return needle.split('"').reduce((a, b) => (b.length > a.length ? b : a), '')
}

// eslint-disable-next-line no-control-regex
const SECTION_MARKER = /section_(?:start|end):\d+:[^\r\n]*?\r(?:\x1b\[0?K)?/g
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07/g
const ESCAPED_QUOTE = /\\+"/g
const MAX_LINE = 1000
/** A line longer than this is cut into pieces so memory stays bounded. */
const MAX_BUFFER = 1 << 20

/** Removes ANSI codes, GitLab section markers, carriage-return overwrites and JSON escaping. */
export function normaliseLine(raw: string): string {
  let s = raw
  if (s.includes('section_')) s = s.replace(SECTION_MARKER, '')
  if (s.includes('\x1b')) s = s.replace(ANSI, '')
  if (s.includes('\r')) s = s.split('\r').filter((p) => p.trim() !== '').join(' ')
  if (s.includes('\\')) s = s.replace(ESCAPED_QUOTE, '"')
  return s.trim()
}

interface LineHit {
  symptom: CompiledSymptom
  fields: Record<string, string>
}

/** The most specific symptom a cleaned-up line shows, if any. Ties go to catalog order. */
function matchLine(line: string): LineHit | undefined {
  const lower = line.toLowerCase()
  let best: LineHit | undefined
  for (const s of SYMPTOMS) {
    if (best && s.weight <= best.symptom.weight) continue
    if (!lower.includes(s.needle)) continue
    const m = s.pattern.exec(line)
    if (!m) continue
    const fields: Record<string, string> = {}
    for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) fields[k] = v
    best = { symptom: s, fields }
  }
  return best
}

/** One line (or a message wrapped over a few lines) that shows a symptom, with where it was found. */
export interface RawHit {
  entry: CatalogId
  weight: number
  fields: Record<string, string>
  evidence: Evidence
}

/** A line that supports a finding: its number, its text, who printed it and in which stage. */
export interface Evidence {
  lineNumber: number
  line: string
  emitter: Emitter
  stage?: string
  /** The job command (`$ cmd` echo) the line followed, when the log shows one. */
  command?: string
}

/** Hits kept per entry (the rest are only counted), so a log full of one error stays small in memory. */
const MAX_HITS_PER_ENTRY = 50
/** A message wrapped over several lines (terraform boxes, YAML, kubectl events) is joined up to this. */
const WINDOW_LINES = 6
const WINDOW_BYTES = 2000
const WRAP_PREFIX = /^\s*(?:[│|#>]\s*)+/
const NL = 0x0a

export class Scanner {
  private lineNo = 0
  readonly hits: RawHit[] = []
  readonly extra = new Map<CatalogId, number>()
  private readonly perEntry = new Map<CatalogId, number>()
  readonly tracker = new StructureTracker()
  /** The last `$ cmd` echo seen before the current position. */
  private command: string | undefined
  /** Where needles end in the chunk being scanned (reused from chunk to chunk). */
  private readonly ends: number[] = []

  /**
   * Scans UTF-8 bytes, `buf[from, to)`, holding whole lines (the last one may lack its newline only at
   * end of input). Only the lines a needle hits are decoded: decoding whole chunks took longer than the
   * search itself.
   */
  scan(buf: Buffer, from = 0, to = buf.length): void {
    let counted = from
    const ends = this.ends
    ends.length = 0
    NEEDLES.findAll(buf, from, to, ends)
    // The line of the last hit looked at ends here (the index of its newline); later hits on it are skipped.
    let end = from - 1
    for (const hit of ends) {
      if (hit <= end) continue
      const start = hit - 1 > from ? Math.max(from, buf.lastIndexOf(NL, hit - 1) + 1) : from
      end = buf.indexOf(NL, hit - 1)
      if (end < 0 || end > to) end = to
      this.lineNo += countNewlineBytes(buf, counted, start)
      counted = start
      const raw = buf.toString('utf8', start, end)
      const line = normaliseLine(raw)
      const lower = line.toLowerCase()
      if (CONTEXT.some((n) => lower.includes(n))) this.tracker.observe(line, this.lineNo + 1)
      if (SYMPTOM_NEEDLES.some((n) => lower.includes(n))) this.symptoms(buf, from, to, start, end, raw, line)
      if (end >= to) break
    }
    this.lineNo += countNewlineBytes(buf, counted, to)
    // What the next chunk inherits: the stage and the command the job is in at the end of this one.
    this.locate(buf, from, to, CARRY_REACH)
    const step = buf.indexOf(STEP_SCRIPT, from)
    if (step >= 0 && step < to) this.tracker.saw('step_script')
  }

  /** Sets the current stage and command from the last markers before `pos` (kept when the chunk has none). */
  private locate(buf: Buffer, from: number, pos: number, reach = ECHO_REACH): void {
    const stage = stageBefore(buf, from, pos, reach)
    if (stage) this.tracker.enter(stage)
    const cmd = commandBefore(buf, from, pos, reach)
    if (cmd) this.command = cmd
  }

  private symptoms(buf: Buffer, from: number, to: number, start: number, end: number, raw: string, line: string): void {
    let found = matchLine(line)
    let text = line
    let box = WRAP_PREFIX.test(raw.replace(ANSI, '')) && raw.includes('│')
    if (!found) {
      // The message may be wrapped: try the line with the one before it and the few after it.
      const prevStart = start - 1 > from ? Math.max(from, buf.lastIndexOf(NL, start - 2) + 1) : start
      const parts: string[] = []
      if (prevStart < start) parts.push(normaliseLine(buf.toString('utf8', prevStart, start - 1)).replace(WRAP_PREFIX, ''))
      parts.push(line.replace(WRAP_PREFIX, ''))
      let at = end + 1
      for (let i = 0; i < WINDOW_LINES && at < to && at - end < WINDOW_BYTES; i++) {
        let e = buf.indexOf(NL, at)
        if (e < 0 || e > to) e = to
        const next = buf.toString('utf8', at, e)
        if (next.includes('│')) box = true
        parts.push(normaliseLine(next).replace(WRAP_PREFIX, ''))
        at = e + 1
      }
      text = parts.filter(Boolean).join(' ')
      found = matchLine(text)
      if (!found) return
      // A match that ends before this line is the previous line's own (already counted there).
      const ownText = line.replace(WRAP_PREFIX, '')
      const own = text.indexOf(ownText)
      const head = found.symptom.pattern.exec(text)
      if (!head || (own >= 0 && head.index + head[0].length <= own)) return
      // …and one that starts after it belongs to a later line (found there in its turn).
      if (own >= 0 && head.index >= own + ownText.length) return
      // Report the message from the line that starts it, not from the line before.
      if (own >= 0 && head.index >= own) text = text.slice(own)
    }
    const id = found.symptom.entry.id
    if (id === 'webhook-denied' && !found.fields.policy) Object.assign(found.fields, policyBlock(buf, end, to))
    const n = this.perEntry.get(id) ?? 0
    if (n >= MAX_HITS_PER_ENTRY) {
      this.extra.set(id, (this.extra.get(id) ?? 0) + 1)
      return
    }
    this.perEntry.set(id, n + 1)
    this.locate(buf, from, start)
    const command = this.command
    const inScript = this.tracker.inScript()
    const stage = this.tracker.currentStage
    if (stage) this.tracker.saw(stage)
    this.hits.push({
      entry: id,
      weight: found.symptom.weight,
      fields: found.fields,
      evidence: {
        lineNumber: this.lineNo + 1,
        line: text.slice(0, MAX_LINE),
        emitter: emitterOf(text, { terraformBox: box, inScript, command }),
        ...(stage ? { stage } : {}),
        ...(command ? { command } : {}),
      },
    })
  }
}

/**
 * A policy engine's denial continued on the lines after it, as Kyverno prints it: an optional header
 * (`policy Pod/ns/name for resource violation:` or `resource … was blocked due to the following policies`),
 * then `policy-name:` and, indented under it, `rule-name: message` (the message may follow a `|` on the
 * next lines). Returns the first policy and rule, and the message when the denial line had none.
 */
export function policyBlock(buf: Buffer, end: number, to: number): Record<string, string> {
  const out: Record<string, string> = {}
  let at = end + 1
  let policy: string | undefined
  let rule: string | undefined
  for (let i = 0; i < 12 && at < to && at - end < WINDOW_BYTES; i++) {
    let e = buf.indexOf(NL, at)
    if (e < 0 || e > to) e = to
    const line = normaliseLine(buf.toString('utf8', at, e))
    const indented = /^[ \t]/.test(buf.toString('utf8', at, Math.min(e, at + 1)))
    at = e + 1
    if (!line || /^policy \S+ for resource violation:?$|was blocked due to the following policies/.test(line)) continue
    if (rule) {
      if (indented && !out.reason) out.reason = line
      break
    }
    const p = /^([\w.-]+):$/.exec(line)
    if (p && !policy && !indented) {
      policy = p[1]
      continue
    }
    const r = /^([\w.-]+): ?(.*)$/.exec(line)
    if (r && policy && indented) {
      rule = r[1]
      if (r[2] && r[2] !== '|' && r[2] !== '>') {
        out.reason = r[2]
        break
      }
      continue
    }
    break
  }
  if (policy && rule) {
    out.policy = policy
    out.rule = rule
  } else delete out.reason
  return out
}

const STEP_SCRIPT = Buffer.from('step_script')
const ECHO = [Buffer.from('\n$ '), Buffer.from('\n\x1b[32;1m$ ')]

/** Where the last of `literals` starts in `buf[floor, pos)`, or -1 (the search never leaves that window). */
function lastOf(buf: Buffer, literals: readonly Buffer[], floor: number, pos: number): number {
  if (pos <= floor) return -1
  const window = buf.subarray(floor, pos)
  let best = -1
  for (const l of literals) best = Math.max(best, window.lastIndexOf(l))
  return best < 0 ? -1 : floor + best
}

/** The stage opened by the last stage marker before `pos` in the chunk, if any. */
function stageBefore(buf: Buffer, from: number, pos: number, reach: number): string | undefined {
  const best = lastOf(buf, STAGE_MARKERS, Math.max(from, pos - reach), pos)
  if (best < 0) return undefined
  const lineStart = best > from ? buf.lastIndexOf(NL, best) + 1 : from
  let end = buf.indexOf(NL, best)
  if (end < 0 || end > pos) end = pos
  return stageOf(buf.toString('utf8', Math.max(from, lineStart), end))
}
/** How far back a `$ cmd` echo or a stage marker is looked for from a symptom line (bytes of the current chunk). */
const ECHO_REACH = 1 << 18
/** …and from the end of each chunk, for the next chunk to inherit (kept short: this runs on every chunk). */
const CARRY_REACH = 1 << 15

/** The last `$ cmd` echoed before `pos` in the chunk, if any (looked up only for lines that show a symptom). */
function commandBefore(buf: Buffer, from: number, pos: number, reach: number): string | undefined {
  const nl = lastOf(buf, ECHO, Math.max(from, pos - reach), pos)
  let at = nl + 1
  // A chunk may start with the echo line itself.
  if (nl < 0) {
    if (buf.subarray(from, from + 2).toString('latin1') !== '$ ' && buf.subarray(from, from + 9).toString('latin1') !== '\x1b[32;1m$ ') return undefined
    at = from
  }
  let end = buf.indexOf(NL, at)
  if (end < 0 || end > pos) end = pos
  const cmd = normaliseLine(buf.toString('utf8', at, end)).replace(/^\$ /, '')
  return cmd ? cmd.slice(0, 200) : undefined
}


function countNewlineBytes(b: Buffer, from: number, to: number): number {
  let n = 0
  for (let i = b.indexOf(NL, from); i >= 0 && i < to; i = b.indexOf(NL, i + 1)) n++
  return n
}

/** Scans a whole text or a stream of chunks; the log is never held whole in memory. */
async function scanInput(input: AsyncIterable<string | Uint8Array> | string, opts: ExplainOptions): Promise<Scanner> {
  const scanner = new Scanner()
  if (typeof input === 'string') {
    scanner.scan(Buffer.from(input, 'utf8'))
    return scanner
  }
  // Chunks are scanned as bytes where they lie; only the unfinished last line is carried over (copied:
  // a stream may reuse its buffers). A '\n' byte never occurs inside a multi-byte UTF-8 character, so
  // lines split on bytes are lines of the text.
  let rest: Buffer = Buffer.alloc(0)
  for await (const chunk of input) {
    opts.signal?.throwIfAborted()
    let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (opts.lines) buf = Buffer.concat([buf, LF])
    const first = buf.indexOf(NL)
    if (first < 0) {
      rest = Buffer.concat([rest, buf])
      if (rest.length >= MAX_BUFFER) {
        scanner.scan(rest)
        rest = Buffer.alloc(0)
      }
      continue
    }
    if (rest.length > 0) scanner.scan(Buffer.concat([rest, buf.subarray(0, first + 1)]))
    else scanner.scan(buf, 0, first + 1)
    const last = buf.lastIndexOf(NL)
    if (last > first) scanner.scan(buf, first + 1, last + 1)
    rest = Buffer.from(buf.subarray(last + 1))
  }
  if (rest.length > 0) scanner.scan(rest)
  return scanner
}

/**
 * The full answer for a text or a job log: every finding with its confidence and evidence, the log's
 * structure, what was dismissed and why, and the answer (diagnosis, tentative, differential or none).
 */
export async function explainLog(input: AsyncIterable<string | Uint8Array> | string, opts: ExplainOptions = {}): Promise<Diagnosis> {
  const sc = await scanInput(input, opts)
  return diagnose(sc.hits, sc.extra, sc.tracker.structure, opts.context)
}

/**
 * Every catalog entry the text shows, most likely first. `input` is the whole text or an async
 * iterable of chunks (strings or bytes, e.g. a file stream); chunks are scanned as they arrive.
 */
export async function explainText(input: AsyncIterable<string | Uint8Array> | string, opts: ExplainOptions = {}): Promise<Match[]> {
  return (await explainLog(input, opts)).matches
}

const LF = Buffer.from('\n')

/** Every entry with a symptom matching one line (after clean-up), with its best weight: for diagnostics and tests. */
export function entriesMatchingLine(raw: string): { id: CatalogId; weight: number }[] {
  const line = normaliseLine(raw)
  const best = new Map<CatalogId, number>()
  for (const s of SYMPTOMS) {
    if (s.pattern.test(line) && (best.get(s.entry.id) ?? -1) < s.weight) best.set(s.entry.id, s.weight)
  }
  return [...best].map(([id, weight]) => ({ id, weight })).sort((a, b) => b.weight - a.weight)
}

/** The one entry an error message maps to (its most likely finding), e.g. for an API error. */
export function matchMessage(message: string): Match | undefined {
  const sc = new Scanner()
  sc.scan(Buffer.from(message, 'utf8'))
  return diagnose(sc.hits, sc.extra, sc.tracker.structure).matches[0]
}

/**
 * The symptoms as POSIX extended regular expressions (for `grep -E -f`), where a faithful
 * translation exists; named groups become plain groups and lazy quantifiers greedy ones.
 */
export function grepPatterns(): string[] {
  const out: string[] = []
  for (const s of SYMPTOMS) {
    const ere = toEre(s.pattern.source)
    if (ere !== undefined && !out.includes(ere)) out.push(ere)
  }
  return out
}

function toEre(src: string): string | undefined {
  let out = ''
  let inClass = false
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!
    if (c === '\\') {
      const n = src[++i]
      if (n === undefined) return undefined
      const cls: Record<string, [string, string]> = { w: ['[[:alnum:]_]', '[:alnum:]_'], d: ['[0-9]', '0-9'], s: ['[[:space:]]', '[:space:]'] }
      if (cls[n]) out += inClass ? cls[n][1] : cls[n][0]
      else if (n === 'S') {
        if (inClass) {
          if (!out.endsWith('[^') && !/\[\^[^\]]*$/.test(out)) return undefined
          out += '[:space:]'
        } else out += '[^[:space:]]'
      } else if (n === 'b') {
        if (inClass) return undefined
        out += '\\b'
      } else if (n === '/' || n === '-') out += n
      else if (inClass) {
        if (n === ']' && (out.endsWith('[') || out.endsWith('[^'))) {
          out += n
          continue
        }
        if (n === ']' || n === '^') return undefined
        out += n
      } else if ('.[]()*+?{}|^$\\'.includes(n)) out += `\\${n}`
      else return undefined
      continue
    }
    if (inClass) {
      if (c === ']') inClass = false
      out += c
      continue
    }
    if (c === '[') {
      inClass = true
      out += c
      if (src[i + 1] === '^') out += src[++i]
      continue
    }
    if (c === '(' && src[i + 1] === '?') {
      const named = /^\(\?<([A-Za-z]\w*)>/.exec(src.slice(i))
      if (named) i += named[0].length - 1
      else if (src[i + 2] === ':') i += 2
      else return undefined
      out += '('
      continue
    }
    if ((c === '?' || c === '+' || c === '*' || c === '}') && src[i + 1] === '?') {
      out += c
      i++
      continue
    }
    out += c
  }
  return inClass ? undefined : out
}
