/**
 * The email address check shared by the push endpoint, the pull subscriber,
 * the API's path and body schemas and the settings. It follows the usual
 * HTML/ajv address grammar, apostrophe included, because Google Workspace
 * user names may contain one; visibility queries quote addresses with
 * visibilityString. The local part (before the @) is at most 64 characters,
 * the RFC 5321 limit, which the lookahead at the start enforces.
 */
export const EMAIL_ADDRESS_PATTERN =
  "^(?=[^@]{1,64}@)[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$";

/** Maximum length of an address in characters (RFC 5321 path limit minus the brackets). */
export const EMAIL_ADDRESS_MAX_LENGTH = 254;

const EMAIL_ADDRESS = new RegExp(EMAIL_ADDRESS_PATTERN);

export function isEmailAddress(value: string): boolean {
  return value.length <= EMAIL_ADDRESS_MAX_LENGTH && EMAIL_ADDRESS.test(value);
}
