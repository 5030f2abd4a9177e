import { request } from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type Sim } from '../../src/sim/index.js'
import { withKnobs } from '../helpers/sim.js'
import { parseRFC3339, rfc3339Nano } from '../../src/sim/pod-logs.js'
import { hasKubectl, kubectl } from '../helpers/async-cli.js'

/**
 * pods/log with the kubelet's options: every line keeps the time it was written, so `timestamps`
 * prefixes it with that time (RFC3339Nano and a space), `sinceTime`/`sinceSeconds` leave out older
 * lines, `tailLines` picks the last lines and `limitBytes` cuts the output (also a followed one). Bad
 * values get the API server's 400 (Go's parse errors) and 422 (PodLogOptions is invalid) Statuses.
 * The container writes "early", waits 1.2 s of real time, writes "late" and sleeps: timestamps are
 * wall-clock times, so `sinceSeconds=1` needs a real second between the two.
 */

const NS = 'gitlab-runner'
const ADMIN = 'sim-admin-token'
const TS = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z) (.*)$/

interface Reply {
  status: number
  text: string
}

function get(sim: Sim, p: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(p, sim.url), { ca: sim.caPem, headers: { Authorization: `Bearer ${ADMIN}`, Accept: 'application/json' } }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => (text += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end()
  })
}

const pod = (name: string, script: string): unknown => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'alpine:3.20', command: ['sh', '-c', script], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } })

