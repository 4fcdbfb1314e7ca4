//! Edit distance between keys: optimal string alignment (Damerau-Levenshtein where a
//! transposed pair of neighbours counts as one edit), bounded: past `max` it stops.

/// Keys shorter than this keep their rows on the stack (a name's words are far shorter;
/// a check compares thousands of pairs, an allocation each cost more than the comparing).
const ON_STACK: usize = 64;

/// The edit distance between `a` and `b` (ASCII keys), or `None` when it is above `max`.
pub(crate) fn within(a: &str, b: &str, max: usize) -> Option<usize> {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    if a == b {
        return Some(0);
    }
    let n = b.len();
    if n < ON_STACK {
        let [mut before, mut last, mut row] = [[0u32; ON_STACK]; 3];
        rows_within(
            a,
            b,
            max,
            &mut before[..=n],
            &mut last[..=n],
            &mut row[..=n],
        )
    } else {
        let (mut before, mut last, mut row) = (vec![0; n + 1], vec![0; n + 1], vec![0; n + 1]);
        rows_within(a, b, max, &mut before, &mut last, &mut row)
    }
}

/// [`within`] over three rows of `b.len() + 1` cells: the one before last (for
/// transpositions), the last, and this one.
fn rows_within<'r>(
    a: &[u8],
    b: &[u8],
    max: usize,
    mut before: &'r mut [u32],
    mut last: &'r mut [u32],
    mut row: &'r mut [u32],
) -> Option<usize> {
    let n = b.len();
    for (j, cell) in last.iter_mut().enumerate() {
        *cell = j as u32;
    }
    for i in 1..=a.len() {
        row[0] = i as u32;
        let mut best = row[0];
        for j in 1..=n {
            let cost = u32::from(a[i - 1] != b[j - 1]);
            let mut d = (last[j] + 1).min(row[j - 1] + 1).min(last[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            row[j] = d;
            best = best.min(d);
        }
        if best as usize > max {
            return None;
        }
        std::mem::swap(&mut before, &mut last);
        std::mem::swap(&mut last, &mut row);
    }
    Some(last[n] as usize).filter(|&d| d <= max)
}

#[cfg(test)]
mod tests {
    use super::within;

    #[test]
    fn edits() {
        assert_eq!(within("lan", "lan", 0), Some(0));
        assert_eq!(within("lan", "lam", 1), Some(1));
        assert_eq!(within("fedorova", "fedrova", 2), Some(1));
        assert_eq!(
            within("anna", "nana", 1),
            Some(1),
            "a transposition is one edit"
        );
        assert_eq!(within("kitten", "sitting", 3), Some(3));
        assert_eq!(within("kitten", "sitting", 2), None);
        assert_eq!(within("", "abc", 3), Some(3));
        assert_eq!(within("abcdef", "a", 2), None);
        // Longer than the rows kept on the stack: the same answers.
        let long = "ab".repeat(40);
        let slipped = format!("{}x{}", &long[..30], &long[31..]);
        assert_eq!(within(&long, &slipped, 2), Some(1));
        assert_eq!(within(&long, &"ba".repeat(40), 1), None);
    }
}
