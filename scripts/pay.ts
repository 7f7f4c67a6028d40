/**
 * `npm run pay -- <checkout_id> [--late] [--duplicate] [--forged]`: plays the customer paying a
 * local Pix or boleto, against a running `npm start` (wiremock/README.md, "Pix and boleto"). The
 * payment WireMock's lookup is made to say `paid` (and the cancel of that transaction refused),
 * then the payment service's signed `payment.paid` webhook is posted to the API.
 *
 * - `--late`: a cancelled or expired payment may be paid too (the bank took the money after the
 *   checkout gave up on it).
 * - `--duplicate`: the same event (same `event_id`) is delivered twice, signed anew each time.
 * - `--forged`: signed with a wrong secret, and nothing changed in WireMock: the API must refuse it.
 *
 * The WireMock is found as `npm run checkouts` finds it (PAYMENT_SERVICE_URL, else
 * WIREMOCK_BASE_PORT); the API at APP_HOST:APP_PORT (127.0.0.1:8005); the secret is
 * PAYMENT_WEBHOOK_SECRET, else the local development one the API uses too.
 *
 * Exit codes: 0 done (for `--forged`, refused by the API), 1 refused or failed, 2 not a command.
 */
import { pathToFileURL } from 'node:url';
import { withLocalServiceUrls } from '#dev/local/service-urls.ts';
import { type Config, ConfigError, LOCAL_WEBHOOK_SECRET, loadConfig } from '#lib/config.ts';
import { operatorRouteUrl } from './checkouts/running-start.ts';
import { markPaid } from './pay/paid-stubs.ts';
import { deliver, paidEvent, WEBHOOK_PATH } from './pay/paid-webhook.ts';
import { PayRefused, payableEntry, readPayments } from './pay/payable-entry.ts';

export const PAY_USAGE =
  'usage: npm run pay -- <checkout_id> [--late] [--duplicate] [--forged]\n' +
  '  --late       pay a cancelled or expired Pix or boleto too (a payment after the checkout gave up)\n' +
  '  --duplicate  deliver the same event twice\n' +
  '  --forged     sign with a wrong secret and change nothing: the API must answer 401';

const FLAGS = ['--late', '--duplicate', '--forged'] as const;
type Flag = (typeof FLAGS)[number];

export interface PayIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** What a forged delivery is signed with: anything but the API's secret. */
const FORGED_SECRET = 'not-the-payment-service-secret';

/** Runs one command line; returns the exit code. */
export async function runPay(argv: readonly string[], io: PayIo): Promise<number> {
  const flags = argv.filter((arg) => arg.startsWith('-'));
  const ids = argv.filter((arg) => !arg.startsWith('-'));
  const unknown = flags.filter((flag) => !FLAGS.includes(flag as Flag));
  if (ids.length !== 1 || unknown.length > 0) {
    const problem =
      unknown.length > 0
        ? `unknown option ${unknown.join(', ')}`
        : ids.length === 0
          ? 'no checkout id'
          : `one checkout id, got ${ids.length}`;
    io.stderr(`${problem}\n${PAY_USAGE}`);
    return 2;
  }
  const has = (flag: Flag) => flags.includes(flag);
  try {
    return await pay(ids[0] as string, has('--late'), has('--duplicate'), has('--forged'), io);
  } catch (error) {
    if (!(error instanceof PayRefused || error instanceof ConfigError)) throw error;
    io.stderr(error.message);
    return 1;
  }
}

async function pay(
  checkoutId: string,
  late: boolean,
  duplicate: boolean,
  forged: boolean,
  io: PayIo,
): Promise<number> {
  const config = loadConfig(withLocalServiceUrls(io.env));
  const paymentUrl = config.payment.baseUrl;
  const apiUrl = apiUrlOf(config);
  const secret = forged ? FORGED_SECRET : io.env.PAYMENT_WEBHOOK_SECRET || LOCAL_WEBHOOK_SECRET;

  const found = payableEntry(checkoutId, await readPayments(paymentUrl, checkoutId), late);
  if (found instanceof PayRefused) throw found;
  const paidAt = new Date().toISOString();
  if (forged) {
    io.stdout(`${found.transactionId} ${found.status}: left as it is (--forged)`);
  } else {
    await markPaid(paymentUrl, found, paidAt);
    io.stdout(
      `${found.transactionId} ${found.status} -> paid at ${paidAt} (payment WireMock ${paymentUrl})`,
    );
  }

  const event = paidEvent(found.transactionId, checkoutId, paidAt);
  const answers = [];
  for (let i = 0; i < (duplicate ? 2 : 1); i++) {
    const answer = await deliver(apiUrl, secret, event).catch((error: unknown) => {
      if (!forged && error instanceof PayRefused) {
        throw new PayRefused(`${error.message} (the payment WireMock says paid already)`);
      }
      throw error;
    });
    io.stdout(
      `POST ${apiUrl}${WEBHOOK_PATH} ${event.event_id}${forged ? ' (forged)' : ''}: HTTP ${answer.status} ${answer.body}`,
    );
    answers.push(answer);
  }

  if (forged) {
    if (answers.every((a) => a.status === 401)) return 0;
    io.stderr('the API did not refuse a webhook signed with a wrong secret (expected HTTP 401)');
    return 1;
  }
  if (answers.every((a) => a.status >= 200 && a.status < 300)) {
    io.stdout(`See the checkout: curl -s ${apiUrl}/checkout/${checkoutId}`);
    return 0;
  }
  io.stderr('the API did not take the webhook (see its answer above)');
  return 1;
}

/** The API of the running `npm start` (APP_HOST:APP_PORT), on loopback when it listens on every address. */
function apiUrlOf({ host, port }: Config): string {
  const server = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new URL(operatorRouteUrl(server)).origin;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await runPay(process.argv.slice(2), {
    env: process.env,
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
  });
}
