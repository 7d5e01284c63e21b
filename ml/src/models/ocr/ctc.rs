//! The recognizer's alphabet and greedy CTC decoding, as RapidOCR's `CTCLabelDecode`: PP-OCR's
//! ONNX models carry their characters in the model's metadata (`character`, one a line); class 0
//! is CTC's blank and the last class a space.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::{MlError, Result};

/// The classes of a recognition model's output.
#[derive(Debug, Clone)]
pub struct Alphabet {
    classes: Vec<String>,
}

impl Alphabet {
    /// From the model's characters: blank first, then the characters, then a space.
    pub fn new(characters: impl IntoIterator<Item = String>) -> Self {
        let mut classes = vec![String::new()];
        classes.extend(characters);
        classes.push(" ".to_owned());
        Self { classes }
    }

    /// The alphabet an ONNX file's `character` metadata lists.
    pub fn from_model(path: &Path, model: &str) -> Result<Self> {
        let metadata = read_onnx_metadata(path).map_err(|error| MlError::Io {
            context: "reading the model's metadata",
            path: path.to_path_buf(),
            source: error,
        })?;
        let characters = metadata
            .into_iter()
            .find(|(key, _)| key == "character")
            .map(|(_, value)| value)
            .ok_or_else(|| MlError::load(model, "the model's metadata lists no 'character'"))?;
        Ok(Self::new(python_lines(&characters).map(str::to_owned)))
    }

    pub fn len(&self) -> usize {
        self.classes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// Greedy decoding of one line's class probabilities (`steps` rows of `classes` values):
    /// the most likely class per step, repeats merged, blanks dropped; the score is the mean
    /// probability of the kept steps, each rounded to 5 decimals, the mean too (0 when nothing is
    /// kept).
    pub fn decode(&self, probabilities: &[f32], classes: usize) -> Result<(String, f32)> {
        let mut text = String::new();
        let mut kept = Vec::new();
        let mut previous = None;
        for step in probabilities.chunks_exact(classes) {
            let (best, probability) =
                step.iter().enumerate().fold(
                    (0, f32::MIN),
                    |best, (index, &p)| if p > best.1 { (index, p) } else { best },
                );
            if best != 0 && previous != Some(best) {
                let character = self.classes.get(best).ok_or_else(|| {
                    MlError::output("text recognition", format!("class {best} is not in the alphabet"))
                })?;
                text.push_str(character);
                kept.push(round_to(f64::from(probability), 5));
            }
            previous = Some(best);
        }
        if kept.is_empty() {
            return Ok((text, 0.0));
        }
        let mean = kept.iter().sum::<f64>() / kept.len() as f64;
        Ok((text, round_to(mean, 5) as f32))
    }
}

fn round_to(value: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (value * factor).round_ties_even() / factor
}

/// Lines as Python's `str.splitlines` cuts them (on \n, \r, \r\n, \v, \f, \x1c-\x1e, \x85,
/// \u2028 and \u2029; no empty last line).
fn python_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let breaks = |c: char| {
            matches!(
                c,
                '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}'
            )
        };
        match rest.char_indices().find(|&(_, c)| breaks(c)) {
            None => {
                let line = rest;
                rest = "";
                Some(line)
            }
            Some((at, c)) => {
                let line = &rest[..at];
                let mut next = at + c.len_utf8();
                if c == '\r' && rest[next..].starts_with('\n') {
                    next += 1;
                }
                rest = &rest[next..];
                Some(line)
            }
        }
    })
}

/// The `metadata_props` of an ONNX file (field 14 of `ModelProto`): read field by field,
/// skipping over the graph without loading it.
pub fn read_onnx_metadata(path: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut reader = BufReader::new(File::open(path)?);
    let end = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    let mut properties = Vec::new();
    while reader.stream_position()? < end {
        let key = read_varint(&mut reader)?;
        let (field, wire_type) = (key >> 3, key & 7);
        match wire_type {
            0 => {
                read_varint(&mut reader)?;
            }
            1 => {
                reader.seek_relative(8)?;
            }
            5 => {
                reader.seek_relative(4)?;
            }
            2 => {
                let length = read_varint(&mut reader)?;
                if field == 14 {
                    let mut entry = vec![0u8; usize::try_from(length).map_err(invalid)?];
                    reader.read_exact(&mut entry)?;
                    properties.push(read_entry(&entry)?);
                } else {
                    reader.seek_relative(i64::try_from(length).map_err(invalid)?)?;
                }
            }
            _ => return Err(invalid("not an ONNX file")),
        }
    }
    Ok(properties)
}

fn invalid(error: impl ToString) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, error.to_string())
}

fn read_varint(reader: &mut impl Read) -> std::io::Result<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let mut byte = [0u8];
        reader.read_exact(&mut byte)?;
        value |= u64::from(byte[0] & 0x7f) << shift;
        if byte[0] & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(invalid("a varint runs too long"))
}

/// A `StringStringEntryProto`: key (field 1) and value (field 2).
fn read_entry(bytes: &[u8]) -> std::io::Result<(String, String)> {
    let mut reader = std::io::Cursor::new(bytes);
    let (mut key, mut value) = (String::new(), String::new());
    while (reader.position() as usize) < bytes.len() {
        let tag = read_varint(&mut reader)?;
        if tag & 7 != 2 {
            return Err(invalid("unexpected field in a metadata entry"));
        }
        let length = usize::try_from(read_varint(&mut reader)?).map_err(invalid)?;
        let mut text = vec![0u8; length];
        reader.read_exact(&mut text)?;
        let text = String::from_utf8(text).map_err(invalid)?;
        match tag >> 3 {
            1 => key = text,
            2 => value = text,
            _ => {}
        }
    }
    Ok((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_as_python_splits_them() {
        let lines: Vec<&str> = python_lines("a\nb\r\nc\rd\u{2028}e\n").collect();
        assert_eq!(lines, ["a", "b", "c", "d", "e"]);
        assert_eq!(python_lines("").count(), 0);
    }

    #[test]
    fn repeats_merge_and_blanks_split() {
        let alphabet = Alphabet::new(["a", "b"].map(str::to_owned));
        assert_eq!(alphabet.len(), 4);
        // Steps: a a blank a b space blank.
        let steps: [[f32; 4]; 7] = [
            [0.1, 0.8, 0.05, 0.05],
            [0.1, 0.9, 0.0, 0.0],
            [0.9, 0.1, 0.0, 0.0],
            [0.0, 0.7, 0.3, 0.0],
            [0.0, 0.0, 0.6, 0.4],
            [0.0, 0.0, 0.0, 1.0],
            [1.0, 0.0, 0.0, 0.0],
        ];
        let flat: Vec<f32> = steps.iter().flatten().copied().collect();
        let (text, score) = alphabet.decode(&flat, 4).unwrap_or_default();
        assert_eq!(text, "aab ");
        assert!((score - 0.775).abs() < 1e-6, "{score}");
        let (empty, zero) = alphabet.decode(&[1.0, 0.0, 0.0, 0.0], 4).unwrap_or_default();
        assert_eq!((empty.as_str(), zero), ("", 0.0));
    }
}
