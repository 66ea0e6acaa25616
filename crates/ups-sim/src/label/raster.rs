//! The raster label: the layout drawn black on white at 203 dpi and encoded as a two-colour
//! GIF89a (palette black, white; LZW by the `gif` crate).

use std::borrow::Cow;

use sim_kit::label::rasterize;

use super::{Element, RenderError};

/// Renders `elements` as a GIF: palette index 0 black, 1 white.
pub(crate) fn render_gif(elements: &[Element]) -> Result<Vec<u8>, RenderError> {
    let canvas = rasterize(elements);
    let indices: Vec<u8> = canvas
        .pixels()
        .iter()
        .map(|black| u8::from(!black))
        .collect();
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
}
