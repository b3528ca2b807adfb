import { describe, expect, it } from 'vitest';
import {
  buildInvoiceDocument,
  DEFAULT_PLATFORM_SELLER,
  type BuildInvoiceDocumentInput,
  type CommissionLineInput,
  type InvoiceDocument,
} from '../src/billing/invoices/invoice-document.js';
import { formatInvoiceDate, formatInvoicePeriod, printable, renderInvoicePdf } from '../src/billing/invoices/render-invoice-pdf.js';

/**
 * The text PDFKit drew, one string per text-showing operator, read from uncompressed content
 * streams: PDFKit writes standard-font text as `[<hex> kerning <hex> ...] TJ`, one byte per
 * WinAnsi character. Enough to assert what is printed without a PDF parser.
 */
/** WinAnsi is Latin-1 except 0x80-0x9F; the few of those this layout prints. (Node's TextDecoder treats windows-1252 as Latin-1.) */
const WIN_ANSI_EXTRAS: Record<number, string> = { 0x92: '’', 0x95: '•', 0x96: '–', 0x97: '—', 0x80: '€', 0x9c: 'œ' };
const decodeWinAnsi = (bytes: Buffer) => [...bytes].map((byte) => WIN_ANSI_EXTRAS[byte] ?? String.fromCharCode(byte)).join('');

function drawnText(pdf: Buffer): string[] {
  const source = pdf.toString('latin1');
  const fragments: string[] = [];
  for (const match of source.matchAll(/\[((?:<[0-9a-f]*>\s*-?[\d.]*\s*)+)\]\s*TJ/g)) {
    const hexes = [...match[1]!.matchAll(/<([0-9a-f]*)>/g)].map((m) => m[1]!);
    for (const hex of hexes) expect(hex.length % 2, `a character above U+00FF reached PDFKit: <${hex}>`).toBe(0);
    fragments.push(hexes.map((hex) => decodeWinAnsi(Buffer.from(hex, 'hex'))).join('').replaceAll('\u00a0', ' '));
  }
  return fragments;
}

const pageCount = (pdf: Buffer) => pdf.toString('latin1').match(/\/Type \/Page\b/g)?.length ?? 0;

const buyer = {
  tenantId: '7d3f0c52-5f43-4a4e-9a43-0c6f7f6f1a11',
  name: 'Wifi Zone Bépanda',
  email: 'contact@wifizone-bepanda.cm',
  phone: '+237690123456',
};

const subscription = (overrides: Partial<Extract<BuildInvoiceDocumentInput, { kind: 'subscription' }>> = {}) =>
  buildInvoiceDocument({
    kind: 'subscription',
    number: 'RLS-2026-000123',
    locale: 'fr',
    issueDate: '2026-04-01',
    period: { start: '2026-04-01', end: '2026-04-30' },
    seller: DEFAULT_PLATFORM_SELLER,
    buyer,
    status: { state: 'open', dueDate: '2026-04-08' },
    lines: [
      { description: 'Abonnement Business — avril 2026', quantity: 1, unitPriceXaf: 45_000 },
      { description: 'Agent supplémentaire', quantity: 2, unitPriceXaf: 3_500 },
    ],
    ...overrides,
  });

function perPayment(count: number): CommissionLineInput[] {
  return Array.from({ length: count }, (_, i) => ({
    description: `${String(1 + (i % 28)).padStart(2, '0')}/03 10:${String(i % 60).padStart(2, '0')} · MTN · CP2603${String(10_000 + i)}`,
    paymentsCount: 1,
    grossXaf: 1_000,
    commissionXaf: 100,
  }));
}

const statement = (lines: CommissionLineInput[], locale: 'fr' | 'en' = 'fr') =>
  buildInvoiceDocument({
    kind: 'commission_statement',
    number: 'RLS-2026-000124',
    locale,
    issueDate: '2026-04-01',
    period: { start: '2026-03-01', end: '2026-03-31' },
    seller: DEFAULT_PLATFORM_SELLER,
    buyer,
    commissionRateBps: 1000,
    status: { state: 'paid', paidOn: '2026-03-31' },
    lines,
  });

