import path from 'node:path'
import { describe, expect, it } from 'vitest'
import Doctor from '../../src/commands/doctor.js'
import Rbac from '../../src/commands/rbac.js'
import { runCommand } from '../helpers/run-command.js'
import { FIXTURES } from '../helpers/check-tester.js'

const pub = (f: string): string => path.join(FIXTURES, 'public', f)
const rules = (yaml: string, resource: string): string => {
  const i = yaml.indexOf(`resources: ["${resource}"]`)
  if (i < 0) return ''
  const next = yaml.indexOf('- apiGroups', i)
  return yaml.slice(i, next < 0 ? undefined : next)
}

describe('doctor and rbac with chart values', () => {
  it('doctor merges repeated -c files and reports the chart checks (rbac.rules of the later file replace those of the first)', async () => {
    const r = await runCommand(Doctor, ['--offline', '--json', '-c', pub('10-YBakalenko/values.yaml'), '-c', pub('22-uytrewq12345/values.yaml')])
    const env = JSON.parse(r.stdout) as { exitCode: number; warnings: string[]; result: { runners: Array<{ results: Array<{ id: string; status: string }> }> } }
    expect(env.warnings[0]).toBe("merged 2 values files in Helm's order (later files win): values.yaml, values.yaml")
    const status = Object.fromEntries(env.result.runners[0]!.results.map((x) => [x.id, x.status]))
    // The second file's rbac.rules replace the first one's (Helm replaces lists): only pods list/watch are missing.
    expect(status['config-helm-rbac']).toBe('warn')
    expect(status['config-executor']).toBe('pass')
    expect(r.code).toBe(0)
  })

  it('rejects a --runner-version that is not a version (exit 2)', async () => {
    const r = await runCommand(Doctor, ['--offline', '-c', pub('15-cgraaaj/values.yaml'), '--runner-version', 'latest'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('"latest" is not a runner version such as 17.3 or v17.3.0')
  })

  it('rbac --runner-version prints the Role of that version', async () => {
    const now = (await runCommand(Rbac, ['-c', pub('15-cgraaaj/values.yaml')])).stdout
    expect(rules(now, 'pods')).toContain('"list"')
    const v173 = (await runCommand(Rbac, ['-c', pub('15-cgraaaj/values.yaml'), '--runner-version', '17.3'])).stdout
    expect(rules(v173, 'pods')).not.toContain('"list"')
    expect(rules(v173, 'pods')).not.toContain('"watch"')
    expect(rules(v173, 'configmaps')).toBe('')
    const v145 = (await runCommand(Rbac, ['-c', pub('15-cgraaaj/values.yaml'), '--runner-version', 'v14.5.0'])).stdout
    expect(rules(v145, 'configmaps')).toMatch(/"create"[\s\S]*"get"[\s\S]*"delete"/)
    const v140 = (await runCommand(Rbac, ['-c', pub('15-cgraaaj/values.yaml'), '--runner-version', '14.1'])).stdout
    expect(rules(v140, 'secrets')).not.toContain('"update"')
  })
})
