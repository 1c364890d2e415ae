/**
 * Messages of the PostgreSQL job store's errors: one line saying what failed and why, from an
 * `SqlError` and its causes, and never a connection string's password — a message reaches logs and
 * terminals that the database's credentials must not.
 */

/** A connection string's credentials: what is between `//` and `@`. */
export const credentialsPattern = /(\/\/[^/@\s:]*:)[^/@\s]*@/g

/** `text` without a connection string's password, nor any of `secrets`. */
export const scrub = (text: string, secrets: ReadonlyArray<string>): string =>
  secrets
    .filter((secret) => secret.length > 0)
    .reduce((out, secret) => out.split(secret).join("***"), text.replace(credentialsPattern, "$1***@"))

/**
 * An error and its causes' messages on one line, each once: `SqlError` says what failed
 * ("PgConnection: Failed to connect"), its innermost cause why ("connect ECONNREFUSED …").
 */
export const describe = (error: unknown): string => {
  const messages: Array<string> = []
  let current: unknown = error
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const message = "message" in current && typeof current.message === "string" ? current.message.trim() : ""
    if (message !== "" && !messages.some((m) => m.includes(message))) messages.push(message)
    current = "cause" in current ? current.cause : undefined
  }
  return messages.length === 0 ? String(error) : messages.join(": ").replace(/\s*\n\s*/g, " ")
}

/** The password of a connection string, as written and percent-decoded, to keep out of messages. */
export const passwordsIn = (url: string): ReadonlyArray<string> => {
  try {
    const password = new URL(url).password
    if (password === "") return []
    try {
      return [password, decodeURIComponent(password)]
    } catch {
      return [password]
    }
  } catch {
    return []
  }
}
