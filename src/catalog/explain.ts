/**
 * The core of `gkr explain`: find where the text comes from (a message, a file, stdin, a GitLab job),
 * stream it through the matcher, and return the ranked matches.
 */
import { open, stat, type FileHandle } from 'node:fs/promises'
// The config and CI-file readers (TOML, YAML) and the GitLab client load only for --config, --ci-file
// and --job: explaining a message or a file starts without them.
import { usageError } from '../util/errors.js'
import { Secret } from '../util/secret.js'
import { adviceFor, type Advice, type AdviceLang } from './advice.js'
import type { Answer, DiagnoseContext, Diagnosis, Dismissed } from './diagnose.js'
import { explainLog, type Match } from './match.js'
import type { LogStructure } from './structure.js'

export interface ExplainRequest {
  /** The positional argument: a message, a file path, or `-` for stdin. */
  input?: string
  stdin?: AsyncIterable<string | Uint8Array>
  job?: { url: string; token?: Secret; caFile?: string; timeoutMs?: number }
  signal?: AbortSignal
  /** Language of the advice built from extracted values (default en). */
  lang?: AdviceLang
  /** --config: the runner configuration the job ran with (its executor, service account, helper flavor). */
  config?: string
  /** --ci-file: the .gitlab-ci.yml of the failed pipeline (deploy tools, a dind service). */
  ciFile?: string
  env?: NodeJS.ProcessEnv
}

/** What --config and --ci-file contributed, with the files they came from. */
export type ExplainContext = DiagnoseContext & { config?: string; ciFile?: string }

/** A match with the advice its extracted values allow (the RBAC rule to add, the quota figures). */
export interface ExplainedMatch extends Match {
  advice?: Advice
}

export interface ExplainResult {
  source: { kind: 'message' | 'file' | 'stdin' | 'job'; name: string }
  matched: boolean
  matches: ExplainedMatch[]
  answer: Answer
  structure: LogStructure
  dismissed: Dismissed[]
  context?: ExplainContext
}

export async function explain(req: ExplainRequest): Promise<ExplainResult> {
  const context = await contextOf(req)
  const opts = { signal: req.signal, ...(context ? { context } : {}) }
  const run = (input: AsyncIterable<string | Uint8Array> | string): Promise<Diagnosis> => explainLog(input, opts)
  if (req.job) {
    if (req.input !== undefined) throw usageError('explain-two-inputs', 'give either a message/FILE/- or --job, not both', { at: { flag: '--job' } })
    const { fetchJobTrace, parseJobUrl, printableUrl } = await import('../gitlab/client.js')
    const ref = parseJobUrl(req.job.url)
    const trace = await fetchJobTrace(ref, { token: req.job.token ?? tokenInUrl(req.job.url), caFile: req.job.caFile, timeoutMs: req.job.timeoutMs, signal: req.signal })
    try {
      return done(req, { kind: 'job', name: printableUrl(req.job.url) }, await run(trace.body), context)
    } finally {
      await trace.close()
    }
  }
  if (req.input === undefined) {
    throw usageError('explain-no-input', 'nothing to explain: pass an error message, a log FILE, `-` for stdin, or --job URL')
  }
  if (req.input === '-') {
    if (!req.stdin) throw usageError('explain-no-stdin', 'stdin is not available')
    return done(req, { kind: 'stdin', name: '-' }, await run(req.stdin), context)
  }
  const file = await stat(req.input).catch((err: NodeJS.ErrnoException) => {
    // An argument that names no file is a message, unless it was plainly meant as a path: then say
    // the file is missing instead of "nothing matched". (Long messages fail stat with ENAMETOOLONG.)
    if (!looksLikePath(req.input!)) return undefined
    const missing = err.code === 'ENOENT' || err.code === 'ENOTDIR'
    throw usageError(missing ? 'file-not-found' : 'file-unreadable', missing ? `no such file: ${req.input}` : `cannot read ${req.input}: ${err.code ?? String(err)}`, {
      at: { file: req.input },
      suggestions: [missing ? 'Check the path, or quote the error message to explain it as text.' : 'Check the permissions of the file and its folders.'],
    })
  })
  if (file?.isFile()) {
    let handle: FileHandle | undefined
    try {
      handle = await open(req.input)
      return done(req, { kind: 'file', name: req.input }, await run(chunksOf(handle)), context)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code) {
        throw usageError('file-unreadable', `cannot read ${req.input}: ${code}`, {
          at: { file: req.input },
          suggestions: ['Check the file\'s permissions, or pipe it in with `... | gkr explain -`.'],
        })
      }
      throw err
    } finally {
      await handle?.close()
    }
  }
  if (file?.isDirectory()) throw usageError('explain-directory', `${req.input} is a directory; pass a log file`, { at: { file: req.input } })
  return done(req, { kind: 'message', name: 'argument' }, await run(req.input), context)
}

