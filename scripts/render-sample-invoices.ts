/**
 * Renders sample invoices and commission statements to PDF, to look at the layout:
 *
 *   npx tsx scripts/render-sample-invoices.ts [output-directory]   (default /tmp/relais-invoice-samples)
 *   pdftoppm -png -r 80 <file>.pdf <file>                           (poppler-utils, to get PNGs)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  buildInvoiceDocument,
  DEFAULT_PLATFORM_SELLER,
  type CommissionLineInput,
  type InvoiceDocument,
  type InvoiceLocale,
} from '../core/src/billing/invoices/invoice-document.js';
import { renderInvoicePdf } from '../core/src/billing/invoices/render-invoice-pdf.js';

const outputDirectory = path.resolve(process.argv[2] ?? '/tmp/relais-invoice-samples');

const buyer = {
  tenantId: '7d3f0c52-5f43-4a4e-9a43-0c6f7f6f1a11',
  name: 'Wifi Zone Bépanda',
  email: 'contact@wifizone-bepanda.cm',
  phone: '+237690123456',
};

function commissionDays(days: number): CommissionLineInput[] {
  return Array.from({ length: days }, (_, index) => {
    const paymentsCount = 18 + ((index * 7) % 23);
    const grossXaf = paymentsCount * 500 + ((index * 3) % 5) * 1000;
    return {
      description: `${String(index + 1).padStart(2, '0')}/03/2026`,
      paymentsCount,
      grossXaf,
      commissionXaf: Math.round(grossXaf / 10),
    };
  });
}

function commissionPayments(count: number): CommissionLineInput[] {
  const operators = ['MTN', 'Orange'];
  return Array.from({ length: count }, (_, index) => {
    const grossXaf = [200, 500, 1000, 2500, 5000][index % 5]!;
    const hour = String(8 + (index % 12)).padStart(2, '0');
    const minute = String((index * 7) % 60).padStart(2, '0');
    return {
      description: `${String(1 + Math.floor(index / 4)).padStart(2, '0')}/03 ${hour}:${minute} · ${operators[index % 2]} · CP26030${String(1000 + index)}`,
      paymentsCount: 1,
      grossXaf,
      commissionXaf: Math.round(grossXaf / 10),
    };
  });
}

const samples: { name: string; locale: InvoiceLocale; document: InvoiceDocument }[] = [
  {
    name: 'subscription-open-fr',
    locale: 'fr',
    document: buildInvoiceDocument({
      kind: 'subscription',
      number: 'RLS-2026-000123',
      locale: 'fr',
      issueDate: '2026-04-01',
      period: { start: '2026-04-01', end: '2026-04-30' },
      seller: DEFAULT_PLATFORM_SELLER,
      buyer,
      status: { state: 'open', dueDate: '2026-04-08' },
      lines: [
        { description: 'Abonnement Business — avril 2026 (tickets illimités, 5 agents)', quantity: 1, unitPriceXaf: 45_000 },
        { description: 'Agent supplémentaire', quantity: 2, unitPriceXaf: 3_500 },
      ],
    }),
  },
  {
    name: 'subscription-paid-en-vat',
    locale: 'en',
    document: buildInvoiceDocument({
      kind: 'subscription',
      number: 'RLS-2026-000124',
      locale: 'en',
      issueDate: '2026-04-01',
      period: { start: '2026-04-01', end: '2026-04-30' },
      seller: { ...DEFAULT_PLATFORM_SELLER, vatRateBps: 1925, phone: '+237 6 99 00 00 00' },
      buyer: { ...buyer, name: 'Hotspot Akwa Nord', phone: null },
      status: { state: 'paid', paidOn: '2026-04-03' },
      lines: [{ description: 'Business plan — April 2026', quantity: 1, unitPriceXaf: 52_000 }],
    }),
  },
  {
    name: 'commission-days-fr',
    locale: 'fr',
    document: buildInvoiceDocument({
      kind: 'commission_statement',
      number: 'RLS-2026-000125',
      locale: 'fr',
      issueDate: '2026-04-01',
      period: { start: '2026-03-01', end: '2026-03-31' },
      seller: DEFAULT_PLATFORM_SELLER,
      buyer,
      commissionRateBps: 1000,
      status: { state: 'paid', paidOn: '2026-03-31' },
      lines: commissionDays(31),
    }),
  },
  {
    name: 'commission-payments-en',
    locale: 'en',
    document: buildInvoiceDocument({
      kind: 'commission_statement',
      number: 'RLS-2026-000126',
      locale: 'en',
      issueDate: '2026-04-01',
      period: { start: '2026-03-01', end: '2026-03-31' },
      seller: DEFAULT_PLATFORM_SELLER,
      buyer: { ...buyer, name: 'Cyber Café Mboppi — Douala' },
      commissionRateBps: 1000,
      status: { state: 'open', dueDate: '2026-04-15' },
      lines: commissionPayments(70),
    }),
  },
];

await mkdir(outputDirectory, { recursive: true });
for (const sample of samples) {
  const file = path.join(outputDirectory, `${sample.name}.pdf`);
  await writeFile(file, await renderInvoicePdf(sample.document, sample.locale));
  console.log(file);
}
