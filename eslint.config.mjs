// Flat ESLint config for the TypeScript workspaces (server, labextension, ui-tests).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/lib/**',
      '**/dist/**',
      '**/lab-dist/**',
      '**/node_modules/**',
      '.venv/**',
      '**/coverage/**',
      // Written by server/scripts/generate-api.mjs from the REST contract.
      'common/src/api.ts'
    ]
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // JupyterLab's idiom: `CommandIDs`, `Foo.IOptions` live in namespaces.
      '@typescript-eslint/no-namespace': 'off'
    }
  },
  {
    files: ['**/*.{js,cjs}'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
        fetch: 'readonly',
        performance: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly'
      }
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' }
  }
);
