//! A serde `Serializer` that writes RFC 8785 canonical JSON straight from a `Serialize` type.
//!
//! The audit log encodes every record with it. The detour it replaces (`serde_json::to_value`,
//! then [`super::to_vec`]) allocated a string per member name and a node per value and was the
//! largest single cost of an append. Members are written in the order serde gives them; an
//! object whose members did not arrive sorted is rearranged once, at its end, from a copy of its
//! own bytes.

use std::fmt::Display;
use std::ops::Range;

use serde::ser::{self, Serialize};

use super::{utf16_order, write_f64, write_string};

/// Why a value has no canonical JSON form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    /// The type's `Serialize` implementation refused (its own message).
    #[error("{0}")]
    Custom(String),
    /// JSON object member names are strings; this key was something else.
    #[error("an object member name must be a string, not {0}")]
    KeyNotString(&'static str),
    /// An integer outside the range JSON numbers carry exactly here (i64 and u64).
    #[error("the integer {0} is outside the 64-bit range")]
    IntegerOutOfRange(i128),
}

impl ser::Error for CanonicalError {
    fn custom<T: Display>(message: T) -> Self {
        Self::Custom(message.to_string())
    }
}

/// The canonical JSON of `value`: the same bytes as [`super::to_vec`] of
/// `serde_json::to_value(value)`, without building the `Value`.
pub fn to_canonical_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(512);
    value.serialize(Canonical { out: &mut out })?;
    Ok(out)
}

/// Writes one value into `out`.
struct Canonical<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Canonical<'a> {
    fn integer(self, digits: impl itoa::Integer) -> Result<(), CanonicalError> {
        self.out
            .extend_from_slice(itoa::Buffer::new().format(digits).as_bytes());
        Ok(())
    }

    fn object(self, len: Option<usize>, closing: &'static [u8]) -> Object<'a> {
        self.out.push(b'{');
        Object {
            body_start: self.out.len(),
            out: self.out,
            members: Vec::with_capacity(len.unwrap_or(8)),
            key: None,
            closing,
        }
    }

    fn array(self, closing: &'static [u8]) -> Array<'a> {
        self.out.push(b'[');
        Array {
            out: self.out,
            empty: true,
            closing,
        }
    }

    /// Opens `{"variant":` for the externally tagged enum forms.
    fn variant(self, variant: &'static str) -> Self {
        self.out.push(b'{');
        write_string(variant, self.out);
        self.out.push(b':');
        self
    }
}

impl<'a> ser::Serializer for Canonical<'a> {
    type Ok = ();
    type Error = CanonicalError;
    type SerializeSeq = Array<'a>;
    type SerializeTuple = Array<'a>;
    type SerializeTupleStruct = Array<'a>;
    type SerializeTupleVariant = Array<'a>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Object<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), CanonicalError> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), CanonicalError> {
        self.integer(v)
    }

    fn serialize_i16(self, v: i16) -> Result<(), CanonicalError> {
        self.integer(v)
    }

    fn serialize_i32(self, v: i32) -> Result<(), CanonicalError> {
        self.integer(v)
    }

    fn serialize_i64(self, v: i64) -> Result<(), CanonicalError> {
        self.integer(v)
    }

    fn serialize_i128(self, v: i128) -> Result<(), CanonicalError> {
        if let Ok(v) = i64::try_from(v) {
            self.integer(v)
        } else if let Ok(v) = u64::try_from(v) {
            self.integer(v)
        } else {
            Err(CanonicalError::IntegerOutOfRange(v))
        }
    }

    fn serialize_u8(self, v: u8) -> Result<(), CanonicalError> {
        self.integer(v)
    }

    fn serialize_u16(self, v: u16) -> Result<(), CanonicalError> {
        self.integer(v)
    }

    fn serialize_u32(self, v: u32) -> Result<(), CanonicalError> {
        self.integer(v)
    }

    fn serialize_u64(self, v: u64) -> Result<(), CanonicalError> {
        self.integer(v)
    }

    fn serialize_u128(self, v: u128) -> Result<(), CanonicalError> {
        match u64::try_from(v) {
            Ok(v) => self.integer(v),
            Err(_) => Err(CanonicalError::IntegerOutOfRange(
                i128::try_from(v).unwrap_or(i128::MAX),
            )),
        }
    }

    fn serialize_f32(self, v: f32) -> Result<(), CanonicalError> {
        self.serialize_f64(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), CanonicalError> {
        // serde_json turns NaN and the infinities into null; so does the canonical form.
        if v.is_finite() {
            write_f64(v, self.out);
        } else {
            self.out.extend_from_slice(b"null");
        }
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), CanonicalError> {
        write_string(v.encode_utf8(&mut [0; 4]), self.out);
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), CanonicalError> {
        write_string(v, self.out);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), CanonicalError> {
        // As serde_json does: an array of numbers.
        let mut array = self.array(b"]");
        for byte in v {
            ser::SerializeSeq::serialize_element(&mut array, byte)?;
        }
        ser::SerializeSeq::end(array)
    }

    fn serialize_none(self) -> Result<(), CanonicalError> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), CanonicalError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), CanonicalError> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), CanonicalError> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), CanonicalError> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), CanonicalError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), CanonicalError> {
        let this = self.variant(variant);
        let out = &mut *this.out;
        value.serialize(Canonical { out: &mut *out })?;
        out.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Array<'a>, CanonicalError> {
        Ok(self.array(b"]"))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Array<'a>, CanonicalError> {
        Ok(self.array(b"]"))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Array<'a>, CanonicalError> {
        Ok(self.array(b"]"))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Array<'a>, CanonicalError> {
        Ok(self.variant(variant).array(b"]}"))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Object<'a>, CanonicalError> {
        Ok(self.object(len, b"}"))
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Object<'a>, CanonicalError> {
        Ok(self.object(Some(len), b"}"))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Object<'a>, CanonicalError> {
        Ok(self.variant(variant).object(Some(len), b"}}"))
    }
}

