//! Code 128 (ISO/IEC 15417): the bar/space modules of a symbol sequence, in code set B (any
//! printable ASCII, e.g. UPS's 1Z numbers) or in code set C with FNC1 before each field
//! (GS1-128, e.g. USPS's IMpb `420` + ZIP, FNC1, tracking number). Each label format draws the
//! modules its own way.

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

const START_B: usize = 104;
const START_C: usize = 105;
const FNC1: usize = 102;
const STOP: usize = 106;

/// `values` followed by the mod-103 check symbol: the start symbol weighs 1, the n-th symbol
/// after it n.
fn with_checksum(mut values: Vec<usize>) -> Vec<usize> {
    let checksum = values
        .iter()
        .enumerate()
        .map(|(position, value)| position.max(1) * value)
        .sum::<usize>()
        % 103;
    values.push(checksum);
    values
}

/// The symbol values of `text` in code set B, check symbol included, stop excluded; `None`
/// for a character outside ASCII 32–127.
pub fn code_b_symbols(text: &str) -> Option<Vec<usize>> {
    let mut values = vec![START_B];
    for byte in text.bytes() {
        if !(32..128).contains(&byte) {
            return None;
        }
        values.push(usize::from(byte - 32));
    }
    Some(with_checksum(values))
}

/// The symbol values of a GS1-128 code set C barcode over `fields`, each an even number of
/// digits preceded by FNC1 (check symbol included, stop excluded).
pub fn gs1_128_symbols(fields: &[&str]) -> Option<Vec<usize>> {
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
    Some(with_checksum(values))
}

/// The modules (true = bar) of `symbols` followed by the stop pattern.
pub fn modules(symbols: &[usize]) -> Option<Vec<bool>> {
    let mut modules = Vec::new();
    for value in symbols.iter().copied().chain([STOP]) {
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

/// The modules of `text` in Code 128 B.
pub fn code_b(text: &str) -> Option<Vec<bool>> {
    modules(&code_b_symbols(text)?)
}

/// The modules of `fields` in GS1-128 (code set C, FNC1 before each field).
pub fn gs1_128(fields: &[&str]) -> Option<Vec<bool>> {
    modules(&gs1_128_symbols(fields)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_symbol_is_right(values: &[usize]) {
        let weighted: usize = values[..values.len() - 1]
            .iter()
            .enumerate()
            .map(|(position, value)| position.max(1) * value)
            .sum();
        assert_eq!(weighted % 103, values[values.len() - 1]);
    }

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
    fn a_1z_number_in_code_b_is_start_eighteen_symbols_check_and_stop() {
        let modules = code_b("1Z999AA10123456784").unwrap();
        assert_eq!(modules.len(), 20 * 11 + 13);
        let values = code_b_symbols("1Z999AA10123456784").unwrap();
        assert_eq!(values[..3], [START_B, 17, 58]);
        check_symbol_is_right(&values);
    }

    #[test]
    fn an_impb_in_gs1_128_has_the_expected_module_count_and_check_symbol() {
        let modules = gs1_128(&["42063116", "9202190412893600000018"]).unwrap();
        // start + FNC1 + 4 pairs + FNC1 + 11 pairs + check = 19 symbols of 11, stop of 13.
        assert_eq!(modules.len(), 19 * 11 + 13);
        assert!(modules[0] && modules[modules.len() - 1]);
        check_symbol_is_right(&gs1_128_symbols(&["42063116", "9202190412893600000018"]).unwrap());
    }

    #[test]
    fn unencodable_input_is_refused() {
        assert!(code_b("1Zé").is_none());
        assert!(gs1_128(&["4206311", "92"]).is_none());
    }
}
