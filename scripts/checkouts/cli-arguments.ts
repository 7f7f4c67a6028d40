import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import {
  type OperatorCommand,
  parseOperatorCommand,
} from '#functions/operator/operator-command.ts';

export const USAGE = `Usage: npm run checkouts -- <command> [options]

Commands:
  list [--status S[,S...]] [--older-than 15m|2h|1d] [--limit N] [--json]
      Checkouts that need a person or are not finished (by default), oldest first, with age.
  show <id> [--json]
      The checkout, its history, and what each service holds for it.
  retry <id> [--by NAME]
      Settle and undo again, now (requires_attention, or unfinished with its lease expired).
  resolve <id> --as failed|completed --note "what was done by hand" [--force] [--by NAME]
      Record the end state after a person fixed the checkout by hand.

Options:
  --by NAME               who acts, kept in the history as operator:NAME (default: your OS user)
  --stack-outputs FILE    use the Data API of a deployed stack (cdk deploy --outputs-file FILE)
  --json                  print JSON instead of text
  -h, --help              this text

Database: DATABASE_URL; else the Data API (DB_CLUSTER_ARN and DB_SECRET_ARN, or --stack-outputs);
else the embedded database of \`npm start\` (PGLITE_DATA_DIR, default .data/pglite).`;

/** What the command line asks for: a validated command and how to print its answer. */
export interface CliRequest {
  command: OperatorCommand;
  json: boolean;
  stackOutputs?: string;
}

/** The command line is not a command: the message to show, with exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** No command could be made out at all: show the whole usage, not just the hint. */
    readonly withUsage = false,
  ) {
    super(message);
  }
}

export const HELP_HINT = 'Run `npm run checkouts -- --help` for the commands and options.';

const OPTIONS = {
  status: { type: 'string' },
  'older-than': { type: 'string' },
  limit: { type: 'string' },
  as: { type: 'string' },
  note: { type: 'string' },
  force: { type: 'boolean' },
  by: { type: 'string' },
  'stack-outputs': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Which options each command takes; any other is refused rather than ignored. */
const ALLOWED: Record<OperatorCommand['command'], readonly string[]> = {
  list: ['status', 'older-than', 'limit'],
  show: [],
  retry: ['by'],
  resolve: ['by', 'as', 'note', 'force'],
};
const COMMON = ['json', 'help', 'stack-outputs'];

/**
 * Reads `argv` (after the script name) into an operator command, validated by the same schema
 * as the operator function's event. `undefined` for `--help`. Throws `UsageError`.
 */
export function parseCliArguments(argv: readonly string[]): CliRequest | undefined {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return undefined;
  const [name, ...rest] = positionals;
  if (name === undefined) throw new UsageError('no command given', true);
  if (!(name in ALLOWED)) throw new UsageError(`unknown command: ${name}`, true);
  const command = name as OperatorCommand['command'];
  const extra = Object.keys(values).filter(
    (option) => !COMMON.includes(option) && !ALLOWED[command].includes(option),
  );
  if (extra.length > 0) throw new UsageError(`${command} takes no --${extra.join(', --')}`);
  const wantsId = command !== 'list';
  if (rest.length > (wantsId ? 1 : 0)) throw new UsageError(`unexpected argument: ${rest.at(-1)}`);
  if (wantsId && rest.length === 0) throw new UsageError(`${command} needs a checkout id`);

  const event = {
    command,
    id: rest[0],
    status: values.status?.split(',').map((s) => s.trim()),
    olderThan: values['older-than'],
    limit: values.limit === undefined ? undefined : Number(values.limit),
    as: values.as,
    note: values.note,
    force: values.force,
    by: ALLOWED[command].includes('by') ? (values.by ?? osUser()) : undefined,
  };
  const defined = Object.fromEntries(Object.entries(event).filter(([, v]) => v !== undefined));
  const result = parseOperatorCommand(defined);
  if ('invalid' in result) {
    throw new UsageError(
      result.invalid.details.map((d) => `${optionName(d.path)}: ${d.message}`).join('\n'),
    );
  }
  return { command: result.command, json: values.json, stackOutputs: values['stack-outputs'] };
}

/** The event's field as the command line spells it: `olderThan` → `--older-than`, `id` → `<id>`. */
function optionName(path: string): string {
  const field = path.split('.')[0] ?? path;
  if (field === 'id') return '<id>';
  if (field === 'command') return 'command';
  return `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function osUser(): string {
  try {
    return userInfo().username.replace(/[^\w.@+-]/g, '_') || 'unknown';
  } catch {
    return 'unknown';
  }
}
