//! The USPS Web Tools `USPSReturnsLabel` XML API: the USPS Returns Label API User Guide v1.2
//! (12/18/2020, `seeds/usps-returns-label-api-v1.2.txt`) with the v1.5 additions (10/22/2021,
//! `usps-webtools/uspsreturnslabel-api-v1.5.txt`), called the way the Web Tools Developer Guide
//! v4.5 (`usps-webtools/web-tools-developer-guide.txt`) describes: `API` and `XML` form fields,
//! sent here as an `application/x-www-form-urlencoded` POST body (never a query string, since
//! the `USERID` and `PASSWORD` attributes of the document are secrets), with every failure
//! answered as an `<Error>` document under HTTP 200.
//!
//! [`label`] maps a carrier-neutral request onto a `USPSReturnsLabelRequest` and checks it against
//! the guides' tag tables, [`request`] writes that document, [`reply`] reads a
//! `USPSReturnsLabelResponse` and [`error`] reads `<Error>` documents. Wire types are private and
//! named after the USPS elements; only domain types leave this module.

pub(crate) mod error;
pub(crate) mod label;
pub(crate) mod reply;
pub(crate) mod request;

/// The `API` form field for live labels.
pub(crate) const API: &str = "USPSReturnsLabel";
/// The `API` form field for test labels: "for testing purposes and will not generate usable
/// labels and barcodes".
pub(crate) const CERTIFY_API: &str = "USPSReturnsLabelCertify";

/// Documents nested deeper than this are refused (a reply is three levels deep).
const MAX_DEPTH: usize = 16;

/// One element of a reply document: its name, its text (character data and resolved
/// references, concatenated) and its child elements, in order.
#[derive(Debug, Default)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.name == name)
    }

    /// Every child named `name`.
    pub(crate) fn children_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |child| child.name == name)
    }

    /// The text of the first child named `name`, with runs of white space collapsed into one
    /// space and trimmed (XML Schema `whiteSpace=collapse`); `None` when the child is missing
    /// or empty.
    pub(crate) fn collapsed(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|child| collapse(&child.text))
            .filter(|text| !text.is_empty())
    }

    /// Every element of the tree named `name`, depth first (the element itself included).
    pub(crate) fn descendants_named<'a>(&'a self, name: &str, found: &mut Vec<&'a Element>) {
        if self.name == name {
            found.push(self);
        }
        for child in &self.children {
            child.descendants_named(name, found);
        }
    }
}

/// XML Schema `whiteSpace=collapse`: runs of white space become one space; ends are trimmed.
/// Web Tools values never carry meaningful line breaks (the guide's samples wrap long values).
pub(crate) fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads a whole reply document into an [`Element`] tree. The text is decoded as UTF-8, or as
/// ISO-8859-1 (the Web Tools character set) when it is not UTF-8. Messages describe what is wrong
/// and where, never a value from the document.
pub(crate) fn parse_document(body: &[u8]) -> Result<Element, String> {
    use quick_xml::events::Event;

    let text: std::borrow::Cow<'_, str> = match std::str::from_utf8(body) {
        Ok(text) => text.into(),
        Err(_) => body
            .iter()
            .map(|&byte| char::from(byte))
            .collect::<String>()
            .into(),
    };
    let mut reader = quick_xml::Reader::from_str(&text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|error| format!("invalid XML at byte {position}: {error}"))?;
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(format!("content after the root element at byte {position}"));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("elements nested deeper than {MAX_DEPTH}"));
                }
                stack.push(Element {
                    name: start.name().as_ref().to_owned(),
                    ..Element::default()
                });
            }
            Event::Empty(start) => {
                let element = Element {
                    name: start.name().as_ref().to_owned(),
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| format!("unexpected end tag at byte {position}"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(text) => {
                let content = text.xml10_content();
                match stack.last_mut() {
                    Some(element) => element.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => {
                        return Err(format!("text outside the root element at byte {position}"));
                    }
                }
            }
            Event::CData(data) => {
                let content = data.xml10_content();
                match stack.last_mut() {
                    Some(element) => element.text.push_str(&content),
                    None => {
                        return Err(format!("CDATA outside the root element at byte {position}"));
                    }
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(character)) => character.to_string(),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&reference)
                        .ok_or_else(|| format!("unknown entity reference at byte {position}"))?
                        .to_owned(),
                    Err(_) => {
                        return Err(format!("invalid character reference at byte {position}"));
                    }
                };
                match stack.last_mut() {
                    Some(element) => element.text.push_str(&resolved),
                    None => {
                        return Err(format!(
                            "a reference outside the root element at byte {position}"
                        ));
                    }
                }
            }
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".to_owned());
    }
    root.ok_or_else(|| "no root element".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_cdata_become_text() {
        let root =
            parse_document(b"<A><B>Smith &amp; Sons &#233;<![CDATA[ <x> ]]></B></A>").unwrap();
        assert_eq!(root.child("B").unwrap().text, "Smith & Sons \u{e9} <x> ");
    }

    #[test]
    fn iso_8859_1_bodies_are_read() {
        let root = parse_document(b"<A><B>Jos\xe9</B></A>").unwrap();
        assert_eq!(root.collapsed("B").as_deref(), Some("Jos\u{e9}"));
    }

    #[test]
    fn mismatched_and_truncated_documents_are_refused() {
        assert!(parse_document(b"<A><B></A>").is_err());
        assert!(parse_document(b"<A><B>").is_err());
        assert!(parse_document(b"").is_err());
        assert!(parse_document(b"<A/><B/>").is_err());
    }

    #[test]
    fn deep_documents_are_refused() {
        let deep = format!("{}{}", "<A>".repeat(40), "</A>".repeat(40));
        assert!(parse_document(deep.as_bytes()).is_err());
    }

    #[test]
    fn white_space_is_collapsed() {
        assert_eq!(
            collapse("  12000\n CHERRY   HILL RD "),
            "12000 CHERRY HILL RD"
        );
    }
}
