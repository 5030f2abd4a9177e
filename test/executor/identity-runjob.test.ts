import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { start } from '../../src/sim/index.js'
import { runJobInput } from '../../src/runjob/command-input.js'

const project = mkdtempSync(path.join(os.tmpdir(), 'gkr-identity-'))
const ciFile = path.join(project, '.gitlab-ci.yml')
writeFileSync(ciFile, 'test:\n  image: alpine:3.20\n  script: [echo hi]\n')

describe('run-job --job-id --project-id --concurrent-id --runner-token', () => {
  it('renders the objects of that job (names, mounts, CI_JOB_ID) for the simulated cluster', async () => {
    const sim = await start('healthy')
    try {
      const input = await runJobInput({ job: 'test', 'ci-file': ciFile, config: sim.runnerConfig, kubeconfig: sim.kubeconfig, live: false, output: 'yaml', 'job-id': 4711, 'project-id': 42, 'concurrent-id': 3, 'runner-token': 'glrt-t1_jobTokenABCDEFG' })
      const pod = input.objects.find((o) => o.kind === 'Pod') as { metadata: { name: string; annotations: Record<string, string> }; spec: { containers: Array<{ name: string; env?: Array<{ name: string; value?: string }>; volumeMounts?: Array<{ mountPath: string }> }> } }
      expect(pod.metadata.name).toMatch(/^runner-jobtokena-project-42-concurrent-3-[a-z0-9]{8}$/)
      expect(pod.metadata.annotations['job.runner.gitlab.com/id']).toBe('4711')
      const build = pod.spec.containers.find((c) => c.name === 'build')!
      expect(build.volumeMounts!.map((m) => m.mountPath)).toContain('/scripts-42-4711')
      expect(build.env!.find((e) => e.name === 'CI_JOB_ID')!.value).toBe('4711')
      expect(build.env!.find((e) => e.name === 'CI_CONCURRENT_ID')!.value).toBe('3')
      expect(JSON.stringify(input.objects)).not.toContain('jobTokenABCDEFG')
    } finally {
      await sim.stop()
    }
  })
})
