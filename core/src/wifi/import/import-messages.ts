import type { BilingualText } from '../../shared/bilingual-text.js';

/** Why one row of a voucher file was not imported. Stored in wifi_import_logs.report. */
export const ROW_REJECTION_CODES = [
  'USERNAME_MISSING',
  'USERNAME_INVALID',
  'PASSWORD_MISSING',
  'PASSWORD_INVALID',
  'PROFILE_INVALID',
  'TIME_LIMIT_INVALID',
  'DATA_LIMIT_INVALID',
  'COMMENT_TOO_LONG',
  'UNCLOSED_QUOTE',
  'SCRIPT_LINE_INVALID',
  'USER_DISABLED',
] as const;
export type RowRejectionCode = (typeof ROW_REJECTION_CODES)[number];

/** Why a whole file was not taken as a voucher list. */
export const FILE_REJECTION_CODES = ['FILE_EMPTY', 'FILE_BINARY', 'FILE_UNKNOWN_HEADER', 'FILE_UNRECOGNISED', 'FILE_NO_ROWS'] as const;
export type FileRejectionCode = (typeof FILE_REJECTION_CODES)[number];

export interface RowRejection {
  code: RowRejectionCode;
  message: BilingualText;
}

export interface FileRejection {
  code: FileRejectionCode;
  message: BilingualText;
}

export const USERNAME_LENGTH = { min: 3, max: 64 } as const;
export const PASSWORD_LENGTH = { min: 1, max: 64 } as const;
export const PROFILE_MAX_LENGTH = 64;
export const COMMENT_MAX_LENGTH = 255;

export const MIKHMON_HEADER_TEXT = 'Username,Password,Profile,Time Limit,Data Limit,Comment';

const EXPECTED: BilingualText = {
  fr:
    `Formats acceptés : l'export CSV de MikHmon (en-tête ${MIKHMON_HEADER_TEXT}, séparateur , ou ;), ` +
    `un script RouterOS (/ip hotspot user add name="..." password="..."), ou une liste de codes (un par ligne).`,
  en:
    `Accepted formats: the MikHmon CSV export (header ${MIKHMON_HEADER_TEXT}, separated by , or ;), ` +
    `a RouterOS script (/ip hotspot user add name="..." password="..."), or a list of codes (one per line).`,
};

/** Shows a value from the file inside a message: short, one line, no control characters. */
export function quoteValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return `"${clean.length > 40 ? `${clean.slice(0, 40)}…` : clean}"`;
}

