import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import { printable } from '../../billing/invoices/render-invoice-pdf.js';
import type { BilingualText } from '../../shared/bilingual-text.js';
import { formatXaf } from '../../shared/money.js';
import { voucherQrContent } from './voucher-login.js';
import { formatValidity, type VoucherLocale } from './voucher-texts.js';

export interface VoucherSheet {
  tenantName: string;
  packageName: BilingualText;
  priceXaf: number;
  validityMinutes: number;
  vouchers: { username: string; password: string; /** The voucher's router hotspot DNS name: its QR logs in. */ dnsName: string | null }[];
}

export interface RenderVoucherSheetOptions {
  /** false leaves content streams readable (tests search the text); default true. */
  compress?: boolean;
  /** PDF creation date; fixed dates give identical bytes for identical sheets. */
  createdAt?: Date;
}

export const VOUCHER_SHEET_COLUMNS = 4;
export const VOUCHER_SHEET_ROWS = 9;
export const VOUCHERS_PER_SHEET_PAGE = VOUCHER_SHEET_COLUMNS * VOUCHER_SHEET_ROWS;

/**
 * Printable A4 sheets of vouchers, 4 x 9 cards a page, to cut along the dashed lines and sell
 * over the counter. Each card: the reseller's name, a QR code (hotspot login URL or the code),
 * package, price, validity and the code (user name and password when they differ) in a
 * fixed-width font so it reads unambiguously. QR codes are drawn as vectors: sharp at any
 * printer resolution. Built-in fonts only (WinAnsi), hence `printable`.
 */
