//! A top-level record parsed in one pass into its members, with keys and string values borrowed
//! from the file's bytes where they hold no escapes. A serde_json `Value` costs a map node and
//! two allocations per member: building, searching and dropping those was over a third of the
//! reading thread's time in a forced re-import. Nested objects and arrays (tokens, EventBridge
//! details) are still parsed as `Value`.

use std::borrow::Cow;
use std::fmt;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

/// A member's value: text, the one type nearly every member has, or any other JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Member<'a> {
    Text(Cow<'a, str>),
    Json(Value),
}

/// A record's members in file order, each key once (the last of repeated keys wins, as in
/// serde_json's own maps).
#[derive(Debug, Clone, PartialEq)]
pub struct Members<'a>(Vec<(Cow<'a, str>, Member<'a>)>);

impl<'a> Members<'a> {
    pub fn get(&self, key: &str) -> Option<&Member<'a>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Member<'a>)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// Parses a whole object, as the reader does a record of its own.
    #[cfg(test)]
    pub fn parse(json: &'a str) -> serde_json::Result<Self> {
        use serde::de::DeserializeSeed;
        MembersUntil(|_| false).deserialize(&mut serde_json::Deserializer::from_str(json))
    }

    fn insert(&mut self, key: Cow<'a, str>, value: Member<'a>) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, kept)) => *kept = value,
            None => self.0.push((key, value)),
        }
    }
}

/// Parses a top-level object into its members, giving up (with an error) at the first key for
/// which the function returns true.
pub struct MembersUntil(pub fn(&str) -> bool);

impl<'de> de::DeserializeSeed<'de> for MembersUntil {
    type Value = Members<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Members<'de>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MembersUntil {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
        // An IVS event has five to twelve members: one allocation holds most.
        let mut members = Members(Vec::with_capacity(map.size_hint().unwrap_or(8)));
        while let Some(Text(key)) = map.next_key()? {
            if (self.0)(&key) {
                return Err(de::Error::custom("a key that ends the one-pass parse"));
            }
            members.insert(key, map.next_value()?);
        }
        Ok(members)
    }
}

/// A string, borrowed when the input holds it without escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_str(MemberVisitor)
            .and_then(|member| match member {
                Member::Text(text) => Ok(Text(text)),
                Member::Json(other) => Err(de::Error::custom(format!("a key that is {other}"))),
            })
    }
}

impl<'de> Deserialize<'de> for Member<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MemberVisitor)
    }
}

struct MemberVisitor;

impl<'de> Visitor<'de> for MemberVisitor {
    type Value = Member<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Member<'de>, E> {
        Ok(Member::Text(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Member<'de>, E> {
        Ok(Member::Text(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Member<'de>, E> {
        Ok(Member::Text(Cow::Owned(v)))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Member<'de>, E> {
        Ok(Member::Json(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Member<'de>, E> {
        Ok(Member::Json(Value::Number(v.into())))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Member<'de>, E> {
        Ok(Member::Json(Value::Number(v.into())))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Member<'de>, E> {
        Ok(Member::Json(
            Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }

    fn visit_unit<E>(self) -> Result<Member<'de>, E> {
        Ok(Member::Json(Value::Null))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Member<'de>, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(Member::Json)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Member<'de>, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(Member::Json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeSeed;

    fn parse(json: &str) -> Result<Members<'_>, serde_json::Error> {
        MembersUntil(|key| key == "stop").deserialize(&mut serde_json::Deserializer::from_str(json))
    }

    #[test]
    fn members_are_what_serde_json_parses_with_strings_borrowed_where_they_can_be() {
        let json = r#"{"a":"plain","b":"esc\"aped \u00e9","c":1,"d":-2,"e":1.5,"f":true,
            "g":null,"h":{"x":[1,"y"]},"i":[],"a\u0041":"k"}"#;
        let members = parse(json).unwrap();
        let value: serde_json::Map<String, Value> = serde_json::from_str(json).unwrap();
        assert_eq!(members.iter().count(), value.len());
        for (key, member) in members.iter() {
            let as_value = match member {
                Member::Text(text) => Value::from(text.as_ref()),
                Member::Json(other) => other.clone(),
            };
            assert_eq!(Some(&as_value), value.get(key), "{key}");
        }
        assert!(matches!(
            members.get("a"),
            Some(Member::Text(Cow::Borrowed("plain")))
        ));
        assert!(matches!(
            members.get("b"),
            Some(Member::Text(Cow::Owned(_)))
        ));
        assert!(members.contains_key("aA"));
    }

    #[test]
    fn the_last_of_repeated_keys_wins_and_is_kept_once() {
        let members = parse(r#"{"a":1,"b":2,"a":"three"}"#).unwrap();
        assert_eq!(members.iter().count(), 2);
        assert_eq!(members.get("a"), Some(&Member::Text("three".into())));
    }

    #[test]
    fn a_stop_key_gives_up_and_non_objects_are_refused() {
        assert!(parse(r#"{"a":1,"stop":[]}"#).is_err());
        assert!(parse(r#"[1]"#).is_err());
        assert!(parse(r#"{"a":"\ud800"}"#).is_err());
    }
}
