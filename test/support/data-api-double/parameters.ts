import { DataApiError } from './errors.ts';

/** A `Field` of the wire protocol: exactly one member is set (it is a union). */
export interface Field {
  isNull?: boolean;
  booleanValue?: boolean;
  longValue?: number;
  doubleValue?: number;
  stringValue?: string;
  blobValue?: string;
  arrayValue?: unknown;
}

export interface SqlParameter {
  name?: string;
  value?: Field;
  typeHint?: string;
}

/** A statement ready for PostgreSQL's extended protocol: `$n` placeholders, typed values. */
export interface BoundStatement {
  text: string;
  /** The type OID each `$n` is declared with in the Parse message; 0 lets the server infer it. */
  types: number[];
  values: (string | Buffer | null)[];
}

/** PostgreSQL type OIDs (pg_type.oid, stable across versions). */
const OID = {
  unspecified: 0,
  bool: 16,
  bytea: 17,
  int8: 20,
  json: 114,
  float8: 701,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  numeric: 1700,
  uuid: 2950,
} as const;

const bad = (message: string) => new DataApiError('BadRequestException', message);

/**
 * The type hints and the string each accepts, and the type the value is sent as: "DATE - The
 * corresponding String parameter value is sent as an object of DATE type to the database. The
 * accepted format is YYYY-MM-DD", and so on for DECIMAL, JSON, TIME (HH:MM:SS[.FFF]),
 * TIMESTAMP (YYYY-MM-DD HH:MM:SS[.FFF]) and UUID; any other hint is not a valid value
 * (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_SqlParameter.html).
 */
const HINTS: Record<string, { oid: number; format: RegExp; expected: string }> = {
  DATE: { oid: OID.date, format: /^\d{4}-\d{2}-\d{2}$/, expected: 'YYYY-MM-DD' },
  DECIMAL: {
    oid: OID.numeric,
    format: /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/,
    expected: 'a decimal number',
  },
  JSON: { oid: OID.json, format: /[\s\S]*/, expected: 'JSON text' },
  TIME: { oid: OID.time, format: /^\d{2}:\d{2}:\d{2}(\.\d{1,3})?$/, expected: 'HH:MM:SS[.FFF]' },
  TIMESTAMP: {
    oid: OID.timestamp,
    format: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,3})?$/,
    expected: 'YYYY-MM-DD HH:MM:SS[.FFF]',
  },
  UUID: {
    oid: OID.uuid,
    format: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    expected: 'a UUID',
  },
};

/** One parameter as PostgreSQL receives it. */
interface Bound {
  oid: number;
  value: string | Buffer | null;
}

/**
 * Binds a parameter's value the way the service does:
 * - a hinted string is sent as the hinted type, and must be written in that hint's format;
 * - an unhinted string is sent as VARCHAR, never as an untyped literal the server would
 *   coerce: `where id = :id` on a uuid column fails with "operator does not exist: uuid =
 *   character varying". The type mapping is stated in JDBC terms: "The following table maps
 *   Java Database Connectivity (JDBC) data types to the data types that you specify in Data
 *   API calls" (DECIMAL and "Other types (including types related to date and time)" are
 *   STRING), and "Certain types, such as DECIMAL and TIME, require a hint so that Data API
 *   passes String values to the database as the correct type"
 *   (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-operations.html).
 *   That page does not name VARCHAR: it is what PostgreSQL's JDBC driver sends a string as,
 *   "If stringtype is set to VARCHAR (the default), such parameters will be sent to the server
 *   as varchar parameters" (https://jdbc.postgresql.org/documentation/use/#connection-parameters),
 *   and what the service answered a user who compared a uuid column with a string: "ERROR:
 *   operator does not exist: uuid = character varying"
 *   (https://github.com/cloud-utils/aurora-data-api/pull/11);
 * - longs, doubles, booleans and blobs as int8, float8, bool and bytea; a null untyped;
 * - array values are refused: "Array parameters are not supported." (the `parameters` member,
 *   https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html#API_ExecuteStatement_RequestSyntax;
 *   the service answers it with a BadRequestException, https://github.com/aws/aws-sdk/issues/9).
 */
