import { z } from 'zod';
import { AppError, handleInboundMessage, type Clock, type SecretBox } from '@relais/core';
import type { Database } from '@relais/db';
import { authenticateAfricasTalkingCallback, E164 } from '../sms/africastalking-account.js';
import { USSD_CAPABILITIES } from './ussd-capabilities.js';
import { fitUssdScreen, type UssdScreen } from './ussd-screen.js';

/** Africa's Talking's USSD callback (form fields); unknown fields pass. */
export const ussdRequestFormSchema = z.looseObject({
  sessionId: z.string().trim().min(1).max(150),
  serviceCode: z.string().trim().min(1).max(32),
  phoneNumber: z.string().trim().min(1).max(32),
  networkCode: z.string().max(16).optional(),
  /** Every input of the session so far joined by "*": "" first, then "1", "1*2"... */
  text: z.string().max(1_000).default(''),
});

/** Dialling the code says hello: the engine greets (language, then menu) like any first "bonjour". */
const GREETING = 'bonjour';

/** Said when the engine has nothing to say (the conversation is with an agent) or for a repeated step. */
const NOTHING_TO_ADD = 'Merci, message recu. / Thank you, message received.';
const REPEATED_STEP = 'Repondez avec le numero de votre choix, 0 pour le menu. / Reply with your choice, 0 for the menu.';

/**
 * Translates one USSD request into the conversation engine's inbound message and its replies into
 * one screen. The customer's input is the last of `text`; the step number in the dedupe key makes
 * a gateway's retry of the same step answered once. CON while the engine waits for an answer,
 * END when the flow is over.
 */
export async function handleUssdRequest(
  deps: { db: Database; clock: Clock; secrets: SecretBox },
  options: { channelAccountId: string; secret: string | undefined; body: unknown },
): Promise<UssdScreen> {
  const channel = await authenticateAfricasTalkingCallback(deps, { channelAccountId: options.channelAccountId, kinds: ['ussd'], secret: options.secret });
  const parsed = ussdRequestFormSchema.safeParse(options.body);
  if (!parsed.success) throw new AppError('VALIDATION_FAILED', `not an Africa's Talking USSD request: ${parsed.error.issues[0]!.path.join('.') || 'body'} is invalid`);
  const request = parsed.data;
  const inputs = request.text === '' ? [] : request.text.split('*');
  const outcome = await handleInboundMessage(deps, {
    tenantId: channel.tenantId,
    channelAccountId: channel.channelAccountId,
    sender: { externalId: request.phoneNumber, ...(E164.test(request.phoneNumber) ? { phoneE164: request.phoneNumber } : {}) },
    providerMessageId: `${request.sessionId}:${inputs.length}`,
    text: inputs.length === 0 ? GREETING : inputs.at(-1)!,
    receivedAt: deps.clock.now(),
    capabilities: USSD_CAPABILITIES,
  });
  const kind = outcome.awaitingAnswer ? 'CON' : 'END';
  if (outcome.duplicate) return { kind, text: outcome.awaitingAnswer ? REPEATED_STEP : NOTHING_TO_ADD };
  const text = fitUssdScreen(outcome.replies.map((reply) => reply.body.text));
  return { kind, text: text || NOTHING_TO_ADD };
}
