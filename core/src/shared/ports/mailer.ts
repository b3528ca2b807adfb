/** One email to one person, already rendered in their language. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** Alternative HTML body; every value in it must already be escaped. */
  html?: string;
}

/**
 * Sends email (notification copies). Implemented over SMTP by core/src/shared/mailer/. Failures
 * are AppErrors: DEPENDENCY_UNAVAILABLE (retryable: server unreachable, timeout, 4xx) or a
 * non-retryable code when the server refused the message for good (5xx).
 */
export interface Mailer {
  /** Resolves once the server accepted the message for delivery. */
  send(message: MailMessage): Promise<void>;
}
