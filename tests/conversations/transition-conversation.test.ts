import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONVERSATION_STEPS,
  freshConversationState,
  inspectInboundText,
  matchChoice,
  renderOutboundMessage,
  transitionConversation,
  type ChannelCapabilities,
  type ConversationContext,
  type ConversationEffect,
  type ConversationInput,
  type ConversationState,
} from '@relais/core';

const BUTTONS: ChannelCapabilities = { buttons: true, maxButtons: 12, images: true, maxTextLength: 4000, plainTextOnly: false, replyInSession: true };
const SMS_LIKE: ChannelCapabilities = { buttons: false, maxButtons: 0, images: false, maxTextLength: 459, plainTextOnly: true, replyInSession: false };
const USSD_LIKE: ChannelCapabilities = { buttons: false, maxButtons: 0, images: false, maxTextLength: 182, plainTextOnly: true, replyInSession: true };

const DAY = { id: '11111111-1111-4111-8111-111111111111', name: { fr: '1 jour', en: '1 day' }, priceXaf: 500, validityMinutes: 1440 };
const WEEK = { id: '22222222-2222-4222-8222-222222222222', name: { fr: '1 semaine', en: '1 week' }, priceXaf: 2500, validityMinutes: 10080 };
const TICKET_ID = '33333333-3333-4333-8333-333333333333';
const CATEGORY = { id: '44444444-4444-4444-8444-444444444444', name: { fr: 'Panne', en: 'Outage' }, priceXaf: null };

function contextOf(overrides: Partial<ConversationContext> = {}): ConversationContext {
  return {
    locale: 'fr',
    localeChosen: true,
    tenantName: 'Wifi Zone Deido',
    capabilities: BUTTONS,
    packages: [DAY, WEEK],
    categories: [CATEGORY],
    maxPaymentAttempts: 3,
    now: new Date('2026-05-12T09:00:00Z'),
    ...overrides,
  };
}

/** Runs texts one after the other, as a customer types them. */
function converse(texts: string[], context = contextOf(), start: ConversationState = freshConversationState()) {
  let state = start;
  const turns = [];
  for (const text of texts) {
    const result = transitionConversation(state, { kind: 'text', text }, context);
    state = result.state;
    turns.push(result);
  }
  return { state, turns, last: turns.at(-1)! };
}

/** The messages a transition sends (choices and image left loosely typed for brevity). */
const sent = (result: { effects: ConversationEffect[] }): any[] => result.effects.flatMap((effect) => (effect.kind === 'send' ? [effect.message] : []));

