import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, runCli } from '../helpers/cli.js'
import Doctor from '../../src/commands/doctor.js'
import { start } from '../../src/sim/index.js'
import { RESOURCES } from '../../src/sim/resources.js'
import { runCommand } from '../helpers/run-command.js'

/** The doctor command run in this process (test/helpers/run-command.ts): same argv, output and exit code as bin/run.js. */
const doctor = (args: string[], env?: Record<string, string>) => runCommand(Doctor, args, env ? { env } : {})

const ex = (f: string): string => path.join(ROOT, 'examples', f)
const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'gkr-doctor-'))

describe('gkr doctor --offline', () => {
  it('spawned bin/run.js: passes a healthy config with exit 0 and prints the report on stdout', () => {
    const r = runCli(['doctor', '--offline', '-c', ex('config.toml')])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`gkr doctor: ${ex('config.toml')} (config.toml), offline`)
    expect(r.stdout).toContain('Runner k8s-runner')
    expect(r.stdout).toMatch(/Summary: 0 failures, /)
  })

  it('fails a file with typos: exit 1, every finding located', async () => {
    const r = await doctor(['--offline', '-c', ex('typos.toml')])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/config-unknown-key\s+unknown key pollTimeout in runners\[0\]\.kubernetes: the runner spells it poll_timeout/)
    expect(r.stdout).toContain(`at ${ex('typos.toml')}:9:5`)
    expect(r.stdout).toMatch(/config-unknown-key\s+concurrent does not belong in runners\[0\]/)
    expect(r.stdout).toMatch(/config-removed-key\s+terminationGracePeriodSeconds was removed/)
    expect(r.stdout).toMatch(/FAIL\s+config-wrong-type\s+runners\[0\]\.kubernetes\.poll_interval must be an integer/)
    expect(r.stdout).toMatch(/config-resources\s+memory_request = "512m" is only 0.512 bytes/)
  })

  it('reads Helm values and locates findings in the YAML file', async () => {
    const r = await doctor(['--offline', '-c', ex('umbrella-values.yaml'), '--json'])
    const env = JSON.parse(r.stdout)
    expect(env.result.config).toEqual({ file: ex('umbrella-values.yaml'), format: 'helm' })
    const f = env.result.runners[0].results.find((x: { id: string }) => x.id === 'config-unknown-key').findings[0]
    expect(f.at).toMatchObject({ file: ex('umbrella-values.yaml'), line: 13, column: 11 })
  })

  it('says what it assumed for Helm templates ({{ .Release.Namespace }}) in the text and in JSON warnings', async () => {
    const text = await doctor(['--offline', '-c', ex('values.yaml')], { HELM_NAMESPACE: 'ci-runners' })
    expect(text.stdout).toContain('note: runners.config uses {{ .Release.Namespace }}: assumed "ci-runners" (from HELM_NAMESPACE)')
    const json = JSON.parse((await doctor(['--offline', '-c', ex('values.yaml'), '--json'])).stdout)
    expect(json.warnings).toContain('runners.config uses {{ .Release.Namespace }}: assumed "default" (set HELM_NAMESPACE to the release namespace)')
  })

  it('checks every Kubernetes runner of a file, or the one --runner names', async () => {
    const all = JSON.parse((await doctor(['--offline', '-c', ex('multi-runner.toml'), '--json'])).stdout)
    expect(all.result.runners.map((r: { name: string }) => r.name)).toEqual(['linux', 'windows'])
    const win = await doctor(['--offline', '-c', ex('multi-runner.toml'), '--runner', 'windows'])
    expect(win.code).toBe(1)
    expect(win.stdout).toMatch(/FAIL\s+config-windows\s+services are configured/)
    expect(win.stdout).not.toContain('Runner linux')
  })

  it('--json: one envelope with a stable shape and the exit code', async () => {
    const r = await doctor(['--offline', '-c', ex('typos.toml'), '--json'])
    expect(r.code).toBe(1)
    const env = JSON.parse(r.stdout)
    expect(Object.keys(env).sort()).toEqual(['command', 'exitCode', 'result', 'schemaVersion', 'warnings'])
    expect(env).toMatchObject({ schemaVersion: 1, command: 'doctor', exitCode: 1 })
    expect(env.result.mode).toBe('offline')
    expect(env.result.summary.fail).toBeGreaterThan(0)
  })

  it('--fail-on warn turns warnings into exit 1; --only and --skip select checks', async () => {
    const cfg = path.join(tmp(), 'config.toml')
    writeFileSync(cfg, '[[runners]]\nname = "k"\nexecutor = "kubernetes"\n[runners.kubernetes]\npoll_timeout = 60\n')
    expect((await doctor(['--offline', '-c', cfg])).code).toBe(0)
    expect((await doctor(['--offline', '-c', cfg, '--fail-on', 'warn'])).code).toBe(1)
    const only = JSON.parse((await doctor(['--offline', '-c', cfg, '--only', 'config-poll-timeout', '--json'])).stdout)
    expect(only.result.runners[0].results.map((r: { id: string }) => r.id)).toEqual(['config-poll-timeout'])
    const skip = JSON.parse((await doctor(['--offline', '-c', cfg, '--skip', 'gitlab,config-poll-timeout', '--json'])).stdout)
    expect(skip.result.runners[0].results.map((r: { id: string }) => r.id)).not.toContain('config-poll-timeout')
    expect(skip.result.runners[0].results.some((r: { area: string }) => r.area === 'gitlab')).toBe(false)
  })

  it('writes JUnit and SARIF reports', async () => {
    const dir = tmp()
    const r = await doctor(['--offline', '-c', ex('typos.toml'), '--junit', path.join(dir, 'r.xml'), '--sarif', path.join(dir, 'r.sarif')])
    expect(r.code).toBe(1)
    const xml = readFileSync(path.join(dir, 'r.xml'), 'utf8')
    expect(xml).toMatch(/<testcase classname="gkr.config" name="config-wrong-type: [^"]*"/)
    expect(xml).toContain('<failure')
    const sarif = JSON.parse(readFileSync(path.join(dir, 'r.sarif'), 'utf8'))
    expect(sarif.runs[0].results.some((x: { ruleId: string }) => x.ruleId === 'config-unknown-key')).toBe(true)
  })

  it('bad input: broken TOML, unknown runner, unknown check, unknown flag → exit 2, one paragraph, no stack', async () => {
    const broken = await doctor(['--offline', '-c', ex('broken.toml')])
    expect(broken.code).toBe(2)
    expect(broken.stderr).toMatch(new RegExp(`^Error: ${ex('broken.toml').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4:\\d+: invalid TOML`))
    expect(broken.stderr).not.toMatch(/\n\s+at .*\.js:\d+/)
    // The catalog reference names the entry and how to read it, not a bare id.
    expect(broken.stderr).toContain('  See: The runner configuration has an invalid value (gkr catalog show config-invalid; ')
    expect((await doctor(['--offline', '-c', ex('multi-runner.toml'), '--runner', 'nope'])).stderr).toMatch(/--runner: no \[\[runners\]\] entry named "nope"/)
    const badCheck = await doctor(['--offline', '-c', ex('config.toml'), '--only', 'nope'])
    expect(badCheck.code).toBe(2)
    expect(badCheck.stderr).toContain('--only: no check or area named "nope"')
    const badFlag = await doctor(['--bogus'])
    expect(badFlag.code).toBe(2)
    expect(badFlag.stderr).toMatch(/--bogus: unknown flag/)
    const json = await doctor(['--offline', '-c', ex('broken.toml'), '--json'])
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'config-syntax', at: { file: ex('broken.toml'), line: 4 } })
  })

  it('--debug adds the stack trace', async () => {
    const r = await doctor(['--offline', '-c', ex('broken.toml'), '--debug'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/\n\s+at /)
  })
})

