//! Label images: one device-independent layout (text, filled boxes and the IMpb barcode, in
//! points on a 4×6 in page, origin top-left) drawn by one backend per image type:
//!
//! | `imageType` | output | content type |
//! |---|---|---|
//! | `PDF` | hand-written PDF 1.4, Helvetica text, barcode as filled rectangles ([`pdf`]) | `application/pdf` |
//! | `PNG` | 1-bit grayscale PNG at 203 dpi, text in a built-in 5×7 bitmap font ([`raster`]) | `image/png` |
//! | `TIFF` | baseline bilevel uncompressed little-endian TIFF at 203 dpi ([`raster`]) | `image/tiff` |
//! | `SVG` | SVG 1.1 ([`svg`]) | `image/svg+xml` |
//! | `ZPL203DPI`, `ZPL300DPI` | ZPL II `^XA … ^XZ` with `^BC` GS1-128 barcode and `^FD` fields ([`zpl`]) | `application/octet-stream` |
//! | `LABEL_BROKER` | the QR code of the `labelBrokerID`, a 1-bit PNG ([`qr`]); with `includeLabelBrokerPDF` also the label as PDF | `image/png` |
//!
//! `JPG` and `GIF` are not produced by the simulator (the Labels API layer answers 400).
//! Label types: `4X6LABEL` is the design size; `4X5LABEL` and `2X7LABEL` scale the same design
//! uniformly to fit. A same-page receipt is stacked under the label; a separate receipt is its
//! own image (for ZPL, a second `^XA … ^XZ` segment in the label payload, as the spec says).

mod barcode;
pub mod pdf;
pub mod qr;
pub mod raster;
pub mod svg;
pub mod zpl;

/// What a label shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LabelContent {
    /// The banner, e.g. `USPS GROUND ADVANTAGE RETURN`.
    pub(crate) title: String,
    /// The service letter in the corner box.
    pub(crate) service_mark: String,
    /// The 22-digit tracking number.
    pub(crate) tracking_number: String,
    /// The destination ZIP5 of the routing code.
    pub(crate) routing_zip: String,
    /// The sender's (customer's) address lines.
    pub(crate) from_lines: Vec<String>,
    /// The return destination's address lines.
    pub(crate) to_lines: Vec<String>,
    /// `YYYY-MM-DD`.
    pub(crate) mailing_date: String,
    /// Two-digit zone.
    pub(crate) zone: String,
    /// Weight as printed, e.g. `1 LB 8 OZ`.
    pub(crate) weight: String,
    /// Postage as printed on the receipt, e.g. `$8.44`.
    pub(crate) postage: String,
    /// Customer references to print.
    pub(crate) references: Vec<String>,
}

/// An image format the simulator renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ImageFormat {
    Pdf,
    Png,
    Tiff,
    Svg,
    Zpl { dpi: u32 },
}

impl ImageFormat {
    /// The format for a v3 `imageType`, when the simulator renders it.
    pub(crate) fn from_image_type(image_type: &str) -> Option<Self> {
        Some(match image_type {
            "PDF" => Self::Pdf,
            "PNG" => Self::Png,
            "TIFF" => Self::Tiff,
            "SVG" => Self::Svg,
            "ZPL203DPI" => Self::Zpl { dpi: 203 },
            "ZPL300DPI" => Self::Zpl { dpi: 300 },
            _ => return None,
        })
    }

    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Png => "image/png",
            Self::Tiff => "image/tiff",
            Self::Svg => "image/svg+xml",
            Self::Zpl { .. } => "application/octet-stream",
        }
    }

    pub(crate) fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Png => "png",
            Self::Tiff => "tif",
            Self::Svg => "svg",
            Self::Zpl { .. } => "zpl",
        }
    }
}

/// A page size in points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct PageSize {
    pub(crate) width: f32,
    pub(crate) height: f32,
}

impl PageSize {
    /// The page of a v3 `labelType` (4X6LABEL when unknown).
    pub(crate) fn of_label_type(label_type: &str) -> Self {
        let (width, height) = match label_type {
            "4X5LABEL" => (4.0, 5.0),
            "2X7LABEL" => (2.0, 7.0),
            "4X4LABEL" => (4.0, 4.0),
            "6X4LABEL" => (6.0, 4.0),
            _ => (4.0, 6.0),
        };
        Self {
            width: width * 72.0,
            height: height * 72.0,
        }
    }
}

/// A rendered image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Image {
    pub(crate) bytes: Vec<u8>,
    pub(crate) content_type: &'static str,
    pub(crate) file_name: String,
}

