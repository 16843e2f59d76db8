// Lint as part of the build (graphql-ws and Medplum do the same): typescript-eslint's type-checked
// rules, prettier for layout, and the layering of STYLE.md as import rules.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const layering = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'data/**',
      'coverage/**',
      'test/artifacts/**',
      'test/utils/oidc-provider.mjs',
      'eslint.config.mjs',
      'jest.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // A walkable function fits on a screen or two; longer ones are flagged, not refused.
      'max-lines-per-function': ['warn', { max: 120, skipBlankLines: true, skipComments: true }],
      // type-graphql resolvers and adapter methods are async to keep one shape even when a branch has nothing to await.
      '@typescript-eslint/require-await': 'off',
      // A rejection passes on what was thrown, whatever it is (the callers narrow it).
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    files: ['adapters/**/*.ts'],
    ignores: ['adapters/loader.ts'],
    // Adapters know their upstream and the port, nothing of the gateway.
    rules: layering([{ group: ['**/src/**', '../src/*', '../../src/*'], message: 'Adapters import only adapters/ports.ts (and their own folder).' }]),
  },
  {
    files: ['src/graphql/**/*.ts', 'src/auth/**/*.ts', 'src/live/**/*.ts', 'src/http/**/*.ts'],
    // The framework layers never reach into a domain module at run time (types are allowed).
    rules: layering([
      { group: ['**/modules/**'], allowTypeImports: true, message: 'src/graphql, src/auth, src/live and src/http do not import src/modules (types only).' },
      { group: ['**/adapters/*', '!**/adapters/ports'], allowTypeImports: true, message: 'Only the composition root (src/server.ts) imports adapters.' },
    ]),
  },
  {
    files: ['src/modules/**/*.ts', 'src/events/**/*.ts', 'src/audit/**/*.ts', 'src/kv/**/*.ts', 'src/db/**/*.ts', 'src/observability/**/*.ts'],
    rules: layering([
      {
        group: ['**/adapters/*', '!**/adapters/ports'],
        allowTypeImports: true,
        message: 'Modules know the port, never a concrete adapter; only src/server.ts picks adapters.',
      },
    ]),
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    // Tests and the bench probe with loose JSON and helpers on purpose.
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      'max-lines-per-function': 'off',
    },
  },
  {
    files: ['bench/fanout-server.ts', 'test/utils/s3-server.ts'],
    // These load a module by a path known only at run time (another build; a package without types).
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The reference portal page: plain browser JavaScript, no types to check against.
    files: ['examples/portal-web/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'module',
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'fetch', 'FormData', 'URLSearchParams', 'Intl', 'Node', 'console', 'WebSocket'].map((name) => [name, 'readonly']),
      ),
    },
  },
);
