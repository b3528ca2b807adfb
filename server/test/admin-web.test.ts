import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_WEB_BUILD_COMMAND,
  DEFAULT_ADMIN_WEB_BUILD_DIRECTORY,
  adminWeb,
} from '../src/plugins/admin-web.js';

// The build comes from tests/support/build-admin-web.ts (vitest globalSetup).

async function buildApp(buildDirectory: string): Promise<FastifyInstance> {
  const app = Fastify();
  app.get('/health', async () => ({ status: 'ok' }));
  app.post('/api/echo', async (request) => ({ received: request.body }));
  await app.register(adminWeb, { buildDirectory });
  await app.ready();
  return app;
}

const NOT_FOUND_BODY = { error: { code: 'NOT_FOUND', message: 'Not found' } };

describe('admin-web plugin with the real build', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp(DEFAULT_ADMIN_WEB_BUILD_DIRECTORY);
  });
  afterAll(async () => {
    await app.close();
  });

  it('renders the landing page in French by default', async () => {
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toContain('Relais');
    expect(response.body).toContain('<html lang="fr"');
    expect(response.body).toContain('prochaine version');
    expect(response.body).toContain('href="/health"');
  });

  it('renders English for Accept-Language: en', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/',
      headers: { 'accept-language': 'en-US,en;q=0.9,fr;q=0.5' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('<html lang="en"');
    expect(response.body).toContain('upcoming release');
  });

  it('renders English for ?lang=en, remembers it in a cookie, and honours the cookie', async () => {
    const chosen = await app.inject({
      method: 'GET',
      url: '/?lang=en',
      headers: { 'accept-language': 'fr' },
    });
    expect(chosen.statusCode).toBe(200);
    expect(chosen.body).toContain('<html lang="en"');
    expect(chosen.headers['set-cookie']).toEqual([expect.stringMatching(/^lang=en;/)]);

    const remembered = await app.inject({
      method: 'GET',
      url: '/',
      headers: { 'accept-language': 'fr', cookie: 'lang=en' },
    });
    expect(remembered.body).toContain('<html lang="en"');
  });

  it('serves the assets referenced by the page with their content type and a long cache', async () => {
    const page = await app.inject({ method: 'GET', url: '/' });
    const stylesheet = page.body.match(/href="(\/assets\/[^"]+\.css)"/)?.[1];
    const script = page.body.match(/(\/assets\/[^"]+\.js)"/)?.[1];
    expect(stylesheet).toBeDefined();
    expect(script).toBeDefined();

    const css = await app.inject({ method: 'GET', url: stylesheet! });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    expect(css.headers['cache-control']).toContain('immutable');

    const js = await app.inject({ method: 'GET', url: script! });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
  });

  it('serves the other client files with a short cache', async () => {
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.body).toContain('href="/favicon.svg"');
    const icon = await app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(icon.headers['cache-control']).toBe('public, max-age=3600');
  });

  it('answers a missing asset with 404 without rendering a page', async () => {
    const response = await app.inject({ method: 'GET', url: '/assets/nope-123.js' });
    expect(response.statusCode).toBe(404);
    expect(response.body).not.toContain('<html');
  });

  it('answers unknown /api/ and /webhooks/ paths with a JSON 404, not a page', async () => {
    for (const url of ['/api/nope', '/webhooks/nope', '/health/nope']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type'], url).toMatch(/^application\/json/);
      expect(response.json(), url).toEqual(NOT_FOUND_BODY);
    }
    const post = await app.inject({ method: 'POST', url: '/webhooks/nope', payload: { a: 1 } });
    expect(post.statusCode).toBe(404);
    expect(post.json()).toEqual(NOT_FOUND_BODY);
  });

  it('leaves /health and JSON body parsing of other routes alone', async () => {
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });

    const echo = await app.inject({ method: 'POST', url: '/api/echo', payload: { a: 1 } });
    expect(echo.json()).toEqual({ received: { a: 1 } });
  });

  it('renders the Remix 404 page for an unknown UI path, with no error details', async () => {
    const response = await app.inject({ method: 'GET', url: '/no-such-page' });
    expect(response.statusCode).toBe(404);
    expect(response.body).toContain('Page introuvable');
    expect(response.body).toContain('Page not found');
  });

  it('passes form posts through to Remix untouched', async () => {
    // The landing page has no action: Remix itself answers 405, proving the body reached it.
    const response = await app.inject({
      method: 'POST',
      url: '/?index',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'intent=nothing',
    });
    expect(response.statusCode).toBe(405);
  });
});

describe('admin-web plugin body limit', () => {
  it("holds bodies sent to Remix to the application's bodyLimit", async () => {
    const app = Fastify({ bodyLimit: 1024 });
    await app.register(adminWeb, { buildDirectory: DEFAULT_ADMIN_WEB_BUILD_DIRECTORY });
    try {
      const response = await app.inject({
        method: 'POST',
        url: '/?index',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `note=${'x'.repeat(2048)}`,
      });
      expect(response.statusCode).toBe(413);
    } finally {
      await app.close();
    }
  });
});

describe('admin-web plugin without a build', () => {
  let app: FastifyInstance;
  let emptyDirectory: string;
  beforeAll(async () => {
    emptyDirectory = mkdtempSync(join(tmpdir(), 'relais-admin-web-missing-'));
    app = await buildApp(join(emptyDirectory, 'build'));
  });
  afterAll(async () => {
    await app.close();
    rmSync(emptyDirectory, { recursive: true, force: true });
  });

  it('answers the UI with 503 naming the build command', async () => {
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toContain(ADMIN_WEB_BUILD_COMMAND);
    expect(response.body).toContain("n'est pas construite");
    expect(response.body).toContain('is not built');
  });

  it('keeps /health, the API and the JSON 404s working', async () => {
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });

    const echo = await app.inject({ method: 'POST', url: '/api/echo', payload: { a: 1 } });
    expect(echo.json()).toEqual({ received: { a: 1 } });

    const unknown = await app.inject({ method: 'GET', url: '/api/nope' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual(NOT_FOUND_BODY);
  });
});