/** How much of a file is read at a time. */
const READ_CHUNK = 1 << 20

/**
 * A file's bytes, a chunk at a time, read into two buffers that take turns: while the matcher scans one
 * chunk, the next is read into the other (the matcher is done with a chunk when it asks for the next,
 * and copies what it keeps: the unfinished last line). A read stream allocates a buffer per chunk and
 * reads only when asked; on a 100 MB log its allocation, garbage collection and waits for the disk cost
 * about as much as the search itself (measured with bench/explain.bench.ts).
 */
async function* chunksOf(handle: FileHandle): AsyncGenerator<Uint8Array> {
  const bufs = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)]
  let turn = 0
  let pending = handle.read(bufs[turn]!, 0, READ_CHUNK, null)
  try {
    for (;;) {
      const { bytesRead, buffer } = await pending
      if (bytesRead === 0) return
      turn ^= 1
      pending = handle.read(bufs[turn]!, 0, READ_CHUNK, null)
      yield buffer.subarray(0, bytesRead)
    }
  } finally {
    // A consumer that stops early (an abort, an error) leaves the read ahead in flight: settle it here,
    // so its failure cannot surface later as an unhandled rejection.
    await pending.catch(() => undefined)
  }
}

/** GitLab also accepts `?private_token=` in a URL; honour it (it is never printed: see printableUrl). */
function tokenInUrl(url: string): Secret | undefined {
  try {
    const t = new URL(url).searchParams.get('private_token')
    return t ? new Secret(t) : undefined
  } catch {
    return undefined
  }
}

/**
 * Whether an argument that names no file was meant as one: a single word that starts like a path
 * (`/`, `./`, `../`, `~/`, `C:\\`) or ends in a log-like extension. Error messages have spaces or colons
 * in other places, so `OOMKilled` or `ErrImagePull` stay messages.
 */
export function looksLikePath(arg: string): boolean {
  if (/\s/.test(arg)) return false
  return /^(?:\.{0,2}\/|~\/|[A-Za-z]:\\)/.test(arg) || /\.(?:log|txt|out|trace|json|gz)$/i.test(arg)
}

function done(req: ExplainRequest, source: ExplainResult['source'], d: Diagnosis, context: ExplainContext | undefined): ExplainResult {
  const explained = d.matches.map((m: Match): ExplainedMatch => {
    const advice = adviceFor(m.id, m.fields, req.lang)
    return advice ? { ...m, advice } : m
  })
  return { source, matched: explained.length > 0, matches: explained, answer: d.answer, structure: d.structure, dismissed: d.dismissed, ...(context ? { context } : {}) }
}

const DEPLOY_TOOL = /(?:^|[\s;&|(])(?:kubectl|helm|terraform|tofu|oc|kustomize)\s/

/** Reads --config and --ci-file into what the diagnosis can use. Bad files are user mistakes (exit 2). */
async function contextOf(req: ExplainRequest): Promise<ExplainContext | undefined> {
  if (!req.config && !req.ciFile) return undefined
  const ctx: ExplainContext = {}
  if (req.config) {
    const { kube, loadConfig } = await import('../config/load.js')
    const config = await loadConfig({ path: req.config, env: req.env })
    ctx.config = config.file
    // The runner that ran the job is unknown: a file with one runner (or one Kubernetes runner) is unambiguous.
    const runners = config.runners.length === 1 ? config.runners : config.runners.filter((r) => r.executor === 'kubernetes')
    const r = runners[0]
    if (r && runners.length === 1) {
      if (r.executor) ctx.executor = r.executor
      const k = kube(r)
      if (typeof k.service_account === 'string' && k.service_account) ctx.jobServiceAccount = k.service_account
      if (typeof k.helper_image_flavor === 'string') ctx.helperFlavor = k.helper_image_flavor
    }
  }
  if (req.ciFile) {
    const { parseCiFile } = await import('../ci/parse.js')
    const ci = await parseCiFile(req.ciFile)
    ctx.ciFile = ci.file
    const jobs = Object.values(ci.jobs)
    ctx.deployTools = jobs.some((j) => [...j.before_script, ...j.script, ...j.after_script].some((l) => DEPLOY_TOOL.test(` ${l} `)))
    ctx.dind = jobs.some((j) => j.services.some((sv) => /(?:^|\/)docker:[\w.-]*dind/.test(sv.name)))
  }
  return ctx
}
