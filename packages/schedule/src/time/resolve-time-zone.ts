import { WINDOWS_TO_IANA_MAP, findIana } from "windows-iana";
import { ScheduleError } from "../errors.ts";
import { show } from "../json.ts";

const resolved = new Map<string, string>();
let windowsIds: Map<string, string> | undefined;

/** Windows ids are case-insensitive on Windows, so "eastern standard time" is accepted too. */
function canonicalWindowsId(name: string): string | undefined {
  windowsIds ??= new Map(
    WINDOWS_TO_IANA_MAP.map((entry) => [entry.windowsName.toLowerCase(), entry.windowsName]),
  );
  return windowsIds.get(name.toLowerCase());
}

/** The canonical IANA name Intl knows `name` by, or undefined. UTC offsets such as "+01:00" are not names. */
function ianaName(name: string): string | undefined {
  if (/^[+-]/.test(name) || name.trim() !== name) return undefined;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * An IANA name (any case, links allowed) or a Windows zone id → the canonical IANA name. A Windows id
 * maps to its CLDR territory-001 zone through windows-iana (`findIana(id)[0]`). Never falls back to
 * UTC: an unknown name is an error.
 */
export function resolveTimeZone(name: string, field = "time_zone"): string {
  if (typeof name !== "string") {
    throw new ScheduleError(field, `expected a time zone name (string), got ${show(name)}`);
  }
  const cached = resolved.get(name);
  if (cached) return cached;
  let zone = ianaName(name);
  if (!zone) {
    const windowsId = canonicalWindowsId(name);
    const iana = windowsId ? findIana(windowsId)[0] : undefined;
    zone = iana ? ianaName(iana) : undefined;
  }
  if (!zone) {
    throw new ScheduleError(
      field,
      `unknown time zone ${show(name)} (neither an IANA name nor a Windows zone id)`,
    );
  }
  if (resolved.size > 10_000) resolved.clear();
  resolved.set(name, zone);
  return zone;
}
