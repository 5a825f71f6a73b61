/** A one-line progress bar on a terminal; nothing at all otherwise (a summary is printed at the end). */
export function createProgress(total: number, stream: NodeJS.WriteStream = process.stderr): { update(done: number, note: string): void; finish(): void } {
  const tty = stream.isTTY === true;
  let last = 0;
  return {
    update(done, note) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const width = 30;
      const ratio = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(ratio * width);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${note}\x1b[K`);
    },
    finish() {
      if (tty) stream.write('\n');
    },
  };
}

/** A single status line rewritten in place on a terminal (e.g. training epochs). */
export function createStatusLine(stream: NodeJS.WriteStream = process.stderr): { update(line: string): void; finish(): void } {
  const tty = stream.isTTY === true;
  let shown = false;
  return {
    update(line) {
      if (!tty) return;
      shown = true;
      stream.write(`\r${line.slice(0, (stream.columns ?? 100) - 1)}\x1b[K`);
    },
    finish() {
      if (tty && shown) stream.write('\n');
    },
  };
}
