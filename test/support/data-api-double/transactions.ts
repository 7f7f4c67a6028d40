import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { DataApiError } from './errors.ts';

/**
 * "A transaction times out if no calls use its transaction ID in three minutes. If a
 * transaction times out before it's committed, it's rolled back automatically."
 * (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_BeginTransaction.html;
 * "Make sure that each transactional call runs within three minutes of the previous one",
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.troubleshooting.html).
 */
const IDLE_MS = 3 * 60_000;

interface Open {
  connection: pg.PoolClient;
  busy: boolean;
  idle: NodeJS.Timeout;
}

/**
 * The open transactions, each pinned to one connection of its own from BeginTransaction to
 * CommitTransaction or RollbackTransaction: every statement sent with its transactionId runs
 * on that connection, and only there; a statement sent without one runs on any connection and
 * commits at once. What the documentation states is the transaction, not the connection:
 * BeginTransaction "Starts a SQL transaction" and returns its ID
 * (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_BeginTransaction.html);
 * ExecuteStatement's `transactionId` is "the transaction ID of the transaction that you want to
 * include the SQL statement in" (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html#API_ExecuteStatement_RequestSyntax);
 * "If you don't specify the --transaction-id option, changes that result from the call are
 * committed automatically" (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.calling.cli.html).
 * No AWS page says "connection": one connection per transaction is what those rules take on
 * PostgreSQL, where a transaction lives in the session that began it
 * (https://www.postgresql.org/docs/current/sql-begin.html).
 */
export class Transactions {
  private readonly open = new Map<string, Open>();

  /** Begins a transaction on a connection of `pool`: the pool of the secret's user. */
  async begin(pool: pg.Pool): Promise<string> {
    const connection = await pool.connect();
    try {
      await connection.query('begin');
    } catch (error) {
      connection.release(true);
      throw error;
    }
    // Opaque and long, like the service's ids (the driver's tests record one).
    const id = randomBytes(96).toString('base64');
    this.open.set(id, { connection, busy: false, idle: this.idleTimer(id) });
    return id;
  }

  /**
   * Runs `work` on the transaction's connection. A transaction the service does not know
   * answers "Transaction <ID> is not found" (it expired, was committed or rolled back, or was
   * ended by an error in an earlier call, as the troubleshooting page lists). One still running
   * a query refuses another at once: "DatabaseErrorException: Transaction is still running a
   * query" (same page). An error inside ends the transaction: it is rolled back.
   */
  async run<T>(id: string, work: (connection: pg.PoolClient) => Promise<T>): Promise<T> {
    const open = this.find(id);
    if (open.busy) {
      throw new DataApiError('DatabaseErrorException', 'Transaction is still running a query');
    }
    open.busy = true;
    clearTimeout(open.idle);
    try {
      return await work(open.connection);
    } catch (error) {
      await this.end(id, 'rollback');
      throw error;
    } finally {
      open.busy = false;
      if (this.open.has(id)) open.idle = this.idleTimer(id);
    }
  }

  /** Commits or rolls back, and forgets the transaction whatever happens. */
  async end(id: string, how: 'commit' | 'rollback'): Promise<void> {
    const open = this.find(id);
    this.open.delete(id);
    clearTimeout(open.idle);
    try {
      await open.connection.query(how);
      open.connection.release();
    } catch (error) {
      open.connection.release(true);
      throw error;
    }
  }

  /** Rolls back every open transaction (the double is stopping). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((id) => this.end(id, 'rollback').catch(() => {})));
  }

  private find(id: string): Open {
    const open = this.open.get(id);
    if (!open)
      throw new DataApiError('TransactionNotFoundException', `Transaction ${id} is not found`);
    return open;
  }

  private idleTimer(id: string): NodeJS.Timeout {
    return setTimeout(() => this.end(id, 'rollback').catch(() => {}), IDLE_MS).unref();
  }
}
