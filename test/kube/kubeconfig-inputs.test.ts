import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveCluster } from '../../src/kube/connect.js'
import { GkrError } from '../../src/util/errors.js'

const dir = mkdtempSync(path.join(os.tmpdir(), 'gkr-kubeconfig-'))
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
const b64 = (s: string) => Buffer.from(s).toString('base64')

/** A kubeconfig for a loopback server nobody listens on; nothing here connects. */
function kubeconfig(name: string, cluster: string, user: string): string {
  const file = path.join(dir, name)
  writeFileSync(file, `apiVersion: v1
kind: Config
current-context: c
contexts:
- name: c
  context: {cluster: k, user: u}
clusters:
- name: k
  cluster:
    server: https://127.0.0.1:9
${cluster}users:
- name: u
  user:
${user}`)
  return file
}

async function failure(file: string): Promise<GkrError> {
  const err = await resolveCluster({ kubeconfig: file, env: {} }).then(() => undefined, (e: unknown) => e)
  if (!(err instanceof GkrError)) throw new Error(`expected a GkrError, got ${String(err)}`)
  return err
}

describe('kubeconfig values of the wrong type', () => {
  it.each([
    ['certificate-authority-data is a map', '    certificate-authority-data: {a: 1}\n', '    token: t\n', 'clusters[0].cluster.certificate-authority-data must be a string, not a mapping', 11],
    ['token is a boolean', '', '    token: true\n', 'users[0].user.token must be a string, not a boolean', 14],
    ['client-key-data is a number', '', '    client-key-data: 12\n', 'users[0].user.client-key-data must be a string, not a number', 14],
    ['client-certificate-data is a list', '', '    client-certificate-data: [a]\n', 'users[0].user.client-certificate-data must be a string, not a list', 14],
    ['server is a number', '', '    token: t\n', undefined, 0],
  ])('%s: a usage error naming the key and its line, not a TypeError', async (_name, cluster, user, message, line) => {
    const text = message === undefined ? cluster : cluster
    const file = message === undefined
      ? (() => {
          const f = path.join(dir, 'server.yaml')
          writeFileSync(f, 'current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\nclusters: [{name: k, cluster: {server: 9}}]\nusers: [{name: u, user: {token: t}}]\n')
          return f
        })()
      : kubeconfig(`${_name.replace(/\W+/g, '-')}.yaml`, text, user)
    const err = await failure(file)
    expect(err.exit).toBe(2)
    if (message) {
      expect(err.message).toBe(message)
      expect(err.at).toMatchObject({ file, line, column: expect.any(Number) })
    } else {
      expect(err.message).toMatch(/clusters\[0\]\.cluster\.server must be a string, not a number/)
    }
  })
})

describe('kubeconfig certificate, key and CA files', () => {
  it('a missing client-key file names the key and the file', async () => {
    const file = kubeconfig('missing-key.yaml', '', `    client-certificate-data: ${b64(PEM)}\n    client-key: /nonexistent/key.pem\n`)
    const err = await failure(file)
    expect([err.exit, err.code]).toEqual([2, 'kubeconfig-credential-invalid'])
    expect(err.message).toBe('users[0].user.client-key: /nonexistent/key.pem does not exist')
    expect(err.at).toMatchObject({ file, line: 15 })
  })

  it('a CA file that holds no PEM, and CA data that is not PEM, are named', async () => {
    const notPem = path.join(dir, 'ca.txt')
    writeFileSync(notPem, 'hello')
    const err = await failure(kubeconfig('ca-not-pem.yaml', `    certificate-authority: ${notPem}\n`, '    token: t\n'))
    expect(err.message).toBe(`clusters[0].cluster.certificate-authority: ${notPem} holds no PEM block (-----BEGIN …)`)
    const data = await failure(kubeconfig('ca-data-not-pem.yaml', `    certificate-authority-data: ${b64('hello')}\n`, '    token: t\n'))
    expect(data.message).toBe('clusters[0].cluster.certificate-authority-data: is not base64-encoded PEM data')
  })

  it('relative file names are read from the kubeconfig\'s directory (as kubectl does), and good files load', async () => {
    const sub = mkdtempSync(path.join(dir, 'rel-'))
    writeFileSync(path.join(sub, 'ca.pem'), PEM)
    const file = path.join(sub, 'config')
    writeFileSync(file, 'current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\nclusters: [{name: k, cluster: {server: "https://127.0.0.1:9", certificate-authority: ca.pem}}]\nusers: [{name: u, user: {token: t}}]\n')
    const t = await resolveCluster({ kubeconfig: file, env: {} })
    expect(t?.kc.getCurrentCluster()?.caFile).toBe(path.join(sub, 'ca.pem'))
  })

  it('a circular alias in a kubeconfig names file:line:column', async () => {
    const file = path.join(dir, 'alias.yaml')
    writeFileSync(file, 'current-context: c\nclusters: &x [*x]\n')
    const err = await failure(file)
    expect(err.at).toMatchObject({ file, line: 2, column: 15 })
  })
})