/// Why an image could not be rendered.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RenderError {
    #[error("the tracking number or routing ZIP Code is not encodable in GS1-128")]
    Barcode,
    #[error("PNG encoding failed: {0}")]
    Png(#[from] png::EncodingError),
    #[error("the Label Broker ID does not fit in a QR code")]
    QrCode,
}

/// A drawing operation, in points, origin top-left.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Element {
    /// Text whose top edge is at `y`, to be shrunk when wider than `max_width`.
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        text: String,
        max_width: f32,
    },
    /// A filled black rectangle.
    Fill {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
    },
    /// The IMpb barcode.
    Barcode {
        x: f32,
        y: f32,
        module: f32,
        height: f32,
        modules: Vec<bool>,
        zip: String,
        tracking_number: String,
    },
}

/// A page of drawing operations.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Layout {
    pub(crate) width: f32,
    pub(crate) height: f32,
    pub(crate) elements: Vec<Element>,
    /// Section comments for ZPL (`^FX`), when requested.
    pub(crate) comment: String,
}

/// Right edge of the text area on the 288 pt wide designs.
const TEXT_RIGHT: f32 = 280.0;

fn text(x: f32, y: f32, size: f32, bold: bool, value: impl Into<String>) -> Element {
    Element::Text {
        x,
        y,
        size,
        bold,
        text: value.into(),
        max_width: TEXT_RIGHT - x,
    }
}

/// The font size at which `text` fits in `max_width`, given the font's average advance as a
/// fraction of the size (Helvetica about 0.6, the bitmap font 0.75).
pub(crate) fn fitted_size(size: f32, text: &str, max_width: f32, advance: f32) -> f32 {
    let characters = text.chars().count().max(1) as f32;
    size.min(max_width / (characters * advance))
}

fn fill(x: f32, y: f32, width: f32, height: f32) -> Element {
    Element::Fill {
        x,
        y,
        width,
        height,
    }
}

fn frame(elements: &mut Vec<Element>, x: f32, y: f32, width: f32, height: f32, thickness: f32) {
    elements.push(fill(x, y, width, thickness));
    elements.push(fill(x, y + height - thickness, width, thickness));
    elements.push(fill(x, y, thickness, height));
    elements.push(fill(x + width - thickness, y, thickness, height));
}

