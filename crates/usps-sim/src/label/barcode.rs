//! GS1-128 (Code 128, code set C) for the IMpb: `FNC1 420 ZIP5 FNC1 <tracking number>`, as
//! USPS Publication 199 prints it, encoded by `sim_kit::code128`. Produces the bar/space
//! modules that every image format draws.

/// The modules (true = bar) of the IMpb barcode `420` + `zip5`, FNC1, `tracking_number`.
/// `None` when the parts are not digits of even length.
pub(crate) fn impb_modules(zip5: &str, tracking_number: &str) -> Option<Vec<bool>> {
    let routing = format!("420{zip5}");
    sim_kit::code128::gs1_128(&[routing.as_str(), tracking_number])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impb_barcode_has_the_expected_module_count() {
        let modules = impb_modules("63116", "9202190412893600000018").unwrap();
        // start + FNC1 + 4 pairs + FNC1 + 11 pairs + check = 19 symbols of 11, stop of 13.
        assert_eq!(modules.len(), 19 * 11 + 13);
        assert!(modules[0]);
        assert!(modules[modules.len() - 1]);
    }

    #[test]
    fn odd_length_fields_are_refused() {
        assert!(impb_modules("6311", "92").is_none());
    }
}
