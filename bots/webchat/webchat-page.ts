/** The page's own words (the bot speaks for itself, in the language the visitor chose). */
const PAGE_TEXTS = {
  fr: {
    title: 'Discussion',
    placeholder: 'Écrivez votre message…',
    send: 'Envoyer',
    offline: 'Connexion perdue, nouvelle tentative…',
    hint: 'Écrivez « bonjour » pour commencer.',
    attach: 'Joindre une photo ou un fichier (le texte écrit l’accompagne)',
    tooLarge: 'Ce fichier est trop volumineux (10 Mo au plus).',
  },
  en: {
    title: 'Chat',
    placeholder: 'Type your message…',
    send: 'Send',
    offline: 'Connection lost, retrying…',
    hint: 'Write "hello" to start.',
    attach: 'Attach a photo or a file (the text typed goes with it)',
    tooLarge: 'This file is too large (10 MB at most).',
  },
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/**
 * The web chat page: plain HTML and a little JavaScript on the two web chat endpoints. Texts are
 * inserted with textContent only, never as markup. The visitor's id lives in localStorage.
 */
export function renderWebchatPage(options: {
  tenantSlug: string;
  tenantName: string;
  locale: 'fr' | 'en';
  /** A line above the chat, e.g. the server's demo-mode notice, with an optional link. */
  banner?: { text: string; link?: { href: string; label: string } };
}): string {
  const config = JSON.stringify({ slug: options.tenantSlug, locale: options.locale, texts: PAGE_TEXTS }).replace(/</g, '\\u003c');
  const texts = PAGE_TEXTS[options.locale];
  const { banner } = options;
  const bannerHtml = banner
    ? `<div id="banner" style="background:#ffd54f;padding:8px 16px;font-size:14px">${escapeHtml(banner.text)}${banner.link ? ` <a href="${escapeHtml(banner.link.href)}">${escapeHtml(banner.link.label)}</a>` : ''}</div>\n`
    : '';
  return `<!doctype html>
<html lang="${options.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.tenantName)} - ${texts.title}</title>
<style>
  body { margin: 0; font-family: system-ui, sans-serif; background: #eef1f4; display: flex; flex-direction: column; height: 100vh; }
  header { background: #0b6e4f; color: #fff; padding: 12px 16px; font-weight: 600; display: flex; justify-content: space-between; }
  header button { background: none; border: 1px solid #fff; color: #fff; border-radius: 4px; cursor: pointer; }
  #log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
  .msg { max-width: 80%; padding: 8px 12px; border-radius: 10px; white-space: pre-wrap; word-wrap: break-word; }
  .bot { background: #fff; align-self: flex-start; }
  .customer { background: #d7f5e4; align-self: flex-end; }
  .choices { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
  .choices button { border: 1px solid #0b6e4f; background: #fff; color: #0b6e4f; border-radius: 14px; padding: 4px 10px; cursor: pointer; }
  .msg img { display: block; max-width: 240px; margin-top: 8px; }
  form { display: flex; gap: 8px; padding: 10px; background: #fff; }
  input { flex: 1; padding: 10px; border: 1px solid #ccc; border-radius: 6px; font-size: 16px; }
  form button { background: #0b6e4f; color: #fff; border: 0; border-radius: 6px; padding: 0 16px; }
  form label { display: flex; align-items: center; font-size: 22px; cursor: pointer; padding: 0 4px; }
  #status { font-size: 12px; color: #a00; padding: 0 12px; min-height: 14px; }
</style>
</head>
<body>
<header><span>${escapeHtml(options.tenantName)}</span><button id="lang" type="button">${options.locale === 'fr' ? 'EN' : 'FR'}</button></header>
${bannerHtml}<div id="log" aria-live="polite"><div class="msg bot" id="hint">${escapeHtml(texts.hint)}</div></div>
<div id="status"></div>
<form id="form"><label id="attach" title="${escapeHtml(texts.attach)}">&#128206;<input id="file" type="file" accept="image/jpeg,image/png,image/gif,image/webp,application/pdf,audio/ogg" hidden></label><input id="text" autocomplete="off" maxlength="4096" placeholder="${escapeHtml(texts.placeholder)}"><button id="send" type="submit">${escapeHtml(texts.send)}</button></form>
<script>
(() => {
  const config = ${config};
  let locale = localStorage.getItem('relais-chat-locale') || ((navigator.language || '').startsWith('en') ? 'en' : config.locale);
  const storageKey = 'relais-chat-contact:' + config.slug;
  let contactId = localStorage.getItem(storageKey);
  if (!contactId) { contactId = crypto.randomUUID().replace(/-/g, ''); localStorage.setItem(storageKey, contactId); }
  const base = '/api/webchat/' + encodeURIComponent(config.slug);
  const log = document.getElementById('log');
  const status = document.getElementById('status');
  const seen = new Set();
  let cursor = 0;
  function applyLocale() {
    const t = config.texts[locale];
    document.documentElement.lang = locale;
    document.getElementById('text').placeholder = t.placeholder;
    document.getElementById('send').textContent = t.send;
    document.getElementById('attach').title = t.attach;
    document.getElementById('hint').textContent = t.hint;
    document.getElementById('lang').textContent = locale === 'fr' ? 'EN' : 'FR';
  }
  function draw(message) {
    if (seen.has(message.id)) return;
    seen.add(message.id);
    cursor = Math.max(cursor, message.seq);
    const bubble = document.createElement('div');
    bubble.className = 'msg ' + message.from;
    bubble.textContent = message.text;
    if (message.image) {
      const image = document.createElement('img');
      image.src = message.image.url; image.alt = message.image.alt;
      bubble.appendChild(image);
    }
    if (message.choices) {
      const row = document.createElement('div');
      row.className = 'choices';
      for (const choice of message.choices) {
        const button = document.createElement('button');
        button.type = 'button'; button.textContent = choice.label;
        button.onclick = () => send(choice.label);
        row.appendChild(button);
      }
      bubble.appendChild(row);
    }
    log.appendChild(bubble);
    log.scrollTop = log.scrollHeight;
  }
  async function poll() {
    try {
      const response = await fetch(base + '/messages?contactId=' + contactId + '&after=' + cursor);
      if (!response.ok) throw new Error(String(response.status));
      const page = await response.json();
      page.messages.forEach(draw);
      status.textContent = '';
    } catch { status.textContent = config.texts[locale].offline; }
  }
  async function send(text, file) {
    if (!text.trim() && !file) return;
    const messageId = crypto.randomUUID().replace(/-/g, '');
    try {
      const response = await fetch(base + '/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ contactId, text, messageId, file }) });
      if (!response.ok) throw new Error(String(response.status));
      await poll();
    } catch { status.textContent = config.texts[locale].offline; }
  }
  document.getElementById('form').onsubmit = (event) => {
    event.preventDefault();
    const input = document.getElementById('text');
    const text = input.value; input.value = '';
    send(text);
  };
  // A file goes with the text typed so far (its caption); the server judges its type from its bytes.
  const picker = document.getElementById('file');
  picker.onchange = () => {
    const picked = picker.files[0];
    picker.value = '';
    if (!picked) return;
    if (picked.size > 10 * 1024 * 1024) { status.textContent = config.texts[locale].tooLarge; return; }
    const reader = new FileReader();
    reader.onload = () => {
      const input = document.getElementById('text');
      const text = input.value; input.value = '';
      send(text, { name: picked.name, contentType: picked.type, base64: String(reader.result).split(',')[1] || '' });
    };
    reader.readAsDataURL(picked);
  };
  document.getElementById('lang').onclick = () => { locale = locale === 'fr' ? 'en' : 'fr'; localStorage.setItem('relais-chat-locale', locale); applyLocale(); };
  applyLocale();
  poll();
  setInterval(poll, 2000);
})();
</script>
</body>
</html>
`;
}
