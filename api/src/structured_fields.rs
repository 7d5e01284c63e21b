//! The parts of RFC 9651 structured header fields the resumable-upload draft uses: booleans
//! (`?1`), and dictionaries of strings, tokens, integers, booleans and byte sequences.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    String(String),
    Token(String),
    Integer(i64),
    Boolean(bool),
    Bytes(Vec<u8>),
}

/// `?1` / `?0`; anything else is not a boolean.
pub fn boolean(text: &str) -> Option<bool> {
    match text.trim() {
        "?1" => Some(true),
        "?0" => Some(false),
        _ => None,
    }
}

/// A dictionary (`a="x", b=?0, c, d=:AAE=:`); parameters are not supported. `None` on any
/// syntax error, as the RFC asks (the whole field is then ignored).
pub fn dictionary(text: &str) -> Option<HashMap<String, Item>> {
    let mut parser = Parser {
        rest: text.trim().as_bytes(),
    };
    let mut map = HashMap::new();
    while !parser.rest.is_empty() {
        let key = parser.key()?;
        let value = if parser.eat(b'=') {
            parser.item()?
        } else {
            Item::Boolean(true)
        };
        map.insert(key, value);
        parser.skip_spaces();
        if parser.rest.is_empty() {
            break;
        }
        if !parser.eat(b',') {
            return None;
        }
        parser.skip_spaces();
        if parser.rest.is_empty() {
            return None; // trailing comma
        }
    }
    Some(map)
}

struct Parser<'a> {
    rest: &'a [u8],
}

impl Parser<'_> {
    fn eat(&mut self, byte: u8) -> bool {
        if self.rest.first() == Some(&byte) {
            self.rest = &self.rest[1..];
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) {
        while matches!(self.rest.first(), Some(b' ' | b'\t')) {
            self.rest = &self.rest[1..];
        }
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &[u8] {
        let end = self.rest.iter().position(|&b| !keep(b)).unwrap_or(self.rest.len());
        let (taken, rest) = self.rest.split_at(end);
        self.rest = rest;
        taken
    }

    fn key(&mut self) -> Option<String> {
        let first = *self.rest.first()?;
        if !(first.is_ascii_lowercase() || first == b'*') {
            return None;
        }
        let key = self.take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.*".contains(&b));
        String::from_utf8(key.to_vec()).ok()
    }

    fn item(&mut self) -> Option<Item> {
        match *self.rest.first()? {
            b'"' => self.string().map(Item::String),
            b'?' => {
                let value = match self.rest.get(1)? {
                    b'1' => true,
                    b'0' => false,
                    _ => return None,
                };
                self.rest = &self.rest[2..];
                Some(Item::Boolean(value))
            }
            b':' => {
                self.rest = &self.rest[1..];
                let encoded = self.take_while(|b| b != b':').to_vec();
                if !self.eat(b':') {
                    return None;
                }
                use base64::Engine;
                base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .ok()
                    .map(Item::Bytes)
            }
            b'-' | b'0'..=b'9' => {
                let negative = self.eat(b'-');
                let digits = self.take_while(|b| b.is_ascii_digit());
                if digits.is_empty() || digits.len() > 15 {
                    return None;
                }
                let value: i64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
                Some(Item::Integer(if negative { -value } else { value }))
            }
            b if b.is_ascii_alphabetic() || b == b'*' => {
                let token = self.take_while(|b| {
                    b.is_ascii_graphic() && !b"\"(),;=[]{}<>?@\\".contains(&b) || b == b':' || b == b'/'
                });
                String::from_utf8(token.to_vec()).ok().map(Item::Token)
            }
            _ => None,
        }
    }

    fn string(&mut self) -> Option<String> {
        self.rest = &self.rest[1..];
        let mut out = String::new();
        loop {
            let (&byte, rest) = self.rest.split_first()?;
            self.rest = rest;
            match byte {
                b'"' => return Some(out),
                b'\\' => {
                    let (&escaped, rest) = self.rest.split_first()?;
                    if escaped != b'"' && escaped != b'\\' {
                        return None;
                    }
                    self.rest = rest;
                    out.push(escaped as char);
                }
                0x20..=0x7e => out.push(byte as char),
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionaries_parse_like_rfc_9651() {
        let dict =
            dictionary(r#"filename="IMG \"1\".jpg", is-favorite, n=42, off=?0, sha=:AAE=:, kind=image/jpeg"#).unwrap();
        assert_eq!(dict["filename"], Item::String(r#"IMG "1".jpg"#.into()));
        assert_eq!(dict["is-favorite"], Item::Boolean(true));
        assert_eq!(dict["n"], Item::Integer(42));
        assert_eq!(dict["off"], Item::Boolean(false));
        assert_eq!(dict["sha"], Item::Bytes(vec![0, 1]));
        assert_eq!(dict["kind"], Item::Token("image/jpeg".into()));
        assert!(dictionary("a=\"unterminated").is_none());
        assert!(dictionary("a=1,").is_none());
        assert!(dictionary("A=1").is_none());
        assert_eq!(boolean("?1"), Some(true));
        assert_eq!(boolean("true"), None);
    }
}
