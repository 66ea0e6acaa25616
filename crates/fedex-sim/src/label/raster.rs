//! The raster label: the layout drawn black on white at 203 dpi and encoded as a 1-bit
//! grayscale PNG (the `png` crate, as the USPS simulator does) with a `pHYs` of 203 dpi and
//! `tEXt` title and tracking number.

use sim_kit::font;

use super::{Element, HEIGHT, RenderError, WIDTH};

/// A black-and-white bitmap; `true` is black.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Canvas {
    pub(crate) width: usize,
    pub(crate) height: usize,
    pixels: Vec<bool>,
}

impl Canvas {
    fn new(width: usize, height: usize) -> Self {
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

    fn fill(&mut self, left: i64, top: i64, width: i64, height: i64) {
        let clamp_x = |value: i64| value.clamp(0, self.width as i64) as usize;
        let clamp_y = |value: i64| value.clamp(0, self.height as i64) as usize;
        let (x0, x1) = (clamp_x(left), clamp_x(left + width));
        let (y0, y1) = (clamp_y(top), clamp_y(top + height));
        for y in y0..y1 {
            let row = y * self.width;
            self.pixels[row + x0..row + x1].fill(true);
        }
    }

    fn text(&mut self, left: i64, top: i64, unit: i64, text: &str) {
        let mut x = left;
        for character in text.chars() {
            for (row, bits) in font::glyph(character).iter().enumerate() {
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
}

/// Draws `elements` on a 4×6 in canvas.
pub(crate) fn rasterize(elements: &[Element]) -> Canvas {
    let mut canvas = Canvas::new(WIDTH as usize, HEIGHT as usize);
    for element in elements {
        match element {
            Element::Fill {
                x,
                y,
                width,
                height,
            } => canvas.fill(*x, *y, *width, *height),
            Element::Text { x, y, unit, text } => canvas.text(*x, *y, *unit, text),
            Element::Barcode {
                x,
                y,
                module,
                height,
                modules,
                ..
            } => {
                for (index, bar) in modules.iter().enumerate() {
                    if *bar {
                        canvas.fill(x + index as i64 * module, *y, *module, *height);
                    }
                }
            }
        }
    }
    canvas
}

impl Canvas {
    /// Rows packed 8 pixels a byte, most significant bit first, 0 for black (PNG grayscale).
    fn packed(&self) -> Vec<u8> {
        let row_bytes = self.width.div_ceil(8);
        let mut data = vec![0xff; row_bytes * self.height];
        for y in 0..self.height {
            for x in 0..self.width {
                if self.pixels[y * self.width + x] {
                    data[y * row_bytes + x / 8] &= !(0x80 >> (x % 8));
                }
            }
        }
        data
    }
}

/// Renders `elements` as a 1-bit grayscale PNG.
pub(crate) fn render_png(elements: &[Element]) -> Result<Vec<u8>, RenderError> {
    let canvas = rasterize(elements);
    let tracking = elements
        .iter()
        .find_map(|element| match element {
            Element::Barcode { data, .. } => Some(data.clone()),
            _ => None,
        })
        .unwrap_or_default();
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
        encoder.add_text_chunk(
            "Title".to_owned(),
            "FedEx return label (simulated)".to_owned(),
        )?;
        encoder.add_text_chunk("TrackingNumber".to_owned(), tracking)?;
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&canvas.packed())?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::super::layout;
    use super::super::tests::content;
    use super::*;

    #[test]
    fn png_label_is_a_four_by_six_inch_png() {
        let bytes = render_png(&layout(&content()).unwrap()).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        let height = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
        assert_eq!((width, height), (812, 1218));
    }

    #[test]
    fn the_barcode_row_alternates_black_and_white() {
        let canvas = rasterize(&layout(&content()).unwrap());
        let row = 790;
        let changes = (1..canvas.width)
            .filter(|&x| canvas.black(x, row) != canvas.black(x - 1, row))
            .count();
        // Start, 12 digits, check (14 symbols of 3 bars and 3 spaces) and the stop of 4 bars:
        // about 90 edges.
        assert!(changes > 80, "{changes} edges");
    }

    #[test]
    fn text_is_drawn_in_black_pixels() {
        let mut canvas = Canvas::new(20, 10);
        canvas.text(0, 0, 1, "I");
        assert!(canvas.black(2, 0));
        assert!(!canvas.black(0, 1));
    }
}