function bind(parameter: SqlParameter): Bound {
  const { name, value, typeHint } = parameter;
  const members = Object.entries(value ?? {}).filter(([, v]) => v !== undefined);
  if (members.length !== 1) {
    throw bad(
      `Parameter "${name}" has value with ${members.length ? 'more than one' : 'no'} field set`,
    );
  }
  const [member, raw] = members[0] as [keyof Field, unknown];
  if (typeHint !== undefined) {
    const hint = HINTS[typeHint];
    if (!hint) throw bad(`Invalid type hint ${typeHint} for parameter "${name}"`);
    if (member === 'isNull') return { oid: hint.oid, value: null };
    if (member !== 'stringValue') {
      throw bad(
        `The type hint ${typeHint} applies to a string value; parameter "${name}" has ${member}`,
      );
    }
    if (!hint.format.test(String(raw))) {
      throw bad(`Parameter "${name}" with type hint ${typeHint} must be ${hint.expected}: ${raw}`);
    }
    return { oid: hint.oid, value: String(raw) };
  }
  switch (member) {
    case 'isNull':
      if (raw !== true) throw bad(`Parameter "${name}" has value with no field set`);
      return { oid: OID.unspecified, value: null };
    case 'stringValue':
      return { oid: OID.varchar, value: String(raw) };
    case 'longValue':
      return { oid: OID.int8, value: String(raw) };
    case 'doubleValue':
      return { oid: OID.float8, value: String(raw) };
    case 'booleanValue':
      return { oid: OID.bool, value: raw ? 'true' : 'false' };
    case 'blobValue':
      return { oid: OID.bytea, value: Buffer.from(String(raw), 'base64') };
    default:
      throw bad('Array parameters are not supported.');
  }
}

/**
 * Rewrites the statement's `:name` placeholders to PostgreSQL's `$n`, one position per name,
 * binding each name's value. A `::type` cast, and text inside quotes, quoted identifiers,
 * dollar-quoted strings and comments, are left alone.
 */
export function bindParameters(sql: string, parameters: SqlParameter[] = []): BoundStatement {
  const given = new Map<string, SqlParameter>();
  for (const parameter of parameters) {
    if (!parameter.name) throw bad('A parameter has no name');
    if (given.has(parameter.name)) throw bad(`Parameter "${parameter.name}" is given twice`);
    given.set(parameter.name, parameter);
  }
  const positions = new Map<string, number>();
  const bound: Bound[] = [];
  const text = rewritePlaceholders(sql, (name) => {
    let position = positions.get(name);
    if (position === undefined) {
      const parameter = given.get(name);
      if (!parameter) throw bad(`No value specified for parameter: ${name}`);
      bound.push(bind(parameter));
      position = bound.length;
      positions.set(name, position);
    }
    return `$${position}`;
  });
  return { text, types: bound.map((b) => b.oid), values: bound.map((b) => b.value) };
}

const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/y;
const DOLLAR_TAG = /\$([A-Za-z_][A-Za-z0-9_]*)?\$/y;

/** `sql` with every `:name` outside literals and comments replaced by `placeholder(name)`. */
function rewritePlaceholders(sql: string, placeholder: (name: string) => string): string {
  let out = '';
  let i = 0;
  /** Copies up to and including the first `end` at or after `from` (or the rest). */
  const copyThrough = (end: string, from: number) => {
    const at = sql.indexOf(end, from);
    const stop = at < 0 ? sql.length : at + end.length;
    out += sql.slice(i, stop);
    i = stop;
  };
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === "'" || c === '"') {
      // A doubled quote inside is an escaped one: the scan simply continues after it.
      let end = i + 1;
      for (;;) {
        const at = sql.indexOf(c, end);
        if (at < 0 || sql[at + 1] !== c) {
          end = at < 0 ? sql.length : at + 1;
          break;
        }
        end = at + 2;
      }
      out += sql.slice(i, end);
      i = end;
    } else if (c === '-' && next === '-') {
      copyThrough('\n', i);
    } else if (c === '/' && next === '*') {
      copyThrough('*/', i + 2);
    } else if (c === '$' && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
      DOLLAR_TAG.lastIndex = i;
      const tag = DOLLAR_TAG.exec(sql)?.[0];
      if (tag) copyThrough(tag, i + tag.length);
      else out += sql[i++];
    } else if (c === ':' && next === ':') {
      out += '::';
      i += 2;
    } else if (c === ':') {
      IDENTIFIER.lastIndex = i + 1;
      const name = IDENTIFIER.exec(sql)?.[0];
      if (name) {
        out += placeholder(name);
        i += 1 + name.length;
      } else out += sql[i++];
    } else {
      out += sql[i++];
    }
  }
  return out;
}
