// Adds up the vitest JSON reports of every package and prints the closing line CI reads:
// "N passed, N failed, N skipped". Exits non-zero when a test failed or a package that has tests left no report.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const packageDirs = ["packages", "services"]
  .flatMap((group) =>
    existsSync(join(root, group))
      ? readdirSync(join(root, group)).map((name) => join(root, group, name))
      : [],
  )
  .concat([join(root, "examples")]);

let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];
for (const dir of packageDirs) {
  if (!existsSync(join(dir, "test"))) continue;
  const report = join(dir, ".test-results", "vitest.json");
  if (!existsSync(report)) {
    problems.push(`${dir}: no test report (the package's tests did not run to completion)`);
    failed += 1;
    continue;
  }
  const json = JSON.parse(readFileSync(report, "utf8"));
  passed += json.numPassedTests;
  failed += json.numFailedTests;
  skipped += json.numPendingTests + json.numTodoTests;
  if (json.numFailedTestSuites > 0 && json.numFailedTests === 0) {
    problems.push(`${dir}: ${json.numFailedTestSuites} test file(s) failed to load`);
    failed += json.numFailedTestSuites;
  }
  for (const file of json.testResults) {
    for (const test of file.assertionResults) {
      if (test.status === "pending" || test.status === "skipped" || test.status === "todo") {
        console.log(`skipped: ${test.fullName}`);
      }
    }
  }
}
for (const problem of problems) console.log(problem);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
