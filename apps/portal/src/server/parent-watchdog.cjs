// Preloaded into the web server (`node --require parent-watchdog.cjs next start`): exits when the portal's
// start command that spawned it is gone (killed with SIGKILL), so no orphan keeps holding the port.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1000).unref();
