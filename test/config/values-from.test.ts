import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'
import { RESOURCES } from '../../src/sim/resources.js'
import { prepareDoctor } from '../../src/doctor/prepare.js'
import { runDoctor } from '../../src/doctor/run.js'
import { loadConfig } from '../../src/config/load.js'
import { valuesFromSources } from '../../src/config/helm.js'
import type { ValuesFromRef } from '../../src/config/types.js'
import { renderDoctorText } from '../../src/render/doctor-text.js'
import { Secret } from '../../src/util/secret.js'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import Doctor from '../../src/commands/doctor.js'
import { runCommand } from '../helpers/run-command.js'

const NS = 'gitlab-runner'
/** The canary pattern of test/meta/secrets.test.ts: a runner token that must never be printed. */
const CANARY = 'glrt-CANARYvaluesFROM0000'

const configMaps = RESOURCES.find((r) => r.resource === 'configmaps' && !r.group)!
const secrets = RESOURCES.find((r) => r.resource === 'secrets' && !r.group)!

/** A Flux HelmRelease in the runner's namespace whose values come mostly from the cluster. */
function helmRelease(valuesFrom: string, values = '    concurrent: 7\n'): string {
  return [
    'apiVersion: helm.toolkit.fluxcd.io/v2',
    'kind: HelmRelease',
    'metadata:',
    '  name: gitlab-runner',
    `  namespace: ${NS}`,
    'spec:',
    '  chart:',
    '    spec:',
    '      chart: gitlab-runner',
    '      version: 0.70.0',
    '  valuesFrom:',
    valuesFrom,
    '  values:',
    values,
  ].join('\n')
}

