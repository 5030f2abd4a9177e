/**
 * A signal that arrives while gkr is still starting (loading oclif and the command) ends it with exit
 * 130 (INTERRUPTED), never by the signal's default action (exit 143). The test signals the moment the
 * process installs its first handler for that signal (a preloaded hook says when), which is the
 * earliest point gkr can answer at all.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { BIN, ROOT } from '../helpers/cli.js'

const HOOK = path.join(ROOT, 'test', 'helpers', 'signal-ready.mjs')

async function signalAtStartup(sig: 'SIGINT' | 'SIGTERM', args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', HOOK, BIN, ...args], {
    cwd: ROOT, env: { ...process.env, NO_COLOR: '1', GKR_READY_SIGNAL: sig }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const ready = child.stdio[3] as Readable
  ready.once('data', () => child.kill(sig))
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])))
  return { code, signal, stdout, stderr }
}

describe('a signal during start-up', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s as soon as gkr can catch it: exit 130, nothing done, one line on stderr', async (sig) => {
    const r = await signalAtStartup(sig, ['catalog'])
    expect(r.signal).toBeNull()
    expect(r.code).toBe(130)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(`\nReceived ${sig} while starting: stopped before doing anything.\n`)
  })
})
