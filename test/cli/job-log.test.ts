import { describe, expect, it } from 'vitest'
import { jobLogFilter } from '../../src/cli/job-log.js'
import { stepScript } from '../../src/runjob/script.js'

const E = '\u001b'
// What the build container prints for one step (src/runjob/script.ts writes these markers), as GitLab's runner does.
const LOG = [
  `${E}[0Ksection_start:1700000000:step_script\r${E}[0K${E}[36;1mExecuting "step_script" stage of the job script${E}[0;m`,
  `${E}[32;1m$ echo hello${E}[0;m`,
  'hello',
  `${E}[0Ksection_start:1700000001:install[collapsed=true]\r${E}[0KInstalling`,
  `${E}[31;1mwarning${E}[0m: slow mirror`,
  `${E}[0Ksection_end:1700000004:install\r${E}[0K`,
  `${E}[0Ksection_end:1700000007:step_script\r${E}[0K`,
  'Job succeeded',
  '',
].join('\n')

const READABLE = [
  '--- Executing "step_script" stage of the job script',
  '$ echo hello',
  'hello',
  '--- Installing',
  'warning: slow mirror',
  '--- end of install (3s)',
  '--- end of step_script (7s)',
  'Job succeeded',
  '',
].join('\n')

function through(mode: 'raw' | 'readable', chunks: string[]): string {
  const f = jobLogFilter(mode)
  return chunks.map((c) => f.push(c)).join('') + f.end()
}

describe('the job log when it does not go to a colour terminal', () => {
  it('colours are removed and section markers become header lines with their duration', () => {
    expect(through('readable', [LOG])).toBe(READABLE)
  })

  it('the same at every split point of the stream (a marker or an escape code cut in two)', () => {
    for (let i = 1; i < LOG.length; i++) expect(through('readable', [LOG.slice(0, i), LOG.slice(i)]), `split at ${i}`).toBe(READABLE)
  })

  it('one character at a time', () => {
    expect(through('readable', [...LOG])).toBe(READABLE)
  })

  it('--raw-log keeps every byte, markers and colours included', () => {
    expect(through('raw', [LOG.slice(0, 40), LOG.slice(40)])).toBe(LOG)
  })

  it('a last line without a newline is printed at the end; a line that never ends is not held forever', () => {
    expect(through('readable', [`${E}[1mdone${E}[0m`])).toBe('done')
    const f = jobLogFilter('readable')
    expect(f.push('x'.repeat(70_000)).length).toBe(70_000)
  })

  it('reads the markers run-job itself puts around each step', () => {
    // The printf lines of the step script, as the shell would print them (timestamps filled in).
    const script = stepScript({ name: 'after_script', header: 'Running after_script', commands: ['true'] })
    const start = /printf '([^']*section_start[^']*)\\n'/.exec(script)![1]!.replace('%s', '1700000000').replace('%s', 'after_script').replace('%s', 'Running after_script').replace('\\r', '\r')
    expect(through('readable', [`${start}\n`])).toBe('--- Running after_script\n')
  })
})
