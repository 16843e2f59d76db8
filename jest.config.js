/** Unit tests sit beside the code; suites that need the whole app, MariaDB or Redis live in test/. */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true, diagnostics: false }] };
module.exports = {
  testEnvironment: 'node',
  testTimeout: 30000,
  projects: [
    { displayName: 'unit', testEnvironment: 'node', transform, testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/adapters/**/*.test.ts'] },
    { displayName: 'app', testEnvironment: 'node', transform, testMatch: ['<rootDir>/test/**/*.test.ts'], setupFiles: ['<rootDir>/test/utils/setup.ts'] },
  ],
};
