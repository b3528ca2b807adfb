/**
 * A fleet of RouterOS simulators in a process of its own, so that the sync benchmark's CPU
 * figures are ours and not the simulators'. Started by bench/src/benchmarks/wifi-sync.ts:
 *   node --import tsx bench/src/routeros-fleet.ts <routers> <sessions per router>
 * Prints one JSON line {ports, username, password}, then reads commands on stdin:
 *   "churn N"  each router: N sessions end and N new users log in (one sync interval's turnover)
 * and exits when stdin closes.
 */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { startRouterOsSimulator, type RouterOsSimulator } from '@relais/sim';

const [routers = 50, sessions = 2000] = process.argv.slice(2).map(Number);
const username = 'bench';
const password = randomBytes(12).toString('hex');

const fleet: RouterOsSimulator[] = [];
for (let i = 0; i < routers; i += 1) fleet.push(await startRouterOsSimulator({ username, password, sessions, identity: `bench-${i + 1}`, version: '7.18.2' }));
process.stdout.write(`${JSON.stringify({ ports: fleet.map((sim) => sim.port), username, password })}\n`);

let loggedIn = 0;
for await (const line of createInterface({ input: process.stdin })) {
  const churn = /^churn (\d+)$/.exec(line.trim());
  if (!churn) continue;
  const count = Number(churn[1]);
  for (const sim of fleet) {
    const active = sim.activeSessions();
    for (let i = 0; i < count && i < active.length; i += 1) sim.endSessions({ id: active[(i * 37) % active.length]!.id });
    for (let i = 0; i < count; i += 1) {
      loggedIn += 1;
      const name = `churn-${loggedIn}`;
      sim.addUser({ name, password: name, profile: 'default' });
      sim.login(name);
    }
  }
  process.stdout.write('ok\n');
}
await Promise.all(fleet.map((sim) => sim.close()));
