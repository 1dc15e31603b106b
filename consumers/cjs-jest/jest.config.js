// The README's recipe for CommonJS-mode Jest: let ts-jest transform this ESM package and jose (ESM-only), which it imports.
module.exports = {
  transform: { '^.+\\.[tj]s$': 'ts-jest' },
  transformIgnorePatterns: ['/node_modules/(?!(nestjs-jwt-extended|jose)/)'],
};
