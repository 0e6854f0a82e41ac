//! Photo files to RGB pixels: any common format, EXIF orientation applied,
//! greyscale, CMYK and 16-bit images converted, errors that name the file.
//! And back: a face as a small JPEG.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};

use crate::detect::resize_rgb;
use crate::error::{Error, Result};
use crate::face::BBox;

pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff"];

pub fn is_image_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The image files under `paths`: folders walked recursively in name order
/// (paths joined from the folder as given), files taken as they are.
pub fn image_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let walk = walkdir::WalkDir::new(p).sort_by_file_name().into_iter().filter_map(|e| e.ok());
            out.extend(walk.filter(|e| e.file_type().is_file() && is_image_path(e.path())).map(|e| e.into_path()));
        } else {
            out.push(p.clone());
        }
    }
    out
}

pub fn load_image(path: &Path) -> Result<RgbImage> {
    let bytes = std::fs::read(path).map_err(|e| Error::image(path, format!("cannot read the file ({e})")))?;
    decode_image(&bytes).map_err(|reason| Error::image(path, reason))
}

/// Decodes in memory; the error text says what is wrong with the bytes.
pub fn decode_image(bytes: &[u8]) -> std::result::Result<RgbImage, String> {
    let hint = "use a JPEG, PNG, WebP, BMP or TIFF photo";
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("cannot read the file ({e})"))?;
    if reader.format().is_none() {
        return Err(format!("not an image file ({hint})"));
    }
    let damaged =
        |e: image::ImageError| format!("the image is damaged or truncated: {e} (export the photo again; {hint})");
    let mut decoder = reader.into_decoder().map_err(damaged)?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(damaged)?;
    img.apply_orientation(orientation);
    if img.width() == 0 || img.height() == 0 {
        return Err("the image is empty".into());
    }
    Ok(img.into_rgb8())
}

/// The face with some margin, 240 px high, as JPEG: the welcome screen's
/// photo and the check-in snapshot.
pub fn face_jpeg(img: &RgbImage, face: &BBox) -> Result<Vec<u8>> {
    let margin = 0.4 * face.width().max(face.height());
    let x0 = (face.x0 - margin).max(0.0) as u32;
    let y0 = (face.y0 - margin).max(0.0) as u32;
    let x1 = ((face.x1 + margin) as u32).min(img.width());
    let y1 = ((face.y1 + margin) as u32).min(img.height());
    let crop = image::imageops::crop_imm(img, x0, y0, (x1 - x0).max(1), (y1 - y0).max(1)).to_image();
    let height = 240u32;
    let width = ((crop.width() as f32 * height as f32 / crop.height() as f32).round() as u32).max(1);
    let small = resize_rgb(&crop, width, height)?;
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&small)
        .map_err(|e| Error::Io(format!("thumbnail: {e}")))?;
    Ok(out)
}
