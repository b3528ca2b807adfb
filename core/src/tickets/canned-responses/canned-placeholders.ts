/**
 * The placeholders a canned response may use. A template is checked when it is saved (unknown
 * names and stray braces are refused), and filled in one pass: the values (a customer's name, a
 * ticket subject...) are inserted verbatim and never read as templates themselves, so a customer
 * named "{{agent.name}}" stays literally that.
 */
export const CANNED_PLACEHOLDERS = [
  'customer.name',
  'customer.phone',
  'ticket.number',
  'ticket.subject',
  'agent.name',
  'voucher.code',
  'tenant.name',
] as const;
export type CannedPlaceholder = (typeof CANNED_PLACEHOLDERS)[number];
export type PlaceholderValues = Record<CannedPlaceholder, string>;

/** `{{ name }}`: the name itself holds no braces; spaces around it are allowed. */
const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

const isPlaceholder = (name: string): name is CannedPlaceholder => (CANNED_PLACEHOLDERS as readonly string[]).includes(name);

/** What is wrong with a template, in words an admin can act on; undefined when it is fine. */
export function cannedTemplateProblem(template: string): string | undefined {
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1]!.trim();
    if (!isPlaceholder(name)) {
      return `unknown placeholder {{${name}}} (known: ${CANNED_PLACEHOLDERS.map((known) => `{{${known}}}`).join(', ')})`;
    }
  }
  // Braces left once the well-formed placeholders are out: "{{customer.name}", "{{ {x} }}", "}}"...
  const rest = template.replace(PLACEHOLDER, '\u0000');
  const stray = /\{\{|\}\}/.exec(rest);
  if (stray) {
    const around = rest.slice(Math.max(0, stray.index - 15), stray.index + 17).replaceAll('\u0000', '…');
    return `malformed placeholder near "${around}": write placeholders as {{customer.name}}`;
  }
  return undefined;
}

/** Fills a (validated) template in a single pass: inserted values are not scanned again. */
export function fillCannedTemplate(template: string, values: PlaceholderValues): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    const key = name.trim();
    // A template saved before a placeholder was retired keeps the text as written.
    return isPlaceholder(key) ? values[key] : whole;
  });
}