describe('gkr doctor against the simulator (text report)', () => {
  it('rbac-missing-attach: the summary counts the FAIL and the WARN finding of cluster-permissions', async () => {
    const sim = await start('rbac-missing-attach')
    try {
      const r = await doctor(['--as-runner'], { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig })
      expect(r.code).toBe(1)
      expect(r.stdout).toMatch(/FAIL\s+cluster-permissions\s+cannot create, delete, get, patch pods\/attach in namespace gitlab-runner/)
      expect(r.stdout).toMatch(/WARN\s+cluster-permissions\s+cannot list, watch pods in namespace gitlab-runner/)
      expect(r.stdout).toMatch(/^Summary: 1 failure, 1 warning, 0 info \(from 1 check\); \d+ checks passed, 3 skipped, 0 errors$/m)
      expect(r.stdout).toMatch(/^API: \d+ requests over \d+ connections?, critical path \d+ requests? deep \(measured\), \d+ ms$/m)
    } finally {
      await sim.stop()
    }
  })

  it('apiserver-flaky: doctor retries the etcd hiccups as the runner would, completes every check, and says how many retries it needed', async () => {
    const sim = await start('apiserver-flaky')
    try {
      const r = await doctor(['--as-runner'], { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig })
      expect(r.code).toBe(0)
      const retries = Number(/^API: \d+ requests \((\d+) of them retries\) over \d+ connections?, critical path \d+ requests? deep \(measured\), \d+ ms$/m.exec(r.stdout)?.[1])
      expect(retries).toBeGreaterThan(0)
      expect(r.stdout).toContain(`doctor needed ${retries} ${retries === 1 ? 'retry' : 'retries'} (as the runner would, within retry_limit)`)
      expect(r.stdout).toMatch(/^Summary: 0 failures, 1 warning, 0 info \(from 1 check\); \d+ checks passed, 3 skipped, 0 errors$/m)
      // The lists that failed at first were read in the end: only the three --live checks are skipped.
      expect(r.stdout.match(/^\s+SKIP\s+(\S+)/gm)?.map((l) => l.trim().split(/\s+/)[1])).toEqual(['cluster-probe-dns', 'cluster-probe-mtu', 'cluster-probe-start'])
    } finally {
      await sim.stop()
    }
  })
})

