//! Vietnamese alphabetical order, by ICU4X's collator with CLDR's Vietnamese
//! tailoring: a ă â b c d đ e ê … o ô ơ … u ư …, letters first, tones only to
//! break ties, compared from the first syllable on. People are listed by
//! given name (the last word), then by the rest of their name, as on
//! Vietnamese attendance lists.

use std::cmp::Ordering;
use std::sync::OnceLock;

use icu_collator::options::CollatorOptions;
use icu_collator::{Collator, CollatorBorrowed};

fn collator() -> &'static CollatorBorrowed<'static> {
    static COLLATOR: OnceLock<CollatorBorrowed<'static>> = OnceLock::new();
    COLLATOR.get_or_init(|| {
        Collator::try_new(icu_locale_core::locale!("vi").into(), CollatorOptions::default())
            .expect("the Vietnamese collation is compiled in")
    })
}

/// Sort key of a text: bytes that compare as the texts do, then the text
/// itself, so that different texts never tie.
pub type Key = (Vec<u8>, String);

pub fn text_key(text: &str) -> Key {
    let mut bytes = Vec::new();
    let Ok(()) = collator().write_sort_key_to(text, &mut bytes);
    (bytes, text.to_string())
}

/// Compares two texts in Vietnamese alphabetical order.
pub fn compare(a: &str, b: &str) -> Ordering {
    collator().compare(a, b).then_with(|| a.cmp(b))
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
    name_key(a).cmp(&name_key(b))
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
    fn tones_only_break_ties_in_their_customary_order_from_the_first_syllable() {
        assert_eq!(sorted(vec!["mạ", "má", "mã", "mả", "mà", "ma"], compare), ["ma", "mà", "mả", "mã", "má", "mạ"]);
        assert_eq!(sorted(vec!["Hà", "Hai"], compare), ["Hà", "Hai"], "letters before tones");
        // The first syllable's tone decides, not the first tone found anywhere.
        assert_eq!(sorted(vec!["Hà An", "Ha Án"], compare), ["Ha Án", "Hà An"]);
    }

    #[test]
    fn people_are_listed_by_given_name_then_family_name() {
        let names = vec!["Trần Văn Bình", "Nguyễn Thị Anh", "Nguyễn Văn Bình", "Lê Ánh", "Phạm Văn An"];
        assert_eq!(
            sorted(names, compare_names),
            ["Phạm Văn An", "Nguyễn Thị Anh", "Lê Ánh", "Nguyễn Văn Bình", "Trần Văn Bình"]
        );
    }

    #[test]
    fn sort_keys_order_as_the_comparison_does() {
        let words = ["Hà An", "Ha Án", "đa", "da", "Ánh", "Anh", "Ư", "u"];
        for a in words {
            for b in words {
                assert_eq!(text_key(a).cmp(&text_key(b)), compare(a, b), "{a} vs {b}");
            }
        }
    }
}
