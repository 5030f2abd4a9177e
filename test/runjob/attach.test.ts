import { PassThrough, Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { attachStep, refusedStream, type AttachFn } from '../../src/runjob/attach.js'
import type { ExecFn, ExecRequest } from '../../src/runjob/exec.js'

const MARK = (code: number) => `\n{"command_exit_code": ${code}, "script": "/scripts-1-1/step_script"}\n`

/** An attach session that answers the command line with `chunks` (as a container shell would print them). */
function fakeAttach(chunks: string[], opts: { closeEarly?: boolean } = {}): { attach: AttachFn; lines: string[] } {
  const lines: string[] = []
  const attach: AttachFn = async (req) => {
    let close: () => void = () => undefined
    const closed = new Promise<void>((resolve) => (close = resolve))
    req.stdin.on('data', (d: Buffer) => {
      lines.push(d.toString())
      setImmediate(() => {
        for (const c of chunks) req.stdout.write(c)
        if (opts.closeEarly) close()
      })
    })
    return { closed, close }
  }
  return { attach, lines }
}

function run(chunks: string[], opts: { closeEarly?: boolean; signal?: AbortSignal } = {}) {
  const saved: ExecRequest[] = []
  const stdins: string[] = []
  const exec: ExecFn = async (req) => {
    saved.push(req)
    let text = ''
    for await (const c of req.stdin ?? []) text += String(c)
    stdins.push(text)
    return 0
  }
  const { attach, lines } = fakeAttach(chunks, opts)
  let out = ''
  const sink = new Writable({ write: (c: Buffer, _e, cb) => { out += c.toString(); cb() } })
  const done = attachStep({ exec, attach, namespace: 'ci', pod: 'p', container: 'build', scriptsDir: '/scripts-1-1/', name: 'step_script', script: 'echo hi\n', out: sink, signal: opts.signal ?? new AbortController().signal })
  return { done, saved, stdins, lines, out: () => out }
}

describe('attachStep', () => {
  it('saves the script with exec, types one background line into the shell, ends at the marker with its exit code', async () => {
    const t = run(['hi\nsec', 'ond line\n', MARK(7).slice(0, 12), MARK(7).slice(12)])
    expect(await t.done).toBe(7)
    expect(t.out()).toBe('hi\nsecond line\n')
    // The script goes on stdin (a here-document for a plain sh), never into the command (the request URL).
    expect(t.saved[0]!.command).toEqual(['sh'])
    expect(t.stdins[0]).toBe(`mkdir -p '/scripts-1-1/' && cat > '/scripts-1-1/step_script' <<'GKR_SCRIPT_END' && chmod 755 '/scripts-1-1/step_script'\necho hi\nGKR_SCRIPT_END\n`)
    expect(t.lines).toEqual([`(sh '/scripts-1-1/step_script'; ec=$?; echo; echo "{\\"command_exit_code\\": $ec, \\"script\\": \\"/scripts-1-1/step_script\\"}") 2>&1 &\n`])
  })

  it('output without a final newline still ends with one; nothing after the marker is kept', async () => {
    const t = run(['partial', MARK(0), 'later noise\n'])
    expect(await t.done).toBe(0)
    expect(t.out()).toBe('partial\n')
  })

  it('a session that ends before the marker is an error, not a success', async () => {
    const t = run(['hi\n'], { closeEarly: true })
    await expect(t.done).rejects.toThrow('attach to p/build ended before the step_script script reported its exit code')
  })

  it('abort closes the session and rejects', async () => {
    const ac = new AbortController()
    const t = run([], { signal: ac.signal })
    setImmediate(() => ac.abort(new Error('interrupted by SIGINT')))
    await expect(t.done).rejects.toThrow('interrupted by SIGINT')
  })
})

describe('refusedStream', () => {
  it('reads the status and subresource of a refused WebSocket upgrade', () => {
    expect(refusedStream({ message: 'Unexpected server response: 403', target: { url: 'wss://h/api/v1/namespaces/ci/pods/p/attach?container=build' } })).toEqual({ status: 403, subresource: 'attach' })
    expect(refusedStream(new Error('socket hang up'))).toBeUndefined()
    expect(refusedStream(new PassThrough())).toBeUndefined()
  })
})
