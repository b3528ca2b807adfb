/** A text in both of the platform's languages: everything a customer, agent or reseller reads. */
export interface BilingualText {
  fr: string;
  en: string;
}
