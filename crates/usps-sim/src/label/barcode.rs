//! GS1-128 (Code 128, code set C) for the IMpb: `FNC1 420 ZIP5 FNC1 <tracking number>`, as
//! USPS Publication 199 prints it. Produces the bar/space modules that every image format draws.

/// Bar and space widths (in modules) of Code 128 symbol values 0–106; 106 is the stop pattern.
const PATTERNS: [&str; 107] = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
];

const START_C: usize = 105;
const FNC1: usize = 102;
const STOP: usize = 106;

/// The symbol values of a GS1-128 code set C barcode over `fields`, each an even number of
/// digits preceded by FNC1 (check symbol included, stop excluded).
fn symbols(fields: &[&str]) -> Option<Vec<usize>> {
    let mut values = vec![START_C];
    for field in fields {
        if field.len() % 2 != 0 || !field.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        values.push(FNC1);
        for pair in field.as_bytes().chunks(2) {
            values.push(usize::from(pair[0] - b'0') * 10 + usize::from(pair[1] - b'0'));
        }
    }
    let checksum = values
        .iter()
        .enumerate()
        .map(|(position, value)| position.max(1) * value)
        .sum::<usize>()
        % 103;
    values.push(checksum);
    Some(values)
}

/// The modules (true = bar) of the IMpb barcode `420` + `zip5`, FNC1, `tracking_number`.
/// `None` when the parts are not digits of even length.
pub(crate) fn impb_modules(zip5: &str, tracking_number: &str) -> Option<Vec<bool>> {
    let routing = format!("420{zip5}");
    let mut values = symbols(&[routing.as_str(), tracking_number])?;
    values.push(STOP);
    let mut modules = Vec::new();
    for value in values {
        let pattern = PATTERNS.get(value)?;
        for (index, width) in pattern.bytes().enumerate() {
            let bar = index % 2 == 0;
            for _ in 0..(width - b'0') {
                modules.push(bar);
            }
        }
    }
    Some(modules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_symbol_is_eleven_modules_and_stop_is_thirteen() {
        for (value, pattern) in PATTERNS.iter().enumerate() {
            let width: u32 = pattern.bytes().map(|byte| u32::from(byte - b'0')).sum();
            let expected = if value == STOP { 13 } else { 11 };
            assert_eq!(width, expected, "symbol {value}");
        }
    }

    #[test]
    fn symbol_patterns_are_unique() {
        let mut sorted = PATTERNS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), PATTERNS.len());
    }

    #[test]
    fn impb_barcode_has_the_expected_module_count_and_check_symbol() {
        let modules = impb_modules("63116", "9202190412893600000018").unwrap();
        // start + FNC1 + 4 pairs + FNC1 + 11 pairs + check = 19 symbols of 11, stop of 13.
        assert_eq!(modules.len(), 19 * 11 + 13);
        assert!(modules[0]);
        assert!(modules[modules.len() - 1]);
        let values = symbols(&["42063116", "9202190412893600000018"]).unwrap();
        let weighted: usize = values[..values.len() - 1]
            .iter()
            .enumerate()
            .map(|(position, value)| position.max(1) * value)
            .sum();
        assert_eq!(weighted % 103, values[values.len() - 1]);
    }

    #[test]
    fn odd_length_fields_are_refused() {
        assert!(impb_modules("6311", "92").is_none());
    }
}
