// Deterministic noise around valid request bodies, as the Rust tests make it
// (model::testing): each body a seed truncated, with one byte changed, or
// with a piece of another seed spliced in (xorshift64: a failure reproduces).
export function* mutatedBodies(seeds, rounds) {
  let state = 0x9e3779b97f4a7c15n
  const next = () => {
    state ^= (state << 13n) & 0xffffffffffffffffn
    state ^= state >> 7n
    state ^= (state << 17n) & 0xffffffffffffffffn
    return Number(state % 0x7fffffffn)
  }
  const bytes = seeds.map((seed) => Buffer.from(seed))
  for (let round = 0; round < rounds; round++) {
    let body = Buffer.from(bytes[next() % bytes.length])
    if (round % 3 === 0) body = body.subarray(0, next() % (body.length + 1))
    else if (round % 3 === 1 && body.length) body[next() % body.length] = next() % 256
    else {
      const other = bytes[next() % bytes.length]
      const at = next() % (body.length + 1)
      body = Buffer.concat([body.subarray(0, at), other.subarray(0, next() % 40), body.subarray(at)])
    }
    yield body
  }
}
