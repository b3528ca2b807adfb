import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fastifyStatic from '@fastify/static';
import {
  createReadableStreamFromReadable,
  createRequestHandler,
  type AppLoadContext,
  type ServerBuild,
} from '@remix-run/node';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** `admin-web/build` of this checkout (server/src/plugins -> repository root). */
export const DEFAULT_ADMIN_WEB_BUILD_DIRECTORY = fileURLToPath(
  new URL('../../../admin-web/build', import.meta.url),
);

export const ADMIN_WEB_BUILD_COMMAND = 'npm run build --workspace @relais/admin-web';

export interface AdminWebOptions {
  /** The Remix build output: holds `client/` (static files) and `server/index.js`. */
  buildDirectory: string;
  /** Values handed to Remix loaders and actions as `context`. */
  getLoadContext?: (request: FastifyRequest) => AppLoadContext | Promise<AppLoadContext>;
}

// Vite fingerprints everything under /assets/: a changed file gets a new name.
const ONE_YEAR = '365d';
// Other client files (favicon, robots.txt...) keep their names between releases.
const ONE_HOUR = '1h';

/** Paths that belong to fastify routes; an unknown one there is an API 404, never a page. */
const NON_UI_PATH = /^\/(?:api|webhooks|health)(?:[/?]|$)/;

const BODYLESS_METHODS = new Set(['GET', 'HEAD']);

/**
 * Serves the Remix admin web app: static client files, then every other request through Remix.
 * Register it LAST: its catch-all route answers every path no other route claims.
 */
export const adminWeb = fp<AdminWebOptions>(
  async function adminWebPlugin(app, options) {
    // Encapsulated: the raw-body parser, the catch-all and @fastify/static's reply decorators
    // stay out of the rest of the application.
    await app.register(async function adminWebRoutes(scope) {
      await registerAdminWeb(scope, options);
    });
  },
  { name: 'admin-web', fastify: '5.x' },
);

async function registerAdminWeb(scope: FastifyInstance, options: AdminWebOptions): Promise<void> {
  const clientDirectory = join(options.buildDirectory, 'client');
  const serverBuildPath = join(options.buildDirectory, 'server', 'index.js');

  // Remix reads the body itself (forms, JSON, uploads): hand it the unparsed stream, held to
  // the same size limit as the rest of the application.
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', (request, payload, done) => {
    const limit = request.routeOptions.bodyLimit;
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return done(bodyTooLarge(), undefined);
    done(null, payload.pipe(limitedTo(limit)));
  });

  const uiHandler = existsSync(serverBuildPath)
    ? await remixHandler(scope, options, clientDirectory, serverBuildPath)
    : buildMissingHandler(scope, serverBuildPath);

  scope.all('/*', async (request, reply) => {
    if (NON_UI_PATH.test(request.url)) {
      return reply
        .status(404)
        .send({ error: { code: 'NOT_FOUND', message: 'Not found' } });
    }
    return uiHandler(request, reply);
  });
}

type UiHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;

async function remixHandler(
  scope: FastifyInstance,
  options: AdminWebOptions,
  clientDirectory: string,
  serverBuildPath: string,
): Promise<UiHandler> {
  if (existsSync(clientDirectory)) {
    // /assets/* is its own wildcard route (more specific than the catch-all), so a missing
    // asset is a plain 404 rather than a page rendered by Remix.
    await scope.register(fastifyStatic, {
      root: join(clientDirectory, 'assets'),
      prefix: '/assets/',
      maxAge: ONE_YEAR,
      immutable: true,
      dotfiles: 'ignore',
    });
    // The few top-level files get one exact route each (wildcard: false), which cannot clash
    // with the catch-all; they are read when the server starts.
    await scope.register(fastifyStatic, {
      root: clientDirectory,
      prefix: '/',
      wildcard: false,
      globIgnore: ['assets/**'],
      index: false,
      maxAge: ONE_HOUR,
      dotfiles: 'ignore',
      decorateReply: false,
    });
  }

  const build = (await import(pathToFileURL(serverBuildPath).href)) as ServerBuild;
  // Only "development" shows error details to the browser; anything else is sanitized.
  const mode = process.env.NODE_ENV === 'development' ? 'development' : 'production';
  const handleRequest = createRequestHandler(build, mode);

  return async (request, reply) => {
    const controller = new AbortController();
    // "close" after "finish" is a normal end; "close" alone means the client went away.
    reply.raw.once('finish', () => reply.raw.removeListener('close', onClose));
    reply.raw.once('close', onClose);
    function onClose() {
      controller.abort();
    }

    const webRequest = toWebRequest(request, controller.signal);
    const loadContext = options.getLoadContext ? await options.getLoadContext(request) : undefined;
    const response = await handleRequest(webRequest, loadContext);
    return sendWebResponse(request, reply, response);
  };
}

function buildMissingHandler(scope: FastifyInstance, serverBuildPath: string): UiHandler {
  scope.log.warn(
    { serverBuildPath },
    `admin web app is not built; run \`${ADMIN_WEB_BUILD_COMMAND}\` (API, webhooks and /health still work)`,
  );
  return async (_request, reply) =>
    reply
      .status(503)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(BUILD_MISSING_HTML);
}

const BUILD_MISSING_HTML = `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Relais — console indisponible / console unavailable</title>
</head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5">
<h1>Relais</h1>
<p>L'application web d'administration n'est pas construite. Lancez <code>${ADMIN_WEB_BUILD_COMMAND}</code> puis redémarrez le serveur.</p>
<p lang="en">The admin web app is not built. Run <code>${ADMIN_WEB_BUILD_COMMAND}</code> and restart the server.</p>
</body>
</html>
`;

function toWebRequest(request: FastifyRequest, signal: AbortSignal): Request {
  // Concatenated, not resolved: a path such as "//evil.example/" must stay a path.
  const url = new URL(`${request.protocol}://${request.host || 'localhost'}${request.url}`);

  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || name.startsWith(':')) continue; // HTTP/2 pseudo-headers
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }

  const init: RequestInit & { duplex?: 'half' } = { method: request.method, headers, signal };
  // Set by the content-type parser above; absent when the request has no body.
  if (!BODYLESS_METHODS.has(request.method) && request.body instanceof Readable) {
    init.body = createReadableStreamFromReadable(request.body);
    init.duplex = 'half'; // required by fetch for a streamed request body
  }
  return new Request(url, init);
}

function bodyTooLarge(): Error & { statusCode: number; code: string } {
  return Object.assign(new Error('Request body is too large'), {
    statusCode: 413,
    code: 'FST_ERR_CTP_BODY_TOO_LARGE',
  });
}

/** Passes bytes through until `limitBytes`, then fails (chunked bodies declare no length). */
function limitedTo(limitBytes: number): Transform {
  let receivedBytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      receivedBytes += chunk.length;
      callback(receivedBytes > limitBytes ? bodyTooLarge() : null, chunk);
    },
  });
}

function sendWebResponse(
  request: FastifyRequest,
  reply: FastifyReply,
  response: Response,
): FastifyReply {
  reply.status(response.status);
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') reply.header(name, value);
  }
  // Headers iteration would join cookies with commas, which breaks Expires dates.
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) reply.header('set-cookie', cookies);

  if (!response.body) return reply.send();
  if (request.method === 'HEAD') {
    void response.body.cancel();
    return reply.send();
  }
  return reply.send(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>));
}