const ROW_TEXT: Record<RowRejectionCode, (value: string) => BilingualText> = {
  USERNAME_MISSING: () => ({ fr: "Nom d'utilisateur vide.", en: 'Empty username.' }),
  USERNAME_INVALID: (v) => ({
    fr: `Nom d'utilisateur ${quoteValue(v)} invalide : ${USERNAME_LENGTH.min} à ${USERNAME_LENGTH.max} caractères parmi lettres, chiffres et . _ - @ +.`,
    en: `Invalid username ${quoteValue(v)}: ${USERNAME_LENGTH.min} to ${USERNAME_LENGTH.max} characters among letters, digits and . _ - @ +.`,
  }),
  PASSWORD_MISSING: () => ({
    fr: 'Mot de passe absent. Un export RouterOS 7 masque les mots de passe : exportez avec show-sensitive.',
    en: 'No password. A RouterOS 7 export hides passwords: export with show-sensitive.',
  }),
  PASSWORD_INVALID: () => ({
    fr: `Mot de passe invalide : ${PASSWORD_LENGTH.min} à ${PASSWORD_LENGTH.max} caractères visibles, sans espace, guillemet, barre oblique inverse, virgule ni point-virgule.`,
    en: `Invalid password: ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} visible characters, without space, quote, backslash, comma or semicolon.`,
  }),
  PROFILE_INVALID: (v) => ({
    fr: `Profil ${quoteValue(v)} invalide (au plus ${PROFILE_MAX_LENGTH} caractères, sans guillemet ni caractère de contrôle).`,
    en: `Invalid profile ${quoteValue(v)} (at most ${PROFILE_MAX_LENGTH} characters, no quote or control character).`,
  }),
  TIME_LIMIT_INVALID: (v) => ({
    fr: `Limite de temps ${quoteValue(v)} illisible : attendu une durée RouterOS comme 1d, 3h, 1w2d3h4m5s.`,
    en: `Unreadable time limit ${quoteValue(v)}: expected a RouterOS duration such as 1d, 3h, 1w2d3h4m5s.`,
  }),
  DATA_LIMIT_INVALID: (v) => ({
    fr: `Limite de données ${quoteValue(v)} illisible : attendu un nombre d'octets (1073741824) ou 500M, 1G.`,
    en: `Unreadable data limit ${quoteValue(v)}: expected a number of bytes (1073741824) or 500M, 1G.`,
  }),
  COMMENT_TOO_LONG: () => ({
    fr: `Commentaire trop long (au plus ${COMMENT_MAX_LENGTH} caractères).`,
    en: `Comment too long (at most ${COMMENT_MAX_LENGTH} characters).`,
  }),
  UNCLOSED_QUOTE: () => ({
    fr: "Une cellule s'étend sur plusieurs lignes : un guillemet ouvert n'est sans doute jamais fermé.",
    en: 'A cell runs over several lines: a quote is probably opened and never closed.',
  }),
  SCRIPT_LINE_INVALID: (v) => ({
    fr: `Ligne de script RouterOS illisible (${v}).`,
    en: `Unreadable RouterOS script line (${v}).`,
  }),
  USER_DISABLED: () => ({
    fr: 'Utilisateur désactivé sur le routeur (disabled=yes) : non importé.',
    en: 'User disabled on the router (disabled=yes): not imported.',
  }),
};

export function rowRejection(code: RowRejectionCode, value = ''): RowRejection {
  return { code, message: ROW_TEXT[code](value) };
}

const FILE_TEXT: Record<FileRejectionCode, (detail: string) => BilingualText> = {
  FILE_EMPTY: () => ({ fr: `Le fichier est vide. ${EXPECTED.fr}`, en: `The file is empty. ${EXPECTED.en}` }),
  FILE_BINARY: (kind) => ({
    fr: `Ce fichier n'est pas du texte (${kind}) : ce n'est pas une liste de bons. ${EXPECTED.fr} Depuis un tableur, enregistrez en CSV.`,
    en: `This file is not text (${kind}): it is not a voucher list. ${EXPECTED.en} From a spreadsheet, save as CSV.`,
  }),
  FILE_UNKNOWN_HEADER: (found) => ({
    fr: `En-tête CSV inconnu ${quoteValue(found)} : ce n'est pas un export MikHmon. ${EXPECTED.fr}`,
    en: `Unknown CSV header ${quoteValue(found)}: this is not a MikHmon export. ${EXPECTED.en}`,
  }),
  FILE_UNRECOGNISED: (found) => ({
    fr: `Ce fichier ne ressemble pas à une liste de bons (première ligne ${quoteValue(found)}). ${EXPECTED.fr}`,
    en: `This file does not look like a voucher list (first line ${quoteValue(found)}). ${EXPECTED.en}`,
  }),
  FILE_NO_ROWS: () => ({
    fr: `Aucun bon dans le fichier. ${EXPECTED.fr}`,
    en: `No vouchers in the file. ${EXPECTED.en}`,
  }),
};

export function fileRejection(code: FileRejectionCode, detail = ''): FileRejection {
  return { code, message: FILE_TEXT[code](detail) };
}

/** "12 345" in French, "12,345" in English, as money.ts groups digits. */
export function formatCount(count: number, locale: 'fr' | 'en'): string {
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, locale === 'fr' ? ' ' : ',');
}
