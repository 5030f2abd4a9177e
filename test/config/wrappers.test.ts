import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig, parseConfigText } from '../../src/config/load.js'
import { parseChartYaml, parseRunnerVersion, runnerForChart } from '../../src/config/version.js'
import { GkrError } from '../../src/util/errors.js'
import { thrown } from '../helpers/thrown.js'

const RUNNER = (indent: string): string =>
  ['[[runners]]', '  [runners.kubernetes]', '    namespace = "ci"', '    poll_timeout = 600'].map((l) => indent + l).join('\n')

const kube = (c: ReturnType<typeof parseConfigText>): Record<string, unknown> => c.runners[0]!.settings.kubernetes as Record<string, unknown>

describe('GitOps wrappers', () => {
  it('reads a Flux HelmRelease in a multi-document file, says which document, and notes valuesFrom', () => {
    const text = [
      'apiVersion: source.toolkit.fluxcd.io/v1',
      'kind: HelmRepository',
      'metadata: { name: gitlab }',
      'spec: { url: https://charts.gitlab.io }',
      '---',
      'apiVersion: helm.toolkit.fluxcd.io/v2',
      'kind: HelmRelease',
      'metadata:',
      '  name: runner',
      'spec:',
      '  chart:',
      '    spec: { chart: gitlab-runner, version: 0.73.1 }',
      '  valuesFrom:',
      '    - kind: Secret',
      '      name: runner-token',
      '  values:',
      '    gitlabUrl: https://gitlab.example.com',
      '    runners:',
      '      config: |',
      RUNNER('        '),
      '',
    ].join('\n')
    const c = parseConfigText(text, '/x/release.yaml')
    expect(c.runners[0]!.executor).toBe('kubernetes')
    expect(kube(c).poll_timeout).toBe(600)
    expect(c.locate(['runners', 0, 'kubernetes', 'poll_timeout'])).toMatchObject({ file: '/x/release.yaml', line: 23, column: 13 })
    expect(c.notes![0]).toBe('read Flux HelmRelease "runner" (document 2) from this 2-document file (1 other document skipped)')
    expect(c.notes!.join('\n')).toContain('takes values from Secret runner-token through spec.valuesFrom, which gkr cannot read offline')
    expect(c.runnerVersion).toEqual({ version: '17.8', from: 'chart 0.73.1' })
  })

  it('reads Argo CD helm.values (a YAML string) with positions inside it, and valuesObject over it', () => {
    const text = [
      'apiVersion: argoproj.io/v1alpha1',
      'kind: Application',
      'metadata: { name: runner }',
      'spec:',
      '  source:',
      '    chart: gitlab-runner',
      '    targetRevision: 0.81.0',
      '    helm:',
      '      values: |',
      '        concurrent: 3',
      '        runners:',
      '          config: |',
      RUNNER('            '),
      '      valuesObject:',
      '        concurrent: 7',
      '',
    ].join('\n')
    const c = parseConfigText(text, '/x/app.yaml')
    expect(c.locate(['runners', 0, 'kubernetes', 'poll_timeout'])).toMatchObject({ line: 16, column: 17 })
    expect(c.global.concurrent).toBe(7)
    expect(c.helm!.locate(['concurrent'])).toMatchObject({ line: 18 })
  })

  it('reads an ApplicationSet template and a Helmfile release with inline values', () => {
    const appset = 'apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: { name: r }\nspec:\n  template:\n    spec:\n      source:\n        chart: gitlab-runner\n        helm:\n          valuesObject:\n            runners:\n              config: |\n' + RUNNER('                ') + '\n'
    expect(kube(parseConfigText(appset, '/x/set.yaml')).namespace).toBe('ci')
    const helmfile = 'releases:\n  - name: ci\n    chart: gitlab/gitlab-runner\n    version: 0.64.0\n    values:\n      - values/common.yaml\n      - runners:\n          config: |\n' + RUNNER('            ') + '\n'
    const h = parseConfigText(helmfile, '/x/helmfile.yaml')
    expect(kube(h).namespace).toBe('ci')
    expect(h.notes!.join('\n')).toContain('Helmfile release "ci" also reads values/common.yaml')
    expect(h.runnerVersion?.version).toBe('16.11')
  })

  it('fails with a located error when a wrapper holds no values of its own', () => {
    const app = 'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: { name: r }\nspec:\n  source:\n    repoURL: https://example.com/ops.git\n    path: apps/gitlab-runner\n'
    const e = thrown(() => parseConfigText(app, '/x/app.yaml')) as GkrError
    expect(e).toBeInstanceOf(GkrError)
    expect(e.exit).toBe(2)
    expect(e.message).toContain('deploys the directory apps/gitlab-runner of https://example.com/ops.git')
    expect(e.at).toMatchObject({ file: '/x/app.yaml', line: 6 })
  })
})

