const ESM_ONLY_PACKAGES = ['typebox', 'content-disposition', 'cookie', 'set-cookie-parser'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
    // Packages that ship ES modules only (typebox 1.x; content-disposition, cookie and set-cookie-parser under Fastify's plugins and inject).
    // Node 20 requires them natively; Jest needs them compiled to CommonJS.
    [`^.+/node_modules/(${ESM_ONLY_PACKAGES.join('|')})/.+\\.m?js$`]: ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY_PACKAGES.join('|')})/)`],
  // Servers and workers start per file; two cores run two files at a time.
  setupFiles: ['<rootDir>/test/setup-runtime.ts'],
  maxWorkers: 2,
  testTimeout: 60_000,
};
