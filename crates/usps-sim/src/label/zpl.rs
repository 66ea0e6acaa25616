//! ZPL II for 203 or 300 dpi thermal printers: one `^XA … ^XZ` segment per layout, text as
//! `^FO`/`^A0`/`^FD` fields, boxes as `^GB`, and the IMpb as a `^BC` Code 128 barcode in
//! subset C with FNC1 (`>;` and `>8`), i.e. GS1-128 `420` + ZIP, FNC1, tracking number.
//! With comments on (`addImageComments`), each segment starts with `^FX <section>. <uuid> ^FS`
//! as in the spec's example.

use std::fmt::Write as _;

use super::{Element, Layout};

/// ZPL field data cannot carry the command prefixes `^` and `~`.
fn field(text: &str) -> String {
    text.chars()
        .map(|character| match character {
            '^' | '~' => ' ',
            ' '..='~' => character,
            _ => '?',
        })
        .collect()
}

/// Renders `layouts` as ZPL at `dpi`.
pub(crate) fn render(layouts: &[Layout], dpi: u32, comments: bool) -> Vec<u8> {
    let scale = dpi as f32 / 72.0;
    let dots = |points: f32| (points * scale).round().max(0.0) as i64;
    let mut zpl = String::new();
    for layout in layouts {
        zpl.push_str("^XA\n");
        if comments {
            let _ = writeln!(zpl, "^FX {}. {} ^FS", layout.comment, uuid::Uuid::new_v4());
        }
        let _ = writeln!(
            zpl,
            "^PW{}\n^LL{}\n^LH0,0\n^CI28",
            dots(layout.width),
            dots(layout.height)
        );
        for element in &layout.elements {
            match element {
                Element::Fill {
                    x,
                    y,
                    width,
                    height,
                } => {
                    let (width, height) = (dots(*width).max(1), dots(*height).max(1));
                    let _ = writeln!(
                        zpl,
                        "^FO{},{}^GB{width},{height},{}^FS",
                        dots(*x),
                        dots(*y),
                        width.min(height)
                    );
                }
                Element::Text {
                    x,
                    y,
                    size,
                    text,
                    max_width,
                    ..
                } => {
                    let height = dots(super::fitted_size(*size, text, *max_width, 0.55)).max(10);
                    let _ = writeln!(
                        zpl,
                        "^FO{},{}^A0N,{height},{}^FD{}^FS",
                        dots(*x),
                        dots(*y),
                        (height * 9 / 10).max(9),
                        field(text)
                    );
                }
                Element::Barcode {
                    x,
                    y,
                    module,
                    height,
                    modules,
                    zip,
                    tracking_number,
                } => {
                    let module_dots = dots(*module).clamp(1, 10);
                    let left = dots(*x)
                        + (dots(module * modules.len() as f32)
                            - module_dots * modules.len() as i64)
                            / 2;
                    let _ = writeln!(
                        zpl,
                        "^FO{},{}^BY{module_dots}^BCN,{},N,N,N^FD>;>8420{zip}>8{tracking_number}^FS",
                        left.max(0),
                        dots(*y),
                        dots(*height)
                    );
                }
            }
        }
        zpl.push_str("^XZ\n");
    }
    zpl.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{content, options};
    use super::super::{ImageFormat, Receipt, render_label};

    #[test]
    fn zpl_label_is_one_segment_with_a_gs1_128_barcode() {
        let image = render_label(&content(), &options(ImageFormat::Zpl { dpi: 203 })).unwrap();
        let zpl = String::from_utf8(image.bytes).unwrap();
        assert!(zpl.starts_with("^XA"));
        assert!(zpl.trim_end().ends_with("^XZ"));
        assert_eq!(zpl.matches("^XA").count(), 1);
        assert!(zpl.contains("^PW812"));
        assert!(
            zpl.contains("^BCN,") && zpl.contains("^FD>;>842063116>89202190412893600000018^FS")
        );
        assert!(zpl.contains("^FDUSPS GROUND ADVANTAGE RETURN^FS"));
    }

    #[test]
    fn zpl_receipt_segment_and_comments_follow_the_label() {
        let mut options = options(ImageFormat::Zpl { dpi: 300 });
        options.receipt = Receipt::ZplSegment;
        options.comments = true;
        let zpl = String::from_utf8(render_label(&content(), &options).unwrap().bytes).unwrap();
        assert_eq!(zpl.matches("^XA").count(), 2);
        assert!(zpl.contains("^FX Start of label. "));
        assert!(zpl.contains("^FX Start of receipt. "));
        assert!(zpl.contains("^PW1200"));
    }

    #[test]
    fn caret_and_tilde_are_removed_from_field_data() {
        assert_eq!(super::field("A^B~C"), "A B C");
    }
}
