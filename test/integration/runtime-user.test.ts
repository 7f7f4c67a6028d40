import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceCreateEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivatePostgres, startPrivatePostgres } from '../support/private-postgres.ts';

/**
 * Least privilege in the database: `migrate`, as the owner, gives the runtime functions their
 * own user, which may read, insert and update the checkouts and do nothing else. Checked by
 * connecting as that user to a real PostgreSQL of this file's own.
 */

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:runtime-db-AbCdEf';
const USER = { username: 'checkout_app', password: "it's a s3cret; with 'quotes'" };

let cluster: PrivatePostgres;
const secrets = mockClient(SecretsManagerClient);

beforeAll(async () => {
  cluster = await startPrivatePostgres();
  process.env.DATABASE_URL = cluster.url;
  process.env.RUNTIME_DB_SECRET_ARN = SECRET_ARN;
  secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({
    SecretString: JSON.stringify({ ...USER, engine: 'postgres', host: 'cluster.local' }),
  });
}, 60_000);

afterAll(async () => {
  const { closeApp } = await import('#lib/app.ts');
  await closeApp();
  await cluster?.stop();
  secrets.restore();
});

/** The migrate custom resource's Create, as CloudFormation sends it. */
async function deploy() {
  const { handler } = await import('#functions/migrate/handler.ts');
  return handler({ RequestType: 'Create' } as CloudFormationCustomResourceCreateEvent);
}

/** A connection as the runtime user (the server trusts local connections: no password check). */
async function asRuntimeUser<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(cluster.url);
  url.username = USER.username;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const denied = (client: pg.Client, sql: string) =>
  expect(client.query(sql)).rejects.toThrow(/permission denied|must be owner/);

describe('the runtime database user', () => {
  it('is created by the migrate function from its secret, on every deploy', async () => {
    await deploy();
    await deploy(); // again: the user exists, its password is set again

    const { getApp } = await import('#lib/app.ts');
    const { db } = await getApp();
    const roles = await db.query<{ rolname: string; rolcanlogin: boolean; rolsuper: boolean }>(
      'select rolname, rolcanlogin, rolsuper from pg_roles where rolname = :name',
      { name: USER.username },
    );
    expect(roles).toEqual([{ rolname: 'checkout_app', rolcanlogin: true, rolsuper: false }]);
  });

  it('reads, records and updates checkouts', async () => {
    await deploy();
    const rows = await asRuntimeUser(async (client) => {
      await client.query(`insert into checkouts (id, status, customer_email, currency,
          total_amount, items, shipping_address, card_brand, card_last4)
        values ('0c7e9a52-3b1d-4f6e-8a2c-5d4b3a291899', 'pending', 'a@example.com', 'BRL',
          10, '[]', '{}', 'visa', '1111')`);
      await client.query(`update checkouts set status = 'failed'
        where id = '0c7e9a52-3b1d-4f6e-8a2c-5d4b3a291899'`);
      return (await client.query('select status from checkouts')).rows;
    });
    expect(rows).toEqual([{ status: 'failed' }]);
  });

  it('commits durably even where the database default is synchronous_commit = off: its sessions get on', async () => {
    const owner = new pg.Client({ connectionString: cluster.url });
    await owner.connect();
    const database = (await owner.query('select current_database() as name')).rows[0]?.name;
    const setDefault = (value: string) =>
      owner.query(
        `alter database ${pg.escapeIdentifier(database)} set synchronous_commit = ${value}`,
      );
    const sessionSetting = async (client: pg.Client) =>
      (await client.query('show synchronous_commit')).rows[0]?.synchronous_commit;
    try {
      await setDefault('off');
      await deploy();

      const asOwner = new pg.Client({ connectionString: cluster.url });
      await asOwner.connect();
      const ownerSetting = await sessionSetting(asOwner).finally(() => asOwner.end());
      expect(ownerSetting).toBe('off'); // a new session of another user gets the default

      expect(await asRuntimeUser(sessionSetting)).toBe('on');
    } finally {
      await owner.query(`alter database ${pg.escapeIdentifier(database)} reset synchronous_commit`);
      await owner.end();
    }
  });

  it('can neither delete checkouts nor change the schema nor touch the migrations', async () => {
    await deploy();
    await asRuntimeUser(async (client) => {
      await denied(client, 'delete from checkouts');
      await denied(client, 'truncate checkouts');
      await denied(client, 'drop table checkouts');
      await denied(client, 'alter table checkouts add column x text');
      await denied(client, 'create table other (id int)');
      await denied(client, 'select * from schema_migrations');
    });
  });
});
