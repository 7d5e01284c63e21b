//! CLIP (placeholder: the CLIP work replaces this file).

use serde_json::{Map, Value};

use super::{Input, LoadContext, Model, Output};
use crate::error::{MlError, Result};

pub struct VisualEncoder;
pub struct TextualEncoder;

impl VisualEncoder {
    pub fn load(context: &LoadContext<'_>) -> Result<Self> {
        Err(MlError::load(context.name, "CLIP is not built yet"))
    }
}

impl TextualEncoder {
    pub fn load(context: &LoadContext<'_>, _multilingual: bool) -> Result<Self> {
        Err(MlError::load(context.name, "CLIP is not built yet"))
    }
}

impl Model for VisualEncoder {
    fn predict(&self, _: Input<'_>, _: Option<&Output>, _: &Map<String, Value>) -> Result<Output> {
        Err(MlError::BadRequest("CLIP is not built yet".to_owned()))
    }
}

impl Model for TextualEncoder {
    fn predict(&self, _: Input<'_>, _: Option<&Output>, _: &Map<String, Value>) -> Result<Output> {
        Err(MlError::BadRequest("CLIP is not built yet".to_owned()))
    }
}
