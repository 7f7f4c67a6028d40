import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** `npm run invoke` as a user runs it: one function on a sample event, in a child process. */
function npmRunInvoke(...args: string[]) {
  const child = spawnSync('npm', ['run', '--silent', 'invoke', '--', ...args], {
    env: { ...process.env, PGLITE_DATA_DIR: 'memory://' },
    encoding: 'utf8',
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe('npm run invoke', () => {
  it('says an event file is missing and lists the function’s events, without a stack trace', () => {
    const { code, stdout, stderr } = npmRunInvoke('checkout', 'no-such-event.json');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe(
      'no event file no-such-event.json. The events of checkout (functions/checkout/events/): ' +
        'process-seed.json, read-checkout.json, refused-out-of-stock.json, rejected-expired-card.json',
    );
  });

  it('finds an event by its name in the function’s events folder', () => {
    const { code, stdout, stderr } = npmRunInvoke('health', 'get-health.json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ statusCode: 200 });
  });

  it('says how to call it when the function is unknown', () => {
    const { code, stderr } = npmRunInvoke('nothing');
    expect(code).toBe(2);
    expect(stderr).toMatch(/^usage: npm run invoke -- <.*checkout.*> \[event\.json\]/);
  });
});