/// An array being written.
struct Array<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
    /// `]`, or `]}` for a tuple variant.
    closing: &'static [u8],
}

impl Array<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CanonicalError> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        value.serialize(Canonical { out: self.out })
    }

    fn close(self) -> Result<(), CanonicalError> {
        self.out.extend_from_slice(self.closing);
        Ok(())
    }
}

impl ser::SerializeSeq for Array<'_> {
    type Ok = ();
    type Error = CanonicalError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Self::Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), CanonicalError> {
        self.close()
    }
}

impl ser::SerializeTuple for Array<'_> {
    type Ok = ();
    type Error = CanonicalError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Self::Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), CanonicalError> {
        self.close()
    }
}

impl ser::SerializeTupleStruct for Array<'_> {
    type Ok = ();
    type Error = CanonicalError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Self::Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), CanonicalError> {
        self.close()
    }
}

impl ser::SerializeTupleVariant for Array<'_> {
    type Ok = ();
    type Error = CanonicalError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Self::Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), CanonicalError> {
        self.close()
    }
}

/// A member name, for sorting.
enum Name {
    /// A struct field name.
    Field(&'static str),
    /// A map key written without escapes: these bytes of the output are the name itself.
    Written(Range<usize>),
    /// A map key that needed escapes when written.
    Escaped(String),
}

impl Name {
    fn bytes<'b>(&'b self, out: &'b [u8]) -> &'b [u8] {
        match self {
            Self::Field(name) => name.as_bytes(),
            Self::Written(range) => &out[range.clone()],
            Self::Escaped(name) => name.as_bytes(),
        }
    }

    fn text<'b>(&'b self, out: &'b [u8]) -> &'b str {
        // Written names were copied from a `&str` unchanged, so they are UTF-8.
        std::str::from_utf8(self.bytes(out)).unwrap_or_default()
    }
}

/// One member written: its name and where `"name":value` sits in the output.
struct Member {
    name: Name,
    bytes: Range<usize>,
    /// The name's first 8 bytes, big-endian, zero-padded: for ASCII names, comparing these
    /// integers orders members without touching the names in most comparisons.
    prefix: u64,
    ascii: bool,
}

impl Member {
    fn new(name: Name, bytes: Range<usize>, out: &[u8]) -> Self {
        let text = name.bytes(out);
        let mut head = [0u8; 8];
        let len = text.len().min(8);
        head[..len].copy_from_slice(&text[..len]);
        Self {
            prefix: u64::from_be_bytes(head),
            ascii: text.is_ascii(),
            name,
            bytes,
        }
    }

