/** Whether a module is the program being run (`node examples/dist/x.js`), not an import of it. */
import { realpathSync } from "node:fs"
import { fileURLToPath } from "node:url"

export const isMain = (moduleUrl: string): boolean => {
  const script = process.argv[1]
  if (script === undefined) return false
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl))
  } catch {
    return false
  }
}
