//! The face engine on the real models and real photos.

mod common;

use common::*;
use kiosk::vision::decode::{decode_image, load_image};
use kiosk::vision::detect::Source;
use kiosk::vision::face::similarity;

#[test]
fn finds_one_face_with_plausible_landmarks_in_a_news_photo() {
    let Some(faces) = faces("finds_one_face") else { return };
    let engine = engine();
    let (_, photo) = &gallery(&faces, 1)[0];
    let img = load_image(photo).unwrap();
    let scene = engine.analyze_main(&img, Source::Photo).unwrap();
    let face = scene.main().expect("a face");
    let [le, re, nose, lm, rm] = face.landmarks;
    assert!(le[0] < re[0] && lm[0] < rm[0], "left/right order: {:?}", face.landmarks);
    assert!(le[1] < nose[1] && nose[1] < lm[1], "eyes above nose above mouth: {:?}", face.landmarks);
    // LFW faces are centred and about 100-120 px tall.
    let [cx, cy] = face.bbox.center();
    assert!((cx - 125.0).abs() < 30.0 && (cy - 125.0).abs() < 40.0, "{:?}", face.bbox);
    assert!(face.bbox.height() > 60.0 && face.bbox.height() < 200.0, "{:?}", face.bbox);
    let e = face.embedding.as_ref().unwrap();
    assert_eq!(e.len(), 128);
    assert!((similarity(e, e) - 1.0).abs() < 1e-4, "embeddings are unit length");
}

#[test]
fn the_same_person_is_closer_than_other_people() {
    let Some(faces) = faces("same_person_closer") else { return };
    let engine = engine();
    let embed = |p: &std::path::Path| {
        engine.analyze_main(&load_image(p).unwrap(), Source::Photo).unwrap().main().unwrap().embedding.clone().unwrap()
    };
    let people: Vec<_> =
        gallery(&faces, 40).into_iter().filter(|(id, _)| !probes(&faces, id).is_empty()).take(6).collect();
    assert!(people.len() >= 4);
    let enrolled: Vec<Vec<f32>> = people.iter().map(|(_, p)| embed(p)).collect();
    for (i, (id, _)) in people.iter().enumerate() {
        let probe = embed(&probes(&faces, id)[0]);
        let scores: Vec<f32> = enrolled.iter().map(|e| similarity(&probe, e)).collect();
        let best = scores.iter().cloned().enumerate().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap().0;
        assert_eq!(best, i, "{id}: scores {scores:?}");
    }
}

#[test]
fn a_tight_id_crop_is_detected_after_framing() {
    let Some(faces) = faces("tight_crop") else { return };
    let engine = engine();
    let photo = faces.join("asian_dev/gallery/axin.jpg");
    let img = load_image(&photo).unwrap();
    let found = engine.face_locations(&img).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    // The face fills the 160 px crop.
    assert!(found[0].bbox.width() > 80.0, "{:?}", found[0].bbox);
}

