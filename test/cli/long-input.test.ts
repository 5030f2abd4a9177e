import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import CatalogShow from '../../src/commands/catalog/show.js'
import Cleanup from '../../src/commands/cleanup.js'
import Doctor from '../../src/commands/doctor.js'
import Render from '../../src/commands/render.js'
import { runCommand, runMain } from '../helpers/run-command.js'
import { clipLongWords, echoInput } from '../../src/util/text.js'

/** A value the user typed comes back in an error cut to a readable length, quoted and escaped, never whole. */
const LONG = `${'x'.repeat(99_992)}-the-end`
const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-long-input-'))
const config = path.join(dir, 'config.toml')
writeFileSync(config, '[[runners]]\nname = "r"\nurl = "https://127.0.0.1:1"\ntoken = "glrt-x"\nexecutor = "kubernetes"\n[runners.kubernetes]\nnamespace = "default"\n')
const ci = path.join(dir, '.gitlab-ci.yml')
writeFileSync(ci, 'build:\n  script: [make]\n')

function expectClipped(r: { code: number; stdout: string; stderr: string }, first: string): void {
  expect(r.code, r.stderr).toBe(2)
  expect(r.stdout).toBe('')
  // oclif's own process warning (a command that stopped before parse) may come first, in-process.
  expect(r.stderr.split('\n').find((l) => l.startsWith('Error:'))).toBe(first)
  expect(r.stderr.length).toBeLessThan(1000)
  expect(r.stderr).not.toContain('the-end')
}

const cut = `${'x'.repeat(80)}…`

describe('user input echoed in errors', () => {
  it('echoInput quotes, escapes and cuts; clipLongWords cuts only long words', () => {
    expect(echoInput('quota-exceeded')).toBe('"quota-exceeded"')
    expect(echoInput('a\u001b[31mb')).toBe('"a\\u001b[31mb"')
    expect(echoInput('y'.repeat(81))).toBe(`"${'y'.repeat(80)}…" (81 characters)`)
    expect(clipLongWords(`Expected --x=${'z'.repeat(100)} to be one of: a, b`)).toBe(`Expected ${`--x=${'z'.repeat(100)}`.slice(0, 80)}… (104 characters) to be one of: a, b`)
  })

  it('a --context that names no context', async () => {
    const kubeconfig = path.join(dir, 'kubeconfig')
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: ctx, context: {cluster: c, user: u}}]\ncurrent-context: ctx\n')
    expectClipped(await runCommand(Doctor, ['-c', config, '--kubeconfig', kubeconfig, '--context', LONG]), `Error: --context: no context "${cut}" (100000 characters) in ${kubeconfig} (contexts: ctx)`)
  })

  it('catalog show, an unknown command, an unknown flag, a bad option value, an extra argument', async () => {
    expectClipped(await runCommand(CatalogShow, [LONG]), `Error: no catalog entry "${cut}" (100000 characters)`)
    expectClipped(await runMain([`dcotor${LONG}`]), `Error: "dcotor${'x'.repeat(74)}…" (100006 characters) is not a gkr command`)
    expectClipped(await runCommand(Doctor, ['--offline', `--${LONG}`]), `Error: --${'x'.repeat(78)}… (100002 characters): unknown flag`)
    expectClipped(await runCommand(Doctor, ['--offline', '--fail-on', LONG]), `Error: Expected --fail-on=${'x'.repeat(70)}… (100010 characters) to be one of: fail, warn`)
    expectClipped(await runCommand(CatalogShow, ['quota-exceeded', LONG]), `Error: Unexpected argument: ${cut} (100000 characters)`)
  })

  it('flag values gkr checks itself', async () => {
    expectClipped(await runCommand(Doctor, ['--offline', '-c', config, '--request-timeout', LONG]), `Error: --request-timeout: "${cut}" (100000 characters) is not a duration such as 5s or 1m`)
    expectClipped(await runCommand(Doctor, ['--offline', '-c', config, '--runner-version', LONG]), `Error: --runner-version: "${cut}" (100000 characters) is not a runner version such as 17.3 or v17.3.0`)
    expectClipped(await runCommand(Doctor, ['--offline', '-c', config, '--only', LONG]), `Error: --only: no check or area named "${cut}" (100000 characters)`)
    expectClipped(await runCommand(Cleanup, ['--older-than', LONG]), `Error: --older-than: --older-than "${cut}" (100000 characters) is not a duration such as 30m or 24h`)
    expectClipped(await runCommand(Render, ['-c', config, '--var', LONG]), `Error: --var: --var must be KEY=VALUE, got "${cut}" (100000 characters)`)
    expectClipped(await runCommand(Render, ['-c', config, '--ci-file', ci, '--job', LONG]), `Error: ${ci}: no job named ${cut} (100000 characters) in ${ci}`)
  })
})
