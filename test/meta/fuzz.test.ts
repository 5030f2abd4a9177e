/**
 * Seeded fuzzing of the input loaders (issue 18): real fixtures (config.toml, Helm values, .gitlab-ci.yml,
 * kubeconfig) mutated by truncation, random bytes, brackets and quotes, duplicated lines, swapped value
 * types, aliases and deep nesting, then loaded with the functions the commands call. Each load either
 * succeeds or throws a GkrError with exit code 2; a syntax error the parser placed names file:line:column.
 * A sample also runs through the commands in-process, which must never exit 70 (a bug in gkr).
 * Reproduce one mutant with FUZZ_SEED=<seed>; the failure message prints the seed, index and text.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseConfigText } from '../../src/config/load.js'
import { parseCiSource } from '../../src/ci/parse.js'
import { resolveCluster } from '../../src/kube/connect.js'
import { GkrError } from '../../src/util/errors.js'
import { runCommand } from '../helpers/run-command.js'
import Doctor from '../../src/commands/doctor.js'
import Render from '../../src/commands/render.js'
import { seededRandom } from '../../src/executor/names.js'

const SEED = Number(process.env.FUZZ_SEED ?? 18_006)
const PER_FORMAT = 600
const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'config')

// The project's seeded generator (mulberry32): the same sequence on every machine.
const rng = seededRandom

function fixtures(ext: RegExp): string[] {
  const out: string[] = []
  for (const d of readdirSync(FIXTURES)) for (const f of readdirSync(path.join(FIXTURES, d))) if (ext.test(f)) out.push(readFileSync(path.join(FIXTURES, d, f), 'utf8'))
  return out
}

const TOMLS = fixtures(/\.toml$/)
const helm = (toml: string): string => `gitlabUrl: https://gitlab.example.com\nconcurrent: 4\nrunners:\n  config: |\n${toml.split('\n').map((l) => `    ${l}`).join('\n')}\n`
const HELMS = TOMLS.slice(0, 12).map(helm)
const CIS = [...fixtures(/\.gitlab-ci\.yml$/), '.base: &base\n  image: alpine\n  script: [echo]\njob:\n  <<: *base\n  extends: .t\n  script:\n    - !reference [.t, script]\n.t:\n  script: [a, b]\n  variables: {A: "1"}\n']
const KUBECONFIG = `apiVersion: v1
kind: Config
current-context: c
contexts:
- name: c
  context: {cluster: k, user: u, namespace: ci}
clusters:
- name: k
  cluster:
    server: https://127.0.0.1:9
    certificate-authority-data: ${Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64')}
users:
- name: u
  user:
    token: abc
`

const NOISE = ['[', ']', '{', '}', '"', "'", '"""', ':', '=', ',', '\n', '\t', '&a ', '*a', '[*a]', '<<: *a', '!reference [x]', '#', '\\', '\u0000', '\uFFFD', '- ', '? ', '|', '>', '%', '@', '`']
const VALUES = ['{a: 1}', '{ a = 1 }', 'true', '12', '-1', '1e999', '[1, [2]]', '~', 'null', '""', "''", '*a', '&a [*a]', '!!binary x', '0x10', '2024-01-01']

/** One mutant of `text`: one to three edits. */
function mutate(text: string, r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
  const at = () => Math.floor(r() * (text.length + 1))
  const edits = 1 + Math.floor(r() * 3)
  for (let e = 0; e < edits; e++) {
    const lines = text.split('\n')
    const li = Math.floor(r() * lines.length)
    switch (Math.floor(r() * 9)) {
      case 0: text = text.slice(0, at()); break // truncate
      case 1: { const p = at(); text = text.slice(0, p) + pick(NOISE) + text.slice(p); break }
      case 2: { const p = at(); text = text.slice(0, p) + String.fromCharCode(Math.floor(r() * 0x250)) + text.slice(p); break }
      case 3: lines.splice(li, 0, lines[li] ?? ''); text = lines.join('\n'); break // duplicate a line (duplicate keys)
      case 4: { // swap a value's type
        const l = lines[li] ?? ''
        const sep = l.search(/[:=]\s*\S/)
        if (sep >= 0) lines[li] = `${l.slice(0, sep + 1)} ${pick(VALUES)}`
        text = lines.join('\n')
        break
      }
      case 5: { // add an anchor and an alias
        const l = lines[li] ?? ''
        const sep = l.search(/[:=]\s*\S/)
        if (sep >= 0) lines[li] = `${l.slice(0, sep + 1)} &a ${l.slice(sep + 1).trim()}`
        lines.splice(Math.floor(r() * lines.length), 0, `${'  '.repeat(Math.floor(r() * 3))}x${Math.floor(r() * 9)}: ${pick(['*a', '[*a, *a]', '{k: *a}', '*b'])}`)
        text = lines.join('\n')
        break
      }
      case 6: { // deep nesting
        const n = 50 + Math.floor(r() * 1200)
        const kind = Math.floor(r() * 3)
        const p = at()
        text = text.slice(0, p) + (kind === 0 ? '['.repeat(n) + ']'.repeat(n) : kind === 1 ? '{a: '.repeat(n) + '}'.repeat(n) : '['.repeat(n)) + text.slice(p)
        break
      }
      case 7: { const a = at(); const b = at(); text = text.slice(0, Math.min(a, b)) + text.slice(Math.max(a, b)); break } // delete a span
      default: lines.splice(li, 1); text = lines.join('\n') // drop a line
    }
  }
  return text
}

