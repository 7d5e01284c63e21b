//! The storage template: its date tokens and presets (`/system-config/storage-template-options`),
//! and the check a new template passes before it is saved. Immich compiles templates with
//! Handlebars in strict mode, so a variable it does not know makes the template invalid.

use serde_json::{Value, json};

/// Date tokens by kind, in the order the web's settings page shows them.
pub const DATE_TOKENS: [(&str, &[&str]); 7] = [
    ("secondOptions", &["s", "ss", "SSS"]),
    ("minuteOptions", &["m", "mm"]),
    ("dayOptions", &["d", "dd"]),
    ("weekOptions", &["W", "WW"]),
    ("hourOptions", &["h", "hh", "H", "HH"]),
    ("yearOptions", &["y", "yy"]),
    ("monthOptions", &["M", "MM", "MMM", "MMMM"]),
];

pub const PRESETS: [&str; 21] = [
    "{{y}}/{{y}}-{{MM}}-{{dd}}/{{filename}}",
    "{{y}}/{{MM}}-{{dd}}/{{filename}}",
    "{{y}}/{{MMMM}}-{{dd}}/{{filename}}",
    "{{y}}/{{MM}}/{{filename}}",
    "{{y}}/{{#if album}}{{album}}{{else}}Other/{{MM}}{{/if}}/{{filename}}",
    "{{#if album}}{{album-startDate-y}}/{{album}}{{else}}{{y}}/Other/{{MM}}{{/if}}/{{filename}}",
    "{{y}}/{{MMM}}/{{filename}}",
    "{{y}}/{{MMMM}}/{{filename}}",
    "{{y}}/{{MM}}/{{dd}}/{{filename}}",
    "{{y}}/{{MMMM}}/{{dd}}/{{filename}}",
    "{{y}}/{{y}}-{{MM}}/{{y}}-{{MM}}-{{dd}}/{{filename}}",
    "{{y}}-{{MM}}-{{dd}}/{{filename}}",
    "{{y}}-{{MMM}}-{{dd}}/{{filename}}",
    "{{y}}-{{MMMM}}-{{dd}}/{{filename}}",
    "{{y}}/{{y}}-{{MM}}/{{filename}}",
    "{{y}}/{{y}}-{{WW}}/{{filename}}",
    "{{y}}/{{y}}-{{MM}}-{{dd}}/{{assetId}}",
    "{{y}}/{{y}}-{{MM}}/{{assetId}}",
    "{{y}}/{{y}}-{{WW}}/{{assetId}}",
    "{{album}}/{{filename}}",
    "{{make}}/{{model}}/{{lensModel}}/{{filename}}",
];

/// The variables a template may use besides the date tokens.
const VARIABLES: [&str; 10] = [
    "filename",
    "ext",
    "filetype",
    "filetypefull",
    "assetId",
    "assetIdShort",
    "album",
    "make",
    "model",
    "lensModel",
];

/// Block helpers Handlebars brings; any other `{{#name}}` is an unknown helper.
const BLOCK_HELPERS: [&str; 4] = ["if", "unless", "each", "with"];

pub fn options() -> Value {
    let mut options = serde_json::Map::new();
    for (kind, tokens) in DATE_TOKENS {
        options.insert(kind.to_owned(), json!(tokens));
    }
    options.insert("presetOptions".to_owned(), json!(PRESETS));
    Value::Object(options)
}

fn is_known(name: &str) -> bool {
    let date_token = |token: &str| DATE_TOKENS.iter().any(|(_, tokens)| tokens.contains(&token));
    VARIABLES.contains(&name)
        || date_token(name)
        || ["album-startDate-", "album-endDate-"]
            .iter()
            .any(|prefix| name.strip_prefix(prefix).is_some_and(date_token))
}

/// Why `template` would not render, or `Ok` when every tag in it is known and blocks are closed.
pub fn check(template: &str) -> Result<(), String> {
    let mut open_blocks: Vec<&str> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let triple = after.starts_with('{');
        let closing = if triple { "}}}" } else { "}}" };
        let body_start = usize::from(triple);
        let end = after.find(closing).ok_or("a tag is not closed")?;
        let tag = after[body_start..end]
            .trim()
            .trim_start_matches('~')
            .trim_end_matches('~')
            .trim();
        rest = &after[end + closing.len()..];
        if tag.starts_with('!') || tag == "else" {
            continue;
        }
        if let Some(block) = tag.strip_prefix('#') {
            let mut words = block.split_whitespace();
            let helper = words.next().unwrap_or_default();
            if !BLOCK_HELPERS.contains(&helper) {
                return Err(format!("unknown helper \"{helper}\""));
            }
            match (words.next(), words.next()) {
                (Some(argument), None) if is_known(argument) => {}
                (Some(argument), None) => return Err(format!("\"{argument}\" not defined")),
                _ => return Err(format!("#{helper} takes one variable")),
            }
            open_blocks.push(helper);
        } else if let Some(helper) = tag.strip_prefix('/') {
            if open_blocks.pop() != Some(helper.trim()) {
                return Err(format!("{{{{/{helper}}}}} closes no open block"));
            }
        } else if !is_known(tag) {
            return Err(format!("\"{tag}\" not defined"));
        }
    }
    match open_blocks.last() {
        Some(helper) => Err(format!("{{{{#{helper}}}}} is not closed")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid() {
        for preset in PRESETS {
            assert_eq!(check(preset), Ok(()), "{preset}");
        }
    }

    #[test]
    fn unknown_variables_helpers_and_unbalanced_blocks_are_refused() {
        for template in [
            "{{foo}}",
            "{{y}}/{{#if foo}}x{{/if}}",
            "{{#if album}}{{album}}",
            "{{y}}/{{/if}}",
            "{{y",
            "{{#lookup album}}{{/lookup}}",
        ] {
            assert!(check(template).is_err(), "{template}");
        }
        assert_eq!(
            check("{{album-endDate-MMMM}}/{{{filename}}}.{{ext}}{{!a comment}}"),
            Ok(())
        );
    }
}
