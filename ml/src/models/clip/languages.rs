//! The language prefix NLLB text encoders expect: Immich's table from the web app's language
//! codes (Weblate's) to FLORES-200 codes.

/// Weblate language code → FLORES-200 code, as Immich 3.0.3 maps them.
const WEBLATE_TO_FLORES200: [(&str, &str); 56] = [
    ("af", "afr_Latn"),
    ("ar", "arb_Arab"),
    ("az", "azj_Latn"),
    ("be", "bel_Cyrl"),
    ("bg", "bul_Cyrl"),
    ("ca", "cat_Latn"),
    ("cs", "ces_Latn"),
    ("da", "dan_Latn"),
    ("de", "deu_Latn"),
    ("el", "ell_Grek"),
    ("en", "eng_Latn"),
    ("es", "spa_Latn"),
    ("et", "est_Latn"),
    ("fa", "pes_Arab"),
    ("fi", "fin_Latn"),
    ("fr", "fra_Latn"),
    ("he", "heb_Hebr"),
    ("hi", "hin_Deva"),
    ("hr", "hrv_Latn"),
    ("hu", "hun_Latn"),
    ("hy", "hye_Armn"),
    ("id", "ind_Latn"),
    ("it", "ita_Latn"),
    ("ja", "jpn_Hira"),
    ("kmr", "kmr_Latn"),
    ("ko", "kor_Hang"),
    ("lb", "ltz_Latn"),
    ("lt", "lit_Latn"),
    ("lv", "lav_Latn"),
    ("mfa", "zsm_Latn"),
    ("mk", "mkd_Cyrl"),
    ("mn", "khk_Cyrl"),
    ("mr", "mar_Deva"),
    ("ms", "zsm_Latn"),
    ("nb-NO", "nob_Latn"),
    ("nn", "nno_Latn"),
    ("nl", "nld_Latn"),
    ("pl", "pol_Latn"),
    ("pt-BR", "por_Latn"),
    ("pt", "por_Latn"),
    ("ro", "ron_Latn"),
    ("ru", "rus_Cyrl"),
    ("sk", "slk_Latn"),
    ("sl", "slv_Latn"),
    ("sr-Cyrl", "srp_Cyrl"),
    ("sv", "swe_Latn"),
    ("ta", "tam_Taml"),
    ("te", "tel_Telu"),
    ("th", "tha_Thai"),
    ("tr", "tur_Latn"),
    ("uk", "ukr_Cyrl"),
    ("ur", "urd_Arab"),
    ("vi", "vie_Latn"),
    ("zh-CN", "zho_Hans"),
    ("zh-Hans", "zho_Hans"),
    ("zh-TW", "zho_Hant"),
];

/// What NLLB models get when a language is not in the table.
pub const DEFAULT_FLORES200: &str = "eng_Latn";

fn lookup(code: &str) -> Option<&'static str> {
    WEBLATE_TO_FLORES200
        .iter()
        .find(|(weblate, _)| *weblate == code)
        .map(|(_, flores)| *flores)
}

/// The FLORES-200 code for a Weblate code (case-sensitive, as Immich): the code itself, else
/// the language without its region or script (`de-AT` → `de`), else English with a warning.
pub fn flores200_code(language: &str) -> &'static str {
    if let Some(code) = lookup(language) {
        return code;
    }
    let without_region = language.split('-').next().unwrap_or(language);
    lookup(without_region).unwrap_or_else(|| {
        tracing::warn!(language, "language not found for the NLLB text encoder; using English");
        DEFAULT_FLORES200
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_with_region_fallback() {
        assert_eq!(flores200_code("de"), "deu_Latn");
        assert_eq!(flores200_code("pt-BR"), "por_Latn");
        assert_eq!(flores200_code("zh-Hans"), "zho_Hans");
        assert_eq!(flores200_code("zh-TW"), "zho_Hant");
        assert_eq!(flores200_code("sr-Cyrl"), "srp_Cyrl");
        // Not in the table, but its language is.
        assert_eq!(flores200_code("de-AT"), "deu_Latn");
        assert_eq!(flores200_code("nb-NO"), "nob_Latn");
        // Neither: English.
        assert_eq!(flores200_code("nb"), "eng_Latn");
        assert_eq!(flores200_code("sr-Latn"), "eng_Latn");
        assert_eq!(flores200_code("xx"), "eng_Latn");
        assert_eq!(flores200_code(""), "eng_Latn");
        // Case matters, as in Immich's dictionary.
        assert_eq!(flores200_code("DE"), "eng_Latn");
    }

    #[test]
    fn the_table_has_no_duplicate_codes() {
        let mut codes: Vec<_> = WEBLATE_TO_FLORES200.iter().map(|(weblate, _)| *weblate).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), WEBLATE_TO_FLORES200.len());
    }
}
