// Lint rules: typescript-eslint's type-checked set over the code that ships; the plain recommended set over tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const globals = { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly' };
const unused = ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test/.cache/', 'examples/demo/backups/', '**/.rearguard/'] },
  js.configs.recommended,
  {
    files: ['src/**/*.ts', 'checks/**/*.ts', 'sources/**/*.ts', 'actions/**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname }, globals },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': unused,
      // Contracts (a check's run, an action, an Exec) are async; an implementation that needs no I/O is still one.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests read JSON reports whose shape they assert; `any` there is the report under test, not a hole in the code.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    extends: [...tseslint.configs.recommended],
    languageOptions: { globals },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': unused,
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals },
  },
);
