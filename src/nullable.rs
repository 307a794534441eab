//! Serde for f64 values that may be NaN ("undefined"): JSON has no NaN, so
//! NaN is written as `null` and `null` read back as NaN.

use serde::{Deserialize, Deserializer, Serializer};

/// Serialize NaN as `null`.
pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.is_nan() { serializer.serialize_none() } else { serializer.serialize_f64(*value) }
}

/// Deserialize `null` as NaN.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}
