import { parse as parseCsv } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from '../../functions/app/csv';

/** CSV out (RFC 4180) for the churn-risk export: quoting, and cells a spreadsheet would run as formulas. */
describe('csvCell', () => {
  it('leaves plain text and numbers as they are; null and undefined are empty', () => {
    expect(csvCell('Acme Inc')).toBe('Acme Inc');
    expect(csvCell('')).toBe('');
    expect(csvCell(0.123456)).toBe('0.123456');
    expect(csvCell(42)).toBe('42');
    expect(csvCell(true)).toBe('true');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    // A quote or an = inside the text is not at the start: no prefix.
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell("O'Brien")).toBe("O'Brien");
  });

  it('quotes a cell holding a comma, a quote, CR or LF, doubling inner quotes', () => {
    expect(csvCell('Acme, Inc.')).toBe('"Acme, Inc."');
    expect(csvCell('The "Best"')).toBe('"The ""Best"""');
    expect(csvCell('"')).toBe('""""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('carriage\rreturn')).toBe('"carriage\rreturn"');
    expect(csvCell('crlf\r\nend')).toBe('"crlf\r\nend"');
    expect(csvCell('Acme, "Best" Inc.\nEMEA')).toBe('"Acme, ""Best"" Inc.\nEMEA"');
  });

  it.each([
    ['=HYPERLINK("http://evil.example","x")'],
    ['=1+1'],
    ['+1'],
    ['+SUM(A1:A2)'],
    ['-SUM(A1:A2)'],
    ['-2+3+cmd|\' /C calc\'!A0'],
    ['-1+1'],
    ['-'],
    ['@SUM(1+9)*cmd'],
    ['\t=1+1'],
    ['\r=1+1'],
  ])('neutralises a cell that a spreadsheet would evaluate: %j', (text) => {
    const cell = csvCell(text);
    // Read back as a CSV reader does: the value no longer starts a formula and still shows the text.
    const value = (parseCsv(`${cell}\r\n`) as string[][])[0]?.[0];
    expect(value).toBe(`'${text}`);
    expect(/^[=+\-@\t\r]/.test(value ?? '=')).toBe(false);
  });

  it('keeps negative numbers as numbers', () => {
    for (const n of [-0.05, -1, -123.456, -0.000001, -1e-7, -2e21]) {
      expect(csvCell(n), String(n)).toBe(String(n));
      expect(Number(csvCell(n))).toBe(n);
    }
    expect(csvCell('-0.5')).toBe('-0.5');
    expect(csvCell('-.5')).toBe('-.5');
  });
});

describe('toCsv', () => {
  const columns = ['partnerId', 'name', 'probability', 'change'] as const;

  it('writes a header row and one CRLF-terminated row per record, in column order', () => {
    const text = toCsv(columns, [
      { partnerId: 'P-1', name: 'Plain', probability: 0.5, change: null },
      { change: -0.25, probability: 0.1, name: 'Other', partnerId: 'P-2' },
    ]);
    expect(text).toBe('partnerId,name,probability,change\r\nP-1,Plain,0.5,\r\nP-2,Other,0.1,-0.25\r\n');
  });

  it('a header only when there are no rows', () => {
    expect(toCsv(columns, [])).toBe('partnerId,name,probability,change\r\n');
  });

  it('round-trips through a CSV parser: commas, quotes, line breaks; formulas come back neutralised', () => {
    const rows = [
      { partnerId: 'P-1', name: 'Acme, "Best" Inc.\nEMEA', probability: 0.9, change: -0.1 },
      { partnerId: 'P-2', name: 'Two\r\nlines, "quoted"', probability: 0.8, change: null },
      { partnerId: 'P-3', name: '=HYPERLINK("http://evil.example","x")', probability: 0.7, change: 0.05 },
      { partnerId: 'P-4', name: '@cmd', probability: 0, change: -0.000001 },
    ];
    const parsed = parseCsv(toCsv(columns, rows)) as string[][];
    expect(parsed).toEqual([
      ['partnerId', 'name', 'probability', 'change'],
      ['P-1', 'Acme, "Best" Inc.\nEMEA', '0.9', '-0.1'],
      ['P-2', 'Two\r\nlines, "quoted"', '0.8', ''],
      ['P-3', '\'=HYPERLINK("http://evil.example","x")', '0.7', '0.05'],
      ['P-4', "'@cmd", '0', '-0.000001'],
    ]);
  });
});
