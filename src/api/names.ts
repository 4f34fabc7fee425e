/**
 * What names and turn ids may be: part of the API's contract, checked by its schemas and by the
 * service. Agent names become unit instances and file names, so they keep to a safe alphabet.
 */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const NAME_RULE = "1-64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit";
export const TURN_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const TURN_ID_RULE = "1-128 characters from A-Z a-z 0-9 . _ : -";