describe('renderInvoicePdf', () => {
  it('renders a one-page French invoice with its number, buyer, amounts and accents', async () => {
    const pdf = await renderInvoicePdf(subscription(), 'fr', { compress: false });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pageCount(pdf)).toBe(1);
    const text = drawnText(pdf);
    for (const expected of [
      'FACTURE',
      'N° RLS-2026-000123',
      'Wifi Zone Bépanda',
      '+237 6 90 12 34 56',
      'Abonnement Business — avril 2026',
      '45 000 FCFA',
      '7 000 FCFA',
      '52 000 FCFA',
      'TVA non applicable',
      'Total à payer',
      '1er – 30 avril 2026',
      'Page 1 / 1',
    ]) {
      expect(text.some((fragment) => fragment.includes(expected)), `${expected} in ${JSON.stringify(text)}`).toBe(true);
    }
  });

  it('renders English labels and amounts, and VAT when the seller charges it', async () => {
    const document = subscription({
      locale: 'en',
      seller: { ...DEFAULT_PLATFORM_SELLER, vatRateBps: 1925 },
      status: { state: 'paid', paidOn: '2026-04-03' },
    });
    expect(document.totals).toEqual({ subtotalXaf: 52_000, vat: { rateBps: 1925, amountXaf: 10_010 }, totalXaf: 62_010 });
    expect(document.amountDueXaf).toBe(0);
    const text = drawnText(await renderInvoicePdf(document, 'en', { compress: false })).join('\n');
    for (const expected of ['INVOICE', 'No. RLS-2026-000123', 'VAT (19.25%)', '10,010 FCFA', '62,010 FCFA', 'Amount due', '0 FCFA', 'Paid on 3 April 2026', 'Page 1 of 1']) {
      expect(text).toContain(expected);
    }
    expect(text).not.toContain('not applicable');
  });

  it('renders a commission statement over several pages, with the table header repeated and a footer on each', async () => {
    const document = statement(perPayment(80));
    expect(document.totals).toMatchObject({ grossXaf: 80_000, subtotalXaf: 8_000, netXaf: 72_000, totalXaf: 8_000 });
    const pdf = await renderInvoicePdf(document, 'fr', { compress: false });
    // Table on pages 1-3 (its header repeated on each), the totals box alone on page 4.
    expect(pageCount(pdf)).toBe(4);
    const text = drawnText(pdf);
    expect(text).toContain('RELEVÉ DE COMMISSIONS');
    expect(text.filter((fragment) => fragment === 'ENCAISSÉ')).toHaveLength(3);
    for (const page of [1, 2, 3, 4]) expect(text).toContain(`RLS-2026-000124 · Page ${page} / 4`);
    expect(text).toContain('COMMISSION 10 %');
    expect(text).toContain('80 000 FCFA');
    expect(text).toContain('72 000 FCFA');
    expect(text).toContain('Prélevée à la source');
    expect(text).toContain('Total à payer');
  });

  it('is deterministic: the same document renders to the same bytes', async () => {
    const document = statement(perPayment(5), 'en');
    const [first, second] = await Promise.all([renderInvoicePdf(document, 'en'), renderInvoicePdf(document, 'en')]);
    expect(first.equals(second)).toBe(true);
    expect(first.subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('draws text the standard fonts cannot as "?" instead of corrupting the line', async () => {
    const document = subscription({ buyer: { ...buyer, name: 'Wifi 🚀 Zone 北 Bépanda\u202fSud' } });
    const text = drawnText(await renderInvoicePdf(document, 'fr', { compress: false }));
    expect(text).toContain('Wifi ? Zone ? Bépanda Sud');
  });

  it('refuses a document whose totals do not add up', async () => {
    const document = subscription();
    const tampered = { ...document, totals: { ...document.totals, totalXaf: 1 } } as InvoiceDocument;
    await expect(renderInvoicePdf(tampered, 'fr')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('invoice text helpers', () => {
  it.each([
    ['2026-03-01', 'fr', '1er mars 2026'],
    ['2026-08-15', 'fr', '15 août 2026'],
    ['2026-02-01', 'en', '1 February 2026'],
  ] as const)('formats %s in %s as %s', (date, locale, expected) => {
    expect(formatInvoiceDate(date, locale)).toBe(expected);
  });

  it.each([
    ['2026-03-01', '2026-03-31', 'fr', '1er – 31 mars 2026'],
    ['2026-03-15', '2026-04-14', 'fr', '15 mars – 14 avril 2026'],
    ['2025-12-15', '2026-01-14', 'en', '15 December 2025 – 14 January 2026'],
    ['2026-03-05', '2026-03-05', 'en', '5 March 2026'],
  ] as const)('formats the period %s..%s in %s as %s', (start, end, locale, expected) => {
    expect(formatInvoicePeriod(start, end, locale)).toBe(expected);
  });

  it('keeps WinAnsi text, maps no-break spaces to U+00A0 and the rest to "?"', () => {
    expect(printable('Relevé à payer — 52 000 FCFA € œ')).toBe('Relevé à payer — 52 000 FCFA € œ');
    expect(printable('52\u202f000')).toBe('52\u00a0000');
    expect(printable('a\tb\nc\u0007d')).toBe('a b cd');
    expect(printable('✓ 😀')).toBe('? ?');
  });
});
