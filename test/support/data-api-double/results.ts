import type { ClientBase, FieldDef } from 'pg';
import { DataApiError } from './errors.ts';
import type { Field } from './parameters.ts';

/** What the double needs to know of a result column's PostgreSQL type. */
export interface ColumnType {
  name: string;
  /** `e` for an enum, `b` for a base type, … (pg_type.typtype). */
  typtype: string;
  /** The element type's name when this is an array type. */
  element: string | null;
}

export interface ResultOptions {
  formatRecordsAs?: string;
  includeResultMetadata?: boolean;
  resultSetOptions?: { decimalReturnType?: string; longReturnType?: string };
}

/**
 * The PostgreSQL types the Data API returns, and the only ones: "RDS Data API supports
 * following Aurora PostgreSQL scalar types: BOOL, BYTEA, DATE, CIDR, DECIMAL/NUMERIC, ENUM,
 * FLOAT8/DOUBLE PRECISION, INET, INT/INT4/SERIAL, INT2/SMALLINT/SMALLSERIAL, INT8/BIGINT/
 * BIGSERIAL, JSONB/JSON, REAL/FLOAT, TEXT/CHAR(N)/VARCHAR/NAME, TIME, TIMESTAMP, UUID, VECTOR"
 * and arrays of most of them
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-operations.html;
 * "For Aurora Serverless v2 and provisioned DB clusters, RDS Data API doesn't support some
 * data types", https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html).
 * `timestamptz` is TIMESTAMP to the JDBC layer the service reads results through, and is
 * returned. Anything else is refused with UnsupportedResultException, as users meet it for
 * `regclass` (https://github.com/drizzle-team/drizzle-orm/issues/2982), `regtype`
 * (https://github.com/typeorm/typeorm/issues/10818), the internal `"char"`
 * (https://github.com/anomalyco/kysely-data-api/pull/38) and `void`.
 */
const SCALARS = typeNames(`bool bytea date cidr numeric float8 inet int4 int2 int8 jsonb json
  float4 text bpchar varchar name time timestamp timestamptz uuid vector`);
const ARRAY_ELEMENTS = typeNames(`bool bit date numeric float8 int4 int2 int8 json float4 text
  bpchar varchar name time timestamp uuid`);

function typeNames(list: string): Set<string> {
  return new Set(list.trim().split(/\s+/));
}

const unsupported = (what: string) =>
  new DataApiError('UnsupportedResultException', `The result contains ${what}.`);

function checkSupported(type: ColumnType): void {
  const supported = type.element
    ? ARRAY_ELEMENTS.has(type.element)
    : SCALARS.has(type.name) || type.typtype === 'e';
  if (!supported) throw unsupported(`the unsupported data type ${type.name}`);
}

/** The types of result columns by OID, read from the backing database's catalog once each. */
export class TypeCatalog {
  private readonly known = new Map<number, ColumnType>();

  async describe(client: ClientBase, fields: FieldDef[]): Promise<ColumnType[]> {
    const missing = [...new Set(fields.map((f) => f.dataTypeID))].filter((o) => !this.known.has(o));
    if (missing.length > 0) {
      const { rows } = await client.query<{ oid: number } & ColumnType>(
        `select t.oid::int as oid, t.typname as name, t.typtype,
           case when t.typcategory = 'A' then e.typname end as element
         from pg_type t left join pg_type e on e.oid = t.typelem
         where t.oid = any($1::oid[])`,
        [missing],
      );
      for (const { oid, ...type } of rows) this.known.set(oid, type);
    }
    return fields.map((f) => {
      const type = this.known.get(f.dataTypeID);
      if (!type) throw unsupported(`an unknown data type (OID ${f.dataTypeID})`);
      return type;
    });
  }
}

/**
 * Limits on what one call returns: "The response size limit is 1 MiB" and "The Data API size
 * limit is 64 KB per row in the result set returned by the database"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html).
 */
const MAX_RESPONSE_BYTES = 1024 * 1024;
const MAX_ROW_BYTES = 64 * 1024;

/**
 * The result set as the service returns it. With `formatRecordsAs: JSON`, `formattedRecords`
 * is one JSON string of an array of objects keyed by column label, and `records` and
 * `columnMetadata` are left out ("In this case, the columnMetadata is null"). SQL values map
 * to JSON as the service documents: integers are numbers (strings with longReturnType
 * STRING), floats are numbers, DECIMAL/NUMERIC a string unless decimalReturnType is
 * DOUBLE_OR_LONG, booleans true/false, binary values base64 strings, arrays JSON arrays, NULL
 * null, and every other type (date and time types included) a string
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-json.html).
 * Unsupported types are refused whether or not a row came back; so is a multidimensional
 * array ("It contained a multidimensional array",
 * https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html#API_ExecuteStatement_Errors).
 */
