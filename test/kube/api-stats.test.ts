/**
 * API health does not blame the API server or etcd for a webhook's 500 (issue 17): a 500 InternalError
 * ("failed calling webhook …") is counted apart from 5xx/429/dropped answers, and doctor's finding names
 * the webhook instead of "etcdserver: leader changed".
 */
import { describe, expect, it } from 'vitest'
import { start } from '../../src/sim/index.js'
import { ClusterTarget } from '../../src/kube/connect.js'
import { ApiError } from '../../src/kube/errors.js'
import Doctor from '../../src/commands/doctor.js'
import { runCommand } from '../helpers/run-command.js'
import type { KubeConfig } from '@kubernetes/client-node'

describe('ApiStats', () => {
  it('a 500 InternalError counts as an internal error with its message; an etcd 500 (no reason), 503 and 429 as server errors', async () => {
    const t = new ClusterTarget({ getCurrentCluster: () => ({ server: 'https://127.0.0.1:1' }) } as unknown as KubeConfig, { server: 'https://127.0.0.1:1', source: 'kubeconfig' }, 1000)
    const fail = (e: Error) => t.call('x', () => Promise.reject(e)).catch(() => undefined)
    await fail(new ApiError(500, 'Internal error occurred: failed calling webhook "a.example.com": context deadline exceeded', 'InternalError'))
    await fail(new ApiError(500, 'Internal error occurred: failed calling webhook "a.example.com": context deadline exceeded', 'InternalError'))
    await fail(new ApiError(500, 'etcdserver: leader changed'))
    await fail(new ApiError(503, 'apiserver is shutting down', 'ServiceUnavailable'))
    await fail(new ApiError(429, 'Too many requests', 'TooManyRequests'))
    await fail(new ApiError(403, 'forbidden', 'Forbidden'))
    expect(t.stats).toMatchObject({ requests: 6, errors: 6, serverErrors: 3, internalErrors: 2, internalMessages: ['Internal error occurred: failed calling webhook "a.example.com": context deadline exceeded'] })
  })
})

describe('doctor on webhook-timeout', () => {
  it('api health names the webhook and does not blame etcd', async () => {
    const sim = await start('webhook-timeout')
    try {
      const r = await runCommand(Doctor, ['-c', sim.runnerConfig, '--as-runner', '--only', 'cluster-api-health', '--json'], { env: { KUBECONFIG: sim.kubeconfig } })
      type F = { message: string; fix?: { text: string } }
      const results = (JSON.parse(r.stdout) as { result: { runners: Array<{ results: Array<{ id: string; findings: F[] }> }> } }).result.runners[0]!.results
      const health = results.find((c) => c.id === 'cluster-api-health')!.findings
      // Only the webhook's 500 is blamed (a latency finding may join it on a loaded machine; it is not about errors).
      expect(health.map((f) => f.message).filter((m) => !m.startsWith('the API server is slow'))).toEqual([expect.stringMatching(/^1 of \d+ API requests failed with 500 InternalError because the API server could not call admission webhook "slow-policy\.example\.com": the webhook is at fault, not the API server or etcd$/)])
      expect(health.find((f) => f.message.includes('InternalError'))!.fix?.text).toContain('ready endpoints')
      expect(JSON.stringify(health)).not.toContain('etcdserver')
    } finally {
      await sim.stop()
    }
  })
})
