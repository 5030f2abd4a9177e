import { defineCheck, type FindingInput } from '../types.js'
import { atKube, k8s, str } from './util.js'

export default defineCheck({
  id: 'config-kube-auth',
  area: 'config',
  title: 'The API server connection settings are complete',
  description: 'cert_file needs key_file and ca_file as well (otherwise the runner fails with "ca file, cert file and key file must be specified when using file based auth"), and bearer_token is only used together with host.',
  severity: 'fail',
  needs: [],
  catalog: ['connection-refused-when-attempting-to-communicate-with-the-kubernetes-api'],
  run: (ctx) => {
    const kc = k8s(ctx)
    const out: FindingInput[] = []
    const files = ['cert_file', 'key_file', 'ca_file'].filter((k) => str(kc[k]))
    if (str(kc.cert_file) && files.length < 3) {
      out.push({ message: `cert_file is set without ${['key_file', 'ca_file'].filter((k) => !files.includes(k)).join(' and ')}: jobs fail with "ca file, cert file and key file must be specified when using file based auth"`, at: atKube(ctx, 'cert_file'), fix: { text: 'Set all three, or none to use the kubeconfig or in-cluster configuration.' } })
    }
    if (str(kc.bearer_token) && !str(kc.host)) {
      out.push({ severity: 'warn', message: 'bearer_token is set without host: the runner only uses the token together with host', at: atKube(ctx, 'bearer_token'), fix: { text: 'Set host to the API server URL, or remove bearer_token.' } })
    }
    return out
  },
})
