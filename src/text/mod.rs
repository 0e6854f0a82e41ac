//! Vietnamese text as people type and read it: one normal form for what is
//! stored, a folded form for searching, and the alphabetical order of lists.

pub mod collate;
pub mod fonts;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// The language people read: the kiosk's screen, the dashboard, the papers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    /// "en" (any case) is English; anything else is the congress's Vietnamese.
    pub fn parse(code: &str) -> Lang {
        if code.eq_ignore_ascii_case("en") { Lang::En } else { Lang::Vi }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    /// A number as written in this language: 53,3 in Vietnamese, 53.3 in English.
    pub fn number(self, text: String) -> String {
        if self == Lang::Vi { text.replace('.', ",") } else { text }
    }
}

/// Invisible characters that spreadsheets and web forms leave in names;
/// two names that look the same must be the same.
const ZERO_WIDTH: [char; 5] = ['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];

/// Characters a name never holds and that do harm when shown: zero-width
/// ones (two names that look alike but differ), control characters (ESC
/// and BEL reach a terminal, NUL breaks the ledger), and the bidirectional
/// marks and overrides (U+202E writes a name backwards on the page).
fn is_hidden(c: char) -> bool {
    ZERO_WIDTH.contains(&c)
        || c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// NFC (the composed form: "ễ" as one character, whichever way it was typed),
/// without hidden characters (`is_hidden`). True when some were dropped, so the caller can warn.
pub fn normalize(text: &str) -> (String, bool) {
    let dropped = text.chars().any(is_hidden);
    (text.chars().filter(|c| !is_hidden(*c)).nfc().collect(), dropped)
}

/// Lower case, without tone and vowel marks, đ as d: the form people type
/// on a keyboard without Vietnamese input.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'đ' { 'd' } else { c })
        .collect()
}

/// A delegate code as typed on the kiosk's keyboard: any case, spaces ignored.
pub fn same_code(typed: &str, code: &str) -> bool {
    let squeeze = |s: &str| fold(s).split_whitespace().collect::<String>();
    !typed.trim().is_empty() && squeeze(typed) == squeeze(code)
}

/// Text in HTML or SVG, safe from markup in names.
pub fn markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_vietnamese_marks_and_case() {
        assert_eq!(fold("Nguyễn Văn Đức"), "nguyen van duc");
        assert_eq!(fold("TRẦN THỊ ÁNH"), "tran thi anh");
        assert_eq!(fold("Ư Ơ ư ơ Ă Â Ê Ô"), "u o u o a a e o");
    }

    #[test]
    fn decomposed_and_zero_width_text_becomes_the_composed_form() {
        let decomposed = "Nguye\u{0302}\u{0303}n";
        assert_ne!(decomposed, "Nguyễn");
        assert_eq!(normalize(decomposed), ("Nguyễn".to_string(), false));
        assert_eq!(normalize("Lê\u{200B} Hà\u{FEFF}"), ("Lê Hà".to_string(), true));
        assert_eq!(normalize("Lê\0 Hà\u{1b}[2J\u{7}"), ("Lê Hà[2J".to_string(), true));
        assert_eq!(normalize("\u{202E}nA nặV nễyugN\u{202C}"), ("nA nặV nễyugN".to_string(), true));
        assert_eq!(normalize("Đoàn\u{85}Huế\u{7f}"), ("ĐoànHuế".to_string(), true));
    }
}
