import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  attachmentRejectionText,
  CONVERSATION_STEPS,
  freshConversationState,
  transitionConversation,
  type ChannelCapabilities,
  type ConversationContext,
  type ConversationEffect,
  type ConversationInput,
  type ConversationState,
  type OfferedCategory,
} from '@relais/core';

const BUTTONS: ChannelCapabilities = { buttons: true, maxButtons: 12, images: true, maxTextLength: 4000, plainTextOnly: false, replyInSession: true };
const CATEGORY: OfferedCategory = { id: '44444444-4444-4444-8444-444444444444', name: { fr: 'Panne', en: 'Outage' }, priceXaf: null };
const PAID: OfferedCategory = { id: '55555555-5555-4555-8555-555555555555', name: { fr: 'Installation', en: 'Setup' }, priceXaf: 2000 };
const TICKET_ID = '33333333-3333-4333-8333-333333333333';
const SHA = 'a'.repeat(64);

function contextOf(overrides: Partial<ConversationContext> = {}): ConversationContext {
  return {
    locale: 'fr',
    localeChosen: true,
    tenantName: 'Wifi Zone Deido',
    capabilities: BUTTONS,
    packages: [],
    categories: [CATEGORY, PAID],
    maxPaymentAttempts: 3,
    now: new Date('2026-05-12T09:00:00Z'),
    ...overrides,
  };
}

const photo = (caption?: string): ConversationInput => ({ kind: 'file', ...(caption ? { caption } : {}), file: { ok: true, kind: 'photo', sha256: SHA, fileName: 'router.jpg' } });
const refused = (reason: 'empty' | 'too_large' | 'type_not_allowed', caption?: string): ConversationInput => ({ kind: 'file', ...(caption ? { caption } : {}), file: { ok: false, reason } });
const sent = (result: { effects: ConversationEffect[] }) => result.effects.flatMap((effect) => (effect.kind === 'send' ? [effect.message] : []));
const ofKind = <K extends ConversationEffect['kind']>(result: { effects: ConversationEffect[] }, kind: K) =>
  result.effects.filter((effect): effect is Extract<ConversationEffect, { kind: K }> => effect.kind === kind);

/** The state after "Ouvrir un ticket" and a category: the bot asks for a description. */
function describing(category: OfferedCategory = CATEGORY): ConversationState {
  return {
    ...freshConversationState(),
    step: 'ticket_describe',
    order: { kind: 'support', categoryId: category.id, label: category.name, priceXaf: category.priceXaf ?? 0, paymentAttempts: 0 },
  };
}

