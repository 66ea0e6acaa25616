//! The raster label: the layout drawn black on white at 203 dpi and encoded as a two-colour
//! GIF89a (palette black, white; LZW by the `gif` crate).

use std::borrow::Cow;

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

/// Renders `elements` as a GIF: palette index 0 black, 1 white.
pub(crate) fn render_gif(elements: &[Element]) -> Result<Vec<u8>, RenderError> {
    let canvas = rasterize(elements);
    let indices: Vec<u8> = canvas.pixels.iter().map(|black| u8::from(!black)).collect();
    let mut bytes = Vec::new();
    {
        let width = canvas.width as u16;
        let height = canvas.height as u16;
        let mut encoder = gif::Encoder::new(&mut bytes, width, height, &[0, 0, 0, 255, 255, 255])?;
        let frame = gif::Frame {
            width,
            height,
            buffer: Cow::Borrowed(&indices),
            ..gif::Frame::default()
        };
        encoder.write_frame(&frame)?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::super::layout;
    use super::super::tests::content;
    use super::*;

    #[test]
    fn gif_label_is_a_four_by_six_inch_gif89a() {
        let bytes = render_gif(&layout(&content()).unwrap()).unwrap();
        assert_eq!(&bytes[..6], b"GIF89a");
        let width = u16::from_le_bytes([bytes[6], bytes[7]]);
        let height = u16::from_le_bytes([bytes[8], bytes[9]]);
        assert_eq!((width, height), (812, 1218));
    }

    #[test]
    fn the_barcode_row_alternates_black_and_white() {
        let canvas = rasterize(&layout(&content()).unwrap());
        let row = 790;
        let changes = (1..canvas.width)
            .filter(|&x| canvas.black(x, row) != canvas.black(x - 1, row))
            .count();
        // 20 symbols of 3 bars and 3 spaces, the stop of 4 bars: about 120 edges.
        assert!(changes > 100, "{changes} edges");
    }

    #[test]
    fn text_is_drawn_in_black_pixels() {
        let mut canvas = Canvas::new(20, 10);
        canvas.text(0, 0, 1, "I");
        assert!(canvas.black(2, 0));
        assert!(!canvas.black(0, 1));
    }
}
