//! Code 128, code set B, for the 1Z tracking number as UPS prints it under the label's
//! barcode: start B, one symbol per character (ASCII − 32), the mod-103 check symbol, stop.
//! Produces the bar/space modules the raster label draws; ZPL gets `^BC` and lets the printer
//! draw the same symbology.

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
const STOP: usize = 106;

/// The symbol values of `text` in code set B, check symbol included, stop excluded; `None`
/// for a character outside ASCII 32–127.
fn symbols(text: &str) -> Option<Vec<usize>> {
    let mut values = vec![START_B];
    for byte in text.bytes() {
        if !(32..128).contains(&byte) {
            return None;
        }
        values.push(usize::from(byte - 32));
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

/// The modules (true = bar) of `text` in Code 128 B.
pub(crate) fn code128_modules(text: &str) -> Option<Vec<bool>> {
    let mut values = symbols(text)?;
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
    fn a_1z_number_is_start_eighteen_symbols_check_and_stop() {
        let modules = code128_modules("1Z999AA10123456784").unwrap();
        assert_eq!(modules.len(), 20 * 11 + 13);
        // "1Z" = values 17 and 58: 104 + 1·17 + 2·58 + … mod 103 is the check symbol.
        let values = symbols("1Z999AA10123456784").unwrap();
        assert_eq!(values[1..3], [17, 58]);
        let weighted: usize = values[..values.len() - 1]
            .iter()
            .enumerate()
            .map(|(position, value)| position.max(1) * value)
            .sum();
        assert_eq!(weighted % 103, values[values.len() - 1]);
    }

    #[test]
    fn characters_outside_ascii_are_refused() {
        assert!(code128_modules("1Zé").is_none());
    }
}
