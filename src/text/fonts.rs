//! The shipped Noto Sans (SIL Open Font License, assets/fonts/): every
//! Vietnamese letter with its diacritics, on the screen and on paper alike.

pub const NOTO: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Regular.ttf");
pub const NOTO_BOLD: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Bold.ttf");
