import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig, parseConfigText, selectRunners, defaultConfigPaths } from '../../src/config/load.js'
import { GkrError } from '../../src/util/errors.js'
import { Secret } from '../../src/util/secret.js'
import { ROOT } from '../helpers/cli.js'

const ex = (f: string): string => path.join(ROOT, 'examples', f)

async function loadError(p: string): Promise<GkrError> {
  try {
    await loadConfig({ path: p })
  } catch (e) {
    if (e instanceof GkrError) return e
    throw e
  }
  throw new Error('expected an error')
}

describe('loading config.toml', () => {
  it('applies the runner defaults and keeps what the file sets', async () => {
    const c = await loadConfig({ path: ex('config.toml') })
    expect(c.format).toBe('toml')
    expect(c.global.concurrent).toBe(4)
    const k = c.runners[0]!.settings.kubernetes as Record<string, unknown>
    expect(k.poll_timeout).toBe(600)
    expect(k.retry_limit).toBe(5)
    expect(k.cleanup_resources_timeout).toBe('5m')
    expect(k.print_pod_warning_events).toBe(true)
    expect(c.runners[0]!.executor).toBe('kubernetes')
  })

  it('locates keys by line and column, also in nested and array tables', async () => {
    const c = await loadConfig({ path: ex('config.toml') })
    expect(c.locate(['runners', 0, 'kubernetes', 'poll_timeout'])).toMatchObject({ line: 17, column: 5 })
    expect(c.locate(['runners', 0, 'kubernetes', 'node_selector', 'kubernetes.io/os'])).toMatchObject({ line: 28, column: 7 })
    expect(c.locate(['runners', 0, 'kubernetes', 'volumes', 'empty_dir', 0, 'medium'])).toMatchObject({ line: 34 })
    // A key that is not in the file points at the nearest table that is.
    expect(c.locate(['runners', 0, 'kubernetes', 'dns_policy'])).toMatchObject({ line: 12 })
  })

  it('wraps tokens in Secret so nothing can print them', async () => {
    const c = await loadConfig({ path: ex('config.toml') })
    expect(c.runners[0]!.settings.token).toBeInstanceOf(Secret)
    expect(JSON.stringify(c.runners)).not.toContain('EXAMPLEtoken')
    expect(JSON.stringify(c.raw)).not.toContain('EXAMPLEtoken')
  })

  it('resolves feature flags: defaults, environment, then [runners.feature_flags]', async () => {
    const c = await loadConfig({ path: ex('config.toml') })
    const ff = c.runners[0]!.featureFlags
    expect(ff.FF_PRINT_POD_EVENTS).toBe(true)
    expect(ff.FF_USE_POD_ACTIVE_DEADLINE_SECONDS).toBe(true)
    expect(ff.FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY).toBe(false)
    const c2 = parseConfigText('[[runners]]\nexecutor = "kubernetes"\nenvironment = ["FF_PRINT_POD_EVENTS=true"]\n[runners.feature_flags]\nFF_PRINT_POD_EVENTS = false\n', '/x/config.toml')
    expect(c2.runners[0]!.featureFlags.FF_PRINT_POD_EVENTS).toBe(false)
  })

  it('reports TOML syntax errors with file, line and column (exit 2)', async () => {
    const e = await loadError(ex('broken.toml'))
    expect(e.exit).toBe(2)
    expect(e.at).toMatchObject({ file: ex('broken.toml'), line: 4 })
    expect(e.message).toMatch(/^invalid TOML: /)
  })

  it('says which default paths it tried when there is no file', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'gkr-home-'))
    expect(defaultConfigPaths({ home, isRoot: false })[0]).toBe(path.join(home, '.gitlab-runner', 'config.toml'))
    expect(defaultConfigPaths({ home, isRoot: true })[0]).toBe('/etc/gitlab-runner/config.toml')
    mkdirSync(path.join(home, '.gitlab-runner'))
    writeFileSync(path.join(home, '.gitlab-runner', 'config.toml'), '[[runners]]\nname = "home"\nexecutor = "kubernetes"\n')
    const c = await loadConfig({ home, isRoot: false, env: {} })
    expect(c.runners[0]!.name).toBe('home')
    const empty = mkdtempSync(path.join(os.tmpdir(), 'gkr-home-'))
    await expect(loadConfig({ home: empty, isRoot: false, env: {} })).rejects.toThrow(/no runner configuration found \(tried .*\.gitlab-runner\/config\.toml and \/etc\/gitlab-runner\/config\.toml\)/)
  })

  it('reads GKR_CONFIG when --config is absent', async () => {
    const c = await loadConfig({ env: { GKR_CONFIG: ex('multi-runner.toml') } })
    expect(c.runners.map((r) => r.name)).toEqual(['linux', 'windows', 'shell'])
  })

  it('names an unreadable file', async () => {
    const e = await loadError('/nonexistent/config.toml')
    expect(e.message).toContain('no such file')
    expect(e.at?.file).toBe('/nonexistent/config.toml')
  })
})

