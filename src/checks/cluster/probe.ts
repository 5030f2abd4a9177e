import { defineCheck, type FindingInput } from '../types.js'
import type { CiFile } from '../../ci/types.js'
import { kube } from '../../config/load.js'

export const probeDns = defineCheck({
  id: 'cluster-probe-dns',
  area: 'cluster',
  title: 'A job pod resolves the GitLab host and the cluster DNS names (--live)',
  description: 'A short-lived pod shaped like a job pod (same service account, node selector, tolerations, DNS policy and config, helper image) looks up the runner\'s GitLab host and kubernetes.default.svc. When they do not resolve, jobs fail to fetch sources ("Could not resolve host") or to reach services.',
  severity: 'fail',
  needs: ['probe'],
  catalog: ['error-could-not-resolve-host-examplecom'],
  run: ({ facts, config, runner }) => {
    const p = facts.probe!.ok ? facts.probe!.value : undefined
    if (!p || p.error) return []
    return p.dns.filter((d) => !d.resolved).map((d) => ({
      message: `a job pod cannot resolve ${d.host}${d.error ? ` (${d.error})` : ''}: jobs fail with "Could not resolve host: ${d.host}"`,
      at: config.locate([...runner.path, 'kubernetes', 'dns_policy']),
      fix: { text: 'Check the cluster DNS (CoreDNS) and the pod\'s dns_policy/dns_config; with the alpine helper image, try helper_image_flavor = "ubuntu".', toml: '[[runners]]\n  [runners.kubernetes]\n    helper_image_flavor = "ubuntu"\n    [runners.kubernetes.dns_config]\n      [[runners.kubernetes.dns_config.options]]\n        name = "ndots"\n        value = "2"' },
    }))
  },
})

/** The --mtu a dind service passes, if any. */
const mtuArg = (args: readonly string[]): number | undefined => {
  for (const a of args) {
    const m = /^--mtu=(\d+)$/.exec(a)
    if (m) return Number(m[1])
  }
  return undefined
}

export const probeMtu = defineCheck({
  id: 'cluster-probe-mtu',
  area: 'cluster',
  title: 'Docker-in-Docker MTU fits the pod network (--live)',
  description: 'The probe pod reads its interface MTU. dockerd inside a docker:dind service must use an MTU no larger than that; otherwise TLS handshakes from nested containers hang ("curl: (35) … SSL_ERROR_SYSCALL").',
  severity: 'fail',
  needs: ['probe'],
  catalog: ['curl-35-openssl-ssl_connect-ssl_error_syscall-in-connection-to-githubcom443'],
  run: ({ facts, config, runner, ciFile }) => {
    const p = facts.probe!.ok ? facts.probe!.value : undefined
    if (!p?.mtu) return []
    const k = kube(runner)
    const services = [
      ...(Array.isArray(k.services) ? (k.services as Array<{ name?: string; command?: string[] }>) : []).map((s, i) => ({ name: String(s.name ?? ''), args: s.command ?? [], at: config.locate([...runner.path, 'kubernetes', 'services', i]) })),
      ...Object.values((ciFile as CiFile | undefined)?.jobs ?? {}).flatMap((j) => j.services.map((s) => ({ name: s.name, args: s.command ?? [], at: s.at ?? j.at ?? { file: (ciFile as CiFile).file } }))),
    ].filter((s) => /(^|\/)docker:.*dind/.test(s.name))
    const out: FindingInput[] = []
    for (const s of services) {
      const set = mtuArg(s.args)
      if (set === undefined || set > p.mtu) {
        out.push({ message: `${s.name} ${set === undefined ? 'uses dockerd\'s default MTU of 1500' : `sets --mtu=${set}`}, but the pod network MTU is ${p.mtu}`, at: s.at, fix: { text: `Pass --mtu=${p.mtu} to the dind service.`, toml: `[[runners]]\n  [[runners.kubernetes.services]]\n    name = "${s.name}"\n    command = ["--mtu=${p.mtu}"]` } })
      }
    }
    if (services.length === 0 && p.mtu < 1500) out.push({ severity: 'info', message: `the pod network MTU is ${p.mtu}: Docker-in-Docker services need --mtu=${p.mtu}`, at: config.locate([...runner.path, 'kubernetes']), fix: { text: `Give any docker:dind service command = ["--mtu=${p.mtu}"].` } })
    return out
  },
})

export const probeStart = defineCheck({
  id: 'cluster-probe-start',
  area: 'cluster',
  title: 'A job-shaped pod starts well within poll_timeout (--live)',
  description: 'Measures how long the probe pod, scheduled and pulled like a job pod, takes to run, against poll_timeout. A probe that cannot start at all shows why jobs time out waiting for their pod.',
  severity: 'warn',
  needs: ['probe'],
  catalog: ['job-failed-system-failure-timed-out-waiting-for-pod-to-start'],
  run: ({ facts, config, runner }) => {
    const p = facts.probe!.ok ? facts.probe!.value : undefined
    if (!p) return []
    const k = kube(runner)
    const timeout = (typeof k.poll_timeout === 'number' && k.poll_timeout > 0 ? k.poll_timeout : 180) * 1000
    const at = config.locate([...runner.path, 'kubernetes', 'poll_timeout'])
    if (p.error) return [{ severity: 'fail', message: `the probe pod did not run: ${p.error}${p.events.length ? ` (events: ${p.events.slice(0, 3).join('; ')})` : ''}`, at, fix: { text: 'Job pods will fail the same way; see the other findings and `kubectl describe pod` on a job pod.' } }]
    if (p.timeToReadyMs !== undefined && p.timeToReadyMs > timeout / 2) {
      return [{ severity: p.timeToReadyMs > timeout ? 'fail' : 'warn', message: `a job-shaped pod took ${Math.round(p.timeToReadyMs / 1000)} s to start; poll_timeout is ${timeout / 1000} s`, at, fix: { text: 'Raise poll_timeout above the slowest start you expect, or make starts faster (pre-pulled images, warm node pools).', toml: `[[runners]]\n  [runners.kubernetes]\n    poll_timeout = ${Math.ceil((p.timeToReadyMs * 3) / 1000)}` } }]
    }
    return []
  },
})
