//! Photo files to RGB pixels: any common format, EXIF orientation applied,
//! greyscale, CMYK and 16-bit images converted, errors that name the file.
//! Pictures too large to be photos and truncated JPEGs are refused before
//! they cost memory or pass as whole. And back: a face as a small JPEG.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use crate::error::{Error, ImageProblem, Result};
use crate::vision::detect::resize_rgb;
use crate::vision::face::BBox;

pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff"];

/// Larger than any phone's photo (108 MP); a file declaring more is an error or an attack.
pub const MAX_MEGAPIXELS: u32 = 120;
/// What one decode may allocate, whatever the format.
const MAX_ALLOC: u64 = 1 << 30;
/// Larger than any photo file worth enrolling (a 108 MP JPEG is ~40 MB).
pub const MAX_FILE_BYTES: u64 = 100 << 20;

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
            // A folder of links to the photos (made to pick some out) is walked like the photos.
            let walk =
                walkdir::WalkDir::new(p).follow_links(true).sort_by_file_name().into_iter().filter_map(|e| e.ok());
            out.extend(walk.filter(|e| e.file_type().is_file() && is_image_path(e.path())).map(|e| e.into_path()));
        } else {
            out.push(p.clone());
        }
    }
    out
}

pub fn load_image(path: &Path) -> Result<RgbImage> {
    read_image_file(path).and_then(|bytes| decode_image(&bytes)).map_err(|problem| Error::image(path, problem))
}

/// A photo's bytes. A device (/dev/zero), a pipe or a folder is refused by
/// what it is, before it is opened: a pipe blocks the opener, a device never
/// ends.
pub fn read_image_file(path: &Path) -> std::result::Result<Vec<u8>, ImageProblem> {
    use std::io::Read;
    let unreadable = |e: std::io::Error| ImageProblem::Unreadable(e.to_string());
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if !meta.is_file() {
        return Err(ImageProblem::NotAFile);
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(ImageProblem::FileTooLarge { bytes: meta.len(), limit: MAX_FILE_BYTES });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path).and_then(|f| f.take(MAX_FILE_BYTES).read_to_end(&mut bytes)).map_err(unreadable)?;
    Ok(bytes)
}

/// Decodes in memory.
pub fn decode_image(bytes: &[u8]) -> std::result::Result<RgbImage, ImageProblem> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ImageProblem::Unreadable(e.to_string()))?;
    let Some(format) = reader.format() else {
        return Err(ImageProblem::NotAnImage);
    };
    if !format.reading_enabled() {
        return Err(ImageProblem::Unsupported(format!("{format:?}").to_uppercase()));
    }
    // JPEG decoders paint the missing part of a cut-off file grey and say nothing.
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(ImageProblem::Damaged("the JPEG data ends before the end-of-image marker".into()));
    }
    let damaged = |e: image::ImageError| ImageProblem::Damaged(e.to_string());
    let mut decoder = reader.into_decoder().map_err(damaged)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > u64::from(MAX_MEGAPIXELS) * 1_000_000 {
        return Err(ImageProblem::TooLarge { width, height, limit: MAX_MEGAPIXELS });
    }
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_ALLOC);
    decoder.set_limits(limits).map_err(damaged)?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(damaged)?;
    img.apply_orientation(orientation);
    if img.width() == 0 || img.height() == 0 {
        return Err(ImageProblem::Empty);
    }
    Ok(img.into_rgb8())
}

/// The last scan of a JPEG must be followed by its end-of-image marker; the
/// markers cannot occur inside compressed data, and an EXIF thumbnail's come
/// before the main image's.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    memchr::memmem::rfind(bytes, &[0xFF, 0xDA])
        .is_some_and(|scan| memchr::memmem::find(&bytes[scan..], &[0xFF, 0xD9]).is_some())
}

/// The face with some margin, 240 px high, as JPEG: the welcome screen's
/// photo and the check-in snapshot.
pub fn face_jpeg(img: &RgbImage, face: &BBox) -> Result<Vec<u8>> {
    let margin = 0.4 * face.width().max(face.height());
    let x0 = (face.x0 - margin).max(0.0) as u32;
    let y0 = (face.y0 - margin).max(0.0) as u32;
    let x1 = ((face.x1 + margin) as u32).min(img.width());
    let y1 = ((face.y1 + margin) as u32).min(img.height());
    let crop = image::imageops::crop_imm(img, x0, y0, (x1.saturating_sub(x0)).max(1), (y1.saturating_sub(y0)).max(1))
        .to_image();
    let height = 240u32;
    let width = ((crop.width() as f32 * height as f32 / crop.height() as f32).round() as u32).max(1);
    let small = resize_rgb(&crop, width, height)?;
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&small)
        .map_err(|e| Error::output("face thumbnail", e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg() -> Vec<u8> {
        let img = RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 90]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).unwrap();
        out
    }

    #[test]
    fn a_truncated_jpeg_is_damaged_and_a_whole_one_is_read() {
        let whole = jpeg();
        assert_eq!(decode_image(&whole).unwrap().dimensions(), (64, 48));
        let cut = &whole[..whole.len() * 3 / 4];
        assert!(matches!(decode_image(cut), Err(ImageProblem::Damaged(_))), "{:?}", decode_image(cut).map(|_| ()));
    }

    #[test]
    fn gif_and_avif_say_to_convert_and_devices_pipes_and_folders_are_refused_without_reading() {
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        let said = decode_image(gif).unwrap_err().to_string();
        assert!(said.contains("format not supported (GIF)") && said.contains("JPEG or PNG"), "{said}");
        let avif = [&[0u8, 0, 0, 0x1c][..], b"ftypavif", &[0; 16]].concat();
        assert!(matches!(decode_image(&avif), Err(ImageProblem::Unsupported(_))));
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("photo.jpg");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        for path in [fifo.as_path(), Path::new("/dev/zero"), dir.path()] {
            let e = load_image(path).unwrap_err().to_string();
            assert!(e.contains("not a photo file"), "{}: {e}", path.display());
        }
    }
}
