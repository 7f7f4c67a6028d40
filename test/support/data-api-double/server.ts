import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createBackingDatabase } from './backing-database.ts';
import { DataApiError, databaseError, isPostgresError } from './errors.ts';
import { type Fault, Faults, type Operation } from './faults.ts';
import { bindParameters, type SqlParameter } from './parameters.ts';
import { formatResult, type ResultOptions, TypeCatalog } from './results.ts';
import { Transactions } from './transactions.ts';

export interface DataApiDoubleOptions {
  clusterArn?: string;
  /** The master user's secret: it signs in as the backing server's own user. */
  secretArn?: string;
  /** The runtime user's secret: it signs in as `runtimeUser` (see `DataApiDouble`). */
  runtimeSecretArn?: string;
  /** The database name callers send (the app's DB_NAME); it is served by a private database. */
  database?: string;
  region?: string;
}

/** A database user as its Secrets Manager secret holds it (RDS's JSON has these two keys). */
export interface DatabaseUser {
  username: string;
  password: string;
}

/** One call the double answered, in order. */
export interface Call {
  /** `Unknown` for a request to a path the service does not have. */
  operation: Operation | 'Unknown';
  secretArn?: string;
  sql?: string;
  transactionId?: string;
  /** The error type answered, if it failed. */
  error?: string;
}