/// The tracking number in groups of four, as printed under the barcode.
pub(crate) fn grouped(tracking_number: &str) -> String {
    tracking_number
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The 4×6 label design.
fn label_layout(content: &LabelContent) -> Result<Layout, RenderError> {
    let modules = barcode::impb_modules(&content.routing_zip, &content.tracking_number)
        .ok_or(RenderError::Barcode)?;
    let (width, height) = (288.0, 432.0);
    let mut elements = Vec::new();
    frame(&mut elements, 4.0, 4.0, 280.0, 424.0, 1.0);
    frame(&mut elements, 10.0, 10.0, 62.0, 62.0, 3.0);
    elements.push(text(25.0, 17.0, 48.0, true, content.service_mark.clone()));
    elements.push(text(82.0, 12.0, 8.0, true, "US POSTAGE AND FEES PAID"));
    elements.push(text(
        82.0,
        24.0,
        8.0,
        false,
        "USPS SHIP RETURNS - SIMULATOR",
    ));
    elements.push(text(82.0, 36.0, 8.0, false, content.mailing_date.clone()));
    elements.push(text(
        82.0,
        48.0,
        8.0,
        false,
        format!("ZONE {}  {}", content.zone, content.weight),
    ));
    elements.push(text(
        82.0,
        60.0,
        7.0,
        true,
        "SIMULATED LABEL - NOT FOR MAILING",
    ));
    elements.push(fill(4.0, 78.0, 280.0, 2.0));
    elements.push(text(12.0, 85.0, 12.0, true, content.title.clone()));
    elements.push(fill(4.0, 102.0, 280.0, 2.0));
    let mut y = 110.0;
    for line in &content.from_lines {
        elements.push(text(12.0, y, 8.0, false, line.clone()));
        y += 10.0;
    }
    elements.push(text(12.0, 172.0, 8.0, true, "SHIP TO:"));
    let mut y = 184.0;
    for line in &content.to_lines {
        elements.push(text(40.0, y, 11.0, true, line.clone()));
        y += 14.0;
    }
    elements.push(fill(4.0, 262.0, 280.0, 3.0));
    elements.push(text(66.0, 270.0, 10.0, true, "USPS TRACKING # USPS Ship"));
    let module = 1.0;
    let barcode_width = modules.len() as f32 * module;
    elements.push(Element::Barcode {
        x: (width - barcode_width) / 2.0,
        y: 286.0,
        module,
        height: 68.0,
        modules,
        zip: content.routing_zip.clone(),
        tracking_number: content.tracking_number.clone(),
    });
    elements.push(text(
        62.0,
        360.0,
        10.0,
        true,
        grouped(&content.tracking_number),
    ));
    elements.push(text(
        12.0,
        364.0,
        7.0,
        false,
        format!("420 {}", content.routing_zip),
    ));
    elements.push(fill(4.0, 378.0, 280.0, 3.0));
    let mut y = 386.0;
    for reference in content.references.iter().take(2) {
        elements.push(text(12.0, y, 8.0, false, format!("REF: {reference}")));
        y += 10.0;
    }
    elements.push(text(
        12.0,
        414.0,
        6.0,
        false,
        "Issued by the Backhaul USPS simulator for testing only",
    ));
    Ok(Layout {
        width,
        height,
        elements,
        comment: "Start of label".to_owned(),
    })
}

/// The receipt design (4×3 in).
fn receipt_layout(content: &LabelContent) -> Layout {
    let mut elements = Vec::new();
    frame(&mut elements, 4.0, 4.0, 280.0, 208.0, 1.0);
    elements.push(text(12.0, 12.0, 12.0, true, "USPS RETURN LABEL RECEIPT"));
    elements.push(text(
        12.0,
        32.0,
        9.0,
        false,
        format!("TRACKING #: {}", grouped(&content.tracking_number)),
    ));
    elements.push(text(12.0, 46.0, 9.0, false, content.title.clone()));
    elements.push(text(
        12.0,
        60.0,
        9.0,
        false,
        format!("MAILING DATE: {}", content.mailing_date),
    ));
    elements.push(text(
        12.0,
        74.0,
        9.0,
        false,
        format!(
            "POSTAGE: {}  ZONE {}  {}",
            content.postage, content.zone, content.weight
        ),
    ));
    elements.push(text(12.0, 92.0, 8.0, true, "FROM:"));
    let mut y = 104.0;
    for line in content.from_lines.iter().take(4) {
        elements.push(text(12.0, y, 8.0, false, line.clone()));
        y += 10.0;
    }
    elements.push(text(150.0, 92.0, 8.0, true, "TO:"));
    let mut y = 104.0;
    for line in content.to_lines.iter().take(4) {
        elements.push(text(150.0, y, 8.0, false, line.clone()));
        y += 10.0;
    }
    elements.push(text(
        12.0,
        196.0,
        6.0,
        false,
        "Simulated receipt - no postage was charged",
    ));
    Layout {
        width: 288.0,
        height: 216.0,
        elements,
        comment: "Start of receipt".to_owned(),
    }
}

fn scale_element(element: &Element, scale: f32, shift_x: f32, shift_y: f32) -> Element {
    match element {
        Element::Text {
            x,
            y,
            size,
            bold,
            text,
            max_width,
        } => Element::Text {
            x: x * scale + shift_x,
            y: y * scale + shift_y,
            size: size * scale,
            bold: *bold,
            text: text.clone(),
            max_width: max_width * scale,
        },
        Element::Fill {
            x,
            y,
            width,
            height,
        } => Element::Fill {
            x: x * scale + shift_x,
            y: y * scale + shift_y,
            width: width * scale,
            height: height * scale,
        },
        Element::Barcode {
            x,
            y,
            module,
            height,
            modules,
            zip,
            tracking_number,
        } => Element::Barcode {
            x: x * scale + shift_x,
            y: y * scale + shift_y,
            module: module * scale,
            height: height * scale,
            modules: modules.clone(),
            zip: zip.clone(),
            tracking_number: tracking_number.clone(),
        },
    }
}

impl Layout {
    /// Scales the design uniformly into `size`, centred.
    fn fit(self, size: PageSize) -> Self {
        let scale = (size.width / self.width).min(size.height / self.height);
        if (scale - 1.0).abs() < f32::EPSILON && size.width == self.width {
            return Self {
                height: size.height.max(self.height),
                ..self
            };
        }
        let shift_x = (size.width - self.width * scale) / 2.0;
        let shift_y = (size.height - self.height * scale) / 2.0;
        Self {
            width: size.width,
            height: size.height,
            elements: self
                .elements
                .iter()
                .map(|element| scale_element(element, scale, shift_x, shift_y))
                .collect(),
            comment: self.comment,
        }
    }

    /// `self` with `below` stacked under it on one taller page.
    fn stack(mut self, below: Layout) -> Self {
        let offset = self.height;
        self.elements.extend(
            below
                .elements
                .iter()
                .map(|element| scale_element(element, 1.0, 0.0, offset)),
        );
        self.height += below.height;
        self
    }
}

/// Where the receipt goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Receipt {
    /// No receipt.
    None,
    /// Under the label on the same page.
    SamePage,
    /// A separate ZPL segment in the label payload.
    ZplSegment,
}

