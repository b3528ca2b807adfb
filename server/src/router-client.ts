import { createRouterOsClient, type RouterClient } from '@relais/core';

/** The one place the composition root picks the router adapter (RouterOS API over node-routeros). */
export function createRouterClient(): RouterClient {
  return createRouterOsClient();
}
