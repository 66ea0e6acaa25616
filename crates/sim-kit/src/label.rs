//! The drawing model of a simulated 4×6 in thermal label at 203 dpi, shared by the simulators
//! that draw labels: a layout is a list of [`Element`]s (text, filled boxes, a Code 128
//! barcode) in dots from the top-left corner, which [`rasterize`] turns into a black-and-white
//! [`Canvas`] (each simulator encodes it as its carrier's image format) and [`zpl`] into ZPL II.
//! Each simulator keeps its own layout: what a label of its carrier shows.

use std::fmt::Write as _;

use crate::font;

/// Label width in dots (4 in at 203 dpi).
pub const WIDTH: i64 = 812;
/// Label height in dots (6 in at 203 dpi).
pub const HEIGHT: i64 = 1218;

/// A drawing operation in dots, origin top-left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Element {
    /// Text whose top edge is at `y`; each font unit is `unit` dots (a glyph is 5 × 7 units).
    Text {
        x: i64,
        y: i64,
        unit: i64,
        text: String,
    },
    /// A filled black rectangle.
    Fill {
        x: i64,
        y: i64,
        width: i64,
        height: i64,
    },
    /// A Code 128 barcode of `data` (its `modules`, [`crate::code128`]), `module` dots a module.
    Barcode {
        x: i64,
        y: i64,
        module: i64,
        height: i64,
        modules: Vec<bool>,
        data: String,
    },
}

/// A black-and-white bitmap; `true` is black.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canvas {
    pub width: usize,
    pub height: usize,
    pixels: Vec<bool>,
}

impl Canvas {
    /// A white canvas.
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            pixels: vec![false; width * height],
        }
    }

    /// Whether the pixel at (`x`, `y`) is black (outside the canvas: white).
    pub fn black(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.height && self.pixels[y * self.width + x]
    }

    /// Every pixel, row by row, `true` for black.
    pub fn pixels(&self) -> &[bool] {
        &self.pixels
    }

    /// Blackens a rectangle, clipped to the canvas.
    pub fn fill(&mut self, left: i64, top: i64, width: i64, height: i64) {
        let clamp_x = |value: i64| value.clamp(0, self.width as i64) as usize;
        let clamp_y = |value: i64| value.clamp(0, self.height as i64) as usize;
        let (x0, x1) = (clamp_x(left), clamp_x(left + width));
        let (y0, y1) = (clamp_y(top), clamp_y(top + height));
        for y in y0..y1 {
            let row = y * self.width;
            self.pixels[row + x0..row + x1].fill(true);
        }
    }

    /// Draws `text` in the 5×7 [`font`], each font unit `unit` dots.
    pub fn text(&mut self, left: i64, top: i64, unit: i64, text: &str) {
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
pub fn rasterize(elements: &[Element]) -> Canvas {
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

/// ZPL field data cannot carry the command prefixes `^` and `~`.
fn field(text: &str) -> String {
    text.chars()
        .map(|character| match character {
            '^' | '~' => ' ',
            ' '..='}' => character,
            _ => '?',
        })
        .collect()
}

/// `elements` as ZPL II for a 203 dpi thermal printer, 4×6 in: one `^XA … ^XZ` segment, text
/// as `^FO`/`^A0`/`^FD` fields, boxes as `^GB`, the barcode as `^BC` Code 128.
pub fn zpl(elements: &[Element]) -> Vec<u8> {
    let mut zpl = format!("^XA\n^PW{WIDTH}\n^LL{HEIGHT}\n^LH0,0\n^CI28\n");
    for element in elements {
        // Writing to a String cannot fail.
        let _ = match element {
            Element::Fill {
                x,
                y,
                width,
                height,
            } => writeln!(
                zpl,
                "^FO{x},{y}^GB{width},{height},{}^FS",
                width.min(height).max(&1)
            ),
            Element::Text { x, y, unit, text } => writeln!(
                zpl,
                "^FO{x},{y}^A0N,{},{}^FD{}^FS",
                unit * 8,
                unit * 6,
                field(text)
            ),
            Element::Barcode {
                x,
                y,
                module,
                height,
                data,
                ..
            } => writeln!(zpl, "^FO{x},{y}^BY{module}^BCN,{height},N,N,N^FD{data}^FS"),
        };
    }
    zpl.push_str("^XZ\n");
    zpl.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_drawn_in_black_pixels() {
        let mut canvas = Canvas::new(20, 10);
        canvas.text(0, 0, 1, "I");
        assert!(canvas.black(2, 0));
        assert!(!canvas.black(0, 1));
    }

    #[test]
    fn boxes_are_clipped_to_the_canvas() {
        let canvas = rasterize(&[Element::Fill {
            x: WIDTH - 2,
            y: -5,
            width: 10,
            height: 7,
        }]);
        assert!(canvas.black(WIDTH as usize - 1, 0));
        assert!(canvas.black(WIDTH as usize - 2, 1));
        assert!(!canvas.black(WIDTH as usize - 3, 0));
        assert!(!canvas.black(WIDTH as usize - 1, 2));
    }

    #[test]
    fn zpl_is_one_segment_of_the_elements() {
        let zpl = String::from_utf8(zpl(&[
            Element::Text {
                x: 10,
                y: 20,
                unit: 3,
                text: "A^B~C".to_owned(),
            },
            Element::Barcode {
                x: 40,
                y: 50,
                module: 3,
                height: 220,
                modules: vec![true, false],
                data: "794843185271".to_owned(),
            },
        ]))
        .unwrap();
        assert!(zpl.starts_with("^XA\n^PW812\n^LL1218\n"), "{zpl}");
        assert!(zpl.trim_end().ends_with("^XZ"));
        assert!(zpl.contains("^FO10,20^A0N,24,18^FDA B C^FS"), "{zpl}");
        assert!(zpl.contains("^FO40,50^BY3^BCN,220,N,N,N^FD794843185271^FS"));
    }
}
