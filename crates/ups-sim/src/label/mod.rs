//! Shipping labels: one 4×6 in layout in printer dots at 203 dpi (812 × 1218), text, filled
//! boxes and the Code 128 barcode of the 1Z number, drawn by one backend per
//! `LabelImageFormat.Code`:
//!
//! | code | output |
//! |---|---|
//! | `GIF` | a two-colour GIF89a of the rasterized label ([`raster`]) |
//! | `ZPL` | ZPL II `^XA … ^XZ`: `^FO`/`^A0`/`^FD` text, `^GB` boxes, `^BC` Code 128 (`sim_kit::label::zpl`) |
//!
//! `EPL` and `SPL` are not drawn (the Ship route refuses them as not simulated). Text is the
//! 5×7 bitmap font of `sim_kit::font` in the raster and ZPL's scalable font 0 in ZPL.

pub(crate) mod raster;

use sim_kit::code128;

pub(crate) use sim_kit::label::{Element, HEIGHT, WIDTH};

/// What a label shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LabelContent {
    /// The service banner, e.g. `UPS GROUND`.
    pub(crate) service: String,
    /// `PRINT RETURN LABEL` for a return, empty for a forward shipment.
    pub(crate) return_mark: String,
    /// The package's 1Z number.
    pub(crate) tracking_number: String,
    /// "1 OF 1".
    pub(crate) package_of: String,
    /// Weight as printed, e.g. `5 LBS`.
    pub(crate) weight: String,
    /// `YYYY-MM-DD`.
    pub(crate) date: String,
    /// Sender (for a return: the customer) address lines.
    pub(crate) from_lines: Vec<String>,
    /// Destination address lines.
    pub(crate) to_lines: Vec<String>,
    /// The package description, if any.
    pub(crate) description: Option<String>,
}

/// Why a label could not be drawn.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RenderError {
    #[error("the tracking number is not encodable in Code 128")]
    Barcode,
    #[error("GIF encoding failed: {0}")]
    Gif(#[from] gif::EncodingError),
}

/// The tracking number as UPS prints it: `1Z A1B 2C3 03 0000 0042`.
pub(crate) fn grouped(tracking_number: &str) -> String {
    let parts = [(0, 2), (2, 5), (5, 8), (8, 10), (10, 14), (14, 18)];
    parts
        .iter()
        .filter_map(|(start, end)| tracking_number.get(*start..*end))
        .collect::<Vec<_>>()
        .join(" ")
}

fn text(x: i64, y: i64, unit: i64, value: impl Into<String>) -> Element {
    let value: String = value.into();
    // Shrink to fit the label: a glyph advances 6 units.
    let room = (WIDTH - 16 - x).max(6);
    let fitting = (room / (value.chars().count().max(1) as i64 * 6)).max(1);
    Element::Text {
        x,
        y,
        unit: unit.min(fitting),
        text: value,
    }
}

fn fill(x: i64, y: i64, width: i64, height: i64) -> Element {
    Element::Fill {
        x,
        y,
        width,
        height,
    }
}

/// The 4×6 label design.
pub(crate) fn layout(content: &LabelContent) -> Result<Vec<Element>, RenderError> {
    let modules = code128::code_b(&content.tracking_number).ok_or(RenderError::Barcode)?;
    let mut elements = vec![
        fill(8, 8, WIDTH - 16, 4),
        fill(8, HEIGHT - 12, WIDTH - 16, 4),
        fill(8, 8, 4, HEIGHT - 16),
        fill(WIDTH - 12, 8, 4, HEIGHT - 16),
    ];
    let mut y = 24;
    for line in content.from_lines.iter().take(5) {
        elements.push(text(24, y, 3, line.clone()));
        y += 28;
    }
    elements.push(text(560, 24, 3, content.weight.clone()));
    elements.push(text(560, 52, 3, content.package_of.clone()));
    elements.push(text(24, 190, 4, "SHIP TO:"));
    let mut y = 230;
    for line in content.to_lines.iter().take(5) {
        elements.push(text(64, y, 5, line.clone()));
        y += 46;
    }
    elements.push(fill(8, 470, WIDTH - 16, 6));
    elements.push(text(24, 490, 7, content.service.clone()));
    elements.push(text(24, 550, 4, content.return_mark.clone()));
    elements.push(text(
        24,
        600,
        4,
        format!("TRACKING #: {}", grouped(&content.tracking_number)),
    ));
    elements.push(fill(8, 640, WIDTH - 16, 6));
    let module = 3;
    let barcode_width = module * modules.len() as i64;
    elements.push(Element::Barcode {
        x: (WIDTH - barcode_width) / 2,
        y: 680,
        module,
        height: 220,
        modules,
        data: content.tracking_number.clone(),
    });
    elements.push(fill(8, 940, WIDTH - 16, 6));
    elements.push(text(24, 960, 3, format!("SHIP DATE: {}", content.date)));
    if let Some(description) = &content.description {
        elements.push(text(24, 992, 3, format!("DESC: {description}")));
    }
    elements.push(text(24, 1150, 3, "SIMULATED LABEL - NOT FOR SHIPPING"));
    Ok(elements)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn the_zpl_label_carries_the_tracking_number_as_a_code_128_barcode() {
        let zpl = String::from_utf8(sim_kit::label::zpl(&layout(&content()).unwrap())).unwrap();
        assert_eq!(zpl.matches("^XA").count(), 1);
        assert!(
            zpl.contains("^BCN,220,N,N,N^FD1Z999AA10123456784^FS"),
            "{zpl}"
        );
        assert!(zpl.contains("^FDUPS GROUND^FS"), "{zpl}");
    }

    pub(crate) fn content() -> LabelContent {
        LabelContent {
            service: "UPS GROUND".to_owned(),
            return_mark: "PRINT RETURN LABEL".to_owned(),
            tracking_number: "1Z999AA10123456784".to_owned(),
            package_of: "1 OF 1".to_owned(),
            weight: "5 LBS".to_owned(),
            date: "2026-12-02".to_owned(),
            from_lines: vec!["JANE CUSTOMER".to_owned(), "1 MAIN ST".to_owned()],
            to_lines: vec!["BACKHAUL DEMO RETURNS CO.".to_owned()],
            description: Some("SHOES".to_owned()),
        }
    }

    #[test]
    fn tracking_number_prints_in_ups_groups() {
        assert_eq!(grouped("1Z999AA10123456784"), "1Z 999 AA1 01 2345 6784");
    }

    #[test]
    fn every_element_stays_on_the_label() {
        for element in layout(&content()).unwrap() {
            let (x, y, right) = match &element {
                Element::Fill { x, y, width, .. } => (*x, *y, x + width),
                Element::Text { x, y, unit, text } => {
                    (*x, *y, x + unit * 6 * text.chars().count() as i64)
                }
                Element::Barcode {
                    x,
                    y,
                    module,
                    modules,
                    ..
                } => (*x, *y, x + module * modules.len() as i64),
            };
            assert!(
                x >= 0 && y >= 0 && right <= WIDTH && y < HEIGHT,
                "{element:?}"
            );
        }
    }
}