describe('templates', () => {
  it('reads Terraform heredocs, with ${…} and %{…} as unknown values', () => {
    const tf = [
      'resource "helm_release" "runner" {',
      '  chart = "gitlab-runner"',
      '  values = [',
      '    <<-EOF',
      '    gitlabUrl: ${var.gitlab_url}',
      '    %{ if var.privileged }',
      '    rbac: { create: true }',
      '    %{ endif }',
      '    runners:',
      '      config: |',
      '        [[runners]]',
      '          [runners.kubernetes]',
      '            namespace = "${var.namespace}"',
      '            poll_timeout = ${var.poll_timeout}',
      '    EOF',
      '  ]',
      '}',
      '',
    ].join('\n')
    const c = parseConfigText(tf, '/x/main.tf')
    expect(c.unknown).toEqual([
      { path: 'gitlabUrl', expr: '${var.gitlab_url}' },
      { path: 'runners[0].kubernetes.namespace', expr: '${var.namespace}' },
      { path: 'runners[0].kubernetes.poll_timeout', expr: '${var.poll_timeout}' },
    ])
    // Unknown values are checked as if unset: the runner's defaults.
    expect(kube(c).poll_timeout).toBe(180)
    expect(c.locate(['runners', 0, 'kubernetes', 'poll_timeout'])).toMatchObject({ file: '/x/main.tf', line: 14 })
  })

  it('masks Helm {{ }} expressions so that the values still parse', () => {
    const v = 'gitlabUrl: {{ .Values.global.url }}\n{{- if .Values.rbac }}\nrbac:\n  create: true\n{{- end }}\nrunners:\n  config: |\n    [[runners]]\n      [runners.kubernetes]\n        image = {{ .Values.image | quote }}\n'
    const c = parseConfigText(v, '/x/values.yaml')
    expect(c.helm!.values.rbac).toEqual({ create: true })
    expect(c.unknown!.map((u) => u.expr)).toEqual(['{{ .Values.global.url }}', '{{ .Values.image | quote }}'])
  })
})

describe('several values files', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-values-'))
  writeFileSync(path.join(dir, 'values.yaml'), `gitlabUrl: https://a.example.com\nconcurrent: 2\nrbac:\n  create: true\nrunners:\n  config: |\n${RUNNER('    ')}\n`)
  writeFileSync(path.join(dir, 'prod.yaml'), 'concurrent: 9\nrbac:\n  clusterWideAccess: true\n')
  const sub = path.join(dir, 'sub')
  mkdirSync(sub)
  writeFileSync(path.join(sub, 'a.yaml'), 'concurrent: 1\n')
  writeFileSync(path.join(sub, 'values.yaml'), `runners:\n  config: |\n${RUNNER('    ')}\n`)

  it('merges them in the order given, as Helm does: maps merge, later files win', async () => {
    const c = await loadConfig({ path: [path.join(dir, 'values.yaml'), path.join(dir, 'prod.yaml')], env: {} })
    expect(c.global.concurrent).toBe(9)
    expect(c.helm!.values.rbac).toEqual({ create: true, clusterWideAccess: true })
    expect(c.helm!.locate(['concurrent'])).toMatchObject({ file: path.join(dir, 'prod.yaml'), line: 1 })
    expect(c.helm!.locate(['rbac', 'create'])).toMatchObject({ file: path.join(dir, 'values.yaml'), line: 4 })
    expect(c.locate(['runners', 0, 'kubernetes', 'poll_timeout'])).toMatchObject({ file: path.join(dir, 'values.yaml'), line: 10 })
    expect(c.notes![0]).toBe("merged 2 values files in Helm's order (later files win): values.yaml, prod.yaml")
  })

  it('reads a directory: values.yaml first, then the others by name', async () => {
    const c = await loadConfig({ path: sub, env: {} })
    expect(c.global.concurrent).toBe(1)
    expect(c.notes![0]).toBe("merged 2 values files in Helm's order (later files win): values.yaml, a.yaml")
  })

  it('refuses to merge a config.toml with values files', async () => {
    writeFileSync(path.join(dir, 'config.toml'), '[[runners]]\nexecutor = "kubernetes"\n')
    const e = await loadConfig({ path: [path.join(dir, 'values.yaml'), path.join(dir, 'config.toml')] }).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(GkrError)
    expect((e as GkrError).exit).toBe(2)
    expect((e as GkrError).message).toContain('config.toml is not Helm values')
  })
})

