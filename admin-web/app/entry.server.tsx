import { PassThrough } from 'node:stream';
import {
  createReadableStreamFromReadable,
  type EntryContext,
  type HandleErrorFunction,
} from '@remix-run/node';
import { RemixServer, isRouteErrorResponse } from '@remix-run/react';
import { renderToPipeableStream } from 'react-dom/server';

/** How long Remix waits for deferred data before rejecting it (single fetch reads this export). */
export const streamTimeout = 5_000;
/** React gets a little longer than Remix so that rejected promises still render their boundary. */
const RENDER_ABORT_DELAY_MS = streamTimeout + 1_000;

/**
 * Every request waits for onAllReady: bots and browsers alike get complete HTML, so no user-agent
 * sniffing (isbot) is needed. The pages are small; streaming the shell early would gain little.
 */
export default function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
) {
  return new Promise<Response>((resolve, reject) => {
    let shellRendered = false;
    const { pipe, abort } = renderToPipeableStream(
      <RemixServer context={remixContext} url={request.url} />,
      {
        onAllReady() {
          shellRendered = true;
          const body = new PassThrough();
          responseHeaders.set('Content-Type', 'text/html; charset=utf-8');
          resolve(
            new Response(createReadableStreamFromReadable(body), {
              headers: responseHeaders,
              status: responseStatusCode,
            }),
          );
          pipe(body);
        },
        onShellError(error: unknown) {
          reject(error);
        },
        onError(error: unknown) {
          responseStatusCode = 500;
          // Errors before the shell is ready reject the promise above and are logged by Remix.
          if (shellRendered) console.error(error);
        },
      },
    );
    const timer = setTimeout(abort, RENDER_ABORT_DELAY_MS);
    request.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  });
}

export const handleError: HandleErrorFunction = (error, { request }) => {
  // A client that went away, or a client error (404, 405), is not an error of ours.
  if (request.signal.aborted) return;
  if (isRouteErrorResponse(error) && error.status < 500) return;
  console.error(error);
};