#[test]
fn a_picture_without_a_face_has_none() {
    let engine = engine();
    let img = image::RgbImage::from_fn(320, 240, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    assert!(engine.analyze(&img).unwrap().is_empty());
}

#[test]
fn two_people_side_by_side_are_two_faces_and_a_crowded_scene() {
    let Some(faces) = faces("two_people") else { return };
    let engine = engine();
    let g = gallery(&faces, 2);
    let (a, b) = (load_image(&g[0].1).unwrap(), load_image(&g[1].1).unwrap());
    let mut both = image::RgbImage::new(500, 250);
    image::imageops::overlay(&mut both, &a, 0, 0);
    image::imageops::overlay(&mut both, &b, 250, 0);
    let scene = engine.analyze_main(&both, Source::Photo).unwrap();
    assert!(scene.faces.len() >= 2, "{:?}", scene.faces.len());
    assert!(scene.is_crowded());
    assert!(scene.faces[1].embedding.is_none(), "only the main face is embedded");
}

#[test]
fn bad_image_files_get_a_message_that_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let not_image = dir.path().join("notes.jpg");
    std::fs::write(&not_image, "these are not pixels").unwrap();
    let err = load_image(&not_image).unwrap_err().to_string();
    assert!(err.contains("notes.jpg") && err.contains("not an image"), "{err}");

    let missing = load_image(&dir.path().join("absent.jpg")).unwrap_err().to_string();
    assert!(missing.contains("absent.jpg") && missing.contains("cannot read"), "{missing}");

    let mut jpeg = Vec::new();
    image::RgbImage::from_pixel(64, 64, image::Rgb([200, 10, 10]))
        .write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .unwrap();
    let truncated = decode_image(&jpeg[..jpeg.len() / 3]).unwrap_err().to_string();
    assert!(truncated.contains("damaged or truncated"), "{truncated}");
    assert!(decode_image(&[]).is_err());
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A small PNG file that declares `w` x `h` pixels: what a decompression bomb looks like.
fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend((data.len() as u32).to_be_bytes());
        let body: Vec<u8> = kind.iter().chain(data).copied().collect();
        out.extend(&body);
        out.extend(crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    // A zlib stream of a few zero rows; the decoder would have to allocate the rest.
    chunk(b"IDAT", &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    out
}

/// A file that declares 40000 x 40000 pixels took 26-50 s and 6.2 GB before
/// it was refused; now its header is enough, and the message names the file.
#[test]
fn a_picture_declaring_billions_of_pixels_is_refused_before_it_is_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.png");
    std::fs::write(&bomb, png_declaring(40_000, 40_000)).unwrap();
    let err = load_image(&bomb).unwrap_err().to_string();
    assert!(err.contains("bomb.png") && err.contains("40000x40000") && err.contains("megapixels"), "{err}");
    let out = kiosk(&["embed", "--json", path_str(&bomb)]);
    let line: serde_json::Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert!(line["error"].as_str().unwrap().contains("40000x40000"), "{line}");
    assert!(!out.status.success(), "the only image could not be read");
    // An ordinary large photo still goes through.
    let ok = dir.path().join("big.png");
    image::RgbImage::from_pixel(4000, 3000, image::Rgb([90, 90, 90])).save(&ok).unwrap();
    assert_eq!(load_image(&ok).unwrap().dimensions(), (4000, 3000));
}

/// A camera frame with nobody in it costs one detector run; a photo with no
/// face found is still tried framed (an ID crop too tight to see).
#[test]
fn an_empty_camera_frame_runs_the_detector_once() {
    let engine = engine();
    let empty = image::RgbImage::from_pixel(640, 480, image::Rgb([118, 118, 118]));
    let before = engine.detector_runs();
    assert!(engine.analyze_main(&empty, Source::CameraFrame).unwrap().faces.is_empty());
    assert_eq!(engine.detector_runs() - before, 1);
    let before = engine.detector_runs();
    assert!(engine.analyze_main(&empty, Source::Photo).unwrap().faces.is_empty());
    assert_eq!(engine.detector_runs() - before, 2);
}

#[test]
fn greyscale_cmyk_and_rotated_photos_are_read_the_right_way_up() {
    let Some(faces) = faces("colour_spaces") else { return };
    let engine = engine();
    let (_, photo) = &gallery(&faces, 1)[0];
    let dir = tempfile::tempdir().unwrap();
    let convert = |args: &[&str], out: &str| {
        let target = dir.path().join(out);
        let ok = std::process::Command::new("convert")
            .arg(photo)
            .args(args)
            .arg(&target)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "ImageMagick's convert is needed (tools/setup.sh installs it)");
        target
    };
    for (args, name) in [
        (vec!["-colorspace", "Gray"], "grey.jpg"),
        (vec!["-colorspace", "CMYK"], "cmyk.jpg"),
        (vec!["-depth", "16"], "deep.png"),
    ] {
        let img = load_image(&convert(&args, name)).unwrap();
        let scene = engine.analyze_main(&img, Source::Photo).unwrap();
        assert!(scene.main().is_some(), "{name}: no face");
    }
    // A photo stored on its side, with an EXIF tag saying "turn me clockwise",
    // is turned upright before detection: the eyes come out above the mouth.
    let sideways = convert(&["-crop", "250x200+0+25", "+repage", "-rotate", "-90"], "sideways.jpg");
    let tagged = dir.path().join("tagged.jpg");
    std::fs::write(&tagged, with_exif_orientation(&std::fs::read(&sideways).unwrap(), 6)).unwrap();
    let img = load_image(&tagged).unwrap();
    assert_eq!((img.width(), img.height()), (250, 200), "EXIF orientation applied");
    let face = engine.analyze_main(&img, Source::Photo).unwrap().faces.into_iter().next().expect("face after rotation");
    assert!(face.landmarks[0][1] < face.landmarks[3][1], "{:?}", face.landmarks);
}

