//! Equality of short byte strings without a call to `memcmp`.
//!
//! A check compares a few short strings (a scheme name, a principal name, a trie root's
//! segment); for strings of a few bytes the call to `memcmp` costs more than the compare.

/// Whether `a` and `b` hold the same bytes. Up to 16 bytes, two overlapping loads of
/// each (the first and the last 1, 4 or 8 bytes, which together cover every byte) are
/// compared; longer strings go to the slice compare.
#[inline(always)]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        // The first, middle and last bytes are every byte of up to three.
        1..=3 => a.first() == b.first() && a.get(n / 2) == b.get(n / 2) && a.last() == b.last(),
        4..=7 => {
            a.first_chunk::<4>() == b.first_chunk::<4>()
                && a.last_chunk::<4>() == b.last_chunk::<4>()
        }
        8..=16 => {
            a.first_chunk::<8>() == b.first_chunk::<8>()
                && a.last_chunk::<8>() == b.last_chunk::<8>()
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Agrees with `==` for every length up to past the word cases, on equal strings and
    // on strings that differ in any one byte or in length.
    #[test]
    fn same_agrees_with_slice_equality() {
        for n in 0..40usize {
            let a: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same(&a, &a.clone()), "n {n}");
            for at in 0..n {
                let mut b = a.clone();
                b[at] = b'#';
                assert!(!same(&a, &b), "n {n} at {at}");
            }
            let mut longer = a.clone();
            longer.push(b'z');
            assert!(!same(&a, &longer) && !same(&longer, &a), "n {n}");
        }
    }
}
