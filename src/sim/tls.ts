import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

export interface Certs {
  caPem: string
  certPem: string
  keyPem: string
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const

/**
 * What the serving certificate looks like; the defaults make a good one. Tests ask for a broken one:
 * expired (`notAfter` in the past), not yet valid (`notBefore` in the future), or for other names.
 */
export interface CertOptions {
  notBefore?: Date
  notAfter?: Date
  /** Subject alternative names (default: IP 127.0.0.1 and DNS localhost). */
  ips?: string[]
  dns?: string[]
}

/** A throwaway CA and a serving certificate for 127.0.0.1 / localhost (ECDSA P-256: milliseconds). */
export async function makeCerts(opts: CertOptions = {}): Promise<Certs> {
  const now = Date.now()
  const caKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=gkr-sim-ca',
    // The CA stays valid around a leaf dated in the past or the future, so only the leaf is at fault.
    notBefore: new Date(Math.min(now, opts.notBefore?.getTime() ?? now, opts.notAfter?.getTime() ?? now) - 864e5),
    notAfter: new Date(Math.max(now, opts.notBefore?.getTime() ?? now) + 7 * 864e5),
    keys: caKeys as webcrypto.CryptoKeyPair,
    signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  })
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=gkr-sim-apiserver',
    issuer: ca.subject,
    notBefore: opts.notBefore ?? new Date(now - 60_000),
    notAfter: opts.notAfter ?? new Date(now + 7 * 864e5),
    publicKey: (keys as webcrypto.CryptoKeyPair).publicKey,
    signingKey: (caKeys as webcrypto.CryptoKeyPair).privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...(opts.ips ?? ['127.0.0.1']).map((value) => ({ type: 'ip' as const, value })), ...(opts.dns ?? ['localhost']).map((value) => ({ type: 'dns' as const, value }))]),
    ],
  })
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', (keys as webcrypto.CryptoKeyPair).privateKey)
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8).toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`
  return { caPem: ca.toString('pem'), certPem: cert.toString('pem'), keyPem }
}
