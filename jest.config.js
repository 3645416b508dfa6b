/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // Servers and workers start per file; two cores run two files at a time.
  setupFiles: ['<rootDir>/test/setup-runtime.ts'],
  maxWorkers: 2,
  testTimeout: 60_000,
};