describe('Flux valuesFrom read from the cluster by doctor', () => {
  let sim: Sim
  let dir: string
  let home: string
  beforeAll(async () => {
    sim = await start('healthy')
    dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-valuesfrom-'))
    home = mkdtempSync(path.join(os.tmpdir(), 'gkr-valuesfrom-home-'))
    const toml = `[[runners]]\n  name = "from-configmap"\n  tls-ca-file = "${path.join(path.dirname(sim.runnerConfig), 'sim-ca.pem')}"\n  [runners.kubernetes]\n    namespace = "${NS}"\n    image = "alpine:3.19"\n`
    const base = `gitlabUrl: ${sim.url}\ncheckInterval: 30\nconcurrent: 2\nrunners:\n  config: |\n${toml.split('\n').map((l) => `    ${l}`).join('\n')}\n`
    sim.store.create(configMaps, NS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'runner-base', namespace: NS }, data: { 'values.yaml': base, interval: '9', concurrent: '3' } })
    sim.store.create(configMaps, NS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'runner-override', namespace: NS }, data: { 'custom.yaml': 'checkInterval: 15\nlogLevel: debug\n' } })
    sim.store.create(secrets, NS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'runner-token', namespace: NS }, type: 'Opaque', data: { token: Buffer.from(CANARY).toString('base64') } })
  })
  afterAll(async () => {
    await sim?.stop()
  })

  async function doctor(text: string, identity?: string, kubeconfigFile?: string) {
    const file = path.join(dir, `hr-${Math.random().toString(36).slice(2)}.yaml`)
    writeFileSync(file, text)
    const signal = new AbortController().signal
    const kubeconfig = kubeconfigFile ?? (identity ? sim.kubeconfigFor(identity) : sim.kubeconfig)
    const prepared = await prepareDoctor({ config: file, offline: false, live: false, 'as-runner': false }, { signal, env: { KUBECONFIG: kubeconfig }, home })
    const report = await runDoctor(prepared.input, { signal })
    return { prepared, report, file, text: renderDoctorText({ ...report, notes: [...prepared.notes, ...report.notes] }, { color: false }), json: JSON.stringify(report) }
  }

  const ALL_REFS = [
    '    - kind: ConfigMap',
    '      name: runner-base',
    '    - kind: ConfigMap',
    '      name: runner-base',
    '      valuesKey: concurrent',
    '      targetPath: concurrent',
    '    - kind: ConfigMap',
    '      name: runner-override',
    '      valuesKey: custom.yaml',
    '    - kind: ConfigMap',
    '      name: runner-base',
    '      valuesKey: interval',
    '      targetPath: metrics.port',
    '    - kind: Secret',
    '      name: runner-token',
    '      valuesKey: token',
    '      targetPath: runnerToken',
    '    - kind: ConfigMap',
    '      name: not-there',
    '      optional: true',
    '    - kind: ConfigMap',
    '      name: runner-override',
    '      valuesKey: absent.yaml',
    '      optional: true',
  ].join('\n')

  it('two HelmReleases in one file: each gets the values its own valuesFrom names, never the other\'s', async () => {
    const second = helmRelease(['    - kind: ConfigMap', '      name: runner-override', '      valuesKey: custom.yaml'].join('\n'), '    concurrent: 5\n    runners:\n      config: |\n        [[runners]]\n          name = "second"\n          [runners.kubernetes]\n            namespace = "gitlab-runner"\n').replace('name: gitlab-runner\n  namespace', 'name: second-runner\n  namespace')
    const { prepared } = await doctor(`${helmRelease(['    - kind: ConfigMap', '      name: runner-base'].join('\n'))}\n---\n${second}`)
    const config = prepared.input.config
    expect(config.runners.map((r) => r.name)).toEqual(['from-configmap', 'second'])
    const [first, other] = config.releases!
    // The first release's runners.config and checkInterval came from runner-base; the second's values only from runner-override.
    expect(first!.helm!.values.checkInterval).toBe(30)
    expect(other!.helm!.values.checkInterval).toBe(15)
    expect(other!.helm!.values.logLevel).toBe('debug')
    expect(first!.helm!.values.logLevel).toBeUndefined()
    expect(prepared.notes.join('\n')).not.toContain('cannot read offline')
  })

  it('merges the references in order (later wins, valuesKey defaults to values.yaml, targetPath sets one value), spec.values last, and says which were used', async () => {
    const { prepared, text, json, report } = await doctor(helmRelease(ALL_REFS))
    const config = prepared.input.config
    // runners.config came from the ConfigMap's values.yaml (the default key).
    expect(config.runners[0]!.name).toBe('from-configmap')
    expect((config.runners[0]!.settings.kubernetes as Record<string, unknown>).image).toBe('alpine:3.19')
    expect(config.runners[0]!.settings.url).toBe(sim.url)
    const values = config.helm!.values
    // spec.values (7) wins over the ConfigMap (2) and over the targetPath value (3), as helm-controller merges them.
    expect(values.concurrent).toBe(7)
    expect(config.global.concurrent).toBe(7)
    // The later reference wins: runner-override's checkInterval 15 over runner-base's 30.
    expect(values.checkInterval).toBe(15)
    expect(values.logLevel).toBe('debug')
    // targetPath: one typed value at a dot path, like --set.
    expect(values.metrics).toEqual({ port: 9 })
    // The Secret's value arrived, wrapped as a secret.
    expect(values.runnerToken).toBeInstanceOf(Secret)
    expect((values.runnerToken as Secret).reveal()).toBe(CANARY)
    const notes = prepared.notes.join('\n')
    expect(notes).toContain(`merged values from the cluster through spec.valuesFrom (in order, later ones win, spec.values last): ConfigMap ${NS}/runner-base, key values.yaml; ConfigMap ${NS}/runner-base, key concurrent (at concurrent); ConfigMap ${NS}/runner-override, key custom.yaml; ConfigMap ${NS}/runner-base, key interval (at metrics.port); Secret ${NS}/runner-token, key token (at runnerToken)`)
    expect(notes).toContain(`Flux HelmRelease "gitlab-runner", spec.valuesFrom[5]: skipped the optional ConfigMap ${NS}/not-there, key values.yaml: ConfigMap ${NS}/not-there does not exist`)
    expect(notes).toContain(`Flux HelmRelease "gitlab-runner", spec.valuesFrom[6]: skipped the optional ConfigMap ${NS}/runner-override, key absent.yaml: ConfigMap ${NS}/runner-override has no key absent.yaml`)
    expect(notes).not.toContain('cannot read offline')
    expect(report.runners.flatMap((r) => r.results).find((r) => r.id === 'config-values-from')).toBeUndefined()
    // The Secret's content is never printed, in text or JSON.
    expect(text).not.toContain('CANARY')
    expect(json).not.toContain('CANARY')
  })

  it('a non-optional reference that is missing is a failing finding at the reference, and the rest is still checked', async () => {
    const refs = ['    - kind: ConfigMap', '      name: runner-base', '    - kind: Secret', '      name: runner-token', '      valuesKey: values.yaml'].join('\n')
    const { report, file, text } = await doctor(helmRelease(refs))
    const results = report.runners.flatMap((r) => r.results)
    const vf = results.find((r) => r.id === 'config-values-from')!
    expect(vf.status).toBe('fail')
    expect(vf.findings).toEqual([expect.objectContaining({ message: `Flux HelmRelease "gitlab-runner", spec.valuesFrom[1]: Secret ${NS}/runner-token has no key values.yaml, and the reference is not optional, so Flux cannot reconcile this HelmRelease`, at: expect.objectContaining({ file, line: 14 }) })])
    expect(results.length).toBeGreaterThan(5)
    expect(text).not.toContain('CANARY')
  })

  it('a reference doctor may not read is an error result naming the verb, not a crash', async () => {
    const { report } = await doctor(helmRelease(['    - kind: ConfigMap', '      name: runner-base'].join('\n')), 'runner')
    const vf = report.runners.flatMap((r) => r.results).find((r) => r.id === 'config-values-from')!
    expect(vf).toMatchObject({ status: 'error', reason: `Flux HelmRelease "gitlab-runner", spec.valuesFrom[0]: cannot read ConfigMap ${NS}/runner-base, key values.yaml: get configmaps is forbidden; checked without its values` })
  })

  it('an unreachable API server leaves the values unread (an error result) beside the connection result, not a crash', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port
        srv.close(() => resolve(p))
      })
    })
    const closed = path.join(dir, 'kubeconfig-closed')
    writeFileSync(closed, readFileSync(sim.kubeconfig, 'utf8').replace(sim.url, `https://127.0.0.1:${port}`))
    const { report } = await doctor(helmRelease(['    - kind: ConfigMap', '      name: runner-base'].join('\n')), undefined, closed)
    const results = report.runners.flatMap((r) => r.results)
    expect(results.find((r) => r.id === 'config-values-from')).toMatchObject({ status: 'error' })
    expect(results.find((r) => r.id === 'config-values-from')!.reason).toMatch(/^Flux HelmRelease "gitlab-runner", spec.valuesFrom\[0\]: cannot read ConfigMap gitlab-runner\/runner-base, key values.yaml: .+; checked without its values$/)
    expect(results.find((r) => r.id === 'cluster-connection')).toMatchObject({ status: 'error' })
  })

  it('the command never prints the Secret, in any output format, and names the file given', async () => {
    const file = path.join(dir, 'command.yaml')
    writeFileSync(file, helmRelease(ALL_REFS))
    const sarif = path.join(dir, 'r.sarif')
    for (const argv of [['--verbose'], ['--json'], ['-o', 'yaml'], ['--sarif', sarif, '--json']]) {
      const r = await runCommand(Doctor, ['-c', file, ...argv], { env: { KUBECONFIG: sim.kubeconfig, HOME: home } })
      expect(r.code).not.toBe(70)
      expect(r.stdout + r.stderr).not.toContain('CANARY')
      expect(r.stdout).toContain('merged values from the cluster through spec.valuesFrom')
      if (argv[0] === '--json') expect((JSON.parse(r.stdout) as { result: { config: { file: string } } }).result.config.file).toBe(file)
    }
    expect(readFileSync(sarif, 'utf8')).not.toContain('CANARY')
  })

  it('offline: the references are recorded on the config and only named in a note', async () => {
    const file = path.join(dir, 'offline.yaml')
    writeFileSync(file, helmRelease(ALL_REFS))
    const config = await loadConfig({ path: file, env: {} })
    expect(config.valuesFrom!.map((r) => [r.kind, r.name, r.namespace, r.valuesKey, r.targetPath, r.optional])).toEqual([
      ['ConfigMap', 'runner-base', NS, 'values.yaml', undefined, false],
      ['ConfigMap', 'runner-base', NS, 'concurrent', 'concurrent', false],
      ['ConfigMap', 'runner-override', NS, 'custom.yaml', undefined, false],
      ['ConfigMap', 'runner-base', NS, 'interval', 'metrics.port', false],
      ['Secret', 'runner-token', NS, 'token', 'runnerToken', false],
      ['ConfigMap', 'not-there', NS, 'values.yaml', undefined, true],
      ['ConfigMap', 'runner-override', NS, 'absent.yaml', undefined, true],
    ])
    expect(config.notes!.join('\n')).toContain('through spec.valuesFrom, which gkr cannot read offline')
    expect(config.global.concurrent).toBe(7)
  })
})

