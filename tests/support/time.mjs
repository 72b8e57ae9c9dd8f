// Time in the tests: rows' timestamps, and the UTC day a visitor id lives.

/**
 * Waits out the last `ms` milliseconds of a UTC day, for a test whose steps
 * must fall on one day (a visitor id, and so a visit, lives one UTC day).
 */
export async function awayFromMidnight(ms) {
  const left = 86_400_000 - (Date.now() % 86_400_000)
  if (left < ms) await new Promise((resolve) => setTimeout(resolve, left + 1000))
}

/** `YYYY-MM-DD hh:mm:ss` (UTC) of `ms`, as rows hold it. */
export const at = (ms) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ')
