/**
 * Sets environment variables until the returned function puts back what was there, so that a
 * test file pointing the SDK and the app at a double leaves the process as it found it.
 */
export function setEnvironment(variables: Record<string, string>): () => void {
  const before = Object.fromEntries(
    Object.keys(variables).map((name) => [name, process.env[name]]),
  );
  Object.assign(process.env, variables);
  return () => {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** Only the AWS_* variables: enough for the SDK, without choosing the app's database. */
export function sdkOnly(variables: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(variables).filter(([name]) => name.startsWith('AWS_')));
}
