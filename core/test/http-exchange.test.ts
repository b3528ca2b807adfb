import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpBodyTooLargeError, httpExchange, HttpTimeoutError, keepAliveAgents } from '../src/shared/http-exchange.js';

describe('httpExchange', () => {
  let server: Server;
  let base: string;
  const connections = new Set<number>();

  beforeAll(async () => {
    server = createServer((request, response) => {
      connections.add(request.socket.remotePort!);
      if (request.url === '/slow') return void setTimeout(() => response.end('late'), 2_000);
      if (request.url === '/stall') return void response.writeHead(200).write('partial');
      if (request.url === '/big') return void response.end('x'.repeat(10_000));
      if (request.url === '/redirect') return void response.writeHead(302, { location: '/elsewhere' }).end();
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ method: request.method, body, length: request.headers['content-length'] ?? null })));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the body with its length and reads the answer as text', async () => {
    const answer = await httpExchange(`${base}/echo`, { method: 'POST', body: '{"é":1}', timeoutMs: 5_000, maxBodyBytes: 1_000 });
    expect(answer.status).toBe(201);
    expect(JSON.parse(answer.bodyText)).toEqual({ method: 'POST', body: '{"é":1}', length: '8' });
  });

  it('reuses kept-alive connections between exchanges', async () => {
    const agents = keepAliveAgents();
    connections.clear();
    for (let i = 0; i < 3; i += 1) await httpExchange(`${base}/echo`, { method: 'GET', timeoutMs: 5_000, agents, maxBodyBytes: 1_000 });
    expect(connections.size).toBe(1);
    agents.http.destroy();
  });

  it('does not follow redirects and discards the body unless asked for it', async () => {
    expect(await httpExchange(`${base}/redirect`, { method: 'GET', timeoutMs: 5_000 })).toEqual({ status: 302, bodyText: '' });
    expect((await httpExchange(`${base}/big`, { method: 'GET', timeoutMs: 5_000 })).bodyText).toBe('');
  });

  it('fails with HttpTimeoutError when the answer is late, and with HttpBodyTooLargeError past the cap', async () => {
    await expect(httpExchange(`${base}/slow`, { method: 'GET', timeoutMs: 100 })).rejects.toBeInstanceOf(HttpTimeoutError);
    // Stalled in the middle of the body: the timeout covers the whole exchange.
    await expect(httpExchange(`${base}/stall`, { method: 'GET', timeoutMs: 100, maxBodyBytes: 1_000 })).rejects.toBeInstanceOf(HttpTimeoutError);
    await expect(httpExchange(`${base}/big`, { method: 'GET', timeoutMs: 5_000, maxBodyBytes: 1_000 })).rejects.toBeInstanceOf(HttpBodyTooLargeError);
  });

  it('fails with node\'s network error code when nobody listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(httpExchange(`http://127.0.0.1:${port}/`, { method: 'GET', timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
