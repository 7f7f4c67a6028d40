type Write = typeof process.stdout.write;

/**
 * Captures everything written to stdout and stderr (the Powertools logger writes there through
 * its own `Console`), so the oracle can search the logs for card data. `print` still reaches
 * the terminal.
 */
export class OutputCapture {
  private chunks: string[] = [];
  private saved: { out: Write; err: Write } | undefined;

  start() {
    if (this.saved) return;
    this.saved = { out: process.stdout.write, err: process.stderr.write };
    const capture = ((chunk: unknown, encoding?: unknown, callback?: unknown) => {
      this.chunks.push(
        typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString(),
      );
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') done();
      return true;
    }) as Write;
    process.stdout.write = capture;
    process.stderr.write = capture;
  }

  stop() {
    if (!this.saved) return;
    process.stdout.write = this.saved.out;
    process.stderr.write = this.saved.err;
    this.saved = undefined;
  }

  /** Adds output captured elsewhere (a child process). */
  append(text: string) {
    this.chunks.push(text);
  }

  /** Everything captured since the last call. */
  take(): string {
    const text = this.chunks.join('');
    this.chunks = [];
    return text;
  }

  /** Writes a line to the real stdout. */
  print(line: string) {
    const write = this.saved?.out ?? process.stdout.write;
    write.call(process.stdout, `${line}\n`);
  }
}
