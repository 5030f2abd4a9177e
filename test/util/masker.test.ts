import { describe, expect, it } from 'vitest'
import { MASKED, Masker, TOKEN_PREFIXES, tokenMasker } from '../../src/util/secret.js'

const VALUE = 'CANARY-masked-value-42'
const LOG = `line 1\nexport X=${VALUE} and glpat-abcDEF1234567890xyzW; runner glrt-t1_AbC.01.xyz end\n${VALUE}`
const EXPECTED = `line 1\nexport X=${MASKED} and glpat-${MASKED}; runner glrt-${MASKED} end\n${MASKED}`

describe('Masker', () => {
  const masker = new Masker([VALUE])

  it('masks values and every GitLab token prefix the runner masks, keeping the prefix', () => {
    expect(masker.mask(LOG)).toBe(EXPECTED)
    for (const p of TOKEN_PREFIXES) expect(tokenMasker.mask(`a ${p}1234567890abcdefghij b`)).toBe(`a ${p}${MASKED} b`)
    expect(tokenMasker.mask('glpat- alone, glrtx')).toBe('glpat- alone, glrtx')
    expect(new Masker(['abc']).mask('abc')).toBe('abc')
  })

  it('masks a stream split at every point, and in every pair of split points', () => {
    for (let i = 0; i <= LOG.length; i++) {
      const s = masker.stream()
      expect(s.push(LOG.slice(0, i)) + s.push(LOG.slice(i)) + s.end()).toBe(EXPECTED)
      for (let j = i; j <= LOG.length; j++) {
        const t = masker.stream()
        expect(t.push(LOG.slice(0, i)) + t.push(LOG.slice(i, j)) + t.push(LOG.slice(j)) + t.end()).toBe(EXPECTED)
      }
    }
  })

  it('one character at a time never prints a secret part early', () => {
    const s = masker.stream()
    let out = ''
    for (const c of LOG) {
      out += s.push(c)
      expect(out).not.toContain('glpat-a')
      expect(out).not.toContain('glrt-t')
    }
    expect(out + s.end()).toBe(EXPECTED)
  })

  it('holds back nothing when the text cannot start a secret', () => {
    expect(masker.stream().push('plain text\n')).toBe('plain text\n')
  })

  it('masks strings inside objects, keeping keys and other values', () => {
    expect(masker.maskDeep({ a: [VALUE, 1, { glpat: 'x glpat-12345678901234567890' }], b: true })).toEqual({ a: [MASKED, 1, { glpat: `x glpat-${MASKED}` }], b: true })
  })
})

describe('jobMasker: one rule for config environment, CI variables and --var', () => {
  it('masks masked and credential-named values from every source, and tokens in any name', async () => {
    const { jobMasker } = await import('../../src/executor/output.js')
    const runner = { settings: { environment: ['DB_PASSWORD=env-pass-1234', 'PLAIN=glrt-envtoken12345'] } } as unknown as Parameters<typeof jobMasker>[0]
    const m = jobMasker(runner, { variables: { APP: 'ci-masked-5678', OTHER: 'visible-9999' }, masked: ['APP'] }, { API_TOKEN: 'var-token-0000' })
    expect(m.mask('env-pass-1234 glrt-envtoken12345 ci-masked-5678 visible-9999 var-token-0000'))
      .toBe(`${MASKED} glrt-${MASKED} ${MASKED} visible-9999 ${MASKED}`)
  })
})
