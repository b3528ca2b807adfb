import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderVoucherQrPng, renderVoucherSheetPdf, VOUCHERS_PER_SHEET_PAGE, type VoucherSheet } from '@relais/core';
import { decodeQrPng } from '../support/qr-code.js';


/** The text of each TJ operator of an uncompressed PDFKit file (its standard fonts write WinAnsi hex strings). */
function pdfTextRuns(pdf: Buffer): string[] {
  const content = pdf.toString('latin1');
  return [...content.matchAll(/\[((?:<[0-9a-f]*>\s*-?[\d.]*\s*)+)\]\s*TJ/g)].map((match) =>
    [...match[1]!.matchAll(/<([0-9a-f]*)>/g)].map((hex) => Buffer.from(hex[1]!, 'hex').toString('latin1')).join(''),
  );
}

const pageCount = (pdf: Buffer) => (pdf.toString('latin1').match(/\/Type \/Page\b/g) ?? []).length;

function sheetOf(count: number, options: { separateEvery?: number; dnsName?: string | null } = {}): VoucherSheet {
  return {
    tenantName: 'Hotspot Akwa Étoile',
    packageName: { fr: 'Forfait 1 jour', en: '1-day pass' },
    priceXaf: 1_500,
    validityMinutes: 1_440,
    vouchers: Array.from({ length: count }, (_, i) => {
      const username = `rl${String(i).padStart(4, '0')}xk`;
      const separate = options.separateEvery !== undefined && i % options.separateEvery === 0;
      return { username, password: separate ? `pw${String(i).padStart(5, '0')}` : username, dnsName: options.dnsName === undefined ? 'wifi.akwa.cm' : options.dnsName };
    }),
  };
}

describe('voucher QR codes and printable sheets', () => {
  const directory = mkdtempSync(join(tmpdir(), 'relais-voucher-sheet-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('the QR PNG holds the hotspot login URL, user name and password URL-encoded', async () => {
    const png = await renderVoucherQrPng({ username: 'ab+c d', password: 'p&s=1', dnsName: 'wifi.akwa.cm' });
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    const url = decodeQrPng(png)!;
    expect(url).toBe('http://wifi.akwa.cm/login?username=ab%2Bc%20d&password=p%26s%3D1');
    const parsed = new URL(url);
    expect([parsed.searchParams.get('username'), parsed.searchParams.get('password')]).toEqual(['ab+c d', 'p&s=1']);
  });

  it('without a DNS name the QR holds the code alone (and the password when it differs)', async () => {
    expect(decodeQrPng(await renderVoucherQrPng({ username: 'kxm4t7pa', password: 'kxm4t7pa', dnsName: null }))).toBe('kxm4t7pa');
    expect(decodeQrPng(await renderVoucherQrPng({ username: 'kxm4t7pa', password: '83562947' }))).toBe('kxm4t7pa 83562947');
  });

  it.each([
    [1, 1],
    [VOUCHERS_PER_SHEET_PAGE, 1],
    [VOUCHERS_PER_SHEET_PAGE + 1, 2],
    [100, 3],
  ])('%i vouchers make %i A4 pages, with every code on them', async (count, pages) => {
    const sheet = sheetOf(count, { separateEvery: 7 });
    const pdf = await renderVoucherSheetPdf(sheet, 'fr', { compress: false });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pageCount(pdf)).toBe(pages);
    expect(pdf.toString('latin1')).toContain('/MediaBox [0 0 595.28 841.89]');
    const runs = pdfTextRuns(pdf);
    for (const voucher of sheet.vouchers) {
      expect(runs).toContain(voucher.username);
      if (voucher.password !== voucher.username) expect(runs).toContain(voucher.password);
    }
    expect(runs.filter((run) => run === '1 500 FCFA')).toHaveLength(count);
    expect(runs.some((run) => run.endsWith(`· Page ${pages} / ${pages}`))).toBe(true);
  });

  it('speaks the asked language: labels, price and validity', async () => {
    const fr = pdfTextRuns(await renderVoucherSheetPdf(sheetOf(2, { separateEvery: 2 }), 'fr', { compress: false }));
    const en = pdfTextRuns(await renderVoucherSheetPdf(sheetOf(2, { separateEvery: 2 }), 'en', { compress: false }));
    expect(fr).toEqual(expect.arrayContaining(['Forfait 1 jour', '1 500 FCFA', 'Validité : 1 jour', 'Mot de passe', 'Code']));
    expect(en).toEqual(expect.arrayContaining(['1-day pass', '1,500 FCFA', 'Valid for 1 day', 'Password', 'Code']));
  });

  // The printed QR is drawn as vectors: rasterise the page as a printer would and scan it.
  const hasPdftoppm = spawnSync('pdftoppm', ['-v']).error === undefined;
  it.skipIf(!hasPdftoppm)('the QR codes printed on the sheet scan back to the login URL (needs pdftoppm from poppler-utils)', async () => {
    const sheet = sheetOf(1, { dnsName: 'wifi.akwa.cm' });
    const file = join(directory, 'one.pdf');
    writeFileSync(file, await renderVoucherSheetPdf(sheet, 'fr'));
    // The first card only, at 300 dpi (a typical office printer).
    execFileSync('pdftoppm', ['-r', '300', '-png', '-f', '1', '-l', '1', '-x', '0', '-y', '0', '-W', '600', '-H', '400', file, join(directory, 'card')]);
    expect(decodeQrPng(readFileSync(join(directory, 'card-1.png')))).toBe('http://wifi.akwa.cm/login?username=rl0000xk&password=rl0000xk');
  });
});
