import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/runjob/clock.js'
import { CleanupLedger, describeAbandoned, describeLeftovers, type ObjectRef } from '../../src/runjob/ledger.js'

const secret: ObjectRef = { apiVersion: 'v1', kind: 'Secret', namespace: 'ci', name: 'runner-abc-creds' }
const svc: ObjectRef = { apiVersion: 'v1', kind: 'Service', namespace: 'ci', name: 'db' }
const pod: ObjectRef = { apiVersion: 'v1', kind: 'Pod', namespace: 'ci', name: 'runner-abc' }

describe('CleanupLedger', () => {
  it('never deletes a name whose create the API refused (409, 401, 403…): nothing of this run is there', async () => {
    const ledger = new CleanupLedger()
    ledger.record(secret)
    ledger.created(secret, 'u1')
    ledger.record(pod)
    ledger.refused(pod)
    const calls: string[] = []
    const report = await ledger.cleanup(async (ref) => (calls.push(ref.name), 'deleted'), { timeoutMs: 1000, clock: new ManualClock() })
    expect(calls).toEqual(['runner-abc-creds'])
    expect(report.deleted).toEqual([secret])
    expect(report.left).toEqual([])
    expect(ledger.outstanding()).toEqual([])
    expect(describeAbandoned(ledger)).toBe('Cleanup abandoned; gkr had nothing left in the cluster.\n')
  })

  it('deletes with the uid from the create answer; a 409 on that precondition means not ours any more: not deleted, not left', async () => {
    const ledger = new CleanupLedger()
    ledger.created(secret, 'u1')
    ledger.created(pod, 'u2')
    const calls: Array<[string, string | undefined]> = []
    const report = await ledger.cleanup(async (ref, _s, uid) => {
      calls.push([ref.name, uid])
      return ref.kind === 'Pod' ? 'conflict' : 'deleted'
    }, { timeoutMs: 1000, clock: new ManualClock() })
    expect(calls).toEqual([['runner-abc', 'u2'], ['runner-abc-creds', 'u1']])
    expect(report.notOurs).toEqual([pod])
    expect(report.deleted).toEqual([secret])
    expect(report.left).toEqual([])
  })

  it('reads back what it could not delete: gone or another uid is no leftover; same uid or unreadable is', async () => {
    const a: ObjectRef = { ...secret, name: 'gone' }
    const b: ObjectRef = { ...secret, name: 'replaced' }
    const c: ObjectRef = { ...secret, name: 'still-ours' }
    const d: ObjectRef = { ...secret, name: 'unreadable' }
    const ledger = new CleanupLedger()
    for (const [ref, uid] of [[a, 'ua'], [b, 'ub'], [c, 'uc'], [d, 'ud']] as const) ledger.created(ref, uid)
    const read: string[] = []
    const report = await ledger.cleanup(async () => {
      throw new Error('etcdserver: request timed out')
    }, {
      timeoutMs: 1000, clock: new ManualClock(),
      readBack: async (ref) => {
        read.push(ref.name)
        if (ref.name === 'unreadable') throw new Error('connection reset')
        const uid = ({ gone: undefined, replaced: 'other', 'still-ours': 'uc' } as Record<string, string | undefined>)[ref.name]
        return uid === undefined ? undefined : { uid }
      },
    })
    expect(read).toEqual(['unreadable', 'still-ours', 'replaced', 'gone'])
    expect(report.absent).toEqual([a])
    expect(report.notOurs).toEqual([b])
    expect(report.left).toEqual([{ ...d, reason: 'etcdserver: request timed out', uncertain: 'unverified' }, { ...c, reason: 'etcdserver: request timed out' }])
    expect(describeLeftovers(report)).toContain('Secret ci/unreadable: etcdserver: request timed out (it could not be read back: it may already be gone)')
    expect(report.commands).toEqual(['kubectl delete --ignore-not-found -n ci secret/unreadable secret/still-ours'])
  })

  it('tries a failed delete again before reporting a leftover (a 504 the retry policy does not repeat)', async () => {
    const ledger = new CleanupLedger()
    ledger.created(secret, 'u1')
    ledger.created(pod, 'u2')
    const calls: string[] = []
    const report = await ledger.cleanup(async (ref) => {
      calls.push(ref.name)
      if (ref.kind === 'Pod' && calls.length === 1) throw new Error('Timeout: request did not complete within requested timeout')
      return 'deleted'
    }, { timeoutMs: 1000, clock: new ManualClock() })
    expect(calls).toEqual(['runner-abc', 'runner-abc-creds', 'runner-abc'])
    expect(report.deleted).toEqual([secret, pod])
    expect(report.left).toEqual([])
  })

  it('an unanswered create is read back: deleted with its uid only when it carries this run\'s label', async () => {
    const ledger = new CleanupLedger()
    ledger.record(secret) // no answer: another party's object holds the name
    ledger.record(pod) // no answer: the write went through
    const deletes: Array<[string, string | undefined]> = []
    const report = await ledger.cleanup(async (ref, _s, uid) => {
      deletes.push([ref.name, uid])
      return 'deleted'
    }, {
      timeoutMs: 1000, clock: new ManualClock(),
      readBack: async (ref) => (ref.kind === 'Pod' ? { uid: 'u-pod', run: ledger.runId } : { uid: 'u-theirs', run: 'someone-else' }),
    })
    expect(deletes).toEqual([['runner-abc', 'u-pod']])
    expect(report.deleted).toEqual([pod])
    expect(report.notOurs).toEqual([secret])
    expect(report.left).toEqual([])
  })

  it('an ownerReference update whose answer was lost: once the pod is deleted, an undeletable secret is reported as one that may be gone (the garbage collector may have it)', async () => {
    const ledger = new CleanupLedger()
    ledger.record(secret)
    ledger.created(secret, 'u1')
    ledger.record(pod)
    ledger.created(pod, 'u2')
    ledger.mayBeOwned(secret)
    const report = await ledger.cleanup(async (ref) => {
      if (ref.kind === 'Pod') return 'deleted'
      throw new Error('connect ECONNREFUSED')
    }, { timeoutMs: 1000, clock: new ManualClock() })
    expect(report.deleted).toEqual([pod])
    expect(report.collected).toEqual([])
    expect(report.left).toEqual([{ ...secret, reason: expect.any(String), uncertain: 'unverified' }])
  })

  it('deletes every recorded object newest first, tolerating NotFound', async () => {
    const ledger = new CleanupLedger()
    ledger.record(secret)
    ledger.created(secret, 'u1')
    ledger.record(svc)
    ledger.created(svc)
    ledger.record(pod) // create call sent, answer never came
    const calls: string[] = []
    const report = await ledger.cleanup(async (ref) => {
      calls.push(ref.name)
      return ref.kind === 'Pod' ? 'not-found' : 'deleted'
    }, { timeoutMs: 1000, clock: new ManualClock() })
    expect(calls).toEqual(['runner-abc', 'db', 'runner-abc-creds'])
    expect(report.deleted.map((r) => r.name)).toEqual(['db', 'runner-abc-creds'])
    expect(report.absent.map((r) => r.name)).toEqual(['runner-abc'])
    expect(report.left).toEqual([])
    expect(report.commands).toEqual([])
    expect(ledger.outstanding()).toEqual([])
    expect(describeLeftovers(report)).toBe('')
  })

  it('keeps going after a failed delete and reports it with the kubectl command', async () => {
    const ledger = new CleanupLedger()
    ledger.created(secret)
    ledger.created(pod)
    const report = await ledger.cleanup(async (ref) => {
      if (ref.kind === 'Pod') throw new Error('pods "runner-abc" is forbidden')
      return 'deleted'
    }, { timeoutMs: 1000, clock: new ManualClock() })
    expect(report.deleted).toEqual([secret])
    expect(report.left).toEqual([{ ...pod, reason: 'pods "runner-abc" is forbidden' }])
    expect(report.commands).toEqual(['kubectl delete --ignore-not-found -n ci pod/runner-abc'])
    expect(describeLeftovers(report)).toContain('kubectl delete --ignore-not-found -n ci pod/runner-abc')
  })

  it('stops at cleanup_resources_timeout and lists what is left', async () => {
    const clock = new ManualClock()
    const ledger = new CleanupLedger()
    ledger.created(secret)
    ledger.created(pod)
    const hang = (_: ObjectRef, signal: AbortSignal) => new Promise<'deleted'>((_r, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))))
    const run = ledger.cleanup(hang, { timeoutMs: 5000, clock })
    await Promise.resolve()
    clock.advance(5000)
    const report = await run
    expect(report.timedOut).toBe(true)
    expect(report.left.map((l) => l.name)).toEqual(['runner-abc', 'runner-abc-creds'])
    expect(report.left[0]!.reason).toMatch(/cleanup_resources_timeout \(5s\)/)
    expect(report.commands).toEqual(['kubectl delete --ignore-not-found -n ci pod/runner-abc secret/runner-abc-creds'])
    expect(describeLeftovers(report)).toMatch(/^Cleanup timed out/)
  })

  it('abandon() (second Ctrl-C) stops cleanup and says what is left', async () => {
    const ledger = new CleanupLedger()
    ledger.created(svc)
    ledger.created(pod)
    let started!: () => void
    const firstCall = new Promise<void>((r) => (started = r))
    const hang = (_: ObjectRef, signal: AbortSignal) => {
      started()
      return new Promise<'deleted'>((_r, reject) => signal.addEventListener('abort', () => reject(new Error('x'))))
    }
    const run = ledger.cleanup(hang, { timeoutMs: 60_000, clock: new ManualClock() })
    await firstCall
    ledger.abandon()
    const report = await run
    expect(report.abandoned).toBe(true)
    expect(report.timedOut).toBe(false)
    expect(report.left.map((l) => l.kind)).toEqual(['Pod', 'Service'])
    expect(ledger.kubectlCommands()).toEqual(['kubectl delete --ignore-not-found -n ci pod/runner-abc service/db'])
  })

  it('a second cleanup call shares the first run; recording twice keeps one entry', async () => {
    const ledger = new CleanupLedger()
    ledger.record(secret)
    ledger.record(secret)
    expect(ledger.entries).toHaveLength(1)
    let n = 0
    const del = async () => {
      n++
      return 'deleted' as const
    }
    const clock = new ManualClock()
    const [a, b] = await Promise.all([ledger.cleanup(del, { timeoutMs: 10, clock }), ledger.cleanup(del, { timeoutMs: 10, clock })])
    expect(a).toBe(b)
    expect(n).toBe(1)
  })
})

describe('describeAbandoned (second Ctrl-C: the process exits without waiting for cleanup)', () => {
  it('names every object not known to be gone, newest first, and the command that removes them', () => {
    const ledger = new CleanupLedger()
    ledger.created(secret, 'u1')
    ledger.created(pod, 'u2')
    ledger.record(svc) // create sent, no answer yet
    expect(describeAbandoned(ledger)).toBe([
      'Cleanup abandoned; 3 object(s) gkr created may be left in the cluster:',
      '  Service ci/db (create was sent, may not exist)',
      '  Pod ci/runner-abc',
      '  Secret ci/runner-abc-creds',
      'Remove them with:',
      '  kubectl delete --ignore-not-found -n ci service/db pod/runner-abc secret/runner-abc-creds',
      'Objects that already carry an ownerReference to the pod also go once the pod is deleted (garbage collector).',
      '',
    ].join('\n'))
  })

  it('says so when nothing is left', async () => {
    const ledger = new CleanupLedger()
    ledger.created(secret)
    await ledger.cleanup(async () => 'deleted', { timeoutMs: 1000, clock: new ManualClock() })
    expect(describeAbandoned(ledger)).toBe('Cleanup abandoned; gkr had nothing left in the cluster.\n')
  })
})
