/**
 * A free TCP port on 127.0.0.1, for a test or an example that starts a server of its own (a fleet
 * runner, an API) at an address it must know before starting it. The port is free when returned;
 * another process could take it before it is used, which on loopback in a test is not seen.
 */
import { createServer } from "node:net"
import { Effect } from "effect"

export const freePort: Effect.Effect<number> = Effect.promise(
  () =>
    new Promise<number>((resolve, reject) => {
      const server = createServer()
      server.once("error", reject)
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        server.close(() => resolve(port))
      })
    })
)
