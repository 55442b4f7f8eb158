// What `node` task scripts require: outputs, log lines and metrics that Lanner records, like engine/sdk.py.
//
//   const lanner = require('lanner');
//   lanner.outputs({ total: 42 });
//   lanner.log('loaded 42 rows', 'INFO');
//   lanner.counter('rows', 42, { table: 'sales' });
//   lanner.timer('download', 1.25);
//   await lanner.timed('transform', async () => { ... });
//
// Each call writes one marker line on stdout, which the worker reads and removes from the output.
'use strict';

const MARKER = '::lanner::';

function emit(payload) {
  process.stdout.write(MARKER + JSON.stringify(payload) + '\n');
}

function outputs(values) {
  // One line each: the worker reads a line whole only up to a size.
  for (const [key, value] of Object.entries(values)) emit({ outputs: { [key]: value } });
}

function log(message, level = 'INFO') {
  emit({ log: { level: String(level).toUpperCase(), message: String(message) } });
}

function counter(name, value = 1, tags = {}) {
  emit({ metric: { type: 'counter', name, value, tags } });
}

function timer(name, seconds, tags = {}) {
  emit({ metric: { type: 'timer', name, value: seconds, tags } });
}

// Times fn (sync or async) under the timer `name`; recorded even when it throws.
function timed(name, fn, tags = {}) {
  const start = process.hrtime.bigint();
  const done = () => timer(name, Number(process.hrtime.bigint() - start) / 1e9, tags);
  let result;
  try {
    result = fn();
  } catch (error) {
    done();
    throw error;
  }
  if (result && typeof result.then === 'function') return result.finally(done);
  done();
  return result;
}

module.exports = { outputs, log, counter, timer, timed, MARKER };
