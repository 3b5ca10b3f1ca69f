// Imported first by both test CLI entries: a test process that dies without stopping its servers must not
// leave them running (and taking CPU from the rest of the run). Re-parented, this process ends as on SIGTERM.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
}, 1000).unref();
