//! CLIP's text encoder, as Immich's `OpenClipTextualEncoder` and `MClipTextualEncoder`: the
//! text cleaned, prefixed with its language for NLLB models, tokenized with the model's own
//! `tokenizer.json` padded and truncated to the context length, and run; the embedding is the
//! first row of the first output, L2-normalised.

use std::path::Path;

use ndarray::Array2;
use serde_json::{Map, Value};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::languages;
use crate::cache::clean_name;
use crate::error::{MlError, Result};
use crate::models::{Input, LoadContext, Model, Output};
use crate::runtime::{Session, Tensor};

/// The context length when the model's configuration gives none.
pub const DEFAULT_CONTEXT_LENGTH: usize = 77;

/// ASCII punctuation, which "canonicalize" cleaning removes (Python's `string.punctuation`).
const ASCII_PUNCTUATION: &str = r##"!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~"##;

/// Python's `str.split()` whitespace: Unicode's, and the four ASCII separators Python adds.
fn is_python_whitespace(character: char) -> bool {
    character.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&character)
}

/// Immich's `clean_text`: runs of whitespace become one space, ends trimmed; `canonicalize`
/// also drops ASCII punctuation and lower-cases.
pub fn clean_text(text: &str, canonicalize: bool) -> String {
    let collapsed = text
        .split(is_python_whitespace)
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if canonicalize {
        collapsed
            .chars()
            .filter(|&character| !ASCII_PUNCTUATION.contains(character))
            .collect::<String>()
            .to_lowercase()
    } else {
        collapsed
    }
}

/// A CLIP tokenizer set up as Immich sets it up: the model's `tokenizer.json`, padded with the
/// configuration's pad token to the context length and truncated to it.
#[derive(Debug, Clone)]
pub struct ClipTokenizer {
    tokenizer: Tokenizer,
    canonicalize: bool,
    context_length: usize,
}

/// The token ids and attention mask of one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub ids: Vec<i32>,
    pub attention_mask: Vec<i32>,
}

impl ClipTokenizer {
    /// Reads `<textual>/tokenizer.json` and `<textual>/tokenizer_config.json`, and the model's
    /// `config.json` (`text_cfg.context_length`, `text_cfg.tokenizer_kwargs.clean`).
    pub fn load(textual_folder: &Path, model_config: &Path, model: &str) -> Result<Self> {
        let config = read_json(model_config, model)?;
        let text_config = config
            .get("text_cfg")
            .ok_or_else(|| MlError::load(model, format!("{} has no `text_cfg`", model_config.display())))?;
        let context_length = match text_config.get("context_length") {
            None => DEFAULT_CONTEXT_LENGTH,
            Some(length) => length
                .as_u64()
                .and_then(|length| usize::try_from(length).ok())
                .filter(|&length| length > 0)
                .ok_or_else(|| MlError::load(model, format!("bad `context_length` {length}")))?,
        };
        let canonicalize = text_config
            .get("tokenizer_kwargs")
            .and_then(|kwargs| kwargs.get("clean"))
            .and_then(Value::as_str)
            == Some("canonicalize");

        let tokenizer_config_path = textual_folder.join("tokenizer_config.json");
        let tokenizer_config = read_json(&tokenizer_config_path, model)?;
        // Immich's exports write the token as text; older Hugging Face files as an object.
        let pad_token = match tokenizer_config.get("pad_token") {
            Some(Value::String(token)) => token.clone(),
            Some(Value::Object(token)) => token
                .get("content")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| MlError::load(model, "`pad_token` has no `content`"))?,
            _ => {
                return Err(MlError::load(
                    model,
                    format!("{} has no `pad_token`", tokenizer_config_path.display()),
                ));
            }
        };

        let tokenizer_path = textual_folder.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|error| MlError::load(model, format!("cannot read {}: {error}", tokenizer_path.display())))?;
        let pad_id = tokenizer.token_to_id(&pad_token).ok_or_else(|| {
            MlError::load(
                model,
                format!("pad token '{pad_token}' is not in the tokenizer's vocabulary"),
            )
        })?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::Fixed(context_length),
            pad_id,
            pad_token,
            ..PaddingParams::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: context_length,
                ..TruncationParams::default()
            }))
            .map_err(|error| MlError::load(model, format!("truncation: {error}")))?;
        Ok(Self {
            tokenizer,
            canonicalize,
            context_length,
        })
    }

    pub fn context_length(&self) -> usize {
        self.context_length
    }

    /// Tokenizes `text` as it is (no cleaning), with the special tokens, padding and truncation.
    pub fn encode(&self, text: &str) -> Result<Tokens> {
        let encoding = self
            .tokenizer
            .encode(text, true)
            .map_err(|error| MlError::BadRequest(format!("cannot tokenize the text: {error}")))?;
        let to_i32 = |values: &[u32]| values.iter().map(|&value| value as i32).collect();
        Ok(Tokens {
            ids: to_i32(encoding.get_ids()),
            attention_mask: to_i32(encoding.get_attention_mask()),
        })
    }

    /// Cleans the text as Immich does, adds the language prefix if given one, and tokenizes.
    pub fn tokenize(&self, text: &str, flores200_prefix: Option<&str>) -> Result<Tokens> {
        let cleaned = clean_text(text, self.canonicalize);
        match flores200_prefix {
            Some(prefix) => self.encode(&format!("{prefix}{cleaned}")),
            None => self.encode(&cleaned),
        }
    }
}

