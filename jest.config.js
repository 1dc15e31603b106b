/** Jest 30 in native ESM mode (see README "Development"). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    // The sample imports the library by its package name; tests run it against the sources.
    '^nestjs-jwt-extended$': '<rootDir>/lib/index.ts',
    '^nestjs-jwt-extended/redis$': '<rootDir>/lib/blocklist/redis/index.ts',
    '^nestjs-jwt-extended/testing$': '<rootDir>/lib/testing/index.ts',
    '^nestjs-jwt-extended/swagger$': '<rootDir>/lib/swagger/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 20000,
};
