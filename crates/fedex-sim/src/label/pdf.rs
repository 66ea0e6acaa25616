//! The PDF label: a minimal hand-written PDF 1.4 (uncompressed content stream, the standard
//! Type 1 font Helvetica, a cross-reference table with exact byte offsets), one 4×6 in page
//! (288 × 432 pt). The layout's dots (203 dpi) become points; barcode bars are filled
//! rectangles of whole-module widths.

use std::fmt::Write as _;

use super::{Element, HEIGHT};

/// Points per dot.
const SCALE: f64 = 72.0 / 203.0;

/// Escapes a PDF literal string; characters outside printable ASCII print as `?`.
fn literal(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    escaped.push('(');
    for character in text.chars() {
        match character {
            '\\' | '(' | ')' => {
                escaped.push('\\');
                escaped.push(character);
            }
            ' '..='~' => escaped.push(character),
            _ => escaped.push('?'),
        }
    }
    escaped.push(')');
    escaped
}

fn rectangle(stream: &mut String, x: i64, y: i64, width: i64, height: i64) {
    let page_height = HEIGHT as f64 * SCALE;
    let _ = writeln!(
        stream,
        "{:.3} {:.3} {:.3} {:.3} re f",
        x as f64 * SCALE,
        page_height - (y + height) as f64 * SCALE,
        width as f64 * SCALE,
        height as f64 * SCALE
    );
}

fn content_stream(elements: &[Element]) -> String {
    let page_height = HEIGHT as f64 * SCALE;
    let mut stream = String::from("0 g\n");
    for element in elements {
        match element {
            Element::Fill {
                x,
                y,
                width,
                height,
            } => rectangle(&mut stream, *x, *y, *width, *height),
            Element::Text { x, y, unit, text } => {
                // A bitmap glyph is 7 units high; Helvetica's cap height is about 0.72 em.
                let size = (*unit * 7) as f64 * SCALE / 0.72;
                let baseline = page_height - (*y + *unit * 7) as f64 * SCALE;
                let _ = writeln!(
                    stream,
                    "BT /F1 {size:.2} Tf {:.3} {baseline:.3} Td {} Tj ET",
                    *x as f64 * SCALE,
                    literal(text)
                );
            }
            Element::Barcode {
                x,
                y,
                module,
                height,
                modules,
                ..
            } => {
                let mut index = 0;
                while index < modules.len() {
                    if !modules[index] {
                        index += 1;
                        continue;
                    }
                    let start = index;
                    while index < modules.len() && modules[index] {
                        index += 1;
                    }
                    let left = x + start as i64 * module;
                    let width = (index - start) as i64 * module;
                    rectangle(&mut stream, left, *y, width, *height);
                }
            }
        }
    }
    stream
}

/// Renders `elements` as a one-page PDF.
pub(crate) fn render(elements: &[Element]) -> Vec<u8> {
    let stream = content_stream(elements);
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] \
         /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
            .to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{stream}endstream", stream.len()),
        "<< /Producer (Backhaul FedEx simulator) /Title (FedEx return label) >>".to_owned(),
    ];
    let mut pdf: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", index + 1).as_bytes());
    }
    let xref_offset = pdf.len();
    let mut xref = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in &offsets {
        let _ = writeln!(xref, "{offset:010} 00000 n ");
    }
    let _ = write!(
        xref,
        "trailer\n<< /Size {} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref_offset}\n%%EOF\n",
        objects.len() + 1
    );
    pdf.extend_from_slice(xref.as_bytes());
    pdf
}

#[cfg(test)]
mod tests {
    use super::super::layout;
    use super::super::tests::content;
    use super::*;

    #[test]
    fn every_xref_entry_points_at_its_object() {
        let pdf = render(&layout(&content()).unwrap());
        let text = String::from_utf8_lossy(&pdf).into_owned();
        let start = text.rfind("startxref\n").unwrap() + "startxref\n".len();
        let offset: usize = text[start..].lines().next().unwrap().parse().unwrap();
        // The binary comment line is 4 non-ASCII bytes; lossy decoding keeps byte offsets only
        // before it, so compare on the raw bytes.
        assert!(pdf[offset..].starts_with(b"xref\n"));
        let table = String::from_utf8_lossy(&pdf[offset..]).into_owned();
        for (number, line) in table.lines().skip(3).take(6).enumerate() {
            let at: usize = line[..10].parse().unwrap();
            assert!(pdf[at..].starts_with(format!("{} 0 obj\n", number + 1).as_bytes()));
        }
        assert!(text.contains("(TRACKING #: 7948 4318 5271) Tj"));
    }
}
