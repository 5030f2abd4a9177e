/**
 * The core of `gkr explain`: find where the text comes from (a message, a file, stdin, a GitLab job),
 * stream it through the matcher, and return the ranked matches.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { fetchJobTrace, parseJobUrl } from '../gitlab/client.js'
import { usageError } from '../util/errors.js'
import type { Secret } from '../util/secret.js'
import { explainText, type Match } from './match.js'

export interface ExplainRequest {
  /** The positional argument: a message, a file path, or `-` for stdin. */
  input?: string
  stdin?: AsyncIterable<string | Uint8Array>
  job?: { url: string; token?: Secret; caFile?: string; timeoutMs?: number }
  signal?: AbortSignal
}

export interface ExplainResult {
  source: { kind: 'message' | 'file' | 'stdin' | 'job'; name: string }
  matched: boolean
  matches: Match[]
}

export async function explain(req: ExplainRequest): Promise<ExplainResult> {
  if (req.job) {
    if (req.input !== undefined) throw usageError('explain-two-inputs', 'give either a message/FILE/- or --job, not both', { at: { flag: '--job' } })
    const ref = parseJobUrl(req.job.url)
    const trace = await fetchJobTrace(ref, { token: req.job.token, caFile: req.job.caFile, timeoutMs: req.job.timeoutMs, signal: req.signal })
    try {
      return done({ kind: 'job', name: req.job.url }, await explainText(trace.body, { signal: req.signal }))
    } finally {
      await trace.close()
    }
  }
  if (req.input === undefined) {
    throw usageError('explain-no-input', 'nothing to explain: pass an error message, a log FILE, `-` for stdin, or --job URL')
  }
  if (req.input === '-') {
    if (!req.stdin) throw usageError('explain-no-stdin', 'stdin is not available')
    return done({ kind: 'stdin', name: '-' }, await explainText(req.stdin, { signal: req.signal }))
  }
  const file = await stat(req.input).catch(() => undefined)
  if (file?.isFile()) {
    const stream = createReadStream(req.input, { highWaterMark: 1 << 20 })
    try {
      return done({ kind: 'file', name: req.input }, await explainText(stream, { signal: req.signal }))
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code) throw usageError('file-unreadable', `cannot read ${req.input}: ${code}`, { at: { file: req.input } })
      throw err
    } finally {
      stream.destroy()
    }
  }
  if (file?.isDirectory()) throw usageError('explain-directory', `${req.input} is a directory; pass a log file`, { at: { file: req.input } })
  return done({ kind: 'message', name: 'argument' }, await explainText(req.input, { signal: req.signal }))
}

const done = (source: ExplainResult['source'], matches: Match[]): ExplainResult => ({ source, matched: matches.length > 0, matches })
