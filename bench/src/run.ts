/** `npm run bench -- <name>`: runs one benchmark; without a name, lists them. */
const BENCHMARKS: Record<string, { summary: string; load: () => Promise<{ run(): Promise<void> }> }> = {
  conversations: { summary: 'inbound chat messages through the whole pipeline (web chat route -> engine turn -> outbox): messages/s, p50/p99, ratio to a bare INSERT route', load: () => import('./benchmarks/conversations.js') },
  wifi: { summary: 'issue 4 figures in one run: wifi-import, wifi-claims and wifi-sync', load: () => import('./benchmarks/wifi.js') },
  'wifi-sync': { summary: 'one sync cycle of 50 simulated routers x 2 000 sessions: cycle time, our CPU per router, memory across cycles', load: () => import('./benchmarks/wifi-sync.js') },
  tenancy: { summary: 'cost of withTenant() + row-level security vs a bare platform transaction', load: () => import('./benchmarks/tenancy.js') },
  payments: { summary: 'CamPay callback to committed fulfilment: confirmations/s, p50/p99, ratio to a bare INSERT route', load: () => import('./benchmarks/payments.js') },
  'wifi-claims': { summary: 'voucher claims for paid tickets, 32 at once: claims/s, p50/p99, duplicates, ratio to a bare UPDATE by primary key', load: () => import('./benchmarks/wifi-claims.js') },
  tickets: { summary: 'helpdesk on a 200 000-ticket / 2 M-message tenant: metrics and queue p50/p95/p99, ticket creation with auto-assignment per second, ratios to baselines', load: () => import('./benchmarks/tickets.js') },
  'wifi-import': { summary: 'voucher import: 100 000-row MikHmon file through importVouchers, rows/s and ratio to a raw COPY', load: () => import('./benchmarks/wifi-import.js') },
};

const name = process.argv[2];
const benchmark = name ? BENCHMARKS[name] : undefined;
if (!benchmark) {
  if (name) console.error(`unknown benchmark "${name}"`);
  console.log('Benchmarks (npm run bench -- <name>; uses DATABASE_URL / REDIS_URL when set):');
  for (const [key, value] of Object.entries(BENCHMARKS)) console.log(`  ${key.padEnd(12)} ${value.summary}`);
  process.exit(name ? 2 : 0);
}
await (await benchmark.load()).run();
export {};
