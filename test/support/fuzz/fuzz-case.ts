import { PLACEHOLDER } from './markers.ts';

/** One generated request: its body (with `PLACEHOLDER`s) and content type. */
export interface FuzzCase {
  /** Which generator made it, for the summary. */
  generator: string;
  text: string;
  /** Bytes sent instead of `text`'s UTF-8 (possibly invalid UTF-8). */
  bytes?: Uint8Array;
  /** Single bytes overwritten in `text`'s UTF-8 after the marker is put in. */
  flips?: { at: number; byte: number }[];
  contentType: string;
}

/** What is sent for a case with the marker put in, and the text the handler will see. */
export function renderCase(
  c: FuzzCase,
  marker: string,
): { body: string | Uint8Array; serverText: string; marked: boolean } {
  if (c.bytes) {
    return { body: c.bytes, serverText: Buffer.from(c.bytes).toString('utf8'), marked: false };
  }
  const text = c.text.replaceAll(PLACEHOLDER, marker);
  const bytes = Buffer.from(text, 'utf8');
  if (c.flips) {
    // A flip never lands in a marker: it could turn one case's marker into another's.
    const inMarker = new Uint8Array(bytes.length);
    for (let i = bytes.indexOf(marker); i >= 0; i = bytes.indexOf(marker, i + 1)) {
      inMarker.fill(1, i, i + marker.length);
    }
    for (const { at, byte } of c.flips) {
      const i = at % Math.max(1, bytes.length);
      if (!inMarker[i]) bytes[i] = byte;
    }
  }
  const serverText = bytes.toString('utf8');
  return {
    body: c.flips ? new Uint8Array(bytes) : text,
    serverText,
    marked: serverText.includes(marker),
  };
}
