//! The raster label: the layout drawn black on white at 203 dpi and encoded as a 1-bit
//! grayscale PNG (the `png` crate, as the USPS simulator does) with a `pHYs` of 203 dpi and
//! `tEXt` title and tracking number.

use sim_kit::label::{Canvas, rasterize};

use super::{Element, RenderError};

/// The canvas's rows packed 8 pixels a byte, most significant bit first, 0 for black (PNG
/// grayscale).
fn packed(canvas: &Canvas) -> Vec<u8> {
    let row_bytes = canvas.width.div_ceil(8);
    let mut data = vec![0xff; row_bytes * canvas.height];
    for y in 0..canvas.height {
        for x in 0..canvas.width {
            if canvas.black(x, y) {
                data[y * row_bytes + x / 8] &= !(0x80 >> (x % 8));
            }
        }
    }
    data
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
        writer.write_image_data(&packed(&canvas))?;
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
}