export async function renderVoucherSheetPdf(sheet: VoucherSheet, locale: VoucherLocale, options: RenderVoucherSheetOptions = {}): Promise<Buffer> {
  const labels = LABELS[locale];
  const pdf = new PDFDocument({
    size: 'A4',
    margins: { top: MARGIN_TOP, bottom: 0, left: MARGIN_X, right: MARGIN_X },
    bufferPages: true,
    autoFirstPage: false,
    compress: options.compress ?? true,
    lang: locale === 'fr' ? 'fr-CM' : 'en-CM',
    info: {
      Title: printable(`${labels.title} - ${sheet.packageName[locale]}`),
      Author: printable(sheet.tenantName),
      ...(options.createdAt ? { CreationDate: options.createdAt } : {}),
    },
  });
  const chunks: Buffer[] = [];
  pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise<Buffer>((resolve, reject) => {
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  const card = {
    packageName: printable(sheet.packageName[locale]),
    price: printable(formatXaf(sheet.priceXaf, locale)),
    validity: printable(`${labels.validity} ${formatValidity(sheet.validityMinutes, locale)}`),
    tenantName: printable(sheet.tenantName),
  };
  const pages = Math.max(1, Math.ceil(sheet.vouchers.length / VOUCHERS_PER_SHEET_PAGE));
  for (let page = 0; page < pages; page += 1) {
    pdf.addPage();
    const onPage = sheet.vouchers.slice(page * VOUCHERS_PER_SHEET_PAGE, (page + 1) * VOUCHERS_PER_SHEET_PAGE);
    onPage.forEach((voucher, index) => {
      const x = MARGIN_X + (index % VOUCHER_SHEET_COLUMNS) * CARD_WIDTH;
      const y = MARGIN_TOP + Math.floor(index / VOUCHER_SHEET_COLUMNS) * CARD_HEIGHT;
      drawCard(pdf, x, y, card, voucher, labels);
    });
    drawCutLines(pdf, onPage.length);
    footer(pdf, `${card.tenantName} · ${card.packageName} · ${card.price} · ${labels.page(page + 1, pages)}`);
  }
  pdf.end();
  return finished;
}

// ---------------------------------------------------------------------------------------------

interface SheetLabels {
  title: string;
  validity: string;
  code: string;
  username: string;
  password: string;
  page: (page: number, pages: number) => string;
}

const LABELS: Record<VoucherLocale, SheetLabels> = {
  fr: { title: 'Codes WiFi', validity: 'Validité :', code: 'Code', username: 'Utilisateur', password: 'Mot de passe', page: (p, n) => `Page ${p} / ${n}` },
  en: { title: 'WiFi vouchers', validity: 'Valid for', code: 'Code', username: 'Username', password: 'Password', page: (p, n) => `Page ${p} of ${n}` },
};

const PAGE_WIDTH = 595.28;
const PAGE_HEIGHT = 841.89;
const MARGIN_X = 22;
const MARGIN_TOP = 26;
const FOOTER_HEIGHT = 26;
const CARD_WIDTH = (PAGE_WIDTH - 2 * MARGIN_X) / VOUCHER_SHEET_COLUMNS;
const CARD_HEIGHT = (PAGE_HEIGHT - MARGIN_TOP - FOOTER_HEIGHT) / VOUCHER_SHEET_ROWS;
const PAD = 7;
const QR_SIZE = 50;

const COLOR = { ink: '#1f2933', muted: '#616e7c', accent: '#0b6e4f', cut: '#9aa5b1', codeBox: '#f3f6f8' };
const FONT = { regular: 'Helvetica', bold: 'Helvetica-Bold', code: 'Courier-Bold' };

type Pdf = InstanceType<typeof PDFDocument>;

function drawCard(
  pdf: Pdf,
  x: number,
  y: number,
  card: { packageName: string; price: string; validity: string; tenantName: string },
  voucher: VoucherSheet['vouchers'][number],
  labels: SheetLabels,
): void {
  const inner = CARD_WIDTH - 2 * PAD;
  fitLine(pdf, card.tenantName, x + PAD, y + PAD, inner, { font: FONT.bold, size: 7, color: COLOR.accent });

  const separatePassword = voucher.password !== voucher.username;
  // Two code lines need room: the QR gives it up (still over 20 modules of 0.5 mm).
  const qrSize = separatePassword ? QR_SIZE - 8 : QR_SIZE;
  const qrTop = y + PAD + 11;
  drawQr(pdf, voucherQrContent(voucher, voucher.dnsName), x + PAD - 2, qrTop, qrSize);

  const textX = x + PAD + qrSize + 3;
  const textWidth = x + CARD_WIDTH - PAD - textX;
  pdf.font(FONT.bold).fontSize(7.5).fillColor(COLOR.ink);
  const nameHeight = Math.min(pdf.heightOfString(card.packageName, { width: textWidth }), 20);
  pdf.text(card.packageName, textX, qrTop + 2, { width: textWidth, height: 20, ellipsis: true });
  fitLine(pdf, card.price, textX, qrTop + 3 + nameHeight, textWidth, { font: FONT.bold, size: 11, color: COLOR.accent });
  fitLine(pdf, card.validity, textX, qrTop + 16 + nameHeight, textWidth, { font: FONT.regular, size: 6.5, color: COLOR.muted });

  const codeTop = qrTop + qrSize + 2;
  const codeHeight = y + CARD_HEIGHT - 4 - codeTop;
  pdf.roundedRect(x + PAD - 2, codeTop, inner + 4, codeHeight, 3).fillColor(COLOR.codeBox).fill();
  const username = printable(voucher.username);
  if (!separatePassword) {
    fitLine(pdf, labels.code, x + PAD + 1, codeTop + codeHeight / 2 - 2.5, 28, { font: FONT.regular, size: 6.5, color: COLOR.muted });
    fitLine(pdf, username, x + PAD + 26, codeTop + codeHeight / 2 - 5, inner - 28, { font: FONT.code, size: 12, color: COLOR.ink });
  } else {
    const labelWidth = 44;
    fitLine(pdf, labels.username, x + PAD + 1, codeTop + 4.5, labelWidth, { font: FONT.regular, size: 6, color: COLOR.muted });
    fitLine(pdf, username, x + PAD + labelWidth, codeTop + 3, inner - labelWidth, { font: FONT.code, size: 9.5, color: COLOR.ink });
    fitLine(pdf, labels.password, x + PAD + 1, codeTop + 15, labelWidth, { font: FONT.regular, size: 6, color: COLOR.muted });
    fitLine(pdf, printable(voucher.password), x + PAD + labelWidth, codeTop + 13.5, inner - labelWidth, { font: FONT.code, size: 9.5, color: COLOR.ink });
  }
}

/** One line that never wraps: the font shrinks until the text fits `width`. */
function fitLine(pdf: Pdf, text: string, x: number, y: number, width: number, style: { font: string; size: number; color: string }): void {
  let size = style.size;
  pdf.font(style.font).fontSize(size).fillColor(style.color);
  while (size > 4 && pdf.widthOfString(text) > width) {
    size -= 0.25;
    pdf.fontSize(size);
  }
  pdf.text(text, x, y, { width: Math.max(width, pdf.widthOfString(text) + 1), lineBreak: false });
}

/** Dark modules as filled rectangles, one per horizontal run, in a single path. */
function drawQr(pdf: Pdf, content: string, x: number, y: number, size: number): void {
  const { modules } = QRCode.create(content, { errorCorrectionLevel: 'M' });
  const quiet = 1;
  const unit = size / (modules.size + 2 * quiet);
  for (let row = 0; row < modules.size; row += 1) {
    let col = 0;
    while (col < modules.size) {
      if (!modules.get(row, col)) {
        col += 1;
        continue;
      }
      const start = col;
      while (col < modules.size && modules.get(row, col)) col += 1;
      // A hair of overlap keeps viewers from drawing white seams between adjacent runs.
      pdf.rect(x + (start + quiet) * unit, y + (row + quiet) * unit, (col - start) * unit + 0.05, unit + 0.05);
    }
  }
  pdf.fillColor('#000000').fill();
}

/** Dashed lines between cards (and around them), for scissors or a guillotine. */
function drawCutLines(pdf: Pdf, cards: number): void {
  const rows = Math.ceil(cards / VOUCHER_SHEET_COLUMNS);
  const cardsInRow = (row: number) => (row < 0 || row >= rows ? 0 : Math.min(VOUCHER_SHEET_COLUMNS, cards - row * VOUCHER_SHEET_COLUMNS));
  pdf.save().lineWidth(0.5).dash(3, { space: 3 }).strokeColor(COLOR.cut);
  for (let row = 0; row <= rows; row += 1) {
    const y = MARGIN_TOP + row * CARD_HEIGHT;
    const width = Math.max(cardsInRow(row - 1), cardsInRow(row)) * CARD_WIDTH;
    pdf.moveTo(MARGIN_X, y).lineTo(MARGIN_X + width, y).stroke();
  }
  for (let row = 0; row < rows; row += 1) {
    for (let column = 0; column <= cardsInRow(row); column += 1) {
      const x = MARGIN_X + column * CARD_WIDTH;
      pdf.moveTo(x, MARGIN_TOP + row * CARD_HEIGHT).lineTo(x, MARGIN_TOP + (row + 1) * CARD_HEIGHT).stroke();
    }
  }
  pdf.undash().restore();
}

function footer(pdf: Pdf, text: string): void {
  fitLine(pdf, printable(text), MARGIN_X, PAGE_HEIGHT - FOOTER_HEIGHT + 9, PAGE_WIDTH - 2 * MARGIN_X, { font: FONT.regular, size: 7, color: COLOR.muted });
}
