// The self-hosted configuration file: `NAME=value` lines (as Docker's
// --env-file and Kustomize's secretGenerator read them), `#` comments, blank
// lines; a value may be quoted. An unknown name is refused, so that a typo is
// not silently ignored.

/** The settings of `text`, each name one of `known`; throws naming the line. */
export function readEnvFile(text, known) {
  const settings = {}
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim()
    if (!line || line.startsWith('#')) return
    const match = line.match(/^([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/)
    if (!match) throw new Error(`line ${index + 1} is not NAME=value`)
    const [, name, rawValue] = match
    if (!known.includes(name)) throw new Error(`line ${index + 1}: unknown setting ${name}`)
    if (name in settings) throw new Error(`line ${index + 1}: ${name} is set twice`)
    const quoted = rawValue.match(/^(["'])(.*)\1$/)
    settings[name] = quoted ? quoted[2] : rawValue
  })
  return settings
}
