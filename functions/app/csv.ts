/** RFC 4180: quote a cell when it holds a comma, a quote or a line break; double inner quotes. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  // A leading = + - @ would make spreadsheets evaluate the cell: prefix it so it stays text.
  // A negative number is kept as it is, but only when the whole cell is one ("-2+3+cmd|..." is a formula).
  const safe = /^[=+\-@\t\r]/.test(text) && !/^-(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function toCsv<K extends string>(columns: readonly K[], rows: readonly Record<K, unknown>[]): string {
  return [columns.join(','), ...rows.map((row) => columns.map((c) => csvCell(row[c])).join(','))].join('\r\n') + '\r\n';
}