function post(sim: Sim, p: string, body: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(p, sim.url), { method: 'POST', ca: sim.caPem, headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' } }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => (text += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}

describe('pods/log options: timestamps, since, tail, limitBytes', () => {
  let sim: Sim
  const log = (name: string, query: string): Promise<Reply> => get(sim, `/api/v1/namespaces/${NS}/pods/${name}/log${query ? `?${query}` : ''}`)
  const lines = (text: string): Array<{ at: string; text: string }> => text.split('\n').filter(Boolean).map((l) => {
    const m = TS.exec(l)
    if (!m) throw new Error(`no timestamp on ${JSON.stringify(l)}`)
    return { at: m[1]!, text: m[2]! }
  })
  let before = ''
  beforeAll(async () => {
    sim = await start(withKnobs({ clockFactor: 0.001 }))
    before = new Date(Date.now() - 1000).toISOString()
    expect((await post(sim, `/api/v1/namespaces/${NS}/pods`, pod('writer', 'echo early; echo second; sleep 1.2; echo late; exec sleep 60'))).status).toBe(201)
    // expect.poll belongs in tests: wait for "late" by hand.
    for (let i = 0; i < 100 && (await log('writer', '')).text !== 'early\nsecond\nlate\n'; i++) await new Promise((r) => setTimeout(r, 50))
  })
  afterAll(async () => {
    await sim?.stop()
    expect(sim.bugs()).toEqual([])
  })

  it('timestamps=true puts each line after the time it was written, in RFC3339Nano and UTC', async () => {
    const r = await log('writer', 'timestamps=true')
    expect(r.status).toBe(200)
    const got = lines(r.text)
    expect(got.map((l) => l.text)).toEqual(['early', 'second', 'late'])
    const times = got.map((l) => parseRFC3339(l.at))
    expect(times[0]! >= parseRFC3339(before)).toBe(true)
    expect(times[1]! >= times[0]!).toBe(true)
    // "late" came 1.2 s after "second".
    expect(Number(times[2]! - times[1]!) / 1e6).toBeGreaterThanOrEqual(1100)
    // The fraction has no trailing zeros, as Go's RFC3339Nano prints it.
    for (const l of got) expect(l.at).not.toMatch(/\.\d*0Z$/)
    expect(rfc3339Nano(1_700_000_000_120_000_000n)).toBe('2023-11-14T22:13:20.12Z')
    expect(rfc3339Nano(1_700_000_000_000_000_000n)).toBe('2023-11-14T22:13:20Z')
  })

  it('sinceTime and sinceSeconds leave out older lines; tailLines, then since; limitBytes cuts the formatted output', async () => {
    const stamped = lines((await log('writer', 'timestamps=true')).text)
    const lateAt = stamped[2]!.at
    expect((await log('writer', `sinceTime=${encodeURIComponent(lateAt)}`)).text).toBe('late\n')
    expect((await log('writer', `sinceTime=${encodeURIComponent(before)}`)).text).toBe('early\nsecond\nlate\n')
    expect((await log('writer', `sinceTime=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).text).toBe('')
    // Whole seconds in another offset: the same instant, rounded down (still after "second", 1.2 s earlier).
    const lateSecond = Math.floor(Date.parse(lateAt) / 1000) * 1000
    const plusTwo = `${new Date(lateSecond + 2 * 3600_000).toISOString().slice(0, 19)}+02:00`
    expect((await log('writer', `sinceTime=${encodeURIComponent(plusTwo)}`)).text).toBe('late\n')
    // sinceSeconds counts back from now: "early" and "second" are more than a second older than "late".
    const asked = Date.now()
    const sinceOne = (await log('writer', 'sinceSeconds=1')).text
    if (asked - Date.parse(lateAt) < 900) expect(sinceOne).toBe('late\n')
    else if (asked - Date.parse(lateAt) > 1100) expect(sinceOne).toBe('')
    expect((await log('writer', 'sinceSeconds=3600')).text).toBe('early\nsecond\nlate\n')
    expect((await log('writer', 'tailLines=2')).text).toBe('second\nlate\n')
    expect((await log('writer', `tailLines=3&sinceTime=${encodeURIComponent(lateAt)}`)).text).toBe('late\n')
    expect((await log('writer', 'tailLines=0')).text).toBe('')
    expect((await log('writer', 'limitBytes=8')).text).toBe('early\nse')
    const cut = await log('writer', 'timestamps=true&limitBytes=40')
    expect(cut.text).toBe((await log('writer', 'timestamps=true')).text.slice(0, 40))
    expect((await log('writer', 'limitBytes=100000')).text).toBe('early\nsecond\nlate\n')
  })

  it('a followed log carries timestamps on new lines and ends after limitBytes', async () => {
    expect((await post(sim, `/api/v1/namespaces/${NS}/pods`, pod('ticker', 'i=0; while [ $i -lt 50 ]; do echo tick-$i; i=$((i+1)); sleep 0.05; done; exec sleep 60'))).status).toBe(201)
    await expect.poll(async () => (await log('ticker', '')).text, { timeout: 5000 }).toContain('tick-0\n')
    const t0 = Date.now()
    // Each stamped line is about 38 bytes: 200 bytes end the stream after a handful of new lines.
    const r = await log('ticker', 'follow=true&timestamps=true&limitBytes=200&tailLines=1')
    expect(Date.now() - t0).toBeLessThan(4000)
    expect(Buffer.byteLength(r.text)).toBe(200)
    const whole = r.text.split('\n').slice(0, -1)
    expect(whole.length).toBeGreaterThanOrEqual(4)
    for (const l of whole) expect(l).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z tick-\d+$/)
    const ticks = whole.map((l) => Number(/tick-(\d+)/.exec(l)![1]))
    expect(ticks).toEqual(ticks.map((_, i) => ticks[0]! + i))
  })

  it('bad values: 400 with Go\'s parse errors, 422 PodLogOptions is invalid, before the pod is looked up', async () => {
    const status = async (name: string, q: string): Promise<Record<string, unknown>> => {
      const r = await log(name, q)
      const body = JSON.parse(r.text) as Record<string, unknown>
      expect(body.code).toBe(r.status)
      return body
    }
    expect(await status('writer', 'sinceSeconds=abc')).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'strconv.ParseInt: parsing "abc": invalid syntax', reason: 'BadRequest', code: 400 })
    expect((await status('writer', 'tailLines=99999999999999999999')).message).toBe('strconv.ParseInt: parsing "99999999999999999999": value out of range')
    expect((await status('writer', 'limitBytes=')).message).toBe('strconv.ParseInt: parsing "": invalid syntax')
    expect((await status('writer', 'sinceTime=yesterday')).message).toBe('parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"')
    expect((await status('writer', 'sinceTime=2026-12-04')).message).toBe('parsing time "2026-12-04" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T"')
    expect((await status('writer', 'sinceTime=2026-12-04T10:00:00')).message).toBe('parsing time "2026-12-04T10:00:00" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00"')
    expect((await status('writer', 'sinceTime=2026-13-04T10:00:00Z')).message).toBe('parsing time "2026-13-04T10:00:00Z": month out of range')
    expect((await status('writer', 'sinceTime=2026-02-30T10:00:00Z')).message).toBe('parsing time "2026-02-30T10:00:00Z": day out of range')
    expect((await status('writer', 'sinceTime=2026-12-04T10:00:00Zjunk')).message).toBe('parsing time "2026-12-04T10:00:00Zjunk": extra text: "junk"')
    expect(await status('writer', 'sinceSeconds=0')).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'PodLogOptions "writer" is invalid: sinceSeconds: Invalid value: 0: must be greater than 0', reason: 'Invalid', details: { name: 'writer', kind: 'PodLogOptions', causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be greater than 0', field: 'sinceSeconds' }] }, code: 422 })
    expect(await status('writer', `sinceSeconds=10&sinceTime=${encodeURIComponent(before)}`)).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'PodLogOptions "writer" is invalid: : Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified', reason: 'Invalid', details: { name: 'writer', kind: 'PodLogOptions', causes: [{ reason: 'FieldValueForbidden', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified' }] }, code: 422 })
    expect((await status('writer', 'tailLines=-1&limitBytes=0')).message).toBe('PodLogOptions "writer" is invalid: [tailLines: Invalid value: -1: must be greater than or equal to 0, limitBytes: Invalid value: 0: must be greater than 0]')
    // Validated before the pod is read: a pod that does not exist still gets the 422.
    expect((await status('nope', 'sinceSeconds=-5')).code).toBe(422)
    expect((await status('nope', 'sinceSeconds=5')).code).toBe(404)
  })

  it.skipIf(!hasKubectl)('kubectl logs --timestamps --since --limit-bytes --tail', async () => {
    const ts = await kubectl(sim.kubeconfig, ['logs', 'writer', '-n', NS, '--timestamps'])
    expect(ts.code).toBe(0)
    expect(lines(ts.stdout).map((l) => l.text)).toEqual(['early', 'second', 'late'])
    expect((await kubectl(sim.kubeconfig, ['logs', 'writer', '-n', NS, '--since=1h', '--limit-bytes=9'])).stdout).toBe('early\nsec')
    expect((await kubectl(sim.kubeconfig, ['logs', 'writer', '-n', NS, '--since-time', new Date(Date.now() + 3600_000).toISOString()])).stdout).toBe('')
    const tail = await kubectl(sim.kubeconfig, ['logs', 'writer', '-n', NS, '--timestamps', '--tail=1', '--limit-bytes=60'])
    expect(tail.stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z late\n$/)
    const bad = await kubectl(sim.kubeconfig, ['get', '--raw', `/api/v1/namespaces/${NS}/pods/writer/log?sinceSeconds=0`])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('The PodLogOptions "writer" is invalid: sinceSeconds: Invalid value: 0: must be greater than 0')
  })
})
