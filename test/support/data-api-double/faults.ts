import { DataApiError, type DataApiErrorType, defaultMessage } from './errors.ts';

export type Operation =
  | 'ExecuteStatement'
  | 'BeginTransaction'
  | 'CommitTransaction'
  | 'RollbackTransaction';

/**
 * An error a test makes the double answer with, for the next matching calls: any error shape
 * of the service's model (errors.ts). The ones the tests inject, and what the documentation says
 * of them:
 * - DatabaseResumingException: "A request was cancelled because the Aurora Serverless v2 DB
 *   instance was paused. The Data API request automatically resumes the DB instance. Wait a
 *   few seconds and try again." (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html#API_ExecuteStatement_Errors;
 *   a paused instance resumes "when a connection request arrives",
 *   https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html).
 *   So by default a fault fails the call before it does anything.
 * - an error answered after the work was done (`afterExecuting`, e.g. InternalServerErrorException,
 *   "An internal error occurred.", on the same page): the documentation says a call can fail
 *   while its statement completes, "suppose that the SDK returns a timeout error to your
 *   application, but the Data API operation still completes [...] retrying the operation
 *   might insert duplicate data"
 *   (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-timeouts.html).
 *   That a 5xx can come after the work is the double's reading of that page, not a sentence
 *   of it.
 * The default messages are in errors.ts. No AWS page quotes the resume message: it is the one
 * users of the service quote and match on ("The Aurora DB instance <id> is resuming after
 * being auto-paused. Please wait a few seconds and try again.").
 */
export interface Fault {
  error: DataApiErrorType;
  message?: string;
  /** How many matching calls fail (default 1). */
  times?: number;
  /** Only calls of this operation (default: any). */
  operation?: Operation;
  /** Only statements whose SQL matches (ExecuteStatement). */
  sql?: RegExp;
  /**
   * Answer the error after the call did its work (the statement ran and, outside a
   * transaction, committed; the commit happened): what a timeout or a lost answer looks like
   * to the caller. By default the call fails before doing anything, as a resume does.
   */
  afterExecuting?: boolean;
}

/** The faults still to inject, matched in the order they were added. */
export class Faults {
  private readonly pending: (Fault & { left: number })[] = [];

  add(fault: Fault): void {
    this.pending.push({ ...fault, left: fault.times ?? 1 });
  }

  clear(): void {
    this.pending.length = 0;
  }

  /** Throws the first pending fault that matches this call at this moment, using it up. */
  check(operation: Operation, sql: string | undefined, afterExecuting: boolean): void {
    const fault = this.pending.find(
      (f) =>
        f.left > 0 &&
        Boolean(f.afterExecuting) === afterExecuting &&
        (!f.operation || f.operation === operation) &&
        (!f.sql || (sql !== undefined && f.sql.test(sql))),
    );
    if (!fault) return;
    fault.left--;
    throw new DataApiError(fault.error, fault.message ?? defaultMessage(fault.error));
  }
}
