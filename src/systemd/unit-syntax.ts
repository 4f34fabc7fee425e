/** Writing values into systemd unit files so that systemd reads back exactly those bytes. */

/** In unit files `%` starts a specifier; a literal one is written `%%`. */
export function unitPath(path: string): string {
  return path.replaceAll("%", "%%");
}

/** One word of a unit setting, quoted so that spaces, quotes and backslashes stay literal. */
export function unitWord(value: string): string {
  return unitQuoted(unitPath(value));
}

/** A word quoted for a unit setting whose `%` specifiers are meant (escape literal ones first). */
export function unitQuoted(value: string): string {
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}

/** On Exec lines `$` also expands a variable; `$$` is a literal one. */
export function execWord(value: string): string {
  return unitWord(value).replaceAll("$", "$$$$");
}
