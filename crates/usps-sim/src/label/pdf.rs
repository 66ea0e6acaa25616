//! A minimal hand-written PDF 1.4 (ISO 32000-1 structure, uncompressed content streams): one
//! page per layout, the standard Type 1 fonts Helvetica and Helvetica-Bold, filled rectangles
//! for boxes and barcode bars, and a cross-reference table with exact byte offsets.

use std::fmt::Write as _;

use super::{Element, Layout};

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

fn rectangle(stream: &mut String, page_height: f32, x: f32, y: f32, width: f32, height: f32) {
    let _ = writeln!(
        stream,
        "{x:.2} {:.2} {width:.2} {height:.2} re f",
        page_height - y - height
    );
}

fn content_stream(layout: &Layout) -> String {
    let mut stream = String::from("0 g\n");
    for element in &layout.elements {
        match element {
            Element::Fill {
                x,
                y,
                width,
                height,
            } => rectangle(&mut stream, layout.height, *x, *y, *width, *height),
            Element::Text {
                x,
                y,
                size,
                bold,
                text,
                max_width,
            } => {
                let font = if *bold { "F2" } else { "F1" };
                let size = &super::fitted_size(*size, text, *max_width, 0.6);
                let baseline = layout.height - y - size * 0.8;
                let _ = writeln!(
                    stream,
                    "BT /{font} {size:.2} Tf {x:.2} {baseline:.2} Td {} Tj ET",
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
                    let left = x + start as f32 * module;
                    let width = (index - start) as f32 * module;
                    rectangle(&mut stream, layout.height, left, *y, width, *height);
                }
            }
        }
    }
    stream
}

/// Renders `layouts` as a PDF with one page each.
pub(crate) fn render(layouts: &[Layout]) -> Vec<u8> {
    // Objects: 1 catalog, 2 pages, 3 and 4 fonts, 5 info, then a page and its content stream
    // per layout.
    let page_ids: Vec<usize> = (0..layouts.len()).map(|index| 6 + index * 2).collect();
    let kids = page_ids
        .iter()
        .map(|id| format!("{id} 0 R"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut objects: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        format!("<< /Type /Pages /Kids [{kids}] /Count {} >>", layouts.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
            .to_owned(),
        "<< /Producer (Backhaul USPS simulator) /Title (USPS return label) >>".to_owned(),
    ];
    for (layout, page_id) in layouts.iter().zip(&page_ids) {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {:.2} {:.2}] \
             /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
            layout.width,
            layout.height,
            page_id + 1
        ));
        let stream = content_stream(layout);
        objects.push(format!(
            "<< /Length {} >>\nstream\n{stream}endstream",
            stream.len()
        ));
    }
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
        "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref_offset}\n%%EOF\n",
        objects.len() + 1
    );
    pdf.extend_from_slice(xref.as_bytes());
    pdf
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::tests::{content, options};
    use super::super::{ImageFormat, render_label};
    use super::*;

    /// Follows `startxref` to the table and checks that every in-use entry points at
    /// `N 0 obj`; returns the number of objects.
    pub(crate) fn check_xref(pdf: &[u8]) -> usize {
        // One character per byte, so string offsets are byte offsets.
        let text: String = pdf
            .iter()
            .map(|byte| {
                if byte.is_ascii() {
                    char::from(*byte)
                } else {
                    '?'
                }
            })
            .collect();
        assert!(text.starts_with("%PDF-1.4\n"));
        assert!(text.ends_with("%%EOF\n"));
        let start = text.rfind("startxref\n").unwrap() + "startxref\n".len();
        let offset: usize = text[start..].lines().next().unwrap().parse().unwrap();
        let table = &text[offset..];
        assert!(table.starts_with("xref\n"));
        let mut lines = table.lines().skip(1);
        let header = lines.next().unwrap();
        let count: usize = header.split(' ').nth(1).unwrap().parse().unwrap();
        for (number, line) in lines.take(count).enumerate() {
            assert_eq!(line.len() + 1, 20, "xref entries are 20 bytes");
            if number == 0 {
                assert!(line.ends_with(" f "));
                continue;
            }
            let at: usize = line[..10].parse().unwrap();
            assert!(
                text[at..].starts_with(&format!("{number} 0 obj\n")),
                "object {number} is not at {at}"
            );
        }
        count
    }

    #[test]
    fn literal_strings_escape_parentheses_and_backslashes() {
        assert_eq!(literal("a(b)\\c"), "(a\\(b\\)\\\\c)");
        assert_eq!(literal("café"), "(caf?)");
    }

    #[test]
    fn label_pdf_has_a_valid_cross_reference_table() {
        let image = render_label(&content(), &options(ImageFormat::Pdf)).unwrap();
        assert_eq!(check_xref(&image.bytes), 8);
        let text = String::from_utf8_lossy(&image.bytes);
        assert!(text.contains("(USPS GROUND ADVANTAGE RETURN) Tj"));
        assert!(text.contains("(9202 1904 1289 3600 0000 18) Tj"));
        assert!(text.contains("(REF: RMA \\(42\\)) Tj"));
    }

    #[test]
    fn stream_lengths_match_their_content() {
        let image = render_label(&content(), &options(ImageFormat::Pdf)).unwrap();
        let text = String::from_utf8_lossy(&image.bytes);
        let length_at = text.find("/Length ").unwrap() + "/Length ".len();
        let length: usize = text[length_at..]
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let stream_at = text.find("stream\n").unwrap() + "stream\n".len();
        assert!(text[stream_at + length..].starts_with("endstream"));
    }
}
