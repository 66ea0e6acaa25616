//! A small XML element tree read with quick-xml's event reader, for checking requests against
//! the guides' tag tables (in [`crate::webtools::schema`]) — no serde, no shared wire types.
//!
//! Well-formedness is quick-xml's (matching end tags, quoted and unique attributes, legal
//! references), plus: exactly one root element, no text outside it, no `DOCTYPE` (nothing to
//! expand). Comments, processing instructions and the XML declaration are skipped. Text is
//! kept as written (references resolved, CDATA included); `Element::value` collapses its
//! whitespace.

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// An element with its attributes, child elements and text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Element {
    pub(crate) name: String,
    /// `(name, value)` in document order; values normalized as XML says for attributes.
    pub(crate) attributes: Vec<(String, String)>,
    pub(crate) children: Vec<Element>,
    /// The element's own text (not its children's), as written.
    pub(crate) text: String,
}

impl Element {
    fn open(start: &BytesStart<'_>) -> Result<Self, NotWellFormed> {
        let mut attributes = Vec::new();
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|_| NotWellFormed)?;
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|_| NotWellFormed)?;
            attributes.push((attribute.key.as_ref().to_owned(), value.into_owned()));
        }
        Ok(Self {
            name: start.name().as_ref().to_owned(),
            attributes,
            children: Vec::new(),
            text: String::new(),
        })
    }

    /// The text with its whitespace collapsed (XSD `whiteSpace=collapse`): runs of spaces, tabs
    /// and line breaks become one space, and leading and trailing ones go.
    pub(crate) fn value(&self) -> String {
        self.text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The value of attribute `name`.
    pub(crate) fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// The input is not a well-formed XML document with one root element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a well-formed XML document")]
pub(crate) struct NotWellFormed;

/// Reads `xml` into its root element.
pub(crate) fn parse(xml: &str) -> Result<Element, NotWellFormed> {
    let mut reader = Reader::from_str(xml);
    let mut open: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader.read_event().map_err(|_| NotWellFormed)?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(NotWellFormed);
                }
                open.push(Element::open(&start)?);
            }
            Event::Empty(start) => {
                if root.is_some() {
                    return Err(NotWellFormed);
                }
                let element = Element::open(&start)?;
                close(element, &mut open, &mut root);
            }
            Event::End(_) => {
                // quick-xml has checked that the end tag matches the open one.
                let element = open.pop().ok_or(NotWellFormed)?;
                close(element, &mut open, &mut root);
            }
            Event::Text(text) => append(&mut open, &text.xml10_content())?,
            Event::CData(data) => append(&mut open, &data.xml10_content())?,
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().map_err(|_| NotWellFormed)? {
                    Some(character) => character.to_string(),
                    None => resolve_predefined_entity(&reference.xml10_content())
                        .ok_or(NotWellFormed)?
                        .to_owned(),
                };
                if open.is_empty() {
                    return Err(NotWellFormed);
                }
                append(&mut open, &resolved)?;
            }
            Event::DocType(_) => return Err(NotWellFormed),
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
            Event::Eof => break,
        }
    }
    if !open.is_empty() {
        return Err(NotWellFormed);
    }
    root.ok_or(NotWellFormed)
}

fn close(element: Element, open: &mut [Element], root: &mut Option<Element>) {
    match open.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

fn append(open: &mut [Element], text: &str) -> Result<(), NotWellFormed> {
    match open.last_mut() {
        Some(element) => {
            element.text.push_str(text);
            Ok(())
        }
        // Only whitespace may stand outside the root element.
        None if text.trim().is_empty() => Ok(()),
        None => Err(NotWellFormed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_attributes_text_and_references_are_read() {
        let root = parse(
            "<?xml version=\"1.0\"?>\n<Root USERID=\"a&amp;b\"><!-- note --><A>x &lt; y&#33;</A><B/><C><![CDATA[<raw>]]></C></Root>",
        )
        .unwrap();
        assert_eq!(root.name, "Root");
        assert_eq!(root.attribute("USERID"), Some("a&b"));
        let names: Vec<&str> = root
            .children
            .iter()
            .map(|child| child.name.as_str())
            .collect();
        assert_eq!(names, ["A", "B", "C"]);
        assert_eq!(root.children[0].value(), "x < y!");
        assert_eq!(root.children[1].value(), "");
        assert_eq!(root.children[2].value(), "<raw>");
    }

    #[test]
    fn whitespace_in_values_collapses() {
        let root = parse("<R><A>  FIRST\n CLASS </A></R>").unwrap();
        assert_eq!(root.children[0].value(), "FIRST CLASS");
    }

    #[test]
    fn malformed_documents_are_refused() {
        for xml in [
            "",
            "<A>",
            "<A></B>",
            "<A/><B/>",
            "text<A/>",
            "<A x=\"1\" x=\"2\"/>",
            "<A>&unknown;</A>",
            "<!DOCTYPE A [<!ENTITY e \"x\">]><A>&e;</A>",
            "<A><B></A></B>",
        ] {
            assert_eq!(parse(xml), Err(NotWellFormed), "{xml:?}");
        }
    }
}
