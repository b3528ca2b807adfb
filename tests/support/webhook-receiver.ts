import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The bytes as they arrived: what a signature is checked against. */
  rawBody: string;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Status codes to answer with, in order (the last one repeats); 'hang' never answers. */
  respondWith(...answers: (number | 'hang')[]): void;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that records what it is sent: the other end of our webhooks. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  let answers: (number | 'hang')[] = [200];
  const received: ReceivedWebhook[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, rawBody: Buffer.concat(chunks).toString('utf8') });
      const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
      if (answer === 'hang') return;
      response.writeHead(answer, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/relais`,
    received,
    respondWith: (...next) => {
      answers = next.length > 0 ? next : [200];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
