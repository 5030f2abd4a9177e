import { stringify } from 'smol-toml'
import { describe, expect, it } from 'vitest'
import { ROOT_DEF, allKeyPaths, type KeyDef } from '../../src/config/schema.js'
import { parseConfigText } from '../../src/config/load.js'
import { validateConfig } from '../../src/config/validate.js'

/** A value of the right kind for every key of the schema (removed keys left out). */
function sample(def: KeyDef): unknown {
  switch (def.kind) {
    case 'string':
      return def.enum?.find(Boolean) ?? 'x'
    case 'regex':
      return '^ci-.*$'
    case 'duration':
      return '5m'
    case 'quantity':
      return '1Gi'
    case 'int':
      return 3
    case 'float':
      return 1.5
    case 'bool':
      return true
    case 'string[]':
      return def.enum ? [def.enum[0]] : ['a']
    case 'string|string[]':
      return def.enum ? [def.enum[0]] : ['a']
    case 'map':
      return { key: def.values === 'int' ? 2 : def.values === 'bool' ? true : 'value' }
    case 'table':
      return Object.fromEntries(Object.entries(def.fields ?? {}).filter(([, d]) => !d.status).map(([k, d]) => [k, sample(d)]))
    case 'table[]':
      return [sample({ ...def, kind: 'table' })]
  }
}

describe('the config schema', () => {
  it('covers the documented keys of [runners.kubernetes]', () => {
    const paths = new Set(allKeyPaths().map((p) => p.path))
    for (const key of ['poll_timeout', 'namespace_overwrite_allowed', 'cpu_limit_overwrite_max_allowed', 'pod_memory_request', 'volumes.csi[].volume_attributes', 'affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms[].match_expressions[].operator', 'build_container_security_context.capabilities.drop', 'dns_config.options[].value', 'container_lifecycle.pre_stop.http_get.http_headers[].name', 'pod_spec[].patch_type', 'host_aliases[].hostnames']) {
      expect(paths.has(`runners[].kubernetes.${key}`), key).toBe(true)
    }
    expect(paths.size).toBeGreaterThan(300)
  })

  it('covers the global and [[runners]] keys of the runner (runner-facts §1.1, §1.2)', () => {
    const paths = new Set(allKeyPaths().map((p) => p.path))
    for (const key of ['concurrent', 'check_interval', 'log_level', 'log_format', 'listen_address', 'session_server', 'sentry_dsn', 'connection_max_age', 'shutdown_timeout', 'labels', 'user', 'experimental', 'machine']) expect(paths.has(key), key).toBe(true)
    for (const key of ['name', 'url', 'token', 'id', 'token_obtained_at', 'token_expires_at', 'tls-ca-file', 'tls-cert-file', 'tls-key-file', 'limit', 'output_limit', 'request_concurrency', 'unhealthy_requests_limit', 'unhealthy_interval', 'executor', 'builds_dir', 'cache_dir', 'clone_url', 'environment', 'pre_get_sources_script', 'post_get_sources_script', 'pre_build_script', 'post_build_script', 'prepare_timeout', 'get_sources_timeout', 'debug_trace_disabled', 'safe_directory_checkout', 'clean_git_config', 'shell', 'custom_build_dir', 'cache', 'feature_flags', 'step_runner_image']) expect(paths.has(`runners[].${key}`), key).toBe(true)
    // Removed keys stay in the schema so they are reported as removed rather than unknown.
    expect(allKeyPaths().find((p) => p.path === 'runners[].kubernetes.terminationGracePeriodSeconds')?.def.status).toMatchObject({ kind: 'removed', since: '17.0', replacement: 'pod_termination_grace_period_seconds' })
  })

  it('round-trips: a file that sets every key parses and validates with no finding', () => {
    const doc = sample(ROOT_DEF) as Record<string, unknown>
    const toml = stringify(doc)
    const c = parseConfigText(toml, '/x/all.toml')
    expect(validateConfig(c.raw)).toEqual([])
    expect(c.runners[0]!.executor).toBeDefined()
  })

  it('flags unknown keys at every level, with a location', () => {
    const toml = 'bogus = 1\n[[runners]]\nexecutor = "kubernetes"\nsurprise = true\n[runners.kubernetes]\nnamspace = "ci"\n[runners.kubernetes.volumes]\n[[runners.kubernetes.volumes.pvc]]\nname = "c"\nmount_pth = "/c"\n'
    const c = parseConfigText(toml, '/x/u.toml')
    const issues = validateConfig(c.raw)
    expect(issues.map((i) => [i.kind, i.path.join('.'), i.suggestion])).toEqual([
      ['unknown-key', 'bogus', undefined],
      ['unknown-key', 'runners.0.surprise', undefined],
      ['unknown-key', 'runners.0.kubernetes.namspace', 'namespace'],
      ['unknown-key', 'runners.0.kubernetes.volumes.pvc.0.mount_pth', 'mount_path'],
    ])
    expect(c.locate(issues[3]!.path)).toMatchObject({ line: 10, column: 1 })
  })
})
