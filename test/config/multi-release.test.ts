import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { configFor, loadConfig, parseConfigText, selectRunners } from '../../src/config/load.js'
import { prepareDoctor } from '../../src/doctor/prepare.js'
import { runDoctor } from '../../src/doctor/run.js'
import type { Finding } from '../../src/checks/types.js'

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'config', 'multi-release')
const HELMFILE = path.join(DIR, 'helmfile.yaml')
const FLUX = path.join(DIR, 'helmreleases.yaml')

const kube = (settings: Record<string, unknown>): Record<string, unknown> => settings.kubernetes as Record<string, unknown>

async function doctorFindings(file: string): Promise<{ runners: string[]; findings: Finding[] }> {
  const signal = new AbortController().signal
  const prepared = await prepareDoctor({ config: file, offline: true, live: false, 'as-runner': false }, { signal, env: {}, home: os.tmpdir() })
  const report = await runDoctor(prepared.input, { signal })
  return { runners: report.runners.map((r) => r.name), findings: report.runners.flatMap((r) => r.results.flatMap((x) => x.findings)) }
}

describe('several runner releases in one file', () => {
  it('loads each Helmfile release as its own runner, with its own values', async () => {
    const c = await loadConfig({ path: HELMFILE, env: {} })
    expect(c.runners.map((r) => [r.name, r.release?.label])).toEqual([
      ['linux', 'Helmfile release "runner-linux"'],
      ['windows', 'Helmfile release "runner-windows"'],
    ])
    const [linux, windows] = c.runners as [(typeof c.runners)[0], (typeof c.runners)[0]]
    expect(kube(linux.settings).poll_timeout).toBe(60)
    expect(kube(windows.settings).poll_timeout).toBe(180)
    expect(kube(linux.settings).node_selector).toEqual({})
    expect(kube(windows.settings).node_selector).toEqual({ 'kubernetes.io/os': 'windows' })
    // Chart values of one release do not reach the other.
    expect(configFor(c, linux).global.concurrent).toBe(8)
    expect(configFor(c, windows).global.concurrent).toBe(10)
    expect((configFor(c, linux).helm!.values.runners as Record<string, unknown>).privileged).toBe(true)
    expect((configFor(c, windows).helm!.values.runners as Record<string, unknown>).privileged).toBeUndefined()
    // Positions are each release's own.
    expect(configFor(c, linux).locate([...linux.path, 'kubernetes', 'poll_timeout']).line).toBe(20)
    expect(configFor(c, windows).locate([...windows.path, 'shell']).line).toBe(31)
    expect(c.notes).toContain('found 2 runner releases, each checked on its own: Helmfile release "runner-linux", Helmfile release "runner-windows"')
    expect(selectRunners(c).map((r) => r.name)).toEqual(['linux', 'windows'])
  })

  it('loads each Flux HelmRelease of a multi-document file on its own, naming the document', async () => {
    const c = await loadConfig({ path: FLUX, env: {} })
    expect(c.runners.map((r) => [r.name, r.release?.label])).toEqual([
      ['staging', 'Flux HelmRelease "runner-staging" (document 1)'],
      ['prod', 'Flux HelmRelease "runner-prod" (document 3)'],
    ])
    const [staging, prod] = c.runners as [(typeof c.runners)[0], (typeof c.runners)[0]]
    expect(kube(staging.settings).poll_timeout).toBe(60)
    expect(kube(prod.settings).poll_timeout).toBe(180)
    expect(staging.settings.url).toBe('https://staging.gitlab.example.com')
    expect(prod.settings.url).toBe('https://gitlab.example.com')
    expect(configFor(c, staging).global.concurrent).toBe(2)
    expect(configFor(c, prod).global.concurrent).toBe(10)
    expect(configFor(c, prod).locate([...prod.path, 'kubernetes', 'namespace']).line).toBe(51)
  })

  it('doctor checks each release and every finding names its release', async () => {
    const { runners, findings } = await doctorFindings(HELMFILE)
    expect(runners).toEqual(['linux (Helmfile release "runner-linux")', 'windows (Helmfile release "runner-windows")'])
    for (const f of findings) expect(f.runner, `${f.check}: ${f.message}`).toMatch(/Helmfile release "runner-(linux|windows)"/)
    const of = (check: string): Array<[string | undefined, number | undefined]> => findings.filter((f) => f.check === check).map((f) => [f.runner, f.at?.line])
    expect(of('config-poll-timeout')).toEqual([['linux (Helmfile release "runner-linux")', 20]])
    // A global (chart-level) finding of one release: reported once, for that release only.
    expect(of('config-helm-legacy')).toEqual([['Helmfile release "runner-linux"', 13]])
    expect(findings.filter((f) => f.check === 'config-windows').every((f) => f.runner === 'windows (Helmfile release "runner-windows")')).toBe(true)
    expect(findings.some((f) => f.check === 'config-windows')).toBe(true)
    expect(findings.filter((f) => f.check === 'config-helm-manager').map((f) => f.runner)).toEqual(['Helmfile release "runner-windows"'])
  })

  it('doctor on two HelmReleases: the staging-only setting is found in staging only', async () => {
    const { runners, findings } = await doctorFindings(FLUX)
    expect(runners).toEqual(['staging (Flux HelmRelease "runner-staging" (document 1))', 'prod (Flux HelmRelease "runner-prod" (document 3))'])
    expect(findings.filter((f) => f.check === 'config-poll-timeout').map((f) => [f.runner, f.at?.line])).toEqual([['staging (Flux HelmRelease "runner-staging" (document 1))', 22]])
  })

  it('two Argo CD Applications: two runners; one release alone is loaded as before (no release label)', () => {
    const app = (name: string, ns: string, extra: string): string =>
      ['apiVersion: argoproj.io/v1alpha1', 'kind: Application', `metadata: { name: ${name} }`, 'spec:', '  source:', '    chart: gitlab-runner', '    targetRevision: 0.71.0', '    helm:', '      valuesObject:', extra, '        runners:', '          config: |', '            [[runners]]', '              [runners.kubernetes]', `                namespace = "${ns}"`].join('\n')
    const c = parseConfigText(`${app('amd64', 'ci-amd64', '        concurrent: 3')}\n---\n${app('arm64', 'ci-arm64', '        checkInterval: 7')}\n`, '/x/apps.yaml')
    expect(c.runners.map((r) => [r.release?.label, kube(r.settings).namespace, configFor(c, r).global.concurrent, configFor(c, r).global.check_interval])).toEqual([
      ['Argo CD Application "amd64" (document 1)', 'ci-amd64', 3, 3],
      ['Argo CD Application "arm64" (document 2)', 'ci-arm64', 10, 7],
    ])
    const one = parseConfigText(`${app('amd64', 'ci-amd64', '        concurrent: 3')}\n`, '/x/app.yaml')
    expect(one.runners.map((r) => r.release)).toEqual([undefined])
    expect(one.releases).toBeUndefined()
  })

  it('values files given before a multi-release file apply under every release, the release values win', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-multirel-'))
    writeFileSync(path.join(dir, 'common.yaml'), 'gitlabUrl: https://common.example.com\nconcurrent: 5\n')
    const c = await loadConfig({ path: [path.join(dir, 'common.yaml'), HELMFILE], env: {} })
    expect(c.runners.map((r) => [r.name, configFor(c, r).global.concurrent, r.settings.url])).toEqual([
      ['linux', 8, 'https://gitlab.example.com'],
      ['windows', 5, 'https://gitlab.example.com'],
    ])
  })
})
