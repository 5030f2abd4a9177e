import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { explainText, grepPatterns, matchMessage, normaliseLine } from '../../src/catalog/match.js'

async function* chunks(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size)
}

describe('matchMessage: realistic variants', () => {
  it.each([
    ['older wording', 'Preparation failed: timed out waiting for pod to start', 'job-failed-system-failure-timed-out-waiting-for-pod-to-start'],
    ['newer wording with phase', 'ERROR: Job failed (system failure): prepare environment: waiting for pod running: timed out waiting for pod to start (last phase: Pending)', 'job-failed-system-failure-timed-out-waiting-for-pod-to-start'],
    ['other pod/namespace/IP', 'Error cleaning up pod: Delete "https://172.20.0.1:6443/api/v1/namespaces/build-jobs/pods/runner-q9w8e7-project-311-concurrent-5xyz": dial tcp 172.20.0.1:6443: connect: connection refused', 'error-cleaning-up-pod-and-job-failed-system-failure-prepare-environment-waiting-for-pod-running'],
    ['IPv6 API server', 'Post "https://[fd00::1]:443/api/v1/namespaces/ci/pods": dial tcp [fd00::1]:443: i/o timeout', 'dial-tcp-xxxxxxxxxx-io-timeout'],
    ['job-log timestamp prefix', '2026-11-24T02:00:01.123456Z 01E ERROR: Job failed: command terminated with exit code 137', 'oom-killed'],
    ['kubectl style', 'Error from server (Forbidden): admission webhook "validation.gatekeeper.sh" denied the request: [require-team-label] you must provide labels: {"team"}', 'webhook-denied'],
    ['gatekeeper read-only rootfs beats the generic webhook entry', 'admission webhook "validation.gatekeeper.sh" denied the request: [readonlyrootfs] only read-only root filesystem container is allowed: helper', 'error-only-read-only-root-filesystem-container-is-allowed'],
    ['service image not allowed', 'The "mysql:8" image is not present on list of allowed services:', 'service-not-allowed'],
    ['quota must specify', 'pods "runner-1" is forbidden: failed quota: compute-resources: must specify limits.cpu,limits.memory', 'quota-exceeded'],
    ['csi driver', 'MountVolume.MountDevice failed for volume "cache" : kubernetes.io/csi: attacher.MountDevice failed to create newCsiDriverClient: driver name gcsfuse.csi.storage.gke.io not found in the list of registered CSI drivers', 'volume-source-missing'],
  ])('%s', (_name, line, id) => {
    expect(matchMessage(line)?.id).toBe(id)
  })

  it('extracts the quota figures (the leaked-secrets case)', () => {
    const m = matchMessage('ERROR: Job failed (system failure): secrets "runner-abc-project-7-concurrent-4gzq9t" is forbidden: exceeded quota: ci-quota, requested: secrets=1, used: secrets=50, limited: secrets=50')
    expect(m?.fields).toMatchObject({ kind: 'secrets', quota: 'ci-quota', requested: 'secrets=1', used: 'secrets=50', limited: 'secrets=50' })
  })

  it('extracts user, verb, resource and namespace from a JSON-escaped API error inside a client message', () => {
    const msg = String.raw`HTTP-Code: 403 Message: Unknown API Status Code! Body: "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"pods \\\"runner-x\\\" is forbidden: User \\\"system:serviceaccount:build:gitlab-runner\\\" cannot create resource \\\"pods/attach\\\" in API group \\\"\\\" in the namespace \\\"build\\\"\",\"reason\":\"Forbidden\",\"code\":403}"`
    const m = matchMessage(msg)
    expect(m?.id).toBe('rbac-forbidden')
    expect(m?.fields).toMatchObject({ user: 'system:serviceaccount:build:gitlab-runner', verb: 'create', resource: 'pods/attach', namespace: 'build' })
  })

  it('extracts limit-range figures', () => {
    expect(matchMessage('pods "p" is forbidden: maximum memory usage per Pod is 1Gi.  No limit is specified')?.fields).toMatchObject({ bound: 'maximum', resource: 'memory', scope: 'Pod' })
  })

  it('returns undefined for unknown text', () => {
    expect(matchMessage('everything is fine')).toBeUndefined()
  })
})

describe('normaliseLine', () => {
  it('drops ANSI colours, section markers and JSON escaping', () => {
    const raw = '\x1b[0Ksection_start:1732412345:prepare_executor\r\x1b[0K\x1b[31;1mERROR: pods \\"x\\" is forbidden\x1b[0;m'
    expect(normaliseLine(raw)).toBe('ERROR: pods "x" is forbidden')
  })
})

