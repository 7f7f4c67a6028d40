import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * The EMF documents CloudWatch reads, as Powertools prints them (`POWERTOOLS_DEV` sends them
 * through the global console). One Metrics instance serves every call: a dimension of one
 * document must never leak into the next.
 */
async function emitted(emit: (m: typeof import('#lib/observability/metrics.ts')) => void) {
  vi.resetModules();
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('POWERTOOLS_DEV', 'true');
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
    lines.push(String(line));
  });
  try {
    emit(await import('#lib/observability/metrics.ts'));
  } finally {
    log.mockRestore();
  }
  return lines.map((line) => {
    const doc = JSON.parse(line) as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
    };
    const [directive] = doc._aws.CloudWatchMetrics;
    return {
      dimensions: directive?.Dimensions.flat().sort(),
      metrics: directive?.Metrics.map((m) => m.Name),
      doc,
    };
  });
}

describe('checkout metrics (EMF)', () => {
  beforeEach(() => vi.unstubAllEnvs());
  afterEach(() => vi.unstubAllEnvs());

  it('publishes an outcome at once, with its status as the only dimension beside the service', async () => {
    const docs = await emitted((m) => m.checkoutMetrics.outcome('completed'));
    expect(docs).toHaveLength(1);
    expect(docs[0]?.dimensions).toEqual(['service', 'status']);
    expect(docs[0]?.metrics).toEqual(['CheckoutOutcome']);
    expect(docs[0]?.doc).toMatchObject({ status: 'completed', CheckoutOutcome: 1 });
  });

  it('publishes a failure as its own document: the status dimension does not carry over', async () => {
    const docs = await emitted((m) => {
      m.checkoutMetrics.outcome('failed', 'inventory');
      m.checkoutMetrics.outcome('completed');
    });
    expect(docs.map((d) => [d.metrics, d.dimensions])).toEqual([
      [['CheckoutOutcome'], ['service', 'status']],
      [['CheckoutFailure'], ['failed_step', 'service']],
      [['CheckoutOutcome'], ['service', 'status']],
    ]);
    expect(docs[1]?.doc).toMatchObject({ failed_step: 'inventory', CheckoutFailure: 1 });
    expect(docs[1]?.doc).not.toHaveProperty('status');
    expect(docs[2]?.doc).toMatchObject({ status: 'completed' });
    expect(docs[2]?.doc).not.toHaveProperty('failed_step');
  });

  it('publishes the backlog without the dimensions of an outcome before it', async () => {
    const docs = await emitted((m) => {
      m.checkoutMetrics.outcome('incomplete');
      m.checkoutMetrics.backlog({
        unfinished: 3,
        oldestAgeSeconds: 120,
        oldestAuthorizationAgeSeconds: 345_600,
        waiting: 4,
        oldestWaitingAgeSeconds: 1800,
        waitingPastExpiry: 1,
      });
    });
    expect(docs[1]?.dimensions).toEqual(['service']);
    expect(docs[1]?.doc).toMatchObject({
      UnfinishedCheckouts: 3,
      OldestUnfinishedAgeSeconds: 120,
      OldestOpenAuthorizationAgeSeconds: 345_600,
      CheckoutsAwaitingPayment: 4,
      OldestAwaitingPaymentAgeSeconds: 1800,
      CheckoutsWaitingPastExpiry: 1,
    });
  });
});
