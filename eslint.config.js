// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '**/coverage/**', '**/public/vendor/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
      // prettier wraps code at 160; what it cannot wrap (long strings, template literals) may go past
      'max-len': ['error', { code: 160, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true }],
    },
  },
  {
    // pages served to the browser
    files: ['agents/*/public/**/*.js', 'test/fixtures/router-site/*.js'],
    languageOptions: { globals: globals.browser, sourceType: 'script' },
  },
  {
    // page scripts bundled with their browser libraries at build time (build/bundle-page.mjs)
    files: ['agents/*/page/**/*.js', 'shared/page/**/*.js'],
    languageOptions: { globals: globals.browser, sourceType: 'module' },
  },
  {
    // the command-line tools print their tables
    files: ['tools/pod/**', 'tools/bench/**', 'tools/container-pod/main.ts', 'tools/deploy/write-files.ts'],
    rules: { 'no-console': 'off' },
  },
);
