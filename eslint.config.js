// Lint rules keep the architecture's boundaries (see HOUSE_STYLE.md):
// console/process output only in bin/ and src/cli/; chalk only in src/render/ and src/cli/;
// runtime imports of the Kubernetes client only in src/kube/, src/runjob/ and src/sim/;
// product code never imports the simulator.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const noKubeRuntime = {
  paths: [{ name: '@kubernetes/client-node', message: 'Runtime use of the Kubernetes client belongs in src/kube, src/runjob or src/sim; use `import type` elsewhere.', allowTypeImports: true }],
}
const noChalk = { name: 'chalk', message: 'Colour belongs in src/render and src/cli.' }
const simPattern = { group: ['./sim/*', '../sim/*', '../../sim/*', '../../../sim/*'], message: 'Product code never imports the simulator.' }

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'docs/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', 'src/commands/**'],
    rules: {
      'no-console': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'exit', message: 'Only src/cli and bin/ may exit the process.' },
        { object: 'process', property: 'stdout', message: 'Write to an injected Sink instead.' },
        { object: 'process', property: 'stderr', message: 'Write to an injected Sink instead.' },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/kube/**', 'src/runjob/**', 'src/sim/**', 'src/render/**', 'src/cli/**', 'src/commands/sim/**'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { ...noKubeRuntime, paths: [...noKubeRuntime.paths, noChalk], patterns: [simPattern] }] },
  },
  {
    files: ['src/kube/**/*.ts', 'src/runjob/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: [noChalk], patterns: [simPattern] }] },
  },
  {
    files: ['src/render/**/*.ts', 'src/cli/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { ...noKubeRuntime, patterns: [simPattern] }] },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
)
