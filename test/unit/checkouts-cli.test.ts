import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { durationMs } from '#functions/operator/operator-command.ts';
import { parseCliArguments, UsageError } from '../../scripts/checkouts/cli-arguments.ts';
import {
  EnvironmentError,
  embeddedDatabaseProblem,
  operatorEnvironment,
} from '../../scripts/checkouts/operator-environment.ts';
import { age } from '../../scripts/checkouts/render-answer.ts';
import { runCheckoutsCli } from '../../scripts/checkouts.ts';

const ID = '3f9c2b1e-8a4d-4c1e-9b7a-2d5e6f7a8b90';
const CLUSTER = 'arn:aws:rds:eu-west-1:123456789012:cluster:checkoutcommerce-db';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:checkout-db-AbCdEf';

const dir = mkdtempSync(path.join(tmpdir(), 'checkouts-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the command line', () => {
  it('becomes the same command the operator function takes', () => {
    expect(
      parseCliArguments([
        'list',
        '--status',
        'requires_attention,pending',
        '--older-than',
        '2h',
        '--limit',
        '5',
      ]),
    ).toEqual({
      command: {
        command: 'list',
        status: ['requires_attention', 'pending'],
        olderThan: 7_200_000,
        limit: 5,
      },
      json: false,
    });
    expect(
      parseCliArguments([
        'resolve',
        ID,
        '--as',
        'failed',
        '--note',
        ' refunded by hand ',
        '--by',
        'jane',
        '--json',
      ]),
    ).toMatchObject({
      command: { command: 'resolve', id: ID, as: 'failed', note: 'refunded by hand', by: 'jane' },
      json: true,
    });
    expect(parseCliArguments(['show', ID, '--stack-outputs', 'out.json'])).toMatchObject({
      command: { command: 'show', id: ID },
      stackOutputs: 'out.json',
    });
  });

  it('names the operator after the OS user unless --by says otherwise', () => {
    const retry = parseCliArguments(['retry', ID]);
    expect(retry?.command).toMatchObject({
      command: 'retry',
      by: expect.stringMatching(/^[\w.@+-]+$/),
    });
  });

  it('is undefined for --help', () => {
    expect(parseCliArguments(['--help'])).toBeUndefined();
    expect(parseCliArguments(['list', '-h'])).toBeUndefined();
  });

  it.each([
    [[], /no command given/],
    [['lsit'], /unknown command: lsit/],
    [['list', '--older-than', '90'], /--older-than: must be like/],
    [['list', '--limit', 'ten'], /--limit: must be a whole number/],
    [['list', '--status', 'stuck'], /--status: must be one or more of pending/],
    [['show'], /show needs a checkout id/],
    [['show', ID, ID], /unexpected argument/],
    [['show', ID, '--as', 'failed'], /show takes no --as/],
    [['retry', `${ID}x`], /<id>: must be a checkout id/],
    [['retry', ID, '--by', 'jane doe'], /--by: must name who acts/],
    [['resolve', ID, '--as', 'failed'], /--note: a resolution needs a note/],
    [['resolve', ID, '--note', 'done'], /--as: must be failed or completed/],
    [['list', '--verbose'], /Unknown option '--verbose'/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCliArguments(argv)).toThrow(UsageError);
    expect(() => parseCliArguments(argv)).toThrow(message);
  });
});

describe('durations and ages', () => {
  it.each([
    ['30s', 30_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['15', undefined],
    ['1.5h', undefined],
    ['-1h', undefined],
    ['2w', undefined],
  ])('%s is %s ms', (text, ms) => {
    expect(durationMs(text)).toBe(ms);
  });

  it.each([
    [45, '45s'],
    [720, '12m'],
    [7_500, '2h 05m'],
    [273_600, '3d 04h'],
  ])('%i seconds read as %s', (seconds, text) => {
    expect(age(seconds)).toBe(text);
  });
});

describe('which database and services the CLI uses', () => {
  const outputs = (stacks: unknown) => {
    const file = path.join(dir, `outputs-${Math.random()}.json`);
    writeFileSync(file, JSON.stringify(stacks));
    return file;
  };
  const environment = (env: NodeJS.ProcessEnv, file?: string) => operatorEnvironment(env, file).env;

  it('DATABASE_URL first, even with Data API variables set', () => {
    const env = environment({ DATABASE_URL: 'postgres://db/x', DB_CLUSTER_ARN: CLUSTER });
    expect(env.DATABASE_URL).toBe('postgres://db/x');
    expect(env.DB_CLUSTER_ARN).toBeUndefined();
    expect(env.PGLITE_DATA_DIR).toBeUndefined();
  });

  it('the embedded database of npm start and its WireMocks when nothing is set', () => {
    expect(operatorEnvironment({})).toEqual({
      env: {
        PGLITE_DATA_DIR: '.data/pglite',
        PAYMENT_SERVICE_URL: 'http://127.0.0.1:8081',
        INVENTORY_SERVICE_URL: 'http://127.0.0.1:8082',
        ORDER_SERVICE_URL: 'http://127.0.0.1:8083',
      },
      servicesUnknown: false,
    });
    const configured = environment({ PAYMENT_SERVICE_URL: 'https://pay.example.com' });
    expect(configured.PAYMENT_SERVICE_URL).toBe('https://pay.example.com');
  });

  it('the WireMocks where WIREMOCK_BASE_PORT moved them, as npm start and npm run invoke', () => {
    expect(environment({ WIREMOCK_BASE_PORT: '9081' })).toMatchObject({
      PAYMENT_SERVICE_URL: 'http://127.0.0.1:9081',
      INVENTORY_SERVICE_URL: 'http://127.0.0.1:9082',
      ORDER_SERVICE_URL: 'http://127.0.0.1:9083',
    });
    // Free ports (0) are known only to that npm start: the services are not asked, nor guessed.
    expect(operatorEnvironment({ WIREMOCK_BASE_PORT: '0' })).toMatchObject({
      env: { PAYMENT_SERVICE_URL: 'http://payment.not-configured.invalid' },
      servicesUnknown: true,
      servicesProblem: expect.stringContaining('WIREMOCK_BASE_PORT=0'),
    });
  });

  it('refuses a retry when WIREMOCK_BASE_PORT cannot be followed, saying why', async () => {
    const stderr: string[] = [];
    const code = await runCheckoutsCli(['retry', ID, '--by', 'ana'], {
      env: { WIREMOCK_BASE_PORT: 'x', PGLITE_DATA_DIR: 'memory://' },
      stdout: () => {},
      stderr: (text) => stderr.push(text),
    });
    expect(code).toBe(1);
    expect(stderr.join('\n')).toBe(
      'retry failed: retry calls the services, and their URLs are not known: Invalid configuration: ' +
        'WIREMOCK_BASE_PORT: expected a whole number from 0 to 65533, got "x"',
    );
  });

  it('the Data API from the variables, in the cluster region unless AWS_REGION is set', () => {
    const dataApi = { DB_CLUSTER_ARN: CLUSTER, DB_SECRET_ARN: SECRET };
    expect(environment(dataApi)).toMatchObject({ ...dataApi, AWS_REGION: 'eu-west-1' });
    expect(environment({ ...dataApi, AWS_REGION: 'us-east-1' }).AWS_REGION).toBe('us-east-1');
  });

  it('the Data API from a stack outputs file, which wins over DATABASE_URL when named', () => {
    const file = outputs({
      'CheckoutCommerce-dev': {
        ApiUrl: 'https://x.execute-api.eu-west-1.amazonaws.com/prod/',
        DbClusterArn: CLUSTER,
        DbSecretArn: SECRET,
        DbName: 'checkout',
      },
    });
    const env = environment({ DATABASE_URL: 'postgres://db/x' }, file);
    expect(env).toMatchObject({
      DB_CLUSTER_ARN: CLUSTER,
      DB_SECRET_ARN: SECRET,
      DB_NAME: 'checkout',
      AWS_REGION: 'eu-west-1',
    });
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it('never the local WireMocks beside a deployed database: unknown services stay unreachable', () => {
    const dataApi = { DB_CLUSTER_ARN: CLUSTER, DB_SECRET_ARN: SECRET };
    const unknown = operatorEnvironment({
      ...dataApi,
      PAYMENT_SERVICE_URL: 'https://pay.example.com',
    });
    expect(unknown.servicesUnknown).toBe(true);
    expect(unknown.env).toMatchObject({
      PAYMENT_SERVICE_URL: 'https://pay.example.com',
      INVENTORY_SERVICE_URL: 'http://inventory.not-configured.invalid',
      ORDER_SERVICE_URL: 'http://order.not-configured.invalid',
    });

    const file = outputs({
      Stack: {
        DbClusterArn: CLUSTER,
        DbSecretArn: SECRET,
        PaymentServiceUrl: 'https://pay.example.com',
        InventoryServiceUrl: 'https://stock.example.com',
        OrderServiceUrl: 'https://orders.example.com',
      },
    });
    const fromOutputs = operatorEnvironment({}, file);
    expect(fromOutputs.servicesUnknown).toBe(false);
    expect(fromOutputs.env.INVENTORY_SERVICE_URL).toBe('https://stock.example.com');
  });

  it.each([
    [
      'a file that is not there',
      () => path.join(dir, 'missing.json'),
      /cannot read the stack outputs/,
    ],
    ['no DbClusterArn', () => outputs({ Stack: { ApiUrl: 'x' } }), /no stack with a DbClusterArn/],
    [
      'two stacks',
      () => outputs({ A: { DbClusterArn: CLUSTER }, B: { DbClusterArn: CLUSTER } }),
      /several stacks/,
    ],
    [
      'no secret',
      () => outputs({ A: { DbClusterArn: CLUSTER } }),
      /needs both DbClusterArn and DbSecretArn/,
    ],
  ])('refuses stack outputs with %s', (_, file, message) => {
    expect(() => operatorEnvironment({}, file())).toThrow(EnvironmentError);
    expect(() => operatorEnvironment({}, file())).toThrow(message);
  });
});

describe('the embedded database folder', () => {
  const nobody = { host: '127.0.0.1', port: 9 };

  it('is fine in memory, and when it exists with no process holding it', async () => {
    const free = path.join(dir, 'free');
    mkdirSync(free);
    expect(await embeddedDatabaseProblem('memory://', nobody)).toBeUndefined();
    expect(await embeddedDatabaseProblem(free, nobody)).toBeUndefined();
  });

  it('is refused when missing, rather than created empty', async () => {
    expect(await embeddedDatabaseProblem(path.join(dir, 'none'), nobody)).toMatch(
      /no embedded database in .*none: `npm start` creates it/,
    );
  });

  it('is refused while a process holds it, saying how to free it', async () => {
    const held = path.join(dir, 'held');
    mkdirSync(held);
    writeFileSync(path.join(held, 'postmaster.pid'), '-42\n');
    const problem = await embeddedDatabaseProblem(held, nobody);
    expect(problem).toContain(`the embedded database ${held} is open in another process`);
    expect(problem).toContain('DATABASE_URL=postgres://... npm start');
    expect(problem).toContain(`delete ${path.join(held, 'postmaster.pid')}`);
  });
});

describe('npm run checkouts against a deployed stack', () => {
  it('refuses retry when the services of the stack are not known, before reaching anything', async () => {
    const file = path.join(dir, 'stack-outputs.json');
    writeFileSync(file, JSON.stringify({ Stack: { DbClusterArn: CLUSTER, DbSecretArn: SECRET } }));
    const errors: string[] = [];

    const code = await runCheckoutsCli(['retry', ID, '--stack-outputs', file, '--by', 'jane'], {
      env: {},
      stdout: () => expect.unreachable('nothing to print'),
      stderr: (text) => errors.push(text),
    });

    expect(code).toBe(1);
    expect(errors.join('\n')).toMatch(/retry calls the services, and their URLs are not known/);
  });
});
