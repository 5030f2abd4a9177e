/**
 * explain's accuracy on the labelled corpus of real logs (test/catalog/corpus), then its throughput on
 * a generated 100 MB job log (ANSI colours, section markers, a few real failures among ordinary build
 * output) against `grep -E -f` given the same patterns. The machine may be shared: each side runs
 * GKR_BENCH_RUNS times (default 3) and the best time counts, and CPU time is reported for both.
 * Set GKR_BENCH_MB to change the size.
 */
import { spawnSync } from 'node:child_process'
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { explainText, grepPatterns } from '../src/catalog/match.js'
import { formatScore, scoreCorpus } from '../test/catalog/corpus-score.js'

const NOISE = [
  '\x1b[32;1m$ npm ci\x1b[0;m',
  'added 1312 packages, and audited 1313 packages in 41s',
  '  ✓ src/components/button.test.tsx (12 tests) 48ms',
  'Downloading https://registry.npmjs.org/typescript/-/typescript-5.6.3.tgz',
  '\x1b[0Ksection_start:1732412345:step_script\r\x1b[0K\x1b[0K\x1b[36;1mExecuting "step_script" stage of the job script\x1b[0;m',
  'Step 7/12 : RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates',
  'Waiting for pod ci/runner-abc-project-1-concurrent-0 to be running, status is Pending',
  'INFO  [org.example.Build] compiling 482 source files to /builds/group/app/target/classes',
]
const FAILURES = [
  '\x1b[31;1mERROR: Job failed (system failure): pods "runner-z36gywsv-project-7-concurrent-4gzq9t" is forbidden: exceeded quota: all-resources, requested: secrets=1, used: secrets=100, limited: secrets=100\x1b[0;m',
  'WARNING: Event retrieved from the cluster: 0/3 nodes are available: 3 Insufficient cpu.',
  'ERROR: Job failed: command terminated with exit code 137',
]

export async function generate(file: string, bytes: number): Promise<void> {
  const out = createWriteStream(file)
  let block = ''
  for (let i = 0; i < 2000; i++) block += NOISE[i % NOISE.length] + '\n'
  let written = 0
  let n = 0
  while (written < bytes) {
    const chunk = n % 50 === 0 ? block + FAILURES[(n / 50) % FAILURES.length] + '\n' : block
    if (!out.write(chunk)) await once(out, 'drain')
    written += Buffer.byteLength(chunk)
    n++
  }
  out.end()
  await once(out, 'finish')
}

export default async function bench(): Promise<void> {
  console.log(formatScore(await scoreCorpus()))
  const mb = Number(process.env.GKR_BENCH_MB ?? 100)
  const runs = Math.max(1, Number(process.env.GKR_BENCH_RUNS ?? 3))
  const dir = mkdtempSync(path.join(tmpdir(), 'gkr-bench-explain-'))
  const log = path.join(dir, 'job.log')
  const pats = path.join(dir, 'patterns.txt')
  try {
    await generate(log, mb * 1024 * 1024)
    const size = statSync(log).size / (1024 * 1024)
    writeFileSync(pats, grepPatterns().join('\n') + '\n')

    const rssBefore = process.resourceUsage().maxRSS
    let explainS = Infinity
    let explainCpuS = Infinity
    let matches: Awaited<ReturnType<typeof explainText>> = []
    for (let i = 0; i < runs; i++) {
      const cpu0 = process.cpuUsage()
      const t0 = performance.now()
      matches = await explainText(createReadStream(log, { highWaterMark: 1 << 20 }))
      explainS = Math.min(explainS, (performance.now() - t0) / 1000)
      const cpu = process.cpuUsage(cpu0)
      explainCpuS = Math.min(explainCpuS, (cpu.user + cpu.system) / 1e6)
    }
    const rssAfter = process.resourceUsage().maxRSS

    let grepS = Infinity
    let grepCpuS = Infinity
    let g: ReturnType<typeof spawnSync> | undefined
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now()
      // bash's `time` gives grep's own CPU seconds (user+system) on stderr.
      g = spawnSync('bash', ['-c', 'TIMEFORMAT="%U %S"; time grep -E -c -f "$1" "$2"', 'bash', pats, log], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } })
      grepS = Math.min(grepS, (performance.now() - t0) / 1000)
      const t = /([\d.]+) ([\d.]+)\s*$/.exec(String(g.stderr))
      if (t) grepCpuS = Math.min(grepCpuS, Number(t[1]) + Number(t[2]))
    }

    // The whole command, as a user runs it: node's start-up, oclif, loading the catalog, reading the file.
    // /usr/bin/time gives its wall, CPU and peak RSS (bash's `time` as a fallback has no RSS).
    let cmd: { wallS: number; cpuS: number; rssMB?: number; code: number | null } | undefined
    const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'run.js')
    for (let i = 0; i < runs; i++) {
      const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, bin, 'explain', log, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, NO_COLOR: '1' } })
      const t = /([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(String(r.stderr))
      if (r.error || !t) break
      const run = { wallS: Number(t[1]), cpuS: Number(t[2]) + Number(t[3]), rssMB: Number(t[4]) / 1024, code: r.status }
      if (!cmd || run.wallS < cmd.wallS) cmd = run
    }

    const t0 = performance.now()
    for await (const chunk of createReadStream(log, { highWaterMark: 1 << 20 })) void chunk
    const readS = (performance.now() - t0) / 1000

    console.log(`log: ${size.toFixed(1)} MB, ${grepPatterns().length} patterns, best of ${runs}`)
    console.log(`just reading:  ${(size / readS).toFixed(0)} MB/s`)
    console.log(`explain (in process): ${(size / explainS).toFixed(0)} MB/s (${explainS.toFixed(2)} s; ${matches.map((m) => `${m.id}×${m.occurrences}`).join(', ')})`)
    // On a shared machine wall time swings with the load; CPU time and peak memory are steadier.
    console.log(`               ${explainCpuS.toFixed(2)} s CPU; peak RSS ${(rssAfter / 1024).toFixed(0)} MB (${(rssBefore / 1024).toFixed(0)} MB before: the log is streamed, never held whole)`)
    if (!g || g.error || (g.status !== 0 && g.status !== 1)) console.log(`grep -E -f:    unavailable (${g?.error?.message ?? String(g?.stderr ?? '').trim()})`)
    else {
      console.log(`grep -E -f:    ${(size / grepS).toFixed(0)} MB/s (${grepS.toFixed(2)} s; ${String(g.stdout).trim()} matching lines)${Number.isFinite(grepCpuS) ? `, ${grepCpuS.toFixed(2)} s CPU` : ''}`)
      console.log(`ratio explain/grep time: ${(explainS / grepS).toFixed(2)}${Number.isFinite(grepCpuS) && grepCpuS > 0 ? `; CPU: ${(explainCpuS / grepCpuS).toFixed(2)}` : ''}`)
      if (cmd) console.log(`gkr explain FILE (whole command, exit ${cmd.code}): ${cmd.wallS.toFixed(2)} s wall, ${cmd.cpuS.toFixed(2)} s CPU, peak RSS ${cmd.rssMB!.toFixed(0)} MB; ratio to grep -E -f: ${(cmd.wallS / grepS).toFixed(2)} wall${Number.isFinite(grepCpuS) && grepCpuS > 0 ? `, ${(cmd.cpuS / grepCpuS).toFixed(2)} CPU` : ''} (target ≤ 1.5)`)
      else console.log('gkr explain FILE (whole command): /usr/bin/time unavailable')
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