    /// Canonical member order: by UTF-16 code units, which for ASCII is byte order.
    fn order(&self, other: &Self, out: &[u8]) -> std::cmp::Ordering {
        if self.ascii && other.ascii {
            self.prefix
                .cmp(&other.prefix)
                .then_with(|| self.name.bytes(out).cmp(other.name.bytes(out)))
        } else {
            utf16_order(self.name.text(out), other.name.text(out))
        }
    }
}

/// An object being written. Members go out as they come, comma-separated; `end` rearranges
/// them when they did not come in canonical order.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    /// Where the first member starts (after `{`).
    body_start: usize,
    members: Vec<Member>,
    /// A map key written, waiting for its value: (name, where the member starts).
    key: Option<(Name, usize)>,
    /// `}`, or `}}` for a struct variant.
    closing: &'static [u8],
}

impl Object<'_> {
    fn comma(&mut self) -> usize {
        if !self.members.is_empty() {
            self.out.push(b',');
        }
        self.out.len()
    }

    fn field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), CanonicalError> {
        let start = self.comma();
        write_string(name, self.out);
        self.out.push(b':');
        value.serialize(Canonical { out: self.out })?;
        let member = Member::new(Name::Field(name), start..self.out.len(), self.out);
        self.members.push(member);
        Ok(())
    }

    fn close(self) -> Result<(), CanonicalError> {
        let Object {
            out,
            body_start,
            mut members,
            closing,
            ..
        } = self;
        let in_order = members
            .windows(2)
            .all(|pair| pair[0].order(&pair[1], out).is_lt());
        if !in_order {
            members.sort_by(|a, b| a.order(b, out));
            // A repeated name keeps its last value, as a serde_json map does (the sort is
            // stable, so the last of equal names is the last written).
            for at in 1..members.len() {
                if members[at - 1].name.bytes(out) == members[at].name.bytes(out) {
                    members[at - 1].bytes = 0..0;
                }
            }
            let body = out.split_off(body_start);
            let mut first = true;
            for member in members.iter().filter(|member| !member.bytes.is_empty()) {
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(
                    &body[member.bytes.start - body_start..member.bytes.end - body_start],
                );
            }
        }
        out.extend_from_slice(closing);
        Ok(())
    }
}

impl ser::SerializeStruct for Object<'_> {
    type Ok = ();
    type Error = CanonicalError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        self.field(name, value)
    }

    fn end(self) -> Result<(), CanonicalError> {
        self.close()
    }
}

impl ser::SerializeStructVariant for Object<'_> {
    type Ok = ();
    type Error = CanonicalError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        self.field(name, value)
    }

    fn end(self) -> Result<(), CanonicalError> {
        self.close()
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = CanonicalError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Self::Error> {
        let start = self.comma();
        let name = key.serialize(KeyWriter { out: self.out })?;
        self.out.push(b':');
        self.key = Some((name, start));
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Self::Error> {
        let Some((name, start)) = self.key.take() else {
            return Err(CanonicalError::Custom(
                "a map value was serialized before its key".to_owned(),
            ));
        };
        value.serialize(Canonical { out: self.out })?;
        let member = Member::new(name, start..self.out.len(), self.out);
        self.members.push(member);
        Ok(())
    }

    fn end(self) -> Result<(), CanonicalError> {
        self.close()
    }
}

/// Writes a map key as a JSON string (numbers, booleans and chars as their text, as
/// serde_json does) and returns its name for sorting.
struct KeyWriter<'a> {
    out: &'a mut Vec<u8>,
}