describe('explainText', () => {
  const log = [
    '\x1b[0KRunning with gitlab-runner 17.5.0 (abcdef12)\x1b[0;m',
    '\x1b[0Ksection_start:1732412345:prepare_executor\r\x1b[0K\x1b[0K\x1b[36;1mPreparing the "kubernetes" executor\x1b[0;m',
    'Waiting for pod ci/runner-abc-project-1-concurrent-0 to be running, status is Pending',
    '\x1b[0;33mWARNING: Event retrieved from the cluster: 0/4 nodes are available: 4 Insufficient memory. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod.\x1b[0;m',
    '\x1b[31;1mERROR: Job failed (system failure): prepare environment: waiting for pod running: timed out waiting for pod to start\x1b[0;m',
    'section_end:1732412999:prepare_executor\r\x1b[0K',
    'WARNING: Event retrieved from the cluster: 0/4 nodes are available: 4 Insufficient memory.',
  ].join('\n')

  it('ranks matches most specific first with line numbers, counts and fields', async () => {
    const ms = await explainText(log)
    expect(ms.map((m) => m.id)).toEqual(['job-failed-system-failure-timed-out-waiting-for-pod-to-start', 'scheduling-failed'])
    expect(ms[0]!.lineNumber).toBe(5)
    expect(ms[1]).toMatchObject({ lineNumber: 4, occurrences: 2, lineNumbers: [4, 7] })
    expect(ms[1]!.fields).toMatchObject({ available: '0', total: '4', reasons: '4 Insufficient memory' })
    expect(ms[1]!.line.startsWith('WARNING: Event retrieved')).toBe(true)
  })

  it('gives the same answer however the stream is chunked (strings, bytes, lines)', async () => {
    const whole = await explainText(log)
    for (const size of [1, 7, 64, 4096]) expect(await explainText(chunks(log, size))).toEqual(whole)
    expect(await explainText(Readable.from([Buffer.from(log, 'utf8')]))).toEqual(whole)
    async function* lines(): AsyncGenerator<string> {
      yield* log.split('\n')
    }
    expect(await explainText(lines(), { lines: true })).toEqual(whole)
  })

  it('splits multi-byte characters across byte chunks correctly', async () => {
    const text = '日本語のログ\nERROR: Job failed: command terminated with exit code 137\n'
    const bytes = Buffer.from(text, 'utf8')
    const parts = [bytes.subarray(0, 4), bytes.subarray(4, 9), bytes.subarray(9)]
    const ms = await explainText(Readable.from(parts))
    expect(ms[0]).toMatchObject({ id: 'oom-killed', lineNumber: 2 })
  })

  it('matches lines holding multi-byte text as bytes, byte chunks of every size, plain Uint8Arrays too, reused buffers', async () => {
    const text = `✓ ビルド開始 — ünïcödé\n${log}\n✓ 終了\n`
    const whole = await explainText(text)
    expect(whole.map((m) => m.lineNumber)).toEqual([6, 5])
    const bytes = Buffer.from(text, 'utf8')
    for (const size of [1, 2, 3, 5, 64]) {
      const parts: Uint8Array[] = []
      for (let i = 0; i < bytes.length; i += size) parts.push(new Uint8Array(bytes.subarray(i, i + size)))
      expect(await explainText(Readable.from(parts))).toEqual(whole)
    }
    // A stream that refills one buffer for every read: the carried-over line must not change under it.
    async function* reused(): AsyncGenerator<Uint8Array> {
      const shared = new Uint8Array(16)
      for (let i = 0; i < bytes.length; i += 16) {
        const n = Math.min(16, bytes.length - i)
        shared.set(bytes.subarray(i, i + n))
        yield shared.subarray(0, n)
        shared.fill(0x41)
      }
    }
    expect(await explainText(reused())).toEqual(whole)
  })

  it('keeps memory bounded on a line longer than the buffer and still counts lines right', async () => {
    async function* huge(): AsyncGenerator<string> {
      for (let i = 0; i < 5; i++) yield 'x'.repeat(1 << 20) // 5 MB without a newline
      yield '\nERROR: Job failed: command terminated with exit code 137\n'
    }
    const ms = await explainText(huge())
    expect(ms).toHaveLength(1)
    expect(ms[0]).toMatchObject({ id: 'oom-killed', lineNumber: 2 })
  })

  it('finds a symptom split across chunk boundaries at every offset', async () => {
    const line = 'secrets "runner-a" is forbidden: exceeded quota: q, requested: secrets=1, used: secrets=9, limited: secrets=9'
    const text = `a\nb\n${line}\nc\n`
    for (let cut = 1; cut < text.length; cut += 3) {
      async function* two(): AsyncGenerator<Uint8Array> {
        yield Buffer.from(text.slice(0, cut))
        yield Buffer.from(text.slice(cut))
      }
      expect((await explainText(two()))[0], `cut at ${cut}`).toMatchObject({ id: 'quota-exceeded', lineNumber: 3, fields: { used: 'secrets=9' } })
    }
  })

  it('honours an aborted signal', async () => {
    const ac = new AbortController()
    ac.abort(new Error('stop'))
    await expect(explainText(chunks(log, 10), { signal: ac.signal })).rejects.toThrow('stop')
  })

  it('returns nothing for a clean log', async () => {
    expect(await explainText('Job succeeded\n')).toEqual([])
  })
})

describe('grepPatterns', () => {
  it('exports a POSIX ERE for every symptom', () => {
    const pats = grepPatterns()
    expect(pats.length).toBeGreaterThan(50)
    for (const p of pats) {
      expect(p).not.toMatch(/\(\?/)
      expect(p).not.toMatch(/\\[wdsS]/)
    }
  })
})
