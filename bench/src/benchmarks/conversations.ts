/**
 * bench/conversations (issue 5): inbound messages per second through the whole pipeline —
 * HTTP request -> dedupe -> conversation lock and state -> transition -> inbound and outbound rows
 * and outbox effects committed -> the reply in the response — with p50/p99, against a bare
 * fastify route doing one INSERT on the same database, same HTTP client, same concurrency.
 *
 * The channel is the web chat (`POST /api/webchat/:slug/messages`): it answers in session, so
 * the response is sent once the turn has committed and latency needs no other signal. Every
 * contact sends one message at a time (one conversation = one input at a time by design); 32
 * contacts are in flight. Seeding (not measured): each contact's first message creates the
 * contact, its identity and its conversation and picks French. Measured: menu navigation
 * ("menu", "aide", "Acheter du WiFi", "menu"...), i.e. steady-state turns of known contacts.
 *
 * Target (issue 5): at least 1 000 messages/s with p99 under 50 ms.
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createGatewayDirectory, createLocalDiskFileStore, createRouterOsClient, createSecretBox, createTenant, generateVouchers, systemClock } from '@relais/core';
import { wifiPackages } from '@relais/db';
import { buildJobDefinitions, createJobRunner, type JobRunner } from '@relais/workers';
import { build } from '../../../server/src/app.js';
import { loadConfig } from '../../../server/src/config.js';
import type { Services } from '../../../server/src/services.js';
import { startBaselineServer } from '../baseline-insert.js';
import { postgresGroup, profiled, startCpuMeter, type ProcessGroup } from '../cpu.js';
import { positiveInteger } from '../env.js';
import { closedLoop, summarize } from '../latency.js';
import { machine, publish } from '../report.js';
import { countSqlRoundTrips } from '../sql-round-trips.js';
import { createScratchDatabase } from '../scratch-database.js';

const MESSAGES = positiveInteger('BENCH_MESSAGES', 6_000);
const CONCURRENCY = positiveInteger('BENCH_CONCURRENCY', 32);
const CONTACTS = positiveInteger('BENCH_CONTACTS', 256);
const POOL_SIZE = positiveInteger('DATABASE_POOL_SIZE', 10);
const BASELINE_REQUESTS = positiveInteger('BENCH_BASELINE_REQUESTS', 5_000);
/** A V8 CPU profile of the measured phase (open it in Chrome DevTools). */
const CPU_PROFILE = process.env.BENCH_CPU_PROFILE || undefined;
/** What known contacts say during the measured phase: menu navigation, each a full turn. */
const BUY_WIFI = 'Acheter du WiFi';
const SCRIPT = ['menu', 'aide', BUY_WIFI, 'menu', 'Mon WiFi', 'menu'];

