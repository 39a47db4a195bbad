// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Workflow code runs in Temporal's deterministic sandbox: it may import only @temporalio/workflow,
 * @temporalio/common, pure libraries and other workflow-safe modules, plus *types* from elsewhere.
 */
const workflowForbiddenImports = {
  paths: [
    ...builtinModules.map((name) => ({ name, message: 'Node built-ins are not available in workflow code (determinism).' })),
    ...builtinModules.map((name) => ({ name: `node:${name}`, message: 'Node built-ins are not available in workflow code (determinism).' })),
  ],
  patterns: [
    {
      group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'],
      message: 'Workflow code may import only @temporalio/workflow and @temporalio/common from the SDK.',
    },
    {
      group: ['fastify', 'fastify/*', '@fastify/*', 'pino', 'pino-*', 'undici', 'axios', 'node-fetch'],
      message: 'I/O libraries do not belong in workflow code: call an activity instead.',
    },
    {
      group: ['**/activities', '**/activities/*', '**/api', '**/api/*', '**/heygen/client*', '**/simulator', '**/simulator/*', '**/config', '**/logging', '**/temporal/*', '**/worker'],
      allowTypeImports: true,
      message: 'Workflow code may import only types from non-workflow modules (e.g. `import type * as activities`).',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', '.tools/', '.data/', 'test/fixtures/histories/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: { allowDefaultProject: ['*.mjs', '*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Forgetting to await an activity, a signal or a close is the classic Temporal bug.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['**/*.cjs', 'bin/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { sourceType: 'commonjs', parserOptions: { projectService: false } },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The review pages' script runs in the browser, as it is (no build).
    files: ['src/api/review-page/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { sourceType: 'module', globals: { ...globals.browser }, parserOptions: { projectService: false } },
  },
  {
    files: ['src/workflows/**/*.ts', 'test/fixtures/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', workflowForbiddenImports],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No process in workflow code (determinism).' },
        { name: 'setTimeout', message: 'Use sleep() or condition() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() in a loop from @temporalio/workflow.' },
        { name: 'fetch', message: 'No I/O in workflow code: call an activity.' },
      ],
    },
  },
);