describe('gkr doctor --json against the simulator: admission webhooks', () => {
  it('webhook-deny: the webhook has ready endpoints (nothing to say); once its service loses them, every job fails', async () => {
    const sim = await start('webhook-deny')
    try {
      const env = { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig }
      const webhookFindings = async () => {
        const r = JSON.parse((await doctor(['--as-runner', '--json', '--only', 'cluster-webhooks'], env)).stdout)
        // The depth is measured from the requests' times (test/doctor/round-trips.test.ts asserts it on a real RTT).
        expect(r.result.stats.roundTrips).toBeGreaterThanOrEqual(1)
        return r.result.runners[0].results[0].findings as Array<{ severity: string; message: string }>
      }
      expect(await webhookFindings()).toEqual([])
      sim.store.delete(RESOURCES.find((x) => x.resource === 'endpoints')!, 'policy-system', 'require-team-label')
      const after = await webhookFindings()
      expect(after.map((f) => f.severity)).toEqual(['fail'])
      expect(after[0]!.message).toContain('its service policy-system/require-team-label has no ready endpoints')
      expect(sim.writes().filter((w) => w.resource !== 'endpoints')).toEqual([])
    } finally {
      await sim.stop()
    }
  })
})

describe('gkr doctor --json against the simulator: read-only root filesystem policies', () => {
  it('a Kyverno ClusterPolicy that enforces it fails the check unless it excludes the runner namespace', async () => {
    const sim = await start('healthy')
    try {
      const env = { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig }
      const policies = RESOURCES.find((x) => x.resource === 'clusterpolicies')!
      const policy = (exclude: string[]) => ({
        apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'require-ro-rootfs' },
        spec: { validationFailureAction: 'Enforce', rules: [{ name: 'ro', match: { any: [{ resources: { kinds: ['Pod'] } }] }, ...(exclude.length ? { exclude: { any: [{ resources: { namespaces: exclude } }] } } : {}), validate: { pattern: { spec: { containers: [{ securityContext: { readOnlyRootFilesystem: true } }] } } } }] },
      })
      const result = async () => JSON.parse((await doctor(['--as-runner', '--json', '--only', 'cluster-read-only-rootfs-policy'], env)).stdout).result.runners[0].results[0] as { status: string; findings: Array<{ message: string; details: { engine: string; policy: string } }> }
      sim.store.create(policies, undefined, policy(['gitlab-*']))
      expect((await result()).status).toBe('pass')
      sim.store.delete(policies, undefined, 'require-ro-rootfs')
      sim.store.create(policies, undefined, policy(['kube-system']))
      const r = await result()
      expect(r.status).toBe('fail')
      expect(r.findings.map((f) => f.details)).toEqual([{ engine: 'kyverno', policy: 'require-ro-rootfs', containers: expect.arrayContaining(['build', 'helper']) }])
    } finally {
      await sim.stop()
    }
  })
})

