import { z } from 'zod';

/**
 * An invoice exactly as printed: seller, buyer, lines and totals frozen at issue and stored in
 * invoices.document, so the PDF can be rendered again, identically, years later. Language-neutral
 * except for the line descriptions, which are written in `locale`, the buyer's language at issue.
 *
 * Two kinds share the document: a subscription invoice (lines: quantity x unit price) and a
 * commission statement (lines per day or per payment: gross collected, platform commission, net
 * to the reseller). Both are invoices in the accounting sense: the amount invoiced is what the
 * platform earns — the subscription fee, or the commission.
 */
export const INVOICE_DOCUMENT_VERSION = 1;
export const INVOICE_KINDS = ['subscription', 'commission_statement'] as const;
export type InvoiceKind = (typeof INVOICE_KINDS)[number];
export type InvoiceLocale = 'fr' | 'en';

/** Whole XAF; negative only where the schema says so. */
const xaf = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const isoDate = z.iso.date();
const text = (max: number) => z.string().trim().min(1).max(max);
/** Basis points: 1000 = 10 %, 1925 = 19.25 %. */
const basisPoints = z.number().int().min(0).max(10_000);

export const platformSellerSchema = z.object({
  name: text(120),
  addressLines: z.array(text(120)).max(4),
  /** Numéro d'Identifiant Unique (NIU) from the tax administration. */
  taxId: text(40),
  email: z.email(),
  phone: text(40).optional(),
  /** Set once the platform is registered for VAT; absent = "TVA non applicable" on every invoice. */
  vatRateBps: basisPoints.optional(),
});
export type PlatformSeller = z.infer<typeof platformSellerSchema>;

/**
 * The seller block until configuration provides the real one (the composition root passes
 * `seller`). The NIU is an all-zero placeholder, obviously not a real tax number.
 */
export const DEFAULT_PLATFORM_SELLER: PlatformSeller = {
  name: 'Relais',
  addressLines: ['Douala, Cameroun'],
  taxId: 'M000000000000X',
  email: 'facturation@relais.cm',
};

const buyerSchema = z.object({
  tenantId: z.uuid(),
  name: text(120),
  email: z.email(),
  /** E.164; the number Mobile Money requests are pushed to. */
  phone: z.string().nullable(),
});

export const subscriptionLineSchema = z
  .object({ description: text(200), quantity: z.number().int().min(1).max(10_000), unitPriceXaf: xaf, totalXaf: xaf })
  .refine((line) => line.totalXaf === line.quantity * line.unitPriceXaf, { message: 'totalXaf must be quantity x unitPriceXaf' });
export type SubscriptionLine = z.infer<typeof subscriptionLineSchema>;

export const commissionLineSchema = z
  .object({
    /** A day ("12/03/2026") or one payment ("12/03 14:02 · MTN · CP2603…"), as the issuer chose. */
    description: text(200),
    paymentsCount: z.number().int().min(0),
    grossXaf: xaf,
    commissionXaf: xaf,
    netXaf: xaf,
  })
  .refine((line) => line.commissionXaf + line.netXaf === line.grossXaf, { message: 'commission + net must equal gross' });
export type CommissionLine = z.infer<typeof commissionLineSchema>;

const vatSchema = z.object({ rateBps: basisPoints, amountXaf: xaf }).nullable();

export const invoiceStatusSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('open'), dueDate: isoDate }),
  z.object({ state: z.literal('paid'), paidOn: isoDate }),
]);
export type InvoiceDocumentStatus = z.infer<typeof invoiceStatusSchema>;

const commonFields = {
  version: z.literal(INVOICE_DOCUMENT_VERSION),
  number: z.string().regex(/^RLS-\d{4}-\d{6,}$/),
  locale: z.enum(['fr', 'en']),
  issueDate: isoDate,
  period: z.object({ start: isoDate, end: isoDate }).refine((p) => p.start <= p.end, { message: 'period ends before it starts' }),
  seller: platformSellerSchema,
  buyer: buyerSchema,
  status: invoiceStatusSchema,
  /** What the payer still owes: the total while open, 0 once paid. */
  amountDueXaf: xaf,
  /** Quoted by the payer; the invoice number. */
  paymentReference: text(40),
};