describe('valuesFromSources (pure)', () => {
  const ref = (over: Partial<ValuesFromRef>): ValuesFromRef => ({ kind: 'ConfigMap', name: 'v', valuesKey: 'values.yaml', optional: false, release: 'Flux HelmRelease "r"', label: 'Flux HelmRelease "r", spec.valuesFrom[0]', ...over })
  it('says what is wrong with a reference without quoting its content', () => {
    const r = valuesFromSources([
      { ref: ref({}), namespace: 'ns', text: 'a: [unclosed CANARYyaml' },
      { ref: ref({ kind: 'Secret' }), namespace: 'ns', text: '- a list' },
      { ref: ref({ targetPath: 'runners.tags[0]' }), namespace: 'ns', text: 'x' },
      { ref: ref({ kind: 'Deployment' }), namespace: 'ns', unreadable: 'unused' },
      { ref: ref({ targetPath: 'a\\.b.c' }), namespace: 'ns', text: '"007"' },
    ])
    expect(r.problems.map((p) => [p.message, p.incomplete])).toEqual([
      ['Flux HelmRelease "r", spec.valuesFrom[0]: ConfigMap ns/v, key values.yaml is not valid YAML', false],
      ['Flux HelmRelease "r", spec.valuesFrom[0]: Secret ns/v, key values.yaml does not hold a YAML mapping of chart values', false],
      ['Flux HelmRelease "r", spec.valuesFrom[0]: targetPath runners.tags[0] is not a dot path gkr can set (list indexes and commas are not supported); checked without this value', true],
      ['Flux HelmRelease "r", spec.valuesFrom[0]: kind Deployment is not one Flux reads values from (ConfigMap or Secret)', false],
    ])
    expect(JSON.stringify(r.problems)).not.toContain('CANARY')
    // An escaped dot is part of the key; a quoted value stays a string.
    expect(r.sources.map((s) => s.node.toJSON())).toEqual([{ 'a.b': { c: '007' } }])
  })
})
