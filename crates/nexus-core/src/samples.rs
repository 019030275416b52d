//! A compact encoding of a run of timed readings, for storing many samples in one row:
//! timestamps as zigzag varints of their delta-of-delta (a steady rate costs one byte a
//! reading), values XOR-ed with the previous value and stored without the zero bytes at
//! either end (a repeated value costs one byte). Readings are `(ms, value)`, sorted by
//! time with no repeats.

/// Width of a stored chunk of readings, in milliseconds: one row per series and minute.
pub const CHUNK_MS: i64 = 60_000;

/// Start of the chunk holding the reading taken at `ms`.
pub fn chunk_start(ms: i64) -> i64 {
    ms.div_euclid(CHUNK_MS).saturating_mul(CHUNK_MS)
}

/// Why stored bytes did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupt sample data: {0}")]
pub struct Corrupt(&'static str);

/// Control byte of a value equal to the previous one.
const SAME: u8 = 0xFF;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Encodes readings (sorted by time, no repeats) stored relative to `base` ms (the row's
/// bucket start).
pub fn encode(base: i64, readings: &[(i64, f64)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(readings.len() * 8);
    let (mut last_ts, mut last_delta, mut last_bits) = (base, 0i64, 0u64);
    for (i, &(ts, value)) in readings.iter().enumerate() {
        let delta = ts - last_ts;
        if i == 0 {
            put_varint(&mut out, zigzag(delta));
        } else {
            put_varint(&mut out, zigzag(delta - last_delta));
            last_delta = delta;
        }
        last_ts = ts;
        let bits = value.to_bits();
        let x = bits ^ last_bits;
        last_bits = bits;
        if x == 0 && i > 0 {
            out.push(SAME);
        } else {
            let lead = (x.leading_zeros() / 8).min(7) as usize;
            let trail = ((x.trailing_zeros() / 8) as usize).min(7 - lead);
            out.push(((lead as u8) << 4) | trail as u8);
            out.extend_from_slice(&x.to_be_bytes()[lead..8 - trail]);
        }
    }
    out
}

/// Decodes what `encode(base, ..)` wrote, appending the readings to `out`.
pub fn decode_into(base: i64, data: &[u8], out: &mut Vec<(i64, f64)>) -> Result<(), Corrupt> {
    let mut at = 0;
    let varint = |at: &mut usize| -> Result<u64, Corrupt> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *data.get(*at).ok_or(Corrupt("a timestamp is cut short"))?;
            *at += 1;
            v |= u64::from(b & 0x7F) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Corrupt("a timestamp is too long"))
    };
    let (mut ts, mut delta, mut bits, mut first) = (base, 0i64, 0u64, true);
    while at < data.len() {
        let d = unzigzag(varint(&mut at)?);
        if first {
            ts = ts.wrapping_add(d);
        } else {
            delta = delta.wrapping_add(d);
            ts = ts.wrapping_add(delta);
        }
        let control = *data.get(at).ok_or(Corrupt("a value is missing"))?;
        at += 1;
        if control != SAME || first {
            let (lead, trail) = (usize::from(control >> 4), usize::from(control & 0x0F));
            if lead + trail > 7 {
                return Err(Corrupt("a value's control byte is out of range"));
            }
            let n = 8 - lead - trail;
            let bytes = data
                .get(at..at + n)
                .ok_or(Corrupt("a value is cut short"))?;
            at += n;
            let mut buf = [0u8; 8];
            buf[lead..8 - trail].copy_from_slice(bytes);
            bits ^= u64::from_be_bytes(buf);
        }
        first = false;
        out.push((ts, f64::from_bits(bits)));
    }
    Ok(())
}

/// Decodes what `encode(base, ..)` wrote.
pub fn decode(base: i64, data: &[u8]) -> Result<Vec<(i64, f64)>, Corrupt> {
    let mut out = Vec::new();
    decode_into(base, data, &mut out)?;
    Ok(out)
}

/// Merges `incoming` into `stored` (both sorted by time, no repeats): a reading whose
/// time is stored already is dropped, as the first one stored wins. Appends the readings
/// that were new to `fresh`; returns whether there were any.
pub fn merge(
    stored: &mut Vec<(i64, f64)>,
    incoming: &[(i64, f64)],
    fresh: &mut Vec<(i64, f64)>,
) -> bool {
    let before = fresh.len();
    match stored.last() {
        // Readings arriving in order, the usual case: an append.
        Some(&(last, _)) if last < incoming.first().map_or(i64::MAX, |r| r.0) => {
            stored.extend_from_slice(incoming);
            fresh.extend_from_slice(incoming);
        }
        None => {
            stored.extend_from_slice(incoming);
            fresh.extend_from_slice(incoming);
        }
        Some(_) => {
            let old = std::mem::take(stored);
            stored.reserve(old.len() + incoming.len());
            let (mut i, mut j) = (0, 0);
            while i < old.len() || j < incoming.len() {
                match (old.get(i), incoming.get(j)) {
                    (Some(a), Some(b)) if a.0 == b.0 => {
                        stored.push(*a);
                        i += 1;
                        j += 1;
                    }
                    (Some(a), Some(b)) if b.0 < a.0 => {
                        stored.push(*b);
                        fresh.push(*b);
                        j += 1;
                    }
                    (Some(a), _) => {
                        stored.push(*a);
                        i += 1;
                    }
                    (None, Some(b)) => {
                        stored.push(*b);
                        fresh.push(*b);
                        j += 1;
                    }
                    (None, None) => unreachable!("the loop ends first"),
                }
            }
        }
    }
    fresh.len() > before
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(base: i64, readings: &[(i64, f64)]) -> usize {
        let data = encode(base, readings);
        let back = decode(base, &data).expect("decodes");
        assert_eq!(back.len(), readings.len());
        for (a, b) in back.iter().zip(readings) {
            assert_eq!(a.0, b.0);
            assert_eq!(a.1.to_bits(), b.1.to_bits());
        }
        data.len()
    }

    #[test]
    fn steady_rate_and_repeated_values_cost_two_bytes() {
        let base = 1_700_000_040_000;
        let r: Vec<_> = (0..60).map(|i| (base + i * 1000, 21.5)).collect();
        let n = roundtrip(base, &r);
        // The first reading: offset and the full value; then one byte each for time and value.
        assert!(n <= 2 + 9 + 59 * 2, "{n} bytes");
    }

    #[test]
    fn irregular_times_and_noisy_values_roundtrip() {
        let base = 60_000 * 28_333_334;
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut ts = base;
        let mut r = Vec::new();
        for _ in 0..5_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ts += 1 + (x % 5_000) as i64;
            let v = match x % 7 {
                0 => -0.0,
                1 => f64::MAX,
                2 => f64::MIN_POSITIVE,
                3 => -1e-300,
                _ => (x % 100_000) as f64 / 137.0 - 300.0,
            };
            r.push((ts, v));
        }
        let n = roundtrip(base, &r);
        assert!(n < r.len() * 10, "{n} bytes for {}", r.len());
        // A reading before the base and one far after it.
        roundtrip(base, &[(base - 5, 1.0), (base + 86_400_000 * 400, 2.0)]);
        roundtrip(base, &[]);
    }

    #[test]
    fn corrupt_data_is_an_error_not_a_panic() {
        let data = encode(0, &[(5, 1.25), (10, 2.5), (20, -3.0)]);
        for cut in 0..data.len() {
            let _ = decode(0, &data[..cut]);
        }
        assert!(decode(0, &[0x00, 0x80]).is_err());
        assert!(decode(0, &[0x00, 0x70]).is_err());
        assert!(decode(0, &[0xFF; 11]).is_err());
    }

    #[test]
    fn merge_keeps_the_first_stored_and_reports_what_is_new() {
        let mut stored = vec![(10, 1.0), (20, 2.0), (30, 3.0)];
        let mut fresh = Vec::new();
        assert!(merge(
            &mut stored,
            &[(5, 9.0), (20, 9.0), (25, 9.0), (40, 9.0)],
            &mut fresh
        ));
        assert_eq!(
            stored,
            [
                (5, 9.0),
                (10, 1.0),
                (20, 2.0),
                (25, 9.0),
                (30, 3.0),
                (40, 9.0)
            ]
        );
        assert_eq!(fresh, [(5, 9.0), (25, 9.0), (40, 9.0)]);
        fresh.clear();
        assert!(!merge(&mut stored, &[(10, 7.0), (40, 7.0)], &mut fresh));
        assert!(fresh.is_empty());
        assert!(merge(&mut stored, &[(50, 5.0)], &mut fresh));
        assert_eq!(stored.last(), Some(&(50, 5.0)));
    }
}