describe('gkr doctor --json against the simulator: every namespace the runner uses', () => {
  const withKube = (file: string, extra: string): string => {
    const out = path.join(tmp(), 'config.toml')
    writeFileSync(out, readFileSync(file, 'utf8').replace('[runners.kubernetes]\n', `[runners.kubernetes]\n${extra}\n`))
    return out
  }
  const permissionResult = async (env: Record<string, string>, args: string[] = ['--as-runner']) =>
    JSON.parse((await doctor([...args, '--json', '--only', 'cluster-permissions,cluster-namespace,cluster-dry-run'], env)).stdout).result.runners[0].results as Array<{ id: string; status: string; reason?: string; findings: Array<{ severity: string; message: string; details: Record<string, unknown> }> }>

  it('namespace_overwrite_allowed: permissions are checked in the existing namespaces jobs may pick; namespace_per_job: cluster-wide, and the namespace is not expected to exist', async () => {
    const sim = await start('healthy')
    try {
      sim.store.create(RESOURCES.find((x) => x.resource === 'namespaces')!, undefined, { metadata: { name: 'ci-team-a' } })
      sim.store.create(RESOURCES.find((x) => x.resource === 'namespaces')!, undefined, { metadata: { name: 'unrelated' } })
      const overwrite = await permissionResult({ KUBECONFIG: sim.kubeconfig, GKR_CONFIG: withKube(sim.runnerConfig, 'namespace_overwrite_allowed = "^ci-team-"') })
      const perms = overwrite.find((r) => r.id === 'cluster-permissions')!
      expect(perms.status).toBe('fail')
      expect(new Set(perms.findings.map((f) => f.details.namespace))).toEqual(new Set(['ci-team-a']))
      expect(perms.findings.some((f) => /^cannot (\w+, )*create(, \w+)* pods in namespace ci-team-a: /.test(f.message))).toBe(true)

      const perJob = await permissionResult({ KUBECONFIG: sim.kubeconfig, GKR_CONFIG: withKube(sim.runnerConfig, 'namespace_per_job = true') })
      expect(perJob.find((r) => r.id === 'cluster-namespace')!.status).toBe('pass')
      expect(perJob.find((r) => r.id === 'cluster-dry-run')).toMatchObject({ status: 'skipped', reason: expect.stringContaining('namespace_per_job') })
      const p2 = perJob.find((r) => r.id === 'cluster-permissions')!
      expect(p2.findings.some((f) => /^cannot (\w+, )*create(, \w+)* namespaces at the cluster scope: /.test(f.message))).toBe(true)
      expect(p2.findings.some((f) => /^cannot (\w+, )*create(, \w+)* pods at the cluster scope: /.test(f.message))).toBe(true)

      // As the admin (system:masters): nothing missing, and the grant of everything is noted.
      const admin = (await permissionResult({ KUBECONFIG: sim.kubeconfig, GKR_CONFIG: sim.runnerConfig }, [])).find((r) => r.id === 'cluster-permissions')!
      expect(admin.status).toBe('info')
      expect(admin.findings.map((f) => f.details)).toEqual([{ scope: 'cluster' }])
      expect(sim.writes()).toEqual([])
    } finally {
      await sim.stop()
    }
  })
})

describe('gkr doctor --json against the simulator: volume references', () => {
  it('reads the keys of mounted config maps (never secret data) and the installed CSI drivers', async () => {
    const sim = await start('healthy')
    try {
      sim.store.create(RESOURCES.find((x) => x.resource === 'configmaps')!, 'gitlab-runner', { metadata: { name: 'cfg' }, data: { other: 'x' } })
      const cfg = path.join(tmp(), 'config.toml')
      writeFileSync(cfg, `${readFileSync(sim.runnerConfig, 'utf8')}\n[[runners.kubernetes.volumes.config_map]]\nname = "cfg"\nmount_path = "/cfg"\n[runners.kubernetes.volumes.config_map.items]\n"app.conf" = "app.conf"\n[[runners.kubernetes.volumes.csi]]\nname = "vault"\nmount_path = "/vault"\ndriver = "secrets-store.csi.k8s.io"\n`)
      const r = JSON.parse((await doctor(['--as-runner', '--json', '--only', 'cluster-references'], { KUBECONFIG: sim.kubeconfig, GKR_CONFIG: cfg })).stdout)
      expect(r.result.runners[0].results[0].findings.map((f: { details: Record<string, unknown> }) => f.details)).toEqual([
        { volume: 'cfg', configMap: 'cfg', missing: ['app.conf'] },
        { volume: 'vault', driver: 'secrets-store.csi.k8s.io' },
      ])
      expect(sim.audit.some((e) => e.resource === 'secrets' && e.verb === 'get')).toBe(false)
    } finally {
      await sim.stop()
    }
  })
})
