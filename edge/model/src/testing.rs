//! Test helpers that several crates' tests share (feature `testing`).

/// Deterministic noise around valid request bodies: each of `rounds` bodies
/// is a seed truncated, with one byte changed, or with a piece of another
/// seed spliced in (xorshift64, so a failure reproduces).
pub fn mutated_bodies(
    seeds: &[Vec<u8>],
    rounds: usize,
) -> impl Iterator<Item = (usize, Vec<u8>)> + '_ {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as usize
    };
    (0..rounds).map(move |round| {
        let mut body = seeds[next() % seeds.len()].clone();
        match round % 3 {
            0 => body.truncate(next() % (body.len() + 1)),
            1 if !body.is_empty() => {
                let at = next() % body.len();
                body[at] = next() as u8;
            }
            _ => {
                let other = &seeds[next() % seeds.len()];
                let at = next() % (body.len() + 1);
                body.splice(at..at, other.iter().take(next() % 40).copied());
            }
        }
        (round, body)
    })
}
