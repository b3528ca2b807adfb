/**
 * The CamPay simulator in a process of its own, as CamPay is in production: the payments
 * benchmark's app then shares its event loop with nobody, and its CPU figures are ours, not the
 * simulator's. Started by bench/src/benchmarks/payments.ts:
 *   node --import tsx bench/src/campay-sim-process.ts <callback URL>
 * Prints one JSON line {url, username, password, webhookKey}, then reads commands on stdin:
 *   "approve REF"  the transaction turns SUCCESSFUL and its signed GET callback is sent
 *   "settled"      answers one JSON line {callbacks, bad} once no callback is under way
 * A failed command answers {"error": "..."}. Exits when stdin closes.
 */
import { createInterface } from 'node:readline';
import { startCampaySimulator } from '@relais/sim';

const [callbackUrl] = process.argv.slice(2);
if (!callbackUrl) throw new Error('usage: campay-sim-process.ts <callback URL>');
const sim = await startCampaySimulator({ callbackUrl, callbackMethod: 'GET' });
const say = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);
say({ url: sim.url, username: sim.credentials.username, password: sim.credentials.password, webhookKey: sim.webhookKey });

for await (const line of createInterface({ input: process.stdin })) {
  const [command, argument] = line.trim().split(' ');
  if (command === 'approve' && argument) {
    sim.approve(argument).catch((error: unknown) => say({ error: `approve ${argument}: ${error instanceof Error ? error.message : String(error)}` }));
  } else if (command === 'settled') {
    await sim.settled();
    const deliveries = sim.callbacks();
    say({ callbacks: deliveries.length, bad: deliveries.filter((delivery) => delivery.outcome !== 'sent' || delivery.status !== 200).length });
  } else {
    say({ error: `unknown command: ${line}` });
  }
}
await sim.close();
