import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseCiFile, parseCiSource, selectJob } from '../../src/ci/parse.js'
import { goDuration, parseDuration } from '../../src/ci/duration.js'
import { predefinedVariables } from '../../src/ci/predefined.js'
import { thrown } from '../helpers/thrown.js'

const parse = (src: string, vars?: Record<string, string>) => parseCiSource(src, '.gitlab-ci.yml', { vars })

describe('parseCiSource', () => {
  it('reads image, services, scripts, timeout, cache and artifacts', () => {
    const ci = parse(`
build:
  stage: build
  image:
    name: alpine:3.20
    entrypoint: [""]
    pull_policy: [always, if-not-present]
  services:
    - redis:7
    - name: postgres:16
      alias: db
      command: ["postgres", "-c", "fsync=off"]
      entrypoint: ["docker-entrypoint.sh"]
      variables: { POSTGRES_PASSWORD: pw }
  before_script: echo before
  script: [make, make test]
  after_script: [echo after]
  timeout: 1h 30m
  cache: { key: deps, paths: [node_modules/], policy: pull-push }
  artifacts: { paths: [dist/], when: always, expire_in: 1 week }
`)
    const job = ci.jobs.build!
    expect(job.stage).toBe('build')
    expect(job.image).toMatchObject({ name: 'alpine:3.20', entrypoint: [''], pull_policy: ['always', 'if-not-present'] })
    expect(job.services).toHaveLength(2)
    expect(job.services[0]).toMatchObject({ name: 'redis:7' })
    expect(job.services[1]).toMatchObject({
      name: 'postgres:16', alias: 'db', command: ['postgres', '-c', 'fsync=off'],
      entrypoint: ['docker-entrypoint.sh'], variables: { POSTGRES_PASSWORD: 'pw' },
    })
    expect(job.before_script).toEqual(['echo before'])
    expect(job.script).toEqual(['make', 'make test'])
    expect(job.after_script).toEqual(['echo after'])
    expect(job.timeout).toBe(5400)
    expect(job.cache).toEqual([{ key: 'deps', paths: ['node_modules/'], policy: 'pull-push' }])
    expect(job.artifacts).toEqual({ paths: ['dist/'], when: 'always', expire_in: '1 week' })
    expect(job.unsupported).toEqual([])
    expect(job.at).toMatchObject({ file: '.gitlab-ci.yml', line: 2, column: 1 })
  })

  it('layers global, job and --var variables; accepts {value, description}', () => {
    const ci = parse(`
variables:
  A: global
  B: { value: "2", description: from the form }
  N: 5
job:
  variables: { A: job, C: "c" }
  script: env
`, { C: 'override' })
    expect(ci.jobs.job!.variables).toEqual({ A: 'job', B: '2', N: '5', C: 'override' })
  })

  it('applies default: and the legacy top-level keys, and honours inherit', () => {
    const ci = parse(`
image: legacy:1
default:
  image: ruby:3
  before_script: [bundle install]
  timeout: 10m
variables: { G: g, H: h }
a:
  script: rake
b:
  image: node:20
  inherit: { default: [timeout], variables: [H] }
  script: npm test
`)
    expect(ci.jobs.a).toMatchObject({ image: { name: 'ruby:3' }, before_script: ['bundle install'], timeout: 600 })
    expect(ci.jobs.a!.variables).toEqual({ G: 'g', H: 'h' })
    expect(ci.jobs.b).toMatchObject({ image: { name: 'node:20' }, before_script: [], timeout: 600 })
    expect(ci.jobs.b!.variables).toEqual({ H: 'h' })
    expect(ci.jobs.b!.unsupported).toEqual([])
  })

  it('resolves multi-level and multiple extends with deep merge (arrays replaced), hidden jobs excluded', () => {
    const ci = parse(`
.base:
  image: alpine
  variables: { A: base, B: base }
  script: [base]
  cache: { paths: [a/] }
.mid:
  extends: .base
  variables: { B: mid }
  script: [mid1, mid2]
.other:
  variables: { C: other }
  tags: [k8s]
job:
  extends: [.mid, .other]
  variables: { D: job }
`)
    expect(Object.keys(ci.jobs)).toEqual(['job'])
    const job = ci.jobs.job!
    expect(job.image?.name).toBe('alpine')
    expect(job.variables).toEqual({ A: 'base', B: 'mid', C: 'other', D: 'job' })
    expect(job.script).toEqual(['mid1', 'mid2'])
    expect(job.cache).toEqual([{ paths: ['a/'] }])
  })

  it('resolves anchors, aliases, merge keys and !reference tags', () => {
    const ci = parse(`
.setup: &setup
  - echo one
  - echo two
.vars: &vars
  X: "1"
.tpl:
  after_script: [cleanup]
  nested:
    deep: [deep1, deep2]
job:
  variables:
    <<: *vars
    Y: "2"
  before_script: *setup
  script:
    - !reference [.tpl, nested, deep]
    - echo main
  after_script: !reference [.tpl, after_script]
`)
    const job = ci.jobs.job!
    expect(job.variables).toEqual({ X: '1', Y: '2' })
    expect(job.before_script).toEqual(['echo one', 'echo two'])
    expect(job.script).toEqual(['deep1', 'deep2', 'echo main'])
    expect(job.after_script).toEqual(['cleanup'])
  })

  it('lists keys gkr does not act on as unsupported', () => {
    const ci = parse(`
job:
  script: x
  needs: [other]
  rules: [{ if: '$CI' }]
  parallel: 3
  tags: [k8s]
other:
  trigger: downstream
`)
    expect(ci.jobs.job!.unsupported).toEqual(['needs', 'parallel', 'rules'])
    expect(ci.jobs.other!.unsupported).toEqual(['trigger'])
  })

  it('reports bad YAML with file:line:col', () => {
    const err = thrown(() => parse('job:\n  script: [a, b\n  image: x\n'))
    expect(err.code).toBe('ci-yaml-invalid')
    expect(err.exit).toBe(2)
    expect(err.at?.file).toBe('.gitlab-ci.yml')
    expect(err.at?.line).toBeGreaterThanOrEqual(2)
    expect(err.at?.column).toBeGreaterThanOrEqual(1)
    expect(err.message).toMatch(/^invalid YAML: /)
  })

  it('reports duplicate keys with their position', () => {
    const err = thrown(() => parse('job:\n  script: a\n  script: b\n'))
    expect(err.at).toMatchObject({ line: 3, column: 3 })
  })

  it('rejects bad extends, references and timeouts with a location', () => {
    expect(thrown(() => parse('job:\n  extends: .nope\n  script: x\n')).code).toBe('ci-extends-invalid')
    expect(thrown(() => parse('.a:\n  extends: .b\n.b:\n  extends: .a\njob:\n  extends: .a\n')).message).toMatch(/circular extends/)
    const ref = thrown(() => parse('job:\n  script: !reference [.missing, script]\n'))
    expect(ref.code).toBe('ci-reference-invalid')
    expect(ref.at).toMatchObject({ line: 2, column: 22 })
    const t = thrown(() => parse('job:\n  script: x\n  timeout: soon\n'))
    expect(t.code).toBe('ci-timeout-invalid')
    expect(t.at?.path).toBe('job.timeout')
  })

  it('selectJob: unknown job lists the jobs and suggests the closest', () => {
    const ci = parse('build:\n  script: a\ntest:\n  script: b\n')
    expect(selectJob(ci, 'test').name).toBe('test')
    const err = thrown(() => selectJob(ci, 'biuld'))
    expect(err.code).toBe('ci-job-unknown')
    expect(err.suggestions).toEqual(['Did you mean build?', 'Jobs in .gitlab-ci.yml: build, test'])
  })
})

