import { describe, expect, it } from 'vitest'
import { parseCiSource } from '../../src/ci/parse.js'
import { thrown } from '../helpers/thrown.js'


const parse = (src: string) => parseCiSource(src, '.gitlab-ci.yml')

describe('CI files with odd aliases', () => {
  it('an alias inside its own anchor (`a: &x [*x]`, eleven bytes) is a usage error at file:line:column, not a stack overflow', () => {
    const err = thrown(() => parse('a: &x [*x]\n'))
    expect([err.code, err.exit]).toEqual(['ci-yaml-invalid', 2])
    expect(err.at).toMatchObject({ file: '.gitlab-ci.yml', line: 1, column: 8 })
    expect(err.message).toMatch(/alias \*x is inside the node/)
    // Deeper: a job whose script refers to the job itself.
    const job = thrown(() => parse('job: &j\n  script:\n    - echo\n  variables:\n    self: *j\n'))
    expect(job.at).toMatchObject({ line: 5, column: 11 })
  })

  it('an alias to no anchor names its position', () => {
    const err = thrown(() => parse('job:\n  script: *nope\n'))
    expect(err.code).toBe('ci-yaml-invalid')
    expect(err.at).toMatchObject({ line: 2, column: 11 })
    expect(err.message).toMatch(/alias \*nope refers to no anchor/)
  })

  it('a "billion laughs" file is refused with a position, before anything expands it', () => {
    let src = 'a: &a [x, x, x, x, x, x, x, x, x, x]\n'
    const names = 'abcdefgh'
    for (let i = 1; i < names.length; i++) src += `${names[i]}: &${names[i]} [${Array(10).fill(`*${names[i - 1]}`).join(', ')}]\n`
    src += `job:\n  script: [*h]\n`
    const err = thrown(() => parse(src))
    expect(err.code).toBe('ci-yaml-invalid')
    expect(err.message).toMatch(/billion laughs/)
    expect(err.at?.line).toBeGreaterThan(1)
    expect(err.at?.column).toBeGreaterThanOrEqual(1)
  })

  it('ordinary anchors, aliases and merge keys still work, and duplicate keys are still refused', () => {
    const ci = parse('.base: &base\n  image: alpine\n  script: [echo]\njob:\n  <<: *base\n  <<: *base\n  stage: build\n')
    expect(ci.jobs.job).toMatchObject({ stage: 'build', script: ['echo'] })
    expect(ci.jobs.job!.image?.name).toBe('alpine')
    expect(thrown(() => parse('job:\n  script: a\n  script: b\n')).at).toMatchObject({ line: 3, column: 3 })
  })

  it('a !reference to a long list splices it in without spreading it into push', () => {
    const long = Array.from({ length: 130_000 }, (_, i) => `echo ${i}`)
    const ci = parse(`.t:\n  script: [${long.join(', ')}]\njob:\n  script:\n    - !reference [.t, script]\n`)
    expect(ci.jobs.job!.script).toHaveLength(130_000)
  })
})

describe('parse time grows linearly with the number of jobs', () => {
  const gen = (n: number): string => {
    let s = ''
    for (let i = 0; i < n; i++) s += `job${i}:\n  script: echo ${i}\n`
    return s
  }
  const best = (src: string, runs: number): number => {
    let min = Infinity
    for (let i = 0; i < runs; i++) {
      const t = performance.now()
      parseCiSource(src, 'ci.yml')
      min = Math.min(min, performance.now() - t)
    }
    return min
  }

  it('20k jobs take well under 40× the time of 2k jobs (10× is linear; the quadratic duplicate-key check took ~100×)', () => {
    const small = gen(2_000)
    const large = gen(20_000)
    best(small, 2) // warm up
    const tSmall = best(small, 3)
    const tLarge = best(large, 1)
    const ci = parseCiSource(large, 'ci.yml')
    expect(Object.keys(ci.jobs)).toHaveLength(20_000)
    expect(tLarge / tSmall).toBeLessThan(40)
  }, 60_000)
})