describe('chart semantics in the loader', () => {
  it('registers with the kubernetes executor unless runners.executor says otherwise, with the url from gitlabUrl', () => {
    const c = parseConfigText('gitlabUrl: https://g.example.com\nrunners:\n  config: |\n    [[runners]]\n      url = "https://old.example.com"\n', '/x/values.yaml')
    expect(c.runners[0]!.executor).toBe('kubernetes')
    expect(c.runners[0]!.settings.url).toBe('https://g.example.com')
    const d = parseConfigText('runners:\n  executor: docker\n  config: |\n    [[runners]]\n', '/x/values.yaml')
    expect(d.runners[0]!.executor).toBe('docker')
  })

  it('takes the global section from the chart values, not from runners.config', () => {
    const c = parseConfigText('checkInterval: 7\nrunners:\n  config: |\n    concurrent = 50\n    [[runners]]\n', '/x/values.yaml')
    expect(c.global).toMatchObject({ concurrent: 10, check_interval: 7, log_level: 'info' })
  })
})

describe('runner versions', () => {
  it('maps chart versions to runner versions (checked against Chart.yaml appVersion of real charts)', () => {
    expect(runnerForChart('0.9.0')).toBe('12.3')
    expect(runnerForChart('0.46.0')).toBe('15.5')
    expect(runnerForChart('0.49.0')).toBe('15.8')
    expect(runnerForChart('0.53.1')).toBe('16.0')
    expect(runnerForChart('0.73.1')).toBe('17.8')
    expect(runnerForChart('0.86.0')).toBe('18.9')
    expect(runnerForChart('1.0.0')).toBeUndefined()
  })

  it('reads versions from tags and Chart.yaml', () => {
    expect(parseRunnerVersion('alpine-v17.3.0')).toBe('17.3')
    expect(parseRunnerVersion('registry.gitlab.com/gitlab-org/gitlab-runner:ubuntu-v16.11.1')).toBe('16.11')
    expect(parseRunnerVersion('latest')).toBeUndefined()
    expect(parseChartYaml('name: gitlab-runner\nversion: 0.86.0\nappVersion: 18.9.0\n')).toEqual({ version: '0.86.0', appVersion: '18.9.0' })
    expect(parseChartYaml('name: ops\nversion: 1.0.0\ndependencies:\n- name: gitlab-runner\n  version: 0.38.0\n')).toEqual({ version: '0.38.0' })
    expect(parseChartYaml('name: gitlab-runner\nversion: 0.1.0\nappVersion: "1.16.0"\n')).toBeUndefined()
  })
})

describe('findings that depend on a template value', () => {
  it('say so', async () => {
    const { configChecks } = await import('../../src/checks/config/index.js')
    const { runCheck } = await import('../../src/checks/run.js')
    const c = parseConfigText('[[runners]]\n  executor = "kubernetes"\n  [runners.kubernetes]\n    node_selector_overwrite_allowed = "(${pattern}"\n', '/x/config.toml.tpl')
    const check = configChecks.find((x) => x.id === 'config-values')!
    const r = runCheck(check, { config: c, runner: c.runners[0]!, facts: {}, options: { online: false, live: false } })
    expect(r.findings[0]!.message).toContain('(depends on runners[0].kubernetes.node_selector_overwrite_allowed = (${pattern}, which a template computes: gkr cannot know its value)')
  })
})