impl KeyWriter<'_> {
    fn name(self, text: &str) -> Name {
        let start = self.out.len() + 1;
        write_string(text, self.out);
        let end = self.out.len() - 1;
        if end - start == text.len() {
            Name::Written(start..end)
        } else {
            Name::Escaped(text.to_owned())
        }
    }

    fn integer(self, digits: impl itoa::Integer) -> Result<Name, CanonicalError> {
        Ok(self.name(itoa::Buffer::new().format(digits)))
    }
}

/// Refuses a map key that has no string form.
fn not_a_string<T>(what: &'static str) -> Result<T, CanonicalError> {
    Err(CanonicalError::KeyNotString(what))
}

impl ser::Serializer for KeyWriter<'_> {
    type Ok = Name;
    type Error = CanonicalError;
    type SerializeSeq = ser::Impossible<Name, CanonicalError>;
    type SerializeTuple = ser::Impossible<Name, CanonicalError>;
    type SerializeTupleStruct = ser::Impossible<Name, CanonicalError>;
    type SerializeTupleVariant = ser::Impossible<Name, CanonicalError>;
    type SerializeMap = ser::Impossible<Name, CanonicalError>;
    type SerializeStruct = ser::Impossible<Name, CanonicalError>;
    type SerializeStructVariant = ser::Impossible<Name, CanonicalError>;

    fn serialize_bool(self, v: bool) -> Result<Name, CanonicalError> {
        Ok(self.name(if v { "true" } else { "false" }))
    }

    fn serialize_i8(self, v: i8) -> Result<Name, CanonicalError> {
        self.integer(v)
    }

    fn serialize_i16(self, v: i16) -> Result<Name, CanonicalError> {
        self.integer(v)
    }

    fn serialize_i32(self, v: i32) -> Result<Name, CanonicalError> {
        self.integer(v)
    }

    fn serialize_i64(self, v: i64) -> Result<Name, CanonicalError> {
        self.integer(v)
    }

    fn serialize_u8(self, v: u8) -> Result<Name, CanonicalError> {
        self.integer(v)
    }

    fn serialize_u16(self, v: u16) -> Result<Name, CanonicalError> {
        self.integer(v)
    }

    fn serialize_u32(self, v: u32) -> Result<Name, CanonicalError> {
        self.integer(v)
    }

    fn serialize_u64(self, v: u64) -> Result<Name, CanonicalError> {
        self.integer(v)
    }

    fn serialize_f32(self, _v: f32) -> Result<Name, CanonicalError> {
        not_a_string("a float")
    }

    fn serialize_f64(self, _v: f64) -> Result<Name, CanonicalError> {
        not_a_string("a float")
    }

    fn serialize_char(self, v: char) -> Result<Name, CanonicalError> {
        Ok(self.name(v.encode_utf8(&mut [0; 4])))
    }

    fn serialize_str(self, v: &str) -> Result<Name, CanonicalError> {
        Ok(self.name(v))
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<Name, CanonicalError> {
        not_a_string("bytes")
    }

    fn serialize_none(self) -> Result<Name, CanonicalError> {
        not_a_string("null")
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<Name, CanonicalError> {
        not_a_string("an option")
    }

    fn serialize_unit(self) -> Result<Name, CanonicalError> {
        not_a_string("null")
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Name, CanonicalError> {
        not_a_string("a unit struct")
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Name, CanonicalError> {
        Ok(self.name(variant))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Name, CanonicalError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Name, CanonicalError> {
        not_a_string("an enum variant with data")
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, CanonicalError> {
        not_a_string("a sequence")
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, CanonicalError> {
        not_a_string("a tuple")
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, CanonicalError> {
        not_a_string("a tuple struct")
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, CanonicalError> {
        not_a_string("an enum variant with data")
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, CanonicalError> {
        not_a_string("a map")
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, CanonicalError> {
        not_a_string("a struct")
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, CanonicalError> {
        not_a_string("an enum variant with data")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::Serialize;
    use serde_json::{json, Map, Value};

    use super::*;
    use crate::canonical::to_vec;

    /// The reference: the detour through `Value`.
    fn via_value<T: Serialize>(value: &T) -> Vec<u8> {
        to_vec(&serde_json::to_value(value).unwrap())
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    fn json_value() -> impl Strategy<Value = Value> {
        // Names and strings mix ASCII, escapes, control characters, non-ASCII and astral
        // characters, so member order by UTF-16 code units differs from byte order.
        let string = "[a-c\"\\\\\n\u{1}é\u{20ac}\u{1f600}\u{fb33}]{0,4}";
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("JSON numbers are finite", |f| f.is_finite())
                .prop_map(Value::from),
            string.prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((string, inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_value_gives_the_bytes_of_the_value_path(value in json_value()) {
            prop_assert_eq!(text(to_canonical_vec(&value).unwrap()), text(to_vec(&value)));
        }
    }

    #[derive(Serialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    enum Tagged {
        Event {
            zeta: u8,
            alpha: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            skipped: Option<u8>,
            #[serde(rename = "gen_ai.tool.name")]
            tool: &'static str,
            nested: Vec<Inner>,
        },
    }

    #[derive(Serialize)]
    struct Inner {
        z: f64,
        a: char,
        #[serde(flatten)]
        extra: BTreeMap<String, Value>,
    }

    #[derive(Serialize)]
    enum Shapes {
        Unit,
        Newtype(u32),
        Tuple(i8, &'static str),
        Struct { b: bool, a: () },
    }

    #[derive(Serialize)]
    struct Everything {
        tagged: Tagged,
        shapes: Vec<Shapes>,
        #[serde(with = "serde_bytes_as_seq")]
        bytes: Vec<u8>,
        int_keys: BTreeMap<i32, &'static str>,
        not_finite: [f64; 2],
        big: (i128, u128),
        float32: f32,
    }

    mod serde_bytes_as_seq {
        pub(super) fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }
    }

    #[test]
    fn derived_types_give_the_bytes_of_the_value_path() {
        let everything = Everything {
            tagged: Tagged::Event {
                zeta: 1,
                alpha: None,
                skipped: None,
                tool: "send \"mail\"",
                nested: vec![Inner {
                    z: -0.0,
                    a: '\u{1f600}',
                    extra: [("m".to_owned(), json!({"y": 1, "b": [2.5, "\u{7}"]}))].into(),
                }],
            },
            shapes: vec![
                Shapes::Unit,
                Shapes::Newtype(7),
                Shapes::Tuple(-3, "t"),
                Shapes::Struct { b: true, a: () },
            ],
            bytes: vec![0, 255],
            int_keys: [(-2, "neg"), (10, "ten"), (3, "three")].into(),
            not_finite: [f64::NAN, f64::INFINITY],
            big: (-5, 6),
            float32: 1.1,
        };
        let direct = text(to_canonical_vec(&everything).unwrap());
        assert_eq!(direct, text(via_value(&everything)));
        assert!(direct.starts_with(r#"{"big":[-5,6],"bytes":[0,255],"float32":1.100000023841858,"#));
    }

    #[test]
    fn a_repeated_member_name_keeps_its_last_value() {
        #[derive(Serialize)]
        struct Twice {
            b: u8,
            a: u8,
            #[serde(flatten)]
            more: BTreeMap<&'static str, u8>,
        }
        let twice = Twice {
            b: 1,
            a: 2,
            more: [("a", 3)].into(),
        };
        assert_eq!(text(to_canonical_vec(&twice).unwrap()), r#"{"a":3,"b":1}"#);
        assert_eq!(text(via_value(&twice)), r#"{"a":3,"b":1}"#);
    }

    #[test]
    fn values_without_a_json_form_are_errors() {
        let float_keys: BTreeMap<String, Value> = BTreeMap::new();
        assert!(to_canonical_vec(&float_keys).is_ok());
        let unit_keys: BTreeMap<(), u8> = [((), 1)].into();
        assert_eq!(
            to_canonical_vec(&unit_keys),
            Err(CanonicalError::KeyNotString("null"))
        );
        assert_eq!(
            to_canonical_vec(&i128::MIN),
            Err(CanonicalError::IntegerOutOfRange(i128::MIN))
        );
    }
}
