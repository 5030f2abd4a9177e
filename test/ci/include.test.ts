/**
 * `include:` (issue 17): local files relative to the project (globs too), project/template/remote files
 * from --include-dir, GitLab's merge order (included first, the including file wins, hashes and jobs
 * merged deep), a note per include not followed, and errors located in the included file.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseCiFile, selectJob } from '../../src/ci/parse.js'
import { GkrError } from '../../src/util/errors.js'
import { thrown } from '../helpers/thrown.js'

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'gkr-include-'))
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true })
    writeFileSync(path.join(root, name), text)
  }
  return root
}

describe('include:', () => {
  it('follows local includes (relative to the project, nested, globs) and merges as GitLab does', async () => {
    const root = tree({
      'project/.gitlab-ci.yml': [
        'include:',
        '  - local: ci/base.yml',
        '  - local: /ci/jobs/*.yml',
        'variables: { WHO: main }',
        'test:',
        '  script: [make test]',
        '  variables: { LEVEL: main }',
      ].join('\n'),
      'project/ci/base.yml': [
        'include: ci/defaults.yml',
        'variables: { WHO: base, BASE: yes }',
        'test:',
        '  image: node:20',
        '  script: [npm test]',
        '  variables: { LEVEL: base, FROM_BASE: "1" }',
        '  cache: { key: deps, paths: [node_modules/] }',
      ].join('\n'),
      'project/ci/defaults.yml': 'default:\n  image: alpine:3.20\n  before_script: [echo default]\n',
      'project/ci/jobs/lint.yml': 'lint:\n  script: [make lint]\n',
      'project/ci/jobs/docs.yml': 'docs:\n  script: [make docs]\n  image: !reference [test, image]\n',
    })
    const ci = await parseCiFile(path.join(root, 'project/.gitlab-ci.yml'))
    expect(Object.keys(ci.jobs).sort()).toEqual(['docs', 'lint', 'test'])
    const test = ci.jobs.test!
    // Jobs merge key by key: the main file's script and LEVEL win, base's image, cache and FROM_BASE stay.
    expect(test.script).toEqual(['make test'])
    expect(test.image?.name).toBe('node:20')
    expect(test.cache).toEqual([{ key: 'deps', paths: ['node_modules/'] }])
    expect(test.variables).toMatchObject({ WHO: 'main', BASE: 'yes', LEVEL: 'main', FROM_BASE: '1' })
    // default: from a nested include; a !reference across files.
    expect(ci.jobs.lint!.before_script).toEqual(['echo default'])
    expect(ci.jobs.lint!.image?.name).toBe('alpine:3.20')
    expect(ci.jobs.docs!.image?.name).toBe('node:20')
    // A job is located where it was written last: the main file for test, its own file for lint.
    expect(test.at).toMatchObject({ file: path.join(root, 'project/.gitlab-ci.yml'), line: 5 })
    expect(ci.jobs.lint!.at).toMatchObject({ file: path.join(root, 'project/ci/jobs/lint.yml'), line: 1, column: 1 })
    expect(ci.notes).toBeUndefined()
  })

  it('project:, template: and remote: are not followed without --include-dir: a note per include, and an unknown job says so', async () => {
    const root = tree({
      '.gitlab-ci.yml': [
        'include:',
        '  - project: my-group/ci-templates',
        '    ref: main',
        '    file: [/jobs/build.yml]',
        '  - template: Jobs/SAST.gitlab-ci.yml',
        '  - remote: https://example.com/ci/shared.yml',
        '  - component: $CI_SERVER_FQDN/my-org/security/secret-detection@1.0',
        'test:',
        '  script: [make test]',
      ].join('\n'),
    })
    const ci = await parseCiFile(path.join(root, '.gitlab-ci.yml'))
    expect(ci.notes).toEqual([
      'include project: my-group/ci-templates file: /jobs/build.yml not followed: pass --include-dir DIR with DIR/my-group/ci-templates/jobs/build.yml',
      'include template: Jobs/SAST.gitlab-ci.yml not followed: pass --include-dir DIR with DIR/templates/Jobs/SAST.gitlab-ci.yml',
      'include remote: https://example.com/ci/shared.yml not followed: gkr does not download; pass --include-dir DIR with DIR/example.com/ci/shared.yml',
      'include component: $CI_SERVER_FQDN/my-org/security/secret-detection@1.0 not followed: gkr does not fetch CI/CD components',
    ])
    expect(ci.jobs.test!.notes).toEqual(ci.notes)
    const err = thrown(() => selectJob(ci, 'build'))
    expect(err).toBeInstanceOf(GkrError)
    expect(err.message).toBe(`no job named build in ${path.join(root, '.gitlab-ci.yml')} or the files it includes (4 includes were not followed)`)
    expect((err as GkrError).suggestions[0]).toBe('It may be defined in an include gkr did not follow: include project: my-group/ci-templates file: /jobs/build.yml not followed: pass --include-dir DIR with DIR/my-group/ci-templates/jobs/build.yml')
  })

  it('--include-dir provides project:, template: and remote: files (a missing one is a note); their local includes are the project\'s', async () => {
    const dir = tree({
      'my-group/ci-templates/jobs/build.yml': 'include: jobs/common.yml\nbuild:\n  extends: .common\n  script: [make build]\n',
      'my-group/ci-templates/jobs/common.yml': '.common:\n  image: golang:1.23\n',
      'templates/Jobs/SAST.gitlab-ci.yml': 'sast:\n  image: sast:latest\n  script: [scan]\n',
      'example.com/ci/shared.yml': 'variables: { SHARED: "yes" }\n',
    })
    const root = tree({
      '.gitlab-ci.yml': [
        'include:',
        '  - project: my-group/ci-templates',
        '    file: [/jobs/build.yml, /jobs/missing.yml]',
        '  - template: Jobs/SAST.gitlab-ci.yml',
        '  - remote: https://example.com/ci/shared.yml',
        '    rules: [{ if: $CI_COMMIT_BRANCH }]',
        'test:',
        '  script: [make test]',
      ].join('\n'),
    })
    const ci = await parseCiFile(path.join(root, '.gitlab-ci.yml'), { includeDir: dir })
    expect(Object.keys(ci.jobs).sort()).toEqual(['build', 'sast', 'test'])
    expect(ci.jobs.build!.image?.name).toBe('golang:1.23')
    expect(ci.jobs.test!.variables.SHARED).toBe('yes')
    expect(ci.notes).toEqual([
      `include project: my-group/ci-templates file: /jobs/build.yml, /jobs/missing.yml not followed: ${path.join(dir, 'my-group/ci-templates/jobs/missing.yml')} does not exist`,
      'include remote: https://example.com/ci/shared.yml: its rules: are not evaluated; gkr includes it',
    ])
  })

  it('errors name the included file: a YAML error, a bad job, a missing local include, a path outside the project', async () => {
    const root = tree({
      'p/.gitlab-ci.yml': 'include: [ci/broken.yml]\n',
      'p/ci/broken.yml': 'ok:\n  script: [true]\nbad: [\n',
      'q/.gitlab-ci.yml': 'include: ci/job.yml\n',
      'q/ci/job.yml': 'a:\n  script: [x]\n\nb:\n  script: [y]\n  timeout: forever\n',
      'r/.gitlab-ci.yml': 'test:\n  script: [x]\ninclude:\n  - local: ci/nope.yml\n',
      's/.gitlab-ci.yml': 'include:\n  - local: ../outside.yml\n',
      'outside.yml': 'x:\n  script: [x]\n',
    })
    const yamlErr = (await parseCiFile(path.join(root, 'p/.gitlab-ci.yml')).catch((e: unknown) => e)) as GkrError
    expect(yamlErr.code).toBe('ci-yaml-invalid')
    expect(yamlErr.at).toMatchObject({ file: path.join(root, 'p/ci/broken.yml'), line: 4 })
    const jobErr = (await parseCiFile(path.join(root, 'q/.gitlab-ci.yml')).catch((e: unknown) => e)) as GkrError
    expect(jobErr.code).toBe('ci-timeout-invalid')
    expect(jobErr.at).toMatchObject({ file: path.join(root, 'q/ci/job.yml'), line: 4, column: 1, path: 'b.timeout' })
    const missing = (await parseCiFile(path.join(root, 'r/.gitlab-ci.yml')).catch((e: unknown) => e)) as GkrError
    expect(missing.code).toBe('ci-include-missing')
    expect(missing.exit).toBe(2)
    expect(missing.message).toBe(`include local: ci/nope.yml: no such file in the project (looked for ${path.join(root, 'r/ci/nope.yml')})`)
    expect(missing.at).toMatchObject({ file: path.join(root, 'r/.gitlab-ci.yml'), line: 4, column: 5 })
    const outside = (await parseCiFile(path.join(root, 's/.gitlab-ci.yml')).catch((e: unknown) => e)) as GkrError
    expect(outside.code).toBe('ci-include-invalid')
    expect(outside.message).toContain('is outside the project')
  })

  it('an include that includes itself (or is included twice) is read once; a malformed entry is a usage error', async () => {
    const root = tree({
      '.gitlab-ci.yml': 'include: [a.yml, a.yml]\nmain:\n  script: [x]\n',
      'a.yml': 'include: a.yml\na:\n  script: [a]\n',
      'bad/.gitlab-ci.yml': 'include:\n  - { local: a.yml, template: b.yml }\n',
    })
    const ci = await parseCiFile(path.join(root, '.gitlab-ci.yml'))
    expect(Object.keys(ci.jobs).sort()).toEqual(['a', 'main'])
    const bad = (await parseCiFile(path.join(root, 'bad/.gitlab-ci.yml')).catch((e: unknown) => e)) as GkrError
    expect(bad.code).toBe('ci-include-invalid')
    expect(bad.at).toMatchObject({ line: 2 })
  })
})

describe('include: through the commands', () => {
  it('render --include-dir renders a job that comes from a project include; without it, the unknown job names the include', async () => {
    const { default: Render } = await import('../../src/commands/render.js')
    const { runCommand } = await import('../helpers/run-command.js')
    const { ROOT } = await import('../helpers/cli.js')
    const dir = tree({ 'g/templates/build.yml': 'build:\n  image: golang:1.23\n  script: [go build]\n' })
    const root = tree({ '.gitlab-ci.yml': 'include:\n  - project: g/templates\n    file: build.yml\n  - remote: https://example.com/x.yml\ntest:\n  script: [x]\n' })
    const config = path.join(ROOT, 'examples', 'config.toml')
    const ok = await runCommand(Render, ['-c', config, '--ci-file', path.join(root, '.gitlab-ci.yml'), '--job', 'build', '--include-dir', dir])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain('image: golang:1.23')
    expect(ok.stdout).toContain(`# include remote: https://example.com/x.yml not followed: ${path.join(dir, 'example.com/x.yml')} does not exist`)
    const missing = await runCommand(Render, ['-c', config, '--ci-file', path.join(root, '.gitlab-ci.yml'), '--job', 'build'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('or the files it includes (2 includes were not followed)')
    expect(missing.stderr).toContain('DIR/g/templates/build.yml')
  })
})
