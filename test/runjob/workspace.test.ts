import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { listProjectFiles, packFiles, projectOf, unpackTo } from '../../src/runjob/workspace.js'

async function project(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gkr-ws-'))
  await mkdir(join(dir, 'src/sub'), { recursive: true })
  await mkdir(join(dir, 'node_modules/x'), { recursive: true })
  await writeFile(join(dir, '.gitignore'), 'node_modules/\n*.log\n')
  await writeFile(join(dir, 'src/.gitignore'), 'secret.txt\n')
  await writeFile(join(dir, '.gitlab-ci.yml'), 'job:\n  script: ls\n')
  await writeFile(join(dir, 'src/a.ts'), 'a')
  await writeFile(join(dir, 'src/secret.txt'), 's')
  await writeFile(join(dir, 'src/sub/b.ts'), 'b')
  await writeFile(join(dir, 'debug.log'), 'l')
  await writeFile(join(dir, 'node_modules/x/i.js'), 'i')
  return dir
}

const expected = ['.gitignore', '.gitlab-ci.yml', 'src/.gitignore', 'src/a.ts', 'src/sub/b.ts']

describe('listProjectFiles', () => {
  it('honours nested .gitignore files without git', async () => {
    const dir = await project()
    expect(await listProjectFiles(dir, { useGit: false })).toEqual(expected)
  })

  it('uses git ls-files in a repository (tracked and untracked, not ignored)', async () => {
    const dir = await project()
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: dir, stdio: 'pipe' })
    git('init', '-q', '-b', 'feature/x')
    git('add', '.gitlab-ci.yml')
    git('commit', '-q', '-m', 'init')
    expect(await listProjectFiles(dir)).toEqual(expected)
    const info = await projectOf(join(dir, 'src', 'a.ts'))
    expect(info.branch).toBe('feature/x')
    expect(info.commitSha).toMatch(/^[0-9a-f]{40}$/)
  })
})

describe('packFiles/unpackTo', () => {
  it('round-trips the listed files through a tar stream', async () => {
    const dir = await project()
    const dest = await mkdtemp(join(tmpdir(), 'gkr-ws-out-'))
    await pipeline(packFiles(dir, expected), unpackTo(dest))
    expect(await listProjectFiles(dest, { useGit: false })).toEqual(expected)
    expect(await readFile(join(dest, 'src/sub/b.ts'), 'utf8')).toBe('b')
  })
})
