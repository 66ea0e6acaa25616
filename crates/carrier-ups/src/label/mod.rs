//! The label document we hand back, made from the image UPS returned.
//!
//! For a Print Return Label, Shipping.yaml's image format is GIF ("for image formats use GIF";
//! PNG is listed as a reply code but "Only EPL, SPL, ZPL and GIF are currently supported"), so
//! PNG and PDF labels are asked for as GIF and converted here; a PNG that UPS returns is taken
//! as it is. GIF and ZPL labels pass through untouched. The PDF is one 4 × 6 in page holding the image
//! ([`pdf`]).
//!
//! Decoding is bounded (64 MiB per image) and every failure is an error, never a panic: the
//! image comes from the network.

mod pdf;

use std::io::Cursor;

use bytes::Bytes;
use carrier::{Document, LabelFormat};

use crate::ship::reply::{ImageKind, LabelImage};

/// The most bytes a decoded label image may take.
const MAX_DECODED_BYTES: usize = 64 * 1024 * 1024;

/// Decoded pixels, 8 bits per channel: one channel (gray) or three (RGB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Raster {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) gray: bool,
    pub(crate) pixels: Vec<u8>,
}

impl Raster {
    /// From RGBA, composited onto white; gray when every pixel is.
    fn from_rgba(width: u32, height: u32, rgba: &[u8]) -> Self {
        let over_white = |channel: u8, alpha: u8| -> u8 {
            let value = u16::from(channel) * u16::from(alpha) + 255 * (255 - u16::from(alpha));
            // At most 255 * 255 / 255.
            u8::try_from(value / 255).unwrap_or(u8::MAX)
        };
        let rgb: Vec<[u8; 3]> = rgba
            .chunks_exact(4)
            .map(|p| {
                [
                    over_white(p[0], p[3]),
                    over_white(p[1], p[3]),
                    over_white(p[2], p[3]),
                ]
            })
            .collect();
        let gray = rgb.iter().all(|p| p[0] == p[1] && p[1] == p[2]);
        let pixels = if gray {
            rgb.iter().map(|p| p[0]).collect()
        } else {
            rgb.iter().flatten().copied().collect()
        };
        Self {
            width,
            height,
            gray,
            pixels,
        }
    }
}

/// Decodes the first frame of a GIF onto its logical screen.
pub(crate) fn decode_gif(bytes: &[u8]) -> Result<Raster, String> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let limit = u64::try_from(MAX_DECODED_BYTES).unwrap_or(u64::MAX);
    if let Some(limit) = std::num::NonZeroU64::new(limit) {
        options.set_memory_limit(gif::MemoryLimit::Bytes(limit));
    }
    let mut decoder = options
        .read_info(Cursor::new(bytes))
        .map_err(|error| format!("the GIF label does not decode: {error}"))?;
    let (width, height) = (usize::from(decoder.width()), usize::from(decoder.height()));
    let size = width
        .checked_mul(height)
        .and_then(|pixels| pixels.checked_mul(4))
        .filter(|size| *size > 0 && *size <= MAX_DECODED_BYTES)
        .ok_or_else(|| format!("the GIF label is {width} × {height} pixels"))?;
    let mut canvas = vec![255_u8; size];
    let frame = decoder
        .read_next_frame()
        .map_err(|error| format!("the GIF label does not decode: {error}"))?
        .ok_or("the GIF label has no image")?;
    let (left, top) = (usize::from(frame.left), usize::from(frame.top));
    let frame_width = usize::from(frame.width);
    for (row, line) in frame
        .buffer
        .chunks_exact(frame_width.max(1) * 4)
        .enumerate()
    {
        let y = top + row;
        if y >= height {
            break;
        }
        for (column, pixel) in line.chunks_exact(4).enumerate() {
            let x = left + column;
            if x >= width {
                break;
            }
            let at = (y * width + x) * 4;
            if let Some(target) = canvas.get_mut(at..at + 4) {
                target.copy_from_slice(pixel);
            }
        }
    }
    let to_u32 = |value: usize| u32::try_from(value).unwrap_or(u32::MAX);
    Ok(Raster::from_rgba(to_u32(width), to_u32(height), &canvas))
}

/// Decodes a PNG to 8-bit pixels.
pub(crate) fn decode_png(bytes: &[u8]) -> Result<Raster, String> {
    let fail = |error: png::DecodingError| format!("the PNG label does not decode: {error}");
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: MAX_DECODED_BYTES,
        },
    );
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(fail)?;
    let size = reader
        .output_buffer_size()
        .filter(|size| *size <= MAX_DECODED_BYTES)
        .ok_or("the PNG label is too large")?;
    let mut buffer = vec![0_u8; size];
    let info = reader.next_frame(&mut buffer).map_err(fail)?;
    let data = buffer
        .get(..info.buffer_size())
        .ok_or("the PNG label is cut short")?;
    let rgba: Vec<u8> = match info.color_type {
        png::ColorType::Grayscale => data.iter().flat_map(|&g| [g, g, g, 255]).collect(),
        png::ColorType::GrayscaleAlpha => data
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        png::ColorType::Rgb => data
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        png::ColorType::Rgba => data.to_vec(),
        png::ColorType::Indexed => return Err("the PNG label kept its palette".to_owned()),
    };
    Ok(Raster::from_rgba(info.width, info.height, &rgba))
}

/// Encodes pixels as a PNG.
pub(crate) fn encode_png(raster: &Raster) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, raster.width, raster.height);
    encoder.set_color(if raster.gray {
        png::ColorType::Grayscale
    } else {
        png::ColorType::Rgb
    });
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|error| format!("the PNG label could not be written: {error}"))?;
    writer
        .write_image_data(&raster.pixels)
        .map_err(|error| format!("the PNG label could not be written: {error}"))?;
    writer
        .finish()
        .map_err(|error| format!("the PNG label could not be written: {error}"))?;
    Ok(out)
}

fn decode(image: &LabelImage) -> Result<Raster, String> {
    match image.kind {
        ImageKind::Gif => decode_gif(&image.bytes),
        ImageKind::Png => decode_png(&image.bytes),
        ImageKind::Zpl => Err("UPS returned a ZPL label where an image was asked for".to_owned()),
    }
}

/// The label in the requested `format`, from what UPS returned.
pub(crate) fn document(format: LabelFormat, image: LabelImage) -> Result<Document, String> {
    let bytes = match (format, image.kind) {
        (LabelFormat::Zpl, ImageKind::Zpl)
        | (LabelFormat::Png, ImageKind::Png)
        | (LabelFormat::Gif, ImageKind::Gif) => image.bytes,
        (LabelFormat::Png, ImageKind::Gif) => encode_png(&decode(&image)?)?,
        (LabelFormat::Pdf, ImageKind::Gif | ImageKind::Png) => pdf::one_page(&decode(&image)?)?,
        (format, kind) => {
            return Err(format!(
                "UPS returned a {kind:?} label where {} was asked for",
                format.as_str()
            ));
        }
    };
    Ok(Document {
        format,
        bytes: Bytes::from(bytes),
    })
}

#[cfg(test)]
#[path = "tests.rs"]
pub(crate) mod tests;
