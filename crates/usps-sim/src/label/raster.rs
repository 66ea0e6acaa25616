//! Raster labels at 203 dpi (a thermal printer's resolution), black and white:
//! PNG (1-bit grayscale, with `tEXt` title and tracking number and a `pHYs` resolution) and
//! TIFF (baseline bilevel, uncompressed, little-endian, one strip; TIFF 6.0 section 3).
//! Text is drawn with a built-in 5×7 bitmap font.

use sim_kit::font;

use super::{Element, Layout, RenderError};

/// Dots per inch of the raster formats.
pub(crate) const DPI: f32 = 203.0;

/// A black-and-white bitmap; `true` is black.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Canvas {
    pub(crate) width: usize,
    pub(crate) height: usize,
    pixels: Vec<bool>,
}

impl Canvas {
    pub(super) fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            pixels: vec![false; width * height],
        }
    }

    /// Whether the pixel at (`x`, `y`) is black.
    #[cfg(test)]
    pub(crate) fn black(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.height && self.pixels[y * self.width + x]
    }

    pub(super) fn fill(&mut self, left: i64, top: i64, width: i64, height: i64) {
        let x0 = left.clamp(0, self.width as i64) as usize;
        let y0 = top.clamp(0, self.height as i64) as usize;
        let x1 = (left + width).clamp(0, self.width as i64) as usize;
        let y1 = (top + height).clamp(0, self.height as i64) as usize;
        for y in y0..y1 {
            let row = y * self.width;
            self.pixels[row + x0..row + x1].fill(true);
        }
    }

    fn text(&mut self, left: i64, top: i64, unit: i64, text: &str) {
        let mut x = left;
        for character in text.chars() {
            let rows = font::glyph(character);
            for (row, bits) in rows.iter().enumerate() {
                for column in 0..font::WIDTH {
                    if bits & (1 << (font::WIDTH - 1 - column)) != 0 {
                        self.fill(
                            x + column as i64 * unit,
                            top + row as i64 * unit,
                            unit,
                            unit,
                        );
                    }
                }
            }
            x += (font::WIDTH as i64 + 1) * unit;
        }
    }

    /// Rows packed 8 pixels a byte, most significant bit first, `black_bit` for black.
    fn packed(&self, black_bit: bool) -> Vec<u8> {
        let row_bytes = self.width.div_ceil(8);
        let mut data = vec![if black_bit { 0 } else { 0xff }; row_bytes * self.height];
        for y in 0..self.height {
            for x in 0..self.width {
                if self.pixels[y * self.width + x] {
                    let byte = &mut data[y * row_bytes + x / 8];
                    let mask = 0x80 >> (x % 8);
                    if black_bit {
                        *byte |= mask;
                    } else {
                        *byte &= !mask;
                    }
                }
            }
        }
        data
    }
}

fn round(value: f32) -> i64 {
    value.round() as i64
}

/// Draws `layouts` stacked vertically at [`DPI`].
pub(crate) fn rasterize(layouts: &[Layout]) -> Canvas {
    let scale = DPI / 72.0;
    let width = layouts
        .iter()
        .map(|layout| layout.width)
        .fold(0.0, f32::max);
    let height: f32 = layouts.iter().map(|layout| layout.height).sum();
    let mut canvas = Canvas::new(
        round(width * scale) as usize,
        round(height * scale) as usize,
    );
    let mut offset = 0.0;
    for layout in layouts {
        for element in &layout.elements {
            match element {
                Element::Fill {
                    x,
                    y,
                    width,
                    height,
                } => {
                    let left = round(x * scale);
                    let top = round((y + offset) * scale);
                    let right = round((x + width) * scale);
                    let bottom = round((y + offset + height) * scale);
                    canvas.fill(left, top, (right - left).max(1), (bottom - top).max(1));
                }
                Element::Text {
                    x,
                    y,
                    size,
                    text,
                    max_width,
                    ..
                } => {
                    // The bitmap font advances 6 units a glyph: 0.75 of an 8-unit size.
                    let size = super::fitted_size(*size, text, *max_width, 0.75);
                    let unit = ((size * scale / 8.0).floor() as i64).max(1);
                    canvas.text(round(x * scale), round((y + offset) * scale), unit, text);
                }
                Element::Barcode {
                    x,
                    y,
                    module,
                    height,
                    modules,
                    ..
                } => {
                    // Whole-pixel modules keep every bar the same width.
                    let module_px = round(module * scale).max(1);
                    let drawn = module_px * modules.len() as i64;
                    let designed = round(module * scale * modules.len() as f32);
                    let left = round(x * scale) + (designed - drawn) / 2;
                    let top = round((y + offset) * scale);
                    for (index, bar) in modules.iter().enumerate() {
                        if *bar {
                            canvas.fill(
                                left + index as i64 * module_px,
                                top,
                                module_px,
                                round(height * scale),
                            );
                        }
                    }
                }
            }
        }
        offset += layout.height;
    }
    canvas
}

