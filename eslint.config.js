import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettierRecommended from 'eslint-plugin-prettier/recommended';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'oclif.manifest.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Prettier's layout (.prettierrc.json, 120 columns) is checked by lint; `npx prettier --write .` applies it.
  prettierRecommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        Buffer: 'readonly',
        performance: 'readonly',
        structuredClone: 'readonly',
        Response: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
      },
    },
    rules: {
      // Prettier wraps code but not strings, templates, regexes or comments; this catches those too.
      'max-len': ['error', { code: 120 }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@oclif/*'],
              message: 'Only src/commands and src/cli may use oclif: the core knows nothing of it.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/commands/**', 'src/cli/**', 'src/cli.ts', 'src/commands.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Commands stay thin: no child processes or Kubernetes calls of their own.
    files: ['src/commands/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['execa', '@kubernetes/client-node'].map((name) => ({
            name,
            message: 'Commands call the core; the core talks to tools and Kubernetes.',
          })),
        },
      ],
    },
  },
);
