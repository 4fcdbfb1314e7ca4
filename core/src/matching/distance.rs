//! Edit distance between keys: optimal string alignment (Damerau-Levenshtein where a
//! transposed pair of neighbours counts as one edit), bounded: past `max` it stops.

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
    // Three rows: the one before last (for transpositions), the last, and this one.
    let mut before: Vec<usize> = vec![0; n + 1];
    let mut last: Vec<usize> = (0..=n).collect();
    let mut row: Vec<usize> = vec![0; n + 1];
    for i in 1..=a.len() {
        row[0] = i;
        let mut best = row[0];
        for j in 1..=n {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (last[j] + 1).min(row[j - 1] + 1).min(last[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            row[j] = d;
            best = best.min(d);
        }
        if best > max {
            return None;
        }
        std::mem::swap(&mut before, &mut last);
        std::mem::swap(&mut last, &mut row);
    }
    Some(last[n]).filter(|&d| d <= max)
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
    }
}
