import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'

const TOKEN = 'glrt-CANARYrunnerTOKEN0000'
const BEARER = 'CANARY-bearer-token-1111'
const SENTRY = 'https://CANARYsentry2222@sentry.example.com/1'

/** Every way a secret could leak: each command with the canary config, in every output format. */
describe('secrets never appear in output', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-canary-'))
  const cfg = path.join(dir, 'config.toml')
  writeFileSync(cfg, `sentry_dsn = "${SENTRY}"\n[[runners]]\n  name = "canary"\n  url = "https://gitlab.example.com"\n  token = "${TOKEN}"\n  executor = "kubernetes"\n  [runners.kubernetes]\n    bearer_token = "${BEARER}"\n    bearer_token_overwrite_allowed = "yes"\n    namespace = 7\n`)
  const values = path.join(dir, 'values.yaml')
  writeFileSync(values, `runnerToken: "${TOKEN}"\nrunners:\n  config: |\n    [[runners]]\n      token = "${TOKEN}"\n      executor = "kubernetes"\n      [runners.kubernetes]\n        bearer_token = "${BEARER}"\n`)

  const runs: Array<[string, string[]]> = [
    ['doctor text', ['doctor', '--offline', '-c', cfg, '--verbose']],
    ['doctor json', ['doctor', '--offline', '-c', cfg, '--json']],
    ['doctor helm json', ['doctor', '--offline', '-c', values, '--json']],
    ['doctor debug', ['doctor', '--offline', '-c', cfg, '--debug']],
    ['render yaml', ['render', '-c', values, '--var', `DOCKER_AUTH_CONFIG={"auths":{"r.example.com":{"auth":"${Buffer.from(`u:${BEARER}`).toString('base64')}","password":"${BEARER}"}}}`]],
    ['render json', ['render', '-c', values, '--json', '--var', `REGISTRY_PASSWORD=${BEARER}`]],
    ['rbac json', ['rbac', '-c', cfg, '--json']],
  ]

  it.each(runs)('%s', (_name, args) => {
    const r = runCli(args)
    for (const secret of [TOKEN, BEARER, 'CANARYsentry', Buffer.from(`u:${BEARER}`).toString('base64')]) {
      expect(r.stdout).not.toContain(secret)
      expect(r.stderr).not.toContain(secret)
    }
    expect(r.code).not.toBe(70)
  })

  it('doctor junit and sarif files', () => {
    const r = runCli(['doctor', '--offline', '-c', cfg, '--junit', path.join(dir, 'r.xml'), '--sarif', path.join(dir, 'r.sarif')])
    expect(r.code).toBe(1)
    for (const f of ['r.xml', 'r.sarif']) {
      const text = readFileSync(path.join(dir, f), 'utf8')
      expect(text.length).toBeGreaterThan(100)
      expect(text).not.toContain(TOKEN)
      expect(text).not.toContain(BEARER)
    }
  })
})
