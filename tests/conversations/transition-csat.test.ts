import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  conversationStateSchema,
  freshConversationState,
  inspectInboundText,
  readConversationState,
  renderOutboundMessage,
  transitionConversation,
  type ChannelCapabilities,
  type ConversationContext,
  type ConversationEffect,
  type ConversationInput,
  type ConversationState,
} from '@relais/core';

const BUTTONS: ChannelCapabilities = { buttons: true, maxButtons: 12, images: true, maxTextLength: 4000, plainTextOnly: false, replyInSession: true };
const LIST: ChannelCapabilities = { buttons: false, maxButtons: 0, images: true, maxTextLength: 1000, plainTextOnly: false, replyInSession: false };
const SMS_LIKE: ChannelCapabilities = { buttons: false, maxButtons: 0, images: false, maxTextLength: 459, plainTextOnly: true, replyInSession: false };
const USSD_LIKE: ChannelCapabilities = { buttons: false, maxButtons: 0, images: false, maxTextLength: 182, plainTextOnly: true, replyInSession: true };
const TICKET_ID = '33333333-3333-4333-8333-333333333333';
const REQUEST: ConversationInput = { kind: 'csat_request', ticketId: TICKET_ID, ticketNumber: 12 };

function contextOf(overrides: Partial<ConversationContext> = {}): ConversationContext {
  return {
    locale: 'fr',
    localeChosen: true,
    tenantName: 'Wifi Zone Deido',
    capabilities: BUTTONS,
    packages: [],
    categories: [],
    maxPaymentAttempts: 3,
    now: new Date('2026-05-12T09:00:00Z'),
    ...overrides,
  };
}

const sent = (result: { effects: ConversationEffect[] }): any[] => result.effects.flatMap((effect) => (effect.kind === 'send' ? [effect.message] : []));
const idle: ConversationState = { ...freshConversationState(), step: 'idle' };

/** The state after the rating question, and the texts typed after it, one after the other. */
function afterRequest(texts: string[], context = contextOf(), start: ConversationState = idle) {
  let { state } = transitionConversation(start, REQUEST, context);
  const turns = [];
  for (const text of texts) {
    const result = transitionConversation(state, inspectInboundText(text), context);
    state = result.state;
    turns.push(result);
  }
  return { state, turns, last: turns.at(-1)! };
}

