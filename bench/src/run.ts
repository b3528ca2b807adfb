/** `npm run bench -- <name>`: runs one benchmark; without a name, lists them. */
const BENCHMARKS: Record<string, { summary: string; load: () => Promise<{ run(): Promise<void> }> }> = {
  tenancy: { summary: 'cost of withTenant() + row-level security vs a bare platform transaction', load: () => import('./benchmarks/tenancy.js') },
  payments: { summary: 'CamPay callback to committed fulfilment: confirmations/s, p50/p99, ratio to a bare INSERT route', load: () => import('./benchmarks/payments.js') },
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
