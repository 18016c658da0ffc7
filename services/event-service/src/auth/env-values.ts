import { ConfigError } from "@soorma/common";

/** Environment variables as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The variable's value, or `undefined` when unset or blank (an empty `SOORMA_X=` means "not set"). */
export function readString(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** A whole number, or `undefined` when unset; `ConfigError` naming the variable when it is not one. */
export function readInt(env: Env, name: string): number | undefined {
  const value = readString(env, name);
  if (value === undefined) return undefined;
  const number = Number(value.trim());
  if (!Number.isSafeInteger(number)) throw new ConfigError(`${name} must be a whole number, got "${value}"`);
  return number;
}

/** `true`/`1`/`yes` or `false`/`0`/`no` (any case), or `undefined` when unset; `ConfigError` otherwise. */
export function readBool(env: Env, name: string): boolean | undefined {
  const value = readString(env, name)?.trim().toLowerCase();
  if (value === undefined) return undefined;
  if (value === "true" || value === "1" || value === "yes") return true;
  if (value === "false" || value === "0" || value === "no") return false;
  throw new ConfigError(`${name} must be true or false, got "${value}"`);
}

/** A comma-separated list with blanks dropped, or `undefined` when unset. */
export function readList(env: Env, name: string): string[] | undefined {
  const value = readString(env, name);
  if (value === undefined) return undefined;
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/** Copy of `record` without keys whose value is `undefined`, so schema defaults apply to them. */
export function definedOnly<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;
}
