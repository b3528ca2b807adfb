import { isAppError } from '../shared/app-error.js';
import type { BilingualText } from '../shared/bilingual-text.js';

/**
 * What a reseller reads when a router operation fails: what happened and what to check. The
 * AppError's own message (English, technical) goes to logs and the CLI's verbose output.
 */
export function routerProblemText(error: unknown): BilingualText {
  if (!isAppError(error)) {
    return { fr: 'Erreur inattendue avec le routeur. Réessayez plus tard.', en: 'Unexpected error with the router. Try again later.' };
  }
  switch (error.code) {
    case 'ROUTER_UNREACHABLE':
      return {
        fr: "Le routeur ne répond pas. Vérifiez l'adresse, le port (8728, ou 8729 en TLS), que le service API est activé (IP > Services) et que le routeur est joignable depuis Internet ou par le VPN.",
        en: 'The router does not answer. Check the address, the port (8728, or 8729 with TLS), that the API service is enabled (IP > Services) and that the router is reachable from the Internet or through the VPN.',
      };
    case 'ROUTER_AUTH_FAILED':
      return {
        fr: "Le routeur refuse l'utilisateur ou le mot de passe de l'API. Vérifiez-les (System > Users) et que ce compte a le droit « api ».",
        en: 'The router refuses the API user name or password. Check them (System > Users) and that this account has the "api" policy.',
      };
    case 'ROUTER_COMMAND_FAILED':
      switch (error.details?.reason) {
        case 'duplicate_user':
          return { fr: 'Ce code existe déjà sur le routeur.', en: 'This code already exists on the router.' };
        case 'unknown_profile':
          return {
            fr: "Le profil hotspot du forfait n'existe pas sur le routeur. Créez-le (IP > Hotspot > User Profiles) ou changez le profil du forfait.",
            en: "The package's hotspot profile does not exist on the router. Create it (IP > Hotspot > User Profiles) or change the package's profile.",
          };
        default:
          return { fr: `Le routeur a refusé la commande : ${error.message}`, en: `The router refused the command: ${error.message}` };
      }
    default:
      return { fr: error.message, en: error.message };
  }
}
