import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { formatXaf, parseInput } from '@relais/core';
import type { DemoMode, DemoPayment } from './start-demo-mode.js';

const paymentParams = z.object({ reference: z.string().regex(/^[\w-]{1,100}$/, 'reference must be a CamPay reference') });

/** The page reloads itself so that auto-approved payments change status under the visitor's eyes. */
const PAGE_REFRESH_SECONDS = 3;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

const STATUS_LABELS: Record<DemoPayment['status'], string> = {
  PENDING: 'en attente · pending',
  SUCCESSFUL: 'approuvé · approved',
  FAILED: 'refusé · declined',
};

function paymentRow(payment: DemoPayment): string {
  const reference = encodeURIComponent(payment.reference);
  const actions =
    payment.status === 'PENDING'
      ? `<form method="post" action="/demo/payments/${reference}/approve"><button>Approuver · Approve</button></form>` +
        `<form method="post" action="/demo/payments/${reference}/decline"><button class="decline">Refuser · Decline</button></form>`
      : '';
  return `<tr><td>${escapeHtml(new Date(payment.createdAt).toLocaleTimeString('fr-CM', { timeZone: 'Africa/Douala' }))}</td><td>${escapeHtml(formatXaf(payment.amountXaf, 'fr'))}</td><td>${escapeHtml(payment.phone)}</td><td>${escapeHtml(payment.description)}</td><td>${STATUS_LABELS[payment.status]}</td><td class="actions">${actions}</td></tr>`;
}

function renderDemoPage(demo: DemoMode): string {
  const payments = demo.payments();
  const rows = payments.length > 0 ? payments.map(paymentRow).join('\n') : '<tr><td colspan="6">Aucun paiement pour l’instant · No payment yet</td></tr>';
  return `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${PAGE_REFRESH_SECONDS}">
<title>Relais - démo · demo</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #eef1f4; }
  .banner { background: #ffd54f; padding: 10px 16px; font-weight: 600; }
  main { padding: 16px; }
  table { border-collapse: collapse; background: #fff; width: 100%; }
  td, th { padding: 6px 10px; border-bottom: 1px solid #ddd; text-align: left; }
  .actions form { display: inline; margin-right: 6px; }
  button { background: #0b6e4f; color: #fff; border: 0; border-radius: 4px; padding: 4px 10px; cursor: pointer; }
  button.decline { background: #a33; }
</style>
</head>
<body>
<div class="banner">${escapeHtml(demo.banner.text)}</div>
<main>
<p>Achetez du WiFi sur <a href="/chat/${encodeURIComponent(demo.tenantSlug)}">/chat/${escapeHtml(demo.tenantSlug)}</a>, puis approuvez ou refusez le paiement ici (simulateur CamPay).<br>
Buy WiFi at <a href="/chat/${encodeURIComponent(demo.tenantSlug)}">/chat/${escapeHtml(demo.tenantSlug)}</a>, then approve or decline the payment here (CamPay simulator).</p>
<table>
<thead><tr><th>Heure · Time</th><th>Montant · Amount</th><th>Numéro · Number</th><th>Description</th><th>État · Status</th><th></th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</main>
</body>
</html>
`;
}

/**
 * Demo mode's own pages: the simulated CamPay's payments, with approve and decline buttons for
 * the pending ones (what a customer's PIN on the phone would do). Registered only in demo mode.
 */
export async function demoRoutes(app: FastifyInstance, options: { demo: DemoMode }) {
  const { demo } = options;
  // The buttons post plain forms with nothing in them worth reading: accept and ignore the body.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, _body, done) => done(null, {}));

  app.get('/demo', async (_request, reply) => reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(renderDemoPage(demo)));

  app.get('/api/demo/payments', async (_request, reply) => reply.header('cache-control', 'no-store').send({ payments: demo.payments() }));

  for (const action of ['approve', 'decline'] as const) {
    app.post(`/demo/payments/:reference/${action}`, async (request, reply) => {
      const { reference } = parseInput(paymentParams, request.params);
      await demo[action](reference);
      // A form post from the page goes back to it; a script gets JSON.
      return request.headers.accept?.includes('text/html') ? reply.redirect('/demo', 303) : reply.send({ reference, status: action === 'approve' ? 'SUCCESSFUL' : 'FAILED' });
    });
  }
}