/// Options that change how a label is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RenderOptions {
    pub(crate) format: ImageFormat,
    pub(crate) size: PageSize,
    pub(crate) receipt: Receipt,
    /// ZPL `^FX` section comments (`addImageComments`).
    pub(crate) comments: bool,
}

fn draw(layouts: &[Layout], options: &RenderOptions, name: &str) -> Result<Image, RenderError> {
    let bytes = match options.format {
        ImageFormat::Pdf => pdf::render(layouts),
        ImageFormat::Svg => svg::render(layouts),
        ImageFormat::Png => raster::render_png(layouts)?,
        ImageFormat::Tiff => raster::render_tiff(layouts),
        ImageFormat::Zpl { dpi } => zpl::render(layouts, dpi, options.comments),
    };
    Ok(Image {
        bytes,
        content_type: options.format.content_type(),
        file_name: format!("{name}.{}", options.format.extension()),
    })
}

/// Renders the label image.
pub(crate) fn render_label(
    content: &LabelContent,
    options: &RenderOptions,
) -> Result<Image, RenderError> {
    let label = label_layout(content)?.fit(options.size);
    let layouts = match options.receipt {
        Receipt::None => vec![label],
        Receipt::SamePage => vec![label.stack(receipt_layout(content).fit(PageSize {
            width: options.size.width,
            height: options.size.width * 0.75,
        }))],
        Receipt::ZplSegment => vec![label, receipt_layout(content)],
    };
    draw(&layouts, options, "label")
}

/// Renders a separate receipt image.
pub(crate) fn render_receipt(
    content: &LabelContent,
    options: &RenderOptions,
) -> Result<Image, RenderError> {
    draw(&[receipt_layout(content)], options, "receipt")
}

#[cfg(test)]
pub mod tests {
    use super::*;

    pub(crate) fn content() -> LabelContent {
        LabelContent {
            title: "USPS GROUND ADVANTAGE RETURN".to_owned(),
            service_mark: "G".to_owned(),
            tracking_number: "9202190412893600000018".to_owned(),
            routing_zip: "63116".to_owned(),
            from_lines: vec![
                "JOHN DOE".to_owned(),
                "1400 L ST NW".to_owned(),
                "WASHINGTON DC 20005".to_owned(),
            ],
            to_lines: vec![
                "BACKHAUL DEMO RETURNS CO.".to_owned(),
                "4120 BINGHAM AVE".to_owned(),
                "ST. LOUIS MO 63116".to_owned(),
            ],
            mailing_date: "2026-01-01".to_owned(),
            zone: "07".to_owned(),
            weight: "1 LB".to_owned(),
            postage: "$8.44".to_owned(),
            references: vec!["RMA (42)".to_owned()],
        }
    }

    pub(crate) fn options(format: ImageFormat) -> RenderOptions {
        RenderOptions {
            format,
            size: PageSize::of_label_type("4X6LABEL"),
            receipt: Receipt::None,
            comments: false,
        }
    }

    #[test]
    fn tracking_number_prints_in_groups_of_four() {
        assert_eq!(
            grouped("9202190412893600000018"),
            "9202 1904 1289 3600 0000 18"
        );
    }

    #[test]
    fn smaller_label_types_scale_the_design_inside_the_page() {
        let layout = label_layout(&content())
            .unwrap()
            .fit(PageSize::of_label_type("4X5LABEL"));
        assert_eq!(layout.height, 360.0);
        for element in &layout.elements {
            if let Element::Fill {
                x,
                y,
                width,
                height,
            } = element
            {
                assert!(*x >= 0.0 && x + width <= 288.01 && *y >= 0.0 && y + height <= 360.01);
            }
        }
    }

    #[test]
    fn same_page_receipt_makes_the_page_taller() {
        let mut options = options(ImageFormat::Svg);
        options.receipt = Receipt::SamePage;
        let image = render_label(&content(), &options).unwrap();
        let svg = String::from_utf8(image.bytes).unwrap();
        assert!(svg.contains("USPS RETURN LABEL RECEIPT"));
        assert!(
            svg.contains(">420 63116</text>"),
            "the routing code is printed"
        );
        assert!(svg.contains("viewBox=\"0 0 288 648\""));
    }
}
