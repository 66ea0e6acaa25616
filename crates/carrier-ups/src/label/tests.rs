//! The label documents: GIF to PNG and to a PDF that a PDF reader opens, with the image in it.

use std::io::Read;

use super::*;

/// A two-colour GIF, `width` × `height`, black left half and white right half; a label stand-in.
pub(crate) fn sample_gif(width: u16, height: u16) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let palette = [0, 0, 0, 255, 255, 255];
        let mut encoder = gif::Encoder::new(&mut out, width, height, &palette).unwrap();
        let pixels: Vec<u8> = (0..usize::from(height))
            .flat_map(|_| (0..width).map(move |x| u8::from(x >= width / 2)))
            .collect();
        let frame = gif::Frame::from_indexed_pixels(width, height, pixels, None);
        encoder.write_frame(&frame).unwrap();
    }
    out
}

fn gif(bytes: Vec<u8>) -> LabelImage {
    LabelImage {
        kind: ImageKind::Gif,
        bytes,
    }
}

#[test]
fn a_gif_decodes_to_its_pixels() {
    let raster = decode_gif(&sample_gif(8, 2)).unwrap();
    assert_eq!((raster.width, raster.height), (8, 2));
    assert!(raster.gray);
    assert_eq!(raster.pixels, [0, 0, 0, 0, 255, 255, 255, 255].repeat(2));
}

#[test]
fn a_png_label_is_made_from_the_gif_and_keeps_every_pixel() {
    let document = document(LabelFormat::Png, gif(sample_gif(40, 24))).unwrap();
    assert_eq!(document.format, LabelFormat::Png);
    assert!(LabelFormat::Png.matches(&document.bytes));
    assert_eq!(
        decode_png(&document.bytes).unwrap(),
        decode_gif(&sample_gif(40, 24)).unwrap()
    );
}

#[test]
fn a_gif_label_is_handed_back_as_ups_sent_it() {
    let bytes = sample_gif(4, 4);
    let document = document(LabelFormat::Gif, gif(bytes.clone())).unwrap();
    assert_eq!(document.bytes.as_ref(), bytes.as_slice());
}

#[test]
fn the_pdf_label_opens_as_one_4_by_6_page_holding_the_image() {
    let source = sample_gif(140, 80);
    let document = document(LabelFormat::Pdf, gif(source.clone())).unwrap();
    assert!(LabelFormat::Pdf.matches(&document.bytes));
    let pdf = lopdf::Document::load_mem(&document.bytes).expect("the PDF parses");
    let pages = pdf.get_pages();
    assert_eq!(pages.len(), 1, "one page");
    let page = *pages.values().next().unwrap();
    let media_box = pdf
        .get_dictionary(page)
        .unwrap()
        .get(b"MediaBox")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_float().unwrap())
        .collect::<Vec<_>>();
    assert_eq!(media_box, [0.0, 0.0, 288.0, 432.0], "4 × 6 in");
    let images = pdf.get_page_images(page).unwrap();
    assert_eq!(images.len(), 1);
    let image = &images[0];
    assert_eq!((image.width, image.height), (140, 80));
    assert_eq!(image.color_space.as_deref(), Some("DeviceGray"));
    let mut pixels = Vec::new();
    flate2::read::ZlibDecoder::new(image.content)
        .read_to_end(&mut pixels)
        .unwrap();
    assert_eq!(pixels, decode_gif(&source).unwrap().pixels);
}

#[test]
fn a_colour_png_from_ups_becomes_an_rgb_pdf() {
    let raster = Raster {
        width: 3,
        height: 2,
        gray: false,
        pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255].repeat(2),
    };
    let png = encode_png(&raster).unwrap();
    let image = LabelImage {
        kind: ImageKind::Png,
        bytes: png.clone(),
    };
    assert_eq!(
        document(LabelFormat::Png, image.clone())
            .unwrap()
            .bytes
            .as_ref(),
        png.as_slice()
    );
    let pdf = document(LabelFormat::Pdf, image).unwrap();
    let pdf = lopdf::Document::load_mem(&pdf.bytes).unwrap();
    let page = *pdf.get_pages().values().next().unwrap();
    let images = pdf.get_page_images(page).unwrap();
    assert_eq!(images[0].color_space.as_deref(), Some("DeviceRGB"));
}

#[test]
fn zpl_passes_through_and_a_mismatched_image_is_an_error() {
    let zpl = LabelImage {
        kind: ImageKind::Zpl,
        bytes: b"^XA^FO50,50^FDx^FS^XZ".to_vec(),
    };
    let document_zpl = document(LabelFormat::Zpl, zpl.clone()).unwrap();
    assert_eq!(document_zpl.bytes.as_ref(), b"^XA^FO50,50^FDx^FS^XZ");
    assert!(document(LabelFormat::Pdf, zpl).is_err());
    assert!(document(LabelFormat::Zpl, gif(sample_gif(2, 2))).is_err());
}

#[test]
fn broken_images_are_errors_not_panics() {
    let mut cut = sample_gif(50, 50);
    cut.truncate(cut.len() / 2);
    for bytes in [
        b"GIF89a".to_vec(),
        b"GIF89a\xff\xff\xff\xff\x00\x00\x00".to_vec(),
        cut,
        Vec::new(),
    ] {
        assert!(document(LabelFormat::Pdf, gif(bytes.clone())).is_err());
        assert!(document(LabelFormat::Png, gif(bytes)).is_err());
    }
    let png = LabelImage {
        kind: ImageKind::Png,
        bytes: b"\x89PNG\r\n\x1a\nnot really".to_vec(),
    };
    assert!(document(LabelFormat::Pdf, png).is_err());
}