/** A syntax error is expected to be placed; these codes come from a parser that reports positions. */
const POSITIONED = new Set(['config-syntax', 'ci-yaml-invalid'])

function judge(err: unknown, file: string, where: string): void {
  if (!(err instanceof GkrError)) throw new Error(`${where}: not a GkrError: ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err)}`)
  if (err.exit !== 2) throw new Error(`${where}: exit ${err.exit} (${err.code}: ${err.message})`)
  const parserPlaced = POSITIONED.has(err.code) && /^invalid (YAML|TOML)/.test(err.message) && !/alias count|resource exhaustion/i.test(err.message)
  const kubeYaml = err.code === 'kubeconfig-invalid' && /^invalid kubeconfig YAML/.test(err.message)
  if ((parserPlaced || kubeYaml) && (err.at?.file !== file || typeof err.at.line !== 'number' || typeof err.at.column !== 'number')) {
    throw new Error(`${where}: a syntax error without file:line:column: ${err.code}: ${err.message} at ${JSON.stringify(err.at)}`)
  }
}

function describeMutant(kind: string, i: number, text: string): string {
  return `${kind} mutant #${i} (FUZZ_SEED=${SEED}): ${JSON.stringify(text.length > 600 ? `${text.slice(0, 600)}…` : text)}`
}

describe(`fuzzing the loaders (seed ${SEED})`, () => {
  const sync: Array<[string, string[], string, (text: string) => unknown]> = [
    ['config.toml', TOMLS, 'config.toml', (t) => parseConfigText(t, 'config.toml', { env: {} })],
    ['Helm values', HELMS, 'values.yaml', (t) => parseConfigText(t, 'values.yaml', { env: {} })],
    ['.gitlab-ci.yml', CIS, '.gitlab-ci.yml', (t) => parseCiSource(t, '.gitlab-ci.yml')],
  ]
  it.each(sync)('%s: every mutant loads or is a GkrError with exit 2', (kind, seeds, file, load) => {
    const r = rng(SEED ^ kind.length * 7919)
    let ok = 0
    let refused = 0
    for (let i = 0; i < PER_FORMAT; i++) {
      const text = mutate(seeds[i % seeds.length]!, r)
      try {
        load(text)
        ok++
      } catch (err) {
        judge(err, file, describeMutant(kind, i, text))
        refused++
      }
    }
    // The mutants must exercise both paths, or the fuzzer tests nothing.
    expect(ok).toBeGreaterThan(PER_FORMAT / 20)
    expect(refused).toBeGreaterThan(PER_FORMAT / 20)
  }, 30_000)

  it('kubeconfig: every mutant loads or is a GkrError with exit 2 (nothing connects)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-fuzz-kube-'))
    const r = rng(SEED ^ 0x6b756265)
    let ok = 0
    let refused = 0
    const n = Math.floor(PER_FORMAT / 2)
    for (let i = 0; i < n; i++) {
      const text = mutate(KUBECONFIG, r)
      const file = path.join(dir, `k${i}.yaml`)
      writeFileSync(file, text)
      try {
        const target = await resolveCluster({ kubeconfig: file, env: {}, timeoutMs: 1000 })
        // What every request does next (TLS options from the CA, certificate, key and token): no TypeError there either.
        await target?.kc.applyToHTTPSOptions({})
        ok++
      } catch (err) {
        judge(err, file, describeMutant('kubeconfig', i, text))
        refused++
      }
    }
    expect(ok).toBeGreaterThan(n / 20)
    expect(refused).toBeGreaterThan(n / 20)
  }, 30_000)

  it('a sample through the commands in-process never exits 70', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-fuzz-cli-'))
    const r = rng(SEED ^ 0x636c69)
    const codes: number[] = []
    for (let i = 0; i < 20; i++) {
      const config = path.join(dir, `c${i}.${i % 2 ? 'yaml' : 'toml'}`)
      const ci = path.join(dir, `ci${i}.yml`)
      const cfgText = i % 2 ? mutate(HELMS[i % HELMS.length]!, r) : mutate(TOMLS[i % TOMLS.length]!, r)
      const ciText = mutate(CIS[i % CIS.length]!, r)
      writeFileSync(config, cfgText)
      writeFileSync(ci, ciText)
      const res = i % 4 < 2
        ? await runCommand(Doctor, ['--offline', '-c', config, '--ci-file', ci])
        : await runCommand(Render, ['-c', config, '--ci-file', ci, '--job', 'job'])
      if (res.code === 70) throw new Error(`exit 70 for ${describeMutant('config', i, cfgText)} with ${describeMutant('ci', i, ciText)}\n${res.stderr}`)
      codes.push(res.code)
    }
    expect(codes).toHaveLength(20)
  }, 60_000)
})
