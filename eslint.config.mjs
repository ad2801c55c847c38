// ESLint for the TypeScript of src/, bench/, demo/ and test/ (npm run lint). Formatting is
// Prettier's (.prettierrc.json); eslint-config-prettier turns off the rules it owns.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build*/', 'node_modules/', 'prebuilds/', 'mutation-results/', '.stryker-tmp/', 'scratch/', 'native/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Optional peers and the addon are loaded with require() on purpose (a missing one is a
      // message, not a failed import), and the package's scripts are CommonJS.
      '@typescript-eslint/no-require-imports': 'off',
      // `_name` marks a value destructured away on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // `{}` is the empty options type of the ops' generics (`<O extends LossOptions = {}>`).
      '@typescript-eslint/no-empty-object-type': 'off',
    },
  },
  {
    // The package's JavaScript: the CLI, install and maintenance scripts, runnable examples (Node).
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  { files: ['**/*.js', '**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
  prettier,
);