export const invoiceDocumentSchema = z
  .discriminatedUnion('kind', [
    z.object({
      ...commonFields,
      kind: z.literal('subscription'),
      lines: z.array(subscriptionLineSchema).min(1),
      totals: z.object({ subtotalXaf: xaf, vat: vatSchema, totalXaf: xaf }),
    }),
    z.object({
      ...commonFields,
      kind: z.literal('commission_statement'),
      commissionRateBps: basisPoints,
      lines: z.array(commissionLineSchema).min(1),
      totals: z.object({
        grossXaf: xaf,
        netXaf: xaf,
        /** The commission, before VAT. */
        subtotalXaf: xaf,
        vat: vatSchema,
        totalXaf: xaf,
      }),
    }),
  ])
  .superRefine((document, ctx) => {
    const lineSum = document.kind === 'subscription'
      ? sum(document.lines.map((line) => line.totalXaf))
      : sum(document.lines.map((line) => line.commissionXaf));
    if (lineSum !== document.totals.subtotalXaf) ctx.addIssue({ code: 'custom', path: ['totals', 'subtotalXaf'], message: 'subtotal must be the sum of the lines' });
    if (document.kind === 'commission_statement') {
      if (sum(document.lines.map((line) => line.grossXaf)) !== document.totals.grossXaf) {
        ctx.addIssue({ code: 'custom', path: ['totals', 'grossXaf'], message: 'gross total must be the sum of the lines' });
      }
      if (sum(document.lines.map((line) => line.netXaf)) !== document.totals.netXaf) {
        ctx.addIssue({ code: 'custom', path: ['totals', 'netXaf'], message: 'net total must be the sum of the lines' });
      }
    }
    const vat = document.totals.vat?.amountXaf ?? 0;
    if (document.totals.subtotalXaf + vat !== document.totals.totalXaf) {
      ctx.addIssue({ code: 'custom', path: ['totals', 'totalXaf'], message: 'total must be subtotal + VAT' });
    }
    const due = document.status.state === 'paid' ? 0 : document.totals.totalXaf;
    if (document.amountDueXaf !== due) ctx.addIssue({ code: 'custom', path: ['amountDueXaf'], message: 'amount due must be the total while open, 0 once paid' });
  });

export type InvoiceDocument = z.infer<typeof invoiceDocumentSchema>;
export type SubscriptionInvoiceDocument = Extract<InvoiceDocument, { kind: 'subscription' }>;
export type CommissionStatementDocument = Extract<InvoiceDocument, { kind: 'commission_statement' }>;

export function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** VAT on `amountXaf` at `rateBps`, rounded to the nearest franc (half up). */
export function vatOn(amountXaf: number, rateBps: number): number {
  return Math.round((amountXaf * rateBps) / 10_000);
}

export interface SubscriptionLineInput {
  description: string;
  quantity: number;
  unitPriceXaf: number;
}

export interface CommissionLineInput {
  description: string;
  paymentsCount: number;
  grossXaf: number;
  /** As the ledger split it (its rounding rules, not recomputed here). */
  commissionXaf: number;
}

interface BuildCommon {
  number: string;
  locale: InvoiceLocale;
  issueDate: string;
  period: { start: string; end: string };
  seller: PlatformSeller;
  buyer: { tenantId: string; name: string; email: string; phone: string | null };
  status: InvoiceDocumentStatus;
}

export type BuildInvoiceDocumentInput =
  | (BuildCommon & { kind: 'subscription'; lines: SubscriptionLineInput[] })
  | (BuildCommon & { kind: 'commission_statement'; commissionRateBps: number; lines: CommissionLineInput[] });

/**
 * Computes line totals, VAT (at the seller's rate, if any), total and amount due, and checks the
 * result against the schema. The one place these sums are made: issuing, samples and tests agree.
 */
export function buildInvoiceDocument(input: BuildInvoiceDocumentInput): InvoiceDocument {
  const common = {
    version: INVOICE_DOCUMENT_VERSION,
    number: input.number,
    locale: input.locale,
    issueDate: input.issueDate,
    period: input.period,
    seller: input.seller,
    buyer: input.buyer,
    status: input.status,
    paymentReference: input.number,
  };
  const vatRateBps = input.seller.vatRateBps;
  const totalsFor = (subtotalXaf: number) => {
    const vat = vatRateBps === undefined ? null : { rateBps: vatRateBps, amountXaf: vatOn(subtotalXaf, vatRateBps) };
    const totalXaf = subtotalXaf + (vat?.amountXaf ?? 0);
    return { subtotalXaf, vat, totalXaf, amountDueXaf: input.status.state === 'paid' ? 0 : totalXaf };
  };
  let document: unknown;
  if (input.kind === 'subscription') {
    const lines = input.lines.map((line) => ({ ...line, totalXaf: line.quantity * line.unitPriceXaf }));
    const { amountDueXaf, ...totals } = totalsFor(sum(lines.map((line) => line.totalXaf)));
    document = { ...common, kind: input.kind, lines, totals, amountDueXaf };
  } else {
    const lines = input.lines.map((line) => ({ ...line, netXaf: line.grossXaf - line.commissionXaf }));
    const { amountDueXaf, ...totals } = totalsFor(sum(lines.map((line) => line.commissionXaf)));
    document = {
      ...common,
      kind: input.kind,
      commissionRateBps: input.commissionRateBps,
      lines,
      totals: { grossXaf: sum(lines.map((line) => line.grossXaf)), netXaf: sum(lines.map((line) => line.netXaf)), ...totals },
      amountDueXaf,
    };
  }
  return invoiceDocumentSchema.parse(document);
}