describe('conversation engine: photos and files', () => {
  it('at "describe your request" a photo is the description (its caption, else "Photo") and goes onto the ticket it opens', () => {
    const withCaption = transitionConversation(describing(), photo('Le voyant est rouge'), contextOf());
    expect(ofKind(withCaption, 'open_ticket')).toEqual([
      { kind: 'open_ticket', categoryId: CATEGORY.id, subject: 'Panne', description: 'Le voyant est rouge', file: { sha256: SHA, fileName: 'router.jpg' } },
    ]);
    const bare = transitionConversation(describing(), photo(), contextOf({ locale: 'en' }));
    expect(ofKind(bare, 'open_ticket')[0]).toMatchObject({ description: 'Photo', file: { sha256: SHA } });
    const opened = transitionConversation(bare.state, { kind: 'ticket_opened', ticketId: TICKET_ID, ticketNumber: 12 }, contextOf({ locale: 'en' }));
    expect(sent(opened)[0]!.text).toContain('#12');
    expect(opened.state.order).toBeUndefined();
  });

  it('a paid request without a payer number keeps the file for the ticket opened once the number is given', () => {
    const asked = transitionConversation(describing(PAID), photo(), contextOf());
    expect(asked.state.step).toBe('pay_enter_phone');
    expect(ofKind(asked, 'hold_file')).toHaveLength(1);
    expect(ofKind(asked, 'open_ticket')).toEqual([]);
    const phone = transitionConversation(asked.state, { kind: 'text', text: '670000001' }, contextOf());
    expect(ofKind(phone, 'open_ticket')[0]).toMatchObject({ categoryId: PAID.id, description: 'Photo', file: { sha256: SHA } });
  });

  it.each(['fr', 'en'] as const)('in %s: a refused file at "describe your request" is explained, nothing is opened, the step stays for a text', (locale) => {
    for (const reason of ['empty', 'too_large', 'type_not_allowed'] as const) {
      const result = transitionConversation(describing(), refused(reason, 'voici la photo'), contextOf({ locale }));
      expect(sent(result)).toHaveLength(1);
      expect(sent(result)[0]!.text).toContain(attachmentRejectionText(reason)[locale]);
      expect(result.state.step).toBe('ticket_describe');
      expect(result.effects.every((effect) => effect.kind === 'send')).toBe(true);
    }
  });

  it('while an agent holds the conversation a photo lands on the ticket silently; a refused one is explained and its caption still relayed', () => {
    const agent: ConversationState = { ...freshConversationState(), mode: 'agent', step: 'idle' };
    const accepted = transitionConversation(agent, photo(), contextOf());
    expect(accepted.effects).toEqual([{ kind: 'relay_to_ticket', text: '[Photo]', withFile: true }]);
    const captioned = transitionConversation(agent, photo('Voici le routeur'), contextOf());
    expect(captioned.effects).toEqual([{ kind: 'relay_to_ticket', text: 'Voici le routeur', withFile: true }]);
    const tooBig = transitionConversation(agent, refused('too_large', 'Voici le routeur'), contextOf({ locale: 'en' }));
    expect(sent(tooBig).map((message) => message.text)).toEqual([attachmentRejectionText('too_large').en]);
    expect(ofKind(tooBig, 'relay_to_ticket')).toEqual([{ kind: 'relay_to_ticket', text: 'Voici le routeur' }]);
    expect(tooBig.state.mode).toBe('agent');
  });

  it('elsewhere in bot mode the bot says it reads files only when describing a problem or with an agent, and shows the menu', () => {
    for (const step of ['start', 'menu', 'idle', 'pay_awaiting', 'csat_rate'] as const) {
      const result = transitionConversation({ ...freshConversationState(), step }, photo(), contextOf());
      expect(sent(result)).toHaveLength(1);
      expect(sent(result)[0]!.text).toContain('Je ne lis les photos');
      expect(sent(result)[0]!.choices?.map((choice) => choice.id)).toContain('menu:open_ticket');
      expect(result.effects.filter((effect) => effect.kind !== 'send')).toEqual([]);
    }
  });

  it('property: a file never throws, is always answered in bot mode (or opens the ticket that answers), and only an accepted file ever reaches a ticket', () => {
    const states = fc.record({
      step: fc.constantFrom(...CONVERSATION_STEPS),
      mode: fc.constantFrom('bot' as const, 'agent' as const),
      withOrder: fc.boolean(),
      paid: fc.boolean(),
    });
    const files = fc.oneof(
      fc.record({ ok: fc.constant(true as const), kind: fc.constantFrom('photo' as const, 'pdf' as const, 'audio' as const), sha256: fc.constant(SHA) }),
      fc.record({ ok: fc.constant(false as const), reason: fc.constantFrom('empty' as const, 'too_large' as const, 'type_not_allowed' as const) }),
    );
    fc.assert(
      fc.property(states, files, fc.option(fc.string({ minLength: 1, maxLength: 50 }), { nil: undefined }), fc.constantFrom('fr' as const, 'en' as const), (shape, file, caption, locale) => {
        const base = shape.withOrder ? describing(shape.paid ? PAID : CATEGORY) : freshConversationState();
        const state: ConversationState = { ...base, step: shape.step, mode: shape.mode };
        const result = transitionConversation(state, { kind: 'file', ...(caption ? { caption } : {}), file }, contextOf({ locale }));
        // An opened ticket is answered in the same turn (its number), as for a typed description.
        if (shape.mode === 'bot') expect(sent(result).length > 0 || ofKind(result, 'open_ticket').length > 0).toBe(true);
        const carriesFile = result.effects.some((effect) => (effect.kind === 'relay_to_ticket' && effect.withFile) || (effect.kind === 'open_ticket' && effect.file) || effect.kind === 'hold_file');
        if (!file.ok) expect(carriesFile).toBe(false);
        if (ofKind(result, 'open_ticket').length > 0) expect(shape.mode === 'bot' && shape.step === 'ticket_describe' && shape.withOrder).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
