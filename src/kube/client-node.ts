/**
 * The Kubernetes client library as gkr loads it (through `loadK8s` in client.ts only). In the source
 * tree, and so in the tests, this is the package itself. The build (`npm run build`,
 * scripts/bundle-client.mjs) replaces this module's output, dist/kube/client-node.js, with the package
 * and its dependencies bundled into one file: Node then reads and links one module instead of about
 * 1,400, which took the import from about 0.9 s to 0.3 s on these machines (bench/startup.bench.ts,
 * "import the client as gkr does").
 */
export * from '@kubernetes/client-node'