/**
 * The load generator shares the app's event loop, so its own CPU counts against the app: a bare
 * node:http client with kept-alive sockets costs a fraction of fetch (undici's full Fetch
 * machinery). Used for the baseline too: both sides pay the same client.
 */
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function send(url: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { agent, method: body === undefined ? 'GET' : 'POST', headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

export async function run(): Promise<void> {
  const scratch = await createScratchDatabase({ poolSize: POOL_SIZE });
  const filesDir = await mkdtemp(join(tmpdir(), 'relais-bench-conversations-'));
  const logger = pino({ level: 'warn' });
  let jobs: JobRunner | undefined;
  let app: Awaited<ReturnType<typeof build>> | undefined;
  try {
    const { db } = scratch;
    const secrets = createSecretBox(randomBytes(32));
    const gateways = createGatewayDirectory({ db, secrets });
    const fileStore = createLocalDiskFileStore(filesDir);
    const routerClient = createRouterOsClient();
    // Jobs exist (the app enqueues through them) but do not run: the measured work is the turn.
    jobs = createJobRunner({ definitions: buildJobDefinitions({ db, gateways, clock: systemClock, fileStore, secrets, routerClient, senderFor: () => undefined, logger }), logger, processing: false });
    const services: Services = { config: loadConfig({ FILES_DIR: filesDir }), logger, clock: systemClock, db, jobs, secrets, routerClient, gateways, fileStore, close: async () => {} };
    app = await build(services, { adminWebBuildDirectory: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    const { tenant } = await createTenant({ db, clock: systemClock }, { name: 'Bench Chat', email: `bench-chat-${Date.now()}@example.test`, mode: 'commission' });
    // Stock after the package has committed (generateVouchers has a transaction of its own): "Acheter du WiFi" lists it.
    const [pkg] = await db.withTenant(tenant.id, (tx) =>
      tx.insert(wifiPackages).values({ tenantId: tenant.id, nameFr: '1 jour', nameEn: '1 day', priceXaf: 500, validityMinutes: 1_440 }).returning(),
    );
    await generateVouchers({ db }, { tenantId: tenant.id, packageId: pkg!.id, count: 50 });
    const url = `${base}/api/webchat/${tenant.slug}/messages`;
    let sequence = 0;
    const say = async (contactId: string, text: string) => {
      sequence += 1;
      const startMs = performance.now();
      const response = await send(url, JSON.stringify({ contactId, text, messageId: `bench-${sequence}-msg` }));
      const body = JSON.parse(response.text) as { replies?: { choices?: { id: string }[] }[] };
      const endMs = performance.now();
      if (response.status !== 200 || !body.replies?.length) throw new Error(`web chat answered ${response.status} with ${JSON.stringify(body).slice(0, 200)}`);
      // The catalogue turn must really list the package (no stock would make it a plain menu turn).
      if (text === BUY_WIFI && !body.replies.some((reply) => reply.choices?.some((choice) => choice.id.startsWith('package:')))) throw new Error(`"${BUY_WIFI}" listed no package: ${JSON.stringify(body).slice(0, 300)}`);
      return { startMs, endMs, latencyMs: endMs - startMs };
    };

    console.log(`conversations: seeding ${CONTACTS} contacts on ${scratch.server}...`);
    const contacts = Array.from({ length: CONTACTS }, (_, i) => `bench-contact-${String(i).padStart(6, '0')}-${randomBytes(4).toString('hex')}`);
    await closedLoop(contacts, CONCURRENCY, (contactId) => say(contactId, 'bonjour'));
    await closedLoop(contacts, CONCURRENCY, (contactId) => say(contactId, 'Français'));

    // Each contact's messages go in order, one at a time: a contact is busy while its message is in flight.
    const busy = new Set<string>();
    // Latency by what was said: a lookup ("Mon WiFi") is two transactions plus the lookup's own.
    const byText = new Map<string, number[]>();
    let recordByText = false;
    const plan = Array.from({ length: MESSAGES }, (_, i) => ({ contact: contacts[i % CONTACTS]!, text: SCRIPT[Math.floor(i / CONTACTS) % SCRIPT.length]! }));
    const sendInOrder = async (item: { contact: string; text: string }) => {
      while (busy.has(item.contact)) await new Promise((resolve) => setImmediate(resolve));
      busy.add(item.contact);
      try {
        const timing = await say(item.contact, item.text);
        if (recordByText) byText.set(item.text, [...(byText.get(item.text) ?? []), timing.latencyMs]);
        return timing;
      } finally {
        busy.delete(item.contact);
      }
    };
    await closedLoop(plan.slice(0, Math.min(1_000, MESSAGES)), CONCURRENCY, sendInOrder); // warm-up

    const cpuGroups: ProcessGroup[] = scratch.name ? [postgresGroup(scratch.name)] : [];
    const baseline = await startBaselineServer({ ownerUrl: scratch.ownerUrl, poolSize: POOL_SIZE });
    try {
      const baselineSend = async (i: number) => {
        const startMs = performance.now();
        const response = await send(`${baseline.url}?contactId=bench-${i}&text=menu`);
        if (response.status !== 200) throw new Error(`baseline answered ${response.status}`);
        const endMs = performance.now();
        return { startMs, endMs, latencyMs: endMs - startMs };
      };
      await closedLoop(Array.from({ length: 500 }, (_, i) => i), CONCURRENCY, baselineSend);
      const baselineBefore = await closedLoop(Array.from({ length: BASELINE_REQUESTS }, (_, i) => i), CONCURRENCY, baselineSend);

      console.log(`conversations: ${MESSAGES} messages, ${CONCURRENCY} in flight...`);
      const cpu = startCpuMeter(cpuGroups);
      const stopCounting = countSqlRoundTrips();
      recordByText = true;
      const measured = await profiled(CPU_PROFILE, () => closedLoop(plan, CONCURRENCY, sendInOrder));
      const roundTrips = stopCounting();
      recordByText = false;
      const latencyByText = Object.fromEntries(
        [...byText].flatMap(([text, latencies]) => {
          const summary = summarize(latencies);
          const key = text.toLowerCase().replace(/[^a-z]+/g, '_');
          return [
            [`p50_ms_${key}`, summary.p50Ms],
            [`p99_ms_${key}`, summary.p99Ms],
          ];
        }),
      );
      const used = cpu();

      const baselineAfter = await closedLoop(Array.from({ length: BASELINE_REQUESTS }, (_, i) => i), CONCURRENCY, baselineSend);
      const baselinePerSecond = (baselineBefore.perSecond + baselineAfter.perSecond) / 2;
      const ratio = measured.perSecond / baselinePerSecond;
      publish('conversations', {
        figures: {
          messages_per_s: measured.perSecond,
          p50_ms: measured.p50Ms,
          p99_ms: measured.p99Ms,
          max_ms: measured.maxMs,
          baseline_inserts_per_s: baselinePerSecond,
          baseline_p99_ms: (baselineBefore.p99Ms + baselineAfter.p99Ms) / 2,
          ratio,
          sql_round_trips_per_message: roundTrips / MESSAGES,
          node_cpu_ms_per_message: used.processMs / MESSAGES,
          postgres_cpu_ms_per_message: (used.groupsMs.postgres ?? 0) / MESSAGES,
          host_busy_percent: used.hostBusyPercent,
          ...latencyByText,
        },
        targets: {
          messages_per_s: { target: 1_000, met: measured.perSecond >= 1_000 },
          p99_ms: { target: 50, met: measured.p99Ms < 50 },
        },
        machine: machine({ database: scratch.server, concurrency: CONCURRENCY, contacts: CONTACTS, poolSize: POOL_SIZE, messages: MESSAGES }),
      });
    } finally {
      await baseline.close();
    }
  } finally {
    await app?.close();
    await jobs?.close();
    await scratch.drop();
    await rm(filesDir, { recursive: true, force: true });
    agent.destroy();
  }
}
