import { defineCheck, type FindingInput } from '../types.js'
import type { CiFile } from '../../ci/types.js'
import { atKube, k8s } from './util.js'

const isDind = (image: string): boolean => /(^|\/)docker:[^/]*dind/.test(image) || /(^|\/)docker:dind$/.test(image)
const hasMtu = (args: readonly string[]): boolean => args.some((a) => /^--mtu(=|$)/.test(a))

export default defineCheck({
  id: 'config-dind-mtu',
  area: 'config',
  title: 'Docker-in-Docker services set an MTU that fits the pod network',
  description: 'dockerd in a docker:dind service uses an MTU of 1500 for its own bridge. Overlay pod networks have a smaller one, so large packets from nested containers are dropped and TLS handshakes hang or fail ("curl: (35) ... SSL_ERROR_SYSCALL"). Pass --mtu with the pod network MTU (doctor --live measures it).',
  severity: 'warn',
  needs: [],
  catalog: ['curl-35-openssl-ssl_connect-ssl_error_syscall-in-connection-to-githubcom443'],
  run: (ctx) => {
    // With --live the probe measured the pod network's MTU, and cluster-probe-mtu reports each dind service
    // against that number: a second finding here with a guessed 1450 would contradict it in the same report.
    const probe = ctx.facts.probe
    if (probe?.ok && probe.value.mtu) return []
    const kc = k8s(ctx)
    const out: FindingInput[] = []
    const services = Array.isArray(kc.services) ? (kc.services as Array<Record<string, unknown>>) : []
    services.forEach((s, n) => {
      const name = String(s.name ?? '')
      const cmd = Array.isArray(s.command) ? (s.command as string[]) : []
      if (isDind(name) && !hasMtu(cmd)) out.push({ message: `service ${name} runs Docker-in-Docker without --mtu: dockerd uses 1500, larger than most overlay networks`, at: atKube(ctx, 'services', n), fix: { text: 'Pass the pod network MTU (1450 is common for VXLAN overlays; doctor --live measures yours).', toml: `[[runners]]\n  [[runners.kubernetes.services]]\n    name = "${name}"\n    command = ["--mtu=1450"]` } })
    })
    for (const job of Object.values((ctx.ciFile as CiFile | undefined)?.jobs ?? {})) {
      for (const s of job.services) {
        if (isDind(s.name) && !hasMtu(s.command ?? [])) out.push({ message: `job "${job.name}" uses ${s.name} without --mtu: dockerd uses 1500, larger than most overlay networks`, at: s.at ?? job.at ?? { file: (ctx.ciFile as CiFile).file }, fix: { text: 'Pass the pod network MTU to dockerd.', ciYaml: `${job.name}:\n  services:\n    - name: ${s.name}\n      command: ["--mtu=1450"]` } })
      }
    }
    return out
  },
})
