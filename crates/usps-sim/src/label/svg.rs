//! SVG 1.1: one `<svg>` in points (`viewBox` in points, size in inches); several layouts
//! (never produced for SVG today) would stack vertically.

use std::fmt::Write as _;

use super::{Element, Layout};

fn escape_xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            _ if character.is_control() => escaped.push(' '),
            other => escaped.push(other),
        }
    }
    escaped
}

fn number(value: f32) -> String {
    let rounded = format!("{value:.2}");
    rounded
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_owned()
}

/// Renders `layouts` as one SVG document.
pub(crate) fn render(layouts: &[Layout]) -> Vec<u8> {
    let width = layouts
        .iter()
        .map(|layout| layout.width)
        .fold(0.0, f32::max);
    let height: f32 = layouts.iter().map(|layout| layout.height).sum();
    let mut svg = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{}in\" height=\"{}in\" viewBox=\"0 0 {} {}\">\n\
         <rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#fff\"/>\n<g fill=\"#000\" font-family=\"Helvetica, Arial, sans-serif\">\n",
        number(width / 72.0),
        number(height / 72.0),
        number(width),
        number(height),
        number(width),
        number(height),
    );
    let mut offset = 0.0;
    for layout in layouts {
        for element in &layout.elements {
            match element {
                Element::Fill {
                    x,
                    y,
                    width,
                    height,
                } => {
                    let _ = writeln!(
                        svg,
                        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                        number(*x),
                        number(y + offset),
                        number(*width),
                        number(*height)
                    );
                }
                Element::Text {
                    x,
                    y,
                    size,
                    bold,
                    text,
                    max_width,
                } => {
                    let size = &super::fitted_size(*size, text, *max_width, 0.6);
                    let weight = if *bold { " font-weight=\"bold\"" } else { "" };
                    let _ = writeln!(
                        svg,
                        "<text x=\"{}\" y=\"{}\" font-size=\"{}\"{weight}>{}</text>",
                        number(*x),
                        number(y + offset + size * 0.8),
                        number(*size),
                        escape_xml(text)
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
                        let _ = writeln!(
                            svg,
                            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                            number(x + start as f32 * module),
                            number(y + offset),
                            number((index - start) as f32 * module),
                            number(*height)
                        );
                    }
                }
            }
        }
        offset += layout.height;
    }
    svg.push_str("</g>\n</svg>\n");
    svg.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{content, options};
    use super::super::{ImageFormat, render_label};

    #[test]
    fn svg_label_escapes_text_and_sizes_in_inches() {
        let mut label = content();
        label.to_lines[0] = "R&D <RETURNS>".to_owned();
        let image = render_label(&label, &options(ImageFormat::Svg)).unwrap();
        let svg = String::from_utf8(image.bytes).unwrap();
        assert!(svg.contains("width=\"4in\" height=\"6in\""));
        assert!(svg.contains("R&amp;D &lt;RETURNS&gt;"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}
