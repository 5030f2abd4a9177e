/**
 * The local project run-job brings into the builds directory: the working tree of the repository that
 * holds the CI file, honouring .gitignore (`git ls-files -co --exclude-standard` when git is there, else
 * the .gitignore files read with the `ignore` package), packed as a tar stream the way `kubectl cp` does.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, readdir } from 'node:fs/promises'
import { dirname, join, posix, relative, sep } from 'node:path'
import { promisify } from 'node:util'
import ignore, { type Ignore } from 'ignore'
import { create, extract } from 'tar'

const run = promisify(execFile)

export interface GitInfo {
  root: string
  commitSha?: string
  branch?: string
}

/** The repository root holding `ciFile` (its folder when git is not available) and its HEAD. */
export async function projectOf(ciFile: string, opts: { useGit?: boolean } = {}): Promise<GitInfo> {
  const dir = dirname(ciFile)
  if (opts.useGit === false) return { root: dir }
  try {
    const root = (await run('git', ['rev-parse', '--show-toplevel'], { cwd: dir })).stdout.trim()
    const info: GitInfo = { root }
    const sha = await run('git', ['rev-parse', 'HEAD'], { cwd: root }).then((r) => r.stdout.trim(), () => '')
    if (/^[0-9a-f]{40}$/.test(sha)) info.commitSha = sha
    const branch = await run('git', ['symbolic-ref', '--short', '-q', 'HEAD'], { cwd: root }).then((r) => r.stdout.trim(), () => '')
    if (branch) info.branch = branch
    return info
  } catch {
    return { root: dir }
  }
}

/** Files of the project (paths relative to root, '/'-separated, sorted), ignored files left out. */
export async function listProjectFiles(root: string, opts: { useGit?: boolean } = {}): Promise<string[]> {
  if (opts.useGit !== false) {
    try {
      const { stdout } = await run('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: root, maxBuffer: 256 * 1024 * 1024 })
      return stdout.split('\0').filter((f) => f !== '' && existsSync(join(root, f))).sort()
    } catch {
      // not a git repository or no git: read the .gitignore files ourselves
    }
  }
  const out: string[] = []
  await walk(root, root, [], out)
  return out.sort()
}

async function walk(root: string, dir: string, rules: { base: string; ig: Ignore }[], out: string[]): Promise<void> {
  const here = [...rules]
  const gi = join(dir, '.gitignore')
  if (existsSync(gi)) here.push({ base: relative(root, dir).split(sep).join('/'), ig: ignore().add(await readFile(gi, 'utf8')) })
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === '.git') continue
    const rel = relative(root, join(dir, entry.name)).split(sep).join('/')
    const isDir = entry.isDirectory()
    const ignored = here.some(({ base, ig }) => {
      const sub = base ? posix.relative(base, rel) : rel
      return ig.ignores(isDir ? `${sub}/` : sub)
    })
    if (ignored) continue
    if (isDir) await walk(root, join(dir, entry.name), here, out)
    else if (entry.isFile() || entry.isSymbolicLink()) out.push(rel)
  }
}

/** A tar stream of `files` (relative to root). */
export function packFiles(root: string, files: string[]): NodeJS.ReadableStream {
  return create({ cwd: root, portable: true, gzip: false }, files) as unknown as NodeJS.ReadableStream
}

/** A writable that unpacks a tar stream into `dir` (which must exist). */
export function unpackTo(dir: string): NodeJS.WritableStream {
  return extract({ cwd: dir, strict: false }) as unknown as NodeJS.WritableStream
}
