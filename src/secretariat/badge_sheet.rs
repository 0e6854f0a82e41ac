//! The delegates' badges as print-ready PDF: A6 badges four to an A4 sheet,
//! or CR80 cards (85.6 × 54 mm) ten to a sheet with cut marks. Each carries
//! the congress, the enrolled photo, the name, delegation, seat and role in
//! the shipped font (long names wrap, smaller, never cut), and the QR code.

use std::path::{Path, PathBuf};

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

use crate::error::{Error, Result};
use crate::secretariat::pdf::Type;
use crate::store::Delegate;
use crate::text::Lang;
use crate::text::fonts::{NOTO, NOTO_BOLD};
use crate::vision::qr::{Modules, QUIET_ZONE};

/// Points in a millimetre.
const MM: f32 = 72.0 / 25.4;
const A4: (f32, f32) = (210.0 * MM, 297.0 * MM);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// 105 × 148 mm, four to an A4 sheet, cut along the middle lines.
    A6,
    /// 85.6 × 54 mm (a bank card), ten to an A4 sheet, with cut marks.
    Cr80,
}

impl Layout {
    /// A card's width and height, and the grid of cards on a sheet.
    fn geometry(self) -> (f32, f32, usize, usize) {
        match self {
            Layout::A6 => (105.0 * MM, 148.5 * MM, 2, 2),
            Layout::Cr80 => (85.6 * MM, 54.0 * MM, 2, 5),
        }
    }

    pub fn per_sheet(self) -> usize {
        let (_, _, cols, rows) = self.geometry();
        cols * rows
    }
}

/// Badges in one PDF file at the most: krilla holds a document in memory
/// until it is written, so a whole union's badges go into several files,
/// each within bounded memory.
pub const PER_FILE: usize = 2000;

/// One badge: who, their enrolled photo (JPEG) if any, and the QR code's text.
pub struct Card {
    pub delegate: Delegate,
    pub photo: Option<Vec<u8>>,
    pub qr_text: String,
}

/// What every badge says beside the delegate.
pub struct Sheet<'a> {
    pub event: &'a str,
    pub layout: Layout,
    pub lang: Lang,
}

/// The type, measured and embedded, and the ink.
struct Pen {
    kind: Type,
    regular: Font,
    bold: Font,
    black: Fill,
}

/// A column of a card, which text is centred in.
#[derive(Clone, Copy)]
struct Column {
    x: f32,
    room: f32,
}

/// Type size and weight, and the most lines a text may take.
#[derive(Clone, Copy)]
struct Style {
    size: f32,
    bold: bool,
    lines: usize,
}

const fn style(size: f32, bold: bool, lines: usize) -> Style {
    Style { size, bold, lines }
}

impl Pen {
    /// `text` wrapped and centred in `col`, as large as `style` allows within
    /// its lines, the first line's top at `y`; returns the y below it.
    fn block(&self, s: &mut Surface, text: &str, style: Style, col: Column, y: f32) -> f32 {
        if text.trim().is_empty() {
            return y;
        }
        let (size, lines) = self.kind.wrap(text, style.size, style.bold, col.room, style.lines);
        let font = if style.bold { &self.bold } else { &self.regular };
        // A frame or a cut mark drawn before leaves its stroke and no fill.
        s.set_stroke(None);
        s.set_fill(Some(self.black.clone()));
        let mut y = y;
        for line in &lines {
            let w = self.kind.width(line, size, style.bold);
            let at = Point::from_xy(col.x + (col.room - w) / 2.0, y + size);
            s.draw_text(at, font.clone(), size, line, false, TextDirection::Auto);
            y += size * 1.25;
        }
        y
    }
}

/// The QR code of `text`, `side` points wide (quiet zone included), its top left at (x, y).
fn draw_qr(s: &mut Surface, black: &Fill, text: &str, x: f32, y: f32, side: f32) -> Result<()> {
    let modules = Modules::encode(text)?;
    let cell = side / (modules.width + 2 * QUIET_ZONE) as f32;
    let origin = (x + QUIET_ZONE as f32 * cell, y + QUIET_ZONE as f32 * cell);
    let mut path = PathBuilder::new();
    for my in 0..modules.width {
        for mx in 0..modules.width {
            if modules.is_dark(mx, my)
                && let Some(r) = Rect::from_xywh(origin.0 + mx as f32 * cell, origin.1 + my as f32 * cell, cell, cell)
            {
                path.push_rect(r);
            }
        }
    }
    if let Some(path) = path.finish() {
        s.set_stroke(None);
        s.set_fill(Some(black.clone()));
        s.draw_path(&path);
    }
    Ok(())
}

