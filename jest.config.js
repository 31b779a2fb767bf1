/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" } }] },
  // End-to-end files start real servers; two workers match the machine's two cores.
  maxWorkers: 2,
  testTimeout: 20000,
};
