//! The Label Broker QR code image of an `imageType: LABEL_BROKER` return label: a QR code
//! (ISO/IEC 18004, error correction level M, encoded by the `qrcode` crate) of the label's
//! `labelBrokerID`, drawn on the raster canvas with the four-module quiet zone the standard
//! asks for and written as the same 1-bit PNG as the raster labels ([`super::raster`]).
//!
//! domestic-labels.yaml says the reply carries "the base64 PNG of the Label Broker QR Code"
//! and never what the code holds; the simulator encodes the `labelBrokerID`, the value the spec
//! offers "as an alternative to the Label Broker QR Code to retrieve the label at a Post
//! Office", so a reader of the code gets exactly what a clerk would type.

use qrcode::{Color, QrCode};

use super::raster::{Canvas, encode_png};
use super::{Image, RenderError};

/// Pixels per QR module (at 203 dpi, about 1 mm: easy for any phone or counter scanner).
const MODULE_PX: usize = 8;
/// The quiet zone on every side, in modules (ISO/IEC 18004 asks for four).
const QUIET_ZONE: usize = 4;

/// The QR code of `label_broker_id` as a PNG.
pub(crate) fn render_label_broker_qr(label_broker_id: &str) -> Result<Image, RenderError> {
    let code = QrCode::new(label_broker_id.as_bytes()).map_err(|_| RenderError::QrCode)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * MODULE_PX;
    let mut canvas = Canvas::new(side, side);
    for (index, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let x = (QUIET_ZONE + index % modules) * MODULE_PX;
            let y = (QUIET_ZONE + index / modules) * MODULE_PX;
            canvas.fill(x as i64, y as i64, MODULE_PX as i64, MODULE_PX as i64);
        }
    }
    let bytes = encode_png(
        &canvas,
        &[
            ("Title", "USPS Label Broker QR code (simulated)"),
            ("LabelBrokerID", label_broker_id),
        ],
    )?;
    Ok(Image {
        bytes,
        content_type: "image/png",
        file_name: "label-broker-qr.png".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_a_square_png_with_a_white_quiet_zone_and_dark_modules() {
        let image = render_label_broker_qr("LB7K2Q9XZA").unwrap();
        assert_eq!(image.content_type, "image/png");
        let decoder = png::Decoder::new(std::io::Cursor::new(image.bytes));
        let mut reader = decoder.read_info().unwrap();
        let (width, height) = (reader.info().width, reader.info().height);
        assert_eq!(width, height);
        // Version 1 (21 modules) holds ten characters at level M.
        assert_eq!(width as usize, (21 + 2 * QUIET_ZONE) * MODULE_PX);
        assert!(
            reader
                .info()
                .uncompressed_latin1_text
                .iter()
                .any(|chunk| chunk.keyword == "LabelBrokerID" && chunk.text == "LB7K2Q9XZA")
        );
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut pixels).unwrap();
        let black =
            |x: usize, y: usize| pixels[y * frame.line_size + x / 8] & (0x80 >> (x % 8)) == 0;
        let quiet = QUIET_ZONE * MODULE_PX;
        assert!((0..width as usize).all(|x| !black(x, quiet - 1)));
        // The top-left finder pattern's corner module is dark.
        assert!(black(quiet, quiet) && black(quiet + MODULE_PX - 1, quiet + MODULE_PX - 1));
    }
}