/// The enrolled photo fitted into the box, or an empty frame where there is none.
fn draw_photo(s: &mut Surface, photo: Option<&[u8]>, x: f32, y: f32, w: f32, h: f32) {
    let image = photo.and_then(|jpeg| Image::from_jpeg(jpeg.to_vec().into(), true).ok());
    match image {
        Some(image) => {
            let (iw, ih) = image.size();
            let scale = (w / iw as f32).min(h / ih as f32);
            let (dw, dh) = (iw as f32 * scale, ih as f32 * scale);
            s.push_transform(&Transform::from_translate(x + (w - dw) / 2.0, y + (h - dh) / 2.0));
            if let Some(size) = Size::from_wh(dw, dh) {
                s.draw_image(image, size);
            }
            s.pop();
        }
        None => {
            if let Some(frame) = Rect::from_xywh(x, y, w, h).map(|r| {
                let mut p = PathBuilder::new();
                p.push_rect(r);
                p
            }) && let Some(path) = frame.finish()
            {
                s.set_fill(None);
                s.set_stroke(Some(grey_line(0.6)));
                s.draw_path(&path);
            }
        }
    }
}

fn grey_line(width: f32) -> Stroke {
    Stroke { paint: rgb::Color::new(150, 150, 150).into(), width, ..Default::default() }
}

fn seat_line(lang: Lang, seat: &str) -> String {
    if seat.is_empty() {
        return String::new();
    }
    match lang {
        Lang::Vi => format!("Ghế: {seat}"),
        Lang::En => format!("Seat: {seat}"),
    }
}

fn role(d: &Delegate) -> &str {
    d.extra.get("role").map(String::as_str).unwrap_or_default()
}

