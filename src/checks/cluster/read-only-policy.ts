import { defineCheck, type FindingInput } from '../types.js'
import type { RenderedJob } from '../../executor/render.js'
import { readOnlyFix } from '../config/read-only-rootfs.js'

/** The containers of the rendered pod (init containers included) whose root filesystem is writable. */
export function writableRootContainers(r: RenderedJob): string[] {
  return [...(r.pod.spec?.initContainers ?? []), ...(r.pod.spec?.containers ?? [])].filter((c) => c.securityContext?.readOnlyRootFilesystem !== true).map((c) => c.name)
}

export default defineCheck({
  id: 'cluster-read-only-rootfs-policy',
  area: 'cluster',
  title: 'Policy engines that require a read-only root filesystem admit the job pod',
  description: 'Looks for Kyverno policies and Gatekeeper constraints that require readOnlyRootFilesystem and apply to the runner\'s namespace, and compares them with the containers the runner renders (build, helper, init-permissions, services). One container without it gets the whole pod rejected ("only read-only root filesystem container is allowed"). Pod Security Admission does not require a read-only root filesystem at any level, so it is not consulted here (the server-side dry-run reports its rejections). The fix is the complete TOML: every container read-only, plus writable builds and HOME directories.',
  severity: 'fail',
  needs: ['readOnlyPolicies'],
  catalog: ['error-only-read-only-root-filesystem-container-is-allowed'],
  run: ({ facts, rendered, config, runner }) => {
    const r = rendered as RenderedJob | undefined
    if (!r) return { skipped: 'no rendered job' }
    const policies = (facts.readOnlyPolicies!.ok ? facts.readOnlyPolicies!.value : []).filter((p) => p.appliesToNamespace)
    const writable = writableRootContainers(r)
    if (policies.length === 0 || writable.length === 0) return []
    const buildsDir = typeof runner.settings.builds_dir === 'string' && runner.settings.builds_dir ? runner.settings.builds_dir : '/builds'
    const fix = { text: 'Make every container\'s root filesystem read-only and give the job writable builds and HOME directories:', toml: readOnlyFix(buildsDir) }
    const at = config.locate([...runner.path, 'kubernetes', 'build_container_security_context'])
    const containers = `container${writable.length === 1 ? '' : 's'} ${writable.join(', ')}`
    const out: FindingInput[] = []
    for (const p of policies) {
      const engine = p.engine === 'kyverno' ? 'Kyverno policy' : p.unknownConstraints ? 'Gatekeeper template' : 'Gatekeeper constraint'
      const details = { engine: p.engine, policy: p.name, containers: writable }
      if (p.unknownConstraints) out.push({ severity: 'warn', message: `${engine} ${p.name} requires a read-only root filesystem (its constraints could not be listed); ${containers} of the job pod have a writable one, and are rejected wherever a constraint applies`, at, fix, details })
      else if (p.enforced) out.push({ message: `${engine} ${p.name} only admits containers with a read-only root filesystem in namespace ${r.namespace}; ${containers} of the job pod have a writable one, so every job pod is rejected`, at, fix, details })
      else out.push({ severity: 'info', message: `${engine} ${p.name} audits for a read-only root filesystem (not enforced); ${containers} of the job pod would be reported`, at, fix, details })
    }
    return out
  },
})
