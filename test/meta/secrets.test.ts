import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Command } from '@oclif/core'
import { runCli } from '../helpers/cli.js'
import { runCommand } from '../helpers/run-command.js'
import { commands } from '../../src/index.js'
import { start, type Sim } from '../../src/sim/index.js'

const TOKEN = 'glrt-CANARYrunnerTOKEN0000'
const BEARER = 'CANARY-bearer-token-1111'
const SENTRY = 'https://CANARYsentry2222@sentry.example.com/1'
const AUTH_B64 = Buffer.from(`u:${BEARER}`).toString('base64')
/** Values the runner masks whatever their variable is called: a `masked: true` CI variable, GitLab token shapes. */
const MASKED_VALUE = 'CANARYmaskedCI3333'
const PAT = 'glpat-CANARYpat44444444444'
const ENV_TOKEN = 'glpat-CANARYenv55555555555'
const SECRETS = [TOKEN, BEARER, 'CANARYsentry', AUTH_B64, MASKED_VALUE, 'CANARYpat', 'CANARYenv']

/** The command class for argv[0] (topics joined with ':'), run in this process with the rest of argv. */
function run(argv: string[], env?: Record<string, string>): ReturnType<typeof runCommand> {
  const id = argv[0] === 'sim' || argv[0] === 'catalog' ? `${argv[0]}:${argv[1]}` : argv[0]!
  const cmd = commands[id] as typeof Command | undefined
  if (!cmd) throw new Error(`no command ${id}`)
  return runCommand(cmd, argv.slice(id.includes(':') ? 2 : 1), env ? { env } : {})
}

function expectNoSecret(r: { stdout: string; stderr: string; code: number | null }): void {
  for (const secret of SECRETS) {
    expect(r.stdout).not.toContain(secret)
    expect(r.stderr).not.toContain(secret)
  }
  expect(r.code).not.toBe(70)
}