impl Sheet<'_> {
    /// The badge whose top left is `at`, `size` wide and high.
    fn card(&self, s: &mut Surface, pen: &Pen, c: &Card, (x, y): (f32, f32), (w, h): (f32, f32)) -> Result<()> {
        let d = &c.delegate;
        let seat = seat_line(self.lang, &d.seat);
        match self.layout {
            Layout::A6 => {
                let m = 7.0 * MM;
                let col = Column { x: x + m, room: w - 2.0 * m };
                let mut at = pen.block(s, self.event, style(11.0, true, 2), col, y + m) + 3.0 * MM;
                let (pw, ph) = (30.0 * MM, 38.0 * MM);
                draw_photo(s, c.photo.as_deref(), x + (w - pw) / 2.0, at, pw, ph);
                at = pen.block(s, &d.name, style(18.0, true, 2), col, at + ph + 3.0 * MM);
                at = pen.block(s, &d.delegation, style(11.0, false, 2), col, at + 1.0 * MM);
                at = pen.block(s, &seat, style(13.0, true, 1), col, at + 1.0 * MM);
                pen.block(s, role(d), style(10.0, false, 1), col, at + 1.0 * MM);
                let side = 40.0 * MM;
                draw_qr(s, &pen.black, &c.qr_text, x + (w - side) / 2.0, y + h - m - side, side)
            }
            Layout::Cr80 => {
                let m = 3.0 * MM;
                let whole = Column { x: x + m, room: w - 2.0 * m };
                let top = pen.block(s, self.event, style(6.5, true, 2), whole, y + m) + 1.0 * MM;
                let (pw, ph) = (21.0 * MM, 28.0 * MM);
                draw_photo(s, c.photo.as_deref(), x + m, top, pw, ph);
                let side = (h - (top - y) - m).min(30.0 * MM);
                draw_qr(s, &pen.black, &c.qr_text, x + w - m - side, top, side)?;
                let col = Column { x: x + m + pw + 1.5 * MM, room: w - 2.0 * m - pw - side - 3.0 * MM };
                let mut at = pen.block(s, &d.name, style(9.0, true, 3), col, top);
                at = pen.block(s, &d.delegation, style(6.5, false, 2), col, at + 0.5 * MM);
                at = pen.block(s, &seat, style(8.0, true, 1), col, at + 0.5 * MM);
                pen.block(s, role(d), style(6.0, false, 1), col, at + 0.5 * MM);
                Ok(())
            }
        }
    }

    /// `count` badges, made one by one by `card`, into `out` (up to
    /// `PER_FILE`), or `out-001.pdf`, `out-002.pdf`…: the files written, with
    /// how many badges each holds.
    pub fn write_all(
        &self,
        out: &Path,
        count: usize,
        mut card: impl FnMut(usize) -> Result<Card>,
    ) -> Result<Vec<(PathBuf, usize)>> {
        let volumes = count.div_ceil(PER_FILE);
        let mut written = Vec::with_capacity(volumes);
        for v in 0..volumes {
            let path = if volumes == 1 {
                out.to_path_buf()
            } else {
                let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "badges".into());
                out.with_file_name(format!("{stem}-{:03}.pdf", v + 1))
            };
            let cards = (v * PER_FILE..count.min((v + 1) * PER_FILE)).map(&mut card).collect::<Result<Vec<_>>>()?;
            self.write(&path, &cards)?;
            written.push((path, cards.len()));
        }
        Ok(written)
    }

    /// Writes `cards` to `path`, a sheet after another.
    fn write(&self, path: &Path, cards: &[Card]) -> Result<()> {
        let fail = |e: String| Error::output(path.display().to_string(), e);
        let embed = |data: &'static [u8]| {
            Font::new(data.into(), 0).ok_or_else(|| fail("the shipped font cannot be embedded".into()))
        };
        let pen = Pen {
            kind: Type::new()?,
            regular: embed(NOTO)?,
            bold: embed(NOTO_BOLD)?,
            black: Fill {
                paint: rgb::Color::new(0, 0, 0).into(),
                opacity: NormalizedF32::ONE,
                rule: Default::default(),
            },
        };
        let (w, h, cols, rows) = self.layout.geometry();
        let (x0, y0) = ((A4.0 - w * cols as f32) / 2.0, (A4.1 - h * rows as f32) / 2.0);
        let settings = PageSettings::from_wh(A4.0, A4.1).ok_or_else(|| fail("page size".into()))?;
        let mut doc = Document::new();
        for sheet in cards.chunks(self.layout.per_sheet()) {
            let mut page = doc.start_page_with(settings.clone());
            let mut s = page.surface();
            for (i, card) in sheet.iter().enumerate() {
                let (cx, cy) = (x0 + (i % cols) as f32 * w, y0 + (i / cols) as f32 * h);
                self.card(&mut s, &pen, card, (cx, cy), (w, h))?;
            }
            self.cut_marks(&mut s, (x0, y0), (w, h), (cols, rows));
            s.finish();
            page.finish();
        }
        let bytes = doc.finish().map_err(|e| fail(format!("{e:?}")))?;
        std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
    }

    /// A6: the lines between the badges, light. CR80: short marks outside
    /// the grid at every edge of a card, where the guillotine goes.
    /// The grid's top left is `(x0, y0)`, its cards `(w, h)`.
    fn cut_marks(&self, s: &mut Surface, (x0, y0): (f32, f32), (w, h): (f32, f32), (cols, rows): (usize, usize)) {
        let mut p = PathBuilder::new();
        let (x1, y1) = (x0 + w * cols as f32, y0 + h * rows as f32);
        match self.layout {
            Layout::A6 => {
                for c in 1..cols {
                    p.move_to(x0 + c as f32 * w, y0);
                    p.line_to(x0 + c as f32 * w, y1);
                }
                for r in 1..rows {
                    p.move_to(x0, y0 + r as f32 * h);
                    p.line_to(x1, y0 + r as f32 * h);
                }
            }
            Layout::Cr80 => {
                let mark = 4.0 * MM;
                for c in 0..=cols {
                    let x = x0 + c as f32 * w;
                    p.move_to(x, y0 - 1.0 * MM - mark);
                    p.line_to(x, y0 - 1.0 * MM);
                    p.move_to(x, y1 + 1.0 * MM);
                    p.line_to(x, y1 + 1.0 * MM + mark);
                }
                for r in 0..=rows {
                    let y = y0 + r as f32 * h;
                    p.move_to(x0 - 1.0 * MM - mark, y);
                    p.line_to(x0 - 1.0 * MM, y);
                    p.move_to(x1 + 1.0 * MM, y);
                    p.line_to(x1 + 1.0 * MM + mark, y);
                }
            }
        }
        if let Some(path) = p.finish() {
            s.set_fill(None);
            s.set_stroke(Some(grey_line(0.5)));
            s.draw_path(&path);
        }
    }
}