export function formatResult(
  types: ColumnType[],
  fields: FieldDef[],
  rows: (string | null)[][],
  options: ResultOptions,
): Record<string, unknown> {
  for (const type of types) checkSupported(type);
  const { decimalReturnType = 'STRING', longReturnType = 'LONG' } = options.resultSetOptions ?? {};
  const conversion = { decimalsAsNumbers: decimalReturnType === 'DOUBLE_OR_LONG', longReturnType };
  if (options.formatRecordsAs === 'JSON') {
    const objects = rows.map((row) => {
      const members = fields.map(
        (field, i) =>
          `${JSON.stringify(field.name)}:${toJson(row[i] ?? null, types[i] as ColumnType, conversion)}`,
      );
      const object = `{${members.join(',')}}`;
      if (Buffer.byteLength(object) > MAX_ROW_BYTES) {
        throw new DataApiError('BadRequestException', 'Packet for query is too large.');
      }
      return object;
    });
    const formattedRecords = `[${objects.join(',')}]`;
    if (Buffer.byteLength(formattedRecords) > MAX_RESPONSE_BYTES) {
      throw new DataApiError('BadRequestException', 'Database response exceeded size limit');
    }
    return { formattedRecords };
  }
  const records = rows.map((row) =>
    row.map((value, i) => toField(value, types[i] as ColumnType, conversion)),
  );
  return {
    records,
    ...(options.includeResultMetadata && {
      columnMetadata: fields.map((f, i) => ({
        name: f.name,
        label: f.name,
        typeName: types[i]?.name,
      })),
    }),
  };
}

interface Conversion {
  decimalsAsNumbers: boolean;
  longReturnType: string;
}

const INTEGERS = new Set(['int2', 'int4', 'int8']);
const FLOATS = new Set(['float4', 'float8']);

/** One value, in PostgreSQL's text output, as JSON text (numbers kept digit for digit). */
function toJson(text: string | null, type: ColumnType, conversion: Conversion): string {
  if (text === null) return 'null';
  if (type.element) {
    const element: ColumnType = { name: type.element, typtype: 'b', element: null };
    return `[${parseArray(text).map((item) => toJson(item, element, conversion))}]`;
  }
  const name = type.name;
  if (name === 'bool') return text === 't' ? 'true' : 'false';
  if (INTEGERS.has(name))
    return conversion.longReturnType === 'STRING' ? JSON.stringify(text) : text;
  const finite = /^-?\d/.test(text);
  if (FLOATS.has(name)) return finite ? text : JSON.stringify(text);
  if (name === 'numeric')
    return conversion.decimalsAsNumbers && finite ? text : JSON.stringify(text);
  return JSON.stringify(toText(text, name));
}

/** One value as a `Field` of the records format. */
function toField(text: string | null, type: ColumnType, conversion: Conversion): Field {
  if (text === null) return { isNull: true };
  if (type.element) {
    return { arrayValue: { stringValues: parseArray(text) } };
  }
  const name = type.name;
  if (name === 'bool') return { booleanValue: text === 't' };
  if (INTEGERS.has(name)) {
    return conversion.longReturnType === 'STRING'
      ? { stringValue: text }
      : { longValue: Number(text) };
  }
  if (FLOATS.has(name)) return { doubleValue: Number(text) };
  if (name === 'numeric' && conversion.decimalsAsNumbers) return { doubleValue: Number(text) };
  if (name === 'bytea') return { blobValue: toText(text, name) };
  return { stringValue: toText(text, name) };
}

/** Text PostgreSQL wrote, as the service writes it: bytea in base64, timestamps without zone. */
function toText(text: string, name: string): string {
  if (name === 'bytea') return Buffer.from(text.slice(2), 'hex').toString('base64');
  // The session is in UTC: a timestamptz comes back as its UTC wall time, like a timestamp.
  if (name === 'timestamptz') return text.replace(/[+-]\d{2}(:\d{2}){0,2}$/, '');
  return text;
}

/** The elements of a one-dimensional array in PostgreSQL's text output. */
function parseArray(text: string): (string | null)[] {
  const body = text.startsWith('[') ? text.slice(text.indexOf('=') + 1) : text;
  if (body[1] === '{') throw unsupported('a multidimensional array');
  const items: (string | null)[] = [];
  let i = 1;
  while (i < body.length - 1) {
    if (body[i] === '"') {
      let item = '';
      for (i++; body[i] !== '"'; i++) item += body[i] === '\\' ? body[++i] : body[i];
      items.push(item);
      i++;
    } else {
      const end = body.slice(i).search(/[,}]/) + i;
      const item = body.slice(i, end);
      items.push(item === 'NULL' ? null : item);
      i = end;
    }
    if (body[i] === ',') i++;
  }
  return items;
}
