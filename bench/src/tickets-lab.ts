// TEMPORARY lab script (not to be committed): seeds a persistent database for EXPLAIN experiments.
import pg from 'pg';
import { createSlaPolicy, createTenant, systemClock } from '@relais/core';
import { migratePostgres, openDatabase } from '@relais/db';
import { seedHelpdesk } from './tickets-seed.js';

const name = process.argv[2] ?? 'relais_tickets_lab';
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
await admin.connect();
await admin.query(`drop database if exists ${name} with (force)`);
await admin.query(`create database ${name}`);
await admin.end();
const ownerUrl = `postgres://postgres@127.0.0.1:5432/${name}`;
const url = `postgres://relais_app@127.0.0.1:5432/${name}`;
await migratePostgres(ownerUrl, url);
const db = await openDatabase({ driver: 'postgres', url, ownerUrl, poolSize: 4 });
const deps = { db, clock: systemClock };
const { tenant, admin: user } = await createTenant(deps, { name: 'Lab', slug: 'lab', email: 'lab@bench.example', plan: 'enterprise' });
await createSlaPolicy(deps, { tenantId: tenant.id, name: 'Standard', isDefault: true, targets: { urgent: { firstResponseMinutes: 30, resolutionMinutes: 240 }, medium: { firstResponseMinutes: 240, resolutionMinutes: 1920 } } });
const t0 = performance.now();
const seed = await seedHelpdesk(db, { tenantId: tenant.id, now: new Date(), days: 90, tickets: Number(process.env.N ?? 200000), messagesPerTicket: 10, agents: 8, onProgress: console.log });
console.log(JSON.stringify({ tenantId: tenant.id, adminId: user.id, agents: seed.agentIds, seconds: (performance.now() - t0) / 1000, ...seed, agentIds: undefined }));
const owner = new pg.Client({ connectionString: ownerUrl });
await owner.connect();
await owner.query('vacuum analyze');
await owner.end();
await db.close();
