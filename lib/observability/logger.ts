import { LogFormatter, Logger, LogItem, LogLevelThreshold } from '@aws-lambda-powertools/logger';
import type {
  ConstructorOptions,
  LogAttributes,
  UnformattedAttributes,
} from '@aws-lambda-powertools/logger/types';
import { serviceName } from './constants.ts';

/** `text` when LOG_FORMAT asks for it and not on Lambda (whose log tools read JSON); else `json`. */
export function logFormat(env: NodeJS.ProcessEnv): 'json' | 'text' {
  return env.LOG_FORMAT === 'text' && !env.AWS_LAMBDA_FUNCTION_NAME ? 'text' : 'json';
}

/** A logger configured from `env` (the process's own is `logger`). */
export function loggerFor(env: NodeJS.ProcessEnv): Logger {
  const options = { serviceName: serviceName(), logLevel: (env.LOG_LEVEL ?? 'INFO') as 'INFO' };
  return logFormat(env) === 'text'
    ? new TextLogger({ ...options, logFormatter: new TextLogFormatter() })
    : new Logger(options);
}

/**
 * The terminal's shape of an entry: time, level, message, `checkout_id`, then the entry's own
 * keys; the Lambda context and the service name (the same on every line) are left out.
 */
export class TextLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const { checkout_id, ...rest } = additional;
    const own = Object.entries(rest).map(([key, value]) => [
      key,
      value instanceof Error ? this.formatError(value) : value,
    ]);
    return new LogItem({
      attributes: {
        time: attributes.timestamp,
        level: attributes.logLevel,
        message: attributes.message,
        checkout_id,
        ...Object.fromEntries(own),
      },
    });
  }
}

/**
 * One short line: `14:03:07.412 INFO  checkout completed  checkout_id=… status=completed`;
 * strings bare unless they hold spaces or quotes, an error as `Name: message (where)`, other
 * values as compact JSON.
 */
export function textLine(
  { time, level, message, checkout_id, ...rest }: LogAttributes,
  replacer?: (key: string, value: unknown) => unknown,
): string {
  const at = time instanceof Date ? time : new Date();
  const clock = `${[at.getHours(), at.getMinutes(), at.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':')}.${String(at.getMilliseconds()).padStart(3, '0')}`;
  const fields = Object.entries(rest).map(([key, value]) => `${key}=${compact(value, replacer)}`);
  return [
    `${clock} ${String(level).padEnd(5)} ${message ?? ''}`,
    ...(checkout_id === undefined ? [] : [`checkout_id=${compact(checkout_id)}`]),
    ...(fields.length > 0 ? [fields.join(' ')] : []),
  ].join('  ');
}

function compact(value: unknown, replacer?: (key: string, value: unknown) => unknown): string {
  if (typeof value === 'string') return /^[^\s"'=]+$/.test(value) ? value : JSON.stringify(value);
  if (isFormattedError(value)) {
    const where = value.location?.replace(`${process.cwd()}/`, '');
    return `${value.name}: ${value.message}${where ? ` (${where})` : ''}`;
  }
  return JSON.stringify(value, replacer as (key: string, value: unknown) => unknown) ?? 'undefined';
}

function isFormattedError(
  value: unknown,
): value is { name: string; message: string; location?: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    'name' in value &&
    'message' in value &&
    'stack' in value
  );
}

/** Prints a `TextLogFormatter`'s items as `textLine`s: warnings and errors on stderr, as JSON ones are. */
class TextLogger extends Logger {
  protected override printLog(logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    const line = `${textLine(log.getAttributes(), this.getJsonReplacer())}\n`;
    (logLevel >= LogLevelThreshold.WARN ? process.stderr : process.stdout).write(line);
  }

  protected override createLogger(options?: ConstructorOptions): Logger {
    return new TextLogger(options);
  }
}

/**
 * The process's one structured JSON logger (Powertools). Handlers add the Lambda request id
 * through the middleware stack; the saga adds `checkout_id`. Request bodies are never logged,
 * so card data cannot reach a log line. `npm start` on a terminal asks for short text lines
 * instead (LOG_FORMAT=text); on Lambda it is always JSON. Created last: a class is not there
 * before its declaration has run.
 */
export const logger = loggerFor(process.env);