export interface DataApiDouble {
  /** `http://127.0.0.1:<port>`: what AWS_ENDPOINT_URL_RDS_DATA points the SDK at. */
  endpoint: string;
  clusterArn: string;
  /** The master secret: statements sent with it run as the backing server's own user. */
  secretArn: string;
  /** The runtime secret: statements sent with it run as `runtimeUser`, over a connection of its own. */
  runtimeSecretArn: string;
  /**
   * Who the runtime secret signs in as. The double does not create this user: a migration run
   * through the double with the master secret does (as `migrate` does with
   * RUNTIME_DB_SECRET_ARN); until then the runtime secret cannot sign in. Its name is unique
   * to the double, since a role belongs to the whole server, which test files may share.
   */
  runtimeUser: DatabaseUser;
  database: string;
  region: string;
  /** Every call answered so far. */
  calls: Call[];
  /** Makes the next matching calls fail with a Data API error (see `Fault`). */
  inject(fault: Fault): void;
  clearFaults(): void;
  /**
   * The environment that makes the real SDK reach this double and the app's configuration
   * choose the `rds-data` driver for it (fake ARNs, dummy credentials and region), signed in
   * with the master secret (as `migrate` is) or the runtime one (as every other function is).
   */
  environment(secret?: 'master' | 'runtime'): Record<string, string>;
  /** SQL straight on the backing database as its owner, past the Data API: to set up or inspect. */
  query<T extends Record<string, unknown>>(sql: string, values?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

const ROUTES: Record<string, Operation> = {
  '/Execute': 'ExecuteStatement',
  '/BeginTransaction': 'BeginTransaction',
  '/CommitTransaction': 'CommitTransaction',
  '/RollbackTransaction': 'RollbackTransaction',
};

interface Request extends ResultOptions {
  resourceArn?: string;
  secretArn?: string;
  database?: string;
  schema?: string;
  sql?: string;
  parameters?: SqlParameter[];
  transactionId?: string;
}

/** Values come back as PostgreSQL's text: the double converts them itself, by column type. */
const RAW_TEXT = {
  getTypeParser: () => (value: string) => value,
} as unknown as pg.CustomTypesConfig;

/**
 * Starts a strict local RDS Data API on a free loopback port, backed by a database of its own
 * on a real PostgreSQL server (see backing-database.ts). It speaks the service's REST-JSON
 * protocol as the installed `@aws-sdk/client-rds-data` does: POST /Execute,
 * /BeginTransaction, /CommitTransaction and /RollbackTransaction with JSON bodies, results as
 * JSON, errors as the HTTP status of their shape with an `x-amzn-ErrorType` header and a
 * `{"message"}` body. Each rule it enforces cites the documentation behind it, in the file
 * that enforces it: parameters.ts (binding, type hints), results.ts (supported types,
 * formattedRecords), transactions.ts (pinning, busy, expiry), errors.ts (SQL errors),
 * faults.ts (what a test injects); the checks of the cluster, secret and database below.
 * Each secret signs in as its own database user, over a pool of its own: the statements sent
 * with a secret run with that user's privileges, as on the service ("The name or ARN of the
 * secret that enables access to the DB cluster",
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-operations.html).
 */
export async function startDataApiDouble(
  options: DataApiDoubleOptions = {},
): Promise<DataApiDouble> {
  const region = options.region ?? 'eu-west-1';
  const clusterArn =
    options.clusterArn ?? `arn:aws:rds:${region}:123456789012:cluster:data-api-double`;
  const fakeSecretArn = (name: string) =>
    `arn:aws:secretsmanager:${region}:123456789012:secret:data-api-double-${name}-AbCdEf`;
  const secretArn = options.secretArn ?? fakeSecretArn('master');
  const runtimeSecretArn = options.runtimeSecretArn ?? fakeSecretArn('runtime');
  const runtimeUser: DatabaseUser = {
    username: `checkout_app_${randomBytes(4).toString('hex')}`,
    password: randomBytes(18).toString('base64url'),
  };
  const database = options.database ?? 'checkout';

  const backing = await createBackingDatabase();
  const pool = openPool(backing.config);
  /** The pool each secret signs in with. */
  const pools = new Map([
    [secretArn, pool],
    [runtimeSecretArn, openPool(signedInAs(backing.config, runtimeUser))],
  ]);
  const transactions = new Transactions();
  const catalog = new TypeCatalog();
  const faults = new Faults();
  const calls: Call[] = [];

  /**
   * The checks every operation makes of the cluster, secret and database it names; returns the
   * pool of the secret's user.
   */
  const checkTarget = (request: Request, operation: Operation): pg.Pool => {
    if (!request.resourceArn || !request.secretArn) {
      throw new DataApiError('BadRequestException', 'resourceArn and secretArn are required');
    }
    // "HttpEndpoint isn't enabled for cluster <cluster_ID>": among its causes, an ARN that does
    // not exactly match the cluster's (data-api.troubleshooting.html, linked in transactions.ts).
    if (request.resourceArn !== clusterArn) {
      throw new DataApiError(
        'HttpEndpointNotEnabledException',
        `HttpEndpoint is not enabled for resource ${request.resourceArn}`,
      );
    }
    // The service signs in with the credentials in the secret, so a secret it cannot find is
    // refused before any SQL: "SecretsErrorException: There was a problem with the Secrets
    // Manager secret used with the request, caused by one of the following conditions: [...]
    // The secret provided wasn't found." (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html#API_ExecuteStatement_Errors;
    // BadRequestException, which the double answered before, "is deprecated" there). The
    // message's wording is the double's own: no page gives the service's.
    const secretPool = pools.get(request.secretArn);
    if (!secretPool) {
      throw new DataApiError(
        'SecretsErrorException',
        `The secret ${request.secretArn} wasn't found.`,
      );
    }
    // "Schema parameter isn't supported": Aurora Serverless v2 and provisioned clusters refuse
    // it rather than ignore it (data-api.troubleshooting.html, as above).
    if (request.schema !== undefined) {
      throw new DataApiError('BadRequestException', 'The schema parameter isn\u2019t supported.');
    }
    // A database the cluster does not have: no AWS page states the answer; the double passes
    // on what PostgreSQL refuses the sign-in with, in the layout of errors.ts.
    const named = operation === 'ExecuteStatement' || operation === 'BeginTransaction';
    if (named && request.database !== undefined && request.database !== database) {
      throw new DataApiError(
        'DatabaseErrorException',
        `FATAL: database "${request.database}" does not exist; SQLState: 3D000`,
      );
    }
    return secretPool;
  };

  const execute = async (request: Request, secretPool: pg.Pool) => {
    if (!request.sql) throw new DataApiError('BadRequestException', 'sql is required');
    const statement = bindParameters(request.sql, request.parameters);
    const run = async (connection: pg.PoolClient) => {
      const config: pg.QueryArrayConfig & { queryMode: 'extended' } = {
        text: statement.text,
        values: statement.values,
        types: Object.assign([...statement.types], RAW_TEXT),
        rowMode: 'array',
        // Always the extended protocol, which runs one statement: "multi-statements aren't
        // supported" by the service for these clusters (data-api.troubleshooting.html).
        queryMode: 'extended',
      };
      const result = await connection.query(config);
      const written = ['INSERT', 'UPDATE', 'DELETE', 'MERGE'].includes(result.command);
      const output = {
        numberOfRecordsUpdated: written ? (result.rowCount ?? 0) : 0,
        generatedFields: [],
      };
      if (result.fields.length === 0) return output;
      const types = await catalog.describe(connection, result.fields);
      return { ...output, ...formatResult(types, result.fields, result.rows, request) };
    };
    if (request.transactionId) return transactions.run(request.transactionId, run);
    const connection = await secretPool.connect();
    try {
      return await run(connection);
    } finally {
      connection.release();
    }
  };

  const operations: Record<Operation, (request: Request, pool: pg.Pool) => Promise<unknown>> = {
    ExecuteStatement: execute,
    BeginTransaction: async (_, secretPool) => ({
      transactionId: await transactions.begin(secretPool),
    }),
    async CommitTransaction(request) {
      await transactions.end(String(request.transactionId), 'commit');
      return { transactionStatus: 'Transaction Committed' };
    },
    async RollbackTransaction(request) {
      await transactions.end(String(request.transactionId), 'rollback');
      return { transactionStatus: 'Rollback Complete' };
    },
  };

  const answer = async (operation: Operation, request: Request) => {
    const secretPool = checkTarget(request, operation);
    faults.check(operation, request.sql, false);
    try {
      const output = await operations[operation](request, secretPool);
      faults.check(operation, request.sql, true);
      return output;
    } catch (error) {
      if (isPostgresError(error)) throw databaseError(error);
      throw error;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = new URL(req.url ?? '/', 'http://double').pathname;
    const operation = req.method === 'POST' ? ROUTES[path] : undefined;
    const request = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Request;
    const call: Call = { operation: operation ?? 'Unknown' };
    if (request.secretArn !== undefined) call.secretArn = request.secretArn;
    if (request.sql !== undefined) call.sql = request.sql;
    if (request.transactionId !== undefined) call.transactionId = request.transactionId;
    calls.push(call);
    try {
      if (!operation) throw new DataApiError('NotFoundException', `No operation at ${path}`);
      checkSignature(req, region);
      send(res, 200, await answer(operation, request));
    } catch (error) {
      const failure =
        error instanceof DataApiError
          ? error
          : new DataApiError('InternalServerErrorException', String(error));
      call.error = failure.type;
      send(res, failure.status, { message: failure.message }, failure.type);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    clusterArn,
    secretArn,
    runtimeSecretArn,
    runtimeUser,
    database,
    region,
    calls,
    inject: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    environment: (secret = 'master') => ({
      AWS_ENDPOINT_URL_RDS_DATA: endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: 'AKIADATAAPIDOUBLE000',
      AWS_SECRET_ACCESS_KEY: 'data-api-double-not-a-secret',
      DB_CLUSTER_ARN: clusterArn,
      DB_SECRET_ARN: secret === 'master' ? secretArn : runtimeSecretArn,
      DB_NAME: database,
    }),
    async query<T extends Record<string, unknown>>(sql: string, values?: unknown[]) {
      return (await pool.query<T>(sql, values)).rows;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await transactions.closeAll();
      await Promise.all([...pools.values()].map((p) => p.end()));
      await backing.drop([runtimeUser.username]);
    },
  };
}

function openPool(config: pg.ClientConfig): pg.Pool {
  // Aurora's default time zone is UTC; so is every session here.
  const pool = new pg.Pool({ ...config, max: 8, options: '-c TimeZone=UTC' });
  pool.on('error', () => {}); // an idle connection dropped by the server is not a test failure
  return pool;
}

/**
 * The backing database's settings with `user`'s name and password. A server that trusts
 * loopback connections (the machine's, the private cluster's) does not check the password;
 * the user's privileges apply all the same.
 */
function signedInAs(config: pg.ClientConfig, user: DatabaseUser): pg.ClientConfig {
  const url = new URL(String(config.connectionString));
  url.username = user.username;
  url.password = user.password;
  return { ...config, connectionString: url.toString() };
}

/**
 * Requests must be signed with Signature Version 4 for the `rds-data` service in the double's
 * region, as the SDK signs them
 * (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/CommonParameters.html).
 */
function checkSignature(req: IncomingMessage, region: string) {
  const scope = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/([^/]+)\/rds-data\/aws4_request,/.exec(
    req.headers.authorization ?? '',
  );
  if (!scope) throw new DataApiError('ForbiddenException', 'Missing Authentication Token');
  if (scope[1] !== region) {
    throw new DataApiError('ForbiddenException', `Credential should be scoped to region ${region}`);
  }
}

/** A REST-JSON answer; an error names its shape in `x-amzn-ErrorType`, as the service does. */
function send(res: ServerResponse, status: number, body: unknown, errorType?: string) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-amzn-RequestId': randomUUID(),
  };
  if (errorType) {
    headers['x-amzn-ErrorType'] =
      `${errorType}:http://internal.amazon.com/coral/com.amazonaws.rdsdata/`;
  }
  res.writeHead(status, headers).end(JSON.stringify(body));
}
