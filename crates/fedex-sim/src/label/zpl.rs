//! ZPL II for a 203 dpi thermal printer, 4×6 in: one `^XA … ^XZ` segment, text as
//! `^FO`/`^A0`/`^FD` fields, boxes as `^GB`, and the tracking number as a `^BC` Code 128 barcode.

use std::fmt::Write as _;

use super::{Element, HEIGHT, WIDTH};

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

/// Renders `elements` as ZPL.
pub(crate) fn render(elements: &[Element]) -> Vec<u8> {
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
    use super::super::layout;
    use super::super::tests::content;

    #[test]
    fn zpl_label_is_one_segment_with_a_code_128_barcode() {
        let zpl = String::from_utf8(super::render(&layout(&content()).unwrap())).unwrap();
        assert!(zpl.starts_with("^XA"));
        assert!(zpl.trim_end().ends_with("^XZ"));
        assert_eq!(zpl.matches("^XA").count(), 1);
        assert!(zpl.contains("^PW812") && zpl.contains("^LL1218"));
        assert!(zpl.contains("^BCN,220,N,N,N^FD794843185271^FS"));
        assert!(zpl.contains("^FDFEDEX GROUND^FS"));
    }

    #[test]
    fn caret_and_tilde_are_removed_from_field_data() {
        assert_eq!(super::field("A^B~C"), "A B C");
    }
}
