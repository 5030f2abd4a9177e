import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { plainLog, stepScript } from '../../src/runjob/script.js'

const run = (script: string) => {
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

describe('stepScript', () => {
  it('echoes each command, runs it with the job variables, wrapped in section markers', () => {
    const r = run(stepScript({ name: 'step_script', header: 'Executing "step_script" stage of the job script', commands: ['echo "hello $WHO"', 'echo "it\'s done"'], env: { WHO: "o'brien", 'BAD-NAME': 'x' } }))
    expect(r.code).toBe(0)
    // eslint-disable-next-line no-control-regex
    expect(r.out).toMatch(/^\u001b\[0Ksection_start:\d+:step_script\r\u001b\[0KExecuting "step_script" stage of the job script\n/)
    // eslint-disable-next-line no-control-regex
    expect(r.out).toMatch(/\u001b\[0Ksection_end:\d+:step_script\r\u001b\[0K\n$/)
    expect(plainLog(r.out)).toBe('Executing "step_script" stage of the job script\n$ echo "hello $WHO"\nhello o\'brien\n$ echo "it\'s done"\nit\'s done\n\n')
  })

  it('stops at the first failing command with its exit code', () => {
    const r = run(stepScript({ name: 'step_script', header: 'x', commands: ['echo one', 'sh -c "exit 7"', 'echo never'] }))
    expect(r.code).toBe(7)
    expect(plainLog(r.out)).toContain('one')
    expect(r.out).not.toContain('never\n')
    expect(r.out).not.toContain('section_end')
  })

  it('shows the first line of a multi-line command', () => {
    const r = run(stepScript({ name: 's', header: 'h', commands: ['if true; then\n  echo inside\nfi\n'] }))
    expect(plainLog(r.out)).toContain('$ if true; then # collapsed multi-line command\ninside\n')
  })
})
