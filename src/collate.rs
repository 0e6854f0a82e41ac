//! Vietnamese alphabetical order: a ă â b c d đ e ê g h i k l m n o ô ơ p q r
//! s t u ư v x y, letters first and tones (none, huyền, hỏi, ngã, sắc, nặng)
//! only to break ties; people are listed by given name (the last word), then
//! by the rest of their name, as on Vietnamese attendance lists.

use std::cmp::Ordering;

use unicode_normalization::UnicodeNormalization;

/// Sort key of a text: letters with their vowel marks, then the tones.
fn key(text: &str) -> (Vec<u32>, Vec<u8>) {
    let (mut letters, mut tones) = (Vec::new(), Vec::new());
    for c in text.nfd().flat_map(char::to_lowercase) {
        match c {
            // Vowel and consonant marks make new letters: ă â ê ô ơ ư đ.
            '\u{0306}' | '\u{0302}' | '\u{031B}' => {
                if let Some(last) = letters.last_mut() {
                    *last += match c {
                        '\u{0306}' => 1, // breve: ă after a
                        '\u{0302}' => 2, // circumflex: â after ă, ê after e, ô after o
                        _ => 3,          // horn: ơ after ô, ư after u
                    };
                }
            }
            '\u{0300}' => tones.push(1), // huyền
            '\u{0309}' => tones.push(2), // hỏi
            '\u{0303}' => tones.push(3), // ngã
            '\u{0301}' => tones.push(4), // sắc
            '\u{0323}' => tones.push(5), // nặng
            'đ' => letters.push(('d' as u32) * 8 + 4),
            c if unicode_normalization::char::is_combining_mark(c) => {}
            c => letters.push(c as u32 * 8),
        }
    }
    (letters, tones)
}

/// Sort key of a text in Vietnamese alphabetical order.
pub type Key = ((Vec<u32>, Vec<u8>), String);

pub fn text_key(text: &str) -> Key {
    (key(text), text.to_string())
}

/// Compares two texts in Vietnamese alphabetical order.
pub fn compare(a: &str, b: &str) -> Ordering {
    text_key(a).cmp(&text_key(b))
}

/// Sort key of a person's full name: given name first, then family and middle
/// names. Computed once per name, for `sort_by_cached_key` on long lists.
pub fn name_key(name: &str) -> (Key, Key) {
    let name = name.trim();
    let (rest, given) = name.rsplit_once(char::is_whitespace).unwrap_or(("", name));
    (text_key(given), text_key(rest))
}

/// Compares two people's full names, the way of `name_key`.
pub fn compare_names(a: &str, b: &str) -> Ordering {
    name_key(a).cmp(&name_key(b)).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut v: Vec<&str>, by: fn(&str, &str) -> Ordering) -> Vec<&str> {
        v.sort_by(|a, b| by(a, b));
        v
    }

    #[test]
    fn letters_follow_the_vietnamese_alphabet() {
        assert_eq!(
            sorted(vec!["đa", "da", "ê", "e", "ơ", "ô", "o", "ư", "u", "â", "ă", "a", "b"], compare),
            ["a", "ă", "â", "b", "da", "đa", "e", "ê", "o", "ô", "ơ", "u", "ư"]
        );
        // D and Đ are different letters: every "Đ" word comes after every "D" word.
        assert_eq!(sorted(vec!["Đà Nẵng", "Dung", "Đoàn"], compare), ["Dung", "Đà Nẵng", "Đoàn"]);
    }

    #[test]
    fn tones_only_break_ties_in_their_customary_order() {
        assert_eq!(sorted(vec!["mạ", "má", "mã", "mả", "mà", "ma"], compare), ["ma", "mà", "mả", "mã", "má", "mạ"]);
        assert_eq!(sorted(vec!["Hà", "Hai"], compare), ["Hà", "Hai"], "letters before tones");
    }

    #[test]
    fn people_are_listed_by_given_name_then_family_name() {
        let names = vec!["Trần Văn Bình", "Nguyễn Thị Anh", "Nguyễn Văn Bình", "Lê Ánh", "Phạm Văn An"];
        assert_eq!(
            sorted(names, compare_names),
            ["Phạm Văn An", "Nguyễn Thị Anh", "Lê Ánh", "Nguyễn Văn Bình", "Trần Văn Bình"]
        );
    }
}
