/** A piece of JSON text put into a body as is: number literals JSON.stringify cannot write. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON text of a generated body, with `RawJson` pieces spliced in verbatim. */
export function serialize(value: unknown): string {
  const raws: string[] = [];
  const text =
    JSON.stringify(value, (_key, v: unknown) =>
      v instanceof RawJson ? `\u0000raw${raws.push(v.text) - 1}\u0000` : v,
    ) ?? 'null';
  return text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_, i: string) => raws[Number(i)] ?? '');
}
