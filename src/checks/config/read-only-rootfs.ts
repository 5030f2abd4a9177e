import { defineCheck, type FindingInput } from '../types.js'
import { isObject } from '../../config/load.js'
import { k8s, atKube } from './util.js'

export const CONTAINER_CONTEXTS = ['build_container_security_context', 'helper_container_security_context', 'init_permissions_container_security_context', 'service_container_security_context'] as const

/** The full TOML that makes every container's root filesystem read-only and gives the job writable directories. */
export function readOnlyFix(buildsDir: string): string {
  const ctxs = CONTAINER_CONTEXTS.map((c) => `  [runners.kubernetes.${c}]\n    read_only_root_filesystem = true`).join('\n')
  return `[[runners]]\n  builds_dir = "${buildsDir}"\n  environment = ["HOME=/tmp"]\n  [runners.kubernetes]\n${ctxs}\n  [[runners.kubernetes.volumes.empty_dir]]\n    name = "builds"\n    mount_path = "${buildsDir}"\n  [[runners.kubernetes.volumes.empty_dir]]\n    name = "home"\n    mount_path = "/tmp"`
}

export function writableDirs(kc: Record<string, unknown>): string[] {
  const v = isObject(kc.volumes) ? kc.volumes : {}
  return ['empty_dir', 'pvc', 'host_path', 'csi', 'nfs'].flatMap((t) => (Array.isArray(v[t]) ? (v[t] as Array<Record<string, unknown>>) : []).filter((x) => x.read_only !== true).map((x) => String(x.mount_path ?? '')))
}

function readOnlyMounts(kc: Record<string, unknown>): string[] {
  const v = isObject(kc.volumes) ? kc.volumes : {}
  return Object.values(v).flatMap((list) => (Array.isArray(list) ? (list as Array<Record<string, unknown>>) : []).filter((x) => x.read_only === true).map((x) => String(x.mount_path ?? '')))
}

const under = (dir: string, mounts: string[]): boolean => mounts.some((m) => m !== '' && (dir === m || dir.startsWith(m.endsWith('/') ? m : `${m}/`)))

export default defineCheck({
  id: 'config-read-only-rootfs',
  area: 'config',
  title: 'read_only_root_filesystem is set consistently, with writable builds and HOME directories',
  description: 'Clusters that only admit containers with a read-only root filesystem reject the whole pod when one container (build, helper, init-permissions, a service) lacks it. And a read-only container still needs writable mounts for the builds directory and HOME, or git clone, caches and tools fail with permission errors.',
  severity: 'warn',
  needs: [],
  catalog: ['error-only-read-only-root-filesystem-container-is-allowed'],
  run: (ctx) => {
    const kc = k8s(ctx)
    const set = CONTAINER_CONTEXTS.filter((c) => isObject(kc[c]) && (kc[c] as Record<string, unknown>).read_only_root_filesystem === true)
    if (set.length === 0) return []
    const out: FindingInput[] = []
    const buildsDir = typeof ctx.runner.settings.builds_dir === 'string' && ctx.runner.settings.builds_dir ? ctx.runner.settings.builds_dir : '/builds'
    const missing = CONTAINER_CONTEXTS.filter((c) => !set.includes(c))
    if (missing.length > 0) {
      out.push({ message: `read_only_root_filesystem is set for ${set.map((c) => c.replace('_security_context', '')).join(', ')} but not for ${missing.map((c) => c.replace('_security_context', '')).join(', ')}: a policy that requires it rejects the pod ("only read-only root filesystem container is allowed")`, at: atKube(ctx, set[0]!), fix: { text: 'Set it on every container and give the job writable directories.', toml: readOnlyFix(buildsDir) } })
    }
    const mounts = writableDirs(kc)
    const env = Array.isArray(ctx.runner.settings.environment) ? (ctx.runner.settings.environment as string[]) : []
    const home = env.find((e) => e.startsWith('HOME='))?.slice(5)
    const problems: string[] = []
    // The runner's own builds volume (`repo`, an emptyDir at builds_dir) is writable unless a read-only
    // config volume is mounted there instead.
    if (readOnlyMounts(kc).includes(buildsDir)) problems.push(`the builds directory ${buildsDir}`)
    if (!home || !under(home, [...mounts, buildsDir])) problems.push(home ? `HOME (${home})` : 'HOME (not set, so the image default, usually under the read-only root)')
    if (problems.length > 0) {
      out.push({ message: `with a read-only root filesystem, ${problems.join(' and ')} must be on a writable volume, or git, caches and package managers fail with "Read-only file system"`, at: atKube(ctx, set[0]!), fix: { text: 'Point HOME at a writable emptyDir.', toml: readOnlyFix(buildsDir) } })
    }
    return out
  },
})