describe('conversation engine: hand-off, agent replies and the satisfaction survey', () => {
  it('asks for a rating 1-5 with star choices, in the contact language', () => {
    const asked = transitionConversation(idle, REQUEST, contextOf());
    expect(asked.state).toMatchObject({ step: 'csat_rate', csat: { ticketId: TICKET_ID, ticketNumber: 12, retries: 0 } });
    const [message] = sent(asked);
    expect(message.text).toContain('ticket n° 12 est résolu');
    expect(message.choices.map((choice: any) => choice.id)).toEqual(['csat:1', 'csat:2', 'csat:3', 'csat:4', 'csat:5']);
    expect(message.choices[0].label).toBe('1 ⭐');
    const english = transitionConversation(idle, REQUEST, contextOf({ locale: 'en' }));
    expect(sent(english)[0].text).toContain('ticket #12 is resolved');
  });

  it('on SMS and USSD the scale is in the text (no "1. 1" list once stars are stripped), and "4" still answers', () => {
    for (const capabilities of [SMS_LIKE, USSD_LIKE]) {
      const asked = transitionConversation(idle, REQUEST, contextOf({ capabilities }));
      const [message] = sent(asked);
      expect(message.choices).toBeUndefined();
      const rendered = renderOutboundMessage(message, capabilities);
      expect(rendered.text).toMatch(/^[\x20-\x7E\n]*$/);
      expect(rendered.text.length).toBeLessThanOrEqual(capabilities.maxTextLength);
      expect(rendered.text).toContain('1 (mauvais) a 5 (excellent)');
      const rated = transitionConversation(asked.state, { kind: 'text', text: '4' }, contextOf({ capabilities }));
      expect(rated.effects).toContainEqual({ kind: 'record_csat', ticketId: TICKET_ID, rating: 4 });
    }
    // A numbered list where buttons are missing but text is rich.
    const listed = renderOutboundMessage(sent(transitionConversation(idle, REQUEST, contextOf({ capabilities: LIST })))[0], LIST);
    expect(listed.text).toMatch(/\n1\. 1 ⭐\n[\s\S]*\n5\. 5 ⭐⭐⭐⭐⭐$/);
  });

  it('rating, then comment, then thanks and the menu', () => {
    const { turns, state } = afterRequest(['csat:5', 'Très rapide, merci']);
    expect(turns[0]!.effects).toContainEqual({ kind: 'record_csat', ticketId: TICKET_ID, rating: 5 });
    expect(turns[0]!.state.step).toBe('csat_comment');
    expect(sent(turns[0]!)[0].text).toContain('Un commentaire');
    expect(turns[1]!.effects).toContainEqual({ kind: 'record_csat_comment', ticketId: TICKET_ID, comment: 'Très rapide, merci' });
    expect(sent(turns[1]!)[0].text).toContain('Merci pour votre avis');
    expect(state.step).toBe('menu');
    expect(state.csat).toBeUndefined();
  });

  it.each(['0', 'non', 'No', 'Non merci', 'skip'])('"%s" skips the comment', (skip) => {
    const { last, state } = afterRequest(['4', skip]);
    expect(last.effects.some((effect) => effect.kind === 'record_csat_comment')).toBe(false);
    expect(sent(last)[0].text).toContain('Merci pour votre avis');
    expect(state.step).toBe('menu');
  });

  it('reads typed ratings: "4/5", "3 étoiles", "2 stars", a typed label', () => {
    for (const [text, rating] of [['4/5', 4], ['3 étoiles', 3], ['2 stars', 2], ['5 ⭐⭐⭐⭐⭐', 5]] as const) {
      expect(afterRequest([text]).last.effects).toContainEqual({ kind: 'record_csat', ticketId: TICKET_ID, rating });
    }
  });

  it('asks again once after an unexpected answer; a second one leaves the survey and is treated as usual', () => {
    const { turns, state } = afterRequest(['ça marche pas trop', '9', 'autre chose']);
    expect(turns[0]!.state).toMatchObject({ step: 'csat_rate', csat: { retries: 1 } });
    expect(sent(turns[0]!)[0].text).toContain('chiffre de 1 à 5');
    // "9" is no rating either: the survey steps aside, the text is answered as any other.
    expect(turns[1]!.effects.some((effect) => effect.kind === 'record_csat')).toBe(false);
    expect(turns[1]!.state.step).toBe('menu');
    expect(turns[1]!.state.csat).toBeUndefined();
    expect(sent(turns[1]!)[0].choices).toHaveLength(6);
    expect(state.step).toBe('menu');
  });

  it('global words and menu entries win over the survey', () => {
    const menu = afterRequest(['menu']).state;
    expect(menu.step).toBe('menu');
    expect(menu).not.toHaveProperty('csat');
    const agent = afterRequest(['agent']).last;
    expect(agent.effects).toContainEqual({ kind: 'hand_off' });
    expect(agent.state.mode).toBe('agent');
    expect(agent.state).not.toHaveProperty('csat');
    const stop = afterRequest(['stop']).state;
    expect(stop.step).toBe('start');
    expect(stop).not.toHaveProperty('csat');
    expect(afterRequest(['aide']).state.step).toBe('menu');
    const english = afterRequest(['english']).last;
    expect(english.effects).toContainEqual({ kind: 'set_contact_locale', locale: 'en' });
    // "Mes tickets" at the rating question: answered at once, no "1 to 5" again.
    const tickets = afterRequest(['Mes tickets']).last;
    expect(tickets.effects).toContainEqual({ kind: 'lookup', what: 'tickets' });
    // At the comment question, "menu" is no comment.
    const menuAtComment = afterRequest(['3', 'menu']).last;
    expect(menuAtComment.effects.some((effect) => effect.kind === 'record_csat_comment')).toBe(false);
  });

  it('no survey while an agent holds the conversation (under another ticket)', () => {
    const held = transitionConversation({ ...idle, mode: 'agent' }, REQUEST, contextOf());
    expect(held.effects).toEqual([]);
    expect(held.state.step).toBe('idle');
  });

  it("sends an agent's reply as written, signed with the first name, in any mode and step", () => {
    for (const state of [{ ...idle, mode: 'agent' as const }, idle, { ...freshConversationState(), step: 'buy_choose_package' as const, offered: [{ id: 'menu', label: 'Menu' }] }]) {
      const replied = transitionConversation(state, { kind: 'agent_message', text: 'Redémarrez le routeur svp', agentName: 'Awa' }, contextOf());
      expect(sent(replied)).toEqual([{ text: 'Awa : Redémarrez le routeur svp' }]);
      expect(replied.state).toEqual({ ...state, capabilities: BUTTONS });
    }
    const english = transitionConversation(idle, { kind: 'agent_message', text: 'Please restart the router', agentName: 'Awa' }, contextOf({ locale: 'en' }));
    expect(sent(english)[0].text).toBe('Awa: Please restart the router');
    expect(sent(transitionConversation(idle, { kind: 'agent_message', text: 'Réponse automatique' }, contextOf()))[0].text).toBe('Réponse automatique');
  });

  it('customer text in agent mode goes to the ticket without a bot reply; menu/stop/help/language still act', () => {
    const held: ConversationState = { ...idle, mode: 'agent' };
    for (const text of ['Toujours pas de connexion', 'agent', '4']) {
      const relayed = transitionConversation(held, { kind: 'text', text }, contextOf());
      expect(relayed.effects).toEqual([{ kind: 'relay_to_ticket', text }]);
    }
    expect(transitionConversation(held, { kind: 'text', text: 'menu' }, contextOf()).state.mode).toBe('bot');
    expect(transitionConversation(held, { kind: 'text', text: 'aide' }, contextOf()).effects.some((effect) => effect.kind === 'relay_to_ticket')).toBe(false);
  });

  it('a refused hand-off gives the conversation back to the bot, with a sorry and the menu', () => {
    const handedOff = transitionConversation(idle, { kind: 'text', text: 'agent' }, contextOf());
    const refused = transitionConversation(handedOff.state, { kind: 'action_refused', code: 'PLAN_LIMIT_REACHED', action: 'hand_off' }, contextOf());
    expect(refused.state).toMatchObject({ mode: 'bot', step: 'menu' });
    expect(sent(refused)[0].text).toContain('aucun agent ne peut prendre votre demande');
  });

  it('stored states: older rows (no survey) parse as they did; a survey state round-trips; damaged ones start afresh', () => {
    const older = { step: 'menu', mode: 'bot', offered: [{ id: 'menu:buy_wifi', label: 'Acheter du WiFi' }] };
    expect(readConversationState(older, 'bot')).toEqual({ ...older });
    const survey = afterRequest([]).state;
    expect(readConversationState(JSON.parse(JSON.stringify(survey)), 'bot')).toEqual(survey);
    expect(readConversationState({ step: 'csat_rate', csat: { ticketId: 'not-a-uuid', ticketNumber: 1 } }, 'bot')).toEqual(freshConversationState());
    expect(conversationStateSchema.safeParse({ step: 'csat_comment', csat: { ticketId: TICKET_ID, ticketNumber: 3 } }).data?.csat).toEqual({ ticketId: TICKET_ID, ticketNumber: 3, retries: 0 });
  });

  it('property: the survey never traps the customer — two texts that are not ratings leave it, and every text is answered', () => {
    const notARating = fc.string({ minLength: 1, maxLength: 40 }).filter((text) => {
      const input = inspectInboundText(text);
      // Punctuation and zeros before a digit are ignored when reading a rating ("/1", "01" are 1): such texts are ratings.
      return input.kind === 'text' && !/^[^\p{L}\p{N}]*0*[1-5]/u.test(input.text) && !input.text.includes('csat:');
    });
    fc.assert(
      fc.property(notARating, notARating, fc.constantFrom(BUTTONS, SMS_LIKE, USSD_LIKE), fc.constantFrom('fr' as const, 'en' as const), (first, second, capabilities, locale) => {
        const context = contextOf({ capabilities, locale });
        const { turns, state } = afterRequest([first, second], context);
        for (const turn of turns) {
          const answered = sent(turn).length > 0 || turn.effects.some((effect) => effect.kind === 'lookup' || effect.kind === 'hand_off');
          expect(answered || turn.state.mode === 'agent').toBe(true);
          expect(turn.effects.some((effect) => effect.kind === 'record_csat')).toBe(false);
        }
        expect(state.step).not.toBe('csat_rate');
      }),
      { numRuns: 1000 },
    );
  });
});
