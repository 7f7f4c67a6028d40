import { afterEach, describe, expect, it, vi } from 'vitest';
import { logFormat, loggerFor, TextLogFormatter, textLine } from '#lib/observability/logger.ts';

/*
 * `npm start` on a terminal: one short line per log entry (time, level, message, checkout_id,
 * the rest compact); JSON when piped and always on Lambda.
 */

const ID = '3f9c2b1e-8a4d-4c1e-9b7a-2d5e6f7a8b90';
const AT = new Date(2026, 11, 7, 14, 3, 7, 41);
const CONTEXT = {
  invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:checkout',
  coldStart: true,
  awsRequestId: 'c0ffee00-0000-4000-8000-000000000000',
  memoryLimitInMB: '512',
  functionName: 'checkout',
  functionVersion: '$LATEST',
};

const line = (
  additional: Record<string, unknown>,
  logLevel: 'INFO' | 'WARN' | 'ERROR' = 'INFO',
  message = 'checkout completed',
) =>
  textLine(
    new TextLogFormatter()
      .formatAttributes(
        {
          logLevel,
          message,
          timestamp: AT,
          serviceName: 'checkout-commerce',
          lambdaContext: CONTEXT,
          sampleRateValue: 0,
          xRayTraceId: 'Root=1-00000000-000000000000000000000000',
          awsRegion: 'local',
          environment: '',
        },
        additional,
      )
      .getAttributes(),
  );

describe('the text formatter', () => {
  it('puts time, level, message and checkout_id first, the rest compact, no Lambda context', () => {
    expect(
      line({ step: 'payment', status: 'completed', total_amount: 34_970, checkout_id: ID }),
    ).toBe(
      `14:03:07.041 INFO  checkout completed  checkout_id=${ID}  step=payment status=completed total_amount=34970`,
    );
  });

  it('quotes strings with spaces, writes objects as compact JSON, an error in one piece', () => {
    const error = new Error('connect ECONNREFUSED 127.0.0.1:8081');
    const text = line(
      { reason: 'the payment service refused', outcomes: { completed: 2, failed: 1 }, error },
      'ERROR',
      'recovery of a checkout failed',
    );
    expect(text).toMatch(
      /^14:03:07\.041 ERROR recovery of a checkout failed {2}reason="the payment service refused" outcomes=\{"completed":2,"failed":1\} error=Error: connect ECONNREFUSED 127\.0\.0\.1:8081 \(\S+:\d+\)$/,
    );
    expect(text).not.toContain('\n');
  });

  it('leaves out checkout_id when there is none', () => {
    expect(line({}, 'WARN', 'the cart could not be priced')).toBe(
      '14:03:07.041 WARN  the cart could not be priced',
    );
  });
});

describe('which format', () => {
  it('text only when asked for (npm start on a terminal), never on Lambda', () => {
    expect(logFormat({})).toBe('json');
    expect(logFormat({ LOG_FORMAT: 'json' })).toBe('json');
    expect(logFormat({ LOG_FORMAT: 'text' })).toBe('text');
    expect(logFormat({ LOG_FORMAT: 'text', AWS_LAMBDA_FUNCTION_NAME: 'checkout' })).toBe('json');
  });
});

describe('the logger', () => {
  afterEach(() => vi.restoreAllMocks());

  const written = () => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => out.push(String(chunk)) > 0);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => err.push(String(chunk)) > 0);
    return { out, err };
  };

  it('prints text lines, warnings on stderr, and its children too', () => {
    const { out, err } = written();
    const logger = loggerFor({ LOG_FORMAT: 'text', LOG_LEVEL: 'INFO' });
    logger.appendKeys({ checkout_id: ID });
    logger.info('checkout recorded', { amount: 10 });
    logger.warn('undo failed, to be repeated', { step: 'inventory' });
    logger.createChild().info('from a child');
    expect(out).toEqual([
      expect.stringMatching(
        new RegExp(
          `^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  checkout recorded  checkout_id=${ID}  amount=10\\n$`,
        ),
      ),
      expect.stringMatching(new RegExp(`INFO  from a child  checkout_id=${ID}\\n$`)),
    ]);
    expect(err).toEqual([
      expect.stringMatching(
        / WARN {2}undo failed, to be repeated {2}checkout_id=\S+ {2}step=inventory\n$/,
      ),
    ]);
  });

  it('is the process’s logger when LOG_FORMAT=text is set before it is first imported', async () => {
    vi.resetModules();
    vi.stubEnv('LOG_FORMAT', 'text');
    vi.stubEnv('LOG_LEVEL', 'INFO');
    try {
      const { logger } = await import('#lib/observability/logger.ts');
      const { out } = written();
      logger.info('from the process logger', { checkout_id: ID });
      expect(out).toEqual([
        expect.stringMatching(/ INFO {2}from the process logger {2}checkout_id=/),
      ]);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });

  it('prints JSON otherwise', () => {
    const { out } = written();
    loggerFor({ LOG_LEVEL: 'INFO' }).info('checkout recorded', { checkout_id: ID });
    loggerFor({ LOG_FORMAT: 'text', LOG_LEVEL: 'INFO', AWS_LAMBDA_FUNCTION_NAME: 'checkout' }).info(
      'on Lambda',
    );
    expect(out.map((text) => JSON.parse(text))).toEqual([
      expect.objectContaining({ level: 'INFO', message: 'checkout recorded', checkout_id: ID }),
      expect.objectContaining({ level: 'INFO', message: 'on Lambda' }),
    ]);
  });
});
