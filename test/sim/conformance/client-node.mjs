// The conformance steps driven by @kubernetes/client-node 2.x on Node 22, unmodified.
// Usage: node client-node.mjs PREFIX KUBECONFIG NAMESPACE, where PREFIX is the npm prefix client-node
// was installed into (.ci/run installs it; it is not one of gkr's dependencies). Prints one JSON list
// of [step, result] pairs, in the shape every client's driver prints (see conformance.test.ts).
import { Buffer } from 'node:buffer'
import { readFileSync } from 'node:fs'
import process from 'node:process'
import { setTimeout } from 'node:timers'
import path from 'node:path'
import { Writable } from 'node:stream'
import { pathToFileURL } from 'node:url'

const [prefix, kubeconfig, ns] = process.argv.slice(2)
const pkgDir = path.join(prefix, 'node_modules', '@kubernetes', 'client-node')
const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'))
const k8s = await import(pathToFileURL(path.join(pkgDir, pkg.main)).href)
const kc = new k8s.KubeConfig()
kc.loadFromFile(kubeconfig)
const core = kc.makeApiClient(k8s.CoreV1Api)
const authz = kc.makeApiClient(k8s.AuthorizationV1Api)
const out = []
const record = (step, result) => out.push([step, result])
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const failure = async (fn) => {
  try {
    await fn()
    return 'no error'
  } catch (e) {
    const body = JSON.parse(e.body)
    return `${e.code} ${body.reason ?? ''} ${body.message ?? ''}`
  }
}
const cmText = (cm) => `${cm.metadata.name} ${Object.entries(cm.data ?? {}).sort().map(([k, v]) => `${k}=${v}`).join(',')}`
const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)
const sink = () => {
  const s = new Writable({ write: (c, _e, cb) => { s.text += c.toString(); cb() } })
  s.text = ''
  return s
}

record('configmap create', cmText(await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c1', labels: { app: 'conf' } }, data: { a: '1' } } })))
record('configmap get', cmText(await core.readNamespacedConfigMap({ name: 'c1', namespace: ns })))
record('configmap list by label', (await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'app=conf' })).items.map((i) => i.metadata.name).join(','))
record('configmap patch', cmText(await core.patchNamespacedConfigMap({ name: 'c1', namespace: ns, body: { data: { a: '2' } } }, merge)))
record('get missing', await failure(() => core.readNamespacedConfigMap({ name: 'nope', namespace: ns })))
record('create duplicate', await failure(() => core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c1' } } })))
record('create invalid', await failure(() => core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'Bad_Name' } } })))

await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 's1' }, data: { token: Buffer.from('secret').toString('base64') } } })
const s = await core.readNamespacedSecret({ name: 's1', namespace: ns })
record('secret get', `${s.metadata.name} ${s.type} token=${Buffer.from(s.data.token, 'base64').toString()}`)
await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'svc1' }, spec: { selector: { app: 'conf' }, ports: [{ port: 80 }] } } })
const svc = await core.readNamespacedService({ name: 'svc1', namespace: ns })
record('service get', `${svc.metadata.name} ${svc.spec.ports[0].port}`)
await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'sa1' } } })
record('serviceaccount get', (await core.readNamespacedServiceAccount({ name: 'sa1', namespace: ns })).metadata.name)

const review = await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace: ns, verb: 'create', resource: 'pods', subresource: 'exec' } } } })
record('access review', `allowed=${review.status.allowed}`)

const rv = (await core.listNamespacedConfigMap({ namespace: ns })).metadata.resourceVersion
const events = []
let sawDelete
const deleted = new Promise((r) => (sawDelete = r))
const req = await new k8s.Watch(kc).watch(`/api/v1/namespaces/${ns}/configmaps`, { fieldSelector: 'metadata.name=w1', resourceVersion: rv }, (type, obj) => {
  events.push(`${type} ${obj.metadata.name}`)
  if (type === 'DELETED') sawDelete()
}, () => undefined)
await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'w1' } } })
await core.patchNamespacedConfigMap({ name: 'w1', namespace: ns, body: { data: { x: 'y' } } }, merge)
await core.deleteNamespacedConfigMap({ name: 'w1', namespace: ns })
await deleted
req.abort()
record('watch', events.join(', '))

await core.createNamespacedPod({
  namespace: ns,
  body: {
    metadata: { name: 'p1' },
    spec: {
      restartPolicy: 'Never', terminationGracePeriodSeconds: 5,
      containers: [{ name: 'main', image: 'alpine:3.20', command: ['sh', '-c', "trap 'exit 0' TERM; echo hello; while true; do sleep 0.05; done"], resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
    },
  },
})
while ((await core.readNamespacedPod({ name: 'p1', namespace: ns })).status?.phase !== 'Running') await sleep(50)
record('pod running', 'Running')
while ((await core.readNamespacedPodLog({ name: 'p1', namespace: ns })) === '') await sleep(50)
record('pod log', await core.readNamespacedPodLog({ name: 'p1', namespace: ns }))
const stdout = sink()
const status = await new Promise((resolve, reject) => void new k8s.Exec(kc).exec(ns, 'p1', 'main', ['sh', '-c', 'echo out; exit 3'], stdout, sink(), null, false, resolve).catch(reject))
while (stdout.text === '') await sleep(20)
record('pod exec', `${stdout.text.trim()} exit=${status.details?.causes?.[0]?.message ?? 0}`)
const gone = await core.deleteNamespacedPod({ name: 'p1', namespace: ns })
record('pod delete', `deletionGracePeriodSeconds=${gone.metadata.deletionGracePeriodSeconds} deletionTimestamp=${gone.metadata.deletionTimestamp !== undefined}`)
for (;;) {
  try {
    await core.readNamespacedPod({ name: 'p1', namespace: ns })
    await sleep(50)
  } catch (e) {
    record('pod gone', String(e.code))
    break
  }
}

await core.deleteNamespacedConfigMap({ name: 'c1', namespace: ns })
await core.deleteNamespacedSecret({ name: 's1', namespace: ns })
await core.deleteNamespacedService({ name: 'svc1', namespace: ns })
await core.deleteNamespacedServiceAccount({ name: 'sa1', namespace: ns })
record('cleanup', await failure(() => core.readNamespacedConfigMap({ name: 'c1', namespace: ns })))

process.stdout.write(JSON.stringify(out) + '\n')
