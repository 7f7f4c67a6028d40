import { randomBytes } from 'node:crypto';

/** Same length and alphabet as a marker, replaced by the case's own marker when sent. */
export const PLACEHOLDER = 'fzplaceholder00000';

/** Each run's markers share a prefix: one journal or database query finds them all. */
export function newRunId(): string {
  return `fz${randomBytes(5).toString('hex')}`;
}

/** The marker of the `n`-th case of a run: `PLACEHOLDER`'s length, never a prefix of another. */
export function caseMarker(runId: string, n: number): string {
  return `${runId}${n.toString(36).padStart(6, '0')}`;
}

/** Every case marker of `runId` found in `text`. */
export function markersIn(text: string, runId: string): string[] {
  return text.match(new RegExp(`${runId}[0-9a-z]{6}`, 'g')) ?? [];
}