/// Renders `layouts` as a 1-bit grayscale PNG.
pub(crate) fn render_png(layouts: &[Layout]) -> Result<Vec<u8>, RenderError> {
    let canvas = rasterize(layouts);
    let tracking = layouts
        .iter()
        .flat_map(|layout| &layout.elements)
        .find_map(|element| match element {
            Element::Barcode {
                tracking_number, ..
            } => Some(tracking_number.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let mut text = vec![("Title", "USPS return label (simulated)")];
    if !tracking.is_empty() {
        text.push(("TrackingNumber", tracking.as_str()));
    }
    encode_png(&canvas, &text)
}

/// `canvas` as a 1-bit grayscale PNG at [`DPI`], with a `tEXt` chunk per (keyword, text).
pub(super) fn encode_png(canvas: &Canvas, text: &[(&str, &str)]) -> Result<Vec<u8>, RenderError> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, canvas.width as u32, canvas.height as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        // 203 dots per inch is 7992 dots per metre.
        encoder.set_pixel_dims(Some(png::PixelDimensions {
            xppu: 7992,
            yppu: 7992,
            unit: png::Unit::Meter,
        }));
        for (keyword, value) in text {
            encoder.add_text_chunk((*keyword).to_owned(), (*value).to_owned())?;
        }
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&canvas.packed(false))?;
        writer.finish()?;
    }
    Ok(bytes)
}

fn push_u16(bytes: &mut Vec<u8>, value: u16) {
    bytes.extend_from_slice(&value.to_le_bytes());
}

fn push_u32(bytes: &mut Vec<u8>, value: u32) {
    bytes.extend_from_slice(&value.to_le_bytes());
}

/// Renders `layouts` as a baseline bilevel TIFF.
pub(crate) fn render_tiff(layouts: &[Layout]) -> Vec<u8> {
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const RATIONAL: u16 = 5;
    const ENTRIES: u32 = 11;
    let canvas = rasterize(layouts);
    let data = canvas.packed(true);
    let ifd_offset: u32 = 8;
    let rationals_offset = ifd_offset + 2 + ENTRIES * 12 + 4;
    let data_offset = rationals_offset + 16;
    let width = canvas.width as u32;
    let height = canvas.height as u32;
    let mut bytes = Vec::with_capacity(data_offset as usize + data.len());
    bytes.extend_from_slice(b"II*\0");
    push_u32(&mut bytes, ifd_offset);
    push_u16(&mut bytes, ENTRIES as u16);
    // (tag, type, count, value or offset), in ascending tag order as TIFF requires.
    let entries: [(u16, u16, u32, u32); ENTRIES as usize] = [
        (256, LONG, 1, width),                    // ImageWidth
        (257, LONG, 1, height),                   // ImageLength
        (258, SHORT, 1, 1),                       // BitsPerSample
        (259, SHORT, 1, 1),                       // Compression: none
        (262, SHORT, 1, 0),                       // PhotometricInterpretation: WhiteIsZero
        (273, LONG, 1, data_offset),              // StripOffsets
        (278, LONG, 1, height),                   // RowsPerStrip
        (279, LONG, 1, data.len() as u32),        // StripByteCounts
        (282, RATIONAL, 1, rationals_offset),     // XResolution
        (283, RATIONAL, 1, rationals_offset + 8), // YResolution
        (296, SHORT, 1, 2),                       // ResolutionUnit: inch
    ];
    for (tag, kind, count, value) in entries {
        push_u16(&mut bytes, tag);
        push_u16(&mut bytes, kind);
        push_u32(&mut bytes, count);
        if kind == SHORT {
            // A SHORT value sits left-justified in the 4-byte field.
            push_u16(&mut bytes, value as u16);
            push_u16(&mut bytes, 0);
        } else {
            push_u32(&mut bytes, value);
        }
    }
    push_u32(&mut bytes, 0);
    for _ in 0..2 {
        push_u32(&mut bytes, DPI as u32);
        push_u32(&mut bytes, 1);
    }
    bytes.extend_from_slice(&data);
    bytes
}

#[cfg(test)]
mod tests {
    use super::super::tests::{content, options};
    use super::super::{ImageFormat, render_label};
    use super::*;

    fn u16_at(bytes: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([bytes[at], bytes[at + 1]])
    }

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
    }

    #[test]
    fn png_label_decodes_to_a_four_by_six_inch_bitmap_with_bars() {
        let image = render_label(&content(), &options(ImageFormat::Png)).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(image.bytes));
        let mut reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height), (812, 1218));
        assert!(
            info.uncompressed_latin1_text
                .iter()
                .any(|chunk| chunk.text == "9202190412893600000018")
        );
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut pixels).unwrap();
        // A row through the barcode (y = 300 pt) has both black and white pixels.
        let row = &pixels[846 * frame.line_size..847 * frame.line_size];
        assert!(row.iter().any(|byte| *byte != 0xff) && row.iter().any(|byte| *byte != 0));
    }

    #[test]
    fn tiff_label_has_a_consistent_baseline_header() {
        let image = render_label(&content(), &options(ImageFormat::Tiff)).unwrap();
        let bytes = image.bytes;
        assert_eq!(&bytes[..4], b"II*\0");
        let ifd = u32_at(&bytes, 4) as usize;
        let count = u16_at(&bytes, ifd) as usize;
        let mut fields = std::collections::HashMap::new();
        for index in 0..count {
            let at = ifd + 2 + index * 12;
            let kind = u16_at(&bytes, at + 2);
            let value = if kind == 3 {
                u32::from(u16_at(&bytes, at + 8))
            } else {
                u32_at(&bytes, at + 8)
            };
            fields.insert(u16_at(&bytes, at), value);
        }
        let (width, height) = (fields[&256], fields[&257]);
        assert_eq!((width, height), (812, 1218));
        let strip = fields[&273] as usize;
        let length = fields[&279] as usize;
        assert_eq!(length, (width as usize).div_ceil(8) * height as usize);
        assert_eq!(strip + length, bytes.len());
    }

    #[test]
    fn text_is_drawn_in_black_pixels() {
        let mut canvas = Canvas::new(20, 10);
        canvas.text(0, 0, 1, "I");
        assert!(canvas.black(2, 0));
        assert!(!canvas.black(0, 1));
    }
}
