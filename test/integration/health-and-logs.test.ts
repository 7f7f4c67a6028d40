import { afterEach, describe, expect, it, vi } from 'vitest';

// Powertools fixes its level when the logger is created (and restores it on every
// invocation), so this file turns logging on before the handlers are imported.
process.env.LOG_LEVEL = 'DEBUG';
const { newMarker, seedRequest, useLocalApi } = await import('../support/local-api.ts');

const api = useLocalApi();

/** Everything written to stdout and stderr (where Powertools logs) while `work` runs. */
async function captureLogs(work: () => Promise<unknown>): Promise<string> {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  try {
    await work();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines.join('');
}

afterEach(() => vi.restoreAllMocks());

describe('health', () => {
  it('answers 200 when the database answers', async () => {
    const res = await api.request('/health');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok', checks: { database: 'ok' } });
  });
});

describe('structured logs', () => {
  it('carry the request id and checkout id but never the card number or CVV', async () => {
    const request = seedRequest();
    request.payment_method.card_cvv = '987';
    request.items.push({ product_id: 'prod_out_of_stock', quantity: 1, price: 149.9 });
    request.customer_email = `refund-error+${newMarker()}@example.com`;
    let checkoutId = '';

    const output = await captureLogs(async () => {
      const res = await api.postCheckout(request);
      checkoutId = String(res.json.checkout_id);
    });

    const lines = output
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.every((l) => typeof l.function_request_id === 'string')).toBe(true);
    expect(lines.some((l) => l.checkout_id === checkoutId)).toBe(true);
    expect(lines.some((l) => String(l.message).startsWith('undo failed'))).toBe(true);
    expect(output).not.toContain('4111111111111111');
    expect(output).not.toContain('"987"');
    expect(output).not.toContain(request.payment_method.card_expiry);
  });
});
