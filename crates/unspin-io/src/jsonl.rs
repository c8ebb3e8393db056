//! JSON Lines: every non-blank line is one record, a JSON object whose text is one string field.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::input::{check_text, strip_bom, Input};
use crate::records::{Draft, Reader};
use crate::{InputOptions, Meta, RecordError};

pub(crate) struct JsonlReader {
    input: Input,
    name: String,
    field: String,
    id_field: String,
    limit: usize,
    line: u64,
    buf: Vec<u8>,
    done: bool,
}

impl JsonlReader {
    pub(crate) fn new(input: Input, name: String, options: &InputOptions) -> JsonlReader {
        JsonlReader {
            input,
            name,
            field: options.field.clone(),
            id_field: options.id_field.clone(),
            limit: options.max_record_bytes,
            line: 0,
            buf: Vec::new(),
            done: false,
        }
    }

    fn draft(&self, offset: u64, id: Option<String>, body: Result<String, RecordError>) -> Draft {
        Draft {
            id: id.unwrap_or_else(|| format!("{}:{}", self.name, self.line)),
            line: Some(self.line),
            offset,
            meta: Meta::default(),
            body,
        }
    }
}

/// JSON's whitespace; a line of nothing else is no record.
fn is_blank(line: &[u8]) -> bool {
    line.iter()
        .all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
}

impl Reader for JsonlReader {
    fn next_draft(&mut self, skip: bool) -> Option<Draft> {
        loop {
            if self.done {
                return None;
            }
            let offset = self.input.offset();
            let line = match self.input.read_line(&mut self.buf, self.limit) {
                Ok(Some(line)) => line,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    // The line being read is lost with the rest of the stream.
                    self.done = true;
                    self.line += 1;
                    let error = self.input.error(e);
                    return Some(self.draft(offset, None, Err(error)));
                }
            };
            self.line += 1;
            if line.overlong {
                // A huge line is an exception: its buffer is not kept for the next lines.
                self.buf = Vec::new();
                let limit = self.limit;
                return Some(self.draft(offset, None, Err(RecordError::TooLong { limit })));
            }
            let bytes = if self.line == 1 {
                strip_bom(&self.buf)
            } else {
                &self.buf[..]
            };
            if is_blank(bytes) {
                continue;
            }
            if skip {
                return Some(self.draft(offset, None, Ok(String::new())));
            }
            let (id, body) = match parse(bytes, &self.field, &self.id_field) {
                Ok((id, text)) => (id, Ok(text)),
                Err((id, e)) => (id, Err(e)),
            };
            return Some(self.draft(offset, id, body));
        }
    }
}

/// What a line gave: its id if any, and its text or the reason there is none (with the id, when
/// the object had one).
type Parsed = Result<(Option<String>, String), (Option<String>, RecordError)>;

fn parse(bytes: &[u8], field: &str, id_field: &str) -> Parsed {
    let text = check_text(bytes).map_err(|e| (None, e))?;
    if !text.trim_start().starts_with('{') {
        // Valid JSON that is no object, or no JSON at all.
        return Err(match serde_json::from_str::<IgnoredAny>(text) {
            Ok(_) => (None, RecordError::NotObject),
            Err(e) => (None, RecordError::Json(e)),
        });
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let found = Wanted { field, id_field }
        .deserialize(&mut de)
        .and_then(|found| de.end().map(|()| found))
        .map_err(|e| (None, RecordError::Json(e)))?;
    match found.text {
        Some(Value::Str(s)) => Ok((found.id, s)),
        Some(Value::Other(kind)) => Err((
            found.id,
            RecordError::NotString {
                field: field.to_string(),
                found: kind,
            },
        )),
        None => Err((
            found.id,
            RecordError::MissingField {
                field: field.to_string(),
            },
        )),
    }
}

/// Deserializes an object keeping only the text and id fields.
struct Wanted<'a> {
    field: &'a str,
    id_field: &'a str,
}

#[derive(Default)]
struct Found {
    text: Option<Value>,
    id: Option<String>,
}

/// A field's value: a string, or the kind of value it is instead.
enum Value {
    Str(String),
    Other(&'static str),
}

impl<'de> DeserializeSeed<'de> for Wanted<'_> {
    type Value = Found;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Found, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Wanted<'_> {
    type Value = Found;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found, A::Error> {
        let mut found = Found::default();
        while let Some(key) = map.next_key_seed(KeySeed { wanted: &self })? {
            // With the same name for both, the field's string is also the id.
            match key {
                Key::Text if self.field == self.id_field => {
                    let v: Value = map.next_value()?;
                    found.id = match &v {
                        Value::Str(s) => Some(s.clone()),
                        Value::Other(_) => None,
                    };
                    found.text = Some(v);
                }
                Key::Text => found.text = Some(map.next_value()?),
                Key::Id => found.id = map.next_value::<IdValue>()?.0,
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }
}

enum Key {
    Text,
    Id,
    Other,
}

/// Reads a key and says whether it is one of the wanted fields, without keeping it.
struct KeySeed<'a, 'b> {
    wanted: &'a Wanted<'b>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = Key;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_, '_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(if key == self.wanted.field {
            Key::Text
        } else if key == self.wanted.id_field {
            Key::Id
        } else {
            Key::Other
        })
    }
}

impl<'de> de::Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Other("null"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Value, E> {
        Ok(Value::Other("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Value, E> {
        Ok(Value::Other("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Value, E> {
        Ok(Value::Other("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Value, E> {
        Ok(Value::Other("a number"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Other("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Value::Other("an object"))
    }
}

/// An id: a string, or a number written as JSON writes it; anything else is no id.
struct IdValue(Option<String>);

impl<'de> de::Deserialize<'de> for IdValue {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<IdValue, D::Error> {
        d.deserialize_any(IdVisitor)
    }
}

struct IdVisitor;

impl<'de> Visitor<'de> for IdVisitor {
    type Value = IdValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<IdValue, E> {
        Ok(IdValue(Some(v.to_string())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<IdValue, E> {
        Ok(IdValue(Some(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<IdValue, E> {
        Ok(IdValue(Some(v.to_string())))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<IdValue, E> {
        Ok(IdValue(Some(v.to_string())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<IdValue, E> {
        Ok(IdValue(Some(
            serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string()),
        )))
    }

    fn visit_unit<E: de::Error>(self) -> Result<IdValue, E> {
        Ok(IdValue(None))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<IdValue, E> {
        Ok(IdValue(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<IdValue, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(IdValue(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IdValue, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(IdValue(None))
    }
}
