//! How `f64` fields of `.pipe` records are written to and read from JSON lines. JSON has no
//! NaN or infinities, and serde_json would write them as `null`, which reads back as no
//! number at all; weir writes them as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`
//! and reads those back, so every value round-trips. Finite values are plain numbers.

use serde::de::{self, Deserializer, Visitor};
use serde::Serializer;

/// Writes `v`: a number, or one of the three strings.
pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    match *v {
        x if x.is_nan() => s.serialize_str("NaN"),
        f64::INFINITY => s.serialize_str("Infinity"),
        f64::NEG_INFINITY => s.serialize_str("-Infinity"),
        x => s.serialize_f64(x),
    }
}

/// Reads a number, or one of the three strings.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    d.deserialize_any(FloatVisitor)
}

struct FloatVisitor;

impl Visitor<'_> for FloatVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a number, or \"NaN\", \"Infinity\" or \"-Infinity\"")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        match v {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Serialize, serde::Deserialize)]
    struct R {
        #[serde(with = "super")]
        x: f64,
    }

    #[test]
    fn every_value_round_trips_through_json() {
        for x in [
            0.5,
            -2.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
        ] {
            let text = serde_json::to_string(&R { x }).unwrap();
            let back: R = serde_json::from_str(&text).unwrap();
            assert!(back.x == x || (x.is_nan() && back.x.is_nan()), "{text}");
        }
        assert_eq!(
            serde_json::to_string(&R { x: f64::NAN }).unwrap(),
            r#"{"x":"NaN"}"#
        );
        assert!(serde_json::from_str::<R>(r#"{"x": null}"#).is_err());
        assert!(serde_json::from_str::<R>(r#"{"x": "many"}"#).is_err());
    }
}
