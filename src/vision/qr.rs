//! QR codes: drawn for the badges (`qrcode`), found and read in camera
//! frames (`rxing`). Only the pixels are here; what a code means is the
//! badge's business.

use image::{GrayImage, Luma, RgbImage};
use qrcode::{Color, EcLevel, QrCode};

use crate::error::{Error, Result};

/// The light margin a reader needs around a code, in modules.
pub const QUIET_ZONE: usize = 4;

/// A QR code as dark and light modules, row by row.
pub struct Modules {
    pub width: usize,
    dark: Vec<bool>,
}

impl Modules {
    /// At error correction M (15% of the code may be lost): a badge is
    /// bent, scuffed and held at an angle.
    pub fn encode(text: &str) -> Result<Modules> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map_err(|e| Error::Input(format!("cannot make a QR code of {} characters: {e}", text.len())))?;
        let dark = code.to_colors().into_iter().map(|c| c == Color::Dark).collect();
        Ok(Modules { width: code.width(), dark })
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }

    /// Black on white, `scale` pixels a module, with the quiet zone.
    pub fn image(&self, scale: u32) -> GrayImage {
        let side = (self.width + 2 * QUIET_ZONE) as u32 * scale;
        GrayImage::from_fn(side, side, |px, py| {
            let (x, y) = ((px / scale) as usize, (py / scale) as usize);
            let inside = (QUIET_ZONE..QUIET_ZONE + self.width).contains(&x)
                && (QUIET_ZONE..QUIET_ZONE + self.width).contains(&y);
            let dark = inside && self.is_dark(x - QUIET_ZONE, y - QUIET_ZONE);
            Luma([if dark { 0 } else { 255 }])
        })
    }
}

/// The text of a QR code in `frame`, if one can be read. rxing (a port of
/// ZXing) reads a tilted, blurred, JPEG-compressed badge far more often than
/// rqrr did, in a sixth of the time (`kiosk bench --qr`).
pub fn read(frame: &RgbImage) -> Option<String> {
    let luma: Vec<u8> =
        frame.pixels().map(|p| ((77 * p[0] as u32 + 150 * p[1] as u32 + 29 * p[2] as u32) >> 8) as u8).collect();
    rxing::helpers::detect_in_luma(luma, frame.width(), frame.height(), Some(rxing::BarcodeFormat::QR_CODE))
        .ok()
        .map(|found| found.getText().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drawn_code_reads_back_and_a_badge_text_is_small() {
        let text = "KB1:AEBAGBAFAYDQQCIKBMGA2DQPCAIREE";
        let modules = Modules::encode(text).unwrap();
        assert!(modules.width <= 29, "version 3 or less: {} modules", modules.width);
        let grey = modules.image(4);
        let mut frame = RgbImage::from_pixel(640, 480, image::Rgb([200, 200, 200]));
        image::imageops::overlay(&mut frame, &image::DynamicImage::ImageLuma8(grey).to_rgb8(), 300, 200);
        assert_eq!(read(&frame).as_deref(), Some(text));
        assert_eq!(read(&RgbImage::from_pixel(64, 64, image::Rgb([255, 255, 255]))), None);
    }
}