fn read_json(path: &Path, model: &str) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| MlError::load(model, format!("cannot read {}: {error}", path.display())))?;
    serde_json::from_str(&text).map_err(|error| MlError::load(model, format!("{}: {error}", path.display())))
}

/// Which of Immich's text encoders: OpenCLIP's (one `text` input) or M-CLIP's (a language model
/// taking `input_ids` and `attention_mask`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    OpenClip,
    MultilingualClip,
}

/// CLIP's text encoder.
#[derive(Debug)]
pub struct TextualEncoder {
    name: String,
    session: Session,
    tokenizer: ClipTokenizer,
    flavour: Flavour,
    /// NLLB models take the text's language as a prefix.
    is_nllb: bool,
}

impl TextualEncoder {
    /// Loads `<folder>/textual/model.onnx`, its tokenizer files and `<folder>/config.json`.
    /// `multilingual` is for M-CLIP models.
    pub fn load(context: &LoadContext<'_>, multilingual: bool) -> Result<Self> {
        let textual_folder = context.folder.join("textual");
        let tokenizer = ClipTokenizer::load(&textual_folder, &context.folder.join("config.json"), context.name)?;
        let session = context.session()?;
        let flavour = if multilingual {
            Flavour::MultilingualClip
        } else {
            Flavour::OpenClip
        };
        let expected: &[&str] = match flavour {
            Flavour::OpenClip => &["text"],
            Flavour::MultilingualClip => &["input_ids", "attention_mask"],
        };
        for name in expected {
            if !session.inputs().iter().any(|input| input.name == *name) {
                return Err(MlError::load(
                    context.name,
                    format!("the text model has no input named '{name}'"),
                ));
            }
        }
        Ok(Self {
            name: context.name.to_owned(),
            session,
            tokenizer,
            flavour,
            is_nllb: clean_name(context.name).starts_with("nllb"),
        })
    }

    pub fn tokenizer(&self) -> &ClipTokenizer {
        &self.tokenizer
    }
}

impl Model for TextualEncoder {
    fn predict(&self, input: Input<'_>, _: Option<&Output>, options: &Map<String, Value>) -> Result<Output> {
        let text = input.text(&self.name)?;
        // Immich's M-CLIP encoder has no language prefix; only NLLB OpenCLIP models take one.
        let prefix = match (
            self.flavour,
            self.is_nllb,
            options.get("language").and_then(Value::as_str),
        ) {
            (Flavour::OpenClip, true, Some(language)) => Some(languages::flores200_code(language)),
            _ => None,
        };
        let tokens = self.tokenizer.tokenize(text, prefix)?;
        let row = |values: Vec<i32>| {
            let length = values.len();
            Array2::from_shape_vec((1, length), values)
                .map(|array| array.into_dyn())
                .map_err(|error| MlError::output(&self.name, error))
        };
        let outputs = match self.flavour {
            Flavour::OpenClip => {
                let ids = row(tokens.ids)?;
                self.session.run(vec![("text", Tensor::I32(ids.view()))])?
            }
            Flavour::MultilingualClip => {
                let ids = row(tokens.ids)?;
                let mask = row(tokens.attention_mask)?;
                self.session.run(vec![
                    ("input_ids", Tensor::I32(ids.view())),
                    ("attention_mask", Tensor::I32(mask.view())),
                ])?
            }
        };
        super::first_row_normalised(outputs, &self.name).map(Output::Embedding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_collapses_as_in_python() {
        assert_eq!(clean_text("  a\tb\n\n c\u{3000}d\u{1f}e ", false), "a b c d e");
        assert_eq!(clean_text("", false), "");
    }

    #[test]
    fn canonicalizing_drops_ascii_punctuation_and_lowercases() {
        assert_eq!(clean_text("Hello, World! (Ärger)…", true), "hello world ärger…");
        assert_eq!(clean_text("a - b", true), "a  b");
    }
}