describe('parseCiFile', () => {
  it('reads a file from disk and names a missing one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gkr-ci-'))
    const file = join(dir, '.gitlab-ci.yml')
    await writeFile(file, 'job:\n  script: echo hi\n')
    expect((await parseCiFile(file)).jobs.job!.script).toEqual(['echo hi'])
    await expect(parseCiFile(join(dir, 'nope.yml'))).rejects.toMatchObject({ code: 'ci-file-unreadable', exit: 2 })
  })
})

describe('parseDuration', () => {
  it.each([
    ['1h 30m', 5400], ['3 hours', 10800], ['90 minutes', 5400], ['1h30m', 5400], ['30s', 30],
    ['2d', 172800], ['1 week', 604800], ['3600', 3600], ['1:30:00', 5400], ['1 hour and 5 minutes', 3900],
  ])('%s → %d', (s, n) => expect(parseDuration(s)).toBe(n))
  it.each(['soon', '5 parsecs', ''])('%s → undefined', (s) => expect(parseDuration(s)).toBeUndefined())
})

describe('goDuration (as the runner prints a timeout)', () => {
  it.each([[0, '0s'], [2, '2s'], [90, '1m30s'], [3600, '1h0m0s'], [5400, '1h30m0s'], [90061, '25h1m1s']] as const)('%d → %s', (n, s) => expect(goDuration(n)).toBe(s))
})

describe('predefinedVariables', () => {
  it('sets the local-run CI_* values', () => {
    const job = parse('My Job:\n  stage: build\n  timeout: 5m\n  script: x\n').jobs['My Job']!
    const vars = predefinedVariables(job, { projectDir: '/home/me/app', commitSha: 'abcdef0123456789abcdef0123456789abcdef01', branch: 'feat/X' })
    expect(vars).toMatchObject({
      CI: 'true', GITLAB_CI: 'true', CI_JOB_NAME: 'My Job', CI_JOB_NAME_SLUG: 'my-job', CI_JOB_STAGE: 'build',
      CI_PROJECT_DIR: '/builds/local/app', CI_BUILDS_DIR: '/builds', CI_COMMIT_SHORT_SHA: 'abcdef01',
      CI_COMMIT_REF_SLUG: 'feat-x', CI_COMMIT_BRANCH: 'feat/X', CI_JOB_TIMEOUT: '300',
    })
  })

  it('a job without timeout gets GitLab\'s default of one hour', () => {
    const job = parse('j:\n  script: x\n').jobs.j!
    expect(predefinedVariables(job, { projectDir: '/p' }).CI_JOB_TIMEOUT).toBe('3600')
  })
})

describe('masked variables', () => {
  it('records masked and masked_and_hidden variables of every level, and keeps them masked when overridden', () => {
    const ci = parse(`variables:\n  A: { value: "global-secret", masked: true }\n  B: plain\njob:\n  variables:\n    C: { value: "hidden-one", masked_and_hidden: true }\n    D: { value: "shown", masked: false }\n  script: [x]\n`, { A: 'from-var' })
    const job = selectJob(ci, 'job')
    expect(job.masked).toEqual(['A', 'C'])
    expect(job.variables).toMatchObject({ A: 'from-var', B: 'plain', C: 'hidden-one', D: 'shown' })
  })
})
