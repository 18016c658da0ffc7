/**
 * Minimal structured logger. pino, console wrappers or anything with these four methods fits, so the SDK never
 * forces a logging library on its users.
 */
export interface Logger {
  debug(msg: string, fields?: object): void;
  info(msg: string, fields?: object): void;
  warn(msg: string, fields?: object): void;
  error(msg: string, fields?: object): void;
}

/** Levels of {@link createConsoleLogger}; `"silent"` logs nothing. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === "string" && Object.hasOwn(LEVEL_RANK, value);
}

/**
 * A logger writing one line per record to the console (stderr for warn/error, stdout otherwise).
 *
 * @param level lowest level written. @default process.env.SOORMA_LOG_LEVEL, else "info"
 */
export function createConsoleLogger(level?: LogLevel): Logger {
  const envLevel = process.env.SOORMA_LOG_LEVEL?.toLowerCase();
  const threshold = LEVEL_RANK[level ?? (isLogLevel(envLevel) ? envLevel : "info")];
  const write = (recordLevel: Exclude<LogLevel, "silent">, msg: string, fields?: object): void => {
    if (LEVEL_RANK[recordLevel] < threshold) return;
    const line = fields === undefined ? msg : `${msg} ${safeStringify(fields)}`;
    const text = `[soorma] ${recordLevel.toUpperCase()} ${line}`;
    if (recordLevel === "warn" || recordLevel === "error") console.error(text);
    else console.log(text);
  };
  return {
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
  };
}

/**
 * A logger that adds `fields` to every record of `base`; used for per-handler loggers (`ctx.log`) so each line
 * names the event it belongs to.
 */
export function withLogFields(base: Logger, fields: object): Logger {
  const merge = (extra?: object): object => (extra === undefined ? fields : { ...fields, ...extra });
  return {
    debug: (msg, extra) => base.debug(msg, merge(extra)),
    info: (msg, extra) => base.info(msg, merge(extra)),
    warn: (msg, extra) => base.warn(msg, merge(extra)),
    error: (msg, extra) => base.error(msg, merge(extra)),
  };
}

/** Errors do not serialise with JSON.stringify; show their code and message instead of `{}`. */
function safeStringify(fields: object): string {
  try {
    return JSON.stringify(fields, (_key, value: unknown) => {
      if (value instanceof Error) {
        const code = (value as { code?: unknown }).code;
        return code === undefined
          ? `${value.name}: ${value.message}`
          : `${value.name}[${String(code)}]: ${value.message}`;
      }
      return value;
    });
  } catch {
    return "[unserialisable fields]";
  }
}
