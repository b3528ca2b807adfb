import PDFDocument from 'pdfkit';
import { AppError } from '../../shared/app-error.js';
import { formatXaf } from '../../shared/money.js';
import {
  invoiceDocumentSchema,
  type CommissionStatementDocument,
  type InvoiceDocument,
  type InvoiceKind,
  type InvoiceLocale,
} from './invoice-document.js';

export interface RenderInvoicePdfOptions {
  /** false leaves content streams readable (tests search the text); default true. */
  compress?: boolean;
}

/**
 * Renders an invoice or commission statement to an A4 PDF. Pure: the same document, locale and
 * options give the same bytes (the PDF creation date is the issue date, not "now").
 *
 * Uses PDFKit's built-in Helvetica, which needs no font file but only draws WinAnsi (Latin-1 plus
 * a few signs): every string goes through `printable`, which maps what it cannot draw to "?".
 */
export async function renderInvoicePdf(
  document: InvoiceDocument,
  locale: InvoiceLocale,
  options: RenderInvoicePdfOptions = {},
): Promise<Buffer> {
  const parsed = invoiceDocumentSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('VALIDATION_FAILED', `invoice document ${issue.path.join('.')}: ${issue.message}`);
  }
  const labels = INVOICE_LABELS[locale];
  const pdf = new PDFDocument({
    size: 'A4',
    margins: { top: MARGIN, bottom: MARGIN, left: MARGIN, right: MARGIN },
    bufferPages: true,
    compress: options.compress ?? true,
    lang: locale === 'fr' ? 'fr-CM' : 'en-CM',
    info: {
      Title: printable(`${labels.title[parsed.data.kind]} ${parsed.data.number}`),
      Author: printable(parsed.data.seller.name),
      Subject: printable(parsed.data.buyer.name),
      CreationDate: new Date(`${parsed.data.issueDate}T00:00:00Z`),
    },
  });
  const chunks: Buffer[] = [];
  pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise<Buffer>((resolve, reject) => {
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  new InvoiceLayout(pdf, parsed.data, locale).draw();
  pdf.end();
  return finished;
}

// ---------------------------------------------------------------------------------------------
// Labels

interface InvoiceLabels {
  title: Record<InvoiceKind, string>;
  number: string;
  issueDate: string;
  continued: string;
  billTo: Record<InvoiceKind, string>;
  period: string;
  dueDate: string;
  status: string;
  paidOn: Record<InvoiceKind, (date: string) => string>;
  paymentReference: string;
  taxId: string;
  columns: {
    description: string;
    quantity: string;
    unitPrice: string;
    amount: string;
    day: string;
    payments: string;
    gross: string;
    commission: (rate: string) => string;
    net: string;
  };
  tableTotal: string;
  subtotal: string;
  commissionSubtotal: (rate: string) => string;
  vatNotApplicable: string;
  vat: (rate: string) => string;
  total: Record<InvoiceKind, string>;
  alreadyPaid: Record<InvoiceKind, string>;
  amountDue: string;
  paymentTitle: { open: string; paid: string };
  paymentOpen: (dueDate: string, payerPhone: string | null) => string[];
  paymentPaid: Record<InvoiceKind, (date: string) => string[]>;
  reference: (reference: string) => string;
  page: (page: number, pages: number) => string;
  percent: (rateBps: number) => string;
}

const INVOICE_LABELS: Record<InvoiceLocale, InvoiceLabels> = {
  fr: {
    title: { subscription: 'FACTURE', commission_statement: 'RELEVÉ DE COMMISSIONS' },
    number: 'N°',
    issueDate: "Date d'émission",
    continued: 'suite',
    billTo: { subscription: 'Facturé à', commission_statement: 'Revendeur' },
    period: 'Période',
    dueDate: 'Échéance',
    status: 'Statut',
    paidOn: {
      subscription: (date) => `Payée le ${date}`,
      // Kept from each customer payment as it was collected, not on one day.
      commission_statement: () => 'Prélevée à la source',
    },
    paymentReference: 'Référence de paiement',
    taxId: 'NIU',
    columns: {
      description: 'Désignation',
      quantity: 'Qté',
      unitPrice: 'Prix unitaire',
      amount: 'Montant',
      day: 'Jour / paiement',
      payments: 'Paiements',
      gross: 'Encaissé',
      commission: (rate) => `Commission ${rate}`,
      net: 'Net reversé',
    },
    tableTotal: 'Total',
    subtotal: 'Sous-total',
    commissionSubtotal: (rate) => `Commission plateforme (${rate})`,
    vatNotApplicable: 'TVA non applicable',
    vat: (rate) => `TVA (${rate})`,
    total: { subscription: 'Total', commission_statement: 'Total commission' },
    alreadyPaid: { subscription: 'Déjà réglé', commission_statement: 'Prélevée à la source' },
    amountDue: 'Total à payer',
    paymentTitle: { open: 'Paiement par Mobile Money', paid: 'Paiement' },
    paymentOpen: (dueDate, payerPhone) => [
      `Merci de régler ce montant avant le ${dueDate} par Mobile Money (MTN MoMo ou Orange Money).`,
      payerPhone
        ? `Une demande de paiement sera envoyée au ${payerPhone} : validez-la avec *126# (MTN) ou #150*50# (Orange).`
        : 'Lancez le paiement depuis votre espace Relais, rubrique Facturation.',
    ],
    paymentPaid: {
      subscription: (date) => [`Facture acquittée le ${date}.`, 'Merci pour votre confiance.'],
      commission_statement: () => [
        'La commission a été prélevée à la source sur chaque paiement encaissé pour votre compte pendant la période ; le net vous est reversé.',
        'Aucun paiement n’est attendu.',
      ],
    },
    reference: (reference) => `Référence à rappeler : ${reference}`,
    page: (page, pages) => `Page ${page} / ${pages}`,
    percent: (rateBps) => `${String(rateBps / 100).replace('.', ',')} %`,
  },
  en: {
    title: { subscription: 'INVOICE', commission_statement: 'COMMISSION STATEMENT' },
    number: 'No.',
    issueDate: 'Issue date',
    continued: 'continued',
    billTo: { subscription: 'Bill to', commission_statement: 'Reseller' },
    period: 'Period',
    dueDate: 'Due date',
    status: 'Status',
    paidOn: {
      subscription: (date) => `Paid on ${date}`,
      commission_statement: () => 'Deducted at source',
    },
    paymentReference: 'Payment reference',
    taxId: 'Tax ID (NIU)',
    columns: {
      description: 'Description',
      quantity: 'Qty',
      unitPrice: 'Unit price',
      amount: 'Amount',
      day: 'Day / payment',
      payments: 'Payments',
      gross: 'Collected',
      commission: (rate) => `Commission ${rate}`,
      net: 'Net paid out',
    },
    tableTotal: 'Total',
    subtotal: 'Subtotal',
    commissionSubtotal: (rate) => `Platform commission (${rate})`,
    vatNotApplicable: 'VAT not applicable',
    vat: (rate) => `VAT (${rate})`,
    total: { subscription: 'Total', commission_statement: 'Total commission' },
    alreadyPaid: { subscription: 'Already paid', commission_statement: 'Deducted at source' },
    amountDue: 'Amount due',
    paymentTitle: { open: 'Payment by Mobile Money', paid: 'Payment' },
    paymentOpen: (dueDate, payerPhone) => [
      `Please pay this amount by ${dueDate} with Mobile Money (MTN MoMo or Orange Money).`,
      payerPhone
        ? `A payment request will be sent to ${payerPhone}: approve it with *126# (MTN) or #150*50# (Orange).`
        : 'Start the payment from your Relais dashboard, Billing section.',
    ],
    paymentPaid: {
      subscription: (date) => [`Paid in full on ${date}.`, 'Thank you for your business.'],
      commission_statement: () => [
        'The commission was deducted at source from each payment collected on your behalf during the period; the net amount is paid out to you.',
        'No payment is expected.',
      ],
    },
    reference: (reference) => `Reference to quote: ${reference}`,
    page: (page, pages) => `Page ${page} of ${pages}`,
    percent: (rateBps) => `${rateBps / 100}%`,
  },
};

// ---------------------------------------------------------------------------------------------
// Formatting

const MONTHS: Record<InvoiceLocale, readonly string[]> = {
  fr: ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'],
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
};

/** "1er mars 2026" / "1 March 2026", from an ISO date; no time zone involved. */
export function formatInvoiceDate(isoDate: string, locale: InvoiceLocale): string {
  const [year, month, day] = isoDate.split('-').map(Number) as [number, number, number];
  const dayText = locale === 'fr' && day === 1 ? '1er' : String(day);
  return `${dayText} ${MONTHS[locale][month - 1]} ${year}`;
}

/** "1er – 31 mars 2026", "1er mars – 30 avril 2026", or both dates in full across years. */
export function formatInvoicePeriod(start: string, end: string, locale: InvoiceLocale): string {
  const full = formatInvoiceDate(end, locale);
  if (start === end) return full;
  const [startYear, startMonth, startDay] = start.split('-').map(Number) as [number, number, number];
  const [endYear, endMonth] = end.split('-').map(Number) as [number, number, number];
  const startDayText = locale === 'fr' && startDay === 1 ? '1er' : String(startDay);
  if (startYear !== endYear) return `${formatInvoiceDate(start, locale)} – ${full}`;
  if (startMonth !== endMonth) return `${startDayText} ${MONTHS[locale][startMonth - 1]} – ${full}`;
  return `${startDayText} – ${full}`;
}

/**
 * +237 6 90 12 34 56 for Cameroonian numbers, anything else as stored. No-break spaces: a phone
 * number cut across two lines is misdialled.
 */
function formatPhone(e164: string): string {
  const match = /^\+237(\d)(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(e164);
  return match ? ['+237', ...match.slice(1)].join(NO_BREAK_SPACE) : e164;
}

const NO_BREAK_SPACE = '\u00a0';
/** Spaces that must not break; the standard fonts only have U+00A0 for them. */
const NO_BREAK_SPACES = new Set(['\u00a0', '\u2007', '\u202f', '\u2060']);

/** WinAnsi extras beyond Latin-1 that PDFKit's standard fonts map (see its WIN_ANSI_MAP). */
const WIN_ANSI_EXTRAS = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

/**
 * What the standard fonts can draw: PDFKit would otherwise emit a character above U+00FF as two
 * bytes, so U+202F ("52 000" from Intl) prints as " /" and an emoji as garbage.
 */
export function printable(text: string): string {
  let result = '';
  for (const char of text.normalize('NFC')) {
    const code = char.codePointAt(0)!;
    if (NO_BREAK_SPACES.has(char)) result += NO_BREAK_SPACE;
    else if (/\s/u.test(char)) result += ' ';
    else if ((code >= 0x20 && code < 0x7f) || (code >= 0xa1 && code <= 0xff) || WIN_ANSI_EXTRAS.has(char)) result += char;
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) continue;
    else result += '?';
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Layout

const PAGE_WIDTH = 595.28;
const PAGE_HEIGHT = 841.89;
const MARGIN = 50;
const CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN;
/** Lowest y content may reach; the footer lives below. */
const CONTENT_BOTTOM = PAGE_HEIGHT - MARGIN - 22;
const FOOTER_Y = PAGE_HEIGHT - MARGIN - 8;

const COLOR = {
  ink: '#1f2933',
  muted: '#616e7c',
  accent: '#0b6e4f',
  rule: '#d5dbe1',
  panel: '#f3f6f8',
  white: '#ffffff',
};
const FONT = { regular: 'Helvetica', bold: 'Helvetica-Bold' };

interface Column {
  header: string;
  width: number;
  align: 'left' | 'right';
}

interface TextStyle {
  size: number;
  bold?: boolean;
  color?: string;
}

class InvoiceLayout {
  private readonly labels: InvoiceLabels;
  private y = MARGIN;

  constructor(
    private readonly pdf: PDFKit.PDFDocument,
    private readonly document: InvoiceDocument,
    private readonly locale: InvoiceLocale,
  ) {
    this.labels = INVOICE_LABELS[locale];
  }

  draw(): void {
    this.drawHeader();
    this.drawParties();
    if (this.document.kind === 'subscription') this.drawSubscriptionLines();
    else this.drawCommissionLines(this.document);
    this.drawTotalsAndPayment();
    this.drawFooters();
  }

  // --- primitives ---

  private style(style: TextStyle): this {
    this.pdf.font(style.bold ? FONT.bold : FONT.regular).fontSize(style.size).fillColor(style.color ?? COLOR.ink);
    return this;
  }

  /** Wrapped text in a box of `width`; returns its height. */
  private text(value: string, x: number, y: number, width: number, style: TextStyle, align: 'left' | 'right' = 'left'): number {
    this.style(style);
    const content = printable(value);
    this.pdf.text(content, x, y, { width, align, lineGap: 1.5 });
    return this.pdf.heightOfString(content, { width, lineGap: 1.5 });
  }

  private measure(value: string, width: number, style: TextStyle): number {
    this.style(style);
    return this.pdf.heightOfString(printable(value), { width, lineGap: 1.5 });
  }

  /** One line that must not wrap (amounts, numbers): shrinks the font until it fits `width`. */
  private line(value: string, x: number, y: number, width: number, style: TextStyle, align: 'left' | 'right' = 'left'): void {
    const content = printable(value);
    let size = style.size;
    this.style({ ...style, size });
    while (size > 6 && this.pdf.widthOfString(content) > width) {
      size -= 0.5;
      this.style({ ...style, size });
    }
    // A width a little larger than the text keeps PDFKit's wrapper from breaking it.
    const drawnWidth = Math.max(width, this.pdf.widthOfString(content) + 1);
    const left = align === 'right' ? x + width - drawnWidth : x;
    this.pdf.text(content, left, y, { width: drawnWidth, align, lineBreak: false });
  }

  private rule(y: number, x = MARGIN, width = CONTENT_WIDTH, color = COLOR.rule): void {
    this.pdf.moveTo(x, y).lineTo(x + width, y).lineWidth(0.75).strokeColor(color).stroke();
  }

  private panel(x: number, y: number, width: number, height: number, color = COLOR.panel): void {
    this.pdf.roundedRect(x, y, width, height, 4).fillColor(color).fill();
  }

  private caption(value: string, x: number, y: number, width: number): number {
    return this.text(value.toUpperCase(), x, y, width, { size: 7.5, bold: true, color: COLOR.muted });
  }

  /** A date never splits across lines. */
  private date(isoDate: string): string {
    return formatInvoiceDate(isoDate, this.locale).replaceAll(' ', NO_BREAK_SPACE);
  }

  private money(amount: number): string {
    return formatXaf(amount, this.locale);
  }

  private newPage(): void {
    this.pdf.addPage();
    this.y = MARGIN;
    const { seller, number, kind } = this.document;
    this.line(`${seller.name} — ${this.labels.title[kind]} ${number} (${this.labels.continued})`, MARGIN, this.y, CONTENT_WIDTH, {
      size: 8.5,
      color: COLOR.muted,
    });
    this.y += 16;
    this.rule(this.y);
    this.y += 14;
  }

  private ensureRoom(height: number): boolean {
    if (this.y + height <= CONTENT_BOTTOM) return false;
    this.newPage();
    return true;
  }

  // --- sections ---

  private drawHeader(): void {
    const { seller, number, kind, issueDate } = this.document;
    const top = MARGIN;
    const leftWidth = 250;
    let left = top;
    left += this.text(seller.name, MARGIN, left, leftWidth, { size: 22, bold: true, color: COLOR.accent }) + 4;
    for (const addressLine of seller.addressLines) left += this.text(addressLine, MARGIN, left, leftWidth, { size: 9, color: COLOR.muted });
    left += this.text(`${this.labels.taxId}${this.colon()}${seller.taxId}`, MARGIN, left, leftWidth, { size: 9, color: COLOR.muted });
    left += this.text(seller.email, MARGIN, left, leftWidth, { size: 9, color: COLOR.muted });
    if (seller.phone) left += this.text(seller.phone, MARGIN, left, leftWidth, { size: 9, color: COLOR.muted });

    const rightX = MARGIN + leftWidth + 10;
    const rightWidth = CONTENT_WIDTH - leftWidth - 10;
    let right = top + 2;
    this.line(this.labels.title[kind], rightX, right, rightWidth, { size: 20, bold: true }, 'right');
    right += 28;
    this.line(`${this.labels.number} ${number}`, rightX, right, rightWidth, { size: 11, bold: true, color: COLOR.accent }, 'right');
    right += 17;
    this.line(`${this.labels.issueDate}${this.colon()}${this.date(issueDate)}`, rightX, right, rightWidth, { size: 9, color: COLOR.muted }, 'right');
    right += 13;

    this.y = Math.max(left, right) + 16;
    this.rule(this.y, MARGIN, CONTENT_WIDTH, COLOR.accent);
    this.y += 18;
  }

  private colon(): string {
    return this.locale === 'fr' ? ' : ' : ': ';
  }

  private drawParties(): void {
    const { buyer, period, status, kind, paymentReference } = this.document;
    const gap = 16;
    const boxWidth = (CONTENT_WIDTH - gap) / 2;
    const pad = 12;
    const inner = boxWidth - 2 * pad;

    const buyerLines: [string, TextStyle][] = [
      [buyer.name, { size: 11, bold: true }],
      [buyer.email, { size: 9 }],
      ...(buyer.phone ? ([[formatPhone(buyer.phone), { size: 9 }]] as [string, TextStyle][]) : []),
    ];
    const facts: [string, string][] = [
      [this.labels.period, formatInvoicePeriod(period.start, period.end, this.locale).replaceAll(' ', NO_BREAK_SPACE).replace(`${NO_BREAK_SPACE}–${NO_BREAK_SPACE}`, ' – ')],
      status.state === 'open'
        ? [this.labels.dueDate, this.date(status.dueDate)]
        : [this.labels.status, this.labels.paidOn[kind](this.date(status.paidOn))],
      [this.labels.paymentReference, paymentReference],
    ];

    const captionHeight = 13;
    const buyerHeight = captionHeight + buyerLines.reduce((h, [value, style]) => h + this.measure(value, inner, style) + 2, 0);
    const labelWidth = 104;
    const factsHeight = facts.reduce(
      (h, [label, value]) => h + Math.max(this.measure(label, labelWidth, { size: 8.5 }), this.measure(value, inner - labelWidth, { size: 9, bold: true })) + 5,
      0,
    );
    const height = Math.max(buyerHeight, factsHeight) + 2 * pad - 4;

    const top = this.y;
    this.panel(MARGIN, top, boxWidth, height);
    this.panel(MARGIN + boxWidth + gap, top, boxWidth, height);

    let y = top + pad;
    this.caption(this.labels.billTo[kind], MARGIN + pad, y, inner);
    y += captionHeight;
    for (const [value, style] of buyerLines) y += this.text(value, MARGIN + pad, y, inner, style) + 2;

    const factsX = MARGIN + boxWidth + gap + pad;
    y = top + pad;
    for (const [label, value] of facts) {
      const labelHeight = this.text(label, factsX, y + 0.5, labelWidth, { size: 8.5, color: COLOR.muted });
      const valueHeight = this.text(value, factsX + labelWidth, y, inner - labelWidth, { size: 9, bold: true });
      y += Math.max(labelHeight, valueHeight) + 5;
    }
    this.y = top + height + 22;
  }

  private drawTable(columns: Column[], rows: string[][], totalRow?: string[]): void {
    const padX = 6;
    const padY = 5;
    const headerStyle: TextStyle = { size: 8, bold: true, color: COLOR.muted };
    const cellStyle: TextStyle = { size: 9 };

    const drawHeaderRow = () => {
      const height = 20;
      this.pdf.rect(MARGIN, this.y, CONTENT_WIDTH, height).fillColor(COLOR.panel).fill();
      let x = MARGIN;
      for (const column of columns) {
        this.line(column.header.toUpperCase(), x + padX, this.y + 6.5, column.width - 2 * padX, headerStyle, column.align);
        x += column.width;
      }
      this.y += height;
    };

    const rowHeight = (cells: string[], style: TextStyle) =>
      Math.max(...cells.map((cell, i) => (columns[i]!.align === 'left' ? this.measure(cell, columns[i]!.width - 2 * padX, style) : style.size + 2))) + 2 * padY;

    const drawRow = (cells: string[], style: TextStyle, height: number) => {
      let x = MARGIN;
      cells.forEach((cell, i) => {
        const column = columns[i]!;
        if (column.align === 'left') this.text(cell, x + padX, this.y + padY, column.width - 2 * padX, style);
        else this.line(cell, x + padX, this.y + padY, column.width - 2 * padX, style, 'right');
        x += column.width;
      });
      this.y += height;
    };

    this.ensureRoom(20 + rowHeight(rows[0]!, cellStyle));
    drawHeaderRow();
    for (const cells of rows) {
      const height = rowHeight(cells, cellStyle);
      if (this.ensureRoom(height)) drawHeaderRow();
      drawRow(cells, cellStyle, height);
      this.rule(this.y);
    }
    if (totalRow) {
      const style: TextStyle = { size: 9, bold: true };
      const height = rowHeight(totalRow, style);
      if (this.ensureRoom(height)) drawHeaderRow();
      this.rule(this.y, MARGIN, CONTENT_WIDTH, COLOR.ink);
      drawRow(totalRow, style, height);
    }
    this.y += 18;
  }

  private drawSubscriptionLines(): void {
    if (this.document.kind !== 'subscription') return;
    const { columns } = this.labels;
    const fixed = [44, 100, 100];
    this.drawTable(
      [
        { header: columns.description, width: CONTENT_WIDTH - fixed.reduce((a, b) => a + b, 0), align: 'left' },
        { header: columns.quantity, width: fixed[0]!, align: 'right' },
        { header: columns.unitPrice, width: fixed[1]!, align: 'right' },
        { header: columns.amount, width: fixed[2]!, align: 'right' },
      ],
      this.document.lines.map((line) => [line.description, String(line.quantity), this.money(line.unitPriceXaf), this.money(line.totalXaf)]),
    );
  }

  private drawCommissionLines(document: CommissionStatementDocument): void {
    const { columns } = this.labels;
    const rate = this.labels.percent(document.commissionRateBps);
    const fixed = [58, 86, 88, 86];
    const count = (n: number) => formatXaf(n, this.locale).replace(/ FCFA$/, '');
    this.drawTable(
      [
        { header: columns.day, width: CONTENT_WIDTH - fixed.reduce((a, b) => a + b, 0), align: 'left' },
        { header: columns.payments, width: fixed[0]!, align: 'right' },
        { header: columns.gross, width: fixed[1]!, align: 'right' },
        { header: columns.commission(rate), width: fixed[2]!, align: 'right' },
        { header: columns.net, width: fixed[3]!, align: 'right' },
      ],
      document.lines.map((line) => [
        line.description,
        count(line.paymentsCount),
        this.money(line.grossXaf),
        this.money(line.commissionXaf),
        this.money(line.netXaf),
      ]),
      [
        this.labels.tableTotal,
        count(document.lines.reduce((total, line) => total + line.paymentsCount, 0)),
        this.money(document.totals.grossXaf),
        this.money(document.totals.subtotalXaf),
        this.money(document.totals.netXaf),
      ],
    );
  }

  private drawTotalsAndPayment(): void {
    const document = this.document;
    const { labels } = this;
    const { kind, totals, status } = document;
    const rows: { label: string; value: string; strong?: boolean }[] = [];
    rows.push({
      label: kind === 'commission_statement' ? labels.commissionSubtotal(labels.percent(document.commissionRateBps)) : labels.subtotal,
      value: this.money(totals.subtotalXaf),
    });
    rows.push(
      totals.vat
        ? { label: labels.vat(labels.percent(totals.vat.rateBps)), value: this.money(totals.vat.amountXaf) }
        : { label: labels.vatNotApplicable, value: '' },
    );
    rows.push({ label: labels.total[kind], value: this.money(totals.totalXaf), strong: true });
    if (status.state === 'paid') rows.push({ label: labels.alreadyPaid[kind], value: this.money(-totals.totalXaf) });

    const totalsWidth = 236;
    const rowHeight = 19;
    const dueHeight = 28;
    const totalsHeight = rows.length * rowHeight + 6 + dueHeight;

    const paymentWidth = CONTENT_WIDTH - totalsWidth - 24;
    const paymentPad = 12;
    const paymentTitle = status.state === 'open' ? labels.paymentTitle.open : labels.paymentTitle.paid;
    const paymentLines =
      status.state === 'open'
        ? [
            ...labels.paymentOpen(this.date(status.dueDate), document.buyer.phone ? formatPhone(document.buyer.phone) : null),
            labels.reference(document.paymentReference),
          ]
        : labels.paymentPaid[kind](this.date(status.paidOn));
    const paymentInner = paymentWidth - 2 * paymentPad;
    const paymentHeight =
      2 * paymentPad + 14 + paymentLines.reduce((h, value) => h + this.measure(value, paymentInner, { size: 8.5 }) + 4, 0);

    this.ensureRoom(Math.max(totalsHeight, paymentHeight));
    const top = this.y;

    // Payment instructions, left.
    this.panel(MARGIN, top, paymentWidth, paymentHeight);
    let y = top + paymentPad;
    this.caption(paymentTitle, MARGIN + paymentPad, y, paymentInner);
    y += 14;
    paymentLines.forEach((value, index) => {
      const bold = status.state === 'open' && index === paymentLines.length - 1;
      y += this.text(value, MARGIN + paymentPad, y, paymentInner, { size: 8.5, bold, color: COLOR.ink }) + 4;
    });

    // Totals, right.
    const x = MARGIN + CONTENT_WIDTH - totalsWidth;
    const valueWidth = 100;
    y = top;
    for (const row of rows) {
      const style: TextStyle = { size: 9, bold: row.strong, color: row.strong ? COLOR.ink : COLOR.muted };
      if (row.strong) this.rule(y, x, totalsWidth, COLOR.ink);
      this.line(row.label, x + 6, y + 5, totalsWidth - valueWidth - 12, style);
      this.line(row.value, x + totalsWidth - valueWidth - 6, y + 5, valueWidth, { ...style, color: COLOR.ink }, 'right');
      y += rowHeight;
    }
    y += 6;
    this.panel(x, y, totalsWidth, dueHeight, COLOR.accent);
    this.line(labels.amountDue, x + 10, y + 9, totalsWidth - valueWidth - 20, { size: 10.5, bold: true, color: COLOR.white });
    this.line(this.money(document.amountDueXaf), x + totalsWidth - valueWidth - 10, y + 9, valueWidth, { size: 10.5, bold: true, color: COLOR.white }, 'right');

    this.y = top + Math.max(totalsHeight, paymentHeight) + 20;
  }

  private drawFooters(): void {
    const { seller, number } = this.document;
    const range = this.pdf.bufferedPageRange();
    const legal = [seller.name, ...seller.addressLines, `${this.labels.taxId} ${seller.taxId}`, seller.email].join(' · ');
    for (let index = range.start; index < range.start + range.count; index += 1) {
      this.pdf.switchToPage(index);
      // Writing below the bottom margin would make PDFKit open a new page.
      const bottomMargin = this.pdf.page.margins.bottom;
      this.pdf.page.margins.bottom = 0;
      this.rule(FOOTER_Y - 8);
      const pageText = `${number} · ${this.labels.page(index - range.start + 1, range.count)}`;
      const pageWidth = 130;
      this.line(legal, MARGIN, FOOTER_Y, CONTENT_WIDTH - pageWidth - 10, { size: 7.5, color: COLOR.muted });
      this.line(pageText, MARGIN + CONTENT_WIDTH - pageWidth, FOOTER_Y, pageWidth, { size: 7.5, color: COLOR.muted }, 'right');
      this.pdf.page.margins.bottom = bottomMargin;
    }
  }
}
