/**
 * Tracing is Lambda's own (active tracing, no SDK in the bundle; docs/benchmark.md says why):
 * Lambda records each invocation's segments and puts the invocation's trace header in
 * `_X_AMZN_TRACE_ID`. Sent on every downstream request, it lets the payment, inventory and
 * order services join the same trace, as the AWS SDK does on its own calls. Empty outside
 * Lambda.
 */
export function traceHeader(): Record<string, string> {
  const id = process.env._X_AMZN_TRACE_ID;
  return id ? { 'x-amzn-trace-id': id } : {};
}
