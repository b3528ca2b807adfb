import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@relais/core';
import { build } from '../src/app.js';
import type { Services } from '../src/services.js';
import { createTestDatabase } from '../../tests/support/test-database.js';
import { createTestServices } from '../../tests/support/test-services.js';

describe('HTTP app', () => {
  let services: Services;
  let app: FastifyInstance;

  beforeAll(async () => {
    services = await createTestServices(await createTestDatabase());
    app = await build(services, { adminWebBuildDirectory: false });
    app.get('/api/test/conflict', async () => {
      throw new AppError('CONFLICT', 'a tenant with slug "x" already exists');
    });
    app.get('/api/test/crash', async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2');
    });
    app.post('/api/test/echo', async (request) => request.body);
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
  });

  it('reports database and queue state on /health', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      status: 'ok',
      database: { driver: services.db.driver, ok: true },
      queue: { driver: 'in-process', ok: true },
    });
  });

  it('maps AppError codes to HTTP statuses with their message', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/test/conflict' });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({ error: { code: 'CONFLICT', message: 'a tenant with slug "x" already exists' } });
  });

  it('never leaks internals of unexpected errors, and gives a request id to find them in the logs', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/test/crash', headers: { 'x-request-id': 'req-12345678' } });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ error: { code: 'INTERNAL', message: 'Internal error', requestId: 'req-12345678' } });
    expect(response.body).not.toMatch(/ECONNREFUSED|hunter2|10\.0\.0\.5/);
  });

  it('answers client mistakes with 4xx JSON', async () => {
    const badJson = await app.inject({ method: 'POST', url: '/api/test/echo', headers: { 'content-type': 'application/json' }, payload: '{"a":' });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().error.code).toBeTruthy();
    const unknown = await app.inject({ method: 'GET', url: '/api/nothing-here?x=1' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'No route for GET /api/nothing-here' } });
  });
});

describe('HTTP app with a failed database', () => {
  it('reports degraded on /health without the error text', async () => {
    const services = await createTestServices(await createTestDatabase());
    const app = await build(services, { adminWebBuildDirectory: false });
    await services.db.close();
    try {
      const response = await app.inject({ method: 'GET', url: '/health' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ status: 'degraded', database: { ok: false, error: 'database unreachable' }, queue: { ok: true } });
    } finally {
      await app.close();
      await services.close();
    }
  });
});