/// The JPEG with an EXIF segment that holds only the orientation tag.
fn with_exif_orientation(jpeg: &[u8], orientation: u8) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01".to_vec();
    tiff.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let len = (app1.len() + 2) as u16;
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn a_wrong_or_damaged_model_file_is_refused_with_a_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let real = kiosk::home::path("models");
    std::fs::copy(real.join("retinaface_mnet025.onnx"), dir.path().join("retinaface_mnet025.onnx")).unwrap();
    // The dlib network where MobileFaceNet should be.
    std::fs::copy(real.join("dlib_resnet.onnx"), dir.path().join("mobilefacenet.onnx")).unwrap();
    let mut cfg = kiosk::config::Config::default().engine;
    cfg.embedder = kiosk::vision::embed::EmbedderKind::MobileFaceNet;
    cfg.models_dir = dir.path().to_path_buf();
    let err = kiosk::Engine::load(&cfg).err().expect("wrong model refused").to_string();
    assert!(err.contains("is not the") && err.contains("git checkout"), "{err}");

    let bytes = std::fs::read(real.join("mobilefacenet.onnx")).unwrap();
    std::fs::write(dir.path().join("mobilefacenet.onnx"), &bytes[..bytes.len() / 2]).unwrap();
    let err = kiosk::Engine::load(&cfg).err().expect("damaged model refused").to_string();
    assert!(err.contains("could not be loaded") && err.contains("tools/build_models.sh"), "{err}");

    std::fs::remove_file(dir.path().join("mobilefacenet.onnx")).unwrap();
    let err = kiosk::Engine::load(&cfg).err().expect("missing model refused").to_string();
    assert!(err.contains("is missing"), "{err}");
}

#[test]
fn a_missing_onnx_runtime_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg.toml");
    std::fs::write(&cfg, "[engine]\nonnxruntime = \"/nonexistent/libonnxruntime.so.1.32.0\"\n").unwrap();
    let out = kiosk(&["--config", path_str(&cfg), "embed", "--json", path_str(dir.path())]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("ONNX Runtime library not found") && err.contains("tools/setup.sh"), "{err}");
}

/// Frames in a row: the first searched whole, the next ones only around the
/// face (finding the same face, box and embedding, as a whole-frame search
/// would), an identical frame not analysed again, a whole-frame search every
/// fifth frame, and a face gone from its place looked for in the whole frame
/// at once.
#[test]
fn followed_frames_find_what_whole_frames_find_for_less() {
    let Some(faces) = faces("followed_frames") else { return };
    let engine = engine();
    let photo = load_image(&gallery(&faces, 1)[0].1).unwrap();
    let frames: Vec<_> = (0..6).map(|i| kiosk::measure::bench::camera_frame(&photo, 440 + 8 * i).unwrap()).collect();
    let mut follow = kiosk::vision::follow::Follow::default();
    let mut runs = Vec::new();
    for frame in &frames {
        let before = engine.detector_runs();
        let followed = follow.analyze(&engine, frame).unwrap();
        runs.push(engine.detector_runs() - before);
        let whole = engine.analyze_main(frame, Source::CameraFrame).unwrap();
        let (a, b) = (followed.main().expect("a face followed"), whole.main().unwrap());
        assert!(a.bbox.iou(&b.bbox) > 0.8, "{:?} against {:?}", a.bbox, b.bbox);
        let s = similarity(a.embedding.as_ref().unwrap(), b.embedding.as_ref().unwrap());
        assert!(s > 0.95, "the followed face embeds as the whole frame's: {s}");
    }
    assert_eq!(runs, [1, 1, 1, 1, 1, 1], "one detector run a frame, whole or region");
    let before = engine.detector_runs();
    follow.analyze(&engine, &frames[5]).unwrap();
    assert_eq!(engine.detector_runs(), before, "an identical frame is not analysed again");
    // The face moves to where the region cannot see it: the whole frame, in the same frame.
    let mut moved = image::RgbImage::from_pixel(640, 480, image::Rgb([118, 118, 118]));
    let small = image::imageops::resize(&photo, 120, 120, image::imageops::FilterType::Triangle);
    image::imageops::overlay(&mut moved, &small, 520, 360);
    let before = engine.detector_runs();
    let scene = follow.analyze(&engine, &moved).unwrap();
    assert_eq!(engine.detector_runs() - before, 2, "the region, then the whole frame");
    assert!(scene.main().is_some_and(|f| f.bbox.center()[0] > 520.0), "found in its new place: {:?}", scene.main());
}
