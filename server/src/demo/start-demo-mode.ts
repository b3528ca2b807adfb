import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError, type PlatformCampayApp } from '@relais/core';
import type { CampaySimulator, RouterOsSimulator } from '@relais/sim';
import type { Config, DemoConfig } from '../config.js';

/** The tenant a newcomer chats with at /chat/demo. */
export const DEMO_TENANT_SLUG = 'demo';
export const DEMO_HOTSPOT_SERVER = 'hotspot1';
/** Active sessions already under way on the simulated router, so sync and usage show something. */
const DEMO_ROUTER_SESSIONS = 3;
/** Plenty, so that payouts of the demo reseller never fail for want of balance. */
const DEMO_CAMPAY_BALANCE_XAF = 100_000_000;

export interface DemoPayment {
  reference: string;
  status: 'PENDING' | 'SUCCESSFUL' | 'FAILED';
  amountXaf: number;
  phone: string;
  description: string;
  createdAt: string;
}

/** The simulated router, as the demo tenant registers it. */
export interface DemoRouterAccess {
  host: string;
  port: number;
  username: string;
  password: string;
  hotspotServer: string;
}

/** What `relais serve` runs in demo mode: the simulators, and how the web pages talk about them. */
export interface DemoMode {
  tenantSlug: string;
  autoApproveMs: number;
  /** The CamPay simulator, wired as the platform CamPay app. */
  campay: PlatformCampayApp;
  router: DemoRouterAccess;
  /** One line for the top of the web chat page, with a link to the demo payments page. */
  banner: { text: string; link: { href: string; label: string } };
  /** Collections and withdrawals the simulated CamPay has seen, newest first. */
  payments(): DemoPayment[];
  approve(reference: string): Promise<void>;
  decline(reference: string): Promise<void>;
  close(): Promise<void>;
}

/** Where the simulator reaches our webhook: the listening address, loopback when listening on all. */
function localBaseUrl(config: Config): string {
  const host = ['0.0.0.0', '::', ''].includes(config.http.host) ? '127.0.0.1' : config.http.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}`;
}

function describeAutoApprove(milliseconds: number): { fr: string; en: string } {
  if (milliseconds === 0) return { fr: 'à approuver sur la page démo', en: 'approve them on the demo page' };
  const seconds = Math.max(1, Math.round(milliseconds / 1000));
  return { fr: `approuvés après ${seconds} s`, en: `approved after ${seconds} s` };
}

/**
 * Starts the CamPay simulator (auto-approving after `autoApproveMs`) and a RouterOS simulator
 * with a hotspot, both in this process on free local ports. The simulators are loaded here
 * only, so that no other path of the server ever loads them (DESIGN.md: demo wiring only).
 */
export async function startDemoMode(config: Config & { demo: DemoConfig }, logger: Logger): Promise<DemoMode> {
  const { startCampaySimulator, startRouterOsSimulator } = await import('@relais/sim');
  const { autoApproveMs } = config.demo;
  const campaySim: CampaySimulator = await startCampaySimulator({
    port: 0,
    host: '127.0.0.1',
    callbackUrl: `${localBaseUrl(config)}/webhooks/campay/platform`,
    callbackMethod: 'POST',
    autoResolve: autoApproveMs > 0 ? { afterMs: autoApproveMs, outcome: 'SUCCESSFUL' } : undefined,
    balance: { mtn: DEMO_CAMPAY_BALANCE_XAF, orange: DEMO_CAMPAY_BALANCE_XAF },
  });
  let routerSim: RouterOsSimulator;
  try {
    // A fresh password each start: the router row is updated to it, sealed with APP_KEY as usual.
    routerSim = await startRouterOsSimulator({
      port: 0,
      host: '127.0.0.1',
      username: 'admin',
      password: randomBytes(12).toString('base64url'),
      identity: 'Relais-Demo',
      sessions: DEMO_ROUTER_SESSIONS,
      hotspotServers: [{ name: DEMO_HOTSPOT_SERVER }],
      userProfiles: [
        { name: 'default', sharedUsers: 1 },
        { name: '1-heure', rateLimit: '2M/5M', sharedUsers: 1 },
        { name: '1-jour', rateLimit: '2M/5M', sharedUsers: 1 },
      ],
    });
  } catch (error) {
    await campaySim.close();
    throw error;
  }
  logger.debug({ campay: campaySim.url, routerOs: `${routerSim.host}:${routerSim.port}` }, 'demo simulators started');

  const approval = describeAutoApprove(autoApproveMs);
  const find = (reference: string) => {
    const transaction = campaySim.transactions().find((candidate) => candidate.reference === reference);
    if (!transaction) throw new AppError('NOT_FOUND', `no demo payment ${reference}`);
    if (transaction.status !== 'PENDING') throw new AppError('CONFLICT', `demo payment ${reference} is already ${transaction.status.toLowerCase()}`);
  };

  return {
    tenantSlug: DEMO_TENANT_SLUG,
    autoApproveMs,
    campay: {
      baseUrl: campaySim.url,
      credentials: { kind: 'login', username: campaySim.credentials.username, password: campaySim.credentials.password },
      webhookKey: campaySim.webhookKey,
    },
    router: {
      host: routerSim.host,
      port: routerSim.port,
      username: routerSim.credentials.username,
      password: routerSim.credentials.password,
      hotspotServer: DEMO_HOTSPOT_SERVER,
    },
    banner: {
      text: `Mode démo : paiements simulés, ${approval.fr} · Demo mode: simulated payments, ${approval.en}.`,
      link: { href: '/demo', label: 'Paiements démo · Demo payments' },
    },
    payments: () =>
      campaySim
        .transactions()
        .map((transaction) => ({
          reference: transaction.reference,
          status: transaction.status,
          amountXaf: transaction.amount,
          phone: `+${transaction.phone}`,
          description: transaction.description,
          createdAt: transaction.created_at,
        }))
        .reverse(),
    async approve(reference) {
      find(reference);
      await campaySim.approve(reference);
    },
    async decline(reference) {
      find(reference);
      await campaySim.decline(reference);
    },
    async close() {
      // Both, even if one fails: a leftover listener would keep the process alive.
      await Promise.allSettled([campaySim.close(), routerSim.close()]);
    },
  };
}
