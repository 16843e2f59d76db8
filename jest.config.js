/** Unit tests sit beside the code; suites that need the whole app, MariaDB or Redis live in test/. */
// openid-client and its dependencies ship ESM only. Node runs them through require(esm); jest's
// CommonJS module system cannot, so ts-jest transpiles exactly those packages to CommonJS.
const esmOnly = ['openid-client', 'oauth4webapi', 'jose'];
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true, diagnostics: false }],
  [`node_modules/(${esmOnly.join('|')})/.+\\.js$`]: [
    'ts-jest',
    { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022', esModuleInterop: true }, isolatedModules: true, diagnostics: false },
  ],
};
const transformIgnorePatterns = [`/node_modules/(?!(${esmOnly.join('|')})/)`];
module.exports = {
  testEnvironment: 'node',
  testTimeout: 30000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/adapters/**/*.test.ts'],
    },
    {
      displayName: 'app',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/utils/setup.ts'],
    },
  ],
};