describe('loading Helm values', () => {
  it('reads runners.config and maps positions to the YAML file', async () => {
    const c = await loadConfig({ path: ex('values.yaml') })
    expect(c.format).toBe('helm')
    expect(c.helmPath).toBe('runners.config')
    expect(c.runners[0]!.name).toBe('helm-runner')
    expect(c.runners[0]!.settings.url).toBe('https://gitlab.example.com')
    expect(c.global.concurrent).toBe(10)
    // poll_timeout is on line 15 of values.yaml, indented by 8 spaces.
    expect(c.locate(['runners', 0, 'kubernetes', 'poll_timeout'])).toMatchObject({ line: 15, column: 9 })
    expect(JSON.stringify(c.raw)).not.toContain('EXAMPLEtoken')
  })

  it('resolves {{ .Release.Namespace }} as the chart\'s tpl does: HELM_NAMESPACE, else default, and says so', async () => {
    const c = await loadConfig({ path: ex('values.yaml'), env: { HELM_NAMESPACE: 'gitlab-runner' } })
    expect(c.runners[0]!.settings.kubernetes).toMatchObject({ namespace: 'gitlab-runner' })
    expect(c.notes).toEqual(['runners.config uses {{ .Release.Namespace }}: assumed "gitlab-runner" (from HELM_NAMESPACE)'])
    const d = await loadConfig({ path: ex('values.yaml'), env: {} })
    expect(d.runners[0]!.settings.kubernetes).toMatchObject({ namespace: 'default' })
    expect(d.notes![0]).toContain('assumed "default" (set HELM_NAMESPACE to the release namespace)')
    // Positions are unchanged by the substitution.
    expect(d.locate(['runners', 0, 'kubernetes', 'poll_timeout'])).toMatchObject({ line: 15, column: 9 })
    const other = parseConfigText('runners:\n  config: |\n    [[runners]]\n      executor = "kubernetes"\n      [runners.kubernetes]\n        image = "{{ .Values.image }}"\n', '/x/values.yaml')
    expect(other.notes).toEqual(['1 value is a template gkr cannot evaluate, checked as if unset: runners[0].kubernetes.image = {{ .Values.image }}'])
    expect(other.unknown).toEqual([{ path: 'runners[0].kubernetes.image', expr: '{{ .Values.image }}' }])
    expect(parseConfigText('[[runners]]\nexecutor = "kubernetes"\n', '/x/config.toml').notes).toEqual([])
  })

  it('finds the config of an umbrella chart one level down', async () => {
    const c = await loadConfig({ path: ex('umbrella-values.yaml') })
    expect(c.helmPath).toBe('gitlab-runner.runners.config')
    expect(c.runners[0]!.name).toBe('umbrella')
    expect(c.locate(['runners', 0, 'kubernetes', 'pollTimeout'])).toMatchObject({ line: 13, column: 11 })
  })

  it('reports TOML errors inside values.yaml at their line in the YAML file', () => {
    const yaml = 'runners:\n  config: |\n    [[runners]]\n    name = "x"\n    executor = = "kubernetes"\n'
    expect(() => parseConfigText(yaml, '/v/values.yaml')).toThrow(GkrError)
    try {
      parseConfigText(yaml, '/v/values.yaml')
    } catch (e) {
      expect((e as GkrError).at).toMatchObject({ file: '/v/values.yaml', line: 5 })
    }
  })

  it('rejects YAML without runners.config, and YAML syntax errors with a position', () => {
    expect(() => parseConfigText('foo: bar\n', '/v/values.yaml')).toThrow(/has no runners.config/)
    try {
      parseConfigText('runners:\n  config: "x\n', '/v/values.yaml')
      expect.unreachable()
    } catch (e) {
      expect((e as GkrError).message).toMatch(/^invalid YAML/)
      expect((e as GkrError).at?.line).toBeGreaterThan(0)
    }
  })
})

describe('selecting runners', () => {
  it('checks every Kubernetes runner, or the one --runner names', async () => {
    const c = await loadConfig({ path: ex('multi-runner.toml') })
    expect(selectRunners(c).map((r) => r.name)).toEqual(['linux', 'windows'])
    expect(selectRunners(c, 'windows').map((r) => r.name)).toEqual(['windows'])
    expect(() => selectRunners(c, 'nope')).toThrow(/no \[\[runners\]\] entry named "nope".*/)
    expect(() => selectRunners(c, 'shell')).toThrow(/uses the shell executor, not kubernetes/)
  })
})
