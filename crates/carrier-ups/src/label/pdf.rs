//! A one-page PDF 1.4 holding one label image: a 4 × 6 in page (288 × 432 pt) with the image
//! scaled to fit and centred, turned a quarter when it is wider than tall so that it fills the
//! portrait page (Shipping.yaml asks for a 4 × 6 stock size but does not say which way the GIF
//! is drawn). The image is an 8-bit gray or RGB XObject, Flate-compressed. Written by hand —
//! five objects and a cross-reference table — rather than through a PDF library.

use std::fmt::Write as _;
use std::io::Write as _;

use super::Raster;

const PAGE_WIDTH: f64 = 288.0;
const PAGE_HEIGHT: f64 = 432.0;

/// The placement matrix (`cm`) of the image's unit square on the page.
fn placement(width: u32, height: u32) -> [f64; 6] {
    let (w, h) = (f64::from(width), f64::from(height));
    if width > height {
        // Turned a quarter counter-clockwise: the image's width runs up the page.
        let scale = (PAGE_WIDTH / h).min(PAGE_HEIGHT / w);
        let (across, up) = (h * scale, w * scale);
        let left = (PAGE_WIDTH - across) / 2.0;
        let bottom = (PAGE_HEIGHT - up) / 2.0;
        [0.0, up, -across, 0.0, left + across, bottom]
    } else {
        let scale = (PAGE_WIDTH / w).min(PAGE_HEIGHT / h);
        let (across, up) = (w * scale, h * scale);
        [
            across,
            0.0,
            0.0,
            up,
            (PAGE_WIDTH - across) / 2.0,
            (PAGE_HEIGHT - up) / 2.0,
        ]
    }
}

/// The PDF bytes for `raster`.
pub(crate) fn one_page(raster: &Raster) -> Result<Vec<u8>, String> {
    let mut deflater = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    deflater
        .write_all(&raster.pixels)
        .map_err(|error| format!("the PDF label could not be compressed: {error}"))?;
    let image = deflater
        .finish()
        .map_err(|error| format!("the PDF label could not be compressed: {error}"))?;
    let matrix = placement(raster.width, raster.height);
    let mut content = String::from("q ");
    for value in matrix {
        let _ = write!(content, "{value:.4} ");
    }
    content.push_str("cm /Im0 Do Q\n");
    let color_space = if raster.gray {
        "/DeviceGray"
    } else {
        "/DeviceRGB"
    };

    let mut out: Vec<u8> = Vec::with_capacity(image.len() + 1024);
    // The binary comment tells readers the file holds binary data.
    out.extend_from_slice(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
    let mut offsets = Vec::with_capacity(5);
    let mut object = |out: &mut Vec<u8>, head: String, stream: Option<&[u8]>| {
        offsets.push(out.len());
        out.extend_from_slice(head.as_bytes());
        if let Some(stream) = stream {
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(stream);
            out.extend_from_slice(b"\nendstream");
        }
        out.extend_from_slice(b"\nendobj\n");
    };
    object(
        &mut out,
        "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        None,
    );
    object(
        &mut out,
        "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        None,
    );
    object(
        &mut out,
        format!(
            "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
             /Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>"
        ),
        None,
    );
    object(
        &mut out,
        format!(
            "4 0 obj\n<< /Type /XObject /Subtype /Image /Width {} /Height {} /ColorSpace {color_space} \
             /BitsPerComponent 8 /Filter /FlateDecode /Length {} >>",
            raster.width,
            raster.height,
            image.len()
        ),
        Some(&image),
    );
    object(
        &mut out,
        format!("5 0 obj\n<< /Length {} >>", content.len()),
        Some(content.as_bytes()),
    );
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1);
    for offset in &offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        offsets.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_portrait_image_fills_the_page_width_centred() {
        let [a, b, c, d, e, f] = placement(800, 1200);
        assert_eq!((a, b, c, d), (288.0, 0.0, 0.0, 432.0));
        assert_eq!((e, f), (0.0, 0.0));
    }

    #[test]
    fn a_landscape_image_is_turned_to_fill_the_page() {
        // 1400 × 800 (UPS's GIF size at 200 dpi, 7 × 4 in) turned: 4 in across, 7 in up.
        let [a, b, c, d, e, f] = placement(1400, 800);
        assert_eq!((a, d), (0.0, 0.0));
        assert!((b - 504.0_f64.min(432.0)).abs() < 1e-9, "{b}");
        assert!((c + 432.0 * 800.0 / 1400.0).abs() < 1e-9, "{c}");
        // The turned image stays on the page.
        assert!(e <= 288.0 && e + c >= 0.0 && f >= 0.0 && f + b <= 432.0);
    }
}
