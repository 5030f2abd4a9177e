import { defineCheck, type FindingInput } from '../types.js'
import type { CiFile } from '../../ci/types.js'
import { atKube, k8s } from './util.js'

export function isWindowsRunner(kc: Record<string, unknown>): boolean {
  const sel = (kc.node_selector ?? {}) as Record<string, unknown>
  return sel['kubernetes.io/os'] === 'windows' || sel['beta.kubernetes.io/os'] === 'windows'
}

export default defineCheck({
  id: 'config-windows',
  area: 'config',
  title: 'Windows runners have the settings Windows jobs need',
  description: 'A runner whose node selector picks Windows nodes also needs node.kubernetes.io/windows-build (so pods land on nodes whose Windows version matches the images; a mismatch shows up as "chown is not supported by windows" mount failures), FF_USE_POWERSHELL_PATH_RESOLVER, and no services or host aliases, which Windows pods cannot have.',
  severity: 'warn',
  needs: [],
  catalog: ['mountvolumesetup-failed-for-volume-kube-api-access-xxxxx--chown-is-not-supported-by-windows', 'services-not-supported-with-windows-containers'],
  run: (ctx) => {
    const kc = k8s(ctx)
    if (!isWindowsRunner(kc)) return []
    const out: FindingInput[] = []
    const sel = kc.node_selector as Record<string, string>
    if (!sel['node.kubernetes.io/windows-build']) {
      out.push({ message: 'the node selector picks Windows nodes but not a Windows build: pods may land on nodes whose Windows version cannot run the images (e.g. MountVolume.SetUp failed ... chown is not supported by windows)', at: atKube(ctx, 'node_selector'), catalog: ['mountvolumesetup-failed-for-volume-kube-api-access-xxxxx--chown-is-not-supported-by-windows'], fix: { text: 'Add the Windows build of your nodes (kubectl get nodes -L node.kubernetes.io/windows-build).', toml: `[[runners]]\n  [runners.kubernetes.node_selector]\n    "kubernetes.io/os" = "windows"\n    "kubernetes.io/arch" = "amd64"\n    "node.kubernetes.io/windows-build" = "10.0.20348"` } })
    }
    if (!ctx.runner.featureFlags.FF_USE_POWERSHELL_PATH_RESOLVER) {
      out.push({ message: 'Windows jobs need FF_USE_POWERSHELL_PATH_RESOLVER so PowerShell resolves paths such as the cache directory', at: atKube(ctx, 'node_selector'), catalog: ['mountvolumesetup-failed-for-volume-kube-api-access-xxxxx--chown-is-not-supported-by-windows'], fix: { text: 'Turn the feature flag on.', toml: '[[runners]]\n  [runners.feature_flags]\n    FF_USE_POWERSHELL_PATH_RESOLVER = true' } })
    }
    const services = Array.isArray(kc.services) ? kc.services : []
    const jobServices = Object.values((ctx.ciFile as CiFile | undefined)?.jobs ?? {}).filter((j) => j.services.length > 0)
    if (services.length > 0 || jobServices.length > 0) {
      out.push({ severity: 'fail', message: `services are configured${jobServices.length ? ` (jobs: ${jobServices.map((j) => j.name).join(', ')})` : ''} but Windows pods cannot have them: the runner adds host aliases for services, which Windows does not support`, at: services.length > 0 ? atKube(ctx, 'services') : (jobServices[0]!.at ?? atKube(ctx)), catalog: ['services-not-supported-with-windows-containers'], fix: { text: 'Remove the services from the Windows runner and its jobs, or run those jobs on a Linux runner.' } })
    }
    if (Array.isArray(kc.host_aliases) && kc.host_aliases.length > 0) {
      out.push({ severity: 'fail', message: 'host_aliases are set but Windows pods do not support host aliases', at: atKube(ctx, 'host_aliases'), catalog: ['services-not-supported-with-windows-containers'], fix: { text: 'Remove host_aliases from the Windows runner.' } })
    }
    // On Windows nodes the executor runs PowerShell: `pwsh` when shell = "pwsh", Windows PowerShell otherwise.
    const shell = ctx.runner.settings.shell
    if (typeof shell === 'string' && shell !== '' && shell !== 'pwsh' && shell !== 'powershell') {
      out.push({ severity: 'warn', message: `shell = "${shell}" has no effect on Windows nodes: the runner runs Windows PowerShell there (only "pwsh" chooses PowerShell 7)`, at: ctx.config.locate([...ctx.runner.path, 'shell']), fix: { text: 'Set shell to "pwsh" (PowerShell 7 in the images) or "powershell", so the configuration says what runs.', toml: `[[runners]]\n  shell = "pwsh"` } })
    }
    return out
  },
})
