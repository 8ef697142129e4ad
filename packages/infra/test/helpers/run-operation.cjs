// Runs one environment operation in its own process and prints its events as JSON lines, so a test can
// kill that process (and the Pulumi CLI under it) with SIGKILL in the middle of a run.
const infra = require("../../dist/index.js");

async function main() {
  const { config, op, spec } = JSON.parse(process.argv[2]);
  const ops = infra.createEnvironmentOperations(config);
  const print = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
  try {
    const result = await ops[op](spec, { onEvent: (event) => print({ event }) });
    print({ result });
  } catch (err) {
    print({ error: { code: err.code, message: err.message } });
    process.exitCode = 1;
  } finally {
    await ops.close();
  }
}
main();
