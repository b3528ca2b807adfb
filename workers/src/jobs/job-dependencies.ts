import type { Clock, FileStore, GatewayDirectory, Mailer, RouterClient, SecretBox, SenderFor } from '@relais/core';
import type { Database } from '@relais/db';
import type { Logger } from 'pino';

/** What job processors are wired with (built once per process by the composition root). */
export interface JobDependencies {
  db: Database;
  gateways: GatewayDirectory;
  clock: Clock;
  /** Where generated files go (invoice PDFs). */
  fileStore: FileStore;
  logger: Logger;
  /** Opens tenant secrets (router passwords). */
  secrets: SecretBox;
  routerClient: RouterClient;
  /** The sender for a channel account (built by the composition root, which knows the channels). */
  senderFor: SenderFor;
  /** Sends notification emails; absent when no SMTP server is configured (emails are skipped). */
  mailer?: Mailer;
  /** Automation webhooks may call this host and private networks (WEBHOOKS_ALLOW_PRIVATE_NETWORKS). */
  allowPrivateNetworks?: boolean;
}
