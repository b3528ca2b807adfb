/**
 * Child process for the crash test: settles one payment (the fulfilment transaction commits,
 * writing its outbox message) and is killed before anything is delivered.
 */
import { randomBytes } from 'node:crypto';
import { confirmPayment, createGatewayDirectory, createSecretBox, systemClock, type PlatformCampayApp } from '@relais/core';
import { openDatabase } from '@relais/db';

const db = await openDatabase({ driver: 'postgres', url: process.env.CRASH_DATABASE_URL! });
const campay = JSON.parse(process.env.CRASH_CAMPAY!) as PlatformCampayApp;
const gateways = createGatewayDirectory({ db, secrets: createSecretBox(randomBytes(32)), platform: campay });
const outcome = await confirmPayment({ db, gateways, clock: systemClock }, { gatewayAppId: 'platform', paymentId: process.env.CRASH_PAYMENT_ID! });
if (outcome !== 'fulfilled') {
  console.error(`expected the payment to be fulfilled, got ${outcome}`);
  process.exit(1);
}
process.kill(process.pid, 'SIGKILL');
