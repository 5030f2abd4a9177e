import path from 'node:path'
import { parseAllDocuments } from 'yaml'
import { describe, expect, it } from 'vitest'
import Render from '../../src/commands/render.js'
import { ROOT } from '../helpers/cli.js'
import { runCommand } from '../helpers/run-command.js'

const ex = (f: string): string => path.join(ROOT, 'examples', f)

// The service's alias names its container, as the runner does. The README's render and run-job examples use examples/.gitlab-ci.yml with examples/config.toml.
describe('examples/.gitlab-ci.yml', () => {
  for (const [job, containers] of [
    ['test', ['build', 'helper']],
    ['docker-build', ['build', 'helper', 'docker']],
  ] as const) {
    it(`renders job ${job} with examples/config.toml`, async () => {
      const r = await runCommand(Render, ['-c', ex('config.toml'), '--ci-file', ex('.gitlab-ci.yml'), '--job', job])
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      const pod = parseAllDocuments(r.stdout)
        .map((d) => d.toJS() as { kind?: string; spec?: { containers: Array<{ name: string }> } })
        .find((o) => o?.kind === 'Pod')
      expect(pod?.spec?.containers.map((c) => c.name)).toEqual(containers)
    })
  }
})
