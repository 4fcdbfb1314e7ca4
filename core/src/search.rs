//! Text folding for search by client name across our users' scripts.
//!
//! A query matches when its folded form is a substring of a folded name. Substring (not
//! word) matching is what Thai needs, since Thai writes no spaces between words. Folding:
//! - Unicode lower case;
//! - Latin letters lose their diacritics ("Nguyễn" is found by "nguyen"), and `đ` is `d`;
//!   marks on other scripts are kept (Cyrillic `й` stays distinct from `и`, Thai vowel
//!   and tone marks stay, they are part of the spelling);
//! - Russian `ё` is `е` (most people type `е`);
//! - Persian: Arabic `ي`/`ى` and `ك` are the Persian `ی` and `ک` (keyboards differ),
//!   short-vowel marks (tashkeel) and tatweel are dropped, and the zero-width non-joiner
//!   is a no-op, so "محمدعلی" and "محمد‌علی" are the same name;
//! - runs of whitespace become one space.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Folds text for matching; see the module documentation.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_base_latin = false;
    let mut last_space = true;
    for c in text.nfd() {
        if is_combining_mark(c) {
            // Latin diacritics go; marks of other scripts stay, except Arabic tashkeel.
            if last_base_latin || is_tashkeel(c) {
                continue;
            }
            out.push(c);
            continue;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            'ي' | 'ى' => 'ی',
            'ك' => 'ک',
            '\u{0640}' | '\u{200C}' | '\u{200D}' | '\u{200B}' | '\u{FEFF}' => continue,
            _ => c,
        };
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
            last_base_latin = false;
            continue;
        }
        last_space = false;
        last_base_latin = c.is_ascii_alphabetic();
        for l in c.to_lowercase() {
            // `ё` decomposes to `е` + diaeresis, so after NFD only the mark is left to drop.
            out.push(l);
        }
        if c == 'е' || c == 'Е' {
            last_base_latin = false;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    fold_yo(out)
}

/// `ё` arrives as `е` + U+0308; drop that mark after a Cyrillic `е` only.
fn fold_yo(s: String) -> String {
    if !s.contains('\u{0308}') {
        return s;
    }
    let mut out = String::with_capacity(s.len());
    let mut prev = '\0';
    for c in s.chars() {
        if c == '\u{0308}' && prev == 'е' {
            continue;
        }
        out.push(c);
        prev = c;
    }
    out
}

fn is_tashkeel(c: char) -> bool {
    matches!(c, '\u{064B}'..='\u{065F}' | '\u{0670}')
}

/// Whether `query` (already folded) occurs in `folded_haystack`. An empty query matches.
pub fn matches(folded_haystack: &str, folded_query: &str) -> bool {
    folded_haystack.contains(folded_query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_without_diacritics() {
        assert_eq!(fold("Nguyễn Thị Đào"), "nguyen thi dao");
        assert!(matches(&fold("Trần Văn Hùng"), &fold("tran van hung")));
        assert!(matches(&fold("Trần Văn Hùng"), &fold("Hùng")));
    }

    #[test]
    fn thai_substring_keeps_marks() {
        let name = fold("สมศรี ใจดี");
        assert!(matches(&name, &fold("ศรี")));
        assert!(matches(&name, &fold("ใจดี")));
        // Tone and vowel marks are part of Thai spelling: they are kept.
        assert!(fold("น้ำ").contains('\u{0E49}'));
    }

    #[test]
    fn cyrillic_case_and_yo() {
        assert!(matches(&fold("Фёдоров Пётр"), &fold("федоров")));
        assert!(matches(&fold("ОЛЕКСАНДР Їжак"), &fold("їжак")));
        assert!(!matches(&fold("Иванов"), &fold("Йванов")));
    }

    #[test]
    fn persian_variants() {
        assert!(matches(&fold("علي رضايي"), &fold("علی")));
        assert!(matches(&fold("محمد\u{200C}علی"), &fold("محمدعلی")));
        assert!(matches(&fold("كريم"), &fold("کریم")));
        assert!(matches(&fold("مُحَمَّد"), &fold("محمد")));
    }
}