/** Every way a secret could leak: each command with the canary config, in every output format. */
describe('secrets never appear in output', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-canary-'))
  const cfg = path.join(dir, 'config.toml')
  writeFileSync(cfg, `sentry_dsn = "${SENTRY}"\n[[runners]]\n  name = "canary"\n  url = "https://gitlab.example.com"\n  token = "${TOKEN}"\n  executor = "kubernetes"\n  [runners.kubernetes]\n    bearer_token = "${BEARER}"\n    bearer_token_overwrite_allowed = "yes"\n    namespace = 7\n`)
  const values = path.join(dir, 'values.yaml')
  writeFileSync(values, `runnerToken: "${TOKEN}"\nrunners:\n  config: |\n    [[runners]]\n      token = "${TOKEN}"\n      executor = "kubernetes"\n      [runners.kubernetes]\n        bearer_token = "${BEARER}"\n`)
  const dockerAuth = `DOCKER_AUTH_CONFIG={"auths":{"r.example.com":{"auth":"${AUTH_B64}","password":"${BEARER}"}}}`

  const runs: Array<[string, string[]]> = [
    ['doctor text', ['doctor', '--offline', '-c', cfg, '--verbose']],
    ['doctor json', ['doctor', '--offline', '-c', cfg, '--json']],
    ['doctor helm json', ['doctor', '--offline', '-c', values, '--json']],
    ['render yaml', ['render', '-c', values, '--var', dockerAuth]],
    ['render json', ['render', '-c', values, '--json', '--var', `REGISTRY_PASSWORD=${BEARER}`]],
    ['rbac json', ['rbac', '-c', cfg, '--json']],
  ]

  it.each(runs)('%s', async (_name, args) => {
    expectNoSecret(await run(args))
  })

  it('doctor --debug (spawned: the stack trace path of a real process)', () => {
    expectNoSecret(runCli(['doctor', '--offline', '-c', cfg, '--debug']))
  })

  it('doctor junit and sarif files', async () => {
    const r = await run(['doctor', '--offline', '-c', cfg, '--junit', path.join(dir, 'r.xml'), '--sarif', path.join(dir, 'r.sarif')])
    expect(r.code).toBe(1)
    for (const f of ['r.xml', 'r.sarif']) {
      const text = readFileSync(path.join(dir, f), 'utf8')
      expect(text.length).toBeGreaterThan(100)
      expect(text).not.toContain(TOKEN)
      expect(text).not.toContain(BEARER)
    }
  })

  it('doctor junit and sarif files mask token-shaped values and masked CI variables (the files are uploaded as artifacts)', async () => {
    // Token-shaped values where doctor quotes them back (an unparsable quantity, an image), and a CI file
    // with a masked variable and a token in an unremarkable name.
    const tokenCfg = path.join(dir, 'token-config.toml')
    writeFileSync(tokenCfg, `[[runners]]\n  name = "canary"\n  url = "https://gitlab.example.com"\n  token = "${TOKEN}"\n  executor = "kubernetes"\n  [runners.kubernetes]\n    image = "r.example.com/${PAT}:1"\n    cpu_request = "${PAT}"\n    memory_limit = "${ENV_TOKEN}"\n`)
    const ciFile = path.join(dir, 'junit-ci.yml')
    writeFileSync(ciFile, `variables:\n  APP_SETTING:\n    value: "${MASKED_VALUE}"\n    masked: true\ntest:\n  image: r.example.com/app:1\n  variables:\n    DEPLOY_HINT: "${PAT}"\n  script: [ "echo ${MASKED_VALUE}" ]\n`)
    const r = await run(['doctor', '--offline', '-c', tokenCfg, '--ci-file', ciFile, '--junit', path.join(dir, 't.xml'), '--sarif', path.join(dir, 't.sarif')])
    expect(r.code).toBe(1)
    expectNoSecret(r)
    for (const f of ['t.xml', 't.sarif']) {
      const text = readFileSync(path.join(dir, f), 'utf8')
      // The finding that quotes the value is there, with the value masked after its prefix.
      expect(text).toContain('glpat-[MASKED]')
      for (const secret of SECRETS) expect(text).not.toContain(secret)
    }
  })

  describe('against a cluster (the simulator)', () => {
    let sim: Sim
    let simCfg: string
    const ci = path.join(dir, '.gitlab-ci.yml')
    beforeAll(async () => {
      sim = await start('healthy')
      // The scenario's own config with the canary as runner token, and a registry credential from the job.
      simCfg = path.join(dir, 'sim-config.toml')
      writeFileSync(simCfg, readFileSync(sim.runnerConfig, 'utf8').replace(/token = "[^"]*"/, `token = "${TOKEN}"\n  environment = ["X=${ENV_TOKEN}"]`))
      // A masked variable and a token in an unremarkable name; the script prints both, as a job would.
      writeFileSync(ci, `variables:\n  APP_SETTING:\n    value: "${MASKED_VALUE}"\n    masked: true\ntest:\n  image: r.example.com/app:1\n  variables:\n    REGISTRY_PASSWORD: "${BEARER}"\n    DEPLOY_HINT: "${PAT}"\n  script: [ "echo ${MASKED_VALUE} ${PAT} ${ENV_TOKEN}" ]\n`)
    })
    afterAll(() => sim.stop())

    it.each([
      ['run-job dry-run yaml', ['run-job', 'test', '--ci-file', ci, '--var', dockerAuth]],
      ['run-job dry-run json', ['run-job', 'test', '--ci-file', ci, '--output', 'json', '--var', dockerAuth]],
      ['run-job --json envelope', ['run-job', 'test', '--ci-file', ci, '--json', '--var', dockerAuth]],
      ['run-job live log', ['run-job', 'test', '--ci-file', ci, '--live', '--var', dockerAuth]],
      ['run-job live --json', ['run-job', 'test', '--ci-file', ci, '--live', '--json']],
      ['render yaml of the job', ['render', '--ci-file', ci, '--job', 'test']],
      ['render json of the job', ['render', '--ci-file', ci, '--job', 'test', '--json']],
      ['doctor against the cluster, json', ['doctor', '--json']],
      ['doctor offline with the CI file, json', ['doctor', '--offline', '--ci-file', ci, '--json']],
    ])('%s', async (_name, args) => {
      const r = await run([...args, '-c', simCfg, ...(args[0] === 'render' || args.includes('--offline') ? [] : ['--kubeconfig', sim.kubeconfig])])
      if (args.includes('--offline')) {
        expect(r.stdout).toMatch(/"id": "config-[a-z-]+",[\s\S]*?"status": "pass"/)
      } else if (args[0] === 'render') {
        expect(r.code).toBe(0)
        // Masked as the runner masks the job log: the value whole, a token after its prefix.
        expect(r.stdout).toContain('[MASKED]')
        expect(r.stdout).toContain('glpat-[MASKED]')
      } else if (args.includes('--live')) {
        expect(r.code).toBe(0)
        if (!args.includes('--json')) expect(r.stdout).toContain(`echo [MASKED] glpat-[MASKED] glpat-[MASKED]`)
      } else if (args[0] === 'run-job') {
        // The job's objects were rendered and submitted, the registry credential redacted in them.
        expect(r.code).toBe(0)
        expect(r.stdout).toContain('[REDACTED]')
      } else {
        // The canary was sent to the simulated GitLab, which does not know it: the token check failed.
        expect(r.code).toBe(1)
        expect(r.stdout).toMatch(/"id": "gitlab-token-valid",[\s\S]*?"status": "fail"/)
      }
      expectNoSecret(r)
    })
  })
})