describe('conversation engine: the pure transition', () => {
  it('greets a new contact with the language choice, then the menu in the chosen language', () => {
    const first = converse(['bonjour'], contextOf({ localeChosen: false }));
    expect(first.state.step).toBe('choose_language');
    expect(sent(first.last)[0].choices.map((c: any) => c.id)).toEqual(['lang:fr', 'lang:en']);
    const chosen = transitionConversation(first.state, { kind: 'text', text: '2' }, contextOf({ localeChosen: false }));
    expect(chosen.effects).toContainEqual({ kind: 'set_contact_locale', locale: 'en' });
    expect(chosen.state.step).toBe('menu');
    expect(sent(chosen).at(-1).choices[0].label).toBe('Buy WiFi');
  });

  it('buys WiFi: package, number asked when the chat has none, ticket, payment', () => {
    const { state, turns } = converse(['menu', '1', '1']);
    expect(sent(turns[1]!)[0].choices.map((c: any) => c.label)).toEqual(['1 jour - 500 FCFA', '1 semaine - 2 500 FCFA', 'Menu']);
    expect(state.step).toBe('pay_enter_phone');
    const bad = transitionConversation(state, { kind: 'text', text: '660000000' }, contextOf());
    expect(bad.state.step).toBe('pay_enter_phone');
    expect(sent(bad)[0].text).toContain('MTN ou Orange');
    const good = transitionConversation(state, { kind: 'text', text: '6 70 00 00 01' }, contextOf());
    expect(good.effects).toContainEqual(expect.objectContaining({ kind: 'open_ticket', packageId: DAY.id }));
    expect(good.state.order).toMatchObject({ payerPhone: '+237670000001', packageId: DAY.id });
    const opened = transitionConversation(good.state, { kind: 'ticket_opened', ticketId: TICKET_ID, ticketNumber: 7 }, contextOf());
    expect(opened.effects).toContainEqual({ kind: 'start_payment', ticketId: TICKET_ID, payerPhone: '+237670000001', attempt: 1 });
    expect(opened.state.step).toBe('pay_awaiting');
    const pending = transitionConversation(opened.state, { kind: 'payment_pending', ticketId: TICKET_ID, amountXaf: 500, operator: 'MTN' }, contextOf());
    expect(sent(pending)[0].text).toContain('*126#');
  });

  it("pays with the chat's own number when the channel identity is one", () => {
    const { last } = converse(['menu', '1', '2'], contextOf({ contactPhoneE164: '+237690000002' }));
    expect(last.effects).toContainEqual(expect.objectContaining({ kind: 'open_ticket', packageId: WEEK.id }));
    expect(last.state.order?.payerPhone).toBe('+237690000002');
  });

  it('offers a retry after a failed payment, at most three attempts in all', () => {
    let { state } = converse(['menu', '1', '1', '670000001']);
    state = transitionConversation(state, { kind: 'ticket_opened', ticketId: TICKET_ID, ticketNumber: 7 }, contextOf()).state;
    for (const attempt of [2, 3]) {
      const failed = transitionConversation(state, { kind: 'payment_failed', ticketId: TICKET_ID, reason: 'failed', attemptsLeft: 3 - (attempt - 1) }, contextOf());
      expect(failed.state.step).toBe('pay_failed');
      expect(sent(failed)[0].choices.map((c: any) => c.id)).toEqual(['pay:retry', 'pay:other_number', 'menu']);
      const retried = transitionConversation(failed.state, { kind: 'text', text: '1' }, contextOf());
      expect(retried.effects).toContainEqual({ kind: 'start_payment', ticketId: TICKET_ID, payerPhone: '+237670000001', attempt });
      state = retried.state;
    }
    const last = transitionConversation(state, { kind: 'payment_failed', ticketId: TICKET_ID, reason: 'failed', attemptsLeft: 0 }, contextOf());
    expect(last.state.step).toBe('menu');
    expect(last.effects.some((effect) => effect.kind === 'start_payment')).toBe(false);
    expect(sent(last)[0].text).toContain('nombre d’essais est atteint');
  });

  it('delivers the voucher with its QR image and closes the order', () => {
    let { state } = converse(['menu', '1', '1', '670000001']);
    state = transitionConversation(state, { kind: 'ticket_opened', ticketId: TICKET_ID, ticketNumber: 7 }, contextOf()).state;
    const ready = transitionConversation(
      state,
      { kind: 'voucher_ready', ticketId: TICKET_ID, code: 'abcd2345', password: 'abcd2345', packageName: DAY.name, validityMinutes: 1440, image: { fileKey: 'k.png', mimeType: 'image/png' } },
      contextOf({ locale: 'en' }),
    );
    const [message] = sent(ready);
    expect(message.text).toContain('abcd2345');
    expect(message.text).toContain('1 day');
    expect(message.image).toEqual({ fileKey: 'k.png', mimeType: 'image/png', alt: 'Code: abcd2345' });
    expect(ready.state.order).toBeUndefined();
    expect(ready.state.step).toBe('idle');
  });

  it('handles global words first, whatever the step', () => {
    const { state } = converse(['menu', '1']);
    expect(state.step).toBe('buy_choose_package');
    const agent = transitionConversation(state, { kind: 'text', text: 'Agent' }, contextOf());
    expect(agent.state.mode).toBe('agent');
    expect(agent.effects).toContainEqual({ kind: 'hand_off' });
    const english = transitionConversation(state, { kind: 'text', text: 'english' }, contextOf());
    expect(english.effects).toContainEqual({ kind: 'set_contact_locale', locale: 'en' });
    expect(sent(english).at(-1).choices.map((c: any) => c.label)).toContain('My WiFi');
    const help = transitionConversation(state, { kind: 'text', text: 'aide' }, contextOf());
    expect(help.state.step).toBe('menu');
    const stop = transitionConversation(state, { kind: 'text', text: 'STOP' }, contextOf());
    expect(stop.state).toMatchObject({ step: 'start', order: undefined });
  });

  it('pauses the bot while an agent holds the conversation; "menu" takes it back', () => {
    const { state } = converse(['agent']);
    const silent = transitionConversation(state, { kind: 'text', text: 'Bonjour, ma connexion ne marche pas' }, contextOf());
    // No bot reply: the text goes to the agent's ticket.
    expect(silent.effects).toEqual([{ kind: 'relay_to_ticket', text: 'Bonjour, ma connexion ne marche pas' }]);
    expect(silent.state.mode).toBe('agent');
    const back = transitionConversation(state, { kind: 'text', text: 'menu' }, contextOf());
    expect(back.state.mode).toBe('bot');
    expect(back.state.step).toBe('menu');
  });

  it('opens a free support ticket: category, description, number', () => {
    const { last, state } = converse(['menu', '3', '1', 'Plus de connexion depuis ce matin']);
    expect(last.effects).toContainEqual(expect.objectContaining({ kind: 'open_ticket', categoryId: CATEGORY.id, description: 'Plus de connexion depuis ce matin' }));
    const opened = transitionConversation(state, { kind: 'ticket_opened', ticketId: TICKET_ID, ticketNumber: 1042 }, contextOf());
    expect(sent(opened)[0].text).toContain('1042');
    expect(opened.state.step).toBe('idle');
  });

  it('answers unexpected text with a short help and the menu', () => {
    const { last } = converse(['menu', 'quelque chose de bizarre']);
    expect(sent(last)[0].text).toContain('pas compris');
    expect(sent(last)[0].choices).toHaveLength(6);
  });

  it('maps a typed number, a tapped id or a typed label back to the choice', () => {
    const offered = [
      { id: 'menu:buy_wifi', label: 'Acheter du WiFi' },
      { id: 'menu:my_wifi', label: 'Mon WiFi' },
    ];
    expect(matchChoice('2', offered)?.id).toBe('menu:my_wifi');
    expect(matchChoice('menu:buy_wifi', offered)?.id).toBe('menu:buy_wifi');
    expect(matchChoice('  mon wifi ', offered)?.id).toBe('menu:my_wifi');
    expect(matchChoice('3', offered)).toBeUndefined();
  });

  it('reads bad input as unreadable, and answers it without changing the state', () => {
    expect(inspectInboundText('   ')).toEqual({ kind: 'unreadable', reason: 'empty' });
    expect(inspectInboundText('a'.repeat(4097))).toEqual({ kind: 'unreadable', reason: 'too_long' });
    expect(inspectInboundText('\u0000\u0001PNG')).toEqual({ kind: 'unreadable', reason: 'binary' });
    expect(inspectInboundText('😀🎉')).toEqual({ kind: 'unreadable', reason: 'emoji_only' });
    expect(inspectInboundText("<script>alert('x')</script>")).toEqual({ kind: 'unreadable', reason: 'suspicious' });
    expect(inspectInboundText("1' OR '1'='1")).toEqual({ kind: 'unreadable', reason: 'suspicious' });
    expect(inspectInboundText('2')).toEqual({ kind: 'text', text: '2' });
    const { state } = converse(['menu', '1']);
    const answered = transitionConversation(state, { kind: 'unreadable', reason: 'emoji_only' }, contextOf());
    expect(answered.state).toEqual(state);
    expect(sent(answered)).toHaveLength(1);
  });

  it('renders by capability: buttons, numbered lists, image alternatives, plain text within the length', () => {
    const message = { text: 'Quel forfait voulez-vous ? « 1 jour » – 500 FCFA', choices: [{ id: 'a', label: 'Été' }, { id: 'b', label: 'Hiver' }], image: { fileKey: 'k', mimeType: 'image/png', alt: 'Code : abc' } };
    expect(renderOutboundMessage(message, BUTTONS)).toEqual(message);
    const sms = renderOutboundMessage(message, SMS_LIKE);
    expect(sms.choices).toBeUndefined();
    expect(sms.image).toBeUndefined();
    expect(sms.text).toBe('Quel forfait voulez-vous ? "1 jour" - 500 FCFA\nCode : abc\n1. Ete\n2. Hiver');
    const long = renderOutboundMessage({ text: 'x'.repeat(500), choices: message.choices }, USSD_LIKE);
    expect(long.text.length).toBeLessThanOrEqual(182);
    expect(long.text.endsWith('1. Ete\n2. Hiver')).toBe(true);
  });

  it('property: any input in any state gets a state back, and customer text in bot mode always gets an answer', () => {
    const anyState = fc.record({
      step: fc.constantFrom(...CONVERSATION_STEPS),
      mode: fc.constantFrom('bot' as const, 'agent' as const),
      offered: fc.array(fc.record({ id: fc.string(), label: fc.string() }), { maxLength: 4 }),
      order: fc.option(
        fc.record({
          kind: fc.constantFrom('wifi' as const, 'support' as const),
          label: fc.constant(DAY.name),
          priceXaf: fc.constantFrom(0, 500),
          ticketId: fc.option(fc.constant(TICKET_ID), { nil: undefined }),
          payerPhone: fc.option(fc.constant('+237670000001'), { nil: undefined }),
          paymentAttempts: fc.integer({ min: 0, max: 3 }),
        }),
        { nil: undefined },
      ),
      csat: fc.option(fc.record({ ticketId: fc.constant(TICKET_ID), ticketNumber: fc.integer({ min: 1, max: 99_999 }), retries: fc.integer({ min: 0, max: 2 }) }), { nil: undefined }),
    });
    const anyText = fc.oneof(
      fc.string(),
      fc.constantFrom('1', '2', '7', '0', 'menu', 'agent', 'stop', 'aide', 'english', 'français', '670000001', '', '😀', '4', '5/5', 'csat:3', 'non', 'Mon WiFi'),
      fc.string({ unit: 'binary' }),
    );
    const anyInput: fc.Arbitrary<ConversationInput> = fc.oneof(
      anyText.map((text) => inspectInboundText(text)),
      fc.constant<ConversationInput>({ kind: 'payment_failed', ticketId: TICKET_ID, reason: 'failed', attemptsLeft: 1 }),
      fc.constant<ConversationInput>({ kind: 'payment_pending', ticketId: TICKET_ID, amountXaf: 500, operator: 'ORANGE' }),
      fc.constant<ConversationInput>({ kind: 'ticket_opened', ticketId: TICKET_ID, ticketNumber: 3 }),
      fc.constant<ConversationInput>({ kind: 'action_refused', code: 'PLAN_LIMIT_REACHED' }),
      fc.constant<ConversationInput>({ kind: 'action_refused', code: 'PLAN_LIMIT_REACHED', action: 'hand_off' }),
      fc.string().map<ConversationInput>((text) => ({ kind: 'agent_message', text: text || 'Bonjour', agentName: 'Awa' })),
      fc.constant<ConversationInput>({ kind: 'csat_request', ticketId: TICKET_ID, ticketNumber: 12 }),
    );
    const anyContext = fc.record({
      locale: fc.constantFrom('fr' as const, 'en' as const),
      localeChosen: fc.boolean(),
      packages: fc.constantFrom<ConversationContext['packages'][]>([], [DAY, WEEK]),
      capabilities: fc.constantFrom(BUTTONS, SMS_LIKE, USSD_LIKE),
      contactPhoneE164: fc.constantFrom(undefined, '+237670000009', '+237660000000'),
    });
    fc.assert(
      fc.property(anyState, anyInput, anyContext, (state, input, overrides) => {
        const context = contextOf(overrides);
        const result = transitionConversation(state as ConversationState, input, context);
        expect(CONVERSATION_STEPS).toContain(result.state.step);
        // The survey's ticket is kept only while the survey is on screen.
        if (result.state.step !== 'csat_rate' && result.state.step !== 'csat_comment') expect(result.state.csat).toBeUndefined();
        const messages = sent(result);
        if (state.mode === 'bot' && (input.kind === 'text' || input.kind === 'unreadable')) {
          const asksLookup = result.effects.some((effect) => effect.kind === 'lookup' || effect.kind === 'open_ticket');
          expect(messages.length > 0 || asksLookup).toBe(true);
        }
        for (const message of messages) {
          const rendered = renderOutboundMessage(message, context.capabilities);
          expect(rendered.text.length).toBeLessThanOrEqual(context.capabilities.maxTextLength);
          if (context.capabilities.plainTextOnly) expect(rendered.text).toMatch(/^[\x20-\x7E\n]*$/);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
